"""Pieces of the poller that need no server: Sent folder discovery, the header prefilter and
the fast FETCH reader's fallbacks (the whole poller is proven against Dovecot in
tests/integration/test_poll.py)."""

from __future__ import annotations

from typing import Any

from hygiene.classify import could_keep
from hygiene.config import default_config
from hygiene.mail.imap import HEADER_FIELDS, _uid_fetch, find_sent_folder, quick_headers


def listing(*entries: tuple[tuple[bytes, ...], str]) -> list[tuple[tuple[bytes, ...], bytes, str]]:
    return [(flags, b"/", name) for flags, name in entries]


def test_sent_folder_by_key_then_special_use_then_usual_names() -> None:
    folders = listing(((), "INBOX"), ((b"\\Sent",), "Envoyés"), ((), "Sent"))
    assert find_sent_folder(folders, None) == "Envoyés"  # RFC 6154 \Sent wins over names
    assert find_sent_folder(folders, "Sent") == "Sent"  # an explicit key wins over both
    assert find_sent_folder(folders, "Missing") is None
    assert find_sent_folder(listing(((), "INBOX"), ((), "送信済みメール")), None) == "送信済みメール"
    gmail = [((), b".", "INBOX"), ((), b".", "[Gmail].Sent Mail")]
    assert find_sent_folder(gmail, None) == "[Gmail].Sent Mail"
    assert find_sent_folder(listing(((), "INBOX"), ((), "Archive")), None) is None


def test_quick_headers_reads_what_classification_needs() -> None:
    block = (
        b"From: =?UTF-8?B?44Ki44Oe44K+44Oz?= <Seller-Performance@amazon.co.jp>\r\n"
        b"To: shop@example.jp,\r\n\t\"Other\" <other@example.jp>\r\nCc: cc@example.jp\r\n"
        b"Subject: =?ISO-2022-JP?B?GyRCPUVNVxsoQg==?=\r\n\r\n"
    )
    headers = quick_headers(block)
    assert headers.from_addr == "seller-performance@amazon.co.jp"
    assert headers.to_addrs == ["shop@example.jp", "other@example.jp"] and headers.cc_addrs == ["cc@example.jp"]
    assert headers.subject == "重要"
    config = default_config()
    assert could_keep(headers, config)
    assert not could_keep(quick_headers(b"From: news@shop.example.com\r\nSubject: sale\r\n\r\n"), config)
    assert quick_headers(b"\xff\xfe garbage") is not None  # never raises


class FakeImaplib:
    def __init__(self, data: list[Any]) -> None:
        self.data = data

    def uid(self, *args: Any) -> tuple[str, list[Any]]:
        return "OK", self.data


class FakeClient:
    def __init__(self, data: list[Any]) -> None:
        self._imap = FakeImaplib(data)
        self.fallbacks = 0

    def fetch(self, uids: list[int], items: list[str]) -> dict[int, dict[bytes, Any]]:
        self.fallbacks += 1
        return {uid: {HEADER_FIELDS: b"From: x@y\r\n\r\n"} for uid in uids}


def test_fast_fetch_reads_literals_flags_and_skips_unsolicited_responses() -> None:
    client = FakeClient(
        [
            (b'1 (UID 7 FLAGS (\\Seen) INTERNALDATE "20-Nov-2026 09:00:00 +0900" BODY[] {3}', b"abc"),
            b")",
            b"2 (FLAGS (\\Deleted))",  # another session changed flags: not part of our answer
            (b"3 (UID 9 BODY[] {2}", b"xy"),
            b" FLAGS (\\Answered))",  # items after the literal
        ]
    )
    out = _uid_fetch(client, [7, 9], ["BODY.PEEK[]", "FLAGS", "INTERNALDATE"], b"BODY[]")
    assert client.fallbacks == 0
    assert out[7][b"BODY[]"] == b"abc" and out[7][b"FLAGS"] == (b"\\Seen",)
    assert out[7][b"INTERNALDATE"].isoformat() == "2026-11-20T09:00:00+09:00"
    assert out[9] == {b"BODY[]": b"xy", b"FLAGS": (b"\\Answered",)}


def test_fast_fetch_falls_back_to_imapclient_on_an_unexpected_answer() -> None:
    client = FakeClient([b'1 (UID 7 BODY[HEADER.FIELDS (FROM TO CC SUBJECT)] "")'])  # no literal
    out = _uid_fetch(client, [7], ["BODY.PEEK[HEADER.FIELDS (FROM TO CC SUBJECT)]"], HEADER_FIELDS)
    assert client.fallbacks == 1 and out[7][HEADER_FIELDS] == b"From: x@y\r\n\r\n"
