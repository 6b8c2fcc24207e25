"""Structure checks for a plan of action (改善計画): what Amazon's reviewers look for, and
what sinks an appeal. Patterns live in ``data/appeal-<language>.tsv``.

Reviewers read many appeals quickly: a summary first, numbered or bulleted points, short
sentences, the root cause (原因), the actions already taken (実施した対応), the measures
that prevent a repeat (再発防止策) and the evidence (invoices, 請求書). An apology with no
measures, questioning the decision, asking why, or complaining about withheld money fail.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

from hygiene.tone.model import Finding, line_column

DATA = Path(__file__).parent / "data"

#: sensible length bands (characters for Japanese, words for English)
JA_CHARS = (200, 3000)
EN_WORDS = (80, 700)
_BULLETS = re.compile(r"^\s*(?:[・\-*●■◆○□◇※]|\d+[.)．）]|[（(]\d+[)）]|[①-⑳]|第[一二三四五六七八九十\d]+)", re.MULTILINE)

_MISSING = {
    # part: (kind, weight, why it matters, what to add (ja), what to add (en))
    "summary": (
        "appeal_missing_summary", 8.0,
        "Reviewers read the first lines first: say what happened and what you did, up front.",
        "冒頭に「概要」として、何が起きたか・何を実施したかを2〜3行でまとめてください。",
        "Open with a short summary: what happened and what you have done, in two or three lines.",
    ),
    "root_cause": (
        "appeal_missing_root_cause", 15.0,
        "Without the root cause the reviewer cannot believe the problem will not recur.",
        "「原因」の見出しを設け、なぜ問題が起きたかを具体的に書いてください（例: 検品手順に不備がありました）。",
        "Add a 'Root cause' section: why it happened, concretely (e.g. 'our inspection step missed …').",
    ),
    "actions_taken": (
        "appeal_missing_actions_taken", 15.0,
        "Reviewers want the steps already taken, with dates where possible.",
        "「実施した対応」の見出しで、すでに行ったこと（出品削除、返金、購入者への連絡など）を箇条書きにしてください。",
        "Add 'Actions taken': what you have already done (listing removed, buyers refunded, …), as bullets.",
    ),
    "prevention": (
        "appeal_missing_prevention", 20.0,
        "The measures that prevent a repeat are what decides an appeal.",
        "「再発防止策」の見出しで、今後の仕組み（ダブルチェック、仕入先の確認手順、定期監査など）を書いてください。",
        "Add 'Preventive measures': the process changes that stop it recurring (double checks, supplier vetting, audits).",
    ),
    "evidence": (
        "appeal_missing_evidence", 8.0,
        "Claims without evidence carry little weight.",
        "仕入先の請求書・納品書など、証拠書類を添付した旨を記載してください。",
        "Mention the evidence you attach: supplier invoices, receipts, letters of authorization.",
    ),
}
_SINKS = {
    "questions_decision": (
        "appeal_questions_decision", 20.0,
        "Disputing the decision makes the reviewer defend it instead of reinstating you.",
        "判断への反論ではなく、「確認不足がありました」と原因と対策を示してください。",
        "Do not dispute the decision; acknowledge the issue and show the fix.",
    ),
    "asks_why": (
        "appeal_asks_why", 15.0,
        "Asking why reads as not understanding the problem: an appeal must show that you do.",
        "質問ではなく、自社で特定した原因を記載してください。",
        "Replace the question with the cause you identified yourself.",
    ),
    "money_complaint": (
        "appeal_money_complaint", 15.0,
        "Complaining about withheld funds shifts the focus from the fix to your money.",
        "資金についての言及は削除し、改善内容に絞ってください。",
        "Leave the funds out; keep the appeal about the fix.",
    ),
    "demand": (
        "appeal_demand", 15.0,
        "A demand in an appeal reads as not taking the problem seriously.",
        "「ご確認いただけますと幸いです」のようにお願いの形にしてください。",
        "Ask instead: 'We would be grateful if you could review our plan.'",
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


def _at(text: str, kind: str, start: int, end: int, weight: float, message: str, suggestion: str) -> Finding:
    line, column = line_column(text, start)
    return Finding(kind, start, end, text[start:end], message, suggestion, line, column, weight)


def appeal_findings(text: str, language: str) -> list[Finding]:
    """What an appeal lacks (anchored at its first line) and what in it hurts (the passage)."""
    lang = "ja" if language == "ja" else "en"
    patterns = _patterns(lang)
    first_line_end = text.find("\n") if "\n" in text else len(text)
    found: list[Finding] = []
    for part, (kind, weight, message, suggest_ja, suggest_en) in _MISSING.items():
        pattern = patterns[part]
        # The summary must come first: look only at the opening paragraph.
        where = text[: max(200, text.find("\n\n"))] if part == "summary" else text
        if not pattern.search(where):
            found.append(_at(text, kind, 0, first_line_end, weight, message, suggest_ja if lang == "ja" else suggest_en))
    if len(_BULLETS.findall(text)) < 2:
        found.append(_at(text, "appeal_missing_points", 0, first_line_end, 8.0,
                         "Reviewers skim: numbered or bulleted points are read, paragraphs are not.",
                         "各項目を「1.」「2.」や「・」の箇条書きにしてください。" if lang == "ja" else "Write each section as numbered or bulleted points."))
    size = len(text.strip()) if lang == "ja" else len(text.split())
    low, high = JA_CHARS if lang == "ja" else EN_WORDS
    if size < low or size > high:
        unit = "characters" if lang == "ja" else "words"
        found.append(_at(text, "appeal_length", 0, first_line_end, 8.0,
                         f"{size} {unit}: outside the {low}-{high} a reviewer reads attentively.",
                         ("具体的な原因・対応・再発防止策を加えてください。" if lang == "ja" else "Add the cause, the actions and the preventive measures.")
                         if size < low else
                         ("要点を箇条書きにして短くしてください。" if lang == "ja" else "Cut it down to the points, as bullets.")))
    for part, (kind, weight, message, suggest_ja, suggest_en) in _SINKS.items():
        for m in list(patterns[part].finditer(text))[:3]:
            found.append(_at(text, kind, m.start(), m.end(), weight, message, suggest_ja if lang == "ja" else suggest_en))
    apology = patterns["apology"].search(text)
    has_fix = patterns["actions_taken"].search(text) or patterns["prevention"].search(text)
    if apology and not has_fix:
        found.append(_at(text, "appeal_apology_only", apology.start(), apology.end(), 25.0,
                         "An apology without measures does not get an account back.",
                         "謝罪に加えて、実施した対応と再発防止策を具体的に書いてください。" if lang == "ja"
                         else "Keep one apology, then list the actions taken and the preventive measures."))
    return found
