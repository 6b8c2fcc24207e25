"""Reply matching and the check list on both backends (SQLite and a real PostgreSQL): the
same set-based SQL must give the same answers."""

from __future__ import annotations

from pathlib import Path

from hygiene.config import default_config
from hygiene.deadlines import check_report
from hygiene.threads import mark_replied, match_replies, undo
from tests.builders import BUYER, BUYER2, NOW, PERF, SUPPORT, Mailbox, by_message_id, reply_of


def test_matching_and_states_on_both_backends(database_url: str, tmp_path: Path) -> None:
    box = Mailbox(tmp_path / "mail")
    a = box.inbound(BUYER, "商品について", hours_ago=30)
    ra = box.outbound(BUYER, "ご連絡ありがとうございます", hours_ago=29, in_reply_to=a)
    b = box.inbound(SUPPORT, "お問い合わせ", hours_ago=40, body="ケースID: 12345678901")
    rb = box.outbound(SUPPORT, "ご回答", hours_ago=20, body="ケースID: 12345678901 の件")
    c = box.inbound(BUYER2, "Return request", hours_ago=50)
    rc = box.outbound(BUYER2, "RE: Return request", hours_ago=45)
    flagged = box.inbound(PERF, "Policy warning", hours_ago=10, answered=True)
    sibling = box.inbound(BUYER, "追加の質問", hours_ago=35, headers=f"References: <{a}>\r\n")
    late = box.inbound("x1@marketplace.amazon.co.jp", "届きません", hours_ago=25)
    critical = box.inbound(PERF, "アカウント停止のお知らせ", hours_ago=60)
    soon = box.inbound("x2@marketplace.amazon.co.jp", "質問", hours_ago=12, body="12時間以内にご返信ください")
    box.outbound("x1@marketplace.amazon.co.jp", "Re: 届きません", hours_ago=24, auto=True)

    engine, stats = box.load(database_url)
    assert reply_of(engine, a) == ("mail", "references", ra)
    assert reply_of(engine, b) == ("mail", "case_id", rb)
    assert reply_of(engine, c) == ("mail", "subject", rc)
    assert reply_of(engine, flagged)[0] == "answered_flag"
    assert reply_of(engine, sibling) == ("mail", "thread", ra)
    assert stats.by_rule == {"references": 1, "case_id": 1, "subject": 1, "answered_flag": 1, "thread": 1}

    config = default_config()
    with engine.connect() as conn:
        report = check_report(conn, config, NOW)
    ids = {mid: row.id for mid, row in by_message_id(engine).items()}
    assert [(i.id, i.state) for i in report.items] == [
        (ids[critical], "critical"),
        (ids[soon], "critical"),  # the stated 12 hours have passed
        (ids[late], "late"),  # the auto-reply did not count
    ]
    assert report.exit_code == 4

    with engine.begin() as conn:
        mark_replied(conn, ids[critical], NOW)
    with engine.connect() as conn:
        assert [i.id for i in check_report(conn, config, NOW).items] == [ids[soon], ids[late]]
    with engine.begin() as conn:
        assert undo(conn, ids[critical]) == ["replied"]
        assert match_replies(conn).keyed == 0
    with engine.connect() as conn:
        assert len(check_report(conn, config, NOW).items) == 3
