"""CLI conventions: help everywhere, light start-up, one-line errors, exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner

from hygiene.cli import COMMANDS, cli
from hygiene.cli.output import print_json, print_json_list

HEAVY = ("sqlalchemy", "alembic", "imapclient", "plotext", "dateparser", "publicsuffixlist", "holidays")


def all_commands() -> list[tuple[str, ...]]:
    """Every command and subcommand, walked from the registry (not from ``list_commands``,
    which would hide a command whose module is missing)."""
    found: list[tuple[str, ...]] = [()]
    ctx = click.Context(cli)
    for name in COMMANDS:
        command = cli.get_command(ctx, name)
        assert command is not None, f"{name}: registered but does not load"
        found.append((name,))
        if isinstance(command, click.Group):
            subs = command.list_commands(ctx)
            assert subs, f"{name}: a group without subcommands"
            found.extend((name, sub) for sub in subs)
    return found


def test_every_registered_command_loads_and_is_listed_in_order() -> None:
    assert cli.list_commands(click.Context(cli)) == list(COMMANDS)
    assert {"init", "import", "messages", "status", "db"} <= set(COMMANDS)
    assert ("db", "upgrade") in all_commands()


@pytest.mark.parametrize("path", all_commands(), ids=lambda p: " ".join(p) or "hygiene")
def test_every_command_has_help(path: tuple[str, ...]) -> None:
    result = CliRunner().invoke(cli, [*path, "--help"], prog_name="hygiene")
    assert result.exit_code == 0, result.output
    usage = result.output.splitlines()[0]
    assert usage.startswith(" ".join(["Usage: hygiene", *path]) + " "), usage
    # A docstring, not just the usage line: help that cannot drift out of existence.
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) >= 3


def test_version() -> None:
    result = CliRunner().invoke(cli, ["--version"])
    assert result.exit_code == 0 and "hygiene, version" in result.output


def test_help_does_not_import_heavy_stacks() -> None:
    code = (
        "import sys\n"
        "from hygiene.cli import cli\n"
        "try:\n    cli(['--help'])\nexcept SystemExit:\n    pass\n"
        f"print([m for m in {HEAVY!r} if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "[]"


def test_usage_error_exits_2() -> None:
    assert CliRunner().invoke(cli, ["messages", "--bogus"]).exit_code == 2


def test_bad_config_is_one_line_exit_1(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text('[[accounts]]\nname = "jp"\nhost = "h"\nusername = "u"\npassword_env = "P"\ntls = "tsl"\n')
    result = CliRunner().invoke(cli, ["--config", str(config), "status"])
    assert result.exit_code == 1
    err = result.stderr.strip()
    assert err.count("\n") == 0
    assert str(config) in err and "accounts[0].tls" in err and "Traceback" not in result.output


def test_hygiene_config_env_is_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "env.toml"
    config.write_text("nonsense_key = 1\n")
    monkeypatch.setenv("HYGIENE_CONFIG", str(config))
    result = CliRunner().invoke(cli, ["status"])
    assert result.exit_code == 1 and "nonsense_key" in result.stderr


def test_init_writes_xdg_config(isolated_home: Path) -> None:
    result = CliRunner().invoke(cli, ["init"])
    assert result.exit_code == 0, result.output
    path = isolated_home / ".config/hygiene/config.toml"
    assert path.exists() and (path.stat().st_mode & 0o777) == 0o600
    again = CliRunner().invoke(cli, ["init"])
    assert again.exit_code == 1 and "already exists" in again.stderr


def test_db_upgrade_and_status_json(isolated_home: Path) -> None:
    result = CliRunner().invoke(cli, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    db = isolated_home / ".local/share/hygiene/hygiene.db"
    assert db.exists() and (db.stat().st_mode & 0o777) == 0o600
    assert "already at revision" in CliRunner().invoke(cli, ["db", "upgrade"]).output
    status = CliRunner().invoke(cli, ["status", "--json"])
    assert json.loads(status.output) == {"accounts": []}


@pytest.mark.parametrize(
    ("items", "flat"),
    [
        ([], True),
        ([{}], True),
        ([{"id": 1, "s": "日本\n\"x\", \\ \u2028", "n": None, "f": 1.5, "b": True}, {"id": 2}], True),
        ([{"nested": {"a": [1, 2]}, "s": "x"}, [1, 2], "s", 3], False),
    ],
)
def test_streamed_json_list_is_the_same_bytes_as_a_whole_dump(
    items: list[Any], flat: bool, capsys: pytest.CaptureFixture[str]
) -> None:
    print_json({"messages": items})
    whole = capsys.readouterr().out
    print_json_list("messages", iter(items), flat=flat)
    assert capsys.readouterr().out == whole
