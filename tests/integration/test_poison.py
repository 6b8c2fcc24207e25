"""Nothing lost: a message no database can hold as sent stops nothing and leaves no gap
(issue 7, items 1 and 2), against the real Dovecot and both databases."""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from hygiene.cli import cli
from hygiene.config import load_config
from hygiene.errors import MailSourceError
from hygiene.mail import imap, sync
from hygiene.store.db import open_database
from hygiene.store.messages import folder_state, store_batch
from hygiene.store.models import Message
from tests.builders import IMAP_BUYER, NOW, db_url, eml, run_poll, stored
from tests.dovecot import Dovecot

#: 8-bit bytes (UTF-8 and not) in Message-ID, References and In-Reply-To, a NUL in a header
#: and in the body: what made the store raise on SQLite and PostgreSQL.
POISON = (
    b"From: Buyer <zz9@marketplace.amazon.co.jp>\r\n"
    b"To: seller@example.jp\r\n"
    b"Subject: poison\x00 \xe5\x95\x86\xe5\x93\x81\r\n"
    b"Date: Thu, 19 Nov 2026 10:00:00 +0000\r\n"
    b"Message-ID: <p\xff\xe3\x81\x82@x>\r\n"
    b"References: <r\xfe@y> <ok@z>\r\n"
    b"In-Reply-To: <c\x00d@z>\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\n\r\n"
    b"body \x00 \xff\xfe\r\n"
)


def good(i: int) -> bytes:
    return eml(IMAP_BUYER, "seller@example.jp", f"注文 {i} について", f"本文 {i}", mid=f"g{i}@amazon", hours_ago=2)


def with_batch_size(config_path: Path, size: int) -> None:
    config_path.write_text(config_path.read_text() + f"\n[poll]\nbatch_size = {size}\n")


def test_a_poison_message_among_750_good_ones_is_stored_and_leaves_no_gap(mailbox: Dovecot, imap_config: Path) -> None:
    """250 good + 1 poison + 500 good, batches of 100: every message stored after two polls
    (the issue's test; before the fix the poison's batch failed and the next poll moved past it)."""
    with_batch_size(imap_config, 100)
    mailbox.write_maildir("INBOX", [good(i) for i in range(250)] + [POISON] + [good(i) for i in range(250, 750)])
    first = run_poll(imap_config, match=False)
    second = run_poll(imap_config, match=False, now=NOW + timedelta(minutes=5))
    assert first.folders[0].new == 751 and second.folders[0].new == 0
    rows = stored(db_url(imap_config))
    assert len(rows) == 751
    assert sorted(r.message_id for r in rows if r.message_id != "<p\ufffdあ@x>") == sorted(f"<g{i}@amazon>" for i in range(750))
    poison = next(r for r in rows if r.subject and r.subject.startswith("poison"))
    # undecodable bytes are U+FFFD, UTF-8 ones are read as UTF-8 (Dovecot turns a NUL in a
    # header into 0x80, itself undecodable)
    assert poison.message_id == "<p\ufffdあ@x>"
    assert poison.in_reply_to in ("<cd@z>", "<c\ufffdd@z>")
    assert poison.message_references == "<r\ufffd@y> <ok@z>"
    assert poison.category == "buyer" and poison.needs_reply
    config = load_config(imap_config, required=True)
    engine = open_database(config.database.url)
    with engine.connect() as conn:
        state = folder_state(conn, "jp", "INBOX")
    engine.dispose()
    assert state is not None and state.highest_uid == 751 and state.last_error is None


def test_the_poison_message_through_the_cli_on_postgresql(mailbox: Dovecot, imap_config: Path, postgres_server: str) -> None:
    """poll, check and status on PostgreSQL (which refuses NUL and invalid UTF-8 outright)."""
    from tests.servers import create_pg_database

    url = create_pg_database(postgres_server)
    imap_config.write_text(re.sub(r'(?m)^url = ".*"$', f'url = "{url}"', imap_config.read_text(), count=1))
    mailbox.append("INBOX", POISON)
    mailbox.append("INBOX", good(1))
    runner = CliRunner()
    env = {"HYGIENE_NOW": NOW.isoformat()}
    polled = runner.invoke(cli, ["poll"], env=env)
    assert polled.exit_code == 0, polled.output
    assert polled.stdout.startswith("jp: INBOX +2")
    checked = runner.invoke(cli, ["check", "--no-poll", "--json"], env=env)
    assert checked.exit_code in (0, 3, 4), checked.output
    subjects = {item["subject"] for item in json.loads(checked.stdout)["items"]}
    assert {"poison\ufffd 商品", "注文 1 について"} <= subjects
    status = json.loads(runner.invoke(cli, ["status", "--json"]).stdout)
    inbox = next(f for f in status["accounts"][0]["folders"] if f["name"] == "INBOX")
    assert inbox["messages"] == 2 and inbox["last_error"] is None


def test_import_of_a_directory_with_a_poison_file_stores_every_file(database_url: str, tmp_path: Path) -> None:
    """The same rules for import: the NUL is removed, the good files beside it are stored."""
    from hygiene.config import default_config
    from hygiene.mail.importer import import_paths

    folder = tmp_path / "mail"
    folder.mkdir()
    (folder / "0.eml").write_bytes(good(0))
    (folder / "1.eml").write_bytes(POISON)
    (folder / "2.eml").write_bytes(good(2))
    engine = open_database(database_url)
    stats = import_paths(engine, default_config(), [folder], now=NOW)
    with engine.connect() as conn:
        rows = {r.message_id: r for r in conn.execute(select(Message))}
    engine.dispose()
    assert (stats.new, stats.failed) == (3, 0)
    assert set(rows) == {"<g0@amazon>", "<g2@amazon>", "<p\ufffdあ@x>"}
    poison = rows["<p\ufffdあ@x>"]
    assert poison.in_reply_to == "<cd@z>" and poison.subject == "poison 商品"
    assert "\x00" not in poison.body_text and poison.message_references == "<r\ufffd@y> <ok@z>"


def test_a_failed_batch_stops_the_folder_progress_there(mailbox: Dovecot, imap_config: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """When storing a batch fails, the batches after it (parsed in workers, stored by the
    writer thread) must not move the folder's progress past it: the next poll fetches it."""
    with_batch_size(imap_config, 100)
    mailbox.write_maildir("INBOX", [good(i) for i in range(750)])
    calls = {"n": 0}
    real = sync.store_batch

    def failing_third(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("simulated failure while storing the third batch")
        return real(*args, **kwargs)

    monkeypatch.setattr(sync, "store_batch", failing_third)
    with pytest.raises(imap.SyncError, match="sync failed: RuntimeError"):
        run_poll(imap_config, match=False)
    url = db_url(imap_config)
    engine = open_database(url)
    with engine.connect() as conn:
        state = folder_state(conn, "jp", "INBOX")
        count = conn.execute(select(func.count()).select_from(Message)).scalar()
    engine.dispose()
    assert state is not None and state.highest_uid == 200 and count == 200
    assert state.last_error and "simulated failure" in state.last_error
    monkeypatch.setattr(sync, "store_batch", real)
    again = run_poll(imap_config, match=False, now=NOW + timedelta(minutes=5))
    assert again.folders[0].new == 550
    rows = stored(url)
    assert sorted(r.message_id for r in rows) == sorted(f"<g{i}@amazon>" for i in range(750))


def test_one_failing_account_never_stops_the_next(mailbox: Dovecot, imap_config: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An unexpected failure (a bug) in the first account: said, kept for status, exit 1,
    and the second account is still polled."""
    text = imap_config.read_text()
    second = text[text.index("[[accounts]]"):].replace('name = "jp"', 'name = "us"')
    imap_config.write_text(text + "\n" + second)
    mailbox.append("INBOX", good(1))
    real = imap.sync_folder

    def broken_for_jp(source: Any, folder: Any, run: Any) -> Any:
        if run.account == "jp":
            raise KeyError("a bug")
        return real(source, folder, run)

    monkeypatch.setattr(imap, "sync_folder", broken_for_jp)
    result = CliRunner().invoke(cli, ["poll"], env={"HYGIENE_NOW": NOW.isoformat()})
    assert result.exit_code == 1
    assert "jp: INBOX: sync failed: KeyError" in result.stderr
    assert "us: INBOX +1" in result.stdout
    status = json.loads(CliRunner().invoke(cli, ["status", "--json"]).stdout)
    jp = next(a for a in status["accounts"] if a["name"] == "jp")
    assert any(f["last_error"] and "KeyError" in f["last_error"] for f in jp["folders"])


def test_a_row_the_database_refuses_is_salvaged_and_the_batch_stored(database_url: str, caplog: pytest.LogCaptureFixture) -> None:
    """store_batch on both backends: a value that slipped past storable() (a lone surrogate,
    a NUL) costs that row its text, never the batch or the progress."""
    now = datetime(2026, 11, 20, tzinfo=UTC)

    def row(fp: str, **extra: Any) -> dict[str, Any]:
        base: dict[str, Any] = {
            "account": "a", "folder": "INBOX", "uidvalidity": 1, "uid": int(fp, 16) % 1000,
            "fingerprint": fp, "source": "imap", "message_id": f"<{fp}@x>", "in_reply_to": None,
            "references": None, "from_name": None, "from_addr": IMAP_BUYER, "to_addrs": None,
            "cc_addrs": None, "subject": "s", "date_header": None, "internal_date": None,
            "received_at": now, "flags": "", "seen": False, "answered": False,
            "answered_seen_at": None, "direction": "inbound", "category": "buyer",
            "needs_reply": True, "auto_reply": False, "body_text": "b", "size": 1,
            "parse_note": None, "raw": None, "stored_at": now, "tone_score": None, "tone_verdict": None,
        }
        base.update(extra)
        return base

    engine = open_database(database_url)
    progressed: list[bool] = []
    bad = row("0bad", subject="bad \udcff subject\x00", body_text="x\ud800y")
    with caplog.at_level(logging.DEBUG, logger="hygiene"):
        done = store_batch(engine, [row("0a01"), bad, row("0a02")], progress=lambda conn: progressed.append(True))
    # what was swallowed is said at debug level (shown by -v), without the row's text
    assert any("the database refused the row" in r.getMessage() for r in caplog.records)
    assert not any("bad" in r.getMessage() and "subject" in r.getMessage() for r in caplog.records)
    assert (done.new, done.salvaged) == (3, 1) and progressed == [True]
    with engine.connect() as conn:
        got = {r.fingerprint: r for r in conn.execute(select(Message))}
    engine.dispose()
    assert set(got) == {"0a01", "0bad", "0a02"}
    salvaged = got["0bad"]
    assert salvaged.subject == "bad \\udcff subject" and salvaged.body_text == "x\\ud800y"
    assert salvaged.category == "buyer" and salvaged.needs_reply and salvaged.received_at == now
    assert salvaged.parse_note and "refused" in salvaged.parse_note


def test_a_connection_failure_is_still_an_error_after_the_changes(mailbox: Dovecot, imap_config: Path) -> None:
    imap_config.write_text(imap_config.read_text().replace(f"port = {mailbox.port}", "port = 1"))
    with pytest.raises(MailSourceError, match="cannot connect"):
        run_poll(imap_config)
