"""The one path every message takes into the database: parse → classify → row.

Both the IMAP poller and ``hygiene import`` hand :class:`RawMessage` objects to
:func:`build_row`; :func:`hygiene.store.messages.store_rows` writes a batch of them.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from hygiene.classify import classify
from hygiene.config import Config
from hygiene.mail.parse import auto_reply_text, parse_message
from hygiene.message import ParsedMessage

log = logging.getLogger(__name__)

#: A Date header further in the future than this is a sender's broken clock, not a fact.
MAX_CLOCK_SKEW = timedelta(days=1)
#: How far a Date header may be ahead of the server's INTERNALDATE before the arrival time
#: is used instead (config: [poll] date_skew_minutes).
DATE_SKEW = timedelta(minutes=15)


@dataclass
class RawMessage:
    data: bytes
    folder: str
    #: "inbox" or "sent": where the folder sits in the seller's mailbox
    role: str = "inbox"
    uidvalidity: int | None = None
    uid: int | None = None
    internal_date: datetime | None = None
    flags: tuple[str, ...] = ()
    source: str = "imap"


@dataclass
class IngestStats:
    new: int = 0
    existing: int = 0
    skipped: int = 0
    parse_notes: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)
    #: entries not read (import): not a regular file, a symlink out of the tree, over the size
    #: cap, unreadable; ``unread`` says which and why ("PATH: reason")
    unreadable: int = 0
    unread: list[str] = field(default_factory=list)

    def add(self, other: IngestStats) -> None:
        self.new += other.new
        self.existing += other.existing
        self.skipped += other.skipped
        self.parse_notes += other.parse_notes
        self.failed += other.failed
        self.errors.extend(other.errors)
        self.unreadable += other.unreadable
        self.unread.extend(other.unread)

    def as_json(self) -> dict[str, int]:
        return {
            "new": self.new,
            "existing": self.existing,
            "skipped": self.skipped,
            "parse_notes": self.parse_notes,
            "failed": self.failed,
            "unreadable": self.unreadable,
        }


#: Lone surrogates are not UTF-8 (the parser keeps undecodable header bytes as surrogate
#: escapes); with NUL (PostgreSQL text refuses it) what no database column can hold.
_SURROGATE = re.compile("[\ud800-\udfff]")


def storable(text: str) -> str:
    """``text`` as every backend stores it: undecodable bytes kept as surrogate escapes are
    read as UTF-8 where they form UTF-8 (RFC 6532 headers), else become U+FFFD; NUL is
    removed. Anything else is unchanged (the common case costs a scan at C speed)."""
    if "\x00" in text:
        text = text.replace("\x00", "")
    if text.isascii():  # the common case, at C speed: no surrogate can be in it
        return text
    try:
        text.encode("utf-8")  # faster than a regex over a long body
        return text
    except UnicodeEncodeError:
        pass
    try:
        # surrogate escapes are the original bytes: decode them as UTF-8 where they are
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    except UnicodeEncodeError:  # other lone surrogates (not escapes of bytes)
        return _SURROGATE.sub("\ufffd", text)


#: The row values read from the message (the others are the program's own: numbers, times,
#: category names); a value that still slips through is salvaged by the store.
MAIL_TEXT_KEYS = (
    "message_id", "in_reply_to", "references", "from_name", "from_addr", "to_addrs",
    "cc_addrs", "subject", "body_text", "parse_note", "flags", "folder", "suspicious_reasons",
)


def storable_row(row: dict[str, Any]) -> dict[str, Any]:
    """Every text value read from mail in ``row`` made storable (see :func:`storable`), in
    place."""
    for key in MAIL_TEXT_KEYS:
        value = row.get(key)
        # inline fast test (isascii is O(1), the NUL test a memchr): most values need nothing
        if type(value) is str and ("\x00" in value or not value.isascii()):
            row[key] = storable(value)
    return row


def fingerprint(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def received_at(
    parsed: ParsedMessage,
    internal_date: datetime | None,
    now: datetime,
    *,
    server_date: bool = False,
    skew: timedelta = DATE_SKEW,
) -> tuple[datetime, str | None]:
    """When the reply clock starts, and a note when the Date header was not believed.

    The Date header, unless missing or absurd (before 1990, over a day in the future), else
    INTERNALDATE. With the server's INTERNALDATE (``server_date``: IMAP, not a file's mtime)
    a Date more than ``skew`` after it is not believed either: a message cannot arrive before
    it was written, and a sender's fast clock would hide a late message. A Date far *before*
    INTERNALDATE is kept (mail delayed in transit: the sender's clock is the fair start)."""
    date = parsed.date
    if date is not None and date <= now + MAX_CLOCK_SKEW and date.year >= 1990:
        if server_date and internal_date is not None and date - internal_date > skew:
            ahead = date - internal_date
            return internal_date, f"Date header {_span(ahead)} after the server received it: clock starts at arrival"
        return date, None
    if internal_date is not None:
        return internal_date, None
    return (date if date is not None and date.year >= 1990 else now), None


def _span(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    return f"{minutes // 60} h {minutes % 60} min" if minutes >= 60 else f"{minutes} min"


def flag_state(flags: tuple[str, ...]) -> tuple[str, bool, bool]:
    """Stored flag text, \\Seen, \\Answered."""
    lowered = {f.lower() for f in flags}
    return " ".join(flags), "\\seen" in lowered, "\\answered" in lowered


def build_row(
    raw: RawMessage,
    account: str,
    config: Config,
    now: datetime,
    *,
    own_addresses: frozenset[str] = frozenset(),
) -> tuple[dict[str, Any] | None, ParsedMessage]:
    """The database row for ``raw`` (None when no rule keeps it), and the parsed message."""
    parsed = parse_message(raw.data)
    if config.verify_dkim and parsed.dkim_domains and not parsed.auth_results and raw.role != "sent":
        from hygiene.domains import is_amazon_domain

        if any(is_amazon_domain(d) for d in parsed.dkim_domains):
            from hygiene.mail.dkim_check import verify_signatures

            parsed.dkim_verified = verify_signatures(raw.data, is_amazon_domain)
    kind = classify(parsed, config, folder_role=raw.role, own_addresses=own_addresses, trusted_authserv_ids=_trusted(config, account))
    if kind is None:
        return None, parsed
    flags, seen, answered = flag_state(raw.flags)
    internal = raw.internal_date.astimezone(UTC) if raw.internal_date else None
    received, skew_note = received_at(
        parsed, internal, now, server_date=raw.source == "imap", skew=timedelta(minutes=config.date_skew_minutes)
    )
    auto_reply = parsed.auto_reply
    extra = config.replies
    if not auto_reply and (extra.auto_reply_subjects or extra.auto_reply_bodies):
        # The parser checked the default patterns; the seller's own ones need the config.
        auto_reply = auto_reply_text(extra.auto_reply_subjects, extra.auto_reply_bodies).matches(parsed.subject, parsed.body_text)
    row: dict[str, Any] = {
        "account": account,
        "folder": raw.folder,
        "uidvalidity": raw.uidvalidity,
        "uid": raw.uid,
        "fingerprint": fingerprint(raw.data),
        "source": raw.source,
        "message_id": parsed.message_id,
        "in_reply_to": parsed.in_reply_to,
        "references": " ".join(parsed.references) or None,
        "from_name": parsed.from_name or None,
        "from_addr": parsed.from_addr or None,
        "to_addrs": ", ".join(parsed.to_addrs) or None,
        "cc_addrs": ", ".join(parsed.cc_addrs) or None,
        "subject": parsed.subject,
        "date_header": parsed.date,
        "internal_date": internal,
        "received_at": received,
        "flags": flags,
        "seen": seen,
        "answered": answered,
        "answered_seen_at": now if answered else None,
        "direction": kind.direction,
        "category": kind.category,
        "needs_reply": kind.needs_reply,
        "auto_reply": auto_reply,
        "body_text": parsed.body_text,
        "size": len(raw.data),
        "parse_note": "; ".join(n for n in (parsed.parse_note, skew_note) if n) or None,
        "raw": raw.data if config.database.keep_raw else None,
        "stored_at": now,
        # every row carries the same keys: batches are inserted with one statement
        "tone_score": None,
        "tone_verdict": None,
        "suspicious_reasons": kind.reasons,
    }
    storable_row(row)
    if kind.direction == "outbound" and not auto_reply:
        row["tone_score"], row["tone_verdict"] = sent_tone(row["body_text"], config)
    return row, parsed


def _trusted(config: Config, account: str) -> tuple[str, ...]:
    for acc in config.accounts:
        if acc.name == account:
            return acc.trusted_authserv_ids
    return ()  # an import-only account name: the topmost Authentication-Results header's


def sent_tone(body: str, config: Config) -> tuple[float | None, str | None]:
    """The tone of what the seller actually wrote (the quoted original left out), so the
    history shows how the seller sounds. (None, None) when there is nothing to score."""
    from hygiene.quoting import own_text

    text = own_text(body)
    if not text:
        return None, None
    tone = config.tone
    return _scored(text[:20_000], tuple(tone.extra_aggressive), tuple(tone.extra_polite), tuple(tone.allow))


@functools.lru_cache(maxsize=64)
def _scored(text: str, extra_aggressive: tuple[str, ...], extra_polite: tuple[str, ...], allow: tuple[str, ...]) -> tuple[float | None, str | None]:
    # Sellers answer with templates: the same words scored once (a score depends on nothing
    # else). Small: a reply's text is kept for a few dozen messages at most.
    from hygiene.tone import check_tone

    result = check_tone(text, extra_aggressive=extra_aggressive, extra_polite=extra_polite, allow=allow)
    return float(result.score), result.verdict


def build_row_safely(raw: RawMessage, account: str, config: Config, now: datetime, own: frozenset[str]) -> dict[str, Any] | None:
    """:func:`build_row` that never raises: a parser bug must not stop a sync or an import,
    nor lose the message (see :func:`fallback_row`)."""
    try:
        return build_row(raw, account, config, now, own_addresses=own)[0]
    except Exception as exc:  # noqa: BLE001 - keep what can be read, with a note
        log.debug("%s UID %s: parsing failed (%s: %s); kept from its headers", raw.folder, raw.uid, exc.__class__.__name__, exc)
        return fallback_row(raw, account, config, now, exc, own)


def fallback_row(raw: RawMessage, account: str, config: Config, now: datetime, exc: Exception, own: frozenset[str]) -> dict[str, Any] | None:
    """When full parsing failed: the row the headers alone give, with a parse note; when
    even the headers fail, a row of what the server said (folder, UID, date, flags) so the
    message is never silently lost."""
    why = storable(f"{exc.__class__.__name__}: {exc}")[:300]
    header, _, _ = raw.data.partition(b"\r\n\r\n")
    try:
        row, _ = build_row(RawMessage(**{**raw.__dict__, "data": header}), account, config, now, own_addresses=own)
    except Exception as second:  # noqa: BLE001 - the headers too: keep the envelope
        return unparsed_row(raw, account, now, f"could not be parsed ({why}; headers: {second.__class__.__name__})")
    if row is None:
        return None
    row.update(
        fingerprint=fingerprint(raw.data),
        size=len(raw.data),
        parse_note=f"body could not be parsed ({why}); headers only",
    )
    return row


def unparsed_row(raw: RawMessage, account: str, now: datetime, note: str) -> dict[str, Any]:
    """A message nothing could be read from: stored as 'other' with what the server said."""
    flags, seen, answered = flag_state(raw.flags)
    return {
        "account": account, "folder": raw.folder, "uidvalidity": raw.uidvalidity, "uid": raw.uid,
        "fingerprint": fingerprint(raw.data), "source": raw.source, "message_id": None,
        "in_reply_to": None, "references": None, "from_name": None, "from_addr": None,
        "to_addrs": None, "cc_addrs": None, "subject": None, "date_header": None,
        "internal_date": raw.internal_date, "received_at": raw.internal_date or now,
        "flags": flags, "seen": seen, "answered": answered, "answered_seen_at": now if answered else None,
        "direction": "outbound" if raw.role == "sent" else "inbound", "category": "other",
        "needs_reply": False, "auto_reply": False, "body_text": "", "size": len(raw.data),
        "parse_note": note, "raw": raw.data, "stored_at": now, "tone_score": None, "tone_verdict": None,
        "suspicious_reasons": None,
    }

