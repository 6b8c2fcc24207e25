"""hygiene import: single files of any name, mbox, Maildir, recursive directories."""

from __future__ import annotations

import json
import mailbox
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
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
    assert run_import(str(tmp_path)) == {"new": 3, "existing": 0, "skipped": 1, "parse_notes": 0, "failed": 0, "unreadable": 0}
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
    assert run_import(str(box_path)) == {"new": 2, "existing": 0, "skipped": 1, "parse_notes": 0, "failed": 0, "unreadable": 0}


def test_maildir_flags_and_twice(tmp_path: Path) -> None:
    md = mailbox.Maildir(tmp_path / "Maildir")
    msg = mailbox.MaildirMessage(PERF)
    msg.set_flags("RS")
    md.add(msg)
    md.add(mailbox.MaildirMessage(BUYER))
    assert run_import(str(tmp_path / "Maildir"))["new"] == 2
    assert run_import(str(tmp_path / "Maildir")) == {"new": 0, "existing": 2, "skipped": 0, "parse_notes": 0, "failed": 0, "unreadable": 0}
    # the Maildir info ":2,RS" is kept as the IMAP flags it stands for; no info, no flags
    database = Path(os.environ["XDG_DATA_HOME"]) / "hygiene" / "hygiene.db"
    with sqlite3.connect(database) as conn:
        rows = dict(conn.execute("SELECT subject, flags || '|' || seen || '|' || answered FROM messages").fetchall())
    assert rows == {"Account health": "\\Answered \\Seen|1|1", "Question about order 249-1234567-7654321": "|0|0"}


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


def import_in_subprocess(*args: str) -> subprocess.CompletedProcess[str]:
    """The CLI in a child process: a read that blocks (a FIFO) or never ends (/dev/zero) fails
    the test at the timeout instead of hanging the suite."""
    return subprocess.run(
        [sys.executable, "-m", "hygiene", "import", "--json", *args],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def test_fifos_devices_and_symlinks_out_of_the_tree_are_skipped(tmp_path: Path) -> None:
    export = tmp_path / "export"
    (export / "sub").mkdir(parents=True)
    (export / "buyer.eml").write_bytes(BUYER)
    (export / "sub" / "perf.eml").write_bytes(PERF)
    os.mkfifo(export / "pipe")
    (export / "zero").symlink_to("/dev/zero")
    outside = tmp_path / "outside.eml"
    outside.write_bytes(eml("x3@marketplace.amazon.co.jp", "Outside question", "b3@x"))
    (export / "outside-link.eml").symlink_to(outside)
    (export / "inside-link.eml").symlink_to(export / "sub" / "perf.eml")  # inside: read (same message)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "other.eml").write_bytes(eml("x2@marketplace.amazon.co.jp", "Another question", "b2@x"))
    (elsewhere / "back").symlink_to(export, target_is_directory=True)  # a loop when followed
    (export / "dirlink").symlink_to(elsewhere, target_is_directory=True)

    done = import_in_subprocess(str(export))
    assert done.returncode == 1, done.stderr  # not everything under the path was read
    assert json.loads(done.stdout) == {
        "new": 2, "existing": 1, "skipped": 0, "parse_notes": 0, "failed": 0, "unreadable": 4
    }
    lines = done.stderr.splitlines()
    assert f"hygiene: skipped: {export / 'pipe'}: not a regular file" in lines
    assert any(line.startswith(f"hygiene: skipped: {export / 'zero'}: symlink to /dev/zero") for line in lines)
    assert any(line.startswith(f"hygiene: skipped: {export / 'outside-link.eml'}: symlink to ") for line in lines)
    assert any(line.startswith(f"hygiene: skipped: {export / 'dirlink'}: symlink to ") for line in lines)
    assert len(lines) == 4 and "Traceback" not in done.stderr

    # Asked to, it follows symlinks out of the tree, but still reads regular files only, and
    # does not go round the loop (dirlink leads back to export) more than once.
    followed = import_in_subprocess("--follow-symlinks", str(export))
    assert followed.returncode == 1, followed.stderr
    summary = json.loads(followed.stdout)
    assert (summary["new"], summary["existing"], summary["unreadable"]) == (2, 3, 2)  # outside, other; pipe, zero
    assert sorted(followed.stderr.splitlines()) == [
        f"hygiene: skipped: {export / 'pipe'}: not a regular file",
        f"hygiene: skipped: {export / 'zero'}: not a regular file",
    ]


def test_a_fifo_or_device_named_on_the_command_line_does_not_hang(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe")
    (tmp_path / "good.eml").write_bytes(BUYER)
    done = import_in_subprocess(str(tmp_path / "pipe"), "/dev/zero", str(tmp_path / "good.eml"))
    assert done.returncode == 1
    assert json.loads(done.stdout)["new"] == 1 and json.loads(done.stdout)["unreadable"] == 2
    assert done.stderr.splitlines() == [
        f"hygiene: skipped: {tmp_path / 'pipe'}: not a regular file",
        "hygiene: skipped: /dev/zero: not a regular file",
    ]


def test_messages_over_the_size_cap_are_skipped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from hygiene.mail import files

    monkeypatch.setattr(files, "MAX_MESSAGE_BYTES", 2000)
    big = eml("seller-performance@amazon.co.jp", "Big", "big@x", extra="X-Pad: " + "a" * 3000 + "\r\n")
    (tmp_path / "big.eml").write_bytes(big)
    box = mailbox.mbox(tmp_path / "box")
    for data in (BUYER, big, PERF):  # the cap is per message: the mbox's others are read
        box.add(mailbox.mboxMessage(data))
    box.close()
    result = CliRunner().invoke(cli, ["import", "--json", str(tmp_path / "big.eml"), str(tmp_path / "box")])
    assert result.exit_code == 1
    assert json.loads(result.stdout) == {
        "new": 2, "existing": 0, "skipped": 0, "parse_notes": 0, "failed": 0, "unreadable": 2
    }
    assert result.stderr.splitlines() == [
        f"hygiene: skipped: {tmp_path / 'big.eml'}: larger than 2000 bytes",
        f"hygiene: skipped: {tmp_path / 'box'}: message 2 is larger than 2000 bytes",
    ]
