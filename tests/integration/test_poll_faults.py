"""A first sync cut by the network at random points, again and again (issue 7).

A mailbox of a few thousand messages (written straight into Dovecot's maildir), polled with
batches of 200 so the parse workers and the store thread are in play, through a loopback
proxy that drops the connection at a random UID FETCH. After every cut the database holds
exactly the kept messages up to the folder's recorded progress (a batch and its progress
are one transaction; nothing past a batch that was not stored); after a final direct poll
it holds every kept message of the mailbox once, the progress is the mailbox's last UID and
``hygiene status`` shows no stale error.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
import re
from collections import Counter
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from hygiene.cli import cli
from hygiene.config import load_config
from hygiene.errors import MailSourceError
from hygiene.mail.imap import PARALLEL_MIN_BATCHES, poll_account
from hygiene.mail.sync import PARSE_WORKERS_ENV
from hygiene.store.db import open_database
from hygiene.store.messages import folder_state
from hygiene.store.models import Message
from tests.dovecot import Dovecot
from tests.servers import CuttingProxy

NOW = datetime(2026, 11, 20, 0, 0, tzinfo=UTC)
MESSAGES = 2500
BATCH = 200
ROUNDS = 5


@pytest.fixture(autouse=True)
def _parse_workers(monkeypatch: pytest.MonkeyPatch) -> None:
    # The worker processes on any machine (on 1-2 cores a sync would parse in its own process).
    monkeypatch.setenv(PARSE_WORKERS_ENV, "2")


def mailbox_messages(n: int) -> list[bytes]:
    """Mostly Amazon (buyers, Seller Performance), a tenth newsletters no rule keeps."""
    out = []
    for i in range(n):
        if i % 10 == 3:
            sender = f"news{i % 7}@shop.example.com"
        elif i % 3:
            sender = f"buyer{i:05d}@marketplace.amazon.co.jp"
        else:
            sender = "seller-performance@amazon.co.jp"
        date = format_datetime(NOW - timedelta(minutes=5 * (n - i)))
        out.append(
            (
                f"From: {sender}\r\nTo: seller@example.jp\r\nDate: {date}\r\nMessage-ID: <f{i}@amazon.co.jp>\r\n"
                f"Subject: =?utf-8?b?5rOo5paH44Gr44Gk44GE44Gm?= {i}\r\nMIME-Version: 1.0\r\n"
                "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
                f"注文番号 503-0000000-{i:07d} の件です。72時間以内にご返信ください。\r\n"
            ).encode()
        )
    return out


def server_view(box: Dovecot) -> dict[int, tuple[str, bool]]:
    """UID → (fingerprint of the bytes the server gives back, whether a rule keeps it)."""
    with box.client() as client:
        client.select_folder("INBOX", readonly=True)
        uids = client.search("ALL")
        out: dict[int, tuple[str, bool]] = {}
        for start in range(0, len(uids), 1000):
            for uid, data in client.fetch(uids[start : start + 1000], ["BODY.PEEK[]"]).items():
                body = bytes(data[b"BODY[]"])
                sender = re.search(rb"^From: (\S+)", body, re.MULTILINE)
                assert sender is not None
                out[uid] = (hashlib.sha256(body).hexdigest(), b"amazon.co.jp" in sender.group(1))
    return out


def stored(url: str) -> list[tuple[str, int | None]]:
    engine = open_database(url)
    try:
        with engine.connect() as conn:
            return [(fp, uid) for fp, uid in conn.execute(select(Message.fingerprint, Message.uid).where(Message.folder == "INBOX"))]
    finally:
        engine.dispose()


def progress(url: str) -> tuple[int, str | None]:
    engine = open_database(url)
    try:
        with engine.connect() as conn:
            state = folder_state(conn, "jp", "INBOX")
    finally:
        engine.dispose()
    return (state.highest_uid, state.last_error) if state else (0, None)


def poll(config_path: Path, now: datetime) -> None:
    config = load_config(config_path, required=True)
    engine = open_database(config.database.url)
    try:
        poll_account(engine, config, config.accounts[0], now=now)
    finally:
        engine.dispose()


def test_a_first_sync_cut_at_random_fetches_ends_complete_and_exact(mailbox: Dovecot, imap_config: Path) -> None:
    assert math.ceil(MESSAGES / BATCH) >= PARALLEL_MIN_BATCHES  # the parse workers are used
    mailbox.write_maildir("INBOX", mailbox_messages(MESSAGES))
    server = server_view(mailbox)
    assert len(server) == MESSAGES
    kept = {uid: fp for uid, (fp, keep) in server.items() if keep}
    direct = imap_config.read_text() + f"\n[poll]\nbatch_size = {BATCH}\n"
    url = load_config(imap_config, required=True).database.url
    rng = random.Random(7)
    cuts = 0
    for round_ in range(ROUNDS):
        done, _ = progress(url)
        remaining = max(server) - done
        if not remaining:
            break
        # at least one UID FETCH per batch still to come (two while headers are read first)
        nth = rng.randint(1, math.ceil(remaining / BATCH))
        proxy = CuttingProxy(mailbox.port, marker=b"UID FETCH", nth=nth)
        imap_config.write_text(re.sub(r"port = \d+", f"port = {proxy.port}", direct))
        cut = False
        try:
            poll(imap_config, NOW + timedelta(minutes=round_))
        except MailSourceError as exc:
            cut = True
            assert "jp: INBOX: connection to 127.0.0.1" in str(exc)
        finally:
            proxy.close()
        # the failure is the proxy's cut, and a poll that ended never reached its cut point
        assert cut == (proxy.seen >= nth), (cut, proxy.seen, nth)
        cuts += cut
        # After a cut: exactly the kept messages up to the recorded progress, each once.
        highest, error = progress(url)
        rows = stored(url)
        assert len(rows) == len({fp for fp, _ in rows})
        assert sorted(rows) == sorted((fp, uid) for uid, fp in kept.items() if uid <= highest), f"round {round_}: stored ≠ kept up to UID {highest}"
        assert highest >= done, "progress went backwards"
        if error:
            assert "connection" in error
    assert cuts >= 3, f"only {cuts} of {ROUNDS} rounds were cut"

    imap_config.write_text(direct)
    poll(imap_config, NOW + timedelta(hours=1))
    rows = stored(url)
    counts = Counter(fp for fp, _ in rows)
    assert max(counts.values()) == 1, "a message stored twice"
    assert sorted(rows) == sorted((fp, uid) for uid, fp in kept.items())
    highest, error = progress(url)
    assert highest == max(server) and error is None
    status = CliRunner().invoke(cli, ["status", "--json"])
    assert status.exit_code == 0, status.output
    folders = {f["name"]: f for f in json.loads(status.stdout)["accounts"][0]["folders"]}
    assert folders["INBOX"]["messages"] == len(kept) and folders["INBOX"]["highest_uid"] == max(server)
    assert all(f["last_error"] is None for f in folders.values()), folders
