"""Decode raw RFC 5322 bytes into the fields hygiene keeps, surviving real Japanese mail.

:func:`parse_message` never raises: whatever cannot be decoded is replaced, and the trouble
is described in ``parse_notes`` so the message is stored with what could be read. It reads
with the stdlib's ``compat32`` parser (about 0.1 ms a message here; ``policy.default`` costs
several times that) and does its own decoding on top:

- RFC 2047 encoded-words, also malformed ones (bad padding, a missing ``?=``, a multibyte
  character split across two words, unknown charsets);
- raw 8-bit headers (UTF-8, Shift_JIS, EUC-JP sent unencoded);
- ISO-2022-JP and its Microsoft variants (cp5022x), Shift_JIS as cp932, EUC-JP, UTF-8;
  wrong or missing charset labels are detected, and the guess is noted;
- HTML-only bodies turned into readable text; attachments skipped;
- a missing or invalid Date (the caller then uses INTERNALDATE); ``JST`` zones.
"""

from __future__ import annotations

import base64
import binascii
import email
import email.utils
import functools
import quopri
import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from email.message import Message
from html.parser import HTMLParser

from hygiene.language import DECODED_JAPANESE_CHAR
from hygiene.message import ParsedMessage

#: Longest body text kept (a runaway HTML newsletter must not bloat the database).
MAX_BODY_CHARS = 200_000


# -- charsets -----------------------------------------------------------------------------

#: "jis-cp932" is ISO-2022-JP read through cp932: the Microsoft variants (cp50220 family)
#: carry NEC and IBM extensions (①, ㈱, Ⅲ) that Python's iso2022 codecs reject.
_ISO2022 = ("iso2022_jp", "jis-cp932", "iso2022_jp_ext", "iso2022_jp_2", "iso2022_jp_3")
#: mail charset labels → Python codecs to try, in order (supersets first where they are safe)
_CODECS: dict[str, tuple[str, ...]] = {
    "iso-2022-jp": _ISO2022,
    "iso2022-jp": _ISO2022,
    "csiso2022jp": _ISO2022,
    "iso-2022-jp-2": ("iso2022_jp_2", *_ISO2022),
    "iso-2022-jp-3": ("iso2022_jp_3", *_ISO2022),
    "cp50220": ("jis-cp932", *_ISO2022),
    "cp50221": ("jis-cp932", *_ISO2022),
    "cp50222": ("jis-cp932", *_ISO2022),
    "shift_jis": ("cp932", "shift_jis_2004"),
    "shift-jis": ("cp932", "shift_jis_2004"),
    "sjis": ("cp932",),
    "x-sjis": ("cp932",),
    "ms_kanji": ("cp932",),
    "csshiftjis": ("cp932",),
    "windows-31j": ("cp932",),
    "cp932": ("cp932",),
    "ms932": ("cp932",),
    "euc-jp": ("euc_jp", "euc_jis_2004"),
    "x-euc-jp": ("euc_jp", "euc_jis_2004"),
    "eucjp": ("euc_jp", "euc_jis_2004"),
    "us-ascii": ("utf-8",),  # mislabelled 8-bit mail is common; ASCII is a subset anyway
    "ascii": ("utf-8",),
    "utf8": ("utf-8",),
    "unicode-1-1-utf-7": ("utf-7",),
}


def _codecs_for(label: str | None) -> tuple[str, ...]:
    if not label:
        return ()
    key = label.strip().strip('"').lower()
    return _CODECS.get(key, (key,))


def _jis_to_cp932(data: bytes) -> str:
    """ISO-2022-JP (and cp5022x: half-width katakana by ESC ( I or SO/SI) → Shift_JIS bytes
    → cp932 text. Raises UnicodeDecodeError / ValueError when the bytes make no sense."""
    out = bytearray()
    mode = "ascii"
    i = 0
    while i < len(data):
        byte = data[i]
        if byte == 0x1B:
            escape = data[i + 1 : i + 3]
            if escape in (b"$B", b"$@"):
                mode = "jis"
            elif escape in (b"(B", b"(J"):
                mode = "ascii"
            elif escape == b"(I":
                mode = "kana"
            else:
                raise ValueError("unknown escape sequence")
            i += 3
            continue
        if byte == 0x0E:
            mode, i = "kana", i + 1
            continue
        if byte == 0x0F:
            mode, i = "ascii", i + 1
            continue
        if mode == "jis" and byte not in (0x0A, 0x0D):
            if i + 1 >= len(data):
                raise ValueError("truncated double-byte character")
            j1, j2 = byte, data[i + 1]
            if not (0x21 <= j1 <= 0x7E and 0x21 <= j2 <= 0x7E):
                raise ValueError("byte outside JIS X 0208")
            s1 = (j1 + 1) // 2 + (0x70 if j1 < 0x5F else 0xB0)
            s2 = j2 + (0x1F + (j2 >= 0x60) if j1 % 2 else 0x7E)
            out += bytes((s1, s2))
            i += 2
            continue
        out.append(byte + 0x80 if mode == "kana" and 0x21 <= byte <= 0x5F else byte)
        i += 1
    return out.decode("cp932")


def _strict(data: bytes, codec: str) -> str | None:
    try:
        if codec == "jis-cp932":
            return _jis_to_cp932(data)
        return data.decode(codec)
    except (LookupError, UnicodeDecodeError, ValueError):
        return None


def decode_bytes(data: bytes, label: str | None, notes: list[str] | None = None, where: str = "body") -> str:
    """Text from ``data``: the declared charset when it fits, else a detected one (noted),
    else UTF-8 with replacement characters (noted). Never raises."""
    for codec in _codecs_for(label):
        text = _strict(data, codec)
        if text is not None:
            return text
    if data.isascii() and b"\x1b" not in data:
        return data.decode("ascii")
    guessed = _detect(data)
    if guessed is not None:
        text, codec = guessed
        if notes is not None and label:
            notes.append(f"{where}: charset {label} was wrong, decoded as {codec}")
        elif notes is not None and codec not in ("utf-8",):
            notes.append(f"{where}: no charset given, decoded as {codec}")
        return text
    if notes is not None:
        notes.append(f"{where}: undecodable bytes replaced (charset {label or 'missing'})")
    return data.decode("utf-8", "replace")


def _detect(data: bytes) -> tuple[str, str] | None:
    if b"\x1b$" in data or b"\x1b(" in data:
        for codec in _ISO2022:
            text = _strict(data, codec)
            if text is not None:
                return text, codec
    text = _strict(data, "utf-8")
    if text is not None:
        return text, "utf-8"
    # Both legacy encodings decode many byte strings; prefer the one that reads as Japanese.
    best: tuple[int, str, str] | None = None
    for codec in ("cp932", "euc_jp"):
        text = _strict(data, codec)
        if text is not None:
            score = len(DECODED_JAPANESE_CHAR.findall(text))
            if best is None or score > best[0]:
                best = (score, text, codec)
    return (best[1], best[2]) if best else None


# -- headers --------------------------------------------------------------------------------

_ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([bBqQ])\?([^?\s]*)(?:\?=|$|(?=\s))")
_FOLD = re.compile(r"\r?\n[ \t]")
_SPACE_BETWEEN_WORDS = re.compile(r"(\?=)[ \t\r\n]+(?==\?)")


def _word_bytes(encoding: str, payload: str, notes: list[str], name: str) -> bytes:
    if encoding in "bB":
        cleaned = re.sub(r"[^A-Za-z0-9+/]", "", payload)
        cleaned += "=" * (-len(cleaned) % 4)
        try:
            return base64.b64decode(cleaned)
        except (binascii.Error, ValueError):
            notes.append(f"{name}: malformed base64 encoded-word")
            return base64.b64decode(cleaned[: len(cleaned) // 4 * 4] or b"", validate=False)
    return quopri.decodestring(payload.replace("_", " ").encode("ascii", "replace"), header=True)


def decode_header_value(value: str | None, notes: list[str], name: str) -> str:
    """A header's text: raw 8-bit bytes detected, RFC 2047 words decoded (adjacent words in
    one charset joined before decoding: mailers split multibyte characters across them)."""
    if not value:
        return ""
    text = _FOLD.sub(" ", str(value))
    if _SURROGATE.search(text):  # raw 8-bit bytes kept by compat32
        text = decode_bytes(text.encode("ascii", "surrogateescape"), None, notes, name)
    if "=?" not in text:
        return text.strip()
    text = _SPACE_BETWEEN_WORDS.sub(r"\1", text)
    out: list[str] = []
    pending: list[bytes] = []
    pending_charset: str | None = None
    position = 0

    def flush() -> None:
        nonlocal pending_charset
        if pending:
            out.append(decode_bytes(b"".join(pending), pending_charset, notes, name))
            pending.clear()
        pending_charset = None

    for match in _ENCODED_WORD.finditer(text):
        between = text[position : match.start()]
        if between:
            flush()
            out.append(between)
        charset = match.group(1).split("*", 1)[0]  # RFC 2231 language suffix
        if pending and charset.lower() != (pending_charset or "").lower():
            flush()
        pending_charset = charset
        pending.append(_word_bytes(match.group(2), match.group(3), notes, name))
        if not match.group(0).endswith("?="):
            notes.append(f"{name}: unterminated encoded-word")
        position = match.end()
    flush()
    out.append(text[position:])
    return "".join(out).strip()


_SURROGATE = re.compile("[\udc80-\udcff]")
#: "Name <addr>", "<addr>" or a bare address: most mail; getaddresses() for the rest.
_SIMPLE_ADDRESS = re.compile(r'^\s*(?:"([^"\\]*)"|([^"<>,;:()@]*?))\s*<([^<>\s,;"()]+@[^<>\s,;"()]+)>\s*$|^\s*([^<>\s,;"()]+@[^<>\s,;"()]+)\s*$')


class _Headers:
    """The message's headers exactly as read, indexed once by lower-cased name (raw 8-bit
    bytes kept as surrogate escapes: compat32's get() would turn them into replacement
    characters before they can be detected)."""

    def __init__(self, msg: Message) -> None:
        self.values: dict[str, list[str]] = {}
        for key, value in msg.raw_items():
            self.values.setdefault(key.lower(), []).append(value if isinstance(value, str) else str(value))

    @classmethod
    def from_block(cls, block: str) -> _Headers | None:
        """Index a plain header block (8-bit bytes as surrogate escapes); None when a line is
        not a header (the email package then reads the message and records the defect)."""
        headers = cls.__new__(cls)
        headers.values = {}
        current: list[str] | None = None
        for line in block.split("\n"):
            line = line[:-1] if line.endswith("\r") else line
            if line[:1] in (" ", "\t"):
                if current is None:
                    return None
                current[-1] += "\r\n" + line
                continue
            name, colon, value = line.partition(":")
            if not colon or not name or name != name.strip() or " " in name:
                return None
            current = headers.values.setdefault(name.lower(), [])
            current.append(value.lstrip(" \t"))
        return headers

    def all(self, name: str) -> list[str]:
        return self.values.get(name, [])

    def first(self, name: str) -> str | None:
        found = self.values.get(name)
        return found[0] if found else None


def _addresses(headers: _Headers, name: str, notes: list[str]) -> list[tuple[str, str]]:
    values = headers.all(name.lower())
    if len(values) == 1 and "," not in values[0]:
        simple = _SIMPLE_ADDRESS.match(values[0])
        if simple:
            display = simple.group(1) if simple.group(1) is not None else (simple.group(2) or "")
            address = (simple.group(3) or simple.group(4) or "").lower()
            if _SURROGATE.search(address):
                address = address.encode("ascii", "surrogateescape").decode("utf-8", "replace")
            return [(decode_header_value(display, notes, name) if display else "", address)]
    if not values:
        return []
    try:
        pairs = email.utils.getaddresses(values)
    except Exception:  # a header the address parser chokes on: fall back to a pattern
        notes.append(f"{name}: unparseable address list")
        pairs = [("", a) for a in re.findall(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", " ".join(values))]
    found = []
    for display, address in pairs:
        address = address.strip().lower()
        if "@" not in address and not address:
            continue
        if _SURROGATE.search(address):
            address = address.encode("ascii", "surrogateescape").decode("utf-8", "replace")
        found.append((decode_header_value(display, notes, name), address))
    return found


_JST_NAMES = re.compile(r"\b(?:JST|Japan Standard Time)\b", re.IGNORECASE)


def _date(headers: _Headers, notes: list[str]) -> datetime | None:
    value = headers.first("date")
    if value is None:
        notes.append("Date: missing")
        return None
    text = _FOLD.sub(" ", str(value)).strip()
    try:
        parsed = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        notes.append("Date: invalid")
        return None
    if parsed is None:
        notes.append("Date: invalid")
        return None
    if parsed.tzinfo is None:
        # "JST" is not one of the zone names the stdlib knows; "-0000" means unknown.
        zone = timezone(timedelta(hours=9)) if _JST_NAMES.search(text) else UTC
        if zone is UTC:
            notes.append("Date: no time zone, read as UTC")
        parsed = parsed.replace(tzinfo=zone)
    try:
        return parsed.astimezone(UTC)
    except (OverflowError, ValueError):
        notes.append("Date: out of range")
        return None


# -- bodies ---------------------------------------------------------------------------------


class _HTMLText(HTMLParser):
    """HTML → readable text: block elements break lines, list items get bullets, scripts,
    styles and the head are dropped, entities are unescaped."""

    BLOCK = frozenset("p div br tr h1 h2 h3 h4 h5 h6 table ul ol blockquote section article header footer hr pre".split())
    SKIP = frozenset(("script", "style", "head", "title", "noscript"))

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0
        self.href: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            # A link's target is kept as text after it ("Sign in <https://…>"): where a link
            # really goes is what tells a forgery, and nothing shown is ever clickable.
            href = dict(attrs).get("href") or ""
            self.href = href.strip() if href.strip().lower().startswith(("http://", "https://")) else None
        if tag in self.SKIP:
            self.skipping += 1
        elif tag == "li":
            self.parts.append("\n・")
        elif tag in ("td", "th"):
            self.parts.append(" ")
        elif tag in self.BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self.href:
            if self.href not in "".join(self.parts[-3:]):
                self.parts.append(f" <{self.href}>")
            self.href = None
        if tag in self.SKIP:
            self.skipping = max(0, self.skipping - 1)
        elif tag in self.BLOCK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(data)

    def text(self) -> str:
        lines = (" ".join(line.split()) for line in "".join(self.parts).splitlines())
        return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def html_to_text(html: str) -> str:
    parser = _HTMLText()
    try:
        parser.feed(html)
        parser.close()
    except Exception:  # broken markup: strip the tags bluntly
        return re.sub(r"<[^>]*>", " ", html)
    return parser.text()


def _text_parts(msg: Message) -> tuple[Message | None, Message | None]:
    """The first text/plain and the first text/html part that are not attachments."""
    plain = html = None
    for part in msg.walk():
        if part.is_multipart():
            continue
        disposition = (part.get("Content-Disposition") or "").strip().lower()
        if disposition.startswith("attachment"):
            continue
        kind = part.get_content_type()
        if kind == "text/plain" and plain is None:
            plain = part
        elif kind == "text/html" and html is None:
            html = part
        if plain is not None:
            break
    return plain, html


def _payload(part: Message, notes: list[str], cte_header: str | None = None) -> bytes:
    cte = (cte_header if cte_header is not None else part.get("Content-Transfer-Encoding") or "").strip().lower()
    # The undecoded payload as the parser read it (8-bit bytes kept as surrogate escapes):
    # get_payload(decode=False) would already decode it with the declared, maybe wrong, charset.
    raw = getattr(part, "_payload", "")
    if not isinstance(raw, str):
        return b""
    return _transfer_decode(raw.encode("ascii", "surrogateescape"), cte, notes)


def _transfer_decode(data: bytes, cte: str, notes: list[str]) -> bytes:
    if cte == "base64":
        cleaned = re.sub(rb"[^A-Za-z0-9+/]", b"", data)
        remainder = len(cleaned) % 4
        if remainder == 1 or re.search(rb"[^A-Za-z0-9+/=\s]", data):
            notes.append("body: malformed base64, decoded what could be read")
        if remainder == 1:
            cleaned = cleaned[:-1]
        try:
            return base64.b64decode(cleaned + b"=" * (-len(cleaned) % 4))
        except (binascii.Error, ValueError):
            notes.append("body: undecodable base64")
            return b""
    if cte == "quoted-printable":
        return quopri.decodestring(data)
    return data


_CHARSET_PARAM = re.compile(r'charset\s*=\s*"?([^";\s]+)', re.IGNORECASE)


def _body(msg: Message, notes: list[str], headers: _Headers | None = None) -> str:
    if headers is not None and not msg.is_multipart():
        # One part (most notices and replies): read its headers from the index, no walk.
        kind = msg.get_content_type()
        if kind in ("text/plain", "text/html") and not (headers.first("content-disposition") or "").lower().startswith("attachment"):
            charset = _CHARSET_PARAM.search(headers.first("content-type") or "")
            text = decode_bytes(_payload(msg, notes, headers.first("content-transfer-encoding")), charset.group(1) if charset else None, notes, "body")
            return _finish(html_to_text(text) if kind == "text/html" else text, notes)
    plain, html = _text_parts(msg)
    part = plain or html
    if part is None:
        if msg.get_content_maintype() not in ("multipart", "text") and not msg.is_multipart():
            notes.append(f"body: no text part ({msg.get_content_type()})")
        elif msg.is_multipart():
            notes.append("body: no text part")
        return ""
    text = decode_bytes(_payload(part, notes), part.get_param("charset"), notes, "body")  # type: ignore[arg-type]
    if part is html:
        text = html_to_text(text)
    return _finish(text, notes)


def _finish(text: str, notes: list[str]) -> str:
    text = text.replace("\r\n", "\n")
    if len(text) > MAX_BODY_CHARS:
        notes.append(f"body: cut at {MAX_BODY_CHARS} characters")
        text = text[:MAX_BODY_CHARS]
    return text


#: Auto-replies that say so only in their words (vacation responders, and the shop templates
#: sent with no Auto-Submitted header: "受付のお知らせ" and the like). Regular expressions,
#: searched case-insensitively in the NFKC-folded subject (full-width brackets and colons
#: folded) and in the body's opening lines (see ``opening_lines``). The one list of them:
#: ``[replies] auto_reply_subjects`` / ``auto_reply_bodies`` in the config add to it.
AUTO_REPLY_SUBJECTS: tuple[str, ...] = (
    # "Automatic reply: …" (Outlook), "Auto-Reply: …", vacation and out-of-office responders
    r"^\s*(?:out of (?:the )?office|automatic reply|auto[- ]?reply|autoreply|auto[- ]?response|vacation|away from)",
    r"^\s*(?:自動返信|自動応答|自動送信メール|不在のお知らせ|不在通知|休暇のお知らせ)",
    # 【自動返信】…, [自動返信], (Auto Reply), 【自動送信メール】 opening the subject
    r"^\s*[\[【(<〈《]\s*(?:自動返信|自動応答|自動送信|auto[- ]?reply|automatic reply|auto[- ]?response|automated response)",
    # "… (自動送信メール)" closing it, unless the seller is replying to such a message
    r"^(?!\s*(?:re|返信)\s*:).*[\[【(]\s*(?:自動返信|自動送信|自動送信メール|auto[- ]?reply)\s*[\]】)]\s*$",
)
AUTO_REPLY_BODIES: tuple[str, ...] = (
    # 本メールは自動送信…, このメールは自動で送信…, このメールは送信専用アドレスから自動送信…
    r"(?:本|この)メールは[^。\n]{0,20}?自動(?:で|的に)?(?:送信|配信|返信)",
    r"this is an? (?:automated|automatic|auto-generated) (?:response|reply|message)",
    r"this (?:e-?mail|message) (?:was|is|has been) (?:sent|generated) automatically",
    r"this (?:e-?mail|message) (?:was|is|has been) automatically (?:sent|generated)",
)
#: how many of the body's first non-empty, unquoted lines count as its opening
OPENING_LINES = 5


def opening_lines(body: str) -> str:
    """The first OPENING_LINES non-empty lines that are not quoted ("> …"), NFKC-folded: where a
    template says it was sent automatically (a real reply may quote one further down)."""
    found: list[str] = []
    for line in body[:4000].splitlines():
        line = line.strip()
        if line and not line.startswith((">", "＞")):
            found.append(line)
            if len(found) == OPENING_LINES:
                break
    return unicodedata.normalize("NFKC", "\n".join(found))


@dataclass(frozen=True)
class AutoReplyText:
    """Compiled subject and body patterns of auto-replies (the defaults, plus any extra)."""

    subjects: tuple[re.Pattern[str], ...]
    bodies: tuple[re.Pattern[str], ...]
    #: a body whose start holds none of these words cannot match (empty: always look)
    body_gate: tuple[str, ...] = ()

    def matches(self, subject: str, body: str) -> bool:
        folded = unicodedata.normalize("NFKC", subject) if not subject.isascii() else subject
        if any(p.search(folded) for p in self.subjects):
            return True
        if not body:
            return False
        if self.body_gate:
            head = body[:4000]
            if not any(word in head for word in self.body_gate):  # substring scans at C speed
                return False
        opening = opening_lines(body)
        return any(p.search(opening) for p in self.bodies)


@functools.lru_cache(maxsize=8)
def auto_reply_text(extra_subjects: tuple[str, ...] = (), extra_bodies: tuple[str, ...] = ()) -> AutoReplyText:
    """The defaults and ``extra_*`` (validated regular expressions from the config), compiled
    once per process (parsing runs in worker processes)."""
    flags = re.IGNORECASE | re.MULTILINE
    # One alternation each: one scan per message instead of one per pattern (every message
    # is looked at; the patterns use no group references, so joining them changes nothing).
    return AutoReplyText(
        (re.compile("|".join(f"(?:{p})" for p in (*AUTO_REPLY_SUBJECTS, *extra_subjects)), re.IGNORECASE),),
        (re.compile("|".join(f"(?:{p})" for p in (*AUTO_REPLY_BODIES, *extra_bodies)), flags),),
        # every default body pattern says 自動 or auto…: most bodies are ruled out cheaply
        () if extra_bodies else ("自動", "auto", "Auto", "AUTO"),
    )


def _auto_reply(headers: _Headers, subject: str, body: str) -> bool:
    auto = (headers.first("auto-submitted") or "no").strip().lower()
    precedence = (headers.first("precedence") or "").strip().lower()
    return (
        auto != "no"
        or headers.first("x-autoreply") is not None
        or headers.first("x-autorespond") is not None
        or precedence == "auto_reply"
        or auto_reply_text().matches(subject, body)
    )


# -- the entry points -------------------------------------------------------------------------


def _ids(value: object) -> list[str]:
    return _FOLD.sub(" ", str(value or "")).split()


_SEPARATOR = re.compile(rb"\r?\n\r?\n")


def _single_part(raw: bytes) -> tuple[_Headers, bytes] | None:
    """Most mail Amazon sends and sellers reply with is one text part: read its header block
    and body without the email package (a third of the parsing time). None for anything
    else (multipart, an mbox "From " line, odd header lines): the full parser reads it."""
    if raw.startswith(b"From "):
        return None
    split = _SEPARATOR.search(raw)
    head, body = (raw[: split.start()], raw[split.end() :]) if split else (raw, b"")
    headers = _Headers.from_block(head.decode("ascii", "surrogateescape"))
    if headers is None:
        return None
    kind = (headers.first("content-type") or "text/plain").split(";", 1)[0].strip().lower()
    if kind not in ("text/plain", "text/html"):
        return None
    return headers, body


def _parse(raw: bytes, *, with_body: bool) -> ParsedMessage:
    notes: list[str] = []
    out = ParsedMessage(parse_notes=notes)
    if not raw.strip():
        notes.append("empty message")
        return out
    fast = _single_part(raw)
    msg: Message | None = None
    if fast is not None:
        headers, body = fast
    else:
        msg = email.message_from_bytes(raw)
        if msg.defects and any("Header" in d.__class__.__name__ for d in msg.defects):
            notes.append("headers: malformed (" + ", ".join(sorted({d.__class__.__name__ for d in msg.defects})) + ")")
        headers = _Headers(msg)
    mid = _ids(headers.first("message-id"))
    out.message_id = mid[0] if mid else None
    irt = _ids(headers.first("in-reply-to"))
    out.in_reply_to = " ".join(irt) or None
    out.references = _ids(headers.first("references"))
    senders = _addresses(headers, "From", notes)
    if senders:
        out.from_name, out.from_addr = senders[0]
    out.to_addrs = [a for _, a in _addresses(headers, "To", notes) if a]
    out.cc_addrs = [a for _, a in _addresses(headers, "Cc", notes) if a]
    out.subject = decode_header_value(headers.first("subject"), notes, "Subject")
    out.date = _date(headers, notes)
    if with_body:
        if msg is None:
            out.body_text = _single_body(headers, body, notes)
        else:
            out.body_text = _body(msg, notes, headers)
    out.auto_reply = _auto_reply(headers, out.subject, out.body_text)
    _provenance(out, headers, notes)
    return out


_DKIM_DOMAIN = re.compile(r"(?:^|;)\s*d\s*=\s*([^;\s]+)", re.IGNORECASE)
_ARC_INSTANCE = re.compile(r"^\s*i\s*=\s*\d+\s*;\s*", re.IGNORECASE)
_LINK_HOST = re.compile(r"\bhttps?://(?:[^\s/@<>\"']*@)?([^\s/:?#<>\"'\\]+)", re.IGNORECASE)


_PROVENANCE_HEADERS = frozenset(
    ("reply-to", "sender", "authentication-results", "arc-authentication-results", "dkim-signature", "received-spf")
)


def _provenance(out: ParsedMessage, headers: _Headers, notes: list[str]) -> None:
    """The headers that say where a message comes from, and its link hosts."""
    if "://" in out.body_text:
        hosts = dict.fromkeys(m.group(1).lower().rstrip(".") for m in _LINK_HOST.finditer(out.body_text))
        out.link_hosts = list(hosts)[:50]
    if _PROVENANCE_HEADERS.isdisjoint(headers.values):
        return
    out.reply_to = [a for _, a in _addresses(headers, "Reply-To", notes) if a]
    sender = _addresses(headers, "Sender", notes)
    out.sender = sender[0][1] if sender else ""
    out.auth_results = [_FOLD.sub(" ", v).strip() for v in headers.all("authentication-results")]
    out.arc_auth_results = [_ARC_INSTANCE.sub("", _FOLD.sub(" ", v)).strip() for v in headers.all("arc-authentication-results")]
    out.dkim_domains = [m.group(1).lower() for v in headers.all("dkim-signature") for m in _DKIM_DOMAIN.finditer(_FOLD.sub(" ", v))]
    out.received_spf = [_FOLD.sub(" ", v).strip() for v in headers.all("received-spf")]


def _single_body(headers: _Headers, body: bytes, notes: list[str]) -> str:
    if (headers.first("content-disposition") or "").strip().lower().startswith("attachment"):
        return ""
    content_type = headers.first("content-type") or "text/plain"
    charset = _CHARSET_PARAM.search(content_type)
    data = _transfer_decode(body, (headers.first("content-transfer-encoding") or "").strip().lower(), notes)
    text = decode_bytes(data, charset.group(1) if charset else None, notes, "body")
    if content_type.split(";", 1)[0].strip().lower() == "text/html":
        text = html_to_text(text)
    return _finish(text, notes)


def parse_message(raw: bytes) -> ParsedMessage:
    """Parse a whole message (headers and body). Never raises."""
    try:
        return _parse(raw, with_body=True)
    except Exception as exc:  # the last line of defence: keep what a header scan gives
        return _salvage(raw, exc)


def parse_headers(raw: bytes) -> ParsedMessage:
    """Parse only the header block (enough to classify). Never raises."""
    head = raw.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
    try:
        return _parse(head + b"\r\n\r\n", with_body=False)
    except Exception as exc:
        return _salvage(head, exc)


def _salvage(raw: bytes, exc: Exception) -> ParsedMessage:
    out = ParsedMessage(parse_notes=[f"unparseable message ({exc.__class__.__name__}: {exc}); kept what a header scan found"])
    head = raw[:20_000].decode("utf-8", "replace")
    for name, attr in (("Subject", "subject"), ("Message-ID", "message_id")):
        found = re.search(rf"^{name}:[ \t]*(.*)$", head, re.IGNORECASE | re.MULTILINE)
        if found:
            setattr(out, attr, found.group(1).strip())
    sender = re.search(r"^From:.*?([\w.+-]+@[\w-]+(?:\.[\w-]+)+)", head, re.IGNORECASE | re.MULTILINE)
    if sender:
        out.from_addr = sender.group(1).lower()
    return out
