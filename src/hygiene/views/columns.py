"""Text in terminal columns: widths, clipping and padding by display width (``wcwidth``), not
by code points, so that Japanese subjects and names (two columns a character) line up with
ASCII ones in the lists of ``check``, ``show``, ``messages`` and ``status``.

Mail text goes through :func:`hygiene.safe_text.safe` first (:func:`mail_cell` does both):
what reaches these functions has no control characters left."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

from hygiene.safe_text import safe

ELLIPSIS = "…"


def char_width(ch: str) -> int:
    """Columns one character takes: 2 for wide East Asian, 0 for combining marks and
    zero-width characters, 1 otherwise (a control character, which safe text has none of,
    counts 1)."""
    w = _wcwidth()(ch)
    return 1 if w < 0 else w


@cache
def _wcwidth() -> Callable[[str], int]:
    # imported at the first non-ASCII text (about 15 ms): ASCII-only output never pays it
    from wcwidth import wcwidth

    return wcwidth


def width(text: str) -> int:
    """The terminal columns ``text`` takes."""
    if text.isascii():
        return len(text)
    return sum(char_width(ch) for ch in text)


def clip(text: str, columns: int) -> str:
    """``text`` cut to at most ``columns`` columns, ending in "…" when cut (a wide character
    that would straddle the edge is left out whole)."""
    if width(text) <= columns:
        return text
    if columns <= 0:
        return ""
    out: list[str] = []
    used = 0
    for ch in text:
        w = char_width(ch)
        if used + w > columns - 1:
            break
        out.append(ch)
        used += w
    return "".join(out) + ELLIPSIS


def pad(text: str, columns: int) -> str:
    """``text`` followed by spaces up to ``columns`` columns (left-aligned, like ``ljust``)."""
    return text + " " * max(0, columns - width(text))


def pad_left(text: str, columns: int) -> str:
    """Spaces, then ``text``, to ``columns`` columns (right-aligned, like ``rjust``)."""
    return " " * max(0, columns - width(text)) + text


def cell(text: str, columns: int) -> str:
    """``text`` clipped and padded to exactly ``columns`` columns: one column of a table."""
    return pad(clip(text, columns), columns)


def one_line(text: str | None) -> str:
    """Mail text made safe to print, on one line with its runs of spaces folded."""
    return " ".join(safe(text).split())


def mail_cell(text: str | None, columns: int, *, fill: bool = True) -> str:
    """Mail text made safe, on one line, clipped to ``columns`` columns and (``fill``) padded
    to them; the last column of a line need not be filled."""
    clipped = clip(one_line(text), columns)
    return pad(clipped, columns) if fill else clipped
