"""The learned wording layer: a linear model over the lexicon's per-entry counts,
politeness-strategy and face-threat features and hashed character n-grams, added to the
rule score as one number ("wording overall: -8").

The weights are plain float32 arrays in ``data/learned-<language>.bin`` (written by
``scripts/train_tone.py`` with scikit-learn; read here with ``struct`` and ``array`` only: no
numpy at run time). A language without a weights file has no learned part.

File layout (little-endian): the header ``HTL1``, then ``<IIIIff``: entries, strategies,
buckets, the CRC-32 of the lexicon the entry weights were learned on (a lexicon edited since
then voids the layer until it is retrained), scale (score points per unit of the model's
log-odds), centre (the mean log-odds of the training texts, so a typical text moves nothing),
then the float32 weights of the entries, the strategies and the buckets in that order.
"""

from __future__ import annotations

import math
import re
import struct
import sys
import zlib
from array import array
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from hygiene.tone import scan

DATA = Path(__file__).parent / "data"
MAGIC = b"HTL1"
HEADER = struct.Struct("<4sIIIIff")
#: the learned part moves the score by less than this many points either way (tanh)
CLIP = 20.0
#: hashed n-gram buckets (a power of two)
BUCKETS = 1 << 18
#: character n-gram lengths per language
NGRAMS = {"en": (3, 4, 5), "ja": (1, 2, 3)}


#: politeness strategies (after Danescu-Niculescu-Mizil et al. 2013) and face threats: named,
#: so the training script's report and the README can say what each is
STRATEGIES: dict[str, tuple[tuple[str, str], ...]] = {
    "en": (
        ("please", r"\bplease\b"),
        ("please_start", r"(?:^|[.!?]\s+)please\b"),
        ("hedge", r"\b(?:i think|i believe|i guess|i suppose|i wonder|perhaps|maybe|possibly|probably|might|seems?|apparently|suggest)\b"),
        ("indirect_btw", r"\bby the way\b|\bbtw\b"),
        ("gratitude", r"\bthank(?:s| you)\b|\bappreciate"),
        ("apology", r"\bsorry\b|\bapologi|\bexcuse me\b|\bmy bad\b"),
        ("deference", r"(?:^|[.!?]\s+)(?:great|good|nice|interesting|cool|excellent|awesome|wonderful)\b"),
        ("greeting", r"(?:^|[.!?]\s+)(?:hi|hello|hey|dear|good (?:morning|afternoon|evening))\b"),
        ("praise", r"\b(?:great|excellent|wonderful|helpful|awesome|fantastic|brilliant|impressive|well done|good job)\b"),
        ("commitment", r"\b(?:i will|i'll|we will|we'll|i am going to|we are going to) (?:check|look|make sure|send|fix|update|ship|refund|replace|help|get back)"),
        ("direct_question", r"(?:^|[.!?]\s+)(?:what|why|who|how)\b"),
        ("direct_start", r"(?:^|[.!?]\s+)(?:so|then|and|but|or)\b"),
        ("counterfactual_modal", r"\b(?:could|would) you\b"),
        ("indicative_modal", r"\b(?:can|will) you\b"),
        ("first_person_start", r"(?:^|[.!?]\s+)(?:i|my|mine|myself)\b"),
        ("first_person_plural", r"\b(?:we|our|us|ours|let's)\b"),
        ("first_person", r"\b(?:i|me|my|mine|myself)\b"),
        ("second_person", r"\b(?:you|your|yours|yourself|u|ur)\b"),
        ("second_person_start", r"(?:^|[.!?]\s+)(?:you|your|u|ur)\b"),
        ("factuality", r"\b(?:really|actually|honestly|surely|clearly|obviously|in fact)\b"),
        ("question", r"\?"),
        ("exclamation", r"!"),
        ("challenge", r"\b(?:why (?:did|didn't|would|wouldn't|are|aren't|is|isn't|do|don't|does|doesn't|have|haven't|can't|won't) you|how could you|what(?:'s| is) wrong with you|did you even|who do you think)\b"),
        ("you_negative", r"\byou(?:'re| are)? (?:so |such an? |a |an )?(?:idiot|stupid|dumb|ugly|pathetic|useless|worthless|retard|loser|trash|joke|disgrace|liar|clown|hoe|bitch)"),
        ("imperative_start", r"(?:^|[.!?]\s+)(?:stop|fix|give|tell|send|answer|read|look|get|go|shut|explain|do|don't|quit|leave|learn|grow)\b"),
        ("hashtag", r"#\w"),
        ("mention", r"@\w"),
        ("disguised", r"\b\w*[a-z][*!@$#%]+[a-z]\w*|\$\$"),
    ),
    "ja": (
        ("desu_masu", r"(?:です|ます|でした|ました|ません)"),
        ("gozaimasu", r"ございま"),
        ("honorific", r"(?:いらっしゃ|おっしゃ|なさ|くださ|召し上が|ご覧|お越し|お[^\s。、]{1,6}になる)"),
        ("humble", r"(?:申し上げ|伺|いたし|致し|存じ|拝見|拝読|承|参り|おり(?:ます|まし))"),
        ("receive", r"(?:いただ|頂)"),
        ("prefix_o_go", r"(?:ご|お)(?!前)[\u4e00-\u9fff]"),  # not お前, a rude "you"
        ("gratitude", r"(?:ありがと|感謝|助かり)"),
        ("casual_thanks", r"ありがとう(?!ござ)|サンキュ|どうも"),
        ("apology", r"(?:申し訳|すみません|すいません|ごめん|失礼|お詫び)"),
        ("cushion", r"(?:恐れ入り|恐縮|お手数|差し支え|もしよろしければ|よろしければ)"),
        ("hedge", r"(?:と思い|と思う|かもしれ|でしょう|のでは|ようです|みたい)"),
        ("question_polite", r"(?:ますか|ですか|ましたか|でしたか|でしょうか)"),
        ("question", r"[?？]"),
        ("exclamation", r"[!！]"),
        ("why", r"(?:なぜ|何故|なんで|どうして)"),
        ("second_person", r"(?:あなた|貴方|君|きみ|お前|おまえ|てめ|貴様|きさま|アンタ|あんた)"),
        ("imperative", r"(?:しろ|せよ|やれ|しなさい|くれ(?:よ|。|$)|なさい)"),
        ("prohibitive_na", r"(?:する|言う|来る|見る|書く|やる|触る|ふざける)な(?:よ|[。！!\s]|$)"),
        ("plain_end", r"(?:だ|だろ|じゃん|だよ|だぞ|かよ|んだ|ねーよ|ねえよ|だな)[。！？!?\s]*$"),
        ("laugh", r"(?:笑|ｗ|w{2,}|草)"),
        ("kaomoji", r"[（(][^）)]{0,8}[´ﾟ∀ω][^）)]{0,8}[）)]"),
        ("ill_wish", r"(?:死ね|しね|氏ね|タヒね|消えろ|きえろ|失せろ|くたばれ|呪)"),
        ("insult_word", r"(?:バカ|ばか|馬鹿|アホ|あほ|クズ|くず|カス|ゴミ|ごみ|ブス|キモ|きも|ボケ|無能|低能|ガイジ)"),
        ("thanks_together", r"一緒に[^。]{0,10}(?:しよう|しましょう)"),
    ),
}




@cache
def strategy_patterns(language: str, folded: bool = False, warm: bool = False) -> tuple[re.Pattern[str], ...]:
    """The language's strategies compiled (when first asked for: start-up counts), matched
    case-insensitively; ``folded``: for lower-cased English text instead, case-sensitive, so
    cheaper to scan, with the same counts; ``warm``: with a lookahead of their first
    characters, worth its making from a process's second draft on (see
    :mod:`hygiene.tone.scan`)."""
    if folded:
        return tuple(re.compile(scan.hinted(source, re.MULTILINE) if warm else source, re.MULTILINE)
                     for _, source in STRATEGIES[language])
    return tuple(re.compile(source, re.IGNORECASE | re.MULTILINE) for _, source in STRATEGIES[language])


@dataclass(frozen=True)
class Layer:
    language: str
    entries: int
    strategies: int
    buckets: int
    #: CRC-32 of the lexicon's lines the entry weights belong to
    lexicon: int
    #: rule points per unit of log-odds
    scale: float
    #: the mean log-odds of the training texts
    centre: float
    weights: array  # float32, entries + strategies + buckets

    def dump(self) -> bytes:
        return HEADER.pack(MAGIC, self.entries, self.strategies, self.buckets, self.lexicon, self.scale, self.centre) + _little(self.weights).tobytes()


def _little(weights: array) -> array:
    if sys.byteorder == "little":
        return weights
    swapped = array("f", weights)
    swapped.byteswap()
    return swapped


def parse(data: bytes, language: str) -> Layer:
    magic, entries, strategies, buckets, lexicon, scale, centre = HEADER.unpack_from(data)
    if magic != MAGIC:
        raise ValueError(f"learned-{language}.bin: not a weights file")
    weights = array("f")
    weights.frombytes(data[HEADER.size :])
    weights = _little(weights)
    if len(weights) != entries + strategies + buckets:
        raise ValueError(f"learned-{language}.bin: {len(weights)} weights, expected {entries + strategies + buckets}")
    return Layer(language, entries, strategies, buckets, lexicon, scale, centre, weights)


#: a layer set by the bench or the training script (language → layer, or None for none)
_override: dict[str, Layer | None] = {}


@cache
def _load(language: str) -> Layer | None:
    path = DATA / f"learned-{language}.bin"
    return parse(path.read_bytes(), language) if path.exists() else None


def layer(language: str) -> Layer | None:
    """The language's learned layer (read once), or None when none ships."""
    if language in _override:
        return _override[language]
    return _load(language)


def use(language: str, value: Layer | None) -> None:
    """Score ``language`` with ``value`` (None: no learned part) until :func:`reset`."""
    _override[language] = value


def reset() -> None:
    _override.clear()


def strategy_counts(text: str, language: str, warm: bool = True) -> list[int]:
    """Each strategy's matches in ``text``; ``warm``: scan with the hinted patterns (the
    engine says when, see hygiene.tone.engine.Entry.scanner)."""
    if language == "en" and (lowered := scan.folded(text)) is not None:
        return [len(p.findall(lowered)) for p in strategy_patterns(language, folded=True, warm=warm)]
    return [len(p.findall(text)) for p in strategy_patterns(language)]


def dense(entry_counts: Mapping[int, int], strategies: Sequence[int], entries: int) -> Iterator[tuple[int, float]]:
    """(index, value) of the entry and strategy features: log2(1 + count) (diminishing)."""
    for index, count in entry_counts.items():
        if count and index < entries:
            yield index, math.log2(1 + count)
    for i, count in enumerate(strategies):
        if count:
            yield entries + i, math.log2(1 + count)


def ngrams(text: str, language: str, buckets: int = BUCKETS) -> list[int]:
    """The hashed character n-grams of ``text`` (lower-cased, spaces collapsed), CRC-32 of
    each n-gram's UTF-16 code units: the same bucket on every machine and run."""
    folded = " ".join(text.lower().split()) if language == "en" else "".join(text.split())
    data = folded.encode("utf-16-le", "surrogatepass")
    crc = zlib.crc32
    mask = buckets - 1
    size = len(data)
    out: list[int] = []
    for n in NGRAMS[language]:
        width = 2 * n
        out += [crc(data[i : i + width]) & mask for i in range(0, size - width + 1, 2)]  # a comprehension: ~2x a generator
    return out


def wording(text: str, language: str, entry_counts: Mapping[int, int], lexicon: int, warm: bool = True) -> float | None:
    """The learned part in score points (within +-CLIP), or None without a layer (or
    with one learned on another version of the lexicon, CRC-32 ``lexicon``); ``warm``: see
    :func:`strategy_counts`."""
    model = layer(language)
    if model is None or model.lexicon != lexicon:
        return None
    w = model.weights
    z = 0.0
    for index, value in dense(entry_counts, strategy_counts(text, language, warm), model.entries):
        z += w[index] * value
    offset = model.entries + model.strategies
    buckets = ngrams(text, language, model.buckets)
    if buckets:
        # fsum: exactly rounded, so the same on every Python (sum() compensates from 3.12 on)
        z += math.fsum([w[offset + bucket] for bucket in buckets]) / math.sqrt(len(buckets))
    # squashed, not cut: text unlike the training data still ranks within the +-CLIP band
    return CLIP * math.tanh(model.scale * (z - model.centre) / CLIP)
