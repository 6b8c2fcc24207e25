"""`hygiene watch` against the real Dovecot (issue 13, item 1, first part): new mail stored
within seconds, the notifier run once per rising state, a server restart survived, SIGTERM
a quick exit 0."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from tests.builders import IMAP_BUYER, NOW, db_url, eml
from tests.dovecot import Dovecot


def stored_ids(config: Path) -> set[str]:
    path = db_url(config).removeprefix("sqlite:///")
    try:
        with sqlite3.connect(path, timeout=5) as conn:
            return {mid for (mid,) in conn.execute("SELECT message_id FROM messages")}
    except sqlite3.OperationalError:
        return set()


def wait_for(predicate: Callable[[], object], timeout: float) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if predicate():
            return time.monotonic() - started
        time.sleep(0.05)
    raise AssertionError(f"not within {timeout} s")


def test_watch_stores_new_mail_within_seconds_notifies_and_stops_on_sigterm(
    mailbox: Dovecot, dovecot_server: Dovecot, imap_config: Path, tmp_path: Path
) -> None:
    notes = tmp_path / "notes.jsonl"
    notifier = tmp_path / "notify.py"
    notifier.write_text(f"import sys\nopen({str(notes)!r}, 'a').write(sys.stdin.read() + '\\n')\n")
    imap_config.write_text(imap_config.read_text() + f'\n[watch]\nnotify = "{sys.executable} {notifier}"\ninterval = 60\n')
    mailbox.append("INBOX", eml(IMAP_BUYER, mailbox.user, "既に届いている質問", mid="old@amazon", hours_ago=40))
    env = {**os.environ, "HYGIENE_NOW": NOW.isoformat()}
    proc = subprocess.Popen([sys.executable, "-m", "hygiene", "watch"], env=env, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stderr is not None
        while "watching jp" not in (line := proc.stderr.readline()):
            assert line, f"watch ended before it started watching: {proc.wait()} {proc.stderr.read()}"
        assert stored_ids(imap_config) == {"<old@amazon>"}  # the first poll, before watching
        # a message 30 h old arrives: stored within seconds, and late at once (one notice)
        mailbox.append("INBOX", eml(IMAP_BUYER, mailbox.user, "まだ届きません", mid="new@amazon", hours_ago=30))
        took = wait_for(lambda: "<new@amazon>" in stored_ids(imap_config), 5)
        wait_for(lambda: notes.exists() and notes.read_text().strip(), 5)
        notices = [json.loads(line) for line in notes.read_text().splitlines() if line.strip()]
        assert [(n["subject"], n["state"]) for n in notices] == [("まだ届きません", "late")], notices
        # the watcher's connection is cut (its IMAP process killed, as a server restart with
        # shutdown_clients does): it reconnects and sees what arrives afterwards
        dovecot_server.restart()
        subprocess.run(["pkill", "-KILL", "-f", "^dovecot/imap( |$)"], check=False)
        mailbox.append("INBOX", eml(IMAP_BUYER, mailbox.user, "再送です", mid="after@amazon", hours_ago=1))
        wait_for(lambda: "<after@amazon>" in stored_ids(imap_config), 30)
        # and, back in IDLE on a new connection, mail that comes later still arrives
        time.sleep(3)
        mailbox.append("INBOX", eml(IMAP_BUYER, mailbox.user, "もう一度", mid="later@amazon", hours_ago=1))
        wait_for(lambda: "<later@amazon>" in stored_ids(imap_config), 15)
        # SIGTERM: a clean exit 0, quickly
        proc.send_signal(signal.SIGTERM)
        started = time.monotonic()
        proc.wait(timeout=10)
        assert time.monotonic() - started < 2.0 and proc.returncode == 0
        rest = proc.stderr.read()
        assert "stopped" in rest and "Traceback" not in rest and "jp: connection lost" in rest
        print(f"new mail stored {took:.2f} s after delivery")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if proc.stderr is not None:
            print("watch said:", proc.stderr.read())
