"""safe(): mail text a terminal cannot act on, one attack class at a time, then properties."""

from __future__ import annotations

import re
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hygiene.safe_text import safe

#: what must never reach a terminal: C0 (LF aside), DEL, C1, bidi controls, lone surrogates
FORBIDDEN = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("\x1b[2J\x1b[HYour account", "Your account"),  # clear screen, cursor home
        ("\x1b[?1049hhidden", "hidden"),  # private CSI (alternate screen)
        ("a\x1b]52;c;ZWNobyBwd25lZA==\x07b", "ab"),  # OSC 52: set the clipboard (BEL)
        ("a\x1b]52;c;ZWNobyBwd25lZA==\x1b\\b", "ab"),  # ... ended by ESC \
        ("\x1b]8;;https://evil.example/\x1b\\Seller Central\x1b]8;;\x1b\\", "Seller Central"),  # OSC 8 link
        ("\x9b2J\x9b31mred", "red"),  # 8-bit CSI
        ("\x9d52;c;eA==\x9cok", "ok"),  # 8-bit OSC ended by 8-bit ST
        ("\x1bP+q544e\x1b\\x", "x"),  # DCS (terminal query)
        ("\x1b_apc\x1b\\\x1b^pm\x1b\\\x1bXsos\x1b\\x", "x"),  # APC, PM, SOS
        ("\x1bcreset", "reset"),  # ESC c: full reset
        ("\x1b(Bx\x1b7y\x1b8", "xy"),  # charset, save / restore cursor
        ("end\x1b", "end␛"),  # unterminated at the end: a lone ESC is shown
        ("end\x1b[12", "end"),  # CSI cut short
        ("end\x1b]52;c;abc", "end"),  # OSC with no terminator
        ("Order shipped\rACCOUNT SUSPENDED", "Order shipped␍ACCOUNT SUSPENDED"),  # bare CR overwrite
        ("invoice\u202efdp.exe", "invoicefdp.exe"),  # right-to-left override
        ("\u2066a\u2069\u200e\u200f\u061c\u202a\u202c", "a"),  # isolates and marks
        ("nul\x00bell\x07bs\x08del\x7f", "nul␀bell␇bs␈del␡"),
        ("c1\x85\x8d", "c1\ufffd\ufffd"),  # NEL, reverse index
        ("line one\nline two\r\nthree\u2028four", "line one line two three four"),
        ("a\tb", "a b"),
        ("lone \udc80 surrogate", "lone \ufffd surrogate"),
        ("annot\ufff9hidden\ufffbx", "annothiddenx"),
    ],
)
def test_each_attack_is_neutralised(raw: str, shown: str) -> None:
    assert safe(raw) == shown


def test_ordinary_text_is_unchanged() -> None:
    for text in (
        "【重要】アカウント健全性に関する重要なお知らせ",
        "ご注文番号 249-1234567-7654321 の件について（至急）",
        "Where is my order? 😀 👨‍👩‍👧 café",  # ZWJ kept: emoji need it
        "山田 太郎 <a1b2c3@marketplace.amazon.co.jp>",
        "",
    ):
        assert safe(text) == text
        assert safe(text, multiline=True) == text


def test_multiline_keeps_lines_and_expands_tabs() -> None:
    body = "いつもお世話になっております。\r\n\r\nItem\tQty\n\x1b[31mred\x1b[0m\rSUSPENDED\u2029end"
    assert safe(body, multiline=True) == "いつもお世話になっております。\n\nItem    Qty\nred␍SUSPENDED\nend"


def test_none_and_non_strings() -> None:
    assert safe(None) == ""
    assert safe(42) == "42"  # type: ignore[arg-type]


def test_fast_on_ordinary_rows() -> None:
    row = "a1b2c3@marketplace.amazon.co.jp  ご注文 249-1234567-7654321 について" * 2
    started = time.perf_counter()
    for _ in range(100_000):
        safe(row)
    assert time.perf_counter() - started < 1.0  # well under 10 µs a field


@settings(max_examples=500, deadline=None)
# every code point, surrogates included (str from surrogateescape can hold them)
@given(st.text(alphabet=st.characters(exclude_categories=()), max_size=80), st.booleans())
def test_properties(text: str, multiline: bool) -> None:
    out = safe(text, multiline=multiline)
    assert not FORBIDDEN.search(out)
    assert multiline or "\n" not in out
    assert safe(out, multiline=multiline) == out


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(["\x1b", "[", "]", "P", "\\", "\x07", "\x9b", "\x9c", "\x9d", "\r", "\n", "2J", "52;c;", "a", "日", "\u202e", "\t"]), max_size=30))
def test_properties_on_escape_soup(parts: list[str]) -> None:
    text = "".join(parts)
    for multiline in (False, True):
        out = safe(text, multiline=multiline)
        assert not FORBIDDEN.search(out)
        assert safe(out, multiline=multiline) == out
