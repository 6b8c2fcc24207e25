"""`hygiene watch` against the real Dovecot (issue 13, item 1): new mail stored within 5 s, the
notifier run once per rising state, a connection killed (fault proxy) and a Dovecot restart
survived, a connection gone silent (blackholed) noticed and re-opened, SIGTERM a quick exit 0.

The tests wait for what the watcher says in its log ("reconnected …") rather than sleeping."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.builders import IMAP_BUYER, NOW, db_url, eml
from tests.dovecot import Dovecot, private_dovecot
from tests.servers import FaultProxy


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


class Watch:
    """``hygiene watch`` as its own process; its log read as it comes."""

    def __init__(self, *args: str) -> None:
        env = {**os.environ, "HYGIENE_NOW": NOW.isoformat()}
        self.proc = subprocess.Popen([sys.executable, "-m", "hygiene", "watch", *args], env=env, stderr=subprocess.PIPE, text=True)
        self.lines: list[str] = []
        self._new = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            with self._new:
                self.lines.append(line.rstrip("\n"))
                self._new.notify_all()
        with self._new:
            self.lines.append("<exit>")
            self._new.notify_all()

    def count(self, text: str) -> int:
        with self._new:
            return sum(text in line for line in self.lines)

    def expect(self, text: str, timeout: float, *, after: int = 0) -> None:
        """Wait for the ``after + 1``-th log line containing ``text``."""
        with self._new:
            ok = self._new.wait_for(lambda: self.count(text) > after or "<exit>" in self.lines, timeout)
        assert ok and self.count(text) > after, f"no {text!r} within {timeout} s in {self.lines}"

    def terminate(self) -> float:
        """SIGTERM; how long the exit took."""
        self.proc.send_signal(signal.SIGTERM)
        started = time.monotonic()
        self.proc.wait(timeout=10)
        took = time.monotonic() - started
        self.expect("<exit>", 5)
        return took

    def assert_stops_cleanly(self) -> None:
        """SIGTERM ends it within 2 s, exit 0, with no traceback in its log."""
        assert self.terminate() < 2.0 and self.proc.returncode == 0
        assert self.count("Traceback") == 0

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        print("watch said:", *self.lines, sep="\n  ")


@pytest.fixture
def proxied_config(mailbox: Dovecot, imap_config: Path) -> Iterator[tuple[Path, FaultProxy]]:
    """The mailbox's config, its connections through a fault proxy."""
    proxy = FaultProxy(mailbox.port)
    imap_config.write_text(imap_config.read_text().replace(f"port = {mailbox.port}", f"port = {proxy.port}"))
    try:
        yield imap_config, proxy
    finally:
        proxy.close()


def test_watch_stores_new_mail_within_seconds_notifies_survives_cut_connections_and_stops_on_sigterm(
    mailbox: Dovecot, proxied_config: tuple[Path, FaultProxy], tmp_path: Path
) -> None:
    config, proxy = proxied_config
    notes = tmp_path / "notes.jsonl"
    notifier = tmp_path / "notify.py"
    notifier.write_text(f"import sys\nopen({str(notes)!r}, 'a').write(sys.stdin.read() + '\\n')\n")
    # interval 60: within this test every new message is seen through IDLE, never a poll round
    config.write_text(config.read_text() + f'\n[watch]\nnotify = "{sys.executable} {notifier}"\ninterval = 60\n')
    mailbox.append("INBOX", eml(IMAP_BUYER, mailbox.user, "既に届いている質問", mid="old@amazon", hours_ago=40))
    watch = Watch()
    try:
        watch.expect("watching jp", 30)
        assert stored_ids(config) == {"<old@amazon>"}  # the first poll, before watching
        # a message 30 h old arrives: stored within seconds, and late at once (one notice)
        mailbox.append("INBOX", eml(IMAP_BUYER, mailbox.user, "まだ届きません", mid="new@amazon", hours_ago=30))
        took = wait_for(lambda: "<new@amazon>" in stored_ids(config), 5)
        wait_for(lambda: notes.exists() and notes.read_text().strip(), 5)
        notices = [json.loads(line) for line in notes.read_text().splitlines() if line.strip()]
        assert [(n["subject"], n["state"]) for n in notices] == [("まだ届きません", "late")], notices
        # every connection cut at once, twice (a NAT reset, a flapping link): each time the
        # watcher reconnects and sees, within seconds, what arrives afterwards
        for round_ in range(2):
            assert proxy.cut_all() >= 1
            watch.expect("jp: connection lost", 10, after=round_)
            watch.expect("jp: reconnected", 15, after=round_)
            mid = f"after-cut{round_}@amazon"
            mailbox.append("INBOX", eml(IMAP_BUYER, mailbox.user, f"再送です {round_}", mid=mid, hours_ago=1))
            wait_for(lambda: f"<{mid}>" in stored_ids(config), 5)  # noqa: B023 - used at once
        # SIGTERM: a clean exit 0, quickly
        watch.assert_stops_cleanly()
        assert watch.lines.count("hygiene watch: stopped") == 1
        # one notice in all: the later messages are an hour old, pending
        assert len(notes.read_text().splitlines()) == 1
        print(f"new mail stored {took:.2f} s after delivery")
    finally:
        watch.close()


def test_watch_notices_a_silent_connection_and_reconnects(mailbox: Dovecot, proxied_config: tuple[Path, FaultProxy]) -> None:
    """The server stops answering without closing (the proxy swallows every byte): the
    watcher's keepalive (IDLE ended and begun again every interval) times out, and it
    reconnects once the path is back, instead of hanging on a dead socket for ever."""
    config, proxy = proxied_config
    config.write_text(config.read_text().replace("timeout = 10", "timeout = 2"))
    watch = Watch("--interval", "4")
    try:
        watch.expect("watching jp", 30)
        proxy.blackhole(True)
        watch.expect("jp: connection lost: no answer within 2 s", 20)
        proxy.blackhole(False)
        proxy.cut_all()  # what is stuck in the hole (a poll's connection) is no use now
        watch.expect("jp: reconnected", 30)
        mailbox.append("INBOX", eml(IMAP_BUYER, mailbox.user, "届きましたか", mid="after-silence@amazon", hours_ago=1))
        wait_for(lambda: "<after-silence@amazon>" in stored_ids(config), 10)
        watch.assert_stops_cleanly()
    finally:
        watch.close()


@pytest.fixture
def own_dovecot() -> Iterator[Dovecot]:
    """A Dovecot of this test's own, to restart without disturbing the other tests' one."""
    with private_dovecot() as server:
        yield server


def test_watch_survives_a_dovecot_restart(own_dovecot: Dovecot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Dovecot stopped (its IMAP processes follow some 10 s later, saying BYE) and started
    again: the watcher reconnects and stores the mail that came while it was away and after.
    (bench/soak_watch.py restarts it repeatedly, for an hour.)"""
    box = own_dovecot.add_user(1)
    monkeypatch.setenv("TEST_IMAP_PASSWORD", box.password)
    config = tmp_path / "config.toml"
    config.write_text(
        f'[database]\nurl = "sqlite:///{tmp_path / "hygiene.db"}"\n\n[watch]\ninterval = 60\n\n'
        f'[[accounts]]\nname = "jp"\nhost = "127.0.0.1"\nport = {box.port}\ntls = "none"\n'
        f'username = "{box.user}"\npassword_env = "TEST_IMAP_PASSWORD"\ntimeout = 10\n'
    )
    monkeypatch.setenv("HYGIENE_CONFIG", str(config))
    box.append("INBOX", eml(IMAP_BUYER, box.user, "最初", mid="first@amazon", hours_ago=1))
    watch = Watch()
    try:
        watch.expect("watching jp", 30)
        assert stored_ids(config) == {"<first@amazon>"}
        own_dovecot.stop()
        # Dovecot's IMAP processes notice their master gone some 10 s later, and say BYE
        watch.expect("jp: connection lost", 30)
        own_dovecot.start()
        # delivered while the watcher is likely still away (backing off): stored by the poll
        # after its reconnect, or seen through IDLE if it was back already
        box.append("INBOX", eml(IMAP_BUYER, box.user, "再起動中", mid="during@amazon", hours_ago=1))
        watch.expect("jp: reconnected", 30)
        wait_for(lambda: "<during@amazon>" in stored_ids(config), 10)
        # and, back in IDLE, new mail is seen within seconds
        box.append("INBOX", eml(IMAP_BUYER, box.user, "再起動後", mid="after@amazon", hours_ago=1))
        wait_for(lambda: "<after@amazon>" in stored_ids(config), 5)
        watch.assert_stops_cleanly()
    finally:
        watch.close()


def test_watch_several_accounts_at_once(new_mailbox: Callable[[], Dovecot], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Three accounts, one IDLE connection each, waited on together: mail to any of them is
    stored within seconds, in any order; after every connection is cut at once, each account
    reconnects by itself and its mail is seen again."""
    boxes = [new_mailbox() for _ in range(3)]
    proxy = FaultProxy(boxes[0].port)
    monkeypatch.setenv("TEST_IMAP_PASSWORD", boxes[0].password)
    config = tmp_path / "config.toml"
    config.write_text(
        f'[database]\nurl = "sqlite:///{tmp_path / "hygiene.db"}"\n\n[watch]\ninterval = 60\n'
        + "".join(
            f'\n[[accounts]]\nname = "acc{n}"\nhost = "127.0.0.1"\nport = {proxy.port}\ntls = "none"\n'
            f'username = "{box.user}"\npassword_env = "TEST_IMAP_PASSWORD"\ntimeout = 10\n'
            for n, box in enumerate(boxes)
        )
    )
    monkeypatch.setenv("HYGIENE_CONFIG", str(config))
    watch = Watch()
    try:
        watch.expect("watching acc0, acc1, acc2", 30)
        for k, n in enumerate((2, 0, 1, 1, 2)):  # the last account first, one twice in a row
            mid = f"m{k}@amazon"
            boxes[n].append("INBOX", eml(IMAP_BUYER, boxes[n].user, f"質問 {n}", mid=mid, hours_ago=1))
            wait_for(lambda: f"<{mid}>" in stored_ids(config), 5)  # noqa: B023 - used at once
        assert proxy.cut_all() >= 3
        for n in range(3):
            watch.expect(f"acc{n}: reconnected", 15)
        for n, box in enumerate(boxes):
            box.append("INBOX", eml(IMAP_BUYER, box.user, f"切断後 {n}", mid=f"after{n}@amazon", hours_ago=1))
        wait_for(lambda: {f"<after{n}@amazon>" for n in range(3)} <= stored_ids(config), 5)
        watch.assert_stops_cleanly()
    finally:
        watch.close()
        proxy.close()
