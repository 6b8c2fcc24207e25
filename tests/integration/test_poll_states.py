"""A stateful property test of the poller against a real Dovecot, on SQLite and PostgreSQL
(issue 7).

Hypothesis drives one folder through random sequences of what happens to a seller's mailbox:
mail delivered (Amazon's, sometimes with a poison header: 8-bit bytes in Message-ID, NUL in
a header, or a display name that looks like an address; sometimes a newsletter no rule keeps), a message expunged, the folder recreated
with a new UIDVALIDITY and its messages put back (a server migration), \\Answered or \\Seen
set or cleared by another mail program, and polls with batches of 3 (so a poll spans
several batches and, past PARALLEL_MIN_BATCHES, the parse workers).

After every poll, for that folder:

- every message now in the mailbox that a rule keeps is stored exactly once, recognised by
  its fingerprint (sha256 of the bytes the server gives back with BODY.PEEK[]: Dovecot may
  change line endings, so what was appended is not the reference), with the server's
  current UIDVALIDITY and UID and the server's flags (\\Recent aside);
- messages no rule keeps are not stored;
- no fingerprint is stored twice;
- the server's flags are as they were before the poll (it only reads).

Expunged messages may remain in the database: history is kept, a poll never deletes rows.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import select

from hygiene.config import AccountConfig, Config, DatabaseConfig
from hygiene.mail.imap import poll_account
from hygiene.mail.ingest import RawMessage, build_row_safely
from hygiene.mail.sync import PARSE_WORKERS_ENV
from hygiene.store.db import open_database
from hygiene.store.messages import folder_state
from hygiene.store.models import Message
from tests.dovecot import Dovecot

NOW = datetime(2026, 11, 20, 0, 0, tzinfo=UTC)
FOLDER = "Amazon"
PASSWORD_ENV = "TEST_STATES_IMAP_PASSWORD"
#: From header values; the last one's display name looks like an address (the prefilter once
#: took it for the sender and skipped the message)
SENDERS = {
    "buyer": b"Amazon <k4m2x9q1@marketplace.amazon.co.jp>",
    "performance": b"=?UTF-8?B?44Ki44Oe44K+44Oz?= <seller-performance@amazon.co.jp>",
    "other": b"news@shop.example.com",
    "address-as-name": b'"news@shop.example.com" <seller-performance@amazon.co.jp>',
}


@pytest.fixture(autouse=True)
def _parse_workers(monkeypatch: pytest.MonkeyPatch) -> None:
    # The worker processes on any machine (on 1-2 cores a sync would parse in its own process).
    monkeypatch.setenv(PARSE_WORKERS_ENV, "2")


def message(n: int, kind: str, poison: str) -> bytes:
    sender = SENDERS[kind]
    mid = f"<m{n}@amazon.co.jp>".encode()
    subject = f"ご注文について {n}".encode()
    if poison == "8bit-message-id":
        mid = b"<m" + str(n).encode() + b"\xff\xfe\x80@amazon.co.jp>"
    elif poison == "nul-in-header":
        subject = b"\x00" + subject + b"\x00end"
    return (
        b"From: " + sender + b"\r\nTo: shop@example.jp\r\nSubject: " + subject
        + b"\r\nMessage-ID: " + mid + b"\r\nDate: Thu, 19 Nov 2026 10:00:00 +0900\r\nMIME-Version: 1.0\r\n"
        + b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
        + f"注文番号 503-0000000-{n:07d} について、72時間以内にご返信ください。\r\n".encode()
    )


def flag_names(flags: tuple[bytes, ...]) -> set[str]:
    return {f.decode() for f in flags if f.lower() != b"\\recent"}


class FolderStates(RuleBasedStateMachine):
    """One fresh mailbox and database per example (see the module docstring)."""

    def __init__(self, new_mailbox: Callable[[], Dovecot], new_database: Callable[[str], str]) -> None:
        super().__init__()
        self.box = new_mailbox()
        os.environ[PASSWORD_ENV] = self.box.password
        self.client: Any = self.box.client()
        self.client.create_folder(FOLDER)
        self.client.select_folder(FOLDER)
        self.url = new_database(self.box.user.split("@")[0])
        self.engine = open_database(self.url)
        self.account = AccountConfig(
            name="jp", host=self.box.host, port=self.box.port, tls="none", username=self.box.user,
            password_env=PASSWORD_ENV, folders=(FOLDER,), timeout=20,
        )
        self.config = Config(path=None, database=DatabaseConfig(self.url), accounts=(self.account,), batch_size=3)
        self.delivered = 0
        self.polls = 0

    def teardown(self) -> None:
        try:
            if self.delivered:
                self.poll()  # every history ends with a poll and its check
        finally:
            try:
                self.client.logout()
            except Exception:
                pass
            self.engine.dispose()

    # -- what the server holds ---------------------------------------------------------------
    def server(self) -> dict[int, tuple[bytes, set[str], datetime | None]]:
        """UID → (bytes, flags, INTERNALDATE) as the server gives them back now."""
        self.client.noop()
        uids = self.client.search("ALL")
        if not uids:
            return {}
        data = self.client.fetch(uids, ["BODY.PEEK[]", "FLAGS", "INTERNALDATE"])
        return {uid: (bytes(d[b"BODY[]"]), flag_names(d[b"FLAGS"]), d.get(b"INTERNALDATE")) for uid, d in data.items()}

    def uids(self) -> list[int]:
        return sorted(self.client.search("ALL"))

    # -- rules -----------------------------------------------------------------------------
    @initialize(count=st.integers(0, 7))
    def seeded(self, count: int) -> None:
        """Most histories start from a folder already polled once."""
        assert self.server() == {}
        if count:
            self.deliver("buyer", "", False, count, then_poll=True)

    @rule(
        kind=st.sampled_from(["buyer", "buyer", "performance", "other", "address-as-name"]),
        poison=st.sampled_from(["", "", "", "8bit-message-id", "nul-in-header"]),
        seen=st.booleans(),
        count=st.sampled_from([1, 2, 3, 4, 10]),
        then_poll=st.booleans(),
    )
    def deliver(self, kind: str, poison: str, seen: bool, count: int, then_poll: bool) -> None:
        for _ in range(count):
            self.delivered += 1
            self.client.append(FOLDER, message(self.delivered, kind, poison), flags=("\\Seen",) if seen else (), msg_time=NOW - timedelta(hours=self.delivered))
        if then_poll:
            self.poll()

    @precondition(lambda self: self.delivered > 0)
    @rule(pick=st.integers(0, 10_000), then_poll=st.booleans())
    def expunge(self, pick: int, then_poll: bool) -> None:
        uids = self.uids()
        if uids:
            uid = uids[pick % len(uids)]
            self.client.add_flags([uid], ["\\Deleted"])
            self.client.uid_expunge([uid])
        if then_poll:
            self.poll()

    @precondition(lambda self: self.delivered > 0)
    @rule(pick=st.integers(0, 10_000), flag=st.sampled_from(["\\Answered", "\\Seen"]), add=st.booleans(), then_poll=st.booleans())
    def change_flag(self, pick: int, flag: str, add: bool, then_poll: bool) -> None:
        uids = self.uids()
        if uids:
            uid = uids[pick % len(uids)]
            (self.client.add_flags if add else self.client.remove_flags)([uid], [flag])
        if then_poll:
            self.poll()

    @rule(then_poll=st.booleans())
    def change_uidvalidity(self, then_poll: bool) -> None:
        """The provider migrates the folder: same messages (bytes, flags, dates), new UIDs."""
        before = self.server()
        validity = self.box.uidvalidity(FOLDER)
        self.client.unselect_folder()
        self.client.delete_folder(FOLDER)
        self.client.create_folder(FOLDER)
        for uid in sorted(before):
            data, flags, when = before[uid]
            self.client.append(FOLDER, data, flags=tuple(sorted(flags)), msg_time=when)
        self.client.select_folder(FOLDER)
        assert self.box.uidvalidity(FOLDER) != validity
        if then_poll:
            self.poll()

    @rule()
    def poll(self) -> None:
        self.polls += 1
        before = self.server()
        result = poll_account(self.engine, self.config, self.account, now=NOW + timedelta(minutes=self.polls))
        assert [f.name for f in result.folders][:1] == [FOLDER]
        now = self.server()
        assert {u: f for u, (_, f, _) in now.items()} == {u: f for u, (_, f, _) in before.items()}, "the poll changed flags"
        self.check(now)

    # -- the invariant ---------------------------------------------------------------------
    def check(self, server: dict[int, tuple[bytes, set[str], datetime | None]]) -> None:
        validity = self.box.uidvalidity(FOLDER)
        with self.engine.connect() as conn:
            rows = list(conn.execute(select(Message.fingerprint, Message.uid, Message.uidvalidity, Message.flags).where(Message.account == "jp", Message.folder == FOLDER)))
            state = folder_state(conn, "jp", FOLDER)
        by_fp: dict[str, list[Any]] = {}
        for row in rows:
            by_fp.setdefault(row.fingerprint, []).append(row)
        assert all(len(v) == 1 for v in by_fp.values()), "a message stored twice"
        assert state is not None and state.uidvalidity == validity and state.last_error is None
        for uid, (data, flags, _) in server.items():
            fp = hashlib.sha256(data).hexdigest()
            kept = build_row_safely(RawMessage(data=data, folder=FOLDER, uid=uid), "jp", self.config, NOW, frozenset()) is not None
            if not kept:
                assert fp not in by_fp, f"UID {uid}: stored though no rule keeps it"
                continue
            assert fp in by_fp, f"UID {uid} is in the mailbox but not stored"
            (row,) = by_fp[fp]
            assert (row.uidvalidity, row.uid) == (validity, uid)
            assert set(row.flags.split()) == flags, f"UID {uid}: stored flags {row.flags!r}, server {sorted(flags)}"
        if server:
            assert state.highest_uid >= max(server)


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_random_folder_histories_are_mirrored_exactly(
    backend: str, new_mailbox: Callable[[], Dovecot], tmp_path: Path, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(PASSWORD_ENV, "")  # restored after the test (each example sets its own)
    if backend == "sqlite":
        def new_database(name: str) -> str:
            return f"sqlite:///{tmp_path / name}.db"
    else:
        from tests.servers import create_pg_database

        prefix: str = request.getfixturevalue("postgres_server")

        def new_database(name: str) -> str:
            return create_pg_database(prefix)

    class Machine(FolderStates):  # hypothesis builds the machine from a class without arguments
        def __init__(self) -> None:
            super().__init__(new_mailbox, new_database)

    run_state_machine_as_test(
        Machine,
        # No shrinking: each step talks to a real server, and hypothesis would spend up to five
        # minutes (and hundreds of mailboxes) on it. A failure prints its steps as they ran.
        settings=settings(
            max_examples=10 if backend == "sqlite" else 6,
            stateful_step_count=12,
            deadline=None,
            phases=[Phase.explicit, Phase.reuse, Phase.generate],
            suppress_health_check=list(HealthCheck),
        ),
    )
