"""Hostile drafts (issue 7, item 7): a draft full of findings costs work linear in its size,
an overlong draft is checked up to a cap and says so, and ``--batch`` survives any line."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hygiene.mail.quoting import QUOTE_HEADER
from hygiene.tone import check_tone
from hygiene.tone.appeal import _patterns
from hygiene.tone.engine import lexicon, line_matches

TONE_SOURCES = str(Path(check_tone.__code__.co_filename).parent)

#: one unit of each language dense with findings (insults, threats, demands, accusing
#: questions, emotional typography, capitals), repeated to any size
HOSTILE_EN = "You idiots!!! This is UNACCEPTABLE. Why did you cancel my order? Fix this now or I will sue you. "
HOSTILE_JA = "ふざけるな！！なぜ返金しないのですか？？バカか。すぐに返金しろ。訴えるぞ。\n"


def hostile(unit: str, size: int) -> str:
    return (unit * (size // len(unit) + 1))[:size]


class _OverBudget(Exception):
    pass


def work(run: Callable[[], Any], budget: int | None = None) -> int:
    """Python lines executed in the tone package while ``run()`` runs: a deterministic
    measure of the scorer's work (timings on a shared machine are not). Past ``budget``
    lines it stops, so a quadratic step fails the test quickly instead of hanging it."""
    count = 0

    def local(frame: FrameType, event: str, arg: object) -> Any:
        nonlocal count
        if event == "line":
            count += 1
            if budget is not None and count > budget:
                raise _OverBudget(f"more than {budget} lines")
        return local

    def calls(frame: FrameType, event: str, arg: object) -> Any:
        return local if frame.f_code.co_filename.startswith(TONE_SOURCES) else None

    previous = sys.gettrace()
    sys.settrace(calls)
    try:
        run()
    finally:
        sys.settrace(previous)
    return count


@pytest.mark.parametrize(("unit", "kind"), [(HOSTILE_EN, "reply"), (HOSTILE_JA, "reply"), (HOSTILE_JA, "appeal"), (HOSTILE_EN, "appeal")])
def test_work_grows_linearly_with_the_number_of_findings(unit: str, kind: str) -> None:
    small, large = hostile(unit, 4_000), hostile(unit, 16_000)
    findings = len(check_tone(small, kind=kind).findings)
    assert findings > 250  # the draft is full of findings: each would be compared with all the others
    base = work(lambda: check_tone(small, kind=kind))
    # 4x the text and findings: linear work is ~4x, the old pairwise scan was ~15x
    ratio = work(lambda: check_tone(large, kind=kind), budget=6 * base) / base
    assert ratio < 6, ratio


_LINE_ALPHABET = st.sampled_from(["\n", " ", "\t", "\u3000", "x", "Hello", "hey", "dear", "- ", "1. ", "・", "On Mon ", "wrote:", "From: a", "2026年11月19日 10:00 ", ":", "----- Original Message -----", "_" * 10, "さんは書きました:"])


@settings(max_examples=300, deadline=None)
@given(st.lists(_LINE_ALPHABET, max_size=30).map("".join))
def test_line_matches_finds_what_finditer_finds(text: str) -> None:
    patterns = [QUOTE_HEADER, _patterns("en")["points"], _patterns("ja")["points"]]
    patterns += [e.pattern for e in lexicon("en") if e.pattern.pattern.startswith("^\\s*")]
    assert len(patterns) >= 5
    for pattern in patterns:
        assert [m.span() for m in line_matches(pattern, text)] == [m.span() for m in pattern.finditer(text)], pattern.pattern


@pytest.mark.parametrize(
    "text",
    ["\n" * 100_000, " \n" * 50_000, "「あ" * 50_000, "「" * 100_000, " " * 100_000, "！" * 100_000, "PLAN OF ACTION\n" * 6_000],
    ids=["blank-lines", "space-lines", "unclosed-kagi", "kagi", "spaces", "exclamations", "headings"],
)
def test_degenerate_drafts_take_no_time(text: str) -> None:
    """Shapes that made a regex or a per-line step rescan the rest of the text (minutes at
    this size before); the bound is generous for a shared machine, the work is ~0.1 s."""
    for kind in ("reply", "appeal"):
        started = time.perf_counter()
        check_tone(text, kind=kind)
        assert time.perf_counter() - started < 5
