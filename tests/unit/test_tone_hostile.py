"""Hostile drafts (issue 7, item 7): a draft full of findings costs work linear in its size,
an overlong draft is checked up to a cap and says so, and ``--batch`` survives any line."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hygiene.cli.tone import _batch_line
from hygiene.quoting import QUOTE_HEADER
from hygiene.tone import check_tone
from hygiene.tone.appeal import _patterns
from hygiene.tone.engine import CUT_WINDOW, MAX_CHARS, cut_at, lexicon, line_matches

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


#: hashtags split into insults and profanity in scare quotes: each a finding of its own
HOSTILE_TAGS = '#YouAreAnIdiot this "f*cking" seller #amazonsucks. '


@pytest.mark.parametrize(("unit", "kind"), [(HOSTILE_EN, "reply"), (HOSTILE_JA, "reply"), (HOSTILE_JA, "appeal"), (HOSTILE_EN, "appeal"),
                                            (HOSTILE_TAGS, "reply")])
def test_work_grows_linearly_with_the_number_of_findings(unit: str, kind: str) -> None:
    small, large = hostile(unit, 4_000), hostile(unit, 16_000)
    findings = len(check_tone(small, kind=kind).findings)
    assert findings > 200  # the draft is full of findings: each would be compared with all the others
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


def test_a_draft_is_checked_up_to_the_cap_at_a_line_end() -> None:
    draft = hostile(HOSTILE_JA, 300_000)
    result = check_tone(draft)
    checked = len(draft) - result.unchecked_chars
    assert MAX_CHARS - CUT_WINDOW < checked <= MAX_CHARS and draft[checked - 1] == "\n"
    assert all(f.end <= checked for f in result.findings) and result.verdict == "block"
    assert check_tone(draft, max_chars=None).unchecked_chars == 0
    assert check_tone(HOSTILE_EN).unchecked_chars == 0


@pytest.mark.parametrize(
    ("text", "limit", "cut"),
    [
        ("a" * 10, 4, 4),
        ("ab\ncdefgh", 6, 3),  # after the line end
        ("x" * 5 + "\U0001f468\u200d\U0001f469\u200d\U0001f467" + "y", 7, 5),  # a ZWJ family stays whole
        ("abcか\u3099d", 4, 3),  # か + combining dakuten
        ("abe\u0301f", 3, 2),  # e + combining acute
        ("ab\U0001f44d\U0001f3fdc", 3, 2),  # thumbs up + skin tone
        ("ab\U0001f1ef\U0001f1f5c", 3, 2),  # a flag: two regional indicators
        ("ab\ud83d\ude00c", 3, 2),  # a surrogate pair (text decoded with surrogatepass)
        ("abc", 5, 3),
    ],
)
def test_the_cut_never_splits_a_character(text: str, limit: int, cut: int) -> None:
    assert cut_at(text, limit) == cut
    result = check_tone(text, max_chars=limit)
    assert result.unchecked_chars == len(text) - cut


#: words and marks the lexicons and structure checks react to, to pile up in huge numbers
_HOSTILE_PIECES = st.sampled_from(
    ["ふざけるな", "バカ", "！", "？", "ー", "っ", "「", "」", ">", "\n", " ", "\u3000", "です。", "だ。", "訴えるぞ", "なぜ",
     "idiot ", "FIX ", "why did you ", "!", "?", "\"", "On Mon wrote:", "From: x", "- ", "1. ", "sorry ", "not ", "e\u0301",
     "\U0001f468\u200d", "\ud83d", "概要\n", "原因", "Hello", "aaaa"]
)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(_HOSTILE_PIECES, min_size=1, max_size=8).map("".join),
    st.integers(1, 30_000),
    st.text(max_size=50),
    st.sampled_from(["auto", "ja", "en"]),
    st.sampled_from(["reply", "appeal"]),
    st.sampled_from([MAX_CHARS, 7, 1_000]),
)
def test_never_raises_on_huge_repetitions(unit: str, times: int, tail: str, lang: str, kind: str, limit: int) -> None:
    text = unit * times + tail
    result = check_tone(text, lang, kind, max_chars=limit)
    checked = len(text) - result.unchecked_chars
    assert checked <= max(limit, 0) and 0 <= result.score <= 100
    for f in result.findings:
        assert f.end <= checked and text[f.start : f.end] == f.text


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200) | st.lists(st.sampled_from([b"{", b"}", b"[", b"]", b'"id"', b'"text"', b'"lang"', b'"kind"', b":", b",", b'"x"', b"1", b"null", b"\xff", b"\xe3\x81", b'"ja"', b'"\\ud800"']), max_size=40).map(b"".join))
def test_a_batch_line_of_any_bytes_gets_a_record(raw: bytes) -> None:
    record = _batch_line(3, raw, "auto", "reply", {"extra_aggressive": (), "extra_polite": (), "allow": ()}, check_tone)
    assert "id" in record and ("error" in record) != ("score" in record)
    json.dumps(record, ensure_ascii=False)


def _dev_texts() -> list[str]:
    folder = Path(__file__).parents[1] / "data" / "tone"
    return [json.loads(line)["text"] for name in ("dev-en.jsonl", "dev-ja.jsonl", "appeals.jsonl")
            for line in (folder / name).read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.mark.parametrize("language", ["en", "ja"])
def test_patterns_sped_up_at_compile_find_what_the_lexicon_says(language: str) -> None:
    """The lexicon's patterns are compiled with a cheap test in front (a lookbehind or a
    lookahead of first characters), and English ones also for lower-cased text; the matches
    must be those of the pattern as written, on the text as written."""
    import re

    from hygiene.tone import scan
    from hygiene.tone.engine import DATA, _alternatives

    assert _alternatives(r"\ba|(b|c)|[|]|\\|x\|y|[]|]z") == [r"\ba", "(b|c)", "[|]", "\\\\", r"x\|y", "[]|]z"]
    texts = _dev_texts() + [HOSTILE_EN * 3, HOSTILE_JA * 3, "Yes. No, that is wrong; you idiot. しね。安いしね。中国人は汚い。"]
    texts += [text.upper() for text in texts]
    rows = [line.split("\t") for line in (DATA / f"{language}.tsv").read_text(encoding="utf-8").splitlines()
            if line.strip() and not line.startswith("#")]
    changed = folded = 0
    for entry, row in zip(lexicon(language), rows, strict=True):
        if not row[2].startswith("re:"):
            continue
        written = re.compile(row[2][3:], re.IGNORECASE | re.MULTILINE if language == "en" else re.MULTILINE)
        scanners = [entry.pattern, entry.scanner(warm=True)]
        if entry.folded_source is not None:
            folded += 1
            scanners += [entry.scanner(folded=True), entry.scanner(folded=True, warm=True)]
        changed += any(pattern.pattern != written.pattern for pattern in scanners)
        for text in texts:
            expected = [m.span() for m in written.finditer(text)]
            lowered = scan.folded(text)
            for pattern in scanners:
                scanned = lowered if pattern.flags & re.IGNORECASE == 0 and language == "en" else text
                if scanned is not None:
                    assert [m.span() for m in pattern.finditer(scanned)] == expected, (entry.id, pattern.pattern)
    assert changed >= 5
    assert folded >= 50 if language == "en" else folded == 0
