"""The poller's header prefilter never drops mail the full parse would keep (issue 7).

The poller fetches only From/To/Cc/Subject first and reads a body only when
``could_keep(quick_headers(...))`` says a rule could keep the message; the prefilter must be a
superset of what ``classify(parse_message(...))`` keeps, or Amazon mail is silently skipped by
``poll`` while ``import`` of the same message stores it."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from hygiene.classify import classify, could_keep
from hygiene.config import default_config
from hygiene.mail.imap import quick_headers
from hygiene.mail.parse import parse_message

CONFIG = default_config()
ADDRESSES = [
    "k4m2x9q1@marketplace.amazon.co.jp", "seller-performance@amazon.co.jp", "no-reply@amazon.co.jp",
    "news@shop.example.com", "seller@example.jp", "a@b.c",
    # claims, and look-alike domains (issue 10): both sides must agree on them too
    "atoz-guarantee-no-reply@amazon.com", "cb-seller-notification@amazon.co.jp",
    "seller-performance@amazon.co.jp.login-check.example", "no-reply@amazon.com-verify.example",
    "k4m2x9q1@marketplace.amazon.com.be",
]
PIECES = ["Amazon", "アマゾン", " ", '"', "<", ">", ",", ";", ":", "(", ")", "\\", "@", "via", "=?utf-8?q?", "?=", *ADDRESSES]


@st.composite
def from_values(draw: st.DrawFn) -> str:
    name = "".join(draw(st.lists(st.sampled_from(PIECES), max_size=5)))
    address = draw(st.sampled_from(ADDRESSES))
    form = draw(st.sampled_from(["{n} <{a}>", '"{n}" <{a}>', "{a}", "{a} ({n})", "{n}\r\n <{a}>"]))
    return form.format(n=name, a=address)


@settings(max_examples=400, deadline=None)
@given(sender=from_values(), subject=st.sampled_from(
    ["sale", "アカウント健全性について", "Case ID: 12345678", "A-to-z Guarantee claim", "「Amazonマーケットプレイス保証」申請",
     "=?utf-8?b?44OB44Oj44O844K444OQ44OD44Kv?=", "Chargeback claim decision"]
))
def test_the_prefilter_keeps_whatever_the_full_parse_keeps(sender: str, subject: str) -> None:
    head = f"From: {sender}\r\nTo: seller@example.jp\r\nSubject: {subject}\r\n".encode()
    kept = classify(parse_message(head + "\r\n72時間以内にご返信ください。\r\n".encode()), CONFIG) is not None
    if kept:
        # what the server answers to BODY.PEEK[HEADER.FIELDS (FROM TO CC SUBJECT)]
        block = b"".join(m.group(0) for m in re.finditer(rb"^(?:From|To|Cc|Subject):[^\r\n]*\r\n(?:[ \t][^\r\n]*\r\n)*", head, re.M))
        assert could_keep(quick_headers(block + b"\r\n"), CONFIG), "the prefilter skips mail a rule keeps"
