"""MIME decoding that survives real Japanese mail, and never raises."""

from __future__ import annotations

import base64
from email.header import Header

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hygiene.mail.parse import decode_header_value, html_to_text, parse_headers, parse_message

SUBJECT = "【重要】アカウント健全性について"
BODY = "72時間以内にご対応ください。"


def message(headers: str, body: bytes, content_type: str = "text/plain; charset=utf-8", cte: str = "8bit") -> bytes:
    head = (
        "From: seller-performance@amazon.co.jp\r\nTo: shop@example.jp\r\n"
        "Date: Thu, 19 Nov 2026 10:00:00 +0900\r\nMessage-ID: <m1@amazon>\r\n"
        f"{headers}MIME-Version: 1.0\r\nContent-Type: {content_type}\r\nContent-Transfer-Encoding: {cte}\r\n\r\n"
    )
    return head.encode("ascii") + body


def test_iso_2022_jp_subject_and_body_round_trip_without_notes() -> None:
    raw = message(f"Subject: {Header(SUBJECT, 'iso-2022-jp').encode()}\r\n", BODY.encode("iso-2022-jp"), "text/plain; charset=ISO-2022-JP", "7bit")
    parsed = parse_message(raw)
    assert parsed.subject == SUBJECT and parsed.body_text.strip() == BODY
    assert parsed.parse_notes == []
    assert parsed.date is not None and parsed.date.isoformat() == "2026-11-19T01:00:00+00:00"


def test_microsoft_iso_2022_jp_variants_and_legacy_charsets() -> None:
    # NEC special characters (row 13: ①, ㈱) and half-width katakana by ESC ( I: only the
    # Microsoft variants (cp50220 family) carry them, and Python's iso2022 codecs reject them.
    extended = b"\x1b$B-!-j$5$/$i\x1b(I\x36\x1b(B ok"
    raw = message("Subject: x\r\n", extended, "text/plain; charset=ISO-2022-JP", "7bit")
    assert parse_message(raw).body_text.strip() == "①㈱さくらｶ ok"
    for label, codec in (("Shift_JIS", "cp932"), ("shift_jis", "cp932"), ("EUC-JP", "euc_jp"), ("cp50220", "iso2022_jp_ext")):
        raw = message("Subject: x\r\n", BODY.encode(codec), f"text/plain; charset={label}")
        parsed = parse_message(raw)
        assert parsed.body_text.strip() == BODY, label
        assert parsed.parse_notes == [], label


def test_wrong_or_missing_charset_labels_are_detected_and_noted() -> None:
    wrong = parse_message(message("Subject: x\r\n", BODY.encode("cp932"), "text/plain; charset=utf-8"))
    assert wrong.body_text.strip() == BODY and "charset utf-8 was wrong, decoded as cp932" in (wrong.parse_note or "")
    missing = parse_message(message("Subject: x\r\n", BODY.encode("euc_jp"), "text/plain"))
    assert missing.body_text.strip() == BODY
    unknown = parse_message(message("Subject: x\r\n", BODY.encode("utf-8"), "text/plain; charset=x-unknown-jp"))
    assert unknown.body_text.strip() == BODY and "x-unknown-jp was wrong" in (unknown.parse_note or "")
    jis_unlabelled = parse_message(message("Subject: x\r\n", BODY.encode("iso-2022-jp"), "text/plain", "7bit"))
    assert jis_unlabelled.body_text.strip() == BODY


def test_raw_8bit_headers_in_utf8_and_shift_jis() -> None:
    raw = b"From: =?utf-8?b?5bGx55Sw?= <buyer@marketplace.amazon.co.jp>\r\nSubject: " + SUBJECT.encode("utf-8") + b"\r\n\r\nbody\r\n"
    parsed = parse_message(raw)
    assert parsed.subject == SUBJECT and parsed.from_name == "山田" and parsed.from_addr == "buyer@marketplace.amazon.co.jp"
    sjis = b"Subject: " + SUBJECT.encode("cp932") + b"\r\n\r\nbody\r\n"
    assert parse_message(sjis).subject == SUBJECT


def test_malformed_encoded_words() -> None:
    notes: list[str] = []
    # a multibyte character split across two words, as Japanese mailers do
    data = SUBJECT.encode("utf-8")
    split = f"=?UTF-8?B?{base64.b64encode(data[:10]).decode()}?= =?UTF-8?B?{base64.b64encode(data[10:]).decode()}?="
    assert decode_header_value(split, notes, "Subject") == SUBJECT and notes == []
    unpadded = "=?utf-8?b?" + base64.b64encode("重要".encode()).decode().rstrip("=") + "?="
    assert decode_header_value(unpadded, notes, "Subject") == "重要"
    unterminated = "=?ISO-2022-JP?B?" + base64.b64encode("重要".encode("iso-2022-jp")).decode()
    assert decode_header_value(unterminated, notes, "Subject") == "重要"
    assert any("unterminated" in n for n in notes)
    assert decode_header_value("=?x-bogus?q?caf=C3=A9?=", [], "Subject") == "café"
    assert decode_header_value("Re: =?utf-8?q?=E6=B3=A8=E6=96=87?= の件", [], "Subject") == "Re: 注文 の件"


def test_html_only_bodies_become_readable_text() -> None:
    html = (
        "<html><head><title>t</title><style>p{}</style></head><body><h1>ご注文</h1><p>発送しました&amp;到着予定は<b>明日</b>です。</p>"
        "<ul><li>商品A</li><li>商品B</li></ul><script>alert(1)</script><table><tr><td>合計</td><td>1,000円</td></tr></table></body></html>"
    )
    raw = message("Subject: x\r\n", base64.encodebytes(html.encode("utf-8")), "text/html; charset=utf-8", "base64")
    text = parse_message(raw).body_text
    assert "発送しました&到着予定は明日です。" in text and "・商品A" in text and "合計 1,000円" in text
    assert "<" not in text and "alert" not in text and "p{}" not in text
    assert html_to_text("<p>a<br>b</p>") == "a\nb"


def test_multipart_prefers_plain_and_skips_attachments() -> None:
    boundary = "XYZ"
    raw = (
        "From: a@amazon.co.jp\r\nSubject: x\r\nMIME-Version: 1.0\r\n"
        f'Content-Type: multipart/mixed; boundary="{boundary}"\r\n\r\n'
        f"--{boundary}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Disposition: attachment; filename=a.txt\r\n\r\nattached\r\n"
        f"--{boundary}\r\nContent-Type: multipart/alternative; boundary=ALT\r\n\r\n"
        "--ALT\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>html version</p>\r\n"
        "--ALT\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nplain =E7=89=88\r\n"
        "--ALT--\r\n"
        f"--{boundary}--\r\n"
    ).encode()
    assert parse_message(raw).body_text.strip() == "plain 版"


def test_dates_missing_invalid_and_jst() -> None:
    assert parse_message(b"Subject: x\r\n\r\nb").date is None
    invalid = parse_message(b"Subject: x\r\nDate: yesterday-ish\r\n\r\nb")
    assert invalid.date is None and "Date: invalid" in (invalid.parse_note or "")
    jst = parse_message(b"Subject: x\r\nDate: Thu, 19 Nov 2026 10:00:00 JST\r\n\r\nb")
    assert jst.date is not None and jst.date.isoformat() == "2026-11-19T01:00:00+00:00"
    two_digit = parse_message(b"Subject: x\r\nDate: Thu, 19 Nov 26 10:00:00 +0900 (JST)\r\n\r\nb")
    assert two_digit.date is not None and two_digit.date.year == 2026


def test_auto_replies() -> None:
    assert parse_message(b"Auto-Submitted: auto-replied\r\nSubject: x\r\n\r\nb").auto_reply
    assert parse_message(b"X-Autoreply: yes\r\nSubject: x\r\n\r\nb").auto_reply
    assert parse_message(b"Precedence: auto_reply\r\nSubject: x\r\n\r\nb").auto_reply
    assert parse_message("Subject: 自動返信: お問い合わせ\r\n\r\nb".encode()).auto_reply
    assert not parse_message(b"Auto-Submitted: no\r\nSubject: Out of stock?\r\n\r\nb").auto_reply
    assert not parse_message("Subject: 不在票が入っていました\r\n\r\nb".encode()).auto_reply


def _plain(subject: str, body: str) -> bytes:
    return f"Subject: {subject}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n".encode()


@pytest.mark.parametrize(
    ("subject", "body"),
    [
        ("【自動返信】お問い合わせありがとうございます", "お問い合わせを受け付けました。"),
        ("[自動返信] お問い合わせ受付のお知らせ", "担当者よりご連絡いたします。"),
        ("［自動返信］お問い合わせ受付", "x"),
        ("自動送信メール：お問い合わせ受付のお知らせ", "x"),
        ("お問い合わせ受付のお知らせ（自動送信メール）", "x"),
        ("(Auto Reply) Thank you for contacting us", "We will get back to you."),
        ("Automatic reply: Where is my order?", "x"),
        ("Auto-Reply: Where is my order?", "x"),
        ("お問い合わせ受付のお知らせ", "山田 太郎 様\n\nお問い合わせありがとうございます。\n※本メールは自動送信です。"),
        ("受付のお知らせ", "このメールは自動で送信されています。"),
        ("受付のお知らせ", "このメールは送信専用アドレスから自動送信しております。"),
        ("Thank you for your message", "Hello,\n\nThis is an automated response to confirm we received it."),
        ("Re: Where is my order?", "This is an automatic reply. We will answer within 24 hours."),
    ],
)
def test_template_auto_replies_without_headers(subject: str, body: str) -> None:
    assert parse_message(_plain(subject, body)).auto_reply


@pytest.mark.parametrize(
    ("subject", "body"),
    [
        # a real reply to a buyer who answered the shop's auto-reply
        ("Re: 【自動返信】お問い合わせありがとうございます", "ご連絡ありがとうございます。発送いたしました。"),
        ("Re: お問い合わせ受付のお知らせ（自動送信メール）", "ご連絡ありがとうございます。"),
        ("Re: 自動送信メールが届きません", "再送いたしました。"),
        # the words quoted, or far below the opening, are not the message speaking of itself
        ("Re: ご質問", "ご連絡ありがとうございます。\n\n> 本メールは自動送信です。"),
        ("Re: ご質問", "1\n2\n3\n4\n5\n6\nこのメールは自動で送信されています。"),
        ("Re: Question", "Sorry, the automatic reply you got was wrong. Here is the answer."),
    ],
)
def test_real_replies_are_not_template_auto_replies(subject: str, body: str) -> None:
    assert not parse_message(_plain(subject, body)).auto_reply


def test_extra_auto_reply_patterns_add_to_the_defaults() -> None:
    from hygiene.mail.parse import auto_reply_text

    assert not auto_reply_text().matches("受付のお知らせ", "お問い合わせありがとうございます。")
    extended = auto_reply_text(("^受付のお知らせ",), ("^ご注文ありがとうございます。自動配信",))
    assert extended.matches("受付のお知らせ", "")
    assert extended.matches("x", "山田様\nご注文ありがとうございます。自動配信です")
    assert extended.matches("【自動返信】x", "")  # the defaults stay


def test_garbage_and_huge_input_never_raise() -> None:
    for raw in (b"", b"\x00\x01\x02", b"Subject: =?utf-8?b?***?=\r\n\r\n", b"From: <<<@@@>>>\r\n\r\n", b"Content-Type: text/plain; charset=\r\n\r\n\xff\xfe"):
        parsed = parse_message(raw)
        assert isinstance(parsed.subject, str) and isinstance(parsed.body_text, str)
    huge = parse_message(b"Subject: big\r\n\r\n" + b"a" * 300_000)
    assert len(huge.body_text) == 200_000 and "cut at 200000" in (huge.parse_note or "")
    malformed = parse_message(message("Subject: x\r\n", b"44GC44GE44GG!!*", "text/plain; charset=utf-8", "base64"))
    assert malformed.body_text.startswith("あいう") and "malformed base64" in (malformed.parse_note or "")


def test_parse_headers_reads_only_the_header_block() -> None:
    raw = message(f"Subject: {Header(SUBJECT, 'utf-8').encode()}\r\n", b"body text")
    parsed = parse_headers(raw)
    assert parsed.subject == SUBJECT and parsed.from_addr == "seller-performance@amazon.co.jp" and parsed.body_text == ""


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2000))
def test_never_raises_on_arbitrary_bytes(raw: bytes) -> None:
    for parsed in (parse_message(raw), parse_headers(raw)):
        assert isinstance(parsed.subject, str) and isinstance(parsed.body_text, str) and isinstance(parsed.from_addr, str)
        assert all(isinstance(r, str) for r in parsed.references)


VALID = message(f"Subject: {Header(SUBJECT, 'iso-2022-jp').encode()}\r\n", BODY.encode("iso-2022-jp"), "text/plain; charset=ISO-2022-JP", "7bit")


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(0, len(VALID) - 1), st.integers(0, 255)), max_size=12))
def test_never_raises_on_mutated_real_mail(edits: list[tuple[int, int]]) -> None:
    data = bytearray(VALID)
    for position, value in edits:
        data[position] = value
    parsed = parse_message(bytes(data))
    assert isinstance(parsed.body_text, str) and isinstance(parsed.subject, str)


def test_the_single_part_fast_path_reads_like_the_email_package(monkeypatch: object) -> None:
    """Every packaged demo message (all encodings, HTML-only, replies) parses the same with
    and without the fast path for single-part mail."""
    import pytest

    from hygiene.demo import DEMO_DIR
    from hygiene.mail import parse

    files = sorted((DEMO_DIR / "mail").rglob("*.eml"))
    fast = [parse.parse_message(p.read_bytes()) for p in files]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(parse, "_single_part", lambda raw: None)
        slow = [parse.parse_message(p.read_bytes()) for p in files]
    assert len(files) >= 60
    for path, a, b in zip(files, fast, slow, strict=True):
        assert a == b, path.name


def test_the_quote_header_rule_is_linear_on_runs_of_blank_lines() -> None:
    """A sent mail of 200,000 blank lines took minutes in one parse worker (``^\\s*`` tried
    again from every line of the run); the rule now looks at a line's own indentation."""
    import time

    from hygiene.quoting import own_text

    started = time.perf_counter()
    assert own_text("hello\n" + "\n" * 200_000 + "\n  On Mon, 1 Jan 2026 Buyer wrote:\n> q") == "hello"
    assert time.perf_counter() - started < 2.0  # before: 11 s for 20,000 lines
    assert own_text("はい\n\n\u30002026年11月19日(木) 10:00 Amazon <a@b>:\n> q") == "はい"


def test_provenance_headers_and_link_hosts_are_read() -> None:
    from hygiene.mail.parse import parse_message

    raw = (
        b'From: "Amazon" <a@amaz0n.example>\r\nReply-To: x@evil.example\r\nSender: s@amazon.co.jp\r\n'
        b"Authentication-Results: mx.shop.example;\r\n dkim=pass header.d=amaz0n.example;\r\n dmarc=pass header.from=amaz0n.example\r\n"
        b"ARC-Authentication-Results: i=1; mx.google.com; dmarc=fail header.from=amazon.co.jp\r\n"
        b"DKIM-Signature: v=1; a=rsa-sha256; d=Amaz0n.example; s=k;\r\n h=from\r\nReceived-SPF: pass (x) client-ip=192.0.2.1\r\n"
        b"Content-Type: text/html; charset=utf-8\r\n\r\n"
        b'<p>Please <a href="https://amazon.co.jp.verify.example/login?x=1">sign in</a> at '
        b'<a href="https://sellercentral.amazon.co.jp">https://sellercentral.amazon.co.jp</a> <a href="mailto:a@b">mail</a></p>'
    )
    p = parse_message(raw)
    assert (p.reply_to, p.sender) == (["x@evil.example"], "s@amazon.co.jp")
    assert p.auth_results == ["mx.shop.example; dkim=pass header.d=amaz0n.example; dmarc=pass header.from=amaz0n.example"]
    assert p.arc_auth_results == ["mx.google.com; dmarc=fail header.from=amazon.co.jp"]
    assert p.dkim_domains == ["amaz0n.example"] and p.received_spf == ["pass (x) client-ip=192.0.2.1"]
    assert p.link_hosts == ["amazon.co.jp.verify.example", "sellercentral.amazon.co.jp"]
    # where a link really goes is shown as text; a link whose text is its target once
    assert p.body_text == "Please sign in <https://amazon.co.jp.verify.example/login?x=1> at https://sellercentral.amazon.co.jp mail"
