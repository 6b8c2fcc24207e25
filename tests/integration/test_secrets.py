"""A wrong password never reaches the output: a failed login against a real Dovecot says what
failed without echoing the password, in the one-line error, with -v and in ``status``."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from hygiene.cli import cli
from tests.dovecot import Dovecot

WRONG = "hunter2!Wrong-Secret"


@pytest.mark.parametrize("verbose", [[], ["-v"]], ids=["plain", "verbose"])
def test_failed_login_does_not_echo_the_password(
    mailbox: Dovecot, imap_config: Path, monkeypatch: pytest.MonkeyPatch, verbose: list[str]
) -> None:
    monkeypatch.setenv("TEST_IMAP_PASSWORD", WRONG)
    result = CliRunner().invoke(cli, [*verbose, "poll"])
    assert result.exit_code == 1
    assert "login failed" in result.stderr
    status = CliRunner().invoke(cli, ["status", "--json"])
    for text in (result.output, result.stderr, status.output):
        assert WRONG not in text and "Wrong-Secret" not in text
