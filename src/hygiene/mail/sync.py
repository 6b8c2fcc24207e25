"""The sync engine: one folder of any :class:`~hygiene.mail.source.Source` into the database.

``poll`` (IMAP) and ``import`` (files) both go through :func:`sync_folder`, so they share the
batching, the parse workers, the writer and the failure rules:

- each batch of messages and the folder's progress are written in one transaction
  (:func:`hygiene.store.messages.store_batch`), so a run cut off mid-way leaves consistent data
  and the next run continues where it stopped;
- a message the database refuses is stored as a minimal row (salvaged), never dropped and
  never taking its batch down;
- a batch that fails to store stops the folder's progress there: the batches after it are not
  stored either and the next run fetches them again (nothing skipped, nothing lost).

Sync state per folder is UIDVALIDITY + the highest UID stored (+ HIGHESTMODSEQ where the source
has it): a second run with no new mail fetches no bodies, and a UIDVALIDITY change rescans the
folder without duplicating rows (messages are deduplicated by their bytes).
"""

from __future__ import annotations

import os
import time
from collections import deque
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import suppress
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from hygiene.config import Config
from hygiene.locks import forget_in_child
from hygiene.mail.source import Folder, FolderStatus, Source
from hygiene.store.messages import (
    folder_state,
    iter_chunks,
    save_folder_state,
    store_batch,
    stored_flags,
    update_flags,
)

if TYPE_CHECKING:
    from concurrent.futures import ProcessPoolExecutor

    from sqlalchemy import Connection, Engine

    from hygiene.mail.ingest import RawMessage

# The parser and classifier (hygiene.mail.ingest, .prefilter, hygiene.classify) and the
# process pool are imported when a folder has new mail, not before: a poll with nothing new
# needs none of them, and a whole no-op poll is meant to take a quarter of a second.

#: A sync of at least this many batches parses in worker processes (where there are any).
PARALLEL_MIN_BATCHES = 3
PARALLEL_WORKERS = 2
#: Parse worker processes of a big sync: ``$HYGIENE_PARSE_WORKERS``, else PARALLEL_WORKERS on
#: a machine with more cores than that, else none. On two cores the poll's own fetch and store
#: and the IMAP server already keep both busy: workers added a fifth to a first sync's CPU
#: (pickling, forking) and saved no time (bench/poll.py, 10k and 50k).
PARSE_WORKERS_ENV = "HYGIENE_PARSE_WORKERS"
#: Skip the header prefilter while at least this share of a folder's mail is kept.
DIRECT_KEEP_RATIO = 0.7
#: Batches fetched but not yet stored, at most (memory stays bounded whatever the mailbox).
MAX_BATCHES_AHEAD = 3


class Progress(Protocol):
    def start_folder(self, account: str, folder: str, total: int) -> None: ...

    def advance(self, n: int) -> None: ...

    def end_folder(self) -> None: ...


#: Counts ``import`` reports that ``poll --json`` does not (its documented shape).
_NOT_IN_POLL_JSON = ("existing", "parse_notes")


@dataclass
class FolderResult:
    name: str
    role: str
    #: messages stored for the first time
    new: int = 0
    #: messages whose bodies were fetched
    fetched: int = 0
    #: new messages no classification rule keeps (headers only were fetched)
    skipped: int = 0
    #: stored messages whose server flags changed (e.g. \\Answered set later)
    flag_changes: int = 0
    #: UIDVALIDITY changed (or --full): the folder was read again from the start
    rescanned: bool = False
    #: messages the database refused whole, kept as minimal rows with a parse note
    salvaged: int = 0
    #: messages already stored (the same bytes: imported twice, or a rescan)
    existing: int = 0
    #: messages stored with a parse note (salvaged ones included)
    parse_notes: int = 0

    def as_json(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if k not in _NOT_IN_POLL_JSON}


@dataclass
class SyncRun:
    """What a sync writes into and how: shared by every folder of one run."""

    db: Engine
    config: Config
    account: str
    now: datetime
    own: frozenset[str] = frozenset()
    full: bool = False
    progress: Progress | None = None
    #: messages per batch (one transaction each); None: the config's
    batch_size: int | None = None
    workers: Workers = field(default_factory=lambda: Workers())
    #: ids of stored messages whose flags changed (reply matching looks at them again)
    flagged_ids: list[int] = field(default_factory=list)


def sync_folder(source: Source, folder: Folder, run: SyncRun) -> FolderResult:
    """Sync one folder: flag changes of stored messages, then new messages in batches."""
    return _FolderSync(source, folder, run).sync()


def build_rows(raws: Sequence[RawMessage], account: str, config: Config, now: datetime, own: frozenset[str]) -> list[dict[str, Any]]:
    """Parse and classify a batch (in a worker process for big syncs). Rows no rule keeps
    come back as ``{"_skip": True}`` so the caller can count them."""
    from hygiene.mail.ingest import build_row_safely

    rows: list[dict[str, Any]] = []
    for raw in raws:
        row = build_row_safely(raw, account, config, now, own)
        rows.append(row if row is not None else {"_skip": True})
    return rows


@dataclass
class _Stored:
    new: int = 0
    skipped: int = 0
    salvaged: int = 0
    existing: int = 0
    parse_notes: int = 0


class _FolderSync:
    def __init__(self, source: Source, folder: Folder, run: SyncRun) -> None:
        self.source, self.folder, self.run = source, folder, run
        self.result = FolderResult(folder.name, folder.role)
        self.stored_name = folder.stored_name
        #: an earlier batch failed to store: nothing after it may be stored in this run
        self.broken: list[BaseException] = []
        self.prefilter = True
        self.status = FolderStatus(None)

    def sync(self) -> FolderResult:
        run, result = self.run, self.result
        self.status = status = self.source.open(self.folder)
        # A source without lasting UIDs keeps no progress: all of it is read, dedup decides.
        keep = status.uidvalidity is not None
        state = None
        if keep:
            with run.db.connect() as conn:
                state = folder_state(conn, run.account, self.stored_name)
        rescan = run.full or state is None or state.uidvalidity != status.uidvalidity
        result.rescanned = keep and rescan and state is not None and state.uidvalidity is not None
        last_uid = 0 if rescan or state is None else state.highest_uid

        if keep and not rescan and state is not None and last_uid and status.exists:
            changed = self.sync_flags(state.highestmodseq)
            result.flag_changes = len(changed)
            run.flagged_ids.extend(changed)

        new_uids = self.source.new_uids(self.folder, last_uid)
        self.store_new(new_uids, keep)

        if keep:
            with run.db.begin() as conn:
                values: dict[str, Any] = {
                    "role": self.folder.role,
                    "uidvalidity": status.uidvalidity,
                    "last_sync_at": run.now,
                    "last_error": None,
                    "last_error_at": None,
                    "highestmodseq": status.highestmodseq,
                }
                if rescan and not new_uids:
                    values["highest_uid"] = 0
                save_folder_state(conn, run.account, self.stored_name, **values)
        return result

    # -- new messages ----------------------------------------------------------------------

    def store_new(self, uids: list[int], keep: bool) -> None:
        run, progress = self.run, self.run.progress
        if progress and uids:
            progress.start_folder(run.account, self.folder.name, len(uids))
        chunks = list(iter_chunks(uids, run.batch_size or run.config.batch_size))
        if chunks:
            import hygiene.mail.ingest  # noqa: F401 - before the workers fork: they start with it
        # Parsing dominates a big first sync: with several batches ahead, parse in worker
        # processes and store from a writer thread while the next batch is fetched, so fetch,
        # parse and store overlap. Batches are stored in order, each with the folder's progress.
        pool = run.workers.pool() if len(chunks) >= PARALLEL_MIN_BATCHES else None
        writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hygiene-store") if pool else None
        in_flight: deque[Future[_Stored]] = deque()
        try:
            for chunk in chunks:
                raws = self.fetch(chunk)
                job = (raws, run.account, run.config, run.now, run.own)
                if pool and writer:
                    in_flight.append(writer.submit(self.store, chunk, pool.submit(build_rows, *job), keep))
                    while len(in_flight) > MAX_BATCHES_AHEAD:  # bounded memory: a few batches at most
                        self.collect(in_flight.popleft().result())
                else:
                    self.collect(self.store(chunk, build_rows(*job), keep))
            while in_flight:
                self.collect(in_flight.popleft().result())
        except BaseException:
            # Batches fetched whole before the failure are still good: let them be stored, then report.
            for pending in in_flight:
                with suppress(Exception):
                    self.collect(pending.result())
            raise
        finally:
            if writer:
                writer.shutdown(wait=True)
            if progress and uids:
                progress.end_folder()

    def fetch(self, uids: Sequence[int]) -> list[RawMessage]:
        """Headers first, then bodies only of messages a rule could keep; without the
        prefilter (or a source with no cheaper header read) every body at once
        (classification then happens after parsing)."""
        from hygiene.classify import could_keep
        from hygiene.mail.ingest import RawMessage
        from hygiene.mail.prefilter import quick_headers, subject_matters

        run, folder, result = self.run, self.folder, self.result
        skipped_before = result.skipped
        heads = self.source.headers(folder, uids) if self.prefilter else None
        wanted: Sequence[int] = uids
        if heads is not None:
            wanted = []
            for uid in uids:
                block = heads.get(uid)
                if block is None:  # expunged since the search
                    continue
                headers = quick_headers(block, decode_subject=lambda sender: subject_matters(run.config, sender))
                if could_keep(headers, run.config, folder_role=folder.role, own_addresses=run.own):
                    wanted.append(uid)
                else:
                    result.skipped += 1
        if self.prefilter and len(uids) >= 50:
            # When most of a folder is kept anyway, the header round trip costs more than
            # fetching the few unwanted bodies (which are parsed, classified and dropped).
            self.prefilter = (result.skipped - skipped_before) > (1 - DIRECT_KEEP_RATIO) * len(uids)
        if not wanted:
            return []
        fetched = self.source.fetch(folder, wanted)
        result.fetched += len(fetched)
        uidvalidity = self.status.uidvalidity
        keep = uidvalidity is not None
        return [
            RawMessage(
                data=m.data,
                folder=self.stored_name,
                role=m.role or folder.role,
                uidvalidity=uidvalidity,
                uid=m.uid if keep else None,
                internal_date=m.internal_date,
                flags=m.flags,
                source=self.source.kind,
            )
            for m in fetched
        ]

    def store(self, chunk: Sequence[int], pending: Future[list[dict[str, Any]]] | list[dict[str, Any]], keep: bool) -> _Stored:
        """One batch and (``keep``) the folder's progress up to its last UID, or nothing."""
        if self.broken:
            # An earlier batch was not stored: the folder's progress must not move past it,
            # so the batches after it wait for the next run too (fetched again, never lost).
            return _Stored()
        run = self.run
        try:
            rows = pending.result() if isinstance(pending, Future) else pending
            skipped = sum(1 for r in rows if r.get("_skip"))
            rows = [r for r in rows if not r.get("_skip")]
            notes = sum(1 for r in rows if r.get("parse_note"))

            def advance(conn: Connection) -> None:
                save_folder_state(
                    conn, run.account, self.stored_name, role=self.folder.role, uidvalidity=self.status.uidvalidity, highest_uid=max(chunk)
                )

            done = store_batch(run.db, rows, progress=advance if keep else None)
        except BaseException as exc:
            self.broken.append(exc)
            raise
        if run.progress:
            run.progress.advance(len(chunk))
        return _Stored(done.new, skipped, done.salvaged, done.existing, notes + done.salvaged)

    def collect(self, done: _Stored) -> None:
        result = self.result
        result.new += done.new
        result.skipped += done.skipped
        result.salvaged += done.salvaged
        result.existing += done.existing
        result.parse_notes += done.parse_notes
        if not self.prefilter and done.new + done.skipped and done.skipped > (1 - DIRECT_KEEP_RATIO) * (done.new + done.skipped):
            self.prefilter = True  # more unwanted mail than expected: read headers first again

    # -- flags -----------------------------------------------------------------------------

    def sync_flags(self, old_modseq: int | None) -> list[int]:
        """Pick up flag changes on stored messages (\\Answered set later). With CONDSTORE only
        what changed since the last HIGHESTMODSEQ is fetched; unchanged modseq costs nothing."""
        run, new_modseq = self.run, self.status.highestmodseq
        if old_modseq is not None and new_modseq is not None and new_modseq == old_modseq:
            return []
        assert self.status.uidvalidity is not None
        with run.db.connect() as conn:
            stored = stored_flags(conn, run.account, self.stored_name, self.status.uidvalidity)
        if not stored:
            return []
        from hygiene.mail.ingest import flag_state

        since = old_modseq if old_modseq is not None and new_modseq is not None else None
        changes: list[tuple[int, str, bool, bool]] = []
        for uid, flags in self.source.flag_changes(self.folder, sorted(stored), since).items():
            if uid not in stored:
                continue
            text, seen, answered = flag_state(flags)
            mid, before = stored[uid]
            if text != before:
                changes.append((mid, text, seen, answered))
        if changes:
            with run.db.begin() as conn:
                update_flags(conn, changes, run.now)
        return [mid for mid, *_ in changes]


# -- parse workers ------------------------------------------------------------------------


class Workers:
    """The parse worker processes of one run, started when a folder first needs them and
    reused by the next folders (forking costs more than a small folder's whole sync)."""

    def __init__(self, *, processes: bool = True) -> None:
        self._pool: ProcessPoolExecutor | None = None
        #: False: parse in the sync's own process (``poll --parallel``: the accounts' processes
        #: already keep every core busy; a pool per account would only oversubscribe them)
        self._tried = not processes

    def pool(self) -> ProcessPoolExecutor | None:
        if not self._tried:
            self._tried = True
            self._pool = _parse_pool()
        return self._pool

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None
        self._tried = False


def _parse_pool() -> ProcessPoolExecutor | None:
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    workers = parse_workers()
    if workers < 2 or "fork" not in multiprocessing.get_all_start_methods():
        return None
    # fork: the workers start with everything already imported (milliseconds, not seconds).
    return ProcessPoolExecutor(
        max_workers=workers, mp_context=multiprocessing.get_context("fork"), initializer=worker_start, initargs=(os.getpid(),)
    )


def parse_workers() -> int:
    """How many parse worker processes a big sync starts (0 or 1: it parses in its own)."""
    setting = os.environ.get(PARSE_WORKERS_ENV, "").strip()
    if setting.isdigit():
        return min(int(setting), 16)
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return PARALLEL_WORKERS if cores > PARALLEL_WORKERS else 0


def worker_start(parent: int) -> None:
    """A worker process never outlives its run: it drops the inherited account lock, asks the
    kernel to kill it when the parent dies (Linux), and watches for that elsewhere. Ctrl-C
    is the parent's to handle (it shuts the pool down)."""
    import signal
    import threading

    forget_in_child()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent:  # the parent died before the line above took effect
        os._exit(1)

    def watch() -> None:  # where PR_SET_PDEATHSIG does not exist
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(1)

    threading.Thread(target=watch, name="hygiene-parent-watch", daemon=True).start()
