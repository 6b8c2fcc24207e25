"""One contract, every mail source (issue 8, item 1): the same tests run against the IMAP source
(a real Dovecot) and the file source (a Maildir and an mbox in a temp directory), the way
vdirsyncer's storage tests run against every backend. A new source gets a subclass here.

The first half holds the :class:`~hygiene.mail.source.Source` protocol itself; the second
drives each source through the one sync engine and holds its rules: each message stored once,
a message the database refuses salvaged, a batch that fails to store stopping the folder there.
"""

from __future__ import annotations

import mailbox
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

import pytest
from sqlalchemy import Engine, func, select

from hygiene.config import default_config, load_config
from hygiene.mail import sync
from hygiene.mail.files import FileSource
from hygiene.mail.imap_source import ImapSource, connect
from hygiene.mail.source import Folder, Source
from hygiene.mail.sync import SyncRun, sync_folder
from hygiene.store.db import open_database
from hygiene.store.models import Message
from tests.dovecot import Dovecot

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
BUYER = "buyer0001@marketplace.amazon.co.jp"

#: Bytes no database column holds as sent (a NUL, 8-bit header bytes): the store salvages it.
POISON = (
    b"From: Buyer <zz9@marketplace.amazon.co.jp>\r\nTo: seller@example.jp\r\n"
    b"Subject: poison\x00 \xe5\x95\x86\r\nDate: Thu, 19 Nov 2026 10:00:00 +0000\r\n"
    b"Message-ID: <p\xff@x>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nbody \x00 \xff\r\n"
)


def message(i: int) -> bytes:
    date = (NOW - timedelta(hours=2, minutes=i)).strftime("%a, %d %b %Y %H:%M:%S +0000")
    return (
        f"From: Buyer {i} <{BUYER}>\r\nTo: seller@example.jp\r\nSubject: order {i}\r\n"
        f"Date: {date}\r\nMessage-ID: <c{i}@amazon>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        f"Where is order {i}?\r\n"
    ).encode()


class SourceContract:
    """What every source promises. A subclass says how to put messages into its backend,
    how to change a flag there, and how to open it as a Source."""

    #: whether the backend keeps per-message flags (an mbox does not)
    keeps_flags: ClassVar[bool] = True
    #: whether UIDs (and so the folder's progress) last across runs
    keeps_progress: ClassVar[bool] = True

    @pytest.fixture
    def backend(self, *args: Any) -> Any:  # pragma: no cover - each subclass provides it
        raise NotImplementedError

    def put(self, backend: Any, messages: Sequence[tuple[bytes, tuple[str, ...]]]) -> None:
        raise NotImplementedError

    def add_flag(self, backend: Any, index: int, flag: str) -> None:
        raise NotImplementedError

    def source(self, backend: Any) -> Source:
        raise NotImplementedError

    # -- helpers ---------------------------------------------------------------------------

    @pytest.fixture
    def opened(self, backend: Any) -> Iterator[tuple[Any, Callable[[], Source]]]:
        sources: list[Source] = []

        def make() -> Source:
            sources.append(self.source(backend))
            return sources[-1]

        yield backend, make
        for source in sources:
            source.close()

    @staticmethod
    def inbox(source: Source) -> Folder:
        return next(f for f in source.folders() if f.role == "inbox")

    @staticmethod
    def database(tmp_path: Path) -> Engine:
        return open_database(f"sqlite:///{tmp_path / 'contract.db'}")

    # -- the protocol ----------------------------------------------------------------------

    def test_lists_an_inbox_folder_and_opens_it_with_its_size(self, opened: Any) -> None:
        backend, make = opened
        self.put(backend, [(message(i), ()) for i in range(3)])
        source = make()
        folder = self.inbox(source)
        status = source.open(folder)
        assert status.exists == 3
        assert (status.uidvalidity is not None) == self.keeps_progress

    def test_new_uids_are_ascending_and_start_after_the_state(self, opened: Any) -> None:
        backend, make = opened
        self.put(backend, [(message(i), ()) for i in range(4)])
        source = make()
        folder = self.inbox(source)
        source.open(folder)
        uids = source.new_uids(folder, 0)
        assert len(uids) == 4 and uids == sorted(set(uids)) and uids[0] > 0
        assert source.new_uids(folder, uids[1]) == uids[2:]
        assert source.new_uids(folder, uids[-1]) == []

    def test_fetch_gives_bytes_flags_and_date_in_the_order_asked(self, opened: Any) -> None:
        backend, make = opened
        originals = [message(0), message(1), message(2)]
        self.put(backend, [(originals[0], ("\\Seen",)), (originals[1], ()), (originals[2], ("\\Answered", "\\Seen"))])
        source = make()
        folder = self.inbox(source)
        source.open(folder)
        uids = source.new_uids(folder, 0)
        got = source.fetch(folder, uids)
        assert [m.uid for m in got] == uids
        assert [m.data.rstrip() for m in got] == [o.rstrip() for o in originals]
        expected: list[tuple[str, ...]] = [("\\Seen",), (), ("\\Answered", "\\Seen")] if self.keeps_flags else [(), (), ()]
        assert [tuple(sorted(m.flags)) for m in got] == expected
        for m in got:
            assert m.internal_date is None or m.internal_date.tzinfo is not None

    def test_fetch_leaves_out_a_uid_it_does_not_have(self, opened: Any) -> None:
        backend, make = opened
        self.put(backend, [(message(0), ())])
        source = make()
        folder = self.inbox(source)
        source.open(folder)
        [uid] = source.new_uids(folder, 0)
        assert [m.uid for m in source.fetch(folder, [uid, uid + 1000])] == [uid]

    def test_headers_are_none_or_the_header_block_of_each_message(self, opened: Any) -> None:
        backend, make = opened
        self.put(backend, [(message(i), ()) for i in range(2)])
        source = make()
        folder = self.inbox(source)
        source.open(folder)
        uids = source.new_uids(folder, 0)
        heads = source.headers(folder, uids)
        if heads is not None:
            assert sorted(heads) == uids
            assert all(BUYER.encode() in heads[u] and b"Where is order" not in heads[u] for u in uids)

    def test_flag_changes_report_a_flag_set_later(self, opened: Any) -> None:
        backend, make = opened
        self.put(backend, [(message(0), ()), (message(1), ())])
        source = make()
        folder = self.inbox(source)
        source.open(folder)
        uids = source.new_uids(folder, 0)
        before = source.flag_changes(folder, uids, None)
        assert all(before.get(u, ()) == () for u in uids)
        self.add_flag(backend, 1, "\\Answered")
        source = make()
        source.open(folder)
        after = source.flag_changes(folder, uids, None)
        assert ("\\Answered" in after.get(uids[1], ())) == self.keeps_flags
        assert after.get(uids[0], ()) == ()

    # -- the engine over the source ---------------------------------------------------------

    def run(self, engine: Engine, batch_size: int | None = None) -> SyncRun:
        return SyncRun(engine, default_config(), "contract", NOW, batch_size=batch_size)

    def test_the_engine_stores_each_message_once(self, opened: Any, tmp_path: Path) -> None:
        backend, make = opened
        self.put(backend, [(message(i), ()) for i in range(5)])
        engine = self.database(tmp_path)
        source = make()
        folder = self.inbox(source)
        first = sync_folder(source, folder, self.run(engine))
        again = sync_folder(make(), folder, self.run(engine))
        engine.dispose()
        assert (first.new, first.existing) == (5, 0)
        assert again.new == 0
        # A source with lasting UIDs fetches nothing again; one without reads all and dedup decides.
        assert (again.fetched, again.existing) == ((0, 0) if self.keeps_progress else (5, 5))

    def test_the_engine_salvages_a_message_the_database_refuses(self, opened: Any, tmp_path: Path) -> None:
        backend, make = opened
        self.put(backend, [(message(0), ()), (POISON, ()), (message(1), ())])
        engine = self.database(tmp_path)
        source = make()
        done = sync_folder(source, self.inbox(source), self.run(engine))
        with engine.connect() as conn:
            count = conn.execute(select(func.count()).select_from(Message)).scalar()
        engine.dispose()
        assert done.new == 3 and count == 3

    def test_a_batch_that_fails_to_store_stops_the_folder_there(self, opened: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        backend, make = opened
        self.put(backend, [(message(i), ()) for i in range(6)])
        engine = self.database(tmp_path)
        real = sync.store_batch
        calls = {"n": 0}

        def failing_second(*args: Any, **kwargs: Any) -> Any:
            calls["n"] += 1
            if calls["n"] == 2:
                raise RuntimeError("simulated failure while storing the second batch")
            return real(*args, **kwargs)

        monkeypatch.setattr(sync, "store_batch", failing_second)
        source = make()
        folder = self.inbox(source)
        with pytest.raises(RuntimeError, match="second batch"):
            sync_folder(source, folder, self.run(engine, batch_size=2))
        with engine.connect() as conn:
            assert conn.execute(select(func.count()).select_from(Message)).scalar() == 2
        monkeypatch.setattr(sync, "store_batch", real)
        again = sync_folder(make(), folder, self.run(engine, batch_size=2))
        with engine.connect() as conn:
            count = conn.execute(select(func.count()).select_from(Message)).scalar()
        engine.dispose()
        assert count == 6 and again.new == 4
        assert again.existing == (0 if self.keeps_progress else 2)


class TestImapSource(SourceContract):
    @pytest.fixture
    def backend(self, mailbox: Dovecot, imap_config: Path) -> Any:
        return mailbox, load_config(imap_config).accounts[0]

    def put(self, backend: Any, messages: Sequence[tuple[bytes, tuple[str, ...]]]) -> None:
        box, _ = backend
        box.append_many("INBOX", [(data, flags, NOW - timedelta(hours=1)) for data, flags in messages])

    def add_flag(self, backend: Any, index: int, flag: str) -> None:
        box, _ = backend
        uids = sorted(box.flags("INBOX"))
        box.set_flags("INBOX", [uids[index]], [flag])

    def source(self, backend: Any) -> Source:
        _, account = backend
        return ImapSource(connect(account), account)


class TestMaildirSource(SourceContract):
    keeps_progress = False
    _letters: ClassVar[dict[str, str]] = {"\\Seen": "S", "\\Answered": "R", "\\Flagged": "F"}

    @pytest.fixture
    def backend(self, tmp_path: Path) -> Path:
        root = tmp_path / "Maildir"
        for sub in ("cur", "new", "tmp"):
            (root / sub).mkdir(parents=True)
        return root

    def put(self, backend: Path, messages: Sequence[tuple[bytes, tuple[str, ...]]]) -> None:
        for i, (data, flags) in enumerate(messages):
            info = "".join(sorted(self._letters[f] for f in flags))
            (backend / "cur" / f"{1000 + i}.M{i}.host:2,{info}").write_bytes(data)

    def add_flag(self, backend: Path, index: int, flag: str) -> None:
        path = sorted((backend / "cur").iterdir())[index]
        path.rename(path.with_name(path.name + self._letters[flag]))

    def source(self, backend: Path) -> Source:
        return FileSource([backend])


class TestMboxSource(SourceContract):
    keeps_flags = False
    keeps_progress = False

    @pytest.fixture
    def backend(self, tmp_path: Path) -> Path:
        return tmp_path / "export.mbox"

    def put(self, backend: Path, messages: Sequence[tuple[bytes, tuple[str, ...]]]) -> None:
        box = mailbox.mbox(backend)
        for data, _ in messages:
            box.add(data)
        box.close()

    def add_flag(self, backend: Path, index: int, flag: str) -> None:
        pass  # an mbox keeps no flags

    def source(self, backend: Path) -> Source:
        return FileSource([backend])


def test_files_keep_one_mbox_open_at_a_time(tmp_path: Path) -> None:
    """A directory of many mboxes (monthly exports) must not hold a file open per mbox until
    its batch is read: the walk closes each, and reading opens one at a time."""
    for month in range(40):
        box = mailbox.mbox(tmp_path / f"2026-{month:02d}.mbox")
        box.add(message(month))
        box.close()
    fds = len(list(Path("/proc/self/fd").iterdir()))
    source = FileSource([tmp_path])
    folder = source.folders()[0]
    assert source.open(folder).exists == 40
    assert len(list(Path("/proc/self/fd").iterdir())) <= fds + 1
    got = source.fetch(folder, source.new_uids(folder, 0))
    assert len(got) == 40 and len(list(Path("/proc/self/fd").iterdir())) <= fds + 1
    source.close()
    assert len(list(Path("/proc/self/fd").iterdir())) == fds
