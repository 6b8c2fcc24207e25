"""The IMAP source: a read-only IMAPClient session behind :class:`hygiene.mail.source.Source`.

Never changes the seller's mailbox: every folder is opened with EXAMINE (read-only select)
and every body is fetched with BODY.PEEK, so \\Seen is never set. FETCH answers are read by a
fast path (:func:`_uid_fetch`) that falls back to IMAPClient's own parser on anything odd.
"""

from __future__ import annotations

import logging
import re
import ssl
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError, LoginError

from hygiene.config import AccountConfig
from hygiene.errors import MailSourceError
from hygiene.mail.folders import SENT_NAMES
from hygiene.mail.source import Fetched, Folder, FolderStatus

log = logging.getLogger(__name__)

#: How many UIDs go into one FETCH of flags (a UID list, kept under servers' line limits).
FLAG_CHUNK = 4000
#: Phase one fetches only header literals (cheap to lex); phase two what the kept ones need.
HEADER_ITEMS = ["BODY.PEEK[HEADER.FIELDS (FROM TO CC SUBJECT REPLY-TO SENDER)]"]
BODY_ITEMS = ["BODY.PEEK[]", "FLAGS", "INTERNALDATE"]
#: Just what classification looks at, for the header prefilter.
HEADER_FIELDS = b"BODY[HEADER.FIELDS (FROM TO CC SUBJECT REPLY-TO SENDER)]"

# Errors of the connection or the protocol (the poll records them as the folder's last error).
CONNECTION_ERRORS: tuple[type[BaseException], ...] = (IMAPClientError, OSError)


class ImapSource:
    """One account's logged-in session: the configured inbox folders, then the Sent folder."""

    kind = "imap"

    def __init__(self, client: IMAPClient, account: AccountConfig) -> None:
        self.client = client
        self.account = account
        self._uidnext: int | None = None
        self._exists = 0

    def folders(self) -> list[Folder]:
        return [Folder(name, role) for name, role in folders_to_sync(self.client, self.account)]

    def open(self, folder: Folder) -> FolderStatus:
        info = self.client.select_folder(folder.name, readonly=True)  # EXAMINE: nothing on the server changes
        modseq = info.get(b"HIGHESTMODSEQ")
        self._uidnext = int(info.get(b"UIDNEXT", 0)) or None
        self._exists = int(info.get(b"EXISTS", 0))
        return FolderStatus(int(info[b"UIDVALIDITY"]), int(modseq) if modseq is not None else None, self._exists)

    def new_uids(self, folder: Folder, since: int) -> list[int]:
        if not self._exists or (self._uidnext is not None and self._uidnext <= since + 1):
            return []  # UIDNEXT says nothing arrived: no SEARCH round trip
        return sorted(u for u in self.client.search(["UID", f"{since + 1}:*"]) if u > since)

    def headers(self, folder: Folder, uids: Sequence[int]) -> Mapping[int, bytes]:
        heads = _uid_fetch(self.client, uids, HEADER_ITEMS, HEADER_FIELDS)
        return {uid: data.get(HEADER_FIELDS) or b"" for uid, data in heads.items()}

    def fetch(self, folder: Folder, uids: Sequence[int]) -> list[Fetched]:
        bodies = _uid_fetch(self.client, uids, BODY_ITEMS, b"BODY[]")
        out: list[Fetched] = []
        for uid in uids:
            data = bodies.get(uid, {})
            body = data.get(b"BODY[]")
            if body is None:  # expunged since the search
                continue
            out.append(Fetched(uid, bytes(body), _flag_names(data.get(b"FLAGS", ())), _aware(data.get(b"INTERNALDATE"))))
        return out

    def flag_changes(self, folder: Folder, uids: Sequence[int], since_modseq: int | None) -> Mapping[int, tuple[str, ...]]:
        modifiers = [f"CHANGEDSINCE {since_modseq}"] if since_modseq is not None else None
        out: dict[int, tuple[str, ...]] = {}
        for k in range(0, len(uids), FLAG_CHUNK):
            for uid, data in self.client.fetch(list(uids[k : k + FLAG_CHUNK]), ["FLAGS"], modifiers=modifiers).items():
                if b"FLAGS" in data:
                    out[uid] = _flag_names(data[b"FLAGS"])
        return out

    def close(self) -> None:
        disconnect(self.client)


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
            f"{account.name}: cannot connect to {where}: {reason(exc)}",
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
        disconnect(client)
        if token is not None:
            raise MailSourceError(
                f"{account.name}: OAuth2 sign-in ({account.oauth2_mechanism}) refused for {account.username} at {where}: "
                f"{reason(exc).replace(token, '…')}",
                "the token may have expired or lack the IMAP scope: check oauth2_token_command",
            ) from None
        raise MailSourceError(
            f"{account.name}: login failed for {account.username} at {where}: {reason(exc)}",
            "check the username and password (for Gmail and many providers: an app password)",
        ) from None
    except (IMAPClientError, OSError) as exc:
        disconnect(client)
        raise MailSourceError(f"{account.name}: login to {where} failed: {reason(exc)}") from None
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


def reason(exc: BaseException) -> str:
    text = str(exc).strip()
    if isinstance(exc, bytes):  # pragma: no cover - imaplib sometimes carries bytes
        text = exc.decode(errors="replace")
    text = re.sub(r"^b['\"](.*)['\"]$", r"\1", text)
    return text or exc.__class__.__name__


def disconnect(client: IMAPClient) -> None:
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


# -- the fast FETCH path -------------------------------------------------------------------


_SEQ_START = re.compile(rb"^\d+ \(")
_UID = re.compile(rb"\bUID (\d+)")
_FLAGS = re.compile(rb"\bFLAGS \(([^)]*)\)")
_INTERNALDATE = re.compile(rb'\bINTERNALDATE "([^"]+)"')
#: RFC 3501's date-time, the form every server sends: " 1-Jan-2026 09:05:00 +0900".
_DATE_TIME = re.compile(rb"^ ?(\d{1,2})-([A-Za-z]{3})-(\d{4}) (\d\d):(\d\d):(\d\d) ([+-])(\d\d)(\d\d)$")
_MONTHS = {m: i for i, m in enumerate(("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1)}


def _uid_fetch(client: IMAPClient, uids: Sequence[int], items: Sequence[str], literal_key: bytes) -> dict[int, dict[bytes, Any]]:
    """UID FETCH of ``items`` (one literal per message, plus FLAGS/INTERNALDATE), read from
    imaplib's response directly: imapclient's general parser lexes every response character
    by character, which costs more than the rest of a first sync. Anything unexpected in the
    answer falls back to imapclient's own fetch, so odd servers stay correct, only slower."""
    typ, data = client._imap.uid("FETCH", ",".join(str(u) for u in uids), f"({' '.join(items)})")
    if typ != "OK":
        raise IMAPClientError(f"UID FETCH failed: {reason(Exception(data))}")
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
            entry[b"INTERNALDATE"] = internal_date(date.group(1))
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


def internal_date(text: bytes) -> datetime:
    """An INTERNALDATE as an aware datetime in its own zone. The RFC 3501 form is read
    directly (imapclient's general date parser cost a tenth of a big first sync's own CPU);
    anything else goes through imapclient's, so what is stored is the same instant either way."""
    m = _DATE_TIME.match(text)
    if m is not None:
        day, month, year, hour, minute, second, sign, tz_hours, tz_minutes = m.groups()
        number = _MONTHS.get(month.decode("ascii").lower())
        # (a year under 100 is read as two-digit by the email parser: left to it)
        if number is not None and int(year) >= 100 and int(tz_hours) < 24 and int(tz_minutes) < 60:
            offset = timedelta(hours=int(tz_hours), minutes=int(tz_minutes))
            try:
                zone = timezone(offset if sign == b"+" else -offset)
                return datetime(int(year), number, int(day), int(hour), int(minute), int(second), tzinfo=zone)
            except (ValueError, OverflowError):
                pass  # an impossible date: imapclient's parser decides, as before
    from imapclient.datetime_util import parse_to_datetime

    return parse_to_datetime(text, normalise=False)


def _flag_names(flags: Sequence[bytes | str]) -> tuple[str, ...]:
    # \Recent belongs to the session, not the message.
    names = (f.decode() if isinstance(f, bytes) else str(f) for f in flags)
    return tuple(sorted(n for n in names if n.lower() != "\\recent"))


def _aware(value: Any) -> datetime | None:
    if not isinstance(value, datetime):
        return None
    return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
