"""Wider coverage as data (issue 12, item 3): English disguised spellings, hashtags, name-calling,
identity attacks, profanity in scare quotes and aimed at the reader, veiled threats, threats of violence and
hatred; Japanese
casual kindness, polite past questions, honorific and humble verbs."""

from __future__ import annotations

import pytest

from hygiene.tone import check_tone
from hygiene.tone.engine import split_hashtag


def courtesies(text: str) -> set[str]:
    return {f.kind for f in check_tone(text, "ja").findings if (f.credit or 0) > 0}


@pytest.mark.parametrize("text", ["ありがとう！とても助かった。", "ごめんね、返事が遅くなって。", "一緒に頑張ろう！", "一緒に解決策を考えましょう。"])
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


def en_harms(text: str) -> list[tuple[str, str]]:
    return [(f.kind, f.text) for f in check_tone(text, "en").findings if f.weight > 0]


@pytest.mark.parametrize(("text", "word"), [
    ("What the f*ck is this?", "f*ck"), ("This is sh!t.", "sh!t"), ("Stop being an a$$.", "a$$"),
    ("f u c k this seller", "f u c k"), ("Total f@cking joke", "f@cking"), ("What a b!tch move", "b!tch"),
])
def test_disguised_profanity_is_profanity_en(text: str, word: str) -> None:
    assert ("insult", word) in en_harms(text)
    assert check_tone(text, "en").verdict == "block"


@pytest.mark.parametrize("text", [
    "I have 1 box left.", "Send $50 to us!", "My email is a@b.com!", "The F-150 parts shipped.", "Great deal #assassin #blessed",
    "Is it shipped yet?!", "Order #A123 and #B4567 are late.",
])
def test_symbols_and_hashtags_of_ordinary_words_are_not_profanity_en(text: str) -> None:
    assert not [k for k, _ in en_harms(text) if k == "insult"]


@pytest.mark.parametrize(("tag", "phrase"), [
    ("youareanidiot", "you are an idiot"), ("YouAreAnIdiot", "you are an idiot"), ("you_are_an_idiot", "you are an idiot"),
    ("amazonsucks", "amazon sucks"), ("assassin", None), ("blessed", None), ("idiot", None),
])
def test_hashtags_are_split_into_their_words(tag: str, phrase: str | None) -> None:
    assert split_hashtag(tag) == phrase


@pytest.mark.parametrize("text", ["#youareanidiot", "Worst seller ever #amazonsucks", "Thanks for nothing #YouAreAClown"])
def test_an_insult_inside_a_hashtag_is_found_en(text: str) -> None:
    result = check_tone(text, "en")
    assert any(k == "insult" and t.startswith("#") for k, t in en_harms(text)) and result.verdict == "block"


@pytest.mark.parametrize("text", [
    "You are such a scumbag.", "You are a waste of space.", "You fat pig.", "Typical hypocrites.", "You are nothing but a liar.",
])
def test_name_calling_is_an_insult_en(text: str) -> None:
    assert "insult" in {k for k, _ in en_harms(text)}


@pytest.mark.parametrize("text", ["Muslims are animals.", "Go back to your country.", "All immigrants are criminals."])
def test_an_identity_attack_is_an_insult_en(text: str) -> None:
    assert "insult" in {k for k, _ in en_harms(text)} and check_tone(text, "en").verdict == "block"


@pytest.mark.parametrize("text", ["You are one of our best customers.", "You are a star, thank you!", "Our tools are great."])
def test_kind_labels_for_a_person_are_not_name_calling_en(text: str) -> None:
    assert not [k for k, _ in en_harms(text) if k == "insult"]


def test_profanity_in_scare_quotes_is_the_writers_en() -> None:
    assert ("insult", "f*cking") in en_harms('This "f*cking" seller never answered.')
    assert ("insult", "shit") in en_harms('I hate this \u201cshit\u201d product.')
    # a quotation introduced as someone's words, or opening the sentence, stays theirs
    assert en_harms('The buyer wrote "you idiot" to us in the message.') == []
    assert en_harms('He called me an "idiot" in the chat, so I am asking for help.') == []


def test_profanity_aimed_at_the_reader_weighs_more_than_an_intensifier_en() -> None:
    def weight(text: str) -> float:
        return max(f.weight for f in check_tone(text, "en").findings if f.kind == "insult")

    assert weight("Fuck you.") > weight("This is fucking great news.")
    assert weight("You fucking idiot.") > weight("Holy shit, that was fast.")
    assert weight("Go fuck yourself.") > weight("Fucking finally.")


@pytest.mark.parametrize("text", ["You'll regret this.", "I know where you live.", "Watch your back."])
def test_a_veiled_threat_is_a_threat_en(text: str) -> None:
    assert "threat" in {k for k, _ in en_harms(text)}


@pytest.mark.parametrize("text", [
    "I will kill you.", "I want to kill all of them.", "I'm going to destroy you.", "They should all be shot.",
    "I hope you die.", "Drop dead.", "Go die in a fire.",
])
def test_a_threat_of_violence_blocks_en(text: str) -> None:
    result = check_tone(text, "en")
    assert result.verdict == "block" and "threat" in {f.kind for f in result.findings}


@pytest.mark.parametrize("text", ["I hate you.", "I really can't stand people like you.", "I despise you.", "You disgust me.", "I hate immigrants."])
def test_hatred_of_the_reader_or_a_group_is_an_insult_en(text: str) -> None:
    result = check_tone(text, "en")
    assert result.verdict == "block" and "insult" in {f.kind for f in result.findings}


@pytest.mark.parametrize("text", [
    "I could kill for a coffee.", "I will beat you to it.", "This should die down soon.", "We should eliminate the delay.",
    "I would like to destroy the old stock.", "I would never hurt you.", "Otherwise the batteries will drop dead.",
    "I hate to bother you again.", "I hate this delay.",
])
def test_violent_words_in_ordinary_sentences_are_not_threats_en(text: str) -> None:
    kinds = {f.kind for f in check_tone(text, "en").findings if f.weight > 0}
    assert not kinds & {"threat", "insult"}


def ja_harms(text: str) -> set[str]:
    return {f.kind for f in check_tone(text, "ja").findings if f.weight > 0}


@pytest.mark.parametrize("text", [
    "しね", "お前しね！", "もう死んでくれ。", "消えてくれ。", "地獄に落ちろ", "バーカ", "この野郎！", "ばかなの？", "ブサイク",
    "baka", "お前マジでshine!!", "日本から出ていけ", "チビのくせに",
])
def test_casual_insults_and_ill_wishes_in_kanji_kana_and_romaji_are_insults_ja(text: str) -> None:
    assert "insult" in ja_harms(text) and check_tone(text, "ja").verdict == "block"


@pytest.mark.parametrize("text", [
    "安いしね。", "送料も無料ですしね。", "わかりゃしねえ", "ばかりです。", "ばかばかしいほど安い。", "Shine Muscatを出品しました。",
    "パチンコ店です。", "ハゲタカファンド", "チビッコ向けの商品です。", "雑魚寝",
])
def test_ordinary_words_that_contain_an_insult_are_not_insults_ja(text: str) -> None:
    assert "insult" not in ja_harms(text)


@pytest.mark.parametrize("text", ["殺してやる。", "お前なんか大嫌いだ。", "アンタなんか嫌い", "あなたが嫌いです。"])
def test_a_threat_of_violence_or_hatred_of_the_reader_blocks_ja(text: str) -> None:
    result = check_tone(text, "ja")
    assert result.verdict == "block" and "insult" in {f.kind for f in result.findings}


@pytest.mark.parametrize("text", ["殺したいほど忙しい。", "私は辛い食べ物が嫌いです。", "あなたが嫌いな食べ物は何ですか？"])
def test_hyperbole_and_ordinary_dislikes_are_not_insults_ja(text: str) -> None:
    assert "insult" not in ja_harms(text)


@pytest.mark.parametrize("text", ["嘘つくな。", "手を抜くな！", "勝手に触るな", "舐めるな！", "ふざけるな"])
def test_a_prohibition_aimed_at_the_reader_is_a_harm_ja(text: str) -> None:
    assert ja_harms(text) & {"demand", "insult"} and check_tone(text, "ja").verdict != "ok"


@pytest.mark.parametrize("text", [
    "ご確認くださいませ。", "そのような。", "それは違うな。", "よろしくな。", "言うなれば、二つ目です。", "ご返金くださいな。",
    "明日伺いますので、よろしくお願いいたします。",
    # encouragement, a condition and a wondering question, not prohibitions
    "負けるな！", "次は負けんなよ！", "来週行くなら連絡します。", "来週行くかな。",
])
def test_na_that_is_not_a_prohibition_is_not_a_demand_ja(text: str) -> None:
    assert "demand" not in ja_harms(text)


@pytest.mark.parametrize("text", ["覚えてろよ。", "ただで済むと思うな。", "どうなっても知らないぞ。", "夜道には気をつけてください。", "ネットに晒します。"])
def test_a_veiled_threat_is_a_threat_ja(text: str) -> None:
    assert "threat" in ja_harms(text)
