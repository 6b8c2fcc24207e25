"""Structure checks for a plan of action (改善計画): what Amazon's reviewers look for, and
what sinks an appeal. Patterns live in ``data/appeal-<language>.tsv``.

Reviewers read many appeals quickly, often machine translated: a summary first, numbered or
bulleted points, short sentences, the root cause (原因), the actions already taken (実施した
対応), the measures that prevent a repeat (再発防止策) and the evidence (invoices, 請求書). An
apology with no measures, questioning the decision, asking why, complaining about withheld
money or demanding reinstatement sink an appeal.
"""

from __future__ import annotations

import bisect
import itertools
import re
from functools import cache
from pathlib import Path

from hygiene.tone.engine import line_matches
from hygiene.tone.model import SENTENCE, Finding, line_column

DATA = Path(__file__).parent / "data"

#: sensible length bands (characters for Japanese, words for English)
JA_CHARS = (200, 3000)
EN_WORDS = (80, 700)
#: a sentence longer than this is hard to read after machine translation
JA_SENTENCE_CHARS = 80
EN_SENTENCE_WORDS = 30
#: findings of one passage-level kind reported at most (the rest repeat the point)
MAX_HITS = 3

#: (tried at line starts only: from inside a line of spaces, each try ran to the line's end)
_PARAGRAPH = re.compile(r"(?<![^\n])(?:[^\n]*\S[^\n]*(?:\n|$))+")
#: quoted passages (Amazon's own notice, a buyer's words) are not the seller speaking. The
#: whitespace before ">" stays on its line and a quotation ends at its next opening mark:
#: otherwise each of many blank lines or unclosed 「 rescanned the rest (quadratic)
_QUOTED = re.compile(r"^[^\S\n]*>.*$|「[^「」\n]*」|『[^『』\n]*』|“[^“”\n]*”|\"[^\"\n]{2,200}\"", re.MULTILINE)

# part: (kind, weight, why it matters, what to add (ja), what to add (en))
_Advice = tuple[str, float, str, str, str]
_MISSING: dict[str, _Advice] = {
    "root_cause": (
        "appeal_missing_root_cause", 15.0,
        "Without the root cause the reviewer cannot believe the problem will not recur.",
        "「原因」の見出しを設け、なぜ問題が起きたかを具体的に書いてください（例: 「1. 原因 ・仕入先の確認手順に不備がありました」）。",
        "Add a 'Root cause' section: why it happened, concretely (e.g. '1. Root cause - our inspection step missed …').",
    ),
    "actions_taken": (
        "appeal_missing_actions_taken", 15.0,
        "Reviewers want the steps already taken, with dates where possible.",
        "「実施した対応」の見出しで、すでに行ったこと（例: 「・該当商品の出品を削除いたしました」「・購入者様へ返金いたしました」）を箇条書きにしてください。",
        "Add 'Actions taken': what you have already done, as bullets (e.g. '- We have removed the listing', "
        "'- We have refunded the buyers').",
    ),
    "prevention": (
        "appeal_missing_prevention", 20.0,
        "The measures that prevent a repeat are what decides an appeal; 'we will be careful' is not one.",
        "「再発防止策」の見出しで、今後の仕組みを書いてください（例: 「・出荷前に担当者二名でダブルチェックを行います」「・毎月、全出品を監査します」）。",
        "Add 'Preventive measures': process changes that stop it recurring (e.g. '- Going forward a second person "
        "checks every new supplier', '- We audit all listings monthly').",
    ),
    "evidence": (
        "appeal_missing_evidence", 8.0,
        "Claims without evidence carry little weight: reviewers look for documents.",
        "仕入先の請求書・納品書など、証拠書類を添付した旨を記載してください（例: 「仕入先の請求書を添付いたします」）。",
        "Mention the evidence you attach (e.g. 'Attached are our supplier invoices for the last six months').",
    ),
}
_SUMMARY: _Advice = (
    "appeal_missing_summary", 8.0,
    "Reviewers read the first lines first: what happened and what you did belongs up front.",
    "冒頭に「概要」として、何が起きたか・何を実施したかを2〜3行でまとめてください"
    "（例: 「概要 出荷遅延の件について、原因を特定し、以下の対策を実施いたしました。」）。",
    "Open with a short summary of what happened and what you have done "
    "(e.g. 'Summary: our late shipment rate exceeded the target; we found the cause and fixed it.').",
)
_POINTS: _Advice = (
    "appeal_missing_points", 8.0,
    "Reviewers skim: numbered or bulleted points are read, paragraphs are not.",
    "各項目を「1. 原因」「2. 実施した対応」「3. 再発防止策」のように番号付きにし、中身を「・」の箇条書きにしてください。",
    "Number the sections ('1. Root cause', '2. Actions taken', '3. Preventive measures') and write each as '- ' bullets.",
)
_APOLOGY_ONLY: _Advice = (
    "appeal_apology_only", 25.0,
    "An appeal is an improvement plan, not a letter of apology: an apology without measures does not get "
    "an account back.",
    "お詫びは一文にとどめ、実施した対応と再発防止策を具体的に書いてください。",
    "Keep one apology, then list the actions taken and the preventive measures.",
)
_LONG_SENTENCE: _Advice = (
    "appeal_long_sentence", 3.0,
    "Long sentences are hard to follow, especially after machine translation: reviewers may read it abroad.",
    "1文を40〜60字程度に分けてください。",
    "Split it: keep sentences under about 20 words.",
)
# Sinks point at the passage; the suggestion rewords it.
_SINKS: dict[str, _Advice] = {
    "questions_decision": (
        "appeal_questions_decision", 20.0,
        "Disputing the decision makes the reviewer defend it instead of reinstating you.",
        "判断への反論は削除し、「確認が不十分でした」と認めたうえで原因と対策を示してください。",
        "Drop the dispute; write what you found instead, e.g. 'We reviewed our process and found that …'.",
    ),
    "asks_why": (
        "appeal_asks_why", 15.0,
        "Asking why reads as not understanding the problem: an appeal must show that you do.",
        "質問ではなく、自社で特定した原因を記載してください（例: 「調査の結果、原因は〜であると判明しました」）。",
        "Replace the question with the cause you found, e.g. 'Our review showed the cause was …'.",
    ),
    "money_complaint": (
        "appeal_money_complaint", 15.0,
        "Complaining about withheld funds shifts the focus from the fix to your money.",
        "売上金・入金についての言及は削除し、改善内容に絞ってください。",
        "Leave the funds out; keep the appeal about the fix.",
    ),
    "demand": (
        "appeal_demand", 15.0,
        "A demand in an appeal reads as not taking the problem seriously.",
        "「ご確認いただけますと幸いです」のようにお願いの形にしてください。",
        "Ask instead: 'We would be grateful if you could review our plan of action.'",
    ),
}


@cache
def _patterns(language: str) -> dict[str, re.Pattern[str]]:
    out: dict[str, re.Pattern[str]] = {}
    for line in (DATA / f"appeal-{language}.tsv").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            part, pattern = line.split("\t", 1)
            out[part] = re.compile(pattern, re.IGNORECASE | re.MULTILINE)
    return out


def _at(text: str, advice: _Advice, lang: str, start: int, end: int) -> Finding:
    kind, weight, message, suggest_ja, suggest_en = advice
    line, column = line_column(text, start)
    return Finding(kind, start, end, text[start:end], message, suggest_ja if lang == "ja" else suggest_en,
                   line, column, weight, f"rule:{kind}")


def _has_summary(text: str, patterns: dict[str, re.Pattern[str]]) -> bool:
    """A summary heading in the opening, or an opening paragraph in prose that names both the
    issue and the fix. Greeting and title paragraphs before it are skipped."""
    for para in [m.group(0) for m in _PARAGRAPH.finditer(text)][:4]:
        if patterns["summary_heading"].search(para):
            return True
        prose = "\n".join(line for line in para.splitlines() if not patterns["points"].match(line))
        if patterns["summary_issue"].search(prose) and patterns["summary_fix"].search(prose):
            return True
        if not patterns["preamble"].match(para):
            return False
    return False


def _long_sentences(text: str, lang: str) -> list[Finding]:
    found: list[Finding] = []
    for m in SENTENCE["ja" if lang == "ja" else "en"].finditer(text):
        sentence = m.group(0).strip()
        size = len(sentence) if lang == "ja" else len(sentence.split())
        if size > (JA_SENTENCE_CHARS if lang == "ja" else EN_SENTENCE_WORDS):
            start = m.start() + len(m.group(0)) - len(m.group(0).lstrip())
            found.append(_at(text, _LONG_SENTENCE, lang, start, start + len(sentence)))
            if len(found) >= MAX_HITS:
                break
    return found


def appeal_findings(text: str, language: str) -> list[Finding]:
    """What an appeal lacks (anchored at its first line) and what in it hurts (the passage)."""
    lang = "ja" if language == "ja" else "en"
    patterns = _patterns(lang)
    first_line_end = text.find("\n") if "\n" in text else len(text)
    found: list[Finding] = []

    def missing(advice: _Advice) -> None:
        found.append(_at(text, advice, lang, 0, first_line_end))

    if not _has_summary(text, patterns):
        missing(_SUMMARY)
    if len(list(itertools.islice(line_matches(patterns["points"], text), 2))) < 2:
        missing(_POINTS)
    for part, advice in _MISSING.items():
        if not patterns[part].search(text):
            missing(advice)

    size = len("".join(text.split())) if lang == "ja" else len(text.split())
    low, high = JA_CHARS if lang == "ja" else EN_WORDS
    if size < low or size > high:
        unit = "characters" if lang == "ja" else "words"
        if size < low:
            add = ("原因・実施した対応・再発防止策を具体的に加えてください。", "Add the root cause, the actions taken and the preventive measures.")
        else:
            add = ("要点を箇条書きにして、全体を短くしてください。", "Cut it down to the points, as bullets.")
        reason = "too short to show a plan" if size < low else "too long to be read attentively"
        found.append(_at(text, ("appeal_length", 8.0, f"{size} {unit}: {reason} (a sensible appeal is {low}-{high}).",
                                add[0], add[1]), lang, 0, first_line_end))
    found += _long_sentences(text, lang)

    # sorted and disjoint (one finditer): only the last quote starting at or before a hit can
    # hold it, found by bisection (a scan of every quote per hit was quadratic)
    quoted = [m.span() for m in _QUOTED.finditer(text)]
    quote_starts = [s for s, _ in quoted]

    def in_quote(start: int, end: int) -> bool:
        i = bisect.bisect_right(quote_starts, start) - 1
        return i >= 0 and end <= quoted[i][1]

    for part, advice in _SINKS.items():
        hits = (m for m in patterns[part].finditer(text) if m.end() > m.start() and not in_quote(m.start(), m.end()))
        for m in itertools.islice(hits, MAX_HITS):
            found.append(_at(text, advice, lang, m.start(), m.end()))

    apology = patterns["apology"].search(text)
    if apology and not (patterns["actions_taken"].search(text) or patterns["prevention"].search(text)):
        found.append(_at(text, _APOLOGY_ONLY, lang, apology.start(), apology.end()))
    return found
