"""Plan of action (改善計画) structure checks: each rule in Japanese and English, and the
labelled appeals in tests/data/tone/appeals.jsonl."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from hygiene.tone.appeal import appeal_findings
from hygiene.tone.model import APPEAL_KINDS, Finding

APPEALS = Path(__file__).parent.parent / "data" / "tone" / "appeals.jsonl"

GOOD_JA = """概要
出品商品の真贋に関する件について、原因を特定し、以下の対応を実施いたしました。

1. 原因
・仕入先の確認手順に不備があり、正規品の証明書類を確認しておりませんでした。

2. 実施した対応
・該当商品の出品をすべて削除いたしました。
・在庫をすべて検品し、問題のある商品を廃棄しました。

3. 再発防止策
・今後は、仕入先から請求書と納品書を必ず取得し、担当者二名でダブルチェックを行います。
・月に一度、出品中の全商品を監査する体制を整えました。

仕入先の請求書を添付いたします。ご確認のほど、よろしくお願いいたします。
"""

GOOD_EN = """Summary
Our account was deactivated for an authenticity complaint about one listing. We have identified the root cause and fixed it.

1. Root cause
- We bought a batch from a new wholesaler without checking its authorization.
- Our intake check did not compare the items against the brand's packaging.

2. Actions taken
- We have removed every listing sourced from that wholesaler.
- We have refunded the two buyers who complained and contacted them by message.
- We have quarantined the remaining stock and returned it to the wholesaler.

3. Preventive measures
- Going forward we buy only from distributors authorized by the brand, with a letter of authorization on file.
- A second person will check every new supplier and every first delivery before we list it.
- We will audit our active listings against supplier invoices every month.

4. Evidence
- Attached are the invoices from our authorized distributor for the last six months.

Thank you for reviewing our plan of action.
"""


def kinds(text: str, language: str) -> set[str]:
    return {f.kind for f in appeal_findings(text, language)}


def drop_section(text: str, heading: str) -> str:
    """The appeal without one numbered section (heading line and its bullets)."""
    out, skipping = [], False
    for line in text.splitlines():
        if line.strip().startswith(tuple("0123456789")):
            skipping = heading in line
        if not skipping:
            out.append(line)
    return "\n".join(out)


def test_findings_hold_their_passage_and_a_known_kind() -> None:
    bad = "なぜ停止になったのでしょうか。売上金が保留されていて困ります。"
    for text, lang in ((GOOD_JA, "ja"), (GOOD_EN, "en"), (bad, "ja"), ("Why? Release my funds now.", "en")):
        for f in appeal_findings(text, lang):
            assert isinstance(f, Finding) and f.kind in APPEAL_KINDS
            assert text[f.start : f.end] == f.text
            assert f.message and f.suggestion and f.weight > 0


def test_good_appeals_pass_in_both_languages() -> None:
    assert kinds(GOOD_JA, "ja") == set()
    assert kinds(GOOD_EN, "en") == set()


@pytest.mark.parametrize(
    ("lang", "heading", "kind"),
    [
        ("ja", "原因", "appeal_missing_root_cause"),
        ("ja", "実施した対応", "appeal_missing_actions_taken"),
        ("ja", "再発防止策", "appeal_missing_prevention"),
        ("en", "Root cause", "appeal_missing_root_cause"),
        ("en", "Actions taken", "appeal_missing_actions_taken"),
        ("en", "Preventive measures", "appeal_missing_prevention"),
    ],
)
def test_a_missing_section_is_named(lang: str, heading: str, kind: str) -> None:
    good = GOOD_JA if lang == "ja" else GOOD_EN
    # the summary line names the parts too; take it out along with the section
    weakened = drop_section(good, heading)
    if lang == "ja":
        weakened = weakened.replace("原因を特定し、以下の対応を実施いたしました", "ご報告いたします")
    else:
        weakened = weakened.replace(" We have identified the root cause and fixed it.", "")
    assert kind in kinds(weakened, lang), weakened
    assert kind not in kinds(good, lang)


def test_missing_evidence_is_named() -> None:
    ja = GOOD_JA.replace("仕入先の請求書を添付いたします。", "").replace("仕入先から請求書と納品書を必ず取得し、", "")
    ja = ja.replace("仕入先の確認手順", "確認手順").replace("正規品の証明書類", "正規品であること")
    assert "appeal_missing_evidence" in kinds(ja, "ja")
    en = drop_section(GOOD_EN, "Evidence").replace(", with a letter of authorization on file", "")
    en = en.replace("every new supplier", "every new source").replace(" against supplier invoices", "")
    en = en.replace("distributors authorized", "sources authorized").replace("wholesaler", "seller")
    assert "appeal_missing_evidence" in kinds(en, "en"), en


def test_missing_points_are_named() -> None:
    for text, lang in ((GOOD_JA, "ja"), (GOOD_EN, "en")):
        flat = " ".join(line.lstrip("・-0123456789. ") for line in text.splitlines())
        found = kinds(flat, lang)
        assert "appeal_missing_points" in found
        assert "appeal_missing_points" not in kinds(text, lang)
        missing = next(f for f in appeal_findings(flat, lang) if f.kind == "appeal_missing_points")
        assert missing.start == 0  # anchored at the start: there is no passage to point at


def test_asking_why_points_at_the_question() -> None:
    ja = GOOD_JA + "\nなぜアカウントが停止されたのでしょうか。"
    (why,) = [f for f in appeal_findings(ja, "ja") if f.kind == "appeal_asks_why"]
    assert why.text.startswith("なぜ") and why.line == ja[: why.start].count("\n") + 1
    en = GOOD_EN + "\nWhy was our account suspended?"
    (why_en,) = [f for f in appeal_findings(en, "en") if f.kind == "appeal_asks_why"]
    assert why_en.text.lower().startswith("why")


def test_questioning_the_decision_is_flagged() -> None:
    assert "appeal_questions_decision" in kinds(GOOD_JA + "\n今回の停止は不当だと考えております。", "ja")
    assert "appeal_questions_decision" in kinds(GOOD_JA + "\n何かの間違いではないでしょうか。", "ja")
    assert "appeal_questions_decision" in kinds(GOOD_EN + "\nThis suspension is unfair.", "en")
    assert "appeal_questions_decision" in kinds(GOOD_EN + "\nThis was a mistake on your part.", "en")


def test_money_complaint_is_flagged_and_plain_mention_is_not() -> None:
    assert "appeal_money_complaint" in kinds(GOOD_JA + "\n売上金が保留されており、大変困っております。", "ja")
    assert "appeal_money_complaint" in kinds(GOOD_EN + "\nYou are holding our funds and we cannot pay our staff.", "en")
    assert "appeal_money_complaint" not in kinds(GOOD_EN, "en")


def test_apology_only_is_flagged() -> None:
    ja = "この度は大変申し訳ございませんでした。深く反省しております。今後はこのようなことがないよう気をつけます。"
    assert "appeal_apology_only" in kinds(ja, "ja")
    en = "We are very sorry for this. We sincerely apologize and it will not happen again."
    assert "appeal_apology_only" in kinds(en, "en")
    assert "appeal_apology_only" not in kinds(GOOD_JA, "ja")  # apologising next to measures is fine


def test_length_band() -> None:
    assert "appeal_length" in kinds("申し訳ございません。", "ja")
    assert "appeal_length" in kinds("Sorry.", "en")
    assert "appeal_length" in kinds(GOOD_JA * 12, "ja")
    assert "appeal_length" in kinds(GOOD_EN * 6, "en")


def rows() -> list[dict[str, Any]]:
    return [json.loads(line) for line in APPEALS.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_appeals_set_shape() -> None:
    data = rows()
    assert len(data) >= 24
    for lang in ("ja", "en"):
        for label in ("good", "bad"):
            assert sum(1 for r in data if r["lang"] == lang and r["label"] == label) >= 6
    for r in data:
        assert set(r["missing"]) <= set(APPEAL_KINDS), r["id"]
        assert (r["label"] == "good") == (not r["missing"]), r["id"]


def test_bad_appeals_get_every_expected_kind() -> None:
    for r in rows():
        if r["label"] == "bad":
            found = kinds(str(r["text"]), str(r["lang"]))
            assert set(r["missing"]) <= found, (r["id"], set(r["missing"]) - found)


def test_good_appeals_get_none_of_the_missing_kinds_and_fewer_findings() -> None:
    data = rows()
    expected = {k for r in data for k in r["missing"]}
    for lang in ("ja", "en"):
        good = [appeal_findings(str(r["text"]), lang) for r in data if r["lang"] == lang and r["label"] == "good"]
        bad = [appeal_findings(str(r["text"]), lang) for r in data if r["lang"] == lang and r["label"] == "bad"]
        for findings in good:
            assert not {f.kind for f in findings} & expected, findings
        assert max(len(f) for f in good) < min(len(f) for f in bad)
        assert max(sum(x.weight for x in f) for f in good) < min(sum(x.weight for x in f) for f in bad)


def test_summary_first_after_a_greeting_and_not_later() -> None:
    greeting = "いつもお世話になっております。山田商店の山田です。\n\n"
    assert "appeal_missing_summary" not in kinds(greeting + GOOD_JA, "ja")
    # the summary in prose (issue and fix named), no heading
    prose = GOOD_JA.replace("概要\n", "")
    assert "appeal_missing_summary" not in kinds(prose, "ja")
    # no summary: straight into the sections
    no_summary = GOOD_JA.split("\n\n", 1)[1]
    assert "appeal_missing_summary" in kinds(no_summary, "ja")
    assert "appeal_missing_summary" not in kinds("Dear Seller Performance team,\n\n" + GOOD_EN, "en")
    assert "appeal_missing_summary" in kinds(GOOD_EN.split("\n\n", 1)[1], "en")
    (summary,) = [f for f in appeal_findings(no_summary, "ja") if f.kind == "appeal_missing_summary"]
    assert (summary.start, summary.text) == (0, no_summary.splitlines()[0])


def test_long_sentences_are_pointed_at() -> None:
    long_ja = "・在庫の確認を担当者が手作業で行っていたため、繁忙期には確認が追いつかず、欠品している商品の注文を受けてしまい、発送が遅れる事態が複数回発生しておりましたが、その際にも購入者様への連絡が遅れておりました。"
    (ja,) = [f for f in appeal_findings(GOOD_JA + long_ja, "ja") if f.kind == "appeal_long_sentence"]
    assert ja.text.startswith("・在庫の確認") and ja.text.endswith("。")
    long_en = ("- We did not check the listings because the person who usually does it was away and nobody else "
               "had been trained to do it, so the problem went unnoticed for several weeks until buyers complained.")
    (en,) = [f for f in appeal_findings(GOOD_EN + long_en, "en") if f.kind == "appeal_long_sentence"]
    assert en.text.startswith("- We did not check")


def test_explaining_why_and_admitting_a_fault_are_not_sinks() -> None:
    ja = GOOD_JA + "\nなぜ問題が起きたかを調査し、出品情報に誤りがあったことを確認いたしました。"
    assert not kinds(ja, "ja") & {"appeal_asks_why", "appeal_questions_decision"}
    en = GOOD_EN + "\nThis explains why the error happened. We understand what went wrong in our process."
    assert not kinds(en, "en") & {"appeal_asks_why", "appeal_questions_decision"}
    assert "appeal_money_complaint" not in kinds(GOOD_JA + "\n返金は全額完了しております。", "ja")


def test_quoting_amazons_notice_is_not_the_seller_asking() -> None:
    ja = GOOD_JA + "\nいただいた通知「なぜこの出品が問題なのか」を確認いたしました。"
    assert "appeal_asks_why" not in kinds(ja, "ja")
    en = GOOD_EN + '\n> Why was my listing removed?\n'
    assert "appeal_asks_why" not in kinds(en, "en")


def test_demands_are_flagged() -> None:
    assert "appeal_demand" in kinds(GOOD_JA + "\n直ちにアカウントの停止を解除してください。", "ja")
    assert "appeal_demand" in kinds(GOOD_EN + "\nReinstate my account immediately.", "en")
    assert "appeal_demand" in kinds(GOOD_EN + "\nI demand an answer.", "en")
    assert "appeal_demand" not in kinds(GOOD_EN + "\nWe would be grateful if you could review our plan.", "en")
