"""End to end: a hostile mail imported and listed by the real ``hygiene`` command on a
pseudo-terminal reaches the terminal with no escape sequence, bare CR or bidi override,
while ``--json`` keeps its text exact."""

from __future__ import annotations

import email.header
import json
import os
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from hygiene.cli import cli
from tests.builders import NOW_ISO, Mailbox, run
from tests.terminal import run_on_pty

SUBJECT = "注文 249-1234567-7654321 \x1b]52;c;ZWNobyBwd25lZA==\x07返金のお願い \x9d8;;https://evil.example/\x9cRefund"
NAME = "\x1b[2J\x1b[HAmazon Seller Support"
BODY = "ご注文の件です。\rACCOUNT SUSPENDED\r\nSee invoice\u202efdp.exe and \x9b2J\x1b]8;;https://evil.example/\x1b\\click\x1b]8;;\x1b\\ here."


def on_pty(*args: str, timeout: float = 60) -> tuple[int, bytes]:
    """Run ``hygiene ARGS`` with stdin, stdout and stderr on a pseudo-terminal; all it wrote."""
    return run_on_pty(*args, env={**os.environ, "NO_COLOR": "1"}, timeout=timeout)


def assert_harmless(out: bytes) -> str:
    assert b"\x1b" not in out
    text = out.decode("utf-8")  # strict: no stray 8-bit byte either
    assert "\x9b" not in text and "\x9d" not in text and "\x9c" not in text
    assert not re.search("\r(?!\n)", text), "a bare CR besides the pty's own CRLF line endings"
    assert "\u202e" not in text
    return text


def test_hostile_mail_reaches_the_terminal_harmless(tmp_path: Path, config_path: Path) -> None:
    box = Mailbox(tmp_path / "mail")
    sender = f"{email.header.Header(NAME, 'utf-8').encode()} <xyz@marketplace.amazon.co.jp>"
    box.inbound(sender, SUBJECT, hours_ago=30, body=BODY)
    config = str(config_path)

    code, out = on_pty("--config", config, "import", str(box.root))
    assert code == 0, out
    assert "1 new" in assert_harmless(out)

    listed = json.loads(run(config_path, "messages", "--json").output)["messages"]
    assert [m["subject"] for m in listed] == [SUBJECT]  # JSON: exact, escapes and all
    assert listed[0]["from_name"] == NAME
    ident = str(listed[0]["id"])

    code, out = on_pty("--config", config, "messages")
    assert code == 0
    assert "返金のお願い" in assert_harmless(out)

    code, out = on_pty("--config", config, "check", "--no-poll", "--now", NOW_ISO)
    assert code == 3  # late: the buyer waits 30 h
    text = assert_harmless(out)
    assert "注文 249-1234567-7654321 返金のお願い Refund" in text
    assert "xyz@marketplace.amazon.co.jp" in text

    code, out = on_pty("--config", config, "show", ident, "--now", NOW_ISO)
    assert code == 0
    text = assert_harmless(out)
    assert "From:     Amazon Seller Support <xyz@marketplace.amazon.co.jp>" in text
    assert "ご注文の件です。␍ACCOUNT SUSPENDED" in text  # the overwrite is shown, not done
    assert "See invoicefdp.exe and click here." in text


# -- server text: folder names and errors ------------------------------------------------

EVIL_FOLDER = "INBOX\x1b]52;c;ZWNobyBwd25lZA==\x07\rSUSPENDED"
EVIL_ERROR = "[ALERT] \x1b[2J\x9b1;1HAccount suspended\u202e"


def test_status_shows_server_folder_names_and_errors_harmlessly() -> None:
    from datetime import UTC, datetime

    from hygiene.store.messages import FolderState
    from hygiene.views.messages import render_status, status_dict

    state = FolderState("jp", EVIL_FOLDER, "inbox", 1, 10, None, datetime(2026, 11, 20, tzinfo=UTC), EVIL_ERROR, None, 3)
    data = status_dict([state], ["jp"])
    assert data["accounts"][0]["folders"][0]["name"] == EVIL_FOLDER  # the JSON shape stays exact
    text = render_status(data)
    assert assert_harmless(text.encode()) == text
    assert "INBOX␍SUSPENDED" in text and "ERROR: [ALERT] Account suspended" in text


def test_poll_summary_error_and_progress_label_are_harmless(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import hygiene.mail.imap as imap
    from hygiene.cli.poll import _Bar
    from hygiene.errors import MailSourceError

    config = tmp_path / "c.toml"
    config.write_text(
        f'[database]\nurl = "sqlite:///{tmp_path / "p.db"}"\n'
        '[[accounts]]\nname = "jp"\nhost = "h"\nusername = "u"\npassword_env = "P"\n'
        '[[accounts]]\nname = "us"\nhost = "h"\nusername = "u"\npassword_env = "P"\n'
    )
    results = [imap.PollResult("jp", [imap.FolderResult(EVIL_FOLDER, "inbox", new=2)], 0.1), MailSourceError(f"us: {EVIL_ERROR}")]
    monkeypatch.setattr(imap, "poll_accounts", lambda *a, **k: results)
    result = CliRunner().invoke(cli, ["--config", str(config), "poll"])
    assert result.exit_code == 1
    assert assert_harmless(result.output.encode()) == result.output
    assert "jp: INBOX␍SUSPENDED +2 in 0.1 s" in result.output
    assert "hygiene: error: us: [ALERT] Account suspended" in result.output

    bar = _Bar()
    bar.start_folder("jp", EVIL_FOLDER, 3)
    bar.advance(3)
    bar.end_folder()
    err = capsys.readouterr().err
    assert "jp: INBOX␍SUSPENDED" in err
    assert_harmless(err.encode())
    json_out = CliRunner().invoke(cli, ["--config", str(config), "poll", "--json"]).output
    assert json.loads(json_out)["accounts"][0]["folders"][0]["name"] == EVIL_FOLDER


def test_json_escapes_c0_but_keeps_other_text_exact() -> None:
    """--json is data: json.dumps(ensure_ascii=False) escapes U+0000-U+001F itself (no ESC
    reaches the terminal); C1 and bidi characters pass through as they are, by design."""
    from hygiene.cli.output import print_json

    runner = CliRunner()
    with runner.isolation() as (out, _err, _in):
        print_json({"subject": SUBJECT})
    printed = out.getvalue().decode()
    assert "\x1b" not in printed and "\\u001b" in printed and "\x9d" in printed
    assert json.loads(printed)["subject"] == SUBJECT
