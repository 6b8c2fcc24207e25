"""Deadlines: when a message needing a reply is due, when it turns critical, and its state.

Each category has two deadlines counted from ``received_at`` (config ``[deadlines.<category>]``,
defaults 24 h due and 48 h critical). A message may state a deadline of its own ("72時間以内に
ご返信ください", "please respond within 24 hours", "by January 9, 2027 5:00 PM PST",
"2027年1月8日（金）15:00までに"); each of the two deadlines becomes the stated one where that is
earlier. A span or date counts only in a sentence asking the seller to act, outside quoted text
(``_asks``). Relative spans, times and zones are read by the patterns below; English dates by
dateparser, imported only for a date in such a sentence (it is slow to load).

The stated deadline is a fact about the text, so reply matching reads it once per message and
stores it (``messages.stated_deadline_at`` / ``stated_deadline_text``); the due and critical
times are computed from the config when ``check`` runs, so a config change applies at once.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from functools import cache
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from hygiene.clock import local_zone

if TYPE_CHECKING:
    from hygiene.config import Config

PENDING = "pending"
DUE_SOON = "due_soon"
LATE = "late"
CRITICAL = "critical"
#: the states that put a message on the check list, least urgent first
OPEN_STATES = (PENDING, DUE_SOON, LATE, CRITICAL)
REPLIED = "replied"
DISMISSED = "dismissed"
NO_REPLY_NEEDED = "no_reply_needed"

#: how much text is searched for a stated deadline (it is near the top of real notices)
SCAN_CHARS = 20_000

#: Categories whose mail a buyer writes (or anyone, for "other"); every other category is
#: Amazon's own mail, where a sentence addressed to the seller with an action verb states the
#: time to act even without "please" (see ``_EN_AMAZON_ASK``).
NOT_AMAZON_CATEGORIES = frozenset({"buyer", "other"})

#: Categories whose default is Amazon's own window (an A-to-z Guarantee claim, a chargeback):
#: a later time the notice states is that window, so it becomes the critical deadline (the
#: due one stays the default). Elsewhere a later stated time leaves the defaults in force.
STATED_WINDOW_CATEGORIES = frozenset({"claim"})
#: Listed first among messages in the same state: claims count toward the Order Defect Rate.
FIRST_AMONG_EQUALS = frozenset({"claim"})

@dataclass(frozen=True)
class StatedDeadline:
    at: datetime
    #: the words it was read from, time and zone included: "72時間以内", "by January 9, 2027 5:00 PM PST"
    text: str


@dataclass(frozen=True)
class Deadlines:
    due_at: datetime
    critical_at: datetime
    #: where they came from, e.g. "default 24 h / 48 h (buyer)" or "stated: 12時間以内"
    source: str


def _fold(text: str) -> str:
    # Full-width digits and letters ("７２時間", "ＷＩＴＨＩＮ", "（金）") read like their ASCII forms.
    return unicodedata.normalize("NFKC", text)


# --------------------------------------------------------------------------- zones

#: Zone names a stated time may carry. A name without S/D (PT, ET, …) is the US zone with its
#: daylight saving time on that date; PST, PDT, EST, … are the fixed offsets they name.
_ZONES: dict[str, str | float] = {
    "JST": "Asia/Tokyo", "日本時間": "Asia/Tokyo", "japan time": "Asia/Tokyo", "japan standard time": "Asia/Tokyo",
    "UTC": 0, "GMT": 0,
    "PT": "America/Los_Angeles", "pacific time": "America/Los_Angeles", "PST": -8, "PDT": -7,
    "MT": "America/Denver", "mountain time": "America/Denver", "MST": -7, "MDT": -6,
    "CT": "America/Chicago", "central time": "America/Chicago", "CST": -6, "CDT": -5,
    "ET": "America/New_York", "eastern time": "America/New_York", "EST": -5, "EDT": -4,
    "CET": 1, "CEST": 2, "BST": 1, "KST": 9, "AEST": 10, "AEDT": 11,
}
_ZONE_KEYS = {name.lower(): value for name, value in _ZONES.items()}
_ABBREVIATIONS = "|".join(sorted((n for n in _ZONES if n.isascii() and n.isupper()), key=len, reverse=True))
_LONG_NAMES = "|".join(n.replace(" ", r"\s+") for n in sorted(_ZONES, key=len, reverse=True) if not n.isupper())
_OFFSET = r"(?:UTC|GMT)\s*[+-]\s*\d{1,2}(?::?\d{2})?|[+-]\d{2}:?\d{2}"
_OFFSET_PARTS = re.compile(r"([+-])\s*(\d{1,2})(?::?(\d{2}))?$")


def _zone_group(name: str) -> str:
    # Offsets first: "UTC+9" is not "UTC". Abbreviations in capitals only ("et" is a word).
    return rf"\(?\s*(?P<{name}>{_OFFSET}|(?-i:{_ABBREVIATIONS})\b|(?:{_LONG_NAMES}))\s*\)?"


def _zone_named(name: str | None, default: tzinfo) -> tzinfo | None:
    if not name:
        return default
    offset = _OFFSET_PARTS.search(name)
    if offset:
        hours, minutes = int(offset.group(2)), int(offset.group(3) or 0)
        if hours > 14 or minutes > 59:
            return None
        delta = timedelta(hours=hours, minutes=minutes)
        return timezone(-delta if offset.group(1) == "-" else delta)
    value = _ZONE_KEYS[re.sub(r"\s+", " ", name).lower()]
    return ZoneInfo(value) if isinstance(value, str) else timezone(timedelta(hours=value))


# --------------------------------------------------------------------------- what is a deadline

_UNIT_HOURS = {"時間": 1.0, "hour": 1.0, "hr": 1.0, "日": 24.0, "day": 24.0, "週間": 168.0, "week": 168.0}

_JA_SPAN = re.compile(r"(\d{1,4})\s*(時間|営業日|日|週間)\s*(?:以内|以内に|内に)")
_EN_SPAN = re.compile(
    r"\bwithin\s+(?:the\s+next\s+)?(\d{1,4})\s*(business\s+days?|working\s+days?|hours?|hrs?|days?|weeks?)\b",
    re.IGNORECASE,
)
_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
_EN_CLOCK = r"(?:\d{1,2}(?::\d{2})?\s*[ap]\.?\s?m\b\.?|\d{1,2}:\d{2}|noon|midnight)"
# "by January 9, 2027 5:00 PM PST", "no later than 5:00 p.m. (JST) on Jan 14", "by Jan 14 (ET)"
_EN_DATE = (
    r"\b(?P<word>by|no\s+later\s+than|not\s+later\s+than|before|until|till|on\s+or\s+before)\s+"
    rf"(?:(?:at\s+)?(?P<clock1>{_EN_CLOCK})\s*(?:{_zone_group('zone1')})?\s*,?\s*(?:on\s+)?)?"
    r"(?:(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*\.?,?\s+)?"
    rf"(?P<date>{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?(?:,?\s+\d{{4}})?"
    rf"|\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH}(?:,?\s+\d{{4}})?"
    r"|\d{4}-\d{1,2}-\d{1,2})(?:\b|(?=T\d))"
    rf"(?:\s*,?\s*(?:at\s+|T)?(?P<clock2>{_EN_CLOCK})(?:\s*{_zone_group('zone2')})?|\s*{_zone_group('zone3')})?"
)
_JA_CLOCK = r"(?:(?:午前|午後|AM|PM)\s*)?(?:\d{1,2}\s*(?::\s*\d{2}|時\s*(?:\d{1,2}\s*分|半)?)|正午)"
# "2027年1月8日(金)15:00まで", "1月12日 正午まで", "2027/01/15 18:00迄", "1月9日 日本時間15時まで"
_JA_DATE = (
    r"(?P<date>(?:\d{4}\s*年\s*)?\d{1,2}\s*月\s*\d{1,2}\s*日|\d{4}\s*[/-]\s*\d{1,2}\s*[/-]\s*\d{1,2})"
    r"\s*(?:\([^)]{1,3}\)\s*)?"
    rf"(?:{_zone_group('zone1')}\s*)?"
    rf"(?:(?P<clock>{_JA_CLOCK})\s*(?:{_zone_group('zone2')}\s*)?)?"
    r"(?:まで|迄)"
)


def _clock(words: str | None) -> tuple[int, int] | None:
    """(hour, minute) of "5:00 p.m.", "午後3時半", "正午", "18:00"; None when no time is
    stated (or "midnight": the end of that day, as without a time). Raises ValueError when
    it is no time of day ("25:00", "13 p.m.")."""
    if not words or "midnight" in words.lower():
        return None
    lowered = words.lower()
    if "正午" in words or "noon" in lowered:
        return 12, 0
    numbers = [int(n) for n in re.findall(r"\d+", words)]
    hour, minute = numbers[0], (numbers[1] if len(numbers) > 1 else (30 if "半" in words else 0))
    after_noon = "午後" in words or re.search(r"p\.?\s?m", lowered) is not None
    if after_noon or "午前" in words or re.search(r"a\.?\s?m", lowered):
        if not 1 <= hour <= 12:
            raise ValueError(words)
        hour = hour % 12 + (12 if after_noon else 0)
    if hour > 24 or minute > 59 or (hour == 24 and minute):
        raise ValueError(words)
    return hour, minute


def _at(day: date, clock: tuple[int, int] | None, zone: tzinfo, *, day_start: bool = False) -> datetime:
    # A date without a time ends at the end of that day in the zone ("before <day>": when it starts).
    if clock is None:
        end = time(0, 0) if day_start else time(23, 59, 59)
        return datetime.combine(day, end, zone).astimezone(UTC)
    # Wall-clock addition, so "24:00" is the next midnight and DST is that day's.
    local = datetime.combine(day, time(0, 0), zone) + timedelta(hours=clock[0], minutes=clock[1])
    return local.astimezone(UTC)


# --------------------------------------------------------------------------- is it a request?
# A span or date is the seller's deadline only when the sentence holding it asks the seller to
# act. Each sentence is judged by the phrases below: "ask" phrases (a request to the seller)
# and "not" phrases (the writer's own plan, or words reported from elsewhere: the shop's
# promise, the listing). English puts the verb before its time ("please respond within 72
# hours"), so the nearest phrase before the span decides, else the first after it; Japanese
# puts it after ("72時間以内にご返信ください"), so the first phrase after it decides, else the
# nearest before it (a label such as 回答期限). A sentence with no phrase at all asks nothing.

#: what the seller may be asked to do, in English (a verb at a word boundary)
EN_REQUEST_VERBS = (
    "respond", "reply", "answer", "submit", "provide", "send", "contact", "act", "take action",
    "resolve", "appeal", "upload", "confirm", "update", "get back", "let us know", "address",
)
_EN_VERB = "(?:" + "|".join(v.replace(" ", r"\s+") for v in EN_REQUEST_VERBS) + r")\b"
EN_ASK = (
    rf"\bplease\s+(?:\w+ly\s+)?{_EN_VERB}",
    rf"^\W*(?:re:\s*)?(?:kindly\s+)?{_EN_VERB}",  # an imperative opening the sentence
    rf"\byou\s+(?:must|should|need\s+to|have\s+to|will\s+need\s+to|are\s+(?:required|asked|expected|requested)\s+to)\s+(?:\w+ly\s+)?{_EN_VERB}",
    rf"\b(?:ask|request|require|expect|need|want)s?\s+(?:that\s+)?you\s+(?:to\s+)?{_EN_VERB}",
    rf"\b(?:if|unless)\s+you\s+(?:do\s+not\s+|don't\s+|fail\s+to\s+|cannot\s+|can't\s+|are\s+unable\s+to\s+)?{_EN_VERB}",
    r"\bif\s+we\s+(?:do\s+not|don't)\s+(?:hear\s+from|receive)",
    r"\byou\s+have\s+until\b",
    r"\b(?:need|want|expect|require|request|appreciate)s?\s+(?:a|an|your)\s+(?:prompt\s+|quick\s+)?(?:response|reply|answer)\b",
    r"\b(?:response|reply|answer|appeal|plan\s+of\s+action|information|documents?|invoice)\s+"
    r"(?:is|are|must\s+be|should\s+be|has\s+to\s+be|needs?\s+to\s+be)\s+(?:required|due|needed|expected|received|submitted|provided|sent)\b",
)
#: Amazon's own mail also asks with a plain "you <verb>" or an imperative opening a clause
#: ("To keep selling, submit a plan of action by …").
EN_AMAZON_ASK = (
    rf"\byou\s+(?:(?:can|may)\s+)?{_EN_VERB}",
    rf"[,:]\s*(?:kindly\s+)?{_EN_VERB}",
)
EN_NOT = (
    # the writer's own plan: "we will respond within 48 hours", "our team typically replies …"
    r"\b(?:we|i|amazon|our\s+(?:\w+\s+)?team|seller\s+support)\s+(?:will|would|shall|can|may|aims?\s+to|tries\s+to|try\s+to|strive\s+to|typically|usually|normally|generally)\b",
    r"\b(?:we|i)'(?:ll|d)\b",
    r"\byou\s+(?:will|should|may|can)\s+(?:receive|get|hear|see)\b",
    # reported words: "you said ships within 24 hours", "the listing says …"
    r"\b(?:you|it|they|he|she|the\s+(?:listing|page|description|website|site|ad|product\s+page))\s+"
    r"(?:said|says|say|promised|promises|stated|states|claimed|claims|advertised|advertises|mentioned|told|wrote|write)\b",
    r"\b(?:supposed\s+to|as\s+promised|as\s+advertised|according\s+to)\b",
    r"\b(?:usually|typically|normally|generally)\b",
)

#: what the seller may be asked to do, in Japanese (nouns: ご返信, 提出して…)
JA_REQUEST_NOUNS = ("返信", "返答", "回答", "連絡", "提出", "対応", "送付", "提供", "確認", "申請", "手続き", "返事", "一報")
_JA_NOUN = "(?:" + "|".join(JA_REQUEST_NOUNS) + ")"
JA_ASK = (
    r"ください|下さい|くださいませ|お願い|願います|願い(?:いた|致)します"
    r"|(?:いただ|頂)(?:け|く|きたく|きます)|もらえ|もらい|ほしい|欲しい|求め|必要|べき|お待ち",
    rf"要{_JA_NOUN}",  # 【要対応】
    rf"{_JA_NOUN}\s*の?\s*(?:期限|期日|締切|締め切り)",  # 回答期限：…
    rf"{_JA_NOUN}\s*[がを]?\s*(?:ない|無い|なければ|無ければ|なき)",  # …までにご回答がない場合
    rf"{_JA_NOUN}(?:する|の)こと",
    rf"[ごお]{_JA_NOUN}(?:を|のほど|の程)?\s*(?:[。！!]|$)",  # terse: "…までにご回答を。"
)
JA_NOT = (
    r"(?:いた|致)し(?:ます|ました|ております)|させて(?:いただ|頂)",  # the writer's own action
    r"と(?:書|記載|あり|言|おっしゃ|聞|伺|案内|説明|表示)|とのこと|予定|はず",  # reported words
    r"ます|ました|ません|おります|ている|ていた",  # a statement, not a request
)


def _any(patterns: tuple[str, ...]) -> str:
    return "|".join(f"(?:{p})" for p in patterns)


# Where a sentence ends: 。！？!?; a period before a space and a capital or a line end (not
# "a.m." / "p.m.", not "Jan. 14"), a blank line, and every line quoted with ">".
_SENTENCE_END = (
    r"[。！？!?;；]|(?<![AaPp]\.[Mm])\.(?=\s+[A-Z\"'\[]|[ \t]*(?:\n|$))|\n[ \t]*\n|^[ \t]*>.*$"
)

#: the costly patterns, compiled on first use: a check with nothing new to key needs none
_SOURCES: dict[str, tuple[str, int]] = {
    "en_date": (_EN_DATE, re.IGNORECASE),
    "ja_date": (_JA_DATE, 0),
    "en_ask": (_any(EN_ASK), re.IGNORECASE),
    "en_amazon_ask": (_any(EN_ASK + EN_AMAZON_ASK), re.IGNORECASE),
    "en_not": (_any(EN_NOT), re.IGNORECASE),
    "ja_ask": (_any(JA_ASK), 0),
    "ja_not": (_any(JA_NOT), 0),
    "sentence_end": (_SENTENCE_END, re.MULTILINE),
}


@cache
def _pattern(name: str) -> re.Pattern[str]:
    source, flags = _SOURCES[name]
    return re.compile(source, flags)


class _Sentences:
    """The unquoted sentences of a text, found once and only for a text holding a deadline."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.cut = _quote_start(text)
        marks = [(m.start(), m.end()) for m in _pattern("sentence_end").finditer(text, 0, self.cut)]
        self.starts = [s for s, _ in marks]
        self.ends = [e for _, e in marks]

    def around(self, start: int, end: int) -> tuple[int, int] | None:
        """(start, end) of the sentence holding text[start:end]; None when that is quoted."""
        if end > self.cut:
            return None
        line = self.text.rfind("\n", 0, start) + 1
        if self.text[line:start].lstrip().startswith(">"):
            return None
        before = bisect_right(self.ends, start)
        after = bisect_left(self.starts, end)
        return (self.ends[before - 1] if before else 0, self.starts[after] if after < len(self.starts) else self.cut)


def _quote_start(text: str) -> int:
    """Where the quoted original starts ("On … wrote:", "2026年11月19日 … :"): nothing below it
    is this message's. A line stating a deadline that ends in a colon ("…までに以下をご提出
    ください：") announces a list; it is not a quote header."""
    from hygiene.quoting import QUOTE_HEADER

    for m in QUOTE_HEADER.finditer(text):
        if not any(word in m.group(0) for word in ("まで", "迄", "以内")):
            return m.start()
    return len(text)


def _asks(sentence: str, start: int, end: int, *, japanese: bool, amazon: bool) -> bool:
    """Whether ``sentence`` asks the seller to act by the deadline at sentence[start:end]."""
    if japanese:
        ask, not_ = _pattern("ja_ask"), _pattern("ja_not")
    else:
        ask, not_ = _pattern("en_amazon_ask" if amazon else "en_ask"), _pattern("en_not")
    # (where, asks); at the same place a "not" phrase wins.
    hits = [(m.start(), False) for m in not_.finditer(sentence)] + [(m.start(), True) for m in ask.finditer(sentence)]
    before = max((h for h in hits if h[0] < start), key=lambda h: (h[0], not h[1]), default=None)
    after = min((h for h in hits if h[0] >= end), key=lambda h: h, default=None)
    decisive = (after or before) if japanese else (before or after)
    return decisive is not None and decisive[1]


# --------------------------------------------------------------------------- reading the deadline


def _add_business_days(start: datetime, days: int, tz: tzinfo) -> datetime:
    local = start.astimezone(tz)
    added = 0
    while added < days:
        local += timedelta(days=1)
        if local.weekday() < 5:
            added += 1
    return local.astimezone(UTC)


def _candidates(text: str) -> Iterator[tuple[re.Match[str], str]]:
    """Every span or date in ``text`` with its kind, before any judgement (cheap)."""
    # Substring guards first: most mail states no deadline, and the patterns are costly.
    if "以内" in text or "内に" in text:
        yield from ((m, "ja_span") for m in _JA_SPAN.finditer(text))
    if "まで" in text or "迄" in text:
        yield from ((m, "ja_date") for m in _pattern("ja_date").finditer(text))
    lowered = text.lower()
    if "within" in lowered:
        yield from ((m, "en_span") for m in _EN_SPAN.finditer(text))
    if any(word in lowered for word in ("by", "before", "until", "till", "later than")):
        yield from ((m, "en_date") for m in _pattern("en_date").finditer(text))


def _span_at(m: re.Match[str], kind: str, received_at: datetime, tz: tzinfo) -> datetime | None:
    n, unit = int(m.group(1)), m.group(2).lower()
    if n == 0:
        return None
    if unit.startswith(("営業日", "business", "working")):
        return _add_business_days(received_at, n, tz)
    hours = _UNIT_HOURS[unit] if kind == "ja_span" else next(v for k, v in _UNIT_HOURS.items() if unit.startswith(k))
    return received_at + timedelta(hours=n * hours)


def _parse_date(text: str, received_at: datetime, languages: list[str]) -> date | None:
    import dateparser  # slow to load: only for texts that hold a date-like deadline

    parsed = dateparser.parse(
        text,
        languages=languages,
        settings={
            "PREFER_DATES_FROM": "future",
            "RELATIVE_BASE": received_at.replace(tzinfo=None),
            "REQUIRE_PARTS": ["day", "month"],
        },
    )
    return parsed.date() if parsed is not None else None


def _ja_date(text: str, received: date) -> date | None:
    # Numeric Japanese dates are exact: read them directly (dateparser misses "11月25日").
    numbers = [int(n) for n in re.findall(r"\d+", text)]
    year, month, day = numbers if len(numbers) == 3 else (received.year, *numbers)
    try:
        found = date(year, month, day)
    except ValueError:
        return None
    if len(numbers) == 2 and found < received:
        try:
            found = date(year + 1, month, day)  # "1月10日まで" written in December
        except ValueError:
            return None
    return found


def _date_at(m: re.Match[str], kind: str, received_at: datetime, tz: tzinfo) -> datetime | None:
    groups = m.groupdict()
    zone = _zone_named(groups.get("zone1") or groups.get("zone2") or groups.get("zone3"), tz)
    try:
        clock = _clock(groups.get("clock") or groups.get("clock1") or groups.get("clock2"))
    except ValueError:
        clock = None  # no time of day ("25:00"): the date alone still stands
    if zone is None:
        return None
    # The day is read in the stated zone (else the seller's): "Jan 14" is Jan 14 there.
    received_there = received_at.astimezone(zone)
    if kind == "ja_date":
        day = _ja_date(m.group("date"), received_there.date())
    else:
        day = _parse_date(m.group("date"), received_there, ["en"])
    if day is None:
        return None
    return _at(day, clock, zone, day_start=kind == "en_date" and m.group("word").lower() == "before")


def stated_deadline(
    text: str, received_at: datetime, tz: tzinfo | None = None, *, category: str | None = None
) -> StatedDeadline | None:
    """The earliest deadline ``text`` asks the seller to meet, relative to ``received_at``;
    None if none.

    A span or date counts only in a sentence that asks the seller to act (see ``_asks``), and
    never in quoted text. ``tz`` is the seller's zone: where a stated time without a zone is
    read and a date without a time ends (default: the local zone). ``category`` is the
    message's; Amazon's own mail (not ``NOT_AMAZON_CATEGORIES``) also asks with a plain "you
    submit …". Deadlines already past when the message arrived are ignored (they quote history).
    """
    if not text:
        return None
    zone = tz or local_zone()
    folded = _fold(text[:SCAN_CHARS])
    amazon = category is not None and category not in NOT_AMAZON_CATEGORIES
    sentences: _Sentences | None = None
    found: list[StatedDeadline] = []
    for m, kind in _candidates(folded):
        sentences = sentences or _Sentences(folded)
        bounds = sentences.around(m.start(), m.end())
        if bounds is None:
            continue
        sentence = folded[bounds[0] : bounds[1]]
        start, end = m.start() - bounds[0], m.end() - bounds[0]
        if not _asks(sentence, start, end, japanese=kind.startswith("ja"), amazon=amazon):
            continue
        at = _span_at(m, kind, received_at, zone) if kind.endswith("span") else _date_at(m, kind, received_at, zone)
        if at is not None and at > received_at:
            found.append(StatedDeadline(at, m.group(0).strip()))
    return min(found, key=lambda d: d.at) if found else None


def _hours(value: float) -> str:
    return f"{value:g} h"


def compute_deadlines(
    received_at: datetime,
    category: str,
    config: Config,
    stated_at: datetime | None = None,
    stated_text: str | None = None,
) -> Deadlines:
    """Due and critical times: the category's defaults, each replaced by the stated deadline
    where that is earlier; for ``STATED_WINDOW_CATEGORIES`` a later stated deadline is the
    critical one."""
    rule = config.deadline(category)
    due = received_at + timedelta(hours=rule.due_hours)
    critical = received_at + timedelta(hours=rule.critical_hours)
    default = f"default {_hours(rule.due_hours)} / {_hours(rule.critical_hours)} ({category})"
    if stated_at is None:
        return Deadlines(due, critical, default)
    label = stated_text or stated_at.isoformat()
    if stated_at > critical and category in STATED_WINDOW_CATEGORIES:
        return Deadlines(due, stated_at, f"default {_hours(rule.due_hours)} ({category}), critical stated: {label}")
    if stated_at >= critical:
        return Deadlines(due, critical, f"{default}; stated {label} is later")
    if stated_at <= due:
        return Deadlines(stated_at, stated_at, f"stated: {label}")
    return Deadlines(due, stated_at, f"default {_hours(rule.due_hours)} ({category}), critical stated: {label}")


def message_state(message: Any, open_state: Callable[[Any], str]) -> str:
    """The state of a stored message (``direction``, ``needs_reply``, ``replied_at``,
    ``dismissed_at``): the seller's own mail is ``outbound``; an inbound message dismissed
    is ``dismissed`` even if a reply came, then ``replied``, then, if it needs a reply, its
    deadline state (``open_state(message)``, asked only then), else ``no_reply_needed``."""
    if message.direction != "inbound":
        return str(message.direction)
    if message.dismissed_at is not None:
        return DISMISSED
    if message.replied_at is not None:
        return REPLIED
    return open_state(message) if message.needs_reply else NO_REPLY_NEEDED


def state_at(now: datetime, deadlines: Deadlines, warn_hours: float) -> str:
    """pending, due_soon, late or critical at ``now``."""
    if now >= deadlines.critical_at:
        return CRITICAL
    if now >= deadlines.due_at:
        return LATE
    if deadlines.due_at - now < timedelta(hours=warn_hours):
        return DUE_SOON
    return PENDING


# --------------------------------------------------------------------------- the check list

_RANK = {PENDING: 0, DUE_SOON: 1, LATE: 2, CRITICAL: 3}
EXIT_CLEAR = 0
EXIT_LATE = 3
EXIT_CRITICAL = 4


@dataclass(frozen=True)
class CheckItem:
    id: int
    account: str
    category: str
    from_name: str | None
    from_addr: str | None
    subject: str | None
    received_at: datetime
    deadlines: Deadlines
    state: str
    #: hours until due (negative: overdue)
    hours_left: float


@dataclass(frozen=True)
class CheckReport:
    now: datetime
    #: most urgent first
    items: tuple[CheckItem, ...]
    #: replied / dismissed totals, for --verbose
    off_list: dict[str, int]

    @property
    def counts(self) -> dict[str, int]:
        counts = {state: 0 for state in reversed(OPEN_STATES)}
        for item in self.items:
            counts[item.state] += 1
        return counts

    @property
    def exit_code(self) -> int:
        """0 clear (only pending or due_soon), 3 something late, 4 something critical."""
        states = {item.state for item in self.items}
        if CRITICAL in states:
            return EXIT_CRITICAL
        if LATE in states:
            return EXIT_LATE
        return EXIT_CLEAR


def check_report(
    conn: Any, config: Config, now: datetime, account: str | None = None, *, with_totals: bool = False
) -> CheckReport:
    """What awaits a reply at ``now``: one indexed query, then deadlines and states computed
    for those rows only. Run :func:`hygiene.threads.match_replies` first. ``with_totals``
    also counts the replied and dismissed messages (for --verbose)."""
    from hygiene.store.replies import awaiting_reply, off_list_counts

    items = []
    for row in awaiting_reply(conn, account):
        deadlines = compute_deadlines(row.received_at, row.category, config, row.stated_deadline_at, row.stated_deadline_text)
        items.append(
            CheckItem(
                id=row.id,
                account=row.account,
                category=row.category,
                from_name=row.from_name,
                from_addr=row.from_addr,
                subject=row.subject,
                received_at=row.received_at,
                deadlines=deadlines,
                state=state_at(now, deadlines, config.warn_hours),
                hours_left=round((deadlines.due_at - now).total_seconds() / 3600, 2),
            )
        )
    # Most urgent state first; within a state claims first, then the earliest due.
    items.sort(key=lambda i: (-_RANK[i.state], i.category not in FIRST_AMONG_EQUALS, i.deadlines.due_at, i.id))
    totals = off_list_counts(conn, account) if with_totals else {}
    return CheckReport(now=now, items=tuple(items), off_list=totals)
