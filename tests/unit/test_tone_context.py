"""Context rules for weak signals (issue 12, item 4): a signal counts only in the context that
makes it a harm."""

from __future__ import annotations

import pytest

from hygiene.tone import check_tone


def kinds(text: str, lang: str) -> set[str]:
    return {f.kind for f in check_tone(text, lang).findings if f.weight > 0 or (f.credit or 0) > 0}


def harms(text: str, lang: str) -> list[str]:
    return [f.text for f in check_tone(text, lang).findings if f.weight > 0]


@pytest.mark.parametrize("text", [
    "What is the tracking number for this order?",
    "Where can I find the invoice?",
    "How do I upload the documents?",
    "Who should I contact about the return?",
])
def test_a_plain_information_question_is_not_accusing_en(text: str) -> None:
    assert "accusing_question" not in kinds(text, "en")


@pytest.mark.parametrize("text", [
    "Why did you cancel my order?",
    "How could you ship the wrong item twice?",
    "What exactly is this supposed to mean?",
    "What's the point of this policy?",
    "Why should I accept this?",
])
def test_a_challenging_question_is_accusing_en(text: str) -> None:
    assert "accusing_question" in kinds(text, "en")


@pytest.mark.parametrize("text", ["何の書類が必要でしょうか？", "何の商品が届いていないのですか？"])
def test_a_plain_information_question_is_not_accusing_ja(text: str) -> None:
    assert "accusing_question" not in kinds(text, "ja")


@pytest.mark.parametrize("text", ["なぜ私のアカウントが停止されたのですか？", "何の根拠があってこう判断したのですか？", "何のお話でしょうか？"])
def test_a_challenging_question_is_accusing_ja(text: str) -> None:
    assert "accusing_question" in kinds(text, "ja")


def test_kimi_is_not_a_harm_on_its_own_ja() -> None:
    assert harms("田中君がご注文の商品を発送いたしました。", "ja") == []
    assert harms("君の名は。のDVDを出品しております。", "ja") == []


def test_anata_is_a_small_harm_only_outside_thanks_ja() -> None:
    """Addressing the reader as あなた marks rude text in the data (README); in a sentence of
    thanks it is a translator's "you", not a confrontation."""
    assert harms("あなたのおかげで無事に解決しました。ありがとうございます。", "ja") == []
    assert harms("あなたのご協力に感謝いたします。", "ja") == []
    assert harms("あなたの説明は意味が分かりません。", "ja") == ["あなたの"]
    # the thanks must be in the same sentence
    assert "あなたの" in harms("あなたの判断はおかしいです。ありがとうございました。", "ja")


@pytest.mark.parametrize("text", [
    "Our lawyer reviewed the listing terms last year and everything is in order.",
    "The attorney for the brand sent us the authorisation letter, attached.",
    "There was a class-action lawsuit about this product in 2019; ours is the revised model.",
])
def test_legal_words_in_passing_are_not_a_threat_en(text: str) -> None:
    assert "threat" not in kinds(text, "en")


@pytest.mark.parametrize("text", [
    "Fix this now or I will sue.",
    "We will take legal action if this is not resolved.",
    "I'm contacting my lawyer.",
    "My lawyer will contact you if this isn't fixed by Friday.",
    "We are going to take Amazon to court.",
])
def test_legal_words_with_a_first_person_future_are_a_threat_en(text: str) -> None:
    assert "threat" in kinds(text, "en")


@pytest.mark.parametrize("text", [
    "弁護士の先生に作成いただいた証明書を添付いたします。",
    "過去に訴訟があった商品ではございません。",
    "裁判所の所在地は登録住所に記載しております。",
    "法的手段について記載されたポリシーを拝見しました。",
])
def test_legal_words_in_passing_are_not_a_threat_ja(text: str) -> None:
    assert "threat" not in kinds(text, "ja")


@pytest.mark.parametrize("text", ["訴えます。", "返金しないなら、法的措置を取ります。", "弁護士に相談します。", "裁判を起こします。"])
def test_legal_words_with_a_first_person_future_are_a_threat_ja(text: str) -> None:
    assert "threat" in kinds(text, "ja")


def _rules(text: str, lang: str) -> float:
    from hygiene.tone.engine import rule_parts

    return rule_parts(text, lang)[0]


def test_repeated_thanks_count_with_diminishing_weight_en() -> None:
    once = _rules("Thank you for the update.", "en")
    twice = _rules("Thank you for the update. Thank you again for the quick reply.", "en")
    many = _rules("Thank you. " * 12, "en")
    assert once < twice < many <= once + 6  # the repeats together: at most one thank-you more


def test_repeated_thanks_count_with_diminishing_weight_ja() -> None:
    once = _rules("ご連絡ありがとうございます。", "ja")
    twice = _rules("ご連絡ありがとうございます。迅速なご対応、誠にありがとうございます。", "ja")
    many = _rules("ご連絡ありがとうございます。" + "ありがとうございます。" * 11, "ja")
    assert once < twice < many <= once + 6


@pytest.mark.parametrize("text", ["We will look into this today.", "I'll send a replacement tomorrow.", "We are happy to refund the order."])
def test_a_commitment_is_a_courtesy_en(text: str) -> None:
    assert "polite_form" in kinds(text, "en")


@pytest.mark.parametrize("text", ["本日中に確認いたします。", "代替品を発送させていただきます。"])
def test_a_commitment_is_a_courtesy_ja(text: str) -> None:
    assert "polite_form" in kinds(text, "ja")


@pytest.mark.parametrize("text", ["So, what is the status?", "But the parcel arrived late.", "And the box was dented.",
                                  "Well, the order is here.", "You sent the tracking number yesterday."])
def test_a_sentence_opener_is_not_a_harm_on_its_own_en(text: str) -> None:
    assert harms(text, "en") == []


@pytest.mark.parametrize("text", ["Look, I asked twice.", "You never answer my messages."])
def test_a_confrontational_opener_still_counts_en(text: str) -> None:
    assert "complaint" in kinds(text, "en")


@pytest.mark.parametrize("text", ["Do you need to see the invoice?", "If you need to reach me, call this number.",
                                  "Would you have to open a new case for this?"])
def test_you_need_to_in_a_question_or_condition_is_not_a_demand_en(text: str) -> None:
    assert "demand" not in kinds(text, "en")


def test_you_need_to_as_an_order_is_a_demand_en() -> None:
    assert "demand" in kinds("You need to fix this.", "en")


def shouted(text: str) -> list[str]:
    return [f.text for f in check_tone(text, "en").findings if f.kind == "emotional_typography"]


@pytest.mark.parametrize("text", [
    "My name is JOHN SMITH and I sell shoes.", "Hello Mr. TANAKA, the order shipped.",
    "Thanks for the update.\nRegards,\nJOHN SMITH", "Please send the NASA poster.", "Loving it #NEVERAGAIN",
])
def test_names_acronyms_and_hashtags_in_capitals_are_not_shouting_en(text: str) -> None:
    assert shouted(text) == []


@pytest.mark.parametrize(("text", "word"), [("This is UNACCEPTABLE.", "UNACCEPTABLE"), ("I am ANGRY about this.", "ANGRY"),
                                            ("Dear Sir, WHY is it late?", "WHY")])
def test_capitals_in_running_text_are_shouting_en(text: str, word: str) -> None:
    assert word in shouted(text)


@pytest.mark.parametrize("text", ["Thanks, but I've already read those essays.", "Sorry, but I won't stand for that."])
def test_thanks_or_sorry_before_but_is_no_courtesy_en(text: str) -> None:
    assert not kinds(text, "en") & {"gratitude", "apology"}
    assert kinds("Thanks, the parcel arrived.", "en") & {"gratitude"}


@pytest.mark.parametrize("text", [
    "I'm wondering why you reverted my edit.", "I'm puzzled as to why you removed it.", "Don't you think this is a bit much?",
    "Why not just read the policy?",
])
def test_a_challenge_wrapped_in_a_courtesy_is_accusing_en(text: str) -> None:
    assert "accusing_question" in kinds(text, "en")


@pytest.mark.parametrize("text", ["You use it or else you lose it.", "No, thanks, we are fine.", "Excuse me, where is the invoice?"])
def test_or_else_no_and_excuse_me_in_passing_are_no_harm_en(text: str) -> None:
    assert harms(text, "en") == []


@pytest.mark.parametrize("text", ["Pay today or else.", "Excuse me?!"])
def test_or_else_and_an_indignant_excuse_me_are_no_courtesy_en(text: str) -> None:
    assert not kinds(text, "en") & {"apology"}
    assert kinds("Pay today or else.", "en") & {"threat"}


@pytest.mark.parametrize(("text", "sneer"), [
    ("Great, another week without a refund. Thanks so much, really helpful.", "Great, another"),
    ("Please, we would love for you to actually read our messages for once.", "for once"),
    ("Thank you for your \"help\" with this case.", "your \"help\""),
    ("Oh wonderful, yet another automated reply.", "Oh wonderful, yet another"),
    ("I'm sure you're very busy. Yeah, right.", "I'm sure you're very busy"),
    ("So much for your A-to-z guarantee.", "So much for your"),
])
def test_sarcasm_is_a_complaint_and_voids_the_drafts_courtesies_en(text: str, sneer: str) -> None:
    result = check_tone(text, "en")
    assert sneer in [f.text for f in result.findings if f.kind == "complaint"]
    # the thanks, praise and cushions around a sneer are part of it: no credit for them
    assert not kinds(text, "en") & {"gratitude", "polite_form", "cushion"}
    assert result.verdict != "ok"


@pytest.mark.parametrize("text", [
    "Great, thanks for the quick reply!", "Great, now it works. Thank you!", "Thank you so much for your patience.",
    "Yeah, right away: the replacement ships today.", "Hi, I see you voted \"support\" in the poll.",
    "Do you want it to actually respond to commands?",
])
def test_sincere_thanks_and_praise_are_not_sarcasm_en(text: str) -> None:
    from hygiene.tone.engine import lexicon

    sarcasm = {e.id for e in lexicon("en") if e.sarcasm}
    result = check_tone(text, "en")
    assert not [f for f in result.findings if f.entry in sarcasm]
    assert result.verdict == "ok"


def test_sarcasm_flag_is_only_what_the_lexicon_says() -> None:
    from hygiene.tone.engine import lexicon

    assert {e.id for e in lexicon("en") if e.sarcasm} and not any(e.sarcasm for e in lexicon("ja"))
