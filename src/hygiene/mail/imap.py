"""``hygiene poll``: each account is lock → connect → sync each folder → close.

Each step is a function of its own, so a long-running watcher (``hygiene watch``) can hold an
account's lock or its connection across polls; the sync itself is the engine every mail
source shares (:mod:`hygiene.mail.sync`), here over an IMAP session
(:mod:`hygiene.mail.imap_source`). Read-only: folders are opened with EXAMINE and bodies
fetched with BODY.PEEK.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine

from hygiene.config import AccountConfig, Config
from hygiene.errors import DatabaseError, HygieneError, MailSourceError
from hygiene.locks import PollBusy, account_lock, poll_lock
from hygiene.mail.folders import SENT_NAMES
from hygiene.mail.imap_source import (
    CONNECTION_ERRORS,
    HEADER_FIELDS,
    ImapSource,
    _uid_fetch,
    connect,
    find_sent_folder,
    folders_to_sync,
    reason,
)
from hygiene.mail.sync import (
    PARALLEL_MIN_BATCHES,
    FolderResult,
    Progress,
    SyncRun,
    Workers,
    build_rows,
    sync_folder,
    worker_start,
)
from hygiene.store.messages import save_folder_state

__all__ = [
    "HEADER_FIELDS",
    "PARALLEL_MIN_BATCHES",
    "SENT_NAMES",
    "FolderResult",
    "PollBusy",
    "PollResult",
    "Progress",
    "SyncError",
    "_uid_fetch",
    "account_lock",
    "build_rows",
    "close_account",
    "connect",
    "find_sent_folder",
    "folders_to_sync",
    "lock_account",
    "open_account",
    "poll_account",
    "poll_accounts",
    "sync_account",
]
log = logging.getLogger(__name__)


class SyncError(HygieneError):
    """An unexpected failure while syncing one account (a bug): the other accounts go on."""


@dataclass
class PollResult:
    account: str
    folders: list[FolderResult] = field(default_factory=list)
    seconds: float = 0.0
    replies_found: int = 0

    def summary(self) -> str:
        """``jp: INBOX +123, Sent +45 in 2.1 s``"""
        parts = [f"{f.name} +{f.new}" for f in self.folders] or ["no folders"]
        return f"{self.account}: {', '.join(parts)} in {self.seconds:.1f} s"

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.account,
            "ok": True,
            "seconds": round(self.seconds, 3),
            "replies_found": self.replies_found,
            "folders": [f.as_json() for f in self.folders],
        }


# -- the four steps of a poll ---------------------------------------------------------------


@contextmanager
def lock_account(engine: Engine, account: AccountConfig) -> Iterator[None]:
    """Held while an account syncs: one poll of an account at a time (PollBusy otherwise)."""
    with poll_lock(account.name, engine):
        yield


def open_account(engine: Engine, account: AccountConfig, now: datetime) -> ImapSource:
    """The account's logged-in IMAP session; a failure is recorded for ``status`` and raised."""
    try:
        return ImapSource(connect(account), account)
    except MailSourceError as exc:
        _record_error(engine, account, None, str(exc), now)
        raise


def sync_account(source: ImapSource, run: SyncRun, account: AccountConfig) -> list[FolderResult]:
    """Every folder of the account, in order. A failure is recorded on the folder it happened
    in and raised as MailSourceError (connection, protocol), SyncError (a bug: the folder's
    progress stops at the last stored batch) or DatabaseError; the caller closes the source."""
    current: list[str] = []
    results: list[FolderResult] = []
    engine, now = run.db, run.now
    try:
        for folder in source.folders():
            current[:] = [folder.name]
            results.append(sync_folder(source, folder, run))
    except CONNECTION_ERRORS as exc:
        where = f"{current[0]}: " if current else ""
        message = f"{account.name}: {where}connection to {account.host}:{account.port} failed: {reason(exc)}"
        _record_error(engine, account, current[0] if current else None, message, now)
        raise MailSourceError(message, "the next poll continues where this one stopped") from None
    except MailSourceError as exc:
        _record_error(engine, account, current[0] if current else None, str(exc), now)
        raise
    except HygieneError:
        raise
    except Exception as exc:
        from hygiene.store.db import database_error, is_database_failure

        if is_database_failure(exc):
            raise database_error(exc, engine.url) from exc
        # A bug while syncing: said, kept for status, and the other accounts still polled.
        # The folder's progress stops at the last stored batch, so nothing is skipped.
        where = f"{current[0]}: " if current else ""
        message = f"{account.name}: {where}sync failed: {exc.__class__.__name__}: {str(exc)[:200]}"
        _record_error(engine, account, current[0] if current else None, message, now)
        raise SyncError(message, "the next poll retries from the last stored batch; -v shows the traceback") from exc
    return results


def close_account(source: ImapSource, run: SyncRun | None = None) -> None:
    """Log out and stop the run's parse workers; never raises (the first error is the one to tell)."""
    if run is not None:
        run.workers.close()
    source.close()


def poll_account(
    engine: Engine,
    config: Config,
    account: AccountConfig,
    *,
    now: datetime | None = None,
    full: bool = False,
    progress: Progress | None = None,
    match: bool = False,
    parse_workers: bool = True,
) -> PollResult:
    """Sync one account's folders into the database: lock → connect → sync → close.

    ``match=True`` also matches replies (``hygiene poll`` and ``watch`` do; ``check`` matches
    once itself after polling every account). ``parse_workers=False`` parses in this process
    (each account of ``poll --parallel`` is a process of its own already).

    Raises MailSourceError (network, login, protocol) after recording it as the folder's last
    error, PollBusy when another poll holds the account, ConfigError for a bad password setup.
    """
    now = now or datetime.now(UTC)
    started = time.perf_counter()
    result = PollResult(account.name)
    with lock_account(engine, account):
        source = open_account(engine, account, now)
        run = SyncRun(
            engine, config, account.name, now, own=account.own_addresses(), full=full, progress=progress,
            workers=Workers(processes=parse_workers),
        )
        try:
            result.folders = sync_account(source, run, account)
        finally:
            close_account(source, run)
    if match:
        result.replies_found = _match(engine, config, account.name, run.flagged_ids)
    result.seconds = time.perf_counter() - started
    return result


def _match(engine: Engine, config: Config, account: str, recheck: list[int]) -> int:
    from hygiene.store.messages import anything_to_match

    with engine.connect() as conn:
        if not recheck and not anything_to_match(conn, account):
            return 0  # a no-op poll: nothing to match, and the matcher (and the ORM) not imported
    from hygiene.clock import zone
    from hygiene.threads import match_replies

    with engine.begin() as conn:
        stats = match_replies(conn, account, tz=zone(config.timezone), recheck=recheck)
    return sum(stats.by_rule.values())


def _record_error(engine: Engine, account: AccountConfig, folder: str | None, message: str, now: datetime) -> None:
    """Keep the failure for ``hygiene status``; on the failing folder, or on every folder of
    the account when the connection itself failed."""
    from hygiene.mail.ingest import storable
    from hygiene.store.messages import all_folder_states

    message = storable(message)
    try:
        with engine.begin() as conn:
            names = [folder] if folder else [s.name for s in all_folder_states(conn) if s.account == account.name and s.role != "import"]
            for name in names or list(account.folders):
                save_folder_state(conn, account.name, name, last_error=message, last_error_at=now)
    except Exception as exc:  # noqa: BLE001 - the database being unavailable too must not hide the first error
        log.debug("could not record the error for status: %s: %s", exc.__class__.__name__, exc)


def poll_accounts(
    engine: Engine,
    config: Config,
    accounts: Sequence[AccountConfig],
    *,
    now: datetime | None = None,
    full: bool = False,
    progress: Progress | None = None,
    on_result: Callable[[PollResult | HygieneError, AccountConfig], None] | None = None,
    match: bool = False,
    parallel: int = 1,
) -> list[PollResult | HygieneError]:
    """Poll each account; one account failing does not stop the others. ``match``: match
    replies after each account's sync (``hygiene poll``; ``check`` matches once itself).
    ``parallel`` > 1 polls that many accounts at once, each in its own process (its own
    connection, database session and parse workers; no progress bars)."""
    if parallel > 1 and len(accounts) > 1:
        # No open connection may cross the fork (SQLite's and a server's socket alike): the
        # pool is emptied first and the parent reconnects when it next needs the database.
        engine.dispose()
        return _poll_in_processes(config, accounts, now=now, full=full, on_result=on_result, match=match, parallel=parallel)
    out: list[PollResult | HygieneError] = []
    for account in accounts:
        item: PollResult | HygieneError
        try:
            item = poll_account(engine, config, account, now=now, full=full, progress=progress, match=match)
        except DatabaseError:
            raise  # the database, not the account: the next account would fail the same way
        except HygieneError as exc:
            item = exc
        out.append(item)
        if on_result:
            on_result(item, account)
    return out


def __getattr__(name: str) -> Any:
    # Kept importable from here, lazily: the prefilter imports the parser, which a poll with
    # nothing new never needs.
    if name == "quick_headers":
        from hygiene.mail.prefilter import quick_headers

        return quick_headers
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _poll_in_processes(
    config: Config,
    accounts: Sequence[AccountConfig],
    *,
    now: datetime | None,
    full: bool,
    on_result: Callable[[PollResult | HygieneError, AccountConfig], None] | None,
    match: bool,
    parallel: int,
) -> list[PollResult | HygieneError]:
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    context = multiprocessing.get_context("fork")
    results: dict[int, PollResult | HygieneError] = {}
    with ProcessPoolExecutor(
        max_workers=min(parallel, len(accounts)), mp_context=context, initializer=worker_start, initargs=(os.getpid(),)
    ) as pool:
        futures = {pool.submit(_poll_one, config, i, now, full, match): i for i in range(len(accounts))}
        for future in futures:  # in config order, as the serial poll reports them
            i = futures[future]
            kind, value = future.result()
            item: PollResult | HygieneError
            if kind == "ok":
                assert isinstance(value, PollResult)
                item = value
            elif kind == "database":
                raise DatabaseError(str(value))
            else:
                item = PollBusy(str(value)) if kind == "busy" else HygieneError(str(value))
            results[i] = item
            if on_result:
                on_result(item, accounts[i])
    return [results[i] for i in range(len(accounts))]


def _poll_one(config: Config, index: int, now: datetime | None, full: bool, match: bool) -> tuple[str, PollResult | str]:
    """One account, in a child process: its own engine (a connection is never shared across a
    fork); errors come back as text, since not every error type survives pickling."""
    from hygiene.store.db import open_database

    account = config.accounts[index] if index < len(config.accounts) else None
    assert account is not None
    try:
        engine = open_database(config.database.url)
        try:
            return "ok", poll_account(engine, config, account, now=now, full=full, match=match, parse_workers=False)
        finally:
            engine.dispose()
    except PollBusy as exc:
        return "busy", str(exc)
    except DatabaseError as exc:
        return "database", str(exc)
    except HygieneError as exc:
        return "error", str(exc)
