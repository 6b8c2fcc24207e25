"""Nothing reads as "all clear" when it is not (issue 7, items 5 and 6): a mistyped config is
an error, a locked database is one line without row data, and ``check --no-poll`` reads when
there is nothing new to match."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from hygiene.cli import cli
from tests.builders import BUYER, NOW_ISO, Mailbox, check_json, load, run
from tests.procs import holding


def test_an_explicit_config_that_does_not_exist_is_an_error(tmp_path: Path) -> None:
    typo = tmp_path / "typo.toml"
    for args, env in (
        (["--config", str(typo), "check"], {}),
        (["--config", str(typo), "check", "--no-poll"], {}),
        (["check", "--no-poll"], {"HYGIENE_CONFIG": str(typo)}),
        (["--config", str(typo), "messages"], {}),
    ):
        result = CliRunner().invoke(cli, args, env=env)
        assert result.exit_code == 1, (args, result.output)
        assert result.stderr.count("\n") == 1 and str(typo) in result.stderr and "hygiene --config" in result.stderr
        assert "Traceback" not in result.output
    # and nothing was created on the way: no default database standing in for the real one
    assert not list((Path(os.environ["XDG_DATA_HOME"])).glob("**/*.db"))


def test_with_no_config_at_all_check_says_there_is_nothing_to_poll() -> None:
    result = CliRunner().invoke(cli, ["check"])
    assert result.exit_code == 1
    assert "no config at" in result.stderr and "hygiene init" in result.stderr
    # without polling, what the default database holds is checked (nothing: clear)
    assert CliRunner().invoke(cli, ["check", "--no-poll"]).exit_code == 0


def test_init_writes_the_explicit_config_it_is_pointed_at(tmp_path: Path) -> None:
    target = tmp_path / "new.toml"
    assert CliRunner().invoke(cli, ["--config", str(target), "init"]).exit_code == 0
    assert target.exists()


def _hold_write_lock(db: Path) -> Any:
    """Another process in the middle of a write transaction on the database."""
    return holding(
        "import sqlite3\n"
        f"c = sqlite3.connect({str(db)!r}, isolation_level=None)\n"
        "c.execute('BEGIN IMMEDIATE'); c.execute('UPDATE messages SET seen = seen')"
    )


def test_a_locked_database_is_one_line_naming_the_holder_and_no_row_data(
    tmp_path: Path, config_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    box = Mailbox(tmp_path / "mail")
    box.inbound(BUYER, "secret subject of a buyer", hours_ago=30)
    ids = load(box, config_path)
    assert check_json(config_path)[0] == 3  # matched once: nothing new from here on
    monkeypatch.setenv("HYGIENE_BUSY_TIMEOUT", "0.3")
    with _hold_write_lock(tmp_path / "check.db") as holder:
        for verbose in ([], ["-v"]):
            result = CliRunner().invoke(cli, [*verbose, "--config", str(config_path), "replied", str(next(iter(ids.values())))])
            assert result.exit_code == 1
            last = result.stderr.strip().splitlines()[-1]
            assert "is locked by another process" in last and f"pid {holder.pid}" in last
            # SQLAlchemy's own message adds the statement and its parameters: never the
            # parameters (row data), even in the traceback of --verbose
            assert BUYER not in result.output and "secret subject" not in result.output
            if verbose:
                assert "SQL parameters hidden" in result.output
            else:
                assert "Traceback" not in result.output and "SQL" not in result.output
        # nothing new to match: check --no-poll reads, and needs no write lock
        code, data = check_json(config_path)
        assert code == 3 and [i["subject"] for i in data["items"]] == ["secret subject of a buyer"]
    # something new to match while locked: said, and the list still comes
    box.inbound(BUYER, "a second question", hours_ago=1)
    assert run(config_path, "import", "--account", "shop", str(box.root)).exit_code == 0  # stored, not matched
    with _hold_write_lock(tmp_path / "check.db"):
        result = run(config_path, "check", "--no-poll", "--now", NOW_ISO)
        assert result.exit_code == 3
        assert "replies not matched" in result.stderr and "secret subject of a buyer" in result.stdout
