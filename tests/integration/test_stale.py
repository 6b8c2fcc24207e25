"""A check on stale data never says "clear" (issue 7, item 11), against the real Dovecot."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from hygiene.cli import cli
from tests.builders import IMAP_BUYER, NOW, eml
from tests.dovecot import Dovecot


def invoke(*args: str, now: datetime = NOW) -> Result:
    return CliRunner().invoke(cli, list(args), env={"HYGIENE_NOW": now.isoformat()})


def test_a_failed_poll_makes_check_exit_1_and_say_how_old_the_data_is(
    mailbox: Dovecot, imap_config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mailbox.append("INBOX", eml(IMAP_BUYER, mailbox.user, "質問です", mid="f1@amazon", hours_ago=1))
    first = invoke("check")
    assert first.exit_code == 0, first.output  # one message, pending: clear
    # the password expires: the poll inside check fails from now on
    monkeypatch.setenv("TEST_IMAP_PASSWORD", "expired")
    later = NOW + timedelta(days=3, hours=4)
    result = invoke("check", now=later)
    # the old message is critical by now: 4 wins over the failed poll's 1
    assert result.exit_code == 4
    assert "jp: last successful sync 3 d 4 h ago" in result.stderr and "login failed" in result.stderr
    # nothing late in the old data: exit 1, not 0
    assert invoke("dismiss", "1", "--reason", "answered by phone").exit_code == 0
    quiet = invoke("check", now=later)
    assert quiet.exit_code == 1 and quiet.stdout == ""
    assert "last successful sync 3 d 4 h ago" in quiet.stderr
    # check --no-poll: the account is older than stale_after_hours (24)
    no_poll = invoke("check", "--no-poll", "--json", now=later)
    assert no_poll.exit_code == 1
    sync = json.loads(no_poll.stdout)["sync"]
    assert [(s["name"], s["stale"], s["age_seconds"]) for s in sync] == [("jp", True, 3 * 86400 + 4 * 3600)]
    assert "login failed" in sync[0]["error"]
    # status flags it
    status = invoke("status", now=later)
    assert "STALE: last successful sync 3 d 4 h ago; failing: jp: login failed" in status.stdout
    data = json.loads(invoke("status", "--json", now=later).stdout)
    assert data["accounts"][0]["sync"]["stale"] is True
    # the password fixed: fresh again, clear again
    monkeypatch.setenv("TEST_IMAP_PASSWORD", mailbox.password)
    fixed = invoke("check", now=later)
    assert fixed.exit_code == 0 and fixed.stderr == ""
    assert invoke("check", "--no-poll", now=later + timedelta(hours=2)).exit_code == 0


def test_check_no_poll_flags_an_account_that_never_synced(imap_config: Path) -> None:
    result = invoke("check", "--no-poll")
    assert result.exit_code == 1
    assert "jp: never synced successfully" in result.stderr
