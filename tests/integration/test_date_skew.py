"""A Date header later than the server's INTERNALDATE is not believed (issue 10, item 5),
through poll against the real Dovecot and ``check --json``."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from click.testing import CliRunner

from hygiene.cli import cli
from hygiene.config import default_config
from hygiene.mail.ingest import received_at
from hygiene.message import ParsedMessage
from tests.builders import NOW, eml, numbered_buyer, run_check
from tests.dovecot import Dovecot


def test_received_at_rules() -> None:
    arrived = NOW - timedelta(hours=30)
    ahead = ParsedMessage(date=arrived + timedelta(hours=3))
    assert received_at(ahead, arrived, NOW, server_date=True) == (arrived, "Date header 3 h 0 min after the server received it: clock starts at arrival")
    # within the tolerance, or a file's mtime (not the server's word): the Date header
    assert received_at(ParsedMessage(date=arrived + timedelta(minutes=10)), arrived, NOW, server_date=True)[0] == arrived + timedelta(minutes=10)
    assert received_at(ahead, arrived, NOW, server_date=False) == (arrived + timedelta(hours=3), None)
    # far in the past against arrival: delayed in transit, the sender's time is kept
    old = ParsedMessage(date=arrived - timedelta(days=3))
    assert received_at(old, arrived, NOW, server_date=True) == (arrived - timedelta(days=3), None)
    assert received_at(ahead, arrived, NOW, server_date=True, skew=timedelta(hours=4))[0] == ahead.date
    assert default_config().date_skew_minutes == 15


def test_a_date_ahead_of_arrival_starts_the_clock_at_arrival(mailbox: Dovecot, imap_config: Path) -> None:
    arrived = NOW - timedelta(hours=30)  # late by now if the clock starts at arrival
    me = mailbox.user
    # The sender's clock runs 10 h fast: by the Date header the messages look 20 h old (due soon)
    mailbox.append("INBOX", eml(numbered_buyer(31), me, "商品が届きません", mid="fast-ja@a", hours_ago=20), internal_date=arrived)
    mailbox.append("INBOX", eml(numbered_buyer(32), me, "Where is my order?", "Please reply.", mid="fast-en@a", hours_ago=20), internal_date=arrived)
    # within 15 minutes: the Date header stands
    mailbox.append("INBOX", eml(numbered_buyer(33), me, "色違いはありますか", mid="ok@a", hours_ago=2), internal_date=NOW - timedelta(hours=2, minutes=10))
    result = run_check("--json")
    assert result.exit_code == 3, result.output
    items = {i["subject"]: i for i in json.loads(result.stdout)["items"]}
    for subject in ("商品が届きません", "Where is my order?"):
        assert items[subject]["received_at"] == arrived.isoformat()
        assert items[subject]["due_at"] == (arrived + timedelta(hours=24)).isoformat()
        assert items[subject]["state"] == "late"
    assert items["色違いはありますか"]["received_at"] == (NOW - timedelta(hours=2)).isoformat()
    notes = {m["subject"]: m["parse_note"] for m in json.loads(CliRunner().invoke(cli, ["messages", "--json"]).stdout)["messages"]}
    assert "clock starts at arrival" in (notes["商品が届きません"] or "")
    assert "clock starts at arrival" in (notes["Where is my order?"] or "")
    assert not notes["色違いはありますか"] or "arrival" not in notes["色違いはありますか"]
