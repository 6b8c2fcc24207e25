"""Faster scans for the tone patterns, with the same matches: a lookahead of the characters a
match can start with, and English scanned in lower case without ``re.IGNORECASE``.

Python's regex engine skips positions by itself only when a pattern starts with a literal, a
character set or a branch of literals; a pattern that starts with a lookbehind or ``\\b`` is
tried in full at every position. Case-insensitive matching costs more again: the engine's
quick "does this branch's first letter match?" test works on exact characters only, so every
branch of a case-insensitive alternation is entered at every word. Both are speed hints: when
one cannot be given, the pattern is scanned as written.
"""

from __future__ import annotations

import importlib
import re
from typing import Any

#: the standard library's regex parser (private; without it no hints are given, the matches
#: are the same)
try:
    _parser: Any = importlib.import_module("re._parser")
except ImportError:  # pragma: no cover - a Python without it scans unhinted
    _parser = None

#: a hint listing more characters than this is not worth its test
MAX_FIRSTS = 64
#: a range in a set wider than this is not listed character by character
MAX_RANGE = 128
#: Characters for which lower-casing and case-insensitive matching disagree: İ lower-cases to
#: two characters, while dotless ı and long ſ match "i" and "s" case-insensitively but stay as
#: they are in lower case. A text with one of them is scanned case-insensitively as written
#: (a test derives this list from the Unicode tables of the running Python).
FOLD_HAZARDS = "\u0130\u0131\u017f"


class _Open(Exception):
    """A pattern whose first characters are not a short list (\\w, a negated set, ...)."""


def _firsts(items: Any) -> tuple[set[str], bool]:
    """The first characters of a sequence of parsed items, and whether it can match empty."""
    chars: set[str] = set()
    for op, value in items:
        first, optional = _first(op, value)
        chars |= first
        if not optional:
            return chars, False
    return chars, True


def _first(op: Any, value: Any) -> tuple[set[str], bool]:
    p = _parser
    if op is p.LITERAL:
        return {chr(value)}, False
    if op is p.IN:
        chars: set[str] = set()
        for member, bounds in value:
            if member is p.LITERAL:
                chars.add(chr(bounds))
            elif member is p.RANGE and bounds[1] - bounds[0] <= MAX_RANGE:
                chars.update(map(chr, range(bounds[0], bounds[1] + 1)))
            else:
                raise _Open  # a category (\w, \d), a negated set or a wide range
        return chars, False
    if op is p.SUBPATTERN:
        _, add_flags, _, items = value
        if add_flags & re.IGNORECASE:
            raise _Open
        return _firsts(items)
    if op is getattr(p, "ATOMIC_GROUP", None):
        return _firsts(value)
    if op is p.BRANCH:
        chars, optional = set(), False
        for branch in value[1]:
            first, empty = _firsts(branch)
            chars |= first
            optional |= empty
        return chars, optional
    if op in (p.MAX_REPEAT, p.MIN_REPEAT, getattr(p, "POSSESSIVE_REPEAT", None)):
        least, _, items = value
        chars, optional = _firsts(items)
        return chars, optional or least == 0
    if op in (p.AT, p.ASSERT, p.ASSERT_NOT):
        return set(), True  # takes no characters: the next item's are the first
    raise _Open


def _engine_skips(items: Any) -> bool:
    """Whether the engine finds the pattern's possible starts by itself (it starts with a
    literal, a set or a branch of literals): a lookahead would only slow it down."""
    p = _parser
    while items and items[0][0] is p.SUBPATTERN:
        items = items[0][1][3]
    if not items:
        return False
    op, value = items[0]
    if op in (p.LITERAL, p.IN):
        return True
    return op is p.BRANCH and all(branch and branch[0][0] is p.LITERAL for branch in value[1])


def hinted(source: str, flags: int = 0) -> str:
    """``source`` behind a lookahead of the characters its matches start with, when the
    engine would otherwise try the whole pattern at every position (same matches: no match
    can start elsewhere). Case-sensitive patterns only."""
    if _parser is None or flags & re.IGNORECASE:
        return source
    try:
        parsed = _parser.parse(source, flags)
        if parsed.state.flags & re.IGNORECASE or _engine_skips(list(parsed)):
            return source
        chars, optional = _firsts(list(parsed))
    except Exception:  # noqa: BLE001 - a hint only: any surprise in the parser means none
        return source
    if optional or not chars or len(chars) > MAX_FIRSTS:
        return source
    return f"(?=[{''.join(re.escape(c) for c in sorted(chars))}])(?:{source})"


def foldable(source: str) -> bool:
    """Whether ``source`` (an English lexicon pattern) can be matched on lower-cased text
    without ``re.IGNORECASE``: it has no capital letter of its own (escapes aside: \\W, \\S)."""
    return not any(char.isupper() for char in re.sub(r"\\.", "", source))


def folded(text: str) -> str | None:
    """``text`` in lower case, where a case-sensitive scan of it finds exactly what a
    case-insensitive scan of ``text`` finds, at the same offsets; else None."""
    lower = text.lower()
    if len(lower) != len(text) or any(char in text for char in FOLD_HAZARDS):
        return None
    return lower
