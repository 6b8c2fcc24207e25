"""``hygiene check``, ``show``, ``replied``, ``dismiss``, ``undo``: states at known ages, exit
codes, silence when clear, the JSON shape, explicit deadlines, manual marking and undo."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import Result

from hygiene.config import load_config
from hygiene.views.check import human_span
from tests.builders import (
    BUYER,
    BUYER2,
    NOW,
    NOW_ISO,
    PERF,
    SUPPORT,
    Mailbox,
    check_json,
    load,
    run,
)


def test_every_state_most_urgent_first_and_json_shape(tmp_path: Path, config_path: Path) -> None:
    box = Mailbox(tmp_path / "mail")
    box.inbound(BUYER, "pending question", hours_ago=2)
    box.inbound(BUYER2, "due soon question", hours_ago=20)
    box.inbound(SUPPORT, "ケースID: 12345678901 late", hours_ago=30)
    box.inbound(PERF, "critical notice", hours_ago=50)
    box.inbound("no-reply@amazon.co.jp", "ご注文の発送", hours_ago=60)  # notification: no reply needed
    answered = box.inbound("q1w2@marketplace.amazon.co.jp", "answered", hours_ago=40)
    box.outbound("q1w2@marketplace.amazon.co.jp", "Re: answered", hours_ago=39)
    ids = load(box, config_path)

    code, data = check_json(config_path)
    assert code == 4
    assert set(data) == {"now", "items", "counts", "sync", "suspicious"}
    assert data["now"] == NOW_ISO
    assert [i["state"] for i in data["items"]] == ["critical", "late", "due_soon", "pending"]
    assert data["counts"] == {"critical": 1, "late": 1, "due_soon": 1, "pending": 1}
    assert ids[answered] not in {i["id"] for i in data["items"]}
    first = data["items"][0]
    assert set(first) == {
        "id", "account", "category", "from", "subject", "received_at", "due_at", "critical_at",
        "deadline_source", "state", "hours_left",
    }
    assert (first["category"], first["from"], first["account"]) == ("account_health", PERF, "shop")
    assert first["hours_left"] == -26.0
    assert first["deadline_source"] == "default 24 h / 48 h (account_health)"
    assert data["items"][3]["hours_left"] == 22.0

    text = run(config_path, "check", "--no-poll", "--now", NOW_ISO)
    assert text.exit_code == 4
    out = text.output
    assert out.startswith("2026-11-20 09:00 JST: 4 messages await a reply (1 critical, 1 late, 1 due soon, 1 pending)")
    body = out.split("\n\n", 1)[1]
    assert body.index("CRITICAL") < body.index("LATE") < body.index("due soon") < body.index("pending")
    assert "overdue by 1 d 2 h" in out and "overdue by 6 h" in out
    assert "4 h left" in out and "22 h left" in out
    assert "received 2026-11-18 07:00 (2 d 2 h ago)" in out


def test_late_exits_3_clear_exits_0_and_silence(tmp_path: Path, config_path: Path) -> None:
    box = Mailbox(tmp_path / "mail")
    box.inbound(BUYER, "質問", hours_ago=25)
    load(box, config_path)
    assert run(config_path, "check", "--no-poll", "--now", NOW_ISO).exit_code == 3
    # Twelve hours earlier the same message was only pending: exit 0 but listed.
    earlier = (NOW - timedelta(hours=12)).isoformat()
    result = run(config_path, "check", "--no-poll", "--now", earlier)
    assert result.exit_code == 0 and "pending" in result.output


def test_nothing_to_do_prints_nothing(tmp_path: Path, config_path: Path) -> None:
    box = Mailbox(tmp_path / "mail")
    q = box.inbound(BUYER, "質問", hours_ago=30)
    box.outbound(BUYER, "Re: 質問", hours_ago=29, in_reply_to=q)
    box.inbound("no-reply@amazon.co.jp", "発送通知", hours_ago=3)
    load(box, config_path)
    result = run(config_path, "check", "--no-poll", "--now", NOW_ISO)
    assert (result.exit_code, result.output, result.stderr) == (0, "", "")
    verbose = run(config_path, "check", "--no-poll", "--verbose", "--now", NOW_ISO)
    assert verbose.exit_code == 0 and "nothing awaits a reply (1 replied, 0 dismissed)" in verbose.output
    code, data = check_json(config_path)
    assert (code, data["items"], data["counts"]) == (0, [], {"critical": 0, "late": 0, "due_soon": 0, "pending": 0})


def test_hygiene_now_env_and_account_filter(tmp_path: Path, config_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    box = Mailbox(tmp_path / "mail")
    box.inbound(BUYER, "質問", hours_ago=49)
    load(box, config_path)
    monkeypatch.setenv("HYGIENE_NOW", NOW_ISO)
    assert run(config_path, "check", "--no-poll").exit_code == 4
    monkeypatch.setenv("HYGIENE_NOW", (NOW - timedelta(hours=48)).isoformat())
    assert run(config_path, "check", "--no-poll").exit_code == 0
    unknown = run(config_path, "check", "--no-poll", "--account", "nope")
    assert unknown.exit_code == 1 and "no account named 'nope'" in unknown.stderr


def test_stated_deadlines_japanese_and_english(tmp_path: Path, config_path: Path) -> None:
    box = Mailbox(tmp_path / "mail")
    box.inbound(PERF, "重要なお知らせ", hours_ago=10, body="12時間以内にご返信ください。")
    box.inbound("account-health@amazon.com", "Policy warning", hours_ago=10, body="Please respond within 72 hours.")
    box.inbound(SUPPORT, "Case ID 12345678901", hours_ago=30, body="Please reply by November 20, 2026.")
    load(box, config_path)
    code, data = check_json(config_path)
    by_subject = {i["subject"]: i for i in data["items"]}
    ja = by_subject["重要なお知らせ"]
    assert (ja["state"], ja["hours_left"], ja["deadline_source"]) == ("due_soon", 2.0, "stated: 12時間以内")
    # 72 hours is later than the default: the default stays, and says so.
    en = by_subject["Policy warning"]
    assert (en["state"], en["deadline_source"]) == ("pending", "default 24 h / 48 h (account_health); stated within 72 hours is later")
    by_date = by_subject["Case ID 12345678901"]
    assert by_date["state"] == "late"
    assert by_date["critical_at"] == "2026-11-20T14:59:59+00:00"  # end of Nov 20 in Tokyo
    assert "critical stated: by November 20, 2026" in by_date["deadline_source"]
    assert code == 3


def test_replied_dismiss_undo_and_show(tmp_path: Path, config_path: Path) -> None:
    box = Mailbox(tmp_path / "mail")
    q = box.inbound(BUYER, "返品したい", hours_ago=30)
    n = box.inbound(PERF, "お知らせ", hours_ago=60)
    ids = load(box, config_path)
    assert check_json(config_path)[0] == 4

    marked = run(config_path, "replied", str(ids[n]), "--at", "yesterday 18:00", "--now", NOW_ISO)
    assert marked.exit_code == 0, marked.output + marked.stderr
    code, data = check_json(config_path)
    assert code == 3 and [i["id"] for i in data["items"]] == [ids[q]]

    assert run(config_path, "dismiss", str(ids[q]), "--reason", "buyer withdrew", "--now", NOW_ISO).exit_code == 0
    assert check_json(config_path) == (0, {"now": NOW_ISO, "items": [], "counts": {"critical": 0, "late": 0, "due_soon": 0, "pending": 0}, "sync": [], "suspicious": []})

    shown = run(config_path, "show", str(ids[n]), "--now", NOW_ISO)
    assert shown.exit_code == 0, shown.stderr
    assert "[replied]" in shown.output and "marked replied, after 1 d 21 h" in shown.output
    assert "2026-11-19 18:00  replied" in shown.output  # "yesterday 18:00" in the configured zone

    assert run(config_path, "undo", str(ids[q])).exit_code == 0
    assert run(config_path, "undo", str(ids[n])).exit_code == 0
    assert check_json(config_path)[0] == 4
    again = run(config_path, "undo", str(ids[n]))
    assert again.exit_code == 1 and "no 'replied' or 'dismiss' mark" in again.stderr


def test_replied_relative_japanese_time(tmp_path: Path, config_path: Path) -> None:
    box = Mailbox(tmp_path / "mail")
    q = box.inbound(BUYER, "質問", hours_ago=30)
    ids = load(box, config_path)
    assert run(config_path, "replied", str(ids[q]), "--at", "2時間前", "--now", NOW_ISO).exit_code == 0
    shown = run(config_path, "show", str(ids[q]), "--now", NOW_ISO).output
    assert "2026-11-20 07:00  replied: marked replied, after 1 d 4 h" in shown


def test_undo_brings_back_the_mail_reply(tmp_path: Path, config_path: Path) -> None:
    box = Mailbox(tmp_path / "mail")
    q = box.inbound(BUYER, "質問", hours_ago=30)
    r = box.outbound(BUYER, "Re: 質問", hours_ago=20)
    ids = load(box, config_path)
    assert run(config_path, "replied", str(ids[q]), "--at", (NOW - timedelta(hours=28)).isoformat()).exit_code == 0
    assert run(config_path, "undo", str(ids[q])).exit_code == 0
    shown = run(config_path, "show", str(ids[q]), "--now", NOW_ISO).output
    assert f"reply mail (rule: subject, #{ids[r]}), after 10 h" in shown
    assert "Thread:" in shown and "Re: 質問" in shown


@pytest.mark.parametrize("command", [["show"], ["replied"], ["dismiss", "--reason", "x"], ["undo"]])
def test_unknown_id_is_one_line_exit_1(config_path: Path, command: list[str]) -> None:
    result = run(config_path, command[0], "999", *command[1:])
    assert result.exit_code == 1
    assert result.stderr.strip() == "hygiene: no message #999; see 'hygiene check' or 'hygiene messages' for ids"


def test_replied_before_arrival_and_on_own_mail_are_refused(tmp_path: Path, config_path: Path) -> None:
    box = Mailbox(tmp_path / "mail")
    q = box.inbound(BUYER, "質問", hours_ago=3)
    r = box.outbound(BUYER, "Re: 質問", hours_ago=1)
    ids = load(box, config_path)
    early = run(config_path, "replied", str(ids[q]), "--at", (NOW - timedelta(hours=5)).isoformat())
    assert early.exit_code == 1 and "before it" in early.stderr
    own = run(config_path, "dismiss", str(ids[r]), "--reason", "x")
    assert own.exit_code == 1 and "seller's own mail" in own.stderr


def test_bad_now_is_one_line_error(config_path: Path) -> None:
    result = run(config_path, "check", "--no-poll", "--now", "not a time at all")
    assert result.exit_code == 1 and "--now / HYGIENE_NOW" in result.stderr


def test_human_span() -> None:
    assert [human_span(timedelta(minutes=m)) for m in (0, 45, 60, 200, 24 * 60, 26 * 60 + 5)] == [
        "< 1 m", "45 m", "1 h", "3 h 20 m", "1 d", "1 d 2 h",
    ]


OUT_OF_RANGE = [
    "0001-01-01T00:00:00+05:00",  # converting to UTC overflows
    "9999-12-31T23:59:59-05:00",  # likewise, the other end
    "1 January 0001 00:00 +0500",  # dateparser overflows on its own
    "1800-01-01T00:00:00+00:00",  # readable, but before 1990
    "2500-01-01",  # after 2200
]
NUMBERS = ["1e400", "-1", "0", "1700000000", "nan", "3.5"]  # dateparser reads these as odd times


def assert_one_line_error(result: Result, prefix: str, fragment: str) -> None:
    # CliRunner turns an uncaught exception into exit 1 too: insist on a deliberate exit.
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.exit_code == 1, result.output + result.stderr
    err = result.stderr.strip()
    assert err.startswith(f"hygiene: {prefix}: ") and fragment in err, err
    assert "\n" not in err and "Traceback" not in result.output


@pytest.mark.parametrize("text", OUT_OF_RANGE + NUMBERS)
def test_edge_times_are_one_line_errors(config_path: Path, monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    fragment = "is a number, not a time" if text in NUMBERS else "out of range"
    assert_one_line_error(run(config_path, "check", "--no-poll", "--now", text), "--now / HYGIENE_NOW", fragment)
    assert_one_line_error(run(config_path, "messages", "--since", text), "--since", fragment)
    assert_one_line_error(run(config_path, "replied", "1", "--at", text, "--now", NOW_ISO), "--at", fragment)
    monkeypatch.setenv("HYGIENE_NOW", text)
    assert_one_line_error(run(config_path, "check", "--no-poll"), "--now / HYGIENE_NOW", fragment)


def test_times_inside_the_range_are_still_read(config_path: Path) -> None:
    for text in ("1990-01-01T00:00:00+00:00", "2200-12-31T23:59:59+00:00", "20261120", "yesterday 18:00"):
        result = run(config_path, "check", "--no-poll", "--json", "--now", text)
        assert result.exit_code == 0, result.output + result.stderr


ATOZ_JP = "atoz-guarantee-no-reply@amazon.co.jp"
ATOZ_US = "atoz-guarantee-no-reply@amazon.com"


def test_claims_default_72_hours_stated_times_and_listed_first_among_equals(tmp_path: Path, config_path: Path) -> None:
    """Issue 10, item 6: A-to-z Guarantee claims and chargebacks are category ``claim``, due
    and critical 72 h after arrival by default, earlier when the notice says so, critical at a
    later stated window; first among messages in the same state; answered with 'replied'."""
    box = Mailbox(tmp_path / "mail")
    ja = box.inbound(ATOZ_JP, "「Amazonマーケットプレイス保証」申請について（注文番号：250-1234567-7654321）", hours_ago=10,
                     body="購入者様よりAmazonマーケットプレイス保証の申請がありました。\n詳細をセラーセントラルからご確認ください。")
    en = box.inbound(ATOZ_US, "A-to-z Guarantee claim on order 111-1234567-7654321", hours_ago=70,
                     body="A buyer has filed an A-to-z Guarantee claim.\nPlease respond within 48 hours in Seller Central.")
    cb = box.inbound("cb-seller-notification@amazon.co.jp", "チャージバック請求のお知らせ", hours_ago=80,
                     body="チャージバックの請求がありました。7日以内にセラーセントラルでご回答ください。")
    late_buyer = box.inbound(BUYER, "届きません", hours_ago=30)  # late, earlier due than the claim
    pending_buyer = box.inbound(BUYER2, "サイズについて", hours_ago=1)
    ids = load(box, config_path)

    code, data = check_json(config_path)
    by_id = {i["id"]: i for i in data["items"]}
    claim_ja = by_id[ids[ja]]
    assert (claim_ja["category"], claim_ja["state"]) == ("claim", "pending")
    assert claim_ja["due_at"] == claim_ja["critical_at"] == (NOW + timedelta(hours=62)).isoformat()
    assert claim_ja["deadline_source"] == "default 72 h / 72 h (claim)"
    claim_en = by_id[ids[en]]
    assert (claim_en["category"], claim_en["state"]) == ("claim", "critical")
    assert claim_en["due_at"] == claim_en["critical_at"] == (NOW - timedelta(hours=22)).isoformat()
    assert claim_en["deadline_source"] == "stated: within 48 hours"
    # 7 days is Amazon's window for this chargeback: critical then, due at the 72 h default.
    chargeback = by_id[ids[cb]]
    assert (chargeback["category"], chargeback["state"]) == ("claim", "late")
    assert chargeback["due_at"] == (NOW - timedelta(hours=8)).isoformat()
    assert chargeback["critical_at"] == (NOW + timedelta(hours=88)).isoformat()
    assert chargeback["deadline_source"] == "default 72 h (claim), critical stated: 7日以内"
    # Most urgent state first; within a state, claims first.
    assert [i["id"] for i in data["items"]] == [ids[en], ids[cb], ids[late_buyer], ids[ja], ids[pending_buyer]]
    assert code == 4

    text = run(config_path, "check", "--no-poll", "--now", NOW_ISO).output
    assert "claim" in text and f"{ATOZ_JP}  #{ids[ja]}" in text

    # No mail answers a claim: the response goes through Seller Central.
    assert run(config_path, "replied", str(ids[en]), "--at", "2026-11-19T10:00:00Z", "--now", NOW_ISO).exit_code == 0
    assert run(config_path, "replied", str(ids[cb]), "--now", NOW_ISO).exit_code == 0
    code, data = check_json(config_path)
    assert ids[en] not in {i["id"] for i in data["items"]} and ids[cb] not in {i["id"] for i in data["items"]}
    assert code == 3
    listed = run(config_path, "messages", "--category", "claim", "--json")
    assert {m["id"] for m in json.loads(listed.output)["messages"]} == {ids[ja], ids[en], ids[cb]}


def test_claim_deadlines_are_configurable_on_their_own(tmp_path: Path, config_path: Path) -> None:
    base = config_path.read_text()
    config_path.write_text(base + "[deadlines]\ndue_hours = 12\ncritical_hours = 24\n")
    config = load_config(config_path)
    assert (config.deadline("claim").due_hours, config.deadline("claim").critical_hours) == (72, 72)
    assert config.deadline("buyer").due_hours == 12
    config_path.write_text(base + "[deadlines.claim]\ndue_hours = 48\n")
    config = load_config(config_path)
    assert (config.deadline("claim").due_hours, config.deadline("claim").critical_hours) == (48, 72)
    config_path.write_text(base + "[categories.claim]\nneeds_reply = false\n")
    assert load_config(config_path).needs_reply["claim"] is False
