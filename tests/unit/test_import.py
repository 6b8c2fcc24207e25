"""hygiene import: single files of any name, mbox, Maildir, recursive directories."""

from __future__ import annotations

import json
import mailbox
from pathlib import Path

from click.testing import CliRunner

from hygiene.cli import cli


def eml(sender: str, subject: str, mid: str, *, to: str = "shop@example.jp", extra: str = "") -> bytes:
    return (
        f"From: {sender}\r\nTo: {to}\r\nSubject: {subject}\r\n"
        f"Date: Thu, 19 Nov 2026 10:00:00 +0900\r\nMessage-ID: <{mid}>\r\n{extra}"
        "Content-Type: text/plain; charset=utf-8\r\n\r\nbody\r\n"
    ).encode()


BUYER = eml("x1@marketplace.amazon.co.jp", "Question about order 249-1234567-7654321", "b1@x")
PERF = eml("seller-performance@amazon.co.jp", "Account health", "p1@x")
NEWS = eml("news@shop.example", "Weekly newsletter", "n1@x")
REPLY = eml("shop@example.jp", "Re: Question", "r1@x", to="x1@marketplace.amazon.co.jp")


def run_import(*args: str) -> dict[str, int]:
    result = CliRunner().invoke(cli, ["import", "--json", *args])
    assert result.exit_code == 0, result.output + result.stderr
    return json.loads(result.output)


def test_directory_recursive_with_sent_and_odd_names(tmp_path: Path) -> None:
    tmp_path = tmp_path / "export"  # beside the isolated home, which holds the database
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "b" / "message-without-extension").write_bytes(BUYER)
    (tmp_path / "a" / "perf.eml").write_bytes(PERF)
    (tmp_path / "news.txt").write_bytes(NEWS)
    (tmp_path / "Sent").mkdir()
    (tmp_path / "Sent" / "1.eml").write_bytes(REPLY)
    assert run_import(str(tmp_path)) == {"new": 3, "existing": 0, "skipped": 1, "parse_notes": 0, "failed": 0}
    assert run_import(str(tmp_path))["new"] == 0
    listed = json.loads(CliRunner().invoke(cli, ["messages", "--json"]).output)["messages"]
    by_subject = {m["subject"]: m for m in listed}
    assert by_subject["Re: Question"]["direction"] == "outbound"
    assert by_subject["Account health"]["category"] == "account_health"
    assert by_subject["Question about order 249-1234567-7654321"]["category"] == "buyer"
    only_buyer = json.loads(CliRunner().invoke(cli, ["messages", "--json", "--category", "buyer"]).output)
    assert [m["subject"] for m in only_buyer["messages"]] == ["Question about order 249-1234567-7654321"]


def test_mbox_recognised_by_from_line(tmp_path: Path) -> None:
    box_path = tmp_path / "export"  # no extension: recognised by its "From " line
    box = mailbox.mbox(box_path)
    for data in (BUYER, PERF, NEWS):
        box.add(mailbox.mboxMessage(data))
    box.close()
    assert run_import(str(box_path)) == {"new": 2, "existing": 0, "skipped": 1, "parse_notes": 0, "failed": 0}


def test_maildir_flags_and_twice(tmp_path: Path) -> None:
    md = mailbox.Maildir(tmp_path / "Maildir")
    msg = mailbox.MaildirMessage(PERF)
    msg.set_flags("RS")
    md.add(msg)
    md.add(mailbox.MaildirMessage(BUYER))
    assert run_import(str(tmp_path / "Maildir"))["new"] == 2
    assert run_import(str(tmp_path / "Maildir")) == {"new": 0, "existing": 2, "skipped": 0, "parse_notes": 0, "failed": 0}


def test_keep_other_keeps_unmatched(tmp_path: Path) -> None:
    (tmp_path / "n.eml").write_bytes(NEWS)
    config = tmp_path / "c.toml"
    config.write_text("keep_other = true\n")
    result = CliRunner().invoke(cli, ["--config", str(config), "import", "--json", str(tmp_path / "n.eml")])
    assert json.loads(result.output)["new"] == 1
    listed = json.loads(CliRunner().invoke(cli, ["--config", str(config), "messages", "--json"]).output)
    assert listed["messages"][0]["category"] == "other"


def test_missing_path_is_usage_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["import", str(tmp_path / "nope")])
    assert result.exit_code == 2


def test_unparseable_message_is_stored_with_note(tmp_path: Path) -> None:
    broken = b"From: seller-performance@amazon.co.jp\r\nSubject: =?utf-8?B?broken\r\nDate: not a date\r\n\r\n\xff\xfe body"
    (tmp_path / "broken.eml").write_bytes(broken)
    summary = run_import(str(tmp_path))
    assert summary["new"] == 1 and summary["parse_notes"] == 1 and summary["failed"] == 0
    listed = json.loads(CliRunner().invoke(cli, ["messages", "--json"]).output)["messages"]
    assert listed[0]["parse_note"]
