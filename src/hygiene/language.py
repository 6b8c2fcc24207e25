"""What Japanese text looks like: one definition of the script for the charset guesser (mail
parsing), the tone checker's language detection and the demo."""

from __future__ import annotations

import re
from typing import Literal

Language = Literal["ja", "en"]

_KANA_KANJI = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff"  # kana, CJK extension A, CJK ideographs
_FULLWIDTH_FORMS = "\uff01-\uff5e"  # ！（）Ａ１ …
_HALFWIDTH_KANA = "\uff66-\uff9f"

#: A character of Japanese text.
JAPANESE_CHAR = re.compile(f"[{_KANA_KANJI}{_FULLWIDTH_FORMS}{_HALFWIDTH_KANA}]")
#: The same without halfwidth kana: what scores a decoding of Japanese mail, since UTF-8 or
#: EUC-JP bytes read as Shift_JIS come out as runs of halfwidth kana.
DECODED_JAPANESE_CHAR = re.compile(f"[{_KANA_KANJI}{_FULLWIDTH_FORMS}]")
_LETTER = re.compile(r"[A-Za-z]")


def detect_language(text: str) -> Language:
    """"ja" when Japanese characters are at least a sixth as many as Latin letters (in the
    first 4,000 characters: "ASIN B0123 の在庫について" is Japanese), else "en"."""
    japanese = len(JAPANESE_CHAR.findall(text[:4000]))
    latin = len(_LETTER.findall(text[:4000]))
    return "ja" if japanese and japanese * 3 >= latin * 0.5 else "en"
