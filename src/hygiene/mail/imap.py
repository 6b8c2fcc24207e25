"""The IMAP poller: read-only, incremental, batched.

Never changes the seller's mailbox: every folder is opened with EXAMINE (read-only select)
and every body is fetched with BODY.PEEK, so \\Seen is never set. Sync state per folder is
UIDVALIDITY + the highest UID synced (+ HIGHESTMODSEQ with CONDSTORE): a second poll with no
new mail fetches no bodies, and a UIDVALIDITY change rescans the folder without duplicating
rows (messages are deduplicated by their bytes). Each batch of messages and the folder's
progress are written in one transaction, so a run cut off mid-way leaves consistent data and
the next run continues where it stopped.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import re
import ssl
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import suppress
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError, LoginError
from sqlalchemy import Connection, Engine

from hygiene.classify import could_keep
from hygiene.config import AccountConfig, Config
from hygiene.errors import DatabaseError, HygieneError, MailSourceError
from hygiene.locks import PollBusy, account_lock, forget_in_child, poll_lock
from hygiene.mail import parse
from hygiene.mail.ingest import RawMessage, build_row_safely, flag_state
from hygiene.store.messages import (
    folder_state,
    iter_chunks,
    save_folder_state,
    store_batch,
    stored_flags,
    update_flags,
)

__all__ = ["PollBusy", "account_lock", "poll_account", "poll_accounts"]
log = logging.getLogger(__name__)

#: The usual names of the Sent folder, for servers without RFC 6154 special-use flags
#: (compared case-insensitively, after the hierarchy separator is normalised to "/").
SENT_NAMES = (
    "sent",
    "sent items",
    "sent messages",
    "sent mail",
    "[gmail]/sent mail",
    "[google mail]/sent mail",
    "inbox/sent",
    "inbox/sent items",
    "inbox/sent messages",
    "送信済み",
    "送信済みメール",
    "送信済みアイテム",
    "送信箱",
    "送信済みトレイ",
)
#: How many UIDs go into one FETCH of flags (a UID list, kept under servers' line limits).
FLAG_CHUNK = 4000
#: A sync of at least this many batches parses in worker processes.
PARALLEL_MIN_BATCHES = 3
PARALLEL_WORKERS = 2
#: Skip the header prefilter while at least this share of a folder's mail is kept.
DIRECT_KEEP_RATIO = 0.7
#: Batches fetched but not yet stored, at most (memory stays bounded whatever the mailbox).
MAX_BATCHES_AHEAD = 3
#: Phase one fetches only header literals (cheap to lex); phase two what the kept ones need.
HEADER_ITEMS = ["BODY.PEEK[HEADER.FIELDS (FROM TO CC SUBJECT REPLY-TO SENDER)]"]
BODY_ITEMS = ["BODY.PEEK[]", "FLAGS", "INTERNALDATE"]

#: Just what classification looks at, for the header prefilter.
HEADER_FIELDS = b"BODY[HEADER.FIELDS (FROM TO CC SUBJECT REPLY-TO SENDER)]"
_ADDRESS = re.compile(rb"[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)*")
_FIELD = re.compile(rb"^(from|to|cc|subject|reply-to|sender):[ \t]*(.*(?:\r?\n[ \t].*)*)", re.IGNORECASE | re.MULTILINE)


class SyncError(HygieneError):
    """An unexpected failure while syncing one account (a bug): the other accounts go on."""


class Progress(Protocol):
    def start_folder(self, account: str, folder: str, total: int) -> None: ...

    def advance(self, n: int) -> None: ...

    def end_folder(self) -> None: ...


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
            "folders": [asdict(f) for f in self.folders],
        }


# -- connection ---------------------------------------------------------------------------


def connect(account: AccountConfig) -> IMAPClient:
    """A logged-in client, or MailSourceError saying which account and what failed."""
    where = f"{account.host}:{account.port}"
    # config errors (and a token command that fails) surface before any network traffic
    token = account.oauth2_token() if account.oauth2_token_command else None
    password = account.password() if token is None else ""
    try:
        context = None
        if account.tls in ("ssl", "starttls"):
            # Certificates are always verified; ca_file trusts a private CA or a self-signed server.
            context = ssl.create_default_context(cafile=str(account.ca_file) if account.ca_file else None)
        client = IMAPClient(
            account.host,
            port=account.port,
            ssl=account.tls == "ssl",
            ssl_context=context,
            timeout=account.timeout,
        )
        if account.tls == "starttls":
            client.starttls(context)
    except (IMAPClientError, OSError) as exc:
        raise MailSourceError(
            f"{account.name}: cannot connect to {where}: {_reason(exc)}",
            "check host, port and tls in the config, and the network",
        ) from None
    try:
        if token is None:
            client.login(account.username, password)
        elif account.oauth2_mechanism == "OAUTHBEARER":
            client.oauthbearer_login(account.username, token)
        else:
            client.oauth2_login(account.username, token)
    except LoginError as exc:
        _close(client)
        if token is not None:
            raise MailSourceError(
                f"{account.name}: OAuth2 sign-in ({account.oauth2_mechanism}) refused for {account.username} at {where}: "
                f"{_reason(exc).replace(token, '…')}",
                "the token may have expired or lack the IMAP scope: check oauth2_token_command",
            ) from None
        raise MailSourceError(
            f"{account.name}: login failed for {account.username} at {where}: {_reason(exc)}",
            "check the username and password (for Gmail and many providers: an app password)",
        ) from None
    except (IMAPClientError, OSError) as exc:
        _close(client)
        raise MailSourceError(f"{account.name}: login to {where} failed: {_reason(exc)}") from None
    # Aware UTC datetimes for INTERNALDATE, not the local naive ones imapclient defaults to.
    client.normalise_times = False
    # imapclient routes every protocol line through a DEBUG logger call (imaplib debug level
    # 5): about a tenth of a big sync's time. Enable it back with --verbose if ever needed.
    client._imap.debug = 0
    try:
        if client.has_capability("CONDSTORE") and client.has_capability("ENABLE"):
            # EXAMINE then reports HIGHESTMODSEQ: an unchanged folder costs no flag fetch.
            client.enable("CONDSTORE")
    except (IMAPClientError, OSError):
        pass  # without CONDSTORE the poller falls back to a plain FLAGS fetch
    return client


def _reason(exc: BaseException) -> str:
    text = str(exc).strip()
    if isinstance(exc, bytes):  # pragma: no cover - imaplib sometimes carries bytes
        text = exc.decode(errors="replace")
    text = re.sub(r"^b['\"](.*)['\"]$", r"\1", text)
    return text or exc.__class__.__name__


def _close(client: IMAPClient) -> None:
    try:
        client.logout()
    except Exception as exc:  # noqa: BLE001 - already broken: nothing more to say than the first error
        log.debug("logout failed: %s: %s", exc.__class__.__name__, exc)
        try:
            client.shutdown()
        except Exception as second:  # noqa: BLE001 - the socket is gone either way
            log.debug("shutdown failed: %s", second.__class__.__name__)


# -- folders ------------------------------------------------------------------------------


def find_sent_folder(folders: Sequence[tuple[tuple[bytes, ...], bytes | None, str]], configured: str | None) -> str | None:
    """The Sent folder: the ``sent_folder`` key when set, else the RFC 6154 \\Sent flag,
    else a usual name. None when there is none."""
    names = [name for _, _, name in folders]
    if configured:
        return configured if configured in names else None
    for flags, _, name in folders:
        if any(f.lower() == b"\\sent" for f in flags):
            return name
    by_name: dict[str, str] = {}
    for _, delimiter, name in folders:
        key = name.replace(delimiter.decode(), "/") if delimiter else name
        by_name.setdefault(key.lower(), name)
    for candidate in SENT_NAMES:
        if candidate in by_name:
            return by_name[candidate]
    return None


def folders_to_sync(client: IMAPClient, account: AccountConfig) -> list[tuple[str, str]]:
    """(folder, role) pairs: the configured inbox folders, then the Sent folder."""
    listing = client.list_folders()
    names = {name for _, _, name in listing}
    out: list[tuple[str, str]] = []
    for name in account.folders:
        if name not in names and name.upper() != "INBOX":
            raise MailSourceError(
                f"{account.name}: folder {name!r} does not exist on {account.host}",
                f"fix accounts[{account.index}].folders in the config (the server has: {', '.join(sorted(names))})",
            )
        out.append((name, "inbox"))
    sent = find_sent_folder(listing, account.sent_folder)
    if account.sent_folder and sent is None:
        raise MailSourceError(
            f"{account.name}: sent_folder {account.sent_folder!r} does not exist on {account.host}",
            f"fix accounts[{account.index}].sent_folder in the config",
        )
    if sent is not None and sent not in account.folders:
        out.append((sent, "sent"))
    return out


# -- the poll -----------------------------------------------------------------------------


def poll_account(
    engine: Engine,
    config: Config,
    account: AccountConfig,
    *,
    now: datetime | None = None,
    full: bool = False,
    progress: Progress | None = None,
    match: bool = False,
) -> PollResult:
    """Sync one account's folders into the database.

    Reply matching is derived data: ``check``, ``show`` and the dashboard run it when they
    need it (incremental, cheap after the first time); ``match=True`` runs it here too.

    Raises MailSourceError (network, login, protocol) after recording it as the folder's last
    error, PollBusy when another poll holds the account, ConfigError for a bad password setup.
    """
    now = now or datetime.now(UTC)
    started = time.perf_counter()
    result = PollResult(account.name)
    flagged_ids: list[int] = []
    with poll_lock(account.name, engine):
        current: list[str] = []
        try:
            client = connect(account)
        except MailSourceError as exc:
            _record_error(engine, account, None, str(exc), now)
            raise
        workers = _Workers()
        try:
            for name, role in folders_to_sync(client, account):
                current[:] = [name]
                folder = _sync_folder(
                    client, engine, config, account, name, role,
                    now=now, full=full, progress=progress, flagged_ids=flagged_ids, workers=workers,
                )
                result.folders.append(folder)
        except (IMAPClientError, OSError) as exc:
            where = f"{current[0]}: " if current else ""
            message = f"{account.name}: {where}connection to {account.host}:{account.port} failed: {_reason(exc)}"
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
        finally:
            workers.close()
            _close(client)
    if match:
        result.replies_found = _match(engine, config, account.name, flagged_ids)
    result.seconds = time.perf_counter() - started
    return result


def _match(engine: Engine, config: Config, account: str, recheck: list[int]) -> int:
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


def _sync_folder(
    client: IMAPClient,
    engine: Engine,
    config: Config,
    account: AccountConfig,
    name: str,
    role: str,
    *,
    now: datetime,
    full: bool,
    progress: Progress | None,
    flagged_ids: list[int],
    workers: _Workers | None = None,
) -> FolderResult:
    result = FolderResult(name, role)
    info = client.select_folder(name, readonly=True)  # EXAMINE: nothing on the server changes
    uidvalidity = int(info[b"UIDVALIDITY"])
    uidnext = int(info.get(b"UIDNEXT", 0)) or None
    modseq = info.get(b"HIGHESTMODSEQ")
    highestmodseq = int(modseq) if modseq is not None else None
    exists = int(info.get(b"EXISTS", 0))

    with engine.connect() as conn:
        state = folder_state(conn, account.name, name)
    rescan = full or state is None or state.uidvalidity != uidvalidity
    result.rescanned = rescan and state is not None and state.uidvalidity is not None
    last_uid = 0 if rescan or state is None else state.highest_uid

    if not rescan and state is not None and last_uid and exists:
        changed = _sync_flags(client, engine, account.name, name, uidvalidity, last_uid, state.highestmodseq, highestmodseq, now)
        result.flag_changes = len(changed)
        flagged_ids.extend(changed)

    new_uids: list[int] = []
    if exists and (uidnext is None or uidnext > last_uid + 1):
        new_uids = sorted(u for u in client.search(["UID", f"{last_uid + 1}:*"]) if u > last_uid)

    own = account.own_addresses()
    if progress and new_uids:
        progress.start_folder(account.name, name, len(new_uids))
    chunks = list(iter_chunks(new_uids, config.batch_size))
    # Parsing dominates a big first sync: with several batches ahead, parse in worker
    # processes and store from a writer thread while the next batch is fetched, so fetch,
    # parse and store overlap. Batches are stored in order, each with the folder's progress.
    pool = (workers or _Workers()).pool() if len(chunks) >= PARALLEL_MIN_BATCHES else None
    writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hygiene-store") if pool else None
    in_flight: deque[Future[tuple[int, int, int]]] = deque()

    broken: list[BaseException] = []

    def store(chunk: Sequence[int], pending: Future[list[dict[str, Any]]] | list[dict[str, Any]]) -> tuple[int, int, int]:
        if broken:
            # An earlier batch was not stored: the folder's progress must not move past it,
            # so the batches after it wait for the next run too (fetched again, never lost).
            return 0, 0, 0
        try:
            rows = pending.result() if isinstance(pending, Future) else pending
            skipped = sum(1 for r in rows if r.get("_skip"))
            rows = [r for r in rows if not r.get("_skip")]

            def advance(conn: Connection) -> None:
                save_folder_state(conn, account.name, name, role=role, uidvalidity=uidvalidity, highest_uid=max(chunk))

            # the batch and the folder's progress, or nothing
            done = store_batch(engine, rows, progress=advance)
        except BaseException as exc:
            broken.append(exc)
            raise
        if progress:
            progress.advance(len(chunk))
        return done.new, skipped, done.salvaged

    prefilter = True

    def collect(done: tuple[int, int, int]) -> None:
        nonlocal prefilter
        result.new += done[0]
        result.skipped += done[1]
        result.salvaged += done[2]
        if not prefilter and done[0] + done[1] and done[1] > (1 - DIRECT_KEEP_RATIO) * (done[0] + done[1]):
            prefilter = True  # more unwanted mail than expected: read headers first again

    try:
        for chunk in chunks:
            skipped_before = result.skipped
            raws = _fetch_batch(client, config, name, role, uidvalidity, chunk, own, result, prefilter=prefilter)
            if prefilter and len(chunk) >= 50:
                # When most of a folder is kept anyway, the header round trip costs more than
                # fetching the few unwanted bodies (which are parsed, classified and dropped).
                prefilter = (result.skipped - skipped_before) > (1 - DIRECT_KEEP_RATIO) * len(chunk)
            job = (raws, account.name, config, now, own)
            if pool and writer:
                in_flight.append(writer.submit(store, chunk, pool.submit(build_rows, *job)))
                while len(in_flight) > MAX_BATCHES_AHEAD:  # bounded memory: a few batches at most
                    collect(in_flight.popleft().result())
            else:
                collect(store(chunk, build_rows(*job)))
        while in_flight:
            collect(in_flight.popleft().result())
    except BaseException:
        # Batches fetched whole before the failure are still good: let them be stored, then report.
        for pending in in_flight:
            with suppress(Exception):
                collect(pending.result())
        raise
    finally:
        if writer:
            writer.shutdown(wait=True)
        if pool and workers is None:
            pool.shutdown(cancel_futures=True)
        if progress and new_uids:
            progress.end_folder()

    with engine.begin() as conn:
        values: dict[str, Any] = {
            "role": role,
            "uidvalidity": uidvalidity,
            "last_sync_at": now,
            "last_error": None,
            "last_error_at": None,
            "highestmodseq": highestmodseq,
        }
        if rescan and not new_uids:
            values["highest_uid"] = 0
        save_folder_state(conn, account.name, name, **values)
    return result


def _fetch_batch(
    client: IMAPClient,
    config: Config,
    folder: str,
    role: str,
    uidvalidity: int,
    uids: Sequence[int],
    own: frozenset[str],
    result: FolderResult,
    prefilter: bool = True,
) -> list[RawMessage]:
    """Headers first, then bodies only of messages a rule could keep; without ``prefilter``
    every body at once (classification then happens after parsing)."""
    if not prefilter:
        return _fetch_bodies(client, folder, role, uidvalidity, list(uids), result)
    heads = _uid_fetch(client, uids, HEADER_ITEMS, HEADER_FIELDS)
    wanted: list[int] = []
    for uid in uids:
        data = heads.get(uid)
        if data is None:  # expunged since the search
            continue
        headers = quick_headers(data.get(HEADER_FIELDS) or b"", decode_subject=lambda sender: _subject_matters(config, sender))
        if could_keep(headers, config, folder_role=role, own_addresses=own):
            wanted.append(uid)
        else:
            result.skipped += 1
    if not wanted:
        return []
    return _fetch_bodies(client, folder, role, uidvalidity, wanted, result)


def _fetch_bodies(client: IMAPClient, folder: str, role: str, uidvalidity: int, wanted: list[int], result: FolderResult) -> list[RawMessage]:
    bodies = _uid_fetch(client, wanted, BODY_ITEMS, b"BODY[]")
    raws: list[RawMessage] = []
    for uid in wanted:
        data = bodies.get(uid, {})
        body = data.get(b"BODY[]")
        if body is None:  # expunged between the two fetches
            continue
        result.fetched += 1
        raws.append(
            RawMessage(
                data=bytes(body),
                folder=folder,
                role=role,
                uidvalidity=uidvalidity,
                uid=uid,
                internal_date=_aware(data.get(b"INTERNALDATE")),
                flags=_flag_names(data.get(b"FLAGS", ())),
            )
        )
    return raws


_SEQ_START = re.compile(rb"^\d+ \(")
_UID = re.compile(rb"\bUID (\d+)")
_FLAGS = re.compile(rb"\bFLAGS \(([^)]*)\)")
_INTERNALDATE = re.compile(rb'\bINTERNALDATE "([^"]+)"')


def _uid_fetch(client: IMAPClient, uids: Sequence[int], items: Sequence[str], literal_key: bytes) -> dict[int, dict[bytes, Any]]:
    """UID FETCH of ``items`` (one literal per message, plus FLAGS/INTERNALDATE), read from
    imaplib's response directly: imapclient's general parser lexes every response character
    by character, which costs more than the rest of a first sync. Anything unexpected in the
    answer falls back to imapclient's own fetch, so odd servers stay correct, only slower."""
    typ, data = client._imap.uid("FETCH", ",".join(str(u) for u in uids), f"({' '.join(items)})")
    if typ != "OK":
        raise IMAPClientError(f"UID FETCH failed: {_reason(Exception(data))}")
    out: dict[int, dict[bytes, Any]] = {}
    meta = b""
    literal: bytes | None = None

    def close() -> bool:
        if not meta:
            return True
        uid = _UID.search(meta)
        if uid is None:
            return False  # an unsolicited FETCH (another session changed flags): not ours
        entry: dict[bytes, Any] = {}
        if literal is not None:
            entry[literal_key] = literal
        flags = _FLAGS.search(meta)
        if flags:
            entry[b"FLAGS"] = tuple(flags.group(1).split())
        date = _INTERNALDATE.search(meta)
        if date:
            from imapclient.datetime_util import parse_to_datetime

            entry[b"INTERNALDATE"] = parse_to_datetime(date.group(1), normalise=False)
        out[int(uid.group(1))] = entry
        return True

    try:
        for part in data:
            head = part[0] if isinstance(part, tuple) else part
            if not isinstance(head, bytes):
                raise ValueError("unexpected response element")
            if _SEQ_START.match(head):
                close()
                meta, literal = b"", None
            meta += head
            if isinstance(part, tuple):
                if literal is not None:
                    raise ValueError("two literals in one message")
                literal = part[1]
        close()
        wanted = set(uids)
        if any(uid in wanted and literal_key not in entry for uid, entry in out.items()):
            raise ValueError("a message without its literal")
    except ValueError:
        return dict(client.fetch(list(uids), list(items)))
    return out


def build_rows(raws: Sequence[RawMessage], account: str, config: Config, now: datetime, own: frozenset[str]) -> list[dict[str, Any]]:
    """Parse and classify a batch (in a worker process for big syncs). Rows no rule keeps
    come back as ``{"_skip": True}`` so the caller can count them."""
    rows: list[dict[str, Any]] = []
    for raw in raws:
        row = build_row_safely(raw, account, config, now, own)
        rows.append(row if row is not None else {"_skip": True})
    return rows


class _Workers:
    """The parse worker processes of one poll, started when a folder first needs them and
    reused by the next folders (forking costs more than a small folder's whole sync)."""

    def __init__(self) -> None:
        self._pool: ProcessPoolExecutor | None = None
        self._tried = False

    def pool(self) -> ProcessPoolExecutor | None:
        if not self._tried:
            self._tried = True
            self._pool = _parse_pool()
        return self._pool

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None


def _parse_pool() -> ProcessPoolExecutor | None:
    workers = min(PARALLEL_WORKERS, os.cpu_count() or 1)
    if workers < 2 or "fork" not in multiprocessing.get_all_start_methods():
        return None
    # fork: the workers start with everything already imported (milliseconds, not seconds).
    return ProcessPoolExecutor(
        max_workers=workers, mp_context=multiprocessing.get_context("fork"), initializer=_worker_start, initargs=(os.getpid(),)
    )


def _worker_start(parent: int) -> None:
    """A parse worker never outlives its poll: it drops the inherited account lock, asks the
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


def _subject_matters(config: Config, sender: str) -> bool:
    """Whether a classification rule could look at the subject of mail from ``sender``."""
    from hygiene.domains import any_match

    return config.keep_other or any(
        rule.subject and (not rule.from_ or any_match([sender], rule.from_)) for rule in config.rules
    )


def quick_headers(block: bytes, decode_subject: Callable[[str], bool] | None = None) -> parse.ParsedMessage:
    """From, To, Cc and Subject read cheaply, for the prefilter only: addresses by pattern (a
    superset is harmless: the full parse decides); the subject decoded only when
    ``decode_subject(sender)`` says a rule could need it. Never raises."""
    out = parse.ParsedMessage()
    raw_subject = b""
    for match in _FIELD.finditer(block):
        name, value = match.group(1).lower(), match.group(2)
        if name == b"subject":
            raw_subject = value
            continue
        addresses = [a.decode("ascii", "replace").lower() for a in _ADDRESS.findall(value)]
        if name == b"from":
            out.from_name, sender = _sender(value)
            out.from_addr = sender or (addresses[0] if addresses else "")
        elif name == b"to":
            out.to_addrs += addresses
        elif name == b"cc":
            out.cc_addrs += addresses
        elif name == b"reply-to":
            out.reply_to += addresses
        else:
            out.sender = addresses[0] if addresses else ""
    if raw_subject and (decode_subject is None or decode_subject(out.from_addr)):
        out.subject = _decode_subject(raw_subject)
    return out


def _sender(value: bytes) -> tuple[str, str]:
    """The sender's display name and address as the full parse reads them, so that the
    prefilter never skips what classification would keep: a display name may itself look
    like an address ("news@shop.example.com" <seller-performance@amazon.co.jp>), or say
    "Amazon" on a forger's address. ("", "") when none is read."""
    headers = parse._Headers.__new__(parse._Headers)
    headers.values = {"from": [value.decode("ascii", "surrogateescape")]}
    try:
        senders = parse._addresses(headers, "From", [])
    except Exception:  # noqa: BLE001 - the pattern's reading (the caller's fallback) will do
        return "", ""
    return senders[0] if senders else ("", "")


def _decode_subject(value: bytes) -> str:
    text = re.sub(rb"\r?\n[ \t]", b" ", value).decode("utf-8", "replace").strip()
    if "=?" not in text:
        return text
    from email.header import decode_header, make_header

    try:
        return str(make_header(decode_header(text)))
    except Exception:  # a malformed encoded-word: the raw text still matches most rules
        return text


def _sync_flags(
    client: IMAPClient,
    engine: Engine,
    account: str,
    folder: str,
    uidvalidity: int,
    last_uid: int,
    old_modseq: int | None,
    new_modseq: int | None,
    now: datetime,
) -> list[int]:
    """Pick up flag changes on stored messages (\\Answered set later). With CONDSTORE only
    what changed since the last HIGHESTMODSEQ is fetched; unchanged modseq costs nothing."""
    if old_modseq is not None and new_modseq is not None and new_modseq == old_modseq:
        return []
    with engine.connect() as conn:
        stored = stored_flags(conn, account, folder, uidvalidity)
    if not stored:
        return []
    modifiers = [f"CHANGEDSINCE {old_modseq}"] if old_modseq is not None and new_modseq is not None else None
    changes: list[tuple[int, str, bool, bool]] = []
    for chunk in iter_chunks(sorted(stored), FLAG_CHUNK):
        for uid, data in client.fetch(list(chunk), ["FLAGS"], modifiers=modifiers).items():
            if uid not in stored or b"FLAGS" not in data:
                continue
            text, seen, answered = flag_state(_flag_names(data[b"FLAGS"]))
            mid, before = stored[uid]
            if text != before:
                changes.append((mid, text, seen, answered))
    if changes:
        with engine.begin() as conn:
            update_flags(conn, changes, now)
    return [mid for mid, *_ in changes]


def _flag_names(flags: Sequence[bytes | str]) -> tuple[str, ...]:
    # \Recent belongs to the session, not the message.
    names = (f.decode() if isinstance(f, bytes) else str(f) for f in flags)
    return tuple(sorted(n for n in names if n.lower() != "\\recent"))


def _aware(value: Any) -> datetime | None:
    if not isinstance(value, datetime):
        return None
    return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)


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
    context = multiprocessing.get_context("fork")
    results: dict[int, PollResult | HygieneError] = {}
    with ProcessPoolExecutor(
        max_workers=min(parallel, len(accounts)), mp_context=context, initializer=_worker_start, initargs=(os.getpid(),)
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
            return "ok", poll_account(engine, config, account, now=now, full=full, match=match)
        finally:
            engine.dispose()
    except PollBusy as exc:
        return "busy", str(exc)
    except DatabaseError as exc:
        return "database", str(exc)
    except HygieneError as exc:
        return "error", str(exc)
