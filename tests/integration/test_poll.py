"""The poller against a real Dovecot: read-only, incremental, resumable, and clear on failure."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from hygiene.cli import cli
from hygiene.errors import MailSourceError
from hygiene.mail.imap import PollBusy, account_lock
from hygiene.store.db import open_database
from hygiene.store.messages import folder_state
from tests.builders import IMAP_BUYER, NOW, PERF, db_url, eml, run_poll, stored
from tests.dovecot import Dovecot
from tests.servers import CuttingProxy


def seed(box: Dovecot) -> None:
    """A small seller mailbox: two Amazon messages, a newsletter, a reply in Sent."""
    box.append("INBOX", eml(IMAP_BUYER, box.user, "商品が届きません", mid="q1@amazon", hours_ago=30))
    box.append(
        "INBOX",
        eml(PERF, box.user, "【重要】アカウント健全性について", mid="p1@amazon", hours_ago=10),
        flags=["\\Seen"],
    )
    box.append("INBOX", eml("news@shop.example.com", box.user, "今週のセール", mid="n1@shop"))
    box.append(
        "Sent",
        eml(box.user, IMAP_BUYER, "Re: 商品が届きません", "ご連絡ありがとうございます。", mid="r1@shop", hours_ago=28, extra="In-Reply-To: <q1@amazon>\r\n"),
        flags=["\\Seen"],
    )


def test_poll_keeps_amazon_mail_and_replies_and_changes_nothing_on_the_server(mailbox: Dovecot, imap_config: Path) -> None:
    seed(mailbox)
    before = {folder: mailbox.flags(folder) for folder in ("INBOX", "Sent")}
    result = run_poll(imap_config, match=False)
    after = {folder: mailbox.flags(folder) for folder in ("INBOX", "Sent")}
    assert after == before  # EXAMINE + BODY.PEEK: not even \Seen was set
    # two INBOX messages were delivered unseen and are still unseen: the equality above holds
    # something (a poll that set \Seen would break it)
    assert sorted(before["INBOX"].values()) == [(), (), (b"\\Seen",)]
    assert [(f.name, f.role, f.new) for f in result.folders] == [("INBOX", "inbox", 2), ("Sent", "sent", 1)]
    assert result.folders[0].skipped == 1  # the newsletter: headers read, body never fetched
    assert re.fullmatch(r"jp: INBOX \+2, Sent \+1 in \d+\.\d s", result.summary())
    rows = stored(db_url(imap_config))
    by_mid = {r.message_id: r for r in rows}
    assert set(by_mid) == {"<q1@amazon>", "<p1@amazon>", "<r1@shop>"}
    q1 = by_mid["<q1@amazon>"]
    assert (q1.direction, q1.category, q1.needs_reply) == ("inbound", "buyer", True)
    assert q1.subject == "商品が届きません" and q1.body_text.strip() == "本文です。"
    assert q1.uid is not None and q1.uidvalidity == mailbox.uidvalidity("INBOX")
    assert q1.internal_date is not None and q1.received_at == NOW - timedelta(hours=30)
    assert q1.seen is False and by_mid["<p1@amazon>"].seen is True
    assert by_mid["<p1@amazon>"].category == "account_health"
    assert by_mid["<r1@shop>"].direction == "outbound"
    assert q1.raw is None  # raw bytes are not kept unless the config asks
    # poll stores; reply matching is check's (and show's) business
    assert q1.replied_at is None


def test_a_second_poll_fetches_no_bodies(mailbox: Dovecot, imap_config: Path) -> None:
    seed(mailbox)
    run_poll(imap_config)
    first_sessions = mailbox.settled_session_count()
    again = run_poll(imap_config, now=NOW + timedelta(minutes=5))
    assert [(f.new, f.fetched, f.skipped) for f in again.folders] == [(0, 0, 0), (0, 0, 0)]
    # Dovecot's own accounting of the second session: no header or body bytes were sent.
    last = mailbox.sessions_after(first_sessions)
    assert last and all("hdr_bytes=0" in line and "body_bytes=0" in line for line in last), last
    assert len(stored(db_url(imap_config))) == 3


def test_new_mail_and_a_later_answered_flag_are_picked_up(mailbox: Dovecot, imap_config: Path) -> None:
    seed(mailbox)
    run_poll(imap_config)
    mailbox.append("INBOX", eml(IMAP_BUYER, mailbox.user, "返品について", mid="q2@amazon", hours_ago=2))
    # The seller answers p1 from another mail program: the server sets \Answered.
    uid_p1 = next(uid for uid, flags in mailbox.flags("INBOX").items() if b"\\Seen" in flags)
    mailbox.set_flags("INBOX", [uid_p1], ["\\Answered"])
    later = NOW + timedelta(hours=1)
    result = run_poll(imap_config, now=later)
    assert result.folders[0].new == 1 and result.folders[0].flag_changes == 1
    rows = {r.message_id: r for r in stored(db_url(imap_config))}
    p1 = rows["<p1@amazon>"]
    assert p1.answered is True and p1.answered_seen_at == later
    assert p1.replied_at == later and p1.reply_source == "answered_flag"
    assert rows["<q2@amazon>"].answered is False


def test_uidvalidity_change_rescans_without_duplicates(mailbox: Dovecot, imap_config: Path) -> None:
    seed(mailbox)
    run_poll(imap_config)
    old_validity = mailbox.uidvalidity("Sent")
    sent = [r for r in stored(db_url(imap_config)) if r.folder == "Sent"]
    mailbox.recreate("Sent")  # e.g. the provider migrated the mailbox
    mailbox.append(
        "Sent",
        eml(mailbox.user, IMAP_BUYER, "Re: 商品が届きません", "ご連絡ありがとうございます。", mid="r1@shop", hours_ago=28, extra="In-Reply-To: <q1@amazon>\r\n"),
        flags=["\\Seen"],
    )
    mailbox.append("Sent", eml(mailbox.user, PERF, "改善計画のご提出", mid="r2@shop", hours_ago=1))
    assert mailbox.uidvalidity("Sent") != old_validity
    result = run_poll(imap_config, now=NOW + timedelta(hours=1))
    sent_result = result.folders[1]
    assert sent_result.rescanned and sent_result.new == 1
    rows = [r for r in stored(db_url(imap_config)) if r.folder == "Sent"]
    assert sorted(r.message_id for r in rows) == ["<r1@shop>", "<r2@shop>"]
    r1 = next(r for r in rows if r.message_id == "<r1@shop>")
    assert r1.id == sent[0].id and r1.uidvalidity == mailbox.uidvalidity("Sent")


def test_a_run_cut_off_mid_way_resumes_without_gaps_or_duplicates(mailbox: Dovecot, imap_config: Path) -> None:
    for i in range(7):
        mailbox.append("INBOX", eml(IMAP_BUYER, mailbox.user, f"注文 {i}", mid=f"m{i}@amazon", hours_ago=10 - i))
    # The network goes away when the third batch's headers are asked for (batches of 2).
    proxy = CuttingProxy(mailbox.port, marker=b"HEADER.FIELDS", nth=3)
    direct = imap_config.read_text()
    imap_config.write_text(re.sub(r"port = \d+", f"port = {proxy.port}", direct) + "\n[poll]\nbatch_size = 2\n")
    try:
        with pytest.raises(MailSourceError) as failed:
            run_poll(imap_config)
    finally:
        proxy.close()
    assert "jp: INBOX: connection to 127.0.0.1" in str(failed.value)
    url = db_url(imap_config)
    assert sorted(r.message_id for r in stored(url)) == [f"<m{i}@amazon>" for i in range(4)]
    engine = open_database(url)
    with engine.connect() as conn:
        state = folder_state(conn, "jp", "INBOX")
    engine.dispose()
    assert state is not None and state.highest_uid == 4 and state.last_error and "connection" in state.last_error

    imap_config.write_text(direct + "\n[poll]\nbatch_size = 2\n")
    result = run_poll(imap_config, now=NOW + timedelta(minutes=1))
    assert result.folders[0].new == 3
    rows = stored(url)
    assert sorted(r.message_id for r in rows) == [f"<m{i}@amazon>" for i in range(7)]
    assert sorted(r.uid for r in rows) == list(range(1, 8))


def test_overlapping_polls_of_one_account_do_not_run_twice(mailbox: Dovecot, imap_config: Path) -> None:
    seed(mailbox)
    with account_lock("jp"):
        with pytest.raises(PollBusy):
            run_poll(imap_config)
        result = CliRunner().invoke(cli, ["poll"])
    assert result.exit_code == 0
    assert "another poll of this account is running" in result.stderr
    assert stored(db_url(imap_config)) == []


def test_cli_poll_prints_one_summary_line_and_status_shows_folders(mailbox: Dovecot, imap_config: Path) -> None:
    seed(mailbox)
    runner = CliRunner()
    result = runner.invoke(cli, ["poll"], env={"HYGIENE_NOW": NOW.isoformat()})
    assert result.exit_code == 0, result.output
    assert re.fullmatch(r"jp: INBOX \+2, Sent \+1 in \d+\.\d s\n", result.stdout)
    status = runner.invoke(cli, ["status", "--json"])
    data = json.loads(status.stdout)
    folders = {f["name"]: f for f in data["accounts"][0]["folders"]}
    assert data["accounts"][0]["name"] == "jp"
    assert folders["INBOX"]["messages"] == 2 and folders["Sent"]["messages"] == 1
    assert folders["INBOX"]["uidvalidity"] == mailbox.uidvalidity("INBOX")
    assert folders["INBOX"]["last_sync_at"] and folders["INBOX"]["last_error"] is None
    again = runner.invoke(cli, ["poll", "--json"])
    payload = json.loads(again.stdout)
    assert payload["accounts"][0]["ok"] and [f["new"] for f in payload["accounts"][0]["folders"]] == [0, 0]


def test_login_failure_is_one_line_exit_1_and_recorded(mailbox: Dovecot, imap_config: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seed(mailbox)
    CliRunner().invoke(cli, ["poll"])
    monkeypatch.setenv("TEST_IMAP_PASSWORD", "wrong")
    result = CliRunner().invoke(cli, ["poll"])
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("hygiene: error: jp: login failed for " + mailbox.user)
    assert "Traceback" not in result.output + result.stderr
    status = json.loads(CliRunner().invoke(cli, ["status", "--json"]).stdout)
    assert all("login failed" in f["last_error"] for f in status["accounts"][0]["folders"])


def test_unreachable_server_is_one_line_exit_1(imap_config: Path) -> None:
    from tests.servers import free_port

    imap_config.write_text(re.sub(r"port = \d+", f"port = {free_port()}", imap_config.read_text()))
    result = CliRunner().invoke(cli, ["poll"])
    assert result.exit_code == 1
    assert re.fullmatch(r"hygiene: error: jp: cannot connect to 127\.0\.0\.1:\d+: .+\n", result.stderr)


def test_japanese_encodings_survive_the_trip_through_imap(mailbox: Dovecot, imap_config: Path) -> None:
    cases = {
        "iso-2022-jp": "【重要】出品制限のお知らせ",
        "shift_jis": "お問い合わせの件",
        "euc-jp": "返品リクエスト",
        "utf-8": "配送状況の確認",
    }
    for i, (charset, subject) in enumerate(cases.items()):
        body = f"{subject}について、72時間以内にご対応ください。"
        mailbox.append("INBOX", eml(PERF, mailbox.user, subject, body, mid=f"e{i}@amazon", charset=charset))
    html = "<html><body><p>ご注文ありがとうございます。</p><p>出荷しました。</p></body></html>"
    mailbox.append("INBOX", eml(IMAP_BUYER, mailbox.user, "HTMLのみ", html, mid="h@amazon", content_type="text/html"))
    raw_utf8 = f"From: {IMAP_BUYER}\r\nTo: {mailbox.user}\r\nSubject: 生の8ビット件名\r\nMessage-ID: <raw@amazon>\r\n\r\n本文\r\n"
    mailbox.append("INBOX", raw_utf8.encode("utf-8"))  # unencoded UTF-8 header, no Date: INTERNALDATE used
    run_poll(imap_config)
    rows = {r.message_id: r for r in stored(db_url(imap_config))}
    for i, subject in enumerate(cases.values()):
        row = rows[f"<e{i}@amazon>"]
        assert row.subject == subject
        assert f"{subject}について、72時間以内にご対応ください。" in row.body_text
    assert rows["<h@amazon>"].body_text == "ご注文ありがとうございます。\n\n出荷しました。"
    raw = rows["<raw@amazon>"]
    assert raw.subject == "生の8ビット件名" and raw.date_header is None and raw.received_at == raw.internal_date
    assert "Date: missing" in raw.parse_note


def test_poll_into_postgresql_and_sqlite_alike(mailbox: Dovecot, imap_config: Path, database_url: str) -> None:
    """Agencies keep many sellers in PostgreSQL: the same poll, the same rows, the same resume."""
    imap_config.write_text(re.sub(r'url = ".*"', f'url = "{database_url}"', imap_config.read_text()))
    seed(mailbox)
    first = run_poll(imap_config)
    again = run_poll(imap_config, now=NOW + timedelta(minutes=5))
    assert [f.new for f in first.folders] == [2, 1] and [f.new for f in again.folders] == [0, 0]
    rows = stored(database_url)
    assert sorted(r.message_id for r in rows) == ["<p1@amazon>", "<q1@amazon>", "<r1@shop>"]
    q1 = next(r for r in rows if r.message_id == "<q1@amazon>")
    assert q1.received_at == NOW - timedelta(hours=30) and q1.reply_rule == "references"


def test_the_example_config_against_a_real_server(mailbox: Dovecot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 2's "done when": the example config pointed at a server, poll twice, status."""
    example = (Path(__file__).parents[2] / "config.example.toml").read_text()
    config = (
        example.replace('host = "imap.example.jp"', 'host = "127.0.0.1"')
        .replace("port = 993 ", f"port = {mailbox.port} ")
        .replace('tls = "ssl" ', 'tls = "none"')
        .replace('username = "shop@example.jp"', f'username = "{mailbox.user}"')
        .replace('url = "sqlite:////home/me/.local/share/hygiene/hygiene.db"', f'url = "sqlite:///{tmp_path / "h.db"}"')
    )
    assert f"port = {mailbox.port}" in config and 'tls = "none"' in config and str(tmp_path) in config
    path = tmp_path / "config.toml"
    path.write_text(config)
    monkeypatch.setenv("HYGIENE_CONFIG", str(path))
    monkeypatch.setenv("JP_IMAP_PASSWORD", mailbox.password)
    seed(mailbox)
    before = {folder: mailbox.flags(folder) for folder in ("INBOX", "Sent")}
    runner = CliRunner()
    first = runner.invoke(cli, ["poll"])
    second = runner.invoke(cli, ["poll"])
    assert first.exit_code == second.exit_code == 0, first.output + first.stderr
    assert first.stdout.startswith("jp: INBOX +2, Sent +1 in ")
    assert second.stdout.startswith("jp: INBOX +0, Sent +0 in ")
    status = runner.invoke(cli, ["status"])
    assert status.exit_code == 0 and "INBOX" in status.stdout and "Sent" in status.stdout
    assert {folder: mailbox.flags(folder) for folder in ("INBOX", "Sent")} == before
    assert (tmp_path / "h.db").exists()


@pytest.mark.parametrize("tls", ["ssl", "starttls"])
def test_tls_and_starttls_verify_the_server_certificate(mailbox: Dovecot, imap_config: Path, tls: str) -> None:
    port = mailbox.imaps_port if tls == "ssl" else mailbox.port
    plain = imap_config.read_text()
    with_tls = re.sub(r"port = \d+", f"port = {port}", plain).replace('tls = "none"', f'tls = "{tls}"')
    seed(mailbox)
    # Without trusting the self-signed certificate the poll refuses to talk to the server.
    imap_config.write_text(with_tls)
    refused = CliRunner().invoke(cli, ["poll"])
    assert refused.exit_code == 1
    assert "jp: cannot connect to 127.0.0.1" in refused.stderr and "CERTIFICATE_VERIFY_FAILED" in refused.stderr
    imap_config.write_text(with_tls.replace("timeout = 10", f'timeout = 10\nca_file = "{mailbox.ca_file}"'))
    result = CliRunner().invoke(cli, ["poll"])
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("jp: INBOX +2, Sent +1 in ")


def _body_count(box: Dovecot, since: int) -> int:
    counts = [re.search(r"body_count=(\d+)", line) for line in box.sessions_after(since)]
    return sum(int(m.group(1)) for m in counts if m)


@pytest.mark.parametrize(("amazon", "other"), [(20, 130), (135, 15)])
def test_prefilter_fetches_bodies_of_unwanted_mail_only_when_it_is_rare(
    mailbox: Dovecot, imap_config: Path, amazon: int, other: int
) -> None:
    """Mostly other mail: headers first, only Amazon bodies fetched. Mostly Amazon mail: the
    header round trip is skipped and the few other bodies are fetched, parsed and dropped.
    Either way exactly the Amazon mail is stored."""
    imap_config.write_text(imap_config.read_text() + "\n[poll]\nbatch_size = 50\n")
    messages = [(eml(IMAP_BUYER, mailbox.user, f"注文 {i}", mid=f"a{i}@amazon"), (), None) for i in range(amazon)]
    messages += [(eml(f"n{i}@shop.example.com", mailbox.user, f"セール {i}", mid=f"n{i}@shop"), (), None) for i in range(other)]
    import random

    random.Random(3).shuffle(messages)
    mailbox.append_many("INBOX", messages)
    before = mailbox.settled_session_count()
    result = run_poll(imap_config, match=False)
    inbox = result.folders[0]
    assert (inbox.new, inbox.skipped) == (amazon, other)
    assert sorted(r.message_id for r in stored(db_url(imap_config))) == sorted(f"<a{i}@amazon>" for i in range(amazon))
    bodies = _body_count(mailbox, before)
    if other > amazon:
        assert bodies == amazon  # no body of other mail left the server
    else:
        assert amazon < bodies <= amazon + other


def test_poll_matches_replies_as_the_readme_says(mailbox: Dovecot, imap_config: Path) -> None:
    """`hygiene poll` matches replies after the sync (README: "After every poll, replies are
    matched"): replies_found counts them and anything run next sees them."""
    seed(mailbox)
    runner = CliRunner()
    env = {"HYGIENE_NOW": NOW.isoformat()}
    payload = json.loads(runner.invoke(cli, ["poll", "--json"], env=env).stdout)
    assert payload["accounts"][0]["replies_found"] == 1
    rows = {r.message_id: r for r in stored(db_url(imap_config))}
    assert rows["<q1@amazon>"].replied_at is not None and rows["<q1@amazon>"].reply_rule == "references"
