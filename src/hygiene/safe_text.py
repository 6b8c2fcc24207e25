"""Mail text made safe to print on a terminal.

Subjects, names, addresses, bodies, folder names and server error text are written by
strangers. Printed raw, an escape sequence in them can clear the screen, set the clipboard
(OSC 52), plant a hyperlink (OSC 8), or a bare CR / a bidi override can make a line read as
something it is not. :func:`safe` is applied to every such piece of text on its way to a
terminal or plain output; JSON output stays exact (it is data, and ``json.dumps`` escapes
U+0000-U+001F itself).

The rules (README: "Mail text on your terminal"):

- whole escape sequences are removed: CSI (``ESC [`` … final byte), the strings OSC, DCS,
  SOS, PM and APC (``ESC ]``, ``ESC P``, ``ESC X``, ``ESC ^``, ``ESC _``) up to their end
  (BEL, ``ESC \\`` or ST), other ``ESC`` sequences (``ESC c``, ``ESC ( B``), and the same
  with 8-bit introducers (U+009B CSI, U+009D OSC, U+0090 DCS, …). A string with no end is
  removed up to the next escape, line break or the end of the text;
- other C0 controls and DEL are shown as their Unicode Control Pictures: a bare CR as ␍, a
  lone ESC as ␛, NUL as ␀; remaining C1 controls (U+0080-U+009F) and lone surrogates as �;
- line breaks (LF, CRLF, U+2028, U+2029) are kept as ``\\n`` with ``multiline=True`` and
  become a space otherwise, so a single-line field stays one line; tabs become spaces;
- bidi controls (U+202A-U+202E, U+2066-U+2069, U+200E, U+200F, U+061C) are removed, so text
  shows in the order it was written; so are the interlinear annotation marks
  (U+FFF9-U+FFFB), which some renderers use to hide text. Zero-width spaces and joiners
  (U+200B-U+200D) are kept: they hide nothing and emoji and some scripts need them.
"""

from __future__ import annotations

import re

# Escape sequences, tried at each ESC or 8-bit introducer. Strings end at BEL / ESC \ / ST,
# or (unterminated) before the next escape or line break, so nothing after them is lost.
_STRING_BODY = r"[^\x07\x1b\x9c\n\r]*(?:\x07|\x1b\\|\x9c)?"
_SEQUENCE = re.compile(
    r"(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])" + _STRING_BODY  # OSC, DCS, SOS, PM, APC
    + r"|(?:\x1b\[|\x9b)[\x30-\x3f]*[\x20-\x2f]*[\x40-\x7e]?"  # CSI: params, intermediates, final
    + r"|\x1b[\x20-\x2f]*[\x30-\x7e]"  # ESC c, ESC 7, ESC ( B, ESC \ …
)

#: any character that needs work; most text has none and is returned as it is
_NEEDS_WORK = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029\ufff9-\ufffb\ud800-\udfff]")

_REMOVED = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\ufff9\ufffa\ufffb"


def _table(*, multiline: bool) -> dict[int, str | None]:
    table: dict[int, str | None] = {c: chr(0x2400 + c) for c in range(0x20)}  # ␀ … ␟
    table[0x7F] = "\u2421"  # ␡
    table.update({c: "\ufffd" for c in range(0x80, 0xA0)})
    table.update({c: "\ufffd" for c in range(0xD800, 0xE000)})
    table.update({ord(ch): None for ch in _REMOVED})
    table[ord("\t")] = " "
    newline = "\n" if multiline else " "
    for ch in "\n\u2028\u2029":
        table[ord(ch)] = newline
    return table


_SINGLE_LINE = _table(multiline=False)
_MULTILINE = _table(multiline=True)


def safe(text: str | None, *, multiline: bool = False) -> str:
    """``text`` with nothing in it that a terminal would act on (rules: module docstring).

    Idempotent, and never raises: None is "", anything else not a string is ``str()``-ed.
    """
    if not isinstance(text, str):
        text = "" if text is None else str(text)
    if not _NEEDS_WORK.search(text):
        return text  # the common case: one scan in C
    text = _SEQUENCE.sub("", text).replace("\r\n", "\n")
    if multiline and "\t" in text:
        text = text.expandtabs(8)  # columns restart at each line break
    return text.translate(_MULTILINE if multiline else _SINGLE_LINE)

