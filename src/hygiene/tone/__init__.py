"""Pre-send tone check of a draft to Amazon (Japanese and English).

``check_tone(text)`` returns a 0-100 score, a verdict (ok / review / block) and findings with
the exact passages and suggested rewordings. Stdlib only: safe to import on the fast path of
``hygiene tone``.
"""

from hygiene.tone.engine import check_tone, detect_language
from hygiene.tone.model import Finding, ToneResult

__all__ = ["Finding", "ToneResult", "check_tone", "detect_language"]
