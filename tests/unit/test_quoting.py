from __future__ import annotations

from hygiene.quoting import own_text


def test_gmail_english_quote_is_cut() -> None:
    body = "Thank you, we will ship today.\n\nOn Thu, Nov 19, 2026 at 10:00 AM Amazon <x@amazon.com> wrote:\n> Why is this late?!\n"
    assert own_text(body) == "Thank you, we will ship today."


def test_japanese_gmail_quote_and_outlook_separator() -> None:
    ja = "ご連絡ありがとうございます。\n\n2026年11月19日(木) 10:00 Amazon <x@amazon.co.jp>:\n返金しろ！\n"
    assert own_text(ja) == "ご連絡ありがとうございます。"
    outlook = "承知いたしました。\n-----Original Message-----\nFrom: buyer\nふざけるな\n"
    assert own_text(outlook) == "承知いたしました。"
    assert own_text("確認します。\n差出人: Amazon\n件名: 至急\n") == "確認します。"


def test_interleaved_quotes_are_dropped_and_plain_text_kept() -> None:
    assert own_text("> 早くしろ\nただいま確認中です。\n> 返事は？\nよろしくお願いいたします。") == "ただいま確認中です。\nよろしくお願いいたします。"
    assert own_text("From here on we will check twice.") == "From here on we will check twice."  # not a header: nothing before it
    assert own_text("") == ""
