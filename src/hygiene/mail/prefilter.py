"""The header prefilter: a new message's From/To/Cc/Subject, read cheaply, decide whether its
body is worth fetching at all (a superset of what classification keeps: the full parse decides)."""

from __future__ import annotations

import re
from collections.abc import Callable

from hygiene.config import Config
from hygiene.mail import parse

_ADDRESS = re.compile(rb"[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)*")
_FIELD = re.compile(rb"^(from|to|cc|subject|reply-to|sender):[ \t]*(.*(?:\r?\n[ \t].*)*)", re.IGNORECASE | re.MULTILINE)


def subject_matters(config: Config, sender: str) -> bool:
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
