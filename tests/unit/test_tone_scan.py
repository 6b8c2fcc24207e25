"""The tone patterns' speed hints (hygiene.tone.scan) change no match: a lookahead of first
characters, and English scanned lower-cased without re.IGNORECASE."""

from __future__ import annotations

import re
import sys
from unittest import mock

from hypothesis import given, settings
from hypothesis import strategies as st

from hygiene.tone import check_tone, learned, scan
from hygiene.tone.engine import lexicon


def test_a_lookahead_goes_only_where_the_engine_has_no_first_characters_of_its_own() -> None:
    assert scan.hinted(r"(?<![ぱパ])ちんこ|チンコ") == r"(?=[ちチ])(?:(?<![ぱパ])ちんこ|チンコ)"
    assert scan.hinted(r"\b(?:idiot|moron)s?\b") == r"(?=[im])(?:\b(?:idiot|moron)s?\b)"
    assert scan.hinted(r"(?:^|[.!?]\s+)please\b", re.MULTILINE) == r"(?=[!\.\?p])(?:(?:^|[.!?]\s+)please\b)"
    # the engine skips to a literal, a set or a branch of literals by itself
    assert scan.hinted("ちんこ|チンコ") == "ちんこ|チンコ"
    assert scan.hinted("[ab]c") == "[ab]c"
    # no short list of first characters: \w, a negated set, something that may match empty
    for source in (r"\bidiot|\w+", r"(?<!x)[^a]b", r"\ba?", r"\b(?i:idiot)"):
        assert scan.hinted(source) == source
    assert scan.hinted(r"\bidiot", re.IGNORECASE) == r"\bidiot"


def test_fold_hazards_are_every_character_where_lower_case_and_ignorecase_disagree() -> None:
    """Derived from the running Python's Unicode tables: for a character whose lower case is
    one character, matching it case-insensitively against any ASCII letter, and \\w, \\d and
    \\s, must agree with its lower case, or it is listed as a hazard."""
    letters = "abcdefghijklmnopqrstuvwxyz"
    everything = "".join(chr(c) for c in range(sys.maxunicode + 1) if not 0xD800 <= c <= 0xDFFF)
    hazards = set()
    # characters that match some ASCII letter case-insensitively
    for m in re.finditer(f"[{letters}]", everything, re.IGNORECASE):
        char = m.group(0)
        lower = char.lower()
        if len(lower) != 1 or lower not in letters or not re.fullmatch(lower, char, re.IGNORECASE):
            hazards.add(char)
    # characters that lower-case to an ASCII letter must match it case-insensitively
    for char in everything:
        lower = char.lower()
        if len(lower) != 1:
            hazards.add(char)
        elif lower in letters and not re.fullmatch(lower, char, re.IGNORECASE):
            hazards.add(char)
    # lower-casing keeps a character's class
    changed = "".join(c for c in everything if len(c.lower()) == 1 and c.lower() != c)
    lowered = changed.lower()
    for category in (r"\w", r"\d", r"\s"):
        pattern = re.compile(category)
        hazards |= {c for c, low in zip(changed, lowered, strict=True) if bool(pattern.match(c)) != bool(pattern.match(low))}
    assert hazards == set(scan.FOLD_HAZARDS)


def test_folded_text_is_the_lower_case_only_when_it_keeps_every_offset() -> None:
    assert scan.folded("You IDIOT, Kelvin \u212a") == "you idiot, kelvin k"
    assert scan.folded("\u0130stanbul") is None  # İ lower-cases to two characters
    assert scan.folded("fu\u017fe") is None  # long s matches "s" case-insensitively only


#: letters that make case matching interesting, lexicon words, punctuation and Japanese
_TEXT = st.lists(
    st.sampled_from([
        "You", "IDIOT", "idiot", "Stupid", "MORON", "please", "Please", "THANK YOU", "thanks", "sorry", "why did you",
        "Why Did You", "I WILL SUE", "lawyer", "f*ck", "SH!T", "a$$", "great, another", "Great, another", "refund",
        "K", "\u212a", "\u0130", "\u0131", "\u017f", "\u00df", "\u00c9", "\u1e9e", "Σ", "ς", " ", "  ", "\n", "\n\n",
        ".", "!", "?", ",", "'", "\"", "“", "”", "#YouAreAnIdiot", "@you", "バカ", "しね", "です。", "お前", "ください",
    ]),
    max_size=40,
).map("".join)


@settings(max_examples=200, deadline=None)
@given(_TEXT)
def test_english_scanned_lower_cased_finds_what_a_case_insensitive_scan_finds(text: str) -> None:
    lowered = scan.folded(text)
    for entry in lexicon("en"):
        if entry.folded_source is not None and lowered is not None:
            expected = [m.span() for m in entry.pattern.finditer(text)]
            for warm in (False, True):
                assert [m.span() for m in entry.scanner(folded=True, warm=warm).finditer(lowered)] == expected, entry.id
    if lowered is not None:
        expected_counts = [len(p.findall(text)) for p in learned.strategy_patterns("en")]
        for warm in (False, True):
            assert [len(p.findall(lowered)) for p in learned.strategy_patterns("en", folded=True, warm=warm)] == expected_counts


@settings(max_examples=100, deadline=None)
@given(_TEXT)
def test_the_whole_check_is_the_same_with_and_without_the_lower_cased_scan(text: str) -> None:
    fast = check_tone(text, "en")
    with mock.patch.object(scan, "folded", lambda text: None):
        slow = check_tone(text, "en")
    assert fast == slow
