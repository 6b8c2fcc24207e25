"""End to end: a hostile mail imported and listed by the real ``hygiene`` command on a
pseudo-terminal reaches the terminal with no escape sequence, bare CR or bidi override,
while ``--json`` keeps its text exact."""

from __future__ import annotations

import email.header
import json
import os
import re
import select
import subprocess
import sys
import time
from pathlib import Path

from tests.unit.test_check import NOW_ISO, config_path, run  # noqa: F401  (config_path: fixture)
from tests.unit.test_threads import Mailbox

SUBJECT = "注文 249-1234567-7654321 \x1b]52;c;ZWNobyBwd25lZA==\x07返金のお願い \x9d8;;https://evil.example/\x9cRefund"
NAME = "\x1b[2J\x1b[HAmazon Seller Support"
BODY = "ご注文の件です。\rACCOUNT SUSPENDED\r\nSee invoice\u202efdp.exe and \x9b2J\x1b]8;;https://evil.example/\x1b\\click\x1b]8;;\x1b\\ here."


def on_pty(*args: str, timeout: float = 60) -> tuple[int, bytes]:
    """Run ``hygiene ARGS`` with stdin, stdout and stderr on a pseudo-terminal; all it wrote."""
    master, slave = os.openpty()
    env = {**os.environ, "NO_COLOR": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "hygiene", *args], stdin=slave, stdout=slave, stderr=slave, env=env)
    os.close(slave)
    out = bytearray()
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.5)
            if not ready:
                if proc.poll() is not None:
                    break
                continue
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: the child closed its end
                break
            if not data:
                break
            out += data
    finally:
        os.close(master)
        if proc.poll() is None:
            proc.kill()
    return proc.wait(), bytes(out)


def assert_harmless(out: bytes) -> str:
    assert b"\x1b" not in out
    text = out.decode("utf-8")  # strict: no stray 8-bit byte either
    assert "\x9b" not in text and "\x9d" not in text and "\x9c" not in text
    assert not re.search("\r(?!\n)", text), "a bare CR besides the pty's own CRLF line endings"
    assert "\u202e" not in text
    return text


def test_hostile_mail_reaches_the_terminal_harmless(tmp_path: Path, config_path: Path) -> None:  # noqa: F811 (the imported fixture)
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
