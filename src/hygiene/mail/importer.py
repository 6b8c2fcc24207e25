"""``hygiene import``: files → parse → classify → store, in committed batches."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine

from hygiene.config import Config
from hygiene.errors import ConfigError
from hygiene.mail.files import read_path
from hygiene.mail.ingest import IngestStats, RawMessage, build_row_safely
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
    """Import every message under ``paths``; returns the counts. Each batch is one transaction.
    Entries that cannot or should not be read (see :func:`read_path`) are counted in
    ``unreadable`` and listed in ``unread``; the rest is imported."""
    own: frozenset[str] = frozenset()
    try:
        own = config.account(account).own_addresses()
    except ConfigError:
        pass  # an import-only account name: direction comes from the folder alone
    stats = IngestStats()
    batch: list[RawMessage] = []

    def flush() -> None:
        stats.add(store_raws(engine, config, batch, now=now, account=account, own=own))
        batch.clear()

    def unreadable(path: Path, why: str) -> None:
        stats.unreadable += 1
        stats.unread.append(f"{path}: {why}")

    for path in paths:
        for raw in read_path(path, follow_symlinks=follow_symlinks, on_skip=unreadable):
            batch.append(raw)
            if on_message:
                on_message()
            if len(batch) >= batch_size:
                flush()
    flush()
    return stats


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
