"""The tone scorer: lexicons and patterns (package data) over the text, a few structural
signals (emotional typography, plain forms mixed into polite Japanese, overlong sentences),
then one 0-100 score and a verdict.

Kept free of heavy imports (stdlib only): ``hygiene tone`` must start in well under 150 ms.
"""

from __future__ import annotations

import bisect
import itertools
import re
import unicodedata
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from hygiene.language import detect_language
from hygiene.quoting import QUOTE_HEADER
from hygiene.tone import learned, scan
from hygiene.tone.model import (
    POLITE_KINDS,
    SENTENCE,
    Finding,
    Kind,
    Language,
    ToneResult,
    Verdict,
    line_column,
)

DATA = Path(__file__).parent / "data"

#: A message with neither politeness markers nor harms scores this.
BASELINE = 66.0
#: Politeness can add at most this much.
POLITE_CAP = 34.0
#: Verdict thresholds on the score.
BLOCK_BELOW = 30
REVIEW_BELOW = 60
#: A repeated courtesy (the same marker again) counts this share of its weight, halving each time.
REPEAT_FACTOR = 0.5
#: A harm at least this heavy makes the verdict at least "review".
REVIEW_WEIGHT = 10.0
#: A draft is not a book: only its first this many characters are checked, the rest is
#: reported as unchecked (a pasted log or a runaway file must not take minutes).
MAX_CHARS = 100_000
#: The cut is made after a line end when one is this close before the limit.
CUT_WINDOW = 2_000
#: Kinds that make a draft unsendable whatever else it says.
BLOCKING_KINDS = ("insult", "threat")

#: The lexicon's 7th column: comma-separated flags of an entry (see Entry)
ENTRY_FLAGS = frozenset({"unnegatable", "sarcasm"})

#: Courtesies that count nothing in a sarcastic draft ("Thanks so much, really helpful.")
SARCASM_VOIDS = ("gratitude", "polite_form", "cushion")

#: Harms that a negation just before them cancels ("this is not unacceptable").
NEGATABLE = ("insult", "threat", "demand", "complaint", "accusing_question")

_ACRONYMS = frozenset(
    "ASIN FBA FBM SKU URL ID USA UK EU JP PDF CSV FAQ API SMS EMAIL OK UPS DHL USPS FEDEX VAT GST "
    "TAX IMAP HTML ISBN UPC EAN GTIN LLC INC LTD CEO CFO COO CTO IP POA QA TV PC USB AM PM EST PST "
    "UTC JST ETA TBD AMZ AWS NASA DVD CD LED AC DC FYI ASAP".split()
)


@dataclass(frozen=True)
class Entry:
    kind: str
    weight: float
    #: the pattern's regular expression and flags, as the lexicon line gives them (compiled
    #: when first asked for: start-up counts, see :meth:`scanner`)
    source: str
    flags: int
    message: str
    suggestion: str | None
    #: literals one of which must be in the text for the pattern to match (optional 6th
    #: column, "|"-separated): a cheap test before a pattern that is costly to scan
    gate: tuple[str, ...] = ()
    #: whether a negation before the match cancels it: "not unacceptable" does, but no
    #: negation makes profanity businesslike ("ain't no b…"); 7th column "unnegatable"
    negatable: bool = True
    #: where it is written: "<language>.tsv:<line>" (reported as the finding's "entry")
    id: str = ""
    #: its position in the lexicon (the learned layer's feature index)
    index: int = 0
    #: sarcasm ("Great, another week without a refund"): the draft's thanks, praise and
    #: cushions count nothing, they read as part of the sneer; 7th column "sarcasm"
    sarcasm: bool = False
    #: the same pattern for lower-cased English text, case-sensitive (None when the pattern
    #: has capitals of its own, and for Japanese): see :mod:`hygiene.tone.scan`
    folded_source: str | None = None
    _compiled: dict[tuple[bool, bool], re.Pattern[str]] = field(default_factory=dict, compare=False, repr=False)

    @property
    def pattern(self) -> re.Pattern[str]:
        """The pattern for the text as written."""
        return self.scanner()

    def scanner(self, folded: bool = False, warm: bool = False) -> re.Pattern[str]:
        """The pattern to scan with, the same matches either way: for the lower-cased text
        (``folded``, English) or the text as written; with a lookahead of its first characters
        once the process has checked a draft before (``warm``): making the hint costs more
        than it saves on one draft, and a ``hygiene tone`` run checks one."""
        key = (folded, warm)
        compiled = self._compiled.get(key)
        if compiled is None:
            source, flags = (self.folded_source or "", re.MULTILINE) if folded else (self.source, self.flags)
            compiled = self._compiled[key] = re.compile(scan.hinted(source, flags) if warm else source, flags)
        return compiled


def _alternatives(source: str) -> list[str]:
    """A regular expression's top-level alternatives (``a|(b|c)|[|]`` → ``a``, ``(b|c)``, ``[|]``)."""
    parts, depth, start, i, in_class = [], 0, 0, 0, False
    while i < len(source):
        char = source[i]
        if char == "\\":
            i += 2
            continue
        if in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
            if source[i + 1 : i + 2] == "]" or source[i + 1 : i + 3] == "^]":
                i += 2 if source[i + 1] == "]" else 3  # a "]" right after "[" or "[^" is a member
                continue
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "|" and depth == 0:
            parts.append(source[start:i])
            start = i + 1
        i += 1
    parts.append(source[start:])
    return parts


def _compile(language: str, raw: str) -> tuple[str, int, str | None]:
    """The entry's regular expression and flags, and for English the same for lower-cased
    text (None when the pattern has capitals of its own): see :mod:`hygiene.tone.scan`."""
    if raw.startswith("re:"):
        source = raw[3:]
        # Same matches, found several times faster: the engine rejects most positions on a
        # cheap test before trying the alternation there.
        if language == "en" and all(part.startswith("\\b") for part in _alternatives(source)):
            source = rf"(?<!\w)(?:{source})"  # every alternative starts at a word start
    else:
        source = re.escape(raw)
        if language == "en":
            source = rf"\b{source}\b"
    if language == "ja":
        return source, re.MULTILINE, None
    return source, re.IGNORECASE | re.MULTILINE, source if scan.foldable(source) else None


#: how many drafts this process has checked (see Entry.scanner: hints from the second on, for
#: the lexicon's patterns and the learned layer's strategies alike)
_checked = [0]


@cache
def lexicon(language: str) -> tuple[Entry, ...]:
    """The language's entries from ``data/<language>.tsv`` (read once)."""
    entries: list[Entry] = []
    for number, line in enumerate((DATA / f"{language}.tsv").read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.split("\t")
        if len(parts) < 3:
            raise ValueError(f"{language}.tsv:{number}: expected kind, weight, pattern[, message, suggestion]")
        kind, weight, pattern = parts[0], float(parts[1]), parts[2]
        message = parts[3] if len(parts) > 3 and parts[3] else ""
        suggestion = parts[4] if len(parts) > 4 and parts[4] else None
        gate = tuple(parts[5].split("|")) if len(parts) > 5 and parts[5] else ()
        flags = set(parts[6].split(",")) if len(parts) > 6 and parts[6] else set()
        if unknown := flags - ENTRY_FLAGS:
            raise ValueError(f"{language}.tsv:{number}: unknown flag(s) {sorted(unknown)}")
        source, pattern_flags, folded = _compile(language, pattern)
        entries.append(Entry(kind, weight, source, pattern_flags, message, suggestion, gate,
                             "unnegatable" not in flags, f"{language}.tsv:{number}", len(entries),
                             "sarcasm" in flags, folded))
    return tuple(entries)


@cache
def lexicon_crc(language: str) -> int:
    """CRC-32 of the lexicon file: the learned layer's entry weights belong to one version."""
    return zlib.crc32((DATA / f"{language}.tsv").read_bytes())


# -- language and masks -------------------------------------------------------------------

#: A straight double quote opens before a non-space and closes after one: in 'a "b" c d."'
#: the text between the second and third marks is not a quotation.
_QUOTED = re.compile(r"「[^「」]*」|『[^『』]*』|“[^“”]*”|\"(?=\S)[^\"\n]{1,400}(?<=\S)\"|^[ \t]*>.*$", re.MULTILINE)


class _Spans:
    """Sorted, non-overlapping character spans; membership by bisection."""

    def __init__(self, spans: Sequence[tuple[int, int]]) -> None:
        merged: list[tuple[int, int]] = []
        for start, end in sorted(spans):
            if merged and start <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
            else:
                merged.append((start, end))
        self.starts = [s for s, _ in merged]
        self.spans = merged

    def covers(self, start: int, end: int) -> bool:
        i = bisect.bisect_right(self.starts, start) - 1
        return i >= 0 and self.spans[i][0] <= start and end <= self.spans[i][1]

    def overlaps(self, start: int, end: int) -> bool:
        i = bisect.bisect_right(self.starts, end) - 1
        return i >= 0 and self.spans[i][1] > start


def _quoted(text: str) -> _Spans:
    """What the writer quotes (Amazon's words, the buyer's message): not the writer's tone."""
    # A quote that is most of the text is the writer's own words in quotation marks.
    limit = len(text.strip()) // 2
    spans = [m.span() for m in _QUOTED.finditer(text) if m.group(0).lstrip().startswith(">") or m.end() - m.start() <= limit]
    header = next(line_matches(QUOTE_HEADER, text), None)
    if header and header.start() > 0:
        spans.append((header.start(), len(text)))
    return _Spans(spans)


#: A short quotation inside the writer's own sentence ('this "f*cking" seller', 'your "service"')
#: is the writer's word in scare quotes, unless a reporting word introduces it ('he wrote "idiot"').
_SCARE_WORDS = 3
_REPORTED = re.compile(r"(?:\b(?:said|says|say|wrote|writes|write|called|calls|call|asked|asks|told|tells|reads|read|word|words|term|phrase|quote|quoted|like)\b|:)\W*$", re.IGNORECASE)


def _scare_quotes(text: str, quoted: _Spans) -> _Spans:
    """Quotations of a few words in the middle of the writer's sentence: profanity in them is
    the writer's (“this "f*cking" seller”), not something quoted."""
    spans = []
    for start, end in quoted.spans:
        inner = text[start + 1 : end - 1]
        if text[start] not in "\"“" or len(inner.split()) > _SCARE_WORDS or inner.rstrip()[-1:] in (".", "!", "?"):
            continue
        before = text[max(0, start - 60) : start]
        sentence = re.split(r"[.!?\n]", before)[-1]
        if not _EN_WORDS.search(sentence) or _REPORTED.search(before[-30:]):
            continue  # opens the sentence, or is introduced as someone's words
        spans.append((start, end))
    return _Spans(spans)


#: hashtags and the words they are made of
_HASHTAG = re.compile(r"(?<![\w&])#([A-Za-z][A-Za-z0-9_]{3,80})")
_HASHTAG_PARTS = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")


@cache
def _hashtag_words() -> frozenset[str]:
    lines = (DATA / "hashtag-en.txt").read_text(encoding="utf-8").splitlines()
    return frozenset(w.strip() for w in lines if w.strip() and not w.startswith("#"))


def _segment(chunk: str, words: frozenset[str]) -> list[str] | None:
    """``chunk`` as the fewest words of ``words`` (None when it cannot be)."""
    best: list[list[str] | None] = [[]] + [None] * len(chunk)
    for end in range(1, len(chunk) + 1):
        for start in range(max(0, end - 14), end):
            before = best[start]
            if before is not None and chunk[start:end] in words and (best[end] is None or len(before) + 1 < len(best[end] or ())):
                best[end] = before + [chunk[start:end]]
    return best[len(chunk)]


def split_hashtag(body: str) -> str | None:
    """The words a hashtag is made of, as a phrase ("YouAreAnIdiot", "you_are_an_idiot",
    "youareanidiot": "you are an idiot"), or None when it is one word or cannot be read.
    Parts the writer marked (capitals, underscores, digits) are taken as written; an
    all-lowercase run is split only when it is made wholly of the words in hashtag-en.txt."""
    parts = _HASHTAG_PARTS.findall(body)
    words = _hashtag_words()
    out: list[str] = []
    for part in parts:
        lower = part.lower()
        if lower in words or (len(parts) > 1 and not part.islower()):
            out.append(lower)
            continue
        split = _segment(lower, words)
        if split is None:
            if len(parts) == 1:
                return None
            out.append(lower)
        else:
            out += split
    return " ".join(out) if len(out) > 1 else None


def _hashtags(text: str) -> list[tuple[int, int, str]]:
    """(start, end, phrase) of each English hashtag made of several words."""
    if "#" not in text:
        return []
    found = []
    for m in _HASHTAG.finditer(text):
        phrase = split_hashtag(m.group(1))
        if phrase:
            found.append((m.start(), m.end(), phrase))
    return found


_EN_NEGATION = re.compile(r"\b(?:not|never|no|nor|hardly|without|n't)\b|n't\b", re.IGNORECASE)
_EN_WORDS = re.compile(r"[\w']+")
_JA_NEGATED = re.compile(r"^.{0,12}(?:わけでは|訳では|ことでは)(?:ない|なく|ありません|ございません)|^.{0,6}とは(?:思って|申して)(?:いません|おりません)")


#: Words a writer uses of themselves ("sorry for my stupid question") as often as of others.
_SELF_CRITICAL = frozenset("stupid dumb foolish silly useless idiot idiotic clueless lazy".split())
_FIRST_PERSON = frozenset("i i'm im my me myself mine".split())
_SECOND_PERSON = frozenset("you you're your yours u ur".split())


def _words_before(text: str, start: int, count: int, chars: int) -> list[str]:
    """The last ``count`` English words within ``chars`` characters before ``start``."""
    return _EN_WORDS.findall(text[max(0, start - chars) : start])[-count:]


def _self_directed(text: str, start: int, word: str) -> bool:
    """The writer running themselves down: "my stupid question", "I was foolish"."""
    if word.lower() not in _SELF_CRITICAL:
        return False
    before = {w.lower() for w in _words_before(text, start, 3, 30)}
    return bool(before & _FIRST_PERSON) and not before & _SECOND_PERSON


def _negated(text: str, start: int, end: int, language: str, *, words: int = 4, chars: int = 40) -> bool:
    if language == "en":
        return any(_EN_NEGATION.search(w) for w in _words_before(text, start, words, chars))
    return bool(_JA_NEGATED.match(text[end : end + 24]))


#: More blank lines in a row than this make ``^\s*`` patterns walk the rest of the run from
#: every line start (each line is looked at at most this many times by the search itself).
_LONG_BLANK_RUN = re.compile(r"(?:\n[^\S\n]*){8}")
_blank_runs_of: list[object] = [None, False]  # the last text asked about (one draft at a time)


def _has_long_blank_run(text: str) -> bool:
    if _blank_runs_of[0] is not text:
        _blank_runs_of[:] = [text, _LONG_BLANK_RUN.search(text) is not None]
    return bool(_blank_runs_of[1])


def line_matches(pattern: re.Pattern[str], text: str) -> Iterator[re.Match[str]]:
    """``pattern.finditer(text)``, in linear time when the pattern starts ``^\\s*`` (multiline).

    The regex engine tries such a pattern at every line start, and in a run of blank lines
    each try runs ``\\s*`` to the end of the run: quadratic in a draft of blank lines. A match
    from a line start inside a blank run implies one from the run's first line start (its
    ``\\s*`` reaches every place the later one does), so a line start is tried only when the
    line before it is not blank or was already passed by a match: the same matches, in order.
    """
    if not pattern.pattern.startswith("^\\s*") or not pattern.flags & re.MULTILINE or not _has_long_blank_run(text):
        # finditer gives the same matches; without long blank runs it is linear too (and
        # the common case: a draft's paragraphs are one blank line apart)
        yield from pattern.finditer(text)
        return
    line = searched = 0  # the line start to try next; matches end at or before `searched`
    previous_blank = False  # the line before `line` is blank and starts at or after `searched`
    while True:
        if not previous_blank and (m := pattern.match(text, line)):
            yield m
            searched = m.end()
            if searched > line and text[searched - 1] == "\n":
                line = searched
            else:  # (an empty match moves on to the next line, as the patterns here never match empty)
                line = text.find("\n", searched) + 1
                if line == 0:  # no line starts after the match
                    return
            previous_blank = False
            continue
        newline = text.find("\n", line)
        if newline < 0:
            return
        previous_blank = (newline == line or text[line:newline].isspace()) and line >= searched
        line = newline + 1


# -- structural signals -------------------------------------------------------------------

_TYPO = re.compile(r"[!！]{2,}|[?？]{2,}|[!！][?？]+|[?？][!！]+|([^\W\d_])\1{3,}|ー{2,}|っ{2,}")
_JA_EXCLAIM = re.compile(r"[!！]")
_CAPS = re.compile(r"(?<![#@\w])[A-Z][A-Z']{2,}\b")
#: matched from a line's start (``match(text, line_start, ...)``: no slice copied per sentence)
_BULLET = re.compile(r"\s*(?:[・\-*●■◆○□◇※]|\d+[.)．）]|[（(]\d+[)）]|[①-⑳])")
_POLITE_END = re.compile(
    r"(?:です|ます|でした|ました|ましたか|でしたか|ませんでしたか|ません|ください|下さい|ございます|いたします|致します|でしょう(?:か)?|ませんか|"
    r"願います|幸いです|存じます|申し上げます|おります|ますか|ですか|ましょう|ませ|ございません|でございます|"
    r"お願いします|くださいませ|と申します|承知しました|かしこまりました)"
    r"(?:よ|ね|よね|が|けど|けれども|ので|から|し|しね)?[、。！？!?\s」』）)…ー〜~]*$"
)
_PLAIN_END = re.compile(
    r"(?:だ|だろ|だろう|じゃん|じゃねー?|ねーよ|ねぇよ|だよ|だぞ|だな|かよ|のか|んだ|やがれ|しろ|するな|くれ|よな|ぞ|ぜ|"
    r"なよ|だって|ない|なかった|した|してる|ている|てる|った|たい|れる|める|せる|わかる|ある|いる|思う|する|なる|た|る|う|い|けど|の|よ|ね|な|さ|わ)"
    r"[、。！？!?\s」』）)…ー〜~]*$"
)


def _structure(text: str, language: str, kind: str, quoted: _Spans) -> list[Finding]:
    found: list[Finding] = []
    for m in _TYPO.finditer(text):
        if not quoted.covers(*m.span()):
            found.append(_finding(text, "emotional_typography", m.start(), m.end(), 10.0,
                                  "Emotional punctuation or stretched words read as shouting.",
                                  "Use one 。 / . and plain words." if language == "ja" else "Use a single period and plain words."))
    if language == "ja":
        for m in _JA_EXCLAIM.finditer(text):
            # endpos: every _TYPO alternative is decided by 4 characters; unbounded, a run of
            # "！" was rescanned to its end from each of its marks
            at = max(0, m.start() - 1)
            if not quoted.covers(*m.span()) and not _TYPO.match(text, at, at + 4):
                found.append(_finding(text, "emotional_typography", m.start(), m.end(), 3.0,
                                      "An exclamation mark is rare in Japanese business mail.", "「。」に置き換えてください。"))
        found += _plain_forms(text, kind, quoted)
    else:
        size = len(text.strip())
        last_line = text.rstrip().rfind("\n") + 1  # where the last line starts (0: one line)
        caps = (
            m for m in _CAPS.finditer(text)
            if _shouted(m.group(0)) and not quoted.covers(*m.span()) and not _heading(text, m.start(), size)
            and not _named(text, m.start(), last_line)
        )
        for m in itertools.islice(caps, 6):  # lazily: the rest would be looked at for nothing
            # A long capitalised word may be a name or an acronym (NAACP); the common ones shout.
            weight = 8.0 if m.group(0) in _EMPHATIC else 4.0
            found.append(_finding(text, "emotional_typography", m.start(), m.end(), weight,
                                  "Words in capitals read as shouting.", m.group(0).capitalize()))
    return found


#: Short capitalised words are mostly acronyms (OTRS, AJHL); these common words are shouting.
_EMPHATIC = frozenset(
    "NOT NOW NEVER STOP WHY WHAT YOU YOUR THIS ALL ANY NO DO DONT DON'T CAN'T WON'T MUST HAVE NEED "
    "WANT MY ME HELP JUST EVER AGAIN STILL WRONG RIGHT THE AND ARE IS WAS GET GIVE FIX BACK YES".split()
)


def _heading(text: str, offset: int, size: int) -> bool:
    """A short line written all in capitals ("PLAN OF ACTION") is a heading, not shouting.
    ``size``: the length of the stripped text (measured once, not per word)."""
    start = text.rfind("\n", 0, offset) + 1
    end = text.find("\n", offset)
    line = text[start : end if end >= 0 else len(text)].strip()
    return len(line.split()) <= 6 and line == line.upper() and size > len(line) * 2


#: what introduces a name ("Mr. SMITH", "my name is TARO YAMADA"): a name written in
#: capitals is not shouting (up to two more words of the name between)
_NAME_BEFORE = re.compile(
    r"\b(?i:mr|mrs|ms|miss|dr|prof|dear|name is|named|called|signed)\b[.,:]?\s+(?:[A-Z][\w'.-]*\s+){0,2}$"
)


def _named(text: str, offset: int, last_line: int) -> bool:
    """A capitalised word that is a name: after a title or "my name is", or in a sign-off (the
    last line of a text of several lines, four words at most: "Regards,\\nJOHN SMITH").
    ``last_line``: where the text's last line starts (0 for a text of one line)."""
    start = text.rfind("\n", 0, offset) + 1
    if _NAME_BEFORE.search(text, max(start, offset - 60), offset):
        return True
    return 0 < last_line <= offset and len(text[last_line:].split()) <= 4


def _shouted(word: str) -> bool:
    bare = word.replace("'", "")
    if bare in _ACRONYMS:
        return False
    return word in _EMPHATIC or len(bare) >= 5


def _plain_forms(text: str, kind: str, quoted: _Spans) -> list[Finding]:
    polite = 0
    plain: list[tuple[int, int]] = []
    line_start = searched = 0  # the current line's start, found from the previous sentence on
    for m in SENTENCE["ja"].finditer(text):
        line_start = text.rfind("\n", searched, m.start()) + 1 or line_start
        searched = m.start()
        sentence = m.group(0).strip()
        if len(sentence) < 4 or quoted.overlaps(*m.span()):
            continue
        if _BULLET.match(text, line_start, m.end()):
            continue  # bullet points are written in plain or noun style by convention
        if _POLITE_END.search(sentence):
            polite += 1
        elif _PLAIN_END.search(sentence):
            start = m.start() + (len(m.group(0)) - len(m.group(0).lstrip()))
            plain.append((start, start + len(sentence)))
    if not plain or (polite == 0 and len(plain) < 2):
        return []
    message = (
        "Plain form (だ・である / タメ口) in a polite message reads as rude."
        if polite
        else "No です・ます at all: to Amazon this reads as タメ口."
    )
    return [
        _finding(text, "plain_form", s, e, 8.0 if polite else 10.0, message, "です・ます調に揃えてください（例: 〜です / 〜いたします）。")
        for s, e in plain[:5]
    ]


def _long_sentences(text: str, language: str, quoted: _Spans) -> list[Finding]:
    found = []
    pattern = SENTENCE["ja" if language == "ja" else "en"]
    for m in pattern.finditer(text):
        sentence = m.group(0)
        too_long = len(sentence.strip()) > 120 if language == "ja" else len(sentence.split()) > 40
        if too_long and not quoted.overlaps(*m.span()):
            start = m.start() + (len(sentence) - len(sentence.lstrip()))
            # advice, not a harm: on labelled text long sentences mark polite writing as
            # often as rude (Stanford, Wikipedia talk: ranking improves without the points)
            found.append(_finding(text, "long_sentence", start, start + len(sentence.strip()), 0.0,
                                  "An overlong sentence is hard to follow.",
                                  "2〜3文に分けてください。" if language == "ja" else "Split it into two or three sentences."))
            if len(found) >= 3:
                break
    return found


def _finding(text: str, kind: str, start: int, end: int, weight: float, message: str, suggestion: str | None,
             entry: str | None = None, credit: float | None = None) -> Finding:
    line, column = line_column(text, start)
    return Finding(kind, start, end, text[start:end], message, suggestion, line, column, weight, entry or f"rule:{kind}", credit)


def _signed(points: float) -> str:
    value = round(points)
    return f"+{value}" if value > 0 else f"\u2212{-value}" if value < 0 else "0"


def _own_words(text: str, quoted: _Spans) -> str:
    """The text without what the writer quotes."""
    if not quoted.spans:
        return text
    parts, at = [], 0
    for start, end in quoted.spans:
        parts.append(text[at:start])
        at = end
    parts.append(text[at:])
    return "\n".join(parts)


# -- the check ----------------------------------------------------------------------------


def check_tone(
    text: str,
    lang: str = "auto",
    kind: str = "reply",
    *,
    extra_aggressive: Sequence[str] = (),
    extra_polite: Sequence[str] = (),
    allow: Sequence[str] = (),
    max_chars: int | None = MAX_CHARS,
) -> ToneResult:
    """Score ``text`` (0-100, 100 courteous and businesslike), with every finding.

    Only the first ``max_chars`` characters (about; see :func:`cut_at`) are checked; the
    result's ``unchecked_chars`` says how many were left. ``None``: the whole text.
    """
    return _check(text, lang, kind, extra_aggressive, extra_polite, allow, max_chars)[0]


def rule_parts(text: str, language: str) -> tuple[float, dict[int, int], str]:
    """What the learned layer is trained on: the rules' score (before the learned wording),
    the lexicon entries' match counts and the writer's own words (quotes left out)."""
    _, rules, counts, own = _check(text, language, "reply", (), (), (), MAX_CHARS, wording=False)
    return rules, counts, own


def _check(
    text: str,
    lang: str,
    kind: str,
    extra_aggressive: Sequence[str],
    extra_polite: Sequence[str],
    allow: Sequence[str],
    max_chars: int | None,
    *,
    wording: bool = True,
) -> tuple[ToneResult, float, dict[int, int], str]:
    whole = len(text)
    if max_chars is not None and whole > max_chars:
        text = text[: cut_at(text, max_chars)]
    language: Language = detect_language(text) if lang == "auto" else ("ja" if lang == "ja" else "en")
    checked_kind: Kind = "appeal" if kind == "appeal" else "reply"
    quoted = _quoted(text)
    allowed = _Spans([(m.start(), m.end()) for phrase in allow if phrase for m in re.finditer(re.escape(phrase), text, re.IGNORECASE)])

    harms: list[Finding] = []
    polite_weight: dict[str, float] = {}
    #: kind → distinct lexicon entries that matched (each entry counts once)
    polite_hits: dict[str, dict[int, float]] = {}
    #: kind → weights of the matches after an entry's first ("thank you … thanks again")
    polite_repeats: dict[str, list[float]] = {}
    polite_found: list[Finding] = []
    #: lexicon entry index → matches that counted (the learned layer's entry features)
    counts: dict[int, int] = {}
    sarcastic = False
    blank_runs = _has_long_blank_run(text)
    scare = _scare_quotes(text, quoted) if quoted.spans and language == "en" else _Spans(())
    hashtags = _hashtags(text) if language == "en" else []
    lowered = scan.folded(text) if language == "en" else None
    warm = _checked[0] > 0
    _checked[0] += 1
    for entry in lexicon(language):
        if hashtags and entry.kind in BLOCKING_KINDS:
            harms += _hashtag_findings(text, entry, hashtags, quoted, counts)
        if entry.gate and not any(literal in text for literal in entry.gate):
            continue  # none of the words the pattern needs: skip its costly scan
        if lowered is not None and entry.folded_source is not None:
            pattern, scanned = entry.scanner(True, warm), lowered
        else:
            pattern, scanned = entry.scanner(False, warm), text
        # line_matches only where it matters: a generator per entry costs more than the scan
        for m in line_matches(pattern, scanned) if blank_runs else pattern.finditer(scanned):
            start, end = m.span()
            if end == start or (quoted.covers(start, end) and not ((entry.kind == "insult" or entry.sarcasm) and scare.covers(start, end))):
                continue
            if entry.kind in POLITE_KINDS:
                # "I do not appreciate", "not sorry": no courtesy (only the words right before)
                if language == "en" and _negated(text, start, end, language, words=2, chars=20):
                    continue
                hits = polite_hits.setdefault(entry.kind, {})
                if id(entry) in hits:
                    polite_repeats.setdefault(entry.kind, []).append(entry.weight)
                hits[id(entry)] = entry.weight
                counts[entry.index] = counts.get(entry.index, 0) + 1
                if len(polite_found) < 12:
                    polite_found.append(_finding(text, entry.kind, start, end, 0.0, "Courteous.", None, entry.id, entry.weight))
                continue
            if allowed.overlaps(start, end) or (entry.kind in NEGATABLE and entry.negatable and _negated(text, start, end, language)):
                continue
            if language == "en" and entry.kind == "insult" and _self_directed(text, start, m.group(0)):
                continue
            counts[entry.index] = counts.get(entry.index, 0) + 1
            sarcastic = sarcastic or entry.sarcasm
            harms.append(_finding(text, entry.kind, start, end, entry.weight, entry.message, entry.suggestion, entry.id))
    if sarcastic:
        for kind_name in SARCASM_VOIDS:
            polite_hits.pop(kind_name, None)
        polite_found = [f for f in polite_found if f.kind not in SARCASM_VOIDS]
    for kind_name, hits in polite_hits.items():
        # Several different markers of one kind count, with diminishing weight.
        ordered = sorted(hits.values(), reverse=True)
        polite_weight[kind_name] = sum(w * (1.0, 0.5, 0.25)[min(i, 2)] for i, w in enumerate(ordered))
        # Repeats of one marker count too, with weight halving each time from a quarter: ten
        # thank-yous are worth at most half a thank-you more than one.
        repeats = sorted(polite_repeats.get(kind_name, ()), reverse=True)
        polite_weight[kind_name] += sum(w * REPEAT_FACTOR * 0.5**i for i, w in enumerate(repeats))
    for phrase in extra_aggressive:
        for m in re.finditer(re.escape(phrase), text, re.IGNORECASE) if phrase else ():
            if not quoted.covers(*m.span()) and not allowed.overlaps(*m.span()):
                harms.append(_finding(text, "complaint", m.start(), m.end(), 15.0,
                                      "Listed in your config's [tone] extra_aggressive.", "Rephrase it neutrally."))
    for phrase in extra_polite:
        if phrase and phrase.casefold() in text.casefold():
            polite_weight["extra_polite"] = max(polite_weight.get("extra_polite", 0.0), 4.0)
    harms += [f for f in _structure(text, language, checked_kind, quoted) if not allowed.overlaps(f.start, f.end)]
    if checked_kind == "appeal":
        from hygiene.tone.appeal import appeal_findings

        harms += appeal_findings(text, language)
    harms = _dedupe(harms, len(text))

    polite_points = sum(polite_weight.values())
    if language == "ja":
        polite_points += 10.0 * _polite_ending_ratio(text, quoted)
    polite_points = min(POLITE_CAP, polite_points)
    harm_points = _harm_points(harms)
    rules = BASELINE + polite_points - harm_points
    own = _own_words(text, quoted)
    points = learned.wording(own, language, counts, lexicon_crc(language), warm) if wording else None
    learned_line: list[Finding] = []
    if points is not None:
        learned_line.append(Finding("wording", 0, 0, "", f"wording overall: {_signed(points)}", None, 1, 1, 0.0,
                               f"learned:{language}", round(points, 1)))
    score = max(0, min(100, round(rules + (points or 0.0))))
    verdict: Verdict = "ok"
    # a block names its cause: a blocking finding, or the rules' own score (never the
    # learned wording alone, which can only ask for a review)
    if any(f.kind in BLOCKING_KINDS for f in harms) or rules < BLOCK_BELOW - 0.5:
        verdict = "block"
    elif min(score, rules) < REVIEW_BELOW - 0.5 or any(f.weight >= REVIEW_WEIGHT for f in harms):
        # the learned wording may ask for a review, never clear one the findings ask for
        verdict = "review"
    advice = _missing_courtesies(text, language, checked_kind, polite_weight, truncated=len(text) < whole)
    if checked_kind != "appeal":  # the appeal checks hold sentences to a stricter length of their own
        advice += [f for f in _long_sentences(text, language, quoted) if not allowed.overlaps(f.start, f.end)]
    findings = learned_line + sorted(harms + polite_found + advice, key=lambda f: (f.start, f.end, -f.weight))
    result = ToneResult(
        score=score,
        verdict=verdict,
        language=language,
        kind=checked_kind,
        politeness=round(polite_points / POLITE_CAP, 3),
        aggression=round(min(1.0, harm_points / 60.0), 3),
        findings=findings,
        unchecked_chars=whole - len(text),
    )
    return result, rules, counts, own


def _hashtag_findings(text: str, entry: Entry, hashtags: list[tuple[int, int, str]], quoted: _Spans,
                      counts: dict[int, int]) -> list[Finding]:
    """``entry``'s harm in the words of a hashtag (#youareanidiot), where it does not already
    match the hashtag as written."""
    found = []
    for start, end, phrase in hashtags:
        if quoted.covers(start, end) or (entry.gate and not any(literal in phrase for literal in entry.gate)):
            continue
        if entry.pattern.search(phrase) and not entry.pattern.search(text, start, end):
            counts[entry.index] = counts.get(entry.index, 0) + 1
            found.append(_finding(text, entry.kind, start, end, entry.weight, entry.message, entry.suggestion, entry.id))
    return found


def cut_at(text: str, limit: int) -> int:
    """Where to stop checking a text longer than ``limit``: after the last line end within
    CUT_WINDOW characters before it, else at ``limit`` moved back so that what reads as one
    character (a surrogate pair, a letter and its combining marks or variation selector, an
    emoji joined by ZWJ or with a skin tone, a flag) is not split."""
    if len(text) <= limit:
        return len(text)
    newline = text.rfind("\n", max(0, limit - CUT_WINDOW), limit)
    if newline >= 0:
        return newline + 1
    cut = limit
    while cut > max(1, limit - 32) and _joined(text[cut - 1], text[cut]):
        cut -= 1
    return cut


def _joined(before: str, after: str) -> bool:
    """Whether ``after`` continues the character ``before`` (a cut between them splits it)."""
    return (
        "\ud800" <= before <= "\udbff"  # a high surrogate (text decoded with surrogatepass)
        or before == "\u200d"
        or after == "\u200d"
        or unicodedata.combining(after) > 0  # e.g. a combining dakuten, an accent
        or "\ufe00" <= after <= "\ufe0f"
        or "\U0001f3fb" <= after <= "\U0001f3ff"  # skin tones
        or "\U000e0000" <= after <= "\U000e01ef"  # tags, variation selectors supplement
        or ("\U0001f1e6" <= before <= "\U0001f1ff" and "\U0001f1e6" <= after <= "\U0001f1ff")  # flags
    )


def _missing_courtesies(text: str, language: str, kind: str, present: dict[str, float], *, truncated: bool = False) -> list[Finding]:
    """Advice that costs no points: the opening and closing a business message is expected
    to have (only for messages of a few sentences or more; no closing is asked of a text cut
    short, its closing is in the part not checked)."""
    pattern = SENTENCE["ja" if language == "ja" else "en"]
    if kind != "reply" or sum(1 for m in pattern.finditer(text) if len(m.group(0).strip()) > 3) < 3:
        return []
    advice = []
    if "greeting" not in present:
        advice.append(_finding(text, "missing_greeting", 0, 0, 0.0, "No greeting.",
                               "冒頭に「いつもお世話になっております。」を添えてください。" if language == "ja" else 'Open with "Hello," or "I hope you are well."'))
    if "closing" not in present and not truncated:
        end = len(text.rstrip())
        advice.append(_finding(text, "missing_closing", end, end, 0.0, "No closing.",
                               "結びに「よろしくお願いいたします。」を添えてください。" if language == "ja" else 'Close with "Kind regards," and your name.'))
    return advice


def _dedupe(findings: list[Finding], size: int) -> list[Finding]:
    """One finding per passage: where two patterns hit overlapping text, the heavier stays.

    Heaviest first (ties: earliest); a finding is dropped when it overlaps one already kept of
    its kind. Kept passages are marked per kind in a bytearray over the text, so the overlap
    test is one memchr over the passage instead of a scan of every finding kept (quadratic in
    a draft full of findings). The total marked and scanned is bounded by the passages'
    lengths, and each pattern's matches do not overlap: linear in the text.
    """
    #: kind → (characters inside a kept passage, empty kept passages' offsets)
    marks: dict[str, tuple[bytearray, bytearray]] = {}
    kept: list[Finding] = []
    for f in sorted(findings, key=lambda f: (-f.weight, f.start)):
        if f.kind not in marks:
            marks[f.kind] = (bytearray(size + 1), bytearray(size + 1))
        inside, points = marks[f.kind]
        if f.end > f.start:
            # overlap with a kept passage [s, e): s < f.end and f.start < e; with an empty one at p: f.start < p < f.end
            if inside.find(1, f.start, f.end) >= 0 or points.find(1, f.start + 1, f.end) >= 0:
                continue
            inside[f.start : f.end] = b"\x01" * (f.end - f.start)
        else:
            points[f.start] = 1
        kept.append(f)
    return kept


def _harm_points(harms: Sequence[Finding]) -> float:
    """Repeats count less: the second finding of a kind half, the rest a quarter each."""
    by_kind: dict[str, list[float]] = {}
    for f in harms:
        by_kind.setdefault(f.kind, []).append(f.weight)
    total = 0.0
    for weights in by_kind.values():
        weights.sort(reverse=True)
        total += sum(w * (1.0 if i == 0 else 0.5 if i == 1 else 0.25) for i, w in enumerate(weights))
    return total


def _polite_ending_ratio(text: str, quoted: _Spans) -> float:
    polite = total = 0
    for m in SENTENCE["ja"].finditer(text):
        sentence = m.group(0).strip()
        if len(sentence) < 4 or quoted.overlaps(*m.span()):
            continue
        total += 1
        polite += bool(_POLITE_END.search(sentence))
    return polite / total if total else 0.0
