"""Reply matching: each rule, the \\Answered flag, auto-replies, threads and new clocks.

Messages are written as .eml bytes at known ages, imported into a throwaway SQLite database
through the real import path, then matched."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from hygiene.clock import zone
from hygiene.threads import (
    case_ids,
    is_forward,
    match_replies,
    message_ids,
    normalize_subject,
    order_ids,
    thread_keys,
)
from tests.builders import (
    BUYER,
    BUYER2,
    NOW,
    PERF,
    SHOP,
    SUPPORT,
    Mailbox,
    by_message_id,
    reply_of,
)

# --------------------------------------------------------------------------- pure functions


def test_normalize_subject_strips_prefixes_and_folds() -> None:
    assert normalize_subject("RE: Re：返信: FW: 転送:  ご質問　について") == "ご質問 について"
    assert normalize_subject("AW: Fwd: Ｏｒｄｅｒ  Question") == "order question"
    assert normalize_subject("Re[2]: Hello") == "hello"
    assert normalize_subject("Reply needed") == "reply needed"  # not a prefix without the colon
    assert normalize_subject(None) == ""


def test_case_and_order_ids() -> None:
    text = "ケースID：１２３４５６７８９０１ / Case ID: 98765432101 / case 123 / 注文番号 250-1234567-7654321"
    assert case_ids(text) == {"12345678901", "98765432101"}
    assert order_ids(text) == {"250-1234567-7654321"}
    assert order_ids("1250-1234567-7654321") == set()


def test_message_ids_and_keys_carry_the_counterpart() -> None:
    assert message_ids("<a@x> <b@y>") == ["a@x", "b@y"]
    keys = thread_keys(
        direction="outbound",
        message_id="<r@shop>",
        in_reply_to="<a@x>",
        references="<p@x> <a@x>",
        from_addr=SHOP,
        to_addrs=f"{BUYER}, {BUYER2}",
        cc_addrs=None,
        subject="Re: 注文 250-1234567-7654321",
        body_text="",
    )
    # Message-IDs too are tied to each recipient: a reference alone does not say whom it answers.
    assert ("mid", f"mid:a@x|{BUYER}") in keys and ("mid", f"mid:p@x|{BUYER2}") in keys
    assert not any(key.startswith("mid:") and "|" not in key for _, key in keys)
    assert ("order", f"order:250-1234567-7654321|{BUYER2}") in keys
    assert ("subj", f"subj:注文 250-1234567-7654321|{BUYER}") in keys
    auto = thread_keys(
        direction="outbound", message_id=None, in_reply_to="<a@x>", references=None, from_addr=SHOP,
        to_addrs=BUYER, cc_addrs=None, subject="Re: x", body_text="", auto_reply=True,
    )
    assert auto == []
    forward = thread_keys(
        direction="outbound", message_id=None, in_reply_to="<a@x>", references=None, from_addr=SHOP,
        to_addrs=BUYER, cc_addrs=None, subject="Fwd: x", body_text="250-1234567-7654321",
    )
    assert forward == []
    inbound = thread_keys(
        direction="inbound", message_id="<q@x>", in_reply_to="<a@x>", references=None, from_addr=BUYER,
        to_addrs=SHOP, cc_addrs=None, subject="x", body_text="",
    )
    assert ("mid", f"mid:q@x|{BUYER}") in inbound and ("tref", f"mid:a@x|{BUYER}") in inbound


def test_forward_subjects() -> None:
    for subject in ("Fwd: ご質問", "FW: Where is my order?", "Fw: x", "転送: ご質問", "転送：ご質問", "[転送] ご質問",
                    "［転送］ご質問", "【転送】ご質問", "[EXT] FW: x", "Fwd: Re: ご質問", "WG: Frage", "FWD[2]: x"):
        assert is_forward(subject), subject
    # The outermost prefix decides: a reply to a forwarded message is a reply.
    for reply in ("Re: Fwd: 発送通知", "RE: FW: x", "返信: 転送: x", "Forwarding address", "Fwd without colon", "", None):
        assert not is_forward(reply), reply
    assert normalize_subject("[転送] Re: ご質問") == normalize_subject("【転送】ご質問") == "ご質問"


# --------------------------------------------------------------------------- rules


def test_rule_a_in_reply_to(tmp_path: Path, sqlite_url: str) -> None:
    box = Mailbox(tmp_path / "mail")
    q = box.inbound(BUYER, "商品について", hours_ago=30)
    r = box.outbound(BUYER, "ご連絡ありがとうございます", hours_ago=20, in_reply_to=q)
    engine, stats = box.load(sqlite_url)
    assert reply_of(engine, q) == ("mail", "references", r)
    assert by_message_id(engine)[q].response_seconds == 10 * 3600
    assert stats.by_rule == {"references": 1}


def test_rule_b_case_id_in_body_same_counterpart(tmp_path: Path, sqlite_url: str) -> None:
    box = Mailbox(tmp_path / "mail")
    q = box.inbound(SUPPORT, "Seller Support からのご連絡", hours_ago=40, body="ケースID: 12345678901 について")
    other = box.inbound(SUPPORT, "別件", hours_ago=39, body="ケースID: 55555555555")
    r = box.outbound(SUPPORT, "お問い合わせの件", hours_ago=10, body="ケースID 12345678901 の件、対応しました。")
    engine, _ = box.load(sqlite_url)
    assert reply_of(engine, q) == ("mail", "case_id", r)
    assert reply_of(engine, other)[0] is None


def test_rule_b_order_id_needs_same_counterpart(tmp_path: Path, sqlite_url: str) -> None:
    box = Mailbox(tmp_path / "mail")
    q = box.inbound(BUYER, "注文について", hours_ago=30, body="注文番号 250-1234567-7654321 が届きません")
    box.outbound(BUYER2, "発送のご案内", hours_ago=20, body="注文番号 250-1234567-7654321")  # another buyer
    engine, _ = box.load(sqlite_url)
    assert reply_of(engine, q) == (None, None, None)
    r = box.outbound(BUYER, "発送のご案内", hours_ago=10, body="注文番号 250-1234567-7654321 を発送しました")
    engine, _ = box.load(sqlite_url)
    assert reply_of(engine, q) == ("mail", "order_id", r)


def test_rule_b_reply_before_message_does_not_count(tmp_path: Path, sqlite_url: str) -> None:
    box = Mailbox(tmp_path / "mail")
    box.outbound(BUYER, "発送のご案内", hours_ago=40, body="250-1234567-7654321")
    q = box.inbound(BUYER, "届きません", hours_ago=30, body="250-1234567-7654321")
    engine, _ = box.load(sqlite_url)
    assert reply_of(engine, q) == (None, None, None)


def test_rule_c_subject_within_14_days(tmp_path: Path, sqlite_url: str) -> None:
    box = Mailbox(tmp_path / "mail")
    q = box.inbound(BUYER, "ＲＥ：  商品の状態について", hours_ago=30)
    r = box.outbound(BUYER, "Re: 返信: 商品の状態について", hours_ago=5)
    old = box.inbound(BUYER2, "Question", hours_ago=24 * 20)
    box.outbound(BUYER2, "Re: Question", hours_ago=24 * 5)  # 15 days later: too late to count
    engine, _ = box.load(sqlite_url)
    assert reply_of(engine, q) == ("mail", "subject", r)
    assert reply_of(engine, old) == (None, None, None)


def test_answered_flag_counts_with_the_time_it_was_seen(tmp_path: Path, sqlite_url: str) -> None:
    box = Mailbox(tmp_path / "mail")
    q = box.inbound(PERF, "アカウント健全性について", hours_ago=30, answered=True)
    engine, stats = box.load(sqlite_url)
    row = by_message_id(engine)[q]
    assert (row.reply_source, row.replied_at) == ("answered_flag", NOW)
    assert row.response_seconds == 30 * 3600
    assert stats.by_rule == {"answered_flag": 1}


def test_mail_reply_wins_over_a_later_seen_flag(tmp_path: Path, sqlite_url: str) -> None:
    box = Mailbox(tmp_path / "mail")
    q = box.inbound(BUYER, "質問", hours_ago=30, answered=True)
    r = box.outbound(BUYER, "Re: 質問", hours_ago=25)
    engine, _ = box.load(sqlite_url)
    assert reply_of(engine, q) == ("mail", "subject", r)
    assert by_message_id(engine)[q].response_seconds == 5 * 3600


def test_auto_reply_never_counts(tmp_path: Path, sqlite_url: str) -> None:
    box = Mailbox(tmp_path / "mail")
    q = box.inbound(BUYER, "至急", hours_ago=10)
    box.outbound(BUYER, "Re: 至急", hours_ago=9.9, in_reply_to=q, auto=True, body="ただいま休業中です。")
    engine, _ = box.load(sqlite_url)
    assert reply_of(engine, q) == (None, None, None)


def test_one_reply_answers_two_buyer_messages(tmp_path: Path, sqlite_url: str) -> None:
    box = Mailbox(tmp_path / "mail")
    first = box.inbound(BUYER, "商品が届きません", hours_ago=30)
    second = box.inbound(BUYER, "Re: 商品が届きません", hours_ago=20, headers=f"In-Reply-To: <{first}>\r\n")
    # The seller answers the second one with a new subject; the first is answered too.
    r = box.outbound(BUYER, "お詫びと発送状況のご連絡", hours_ago=10, in_reply_to=second)
    other_buyer = box.inbound(BUYER2, "商品が届きません", hours_ago=25)
    engine, stats = box.load(sqlite_url)
    assert reply_of(engine, second) == ("mail", "references", r)
    assert reply_of(engine, first) == ("mail", "thread", r)
    assert by_message_id(engine)[first].response_seconds == 20 * 3600
    assert reply_of(engine, other_buyer) == (None, None, None)
    assert stats.by_rule == {"references": 1, "thread": 1}


def test_a_sibling_stored_after_its_reply_is_answered_too(tmp_path: Path, sqlite_url: str) -> None:
    """A buyer's first message that reaches the database only after the reply (delivered
    late, or in a folder polled later) is still answered by that reply through the thread."""
    box = Mailbox(tmp_path / "mail")
    second = box.inbound(BUYER, "Re: 商品が届きません", hours_ago=20)
    r = box.outbound(BUYER, "お詫びと発送状況のご連絡", hours_ago=10, in_reply_to=second)
    engine, _ = box.load(sqlite_url)
    assert reply_of(engine, second) == ("mail", "references", r)
    first = box.inbound(BUYER, "商品が届きません", hours_ago=30)
    engine, stats = box.load(sqlite_url)
    assert reply_of(engine, first) == ("mail", "thread", r)
    assert stats.by_rule == {"thread": 1}


def test_a_manual_mark_answers_no_siblings(tmp_path: Path, sqlite_url: str) -> None:
    """Undoing a mistaken 'replied' mark must leave nothing answered behind it."""
    from hygiene.store.replies import mark_replied

    box = Mailbox(tmp_path / "mail")
    first = box.inbound(BUYER, "返品について", hours_ago=30)
    second = box.inbound(BUYER, "Re: 返品について", hours_ago=20)
    engine, _ = box.load(sqlite_url)
    with engine.begin() as conn:
        mark_replied(conn, by_message_id(engine)[second].id, NOW - timedelta(hours=1))
        match_replies(conn, tz=zone("Asia/Tokyo"))
    assert reply_of(engine, second)[0] == "manual"
    assert reply_of(engine, first) == (None, None, None)


def test_new_message_after_a_reply_starts_a_new_clock(tmp_path: Path, sqlite_url: str) -> None:
    box = Mailbox(tmp_path / "mail")
    first = box.inbound(BUYER, "返品について", hours_ago=50)
    r1 = box.outbound(BUYER, "Re: 返品について", hours_ago=45)
    again = box.inbound(BUYER, "Re: 返品について", hours_ago=20)
    engine, _ = box.load(sqlite_url)
    assert reply_of(engine, first) == ("mail", "subject", r1)
    assert reply_of(engine, again) == (None, None, None)
    r2 = box.outbound(BUYER, "Re: 返品について", hours_ago=2)
    engine, stats = box.load(sqlite_url)  # incremental: only the new reply is looked at
    assert reply_of(engine, again) == ("mail", "subject", r2)
    assert reply_of(engine, first) == ("mail", "subject", r1)
    assert stats.keyed == 1 and stats.by_rule == {"subject": 1}


def test_earliest_reply_is_the_first_reply(tmp_path: Path, sqlite_url: str) -> None:
    box = Mailbox(tmp_path / "mail")
    q = box.inbound(BUYER, "サイズ交換", hours_ago=40)
    early = box.outbound(BUYER, "Re: サイズ交換", hours_ago=35)
    box.outbound(BUYER, "追加のご案内", hours_ago=5, in_reply_to=q)
    engine, _ = box.load(sqlite_url)
    assert reply_of(engine, q) == ("mail", "subject", early)


def test_matching_twice_changes_nothing(tmp_path: Path, sqlite_url: str) -> None:
    box = Mailbox(tmp_path / "mail")
    box.inbound(BUYER, "質問", hours_ago=3)
    engine, first = box.load(sqlite_url)
    with engine.begin() as conn:
        second = match_replies(conn)
    assert first.keyed == 1 and second.keyed == 0 and second.replied == 0


# --------------------------------------------------------------------------- forwards, recipients


def test_a_forward_answers_nothing_even_with_in_reply_to(tmp_path: Path, sqlite_url: str) -> None:
    """Mail programs keep In-Reply-To/References on forward; a forward still answers nothing,
    also when it goes to the counterpart. The next real reply does."""
    box = Mailbox(tmp_path / "mail")
    ja = box.inbound(BUYER, "商品について", hours_ago=30, body="注文番号 250-1234567-7654321 の件です")
    en = box.inbound(BUYER2, "Where is my order?", hours_ago=30)
    box.outbound(BUYER, "Fwd: 商品について", hours_ago=29, in_reply_to=ja, body="注文番号 250-1234567-7654321 の件です")
    box.outbound(BUYER, "[転送] 商品について", hours_ago=28, in_reply_to=ja)
    box.outbound(BUYER2, "FW: Where is my order?", hours_ago=29, in_reply_to=en)
    engine, stats = box.load(sqlite_url)
    assert reply_of(engine, ja) == (None, None, None)
    assert reply_of(engine, en) == (None, None, None)
    assert stats.replied == 0
    r = box.outbound(BUYER, "Re: 商品について", hours_ago=20)
    engine, _ = box.load(sqlite_url)
    assert reply_of(engine, ja) == ("mail", "subject", r)
    assert by_message_id(engine)[ja].response_seconds == 10 * 3600


def test_a_reply_to_a_forwarded_message_is_a_reply(tmp_path: Path, sqlite_url: str) -> None:
    """The buyer forwards Amazon's notice; the seller's "Re: Fwd:" answers it."""
    box = Mailbox(tmp_path / "mail")
    q = box.inbound(BUYER, "Fwd: 発送のお知らせ", hours_ago=10, body="届いていません。")
    r = box.outbound(BUYER, "Re: Fwd: 発送のお知らせ", hours_ago=8, in_reply_to=q)
    engine, _ = box.load(sqlite_url)
    assert reply_of(engine, q) == ("mail", "references", r)


def test_in_reply_to_needs_the_counterpart_among_the_recipients(tmp_path: Path, sqlite_url: str) -> None:
    """Written from the buyer's message to someone else (Seller Support here): the buyer is
    not answered, whatever In-Reply-To, References and the subject say."""
    box = Mailbox(tmp_path / "mail")
    q = box.inbound(BUYER, "返品について", hours_ago=30)
    box.outbound(SUPPORT, "Re: 返品について", hours_ago=25, in_reply_to=q, body="この購入者の返品について教えてください。")
    engine, _ = box.load(sqlite_url)
    assert reply_of(engine, q) == (None, None, None)
    # In Cc the buyer is among the recipients: that is a reply.
    r = box.outbound(SUPPORT, "Re: 返品について", hours_ago=20, in_reply_to=q, headers=f"Cc: {BUYER}\r\n")
    engine, _ = box.load(sqlite_url)
    assert reply_of(engine, q) == ("mail", "references", r)


def test_mail_to_seller_support_about_an_order_answers_seller_support_not_the_buyer(tmp_path: Path, sqlite_url: str) -> None:
    order = "250-1234567-7654321"
    box = Mailbox(tmp_path / "mail")
    q = box.inbound(BUYER, "Order question", hours_ago=30, body=f"Order {order} has not arrived.")
    case = box.inbound(SUPPORT, "Your case ID: 12345678901", hours_ago=20, body=f"Case ID: 12345678901 about order {order}")
    # The seller's mail program threads it under the buyer's message as well.
    r = box.outbound(
        SUPPORT, "Re: Order question", hours_ago=10, headers=f"In-Reply-To: <{case}>\r\nReferences: <{q}> <{case}>\r\n",
        body=f"Order {order}: the buyer says it has not arrived. Case ID 12345678901",
    )
    engine, _ = box.load(sqlite_url)
    assert reply_of(engine, case) == ("mail", "references", r)
    assert reply_of(engine, q) == (None, None, None)


# --------------------------------------------------------------------------- template auto-replies


def test_a_template_auto_reply_without_headers_never_counts(tmp_path: Path, sqlite_url: str) -> None:
    """A shop's 受付のお知らせ sent at once, with no Auto-Submitted header: the response time
    runs to the real reply after it."""
    box = Mailbox(tmp_path / "mail")
    ja = box.inbound(BUYER, "返品について", hours_ago=30)
    box.outbound(BUYER, "【自動返信】お問い合わせありがとうございます", hours_ago=29.99, in_reply_to=ja,
                 body="山田様\n本メールは自動送信です。担当者より改めてご連絡いたします。")
    en = box.inbound(BUYER2, "Item arrived damaged", hours_ago=30)
    box.outbound(BUYER2, "Re: Item arrived damaged", hours_ago=29.99, in_reply_to=en,
                 body="This is an automated response: we received your message.")
    engine, stats = box.load(sqlite_url)
    assert reply_of(engine, ja) == reply_of(engine, en) == (None, None, None)
    assert stats.replied == 0
    r = box.outbound(BUYER, "Re: 返品について", hours_ago=20, in_reply_to=ja, body="ご返品を承りました。")
    engine, _ = box.load(sqlite_url)
    assert reply_of(engine, ja) == ("mail", "references", r)
    assert by_message_id(engine)[ja].response_seconds == 10 * 3600
    assert reply_of(engine, en) == (None, None, None)


def test_auto_reply_patterns_from_the_config(tmp_path: Path, sqlite_url: str) -> None:
    import tomllib

    from hygiene.config import parse_config

    config = parse_config(tomllib.loads('[replies]\nauto_reply_subjects = ["^受付のお知らせ"]\n'), tmp_path / "c.toml")
    box = Mailbox(tmp_path / "mail")
    q = box.inbound(BUYER, "在庫について", hours_ago=30)
    box.outbound(BUYER, "受付のお知らせ", hours_ago=29.9, in_reply_to=q)
    engine, _ = box.load(sqlite_url, config)
    assert reply_of(engine, q) == (None, None, None)
    assert by_message_id(engine)[q].replied_at is None
    # The same mail without those patterns: the shop's 受付のお知らせ is taken for a reply.
    plain, _ = box.load(f"sqlite:///{tmp_path / 'defaults.db'}")
    assert reply_of(plain, q)[0] == "mail"
