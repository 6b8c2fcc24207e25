"""``hygiene import``: files synced like a mailbox (files → parse → classify → store, in
committed batches), by the one engine of :mod:`hygiene.mail.sync`."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine

from hygiene.config import Config
from hygiene.errors import ConfigError
from hygiene.mail.files import FileSource
from hygiene.mail.ingest import IngestStats, RawMessage, build_row_safely
from hygiene.mail.sync import SyncRun, sync_folder
from hygiene.store.messages import store_batch

DEFAULT_IMPORT_ACCOUNT = "import"


def import_paths(
    engine: Engine,
    config: Config,
    paths: Iterable[Path],
    *,
    now: datetime,
    account: str = DEFAULT_IMPORT_ACCOUNT,
    batch_size: int = 500,
    on_message: Callable[[], None] | None = None,
    follow_symlinks: bool = False,
) -> IngestStats:
    """Import every message under ``paths``; returns the counts. The files are a mail source
    (:class:`~hygiene.mail.files.FileSource`) synced by the same engine as a poll: each batch
    is one transaction, a row the database refuses is kept minimal. Entries that cannot or
    should not be read (see :func:`~hygiene.mail.files.read_path`) are counted in
    ``unreadable`` and listed in ``unread``; the rest is imported."""
    own: frozenset[str] = frozenset()
    try:
        own = config.account(account).own_addresses()
    except ConfigError:
        pass  # an import-only account name: direction comes from the folder alone
    stats = IngestStats()

    def unreadable(path: Path, why: str) -> None:
        stats.unreadable += 1
        stats.unread.append(f"{path}: {why}")

    source = FileSource(list(paths), follow_symlinks=follow_symlinks, on_skip=unreadable)
    run = SyncRun(engine, config, account, now, own=own, batch_size=batch_size, progress=_Ticks(on_message) if on_message else None)
    try:
        for folder in source.folders():
            done = sync_folder(source, folder, run)
            stats.new += done.new
            stats.existing += done.existing
            stats.skipped += done.skipped
            stats.parse_notes += done.parse_notes
    finally:
        run.workers.close()
        source.close()
    return stats


class _Ticks:
    """``on_message`` once per message stored (the command's "N messages read…")."""

    def __init__(self, tick: Callable[[], None]) -> None:
        self.tick = tick

    def start_folder(self, account: str, folder: str, total: int) -> None:
        pass

    def advance(self, n: int) -> None:
        for _ in range(n):
            self.tick()

    def end_folder(self) -> None:
        pass


def store_raws(
    engine: Engine,
    config: Config,
    raws: Sequence[RawMessage],
    *,
    now: datetime,
    account: str,
    own: frozenset[str] = frozenset(),
) -> IngestStats:
    """One batch of messages, parsed, classified and stored in one transaction, with the
    same failure rules as a poll (a row the database refuses is kept minimal)."""
    part = IngestStats()
    rows = []
    for raw in raws:
        row = build_row_safely(raw, account, config, now, own)
        if row is None:
            part.skipped += 1
            continue
        if row["parse_note"]:
            part.parse_notes += 1
        rows.append(row)
    done = store_batch(engine, rows)
    part.new, part.existing = done.new, done.existing
    part.parse_notes += done.salvaged
    return part
