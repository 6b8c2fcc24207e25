"""The README and the program agree (issue 8, item 3): its command table lists exactly the
registered commands with options they accept, and every fenced JSON example has exactly the
keys the real command prints. (Other README sections are held where they are produced:
test_report.py, test_dashboard.py, test_tone_cli.py; every command's --help: test_cli.py.)"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner

from hygiene.cli import COMMANDS, cli
from hygiene.config import load_config
from tests.builders import BUYER, NOW, PERF, Mailbox

README = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")


def command_table() -> list[str]:
    """The command column of the table in "## Commands": every `hygiene …` usage in it."""
    section = README.split("\n## Commands\n", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    assert len(rows) >= 10
    usages: list[str] = []
    for line in rows:
        first = re.split(r"(?<!\\)\|", line)[1]
        spans = re.findall(r"`([^`]+)`", first)
        assert spans and spans[0].startswith("hygiene "), line
        usages += [span if span.startswith("hygiene ") else f"hygiene {span}" for span in spans]
    return usages


def resolve(usage: str) -> tuple[tuple[str, ...], click.Command]:
    """The command path a usage names and its click command."""
    words = usage.split()[1:]
    ctx = click.Context(cli)
    command = cli.get_command(ctx, words[0])
    assert command is not None, f"README lists `{usage}`, but there is no command {words[0]!r}"
    path: tuple[str, ...] = (words[0],)
    if isinstance(command, click.Group):
        sub = command.get_command(ctx, words[1]) if len(words) > 1 else None
        assert sub is not None, f"README lists `{usage}`, but {words[0]} has no such subcommand"
        path, command = (*path, words[1]), sub
    return path, command


def test_readme_command_table_lists_exactly_the_registered_commands() -> None:
    listed = {resolve(usage)[0] for usage in command_table()}
    ctx = click.Context(cli)
    registered: set[tuple[str, ...]] = set()
    for name in COMMANDS:
        command = cli.get_command(ctx, name)
        assert command is not None, name
        if isinstance(command, click.Group):
            registered |= {(name, sub) for sub in command.list_commands(ctx)}
        else:
            registered.add((name,))
    assert listed == registered, f"only in README: {listed - registered}; not in README: {registered - listed}"


@pytest.mark.parametrize("usage", command_table())
def test_readme_command_table_options_are_accepted(usage: str) -> None:
    _, command = resolve(usage)
    accepted = {opt for param in command.params for opt in (*param.opts, *param.secondary_opts)}
    for option in re.findall(r"(?<![\w-])--?[a-z][\w-]*", usage):
        assert option in accepted, f"`{usage}`: {option} is not an option of the command ({sorted(accepted)})"


# ------------------------------------------------------------------------ JSON examples


def json_examples() -> list[tuple[str, str]]:
    """(command, example) for every ```json block, the command being the last `hygiene X …
    --json` named before it."""
    found = []
    for match in re.finditer(r"```json\n(.*?)```", README, re.S):
        before = README[: match.start()]
        named = re.findall(r"`hygiene (\w+)[^`]*--json`", before)
        assert named, "a JSON example with no `hygiene … --json` before it"
        found.append((named[-1], match.group(1)))
    return found


def shape(value: Any) -> Any:
    """Keys all the way down: a dict's keys (with the shapes of their values), a list's first
    element; scalars are None."""
    if isinstance(value, dict):
        return {key: shape(v) for key, v in value.items()}
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    return None


def printed_check(tmp_path: Path) -> dict[str, Any]:
    """``check --no-poll --json`` on a mailbox with something waiting, for a configured
    account (so "sync" has its entry)."""
    config_path = tmp_path / "config.toml"
    config_path.write_text(
        f'timezone = "Asia/Tokyo"\n[database]\nurl = "sqlite:///{tmp_path / "check.db"}"\n'
        '[[accounts]]\nname = "jp"\nhost = "127.0.0.1"\nusername = "shop@example.jp"\npassword_env = "P"\n'
    )
    box = Mailbox(tmp_path / "mail")
    box.inbound(PERF, "アカウント健全性に関する重要なお知らせ", hours_ago=50)
    box.inbound(BUYER, "Where is my order?", hours_ago=20)
    box.load(load_config(config_path).database.url, load_config(config_path))
    result = CliRunner().invoke(cli, ["--config", str(config_path), "check", "--no-poll", "--json", "--now", NOW.isoformat()])
    data: dict[str, Any] = json.loads(result.stdout)
    assert data["items"] and data["sync"], data
    return data


PRINTED: dict[str, Callable[[Path], dict[str, Any]]] = {"check": printed_check}


@pytest.mark.parametrize("command, example", json_examples(), ids=lambda v: v if len(v) < 20 else "")
def test_readme_json_examples_have_exactly_the_printed_keys(command: str, example: str, tmp_path: Path) -> None:
    documented = json.loads(example)
    assert command in PRINTED, f"a README JSON example of `hygiene {command}` that no test produces"
    assert shape(documented) == shape(PRINTED[command](tmp_path))


def test_every_json_example_is_checked() -> None:
    assert [command for command, _ in json_examples()] == ["check"]
