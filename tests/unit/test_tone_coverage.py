"""Wider coverage as data (issue 12, item 3): Japanese casual kindness, polite past questions,
honorific and humble verbs."""

from __future__ import annotations

import pytest

from hygiene.tone import check_tone


def courtesies(text: str) -> set[str]:
    return {f.kind for f in check_tone(text, "ja").findings if (f.credit or 0) > 0}


@pytest.mark.parametrize("text", ["ありがとう！とても助かった。", "ごめんね、返事が遅くなって。"])
def test_casual_kindness_is_a_small_courtesy_ja(text: str) -> None:
    found = [f for f in check_tone(text, "ja").findings if (f.credit or 0) > 0]
    assert found and all(f.credit is not None and f.credit <= 2 for f in found)


@pytest.mark.parametrize("text", ["商品は無事に届きましたか？", "昨日のお打ち合わせはいかがでしたか？", "ご確認いただけませんでしたか？"])
def test_a_polite_past_question_is_polite_ja(text: str) -> None:
    draft = "いつもお世話になっております。" + text + "よろしくお願いいたします。"
    assert "plain_form" not in {f.kind for f in check_tone(draft, "ja").findings}


def test_a_polite_past_question_scores_as_polite_as_a_present_one_ja() -> None:
    assert check_tone("商品は届きましたか。", "ja").score >= check_tone("商品は届きますか。", "ja").score


@pytest.mark.parametrize("text", [
    "社長が明日お見えになります。", "お帰りになりましたら、ご連絡ください。", "心よりお祝い申し上げます。",
    "担当者がいらっしゃいますでしょうか。", "明日の午後に伺います。", "資料を拝見しました。",
])
def test_honorific_and_humble_verbs_are_courtesies_ja(text: str) -> None:
    assert "polite_form" in courtesies(text)


def test_two_polite_texts_differing_only_in_keigo_do_not_tie_ja() -> None:
    plain_polite = check_tone("明日の午後に行きます。資料を見ました。", "ja").score
    keigo = check_tone("明日の午後に伺います。資料を拝見しました。", "ja").score
    assert keigo > plain_polite
