"""Decode raw RFC 5322 bytes into the fields hygiene keeps.

:func:`parse_message` never raises: whatever cannot be decoded is replaced, and the trouble
is described in ``parse_notes`` so the message is stored with what could be read.
"""

from __future__ import annotations

import email
import email.utils
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.header import decode_header, make_header
from email.message import Message


@dataclass
class ParsedMessage:
    message_id: str | None = None
    in_reply_to: str | None = None
    references: list[str] = field(default_factory=list)
    from_name: str = ""
    from_addr: str = ""
    to_addrs: list[str] = field(default_factory=list)
    cc_addrs: list[str] = field(default_factory=list)
    subject: str = ""
    #: the Date header in UTC, None when missing or unparseable
    date: datetime | None = None
    body_text: str = ""
    #: Auto-Submitted (not "no"), X-Autoreply, Precedence: auto_reply, vacation responders
    auto_reply: bool = False
    parse_notes: list[str] = field(default_factory=list)

    @property
    def parse_note(self) -> str | None:
        return "; ".join(self.parse_notes) if self.parse_notes else None


def _header(msg: Message, name: str, notes: list[str]) -> str:
    value = msg.get(name)
    if value is None:
        return ""
    try:
        return str(make_header(decode_header(str(value))))
    except Exception as exc:  # malformed encoded-words: keep the raw text
        notes.append(f"{name}: undecodable header ({exc.__class__.__name__})")
        return str(value)


def parse_message(raw: bytes) -> ParsedMessage:
    """Parse a whole message (headers and body). Never raises."""
    notes: list[str] = []
    msg = email.message_from_bytes(raw)
    out = ParsedMessage(parse_notes=notes)
    out.message_id = (msg.get("Message-ID") or "").strip() or None
    out.in_reply_to = (msg.get("In-Reply-To") or "").strip() or None
    out.references = (msg.get("References") or "").split()
    name, addr = email.utils.parseaddr(_header(msg, "From", notes))
    out.from_name, out.from_addr = name, addr.lower()
    out.to_addrs = [a.lower() for _, a in email.utils.getaddresses(msg.get_all("To", [])) if a]
    out.cc_addrs = [a.lower() for _, a in email.utils.getaddresses(msg.get_all("Cc", [])) if a]
    out.subject = _header(msg, "Subject", notes)
    try:
        out.date = email.utils.parsedate_to_datetime(msg.get("Date", "")).astimezone(UTC)
    except (TypeError, ValueError):
        notes.append("Date: missing or invalid")
    body = msg.get_body() if hasattr(msg, "get_body") else None  # compat32 has none
    part = body or next((p for p in msg.walk() if p.get_content_type() == "text/plain"), msg)
    payload = part.get_payload(decode=True) or b""
    charset = part.get_content_charset() or "utf-8"
    try:
        out.body_text = payload.decode(charset)
    except (LookupError, UnicodeDecodeError):
        out.body_text = payload.decode("utf-8", "replace")
        notes.append(f"body: could not decode as {charset}")
    auto = (msg.get("Auto-Submitted") or "no").strip().lower()
    out.auto_reply = auto != "no" or msg.get("X-Autoreply") is not None or (
        (msg.get("Precedence") or "").strip().lower() == "auto_reply"
    )
    return out
