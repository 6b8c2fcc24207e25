"""No lock that outlives its poll (issue 7, item 3): a poll killed mid-sync (kill -9 or
SIGTERM) leaves no worker process and no held lock, and the next poll completes; a stale lock
is taken over, a live one is respected. Real processes, real Dovecot."""

from __future__ import annotations

import fcntl
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from hygiene.locks import PollBusy, account_lock, lock_path
from hygiene.mail.sync import PARSE_WORKERS_ENV
from tests.builders import IMAP_BUYER, db_url, eml, run_poll, stored
from tests.dovecot import Dovecot
from tests.procs import holding


@pytest.fixture(autouse=True)
def _parse_workers(monkeypatch: pytest.MonkeyPatch) -> None:
    # The worker processes on any machine (on 1-2 cores a sync would parse in its own process).
    monkeypatch.setenv(PARSE_WORKERS_ENV, "2")

MESSAGES = 3000


def _children(pid: int) -> set[int]:
    out = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                out.add(int(entry.name))
    return out


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _count(path: str) -> int:
    try:
        with sqlite3.connect(path, timeout=5) as conn:
            return int(conn.execute("SELECT count(*) FROM messages").fetchone()[0])
    except sqlite3.OperationalError:
        return 0  # schema not there yet


def _fill(mailbox: Dovecot, imap_config: Path) -> None:
    imap_config.write_text(imap_config.read_text() + "\n[poll]\nbatch_size = 100\n")
    mailbox.write_maildir(
        "INBOX", (eml(IMAP_BUYER, mailbox.user, f"注文 {i}", "本文" * 200, mid=f"k{i}@amazon") for i in range(MESSAGES))
    )


def _start_poll(imap_config: Path, stored_at_least: int) -> tuple[subprocess.Popen[bytes], list[int]]:
    """A CLI poll of a mailbox big enough to use the parse workers, caught once it has
    stored ``stored_at_least`` messages; returns the process and its worker pids."""
    path = db_url(imap_config).removeprefix("sqlite:///")
    proc = subprocess.Popen([sys.executable, "-m", "hygiene", "poll"], env=os.environ.copy(), stderr=subprocess.PIPE)
    workers: set[int] = set()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        workers |= _children(proc.pid)
        if workers and _count(path) >= stored_at_least:
            break
        time.sleep(0.01)
    assert proc.poll() is None, "the poll ended before it could be killed: make the mailbox bigger"
    assert workers, "the poll never started its parse workers"
    return proc, sorted(workers)


def _gone(pids: list[int], timeout: float = 10) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not any(_alive(p) for p in pids):
            return True
        time.sleep(0.05)
    return False


def _assert_next_poll_completes(imap_config: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "hygiene", "poll"], env=os.environ.copy(), capture_output=True, timeout=120)
    assert done.returncode == 0, done.stderr.decode()
    assert b"another poll" not in done.stderr
    rows = stored(db_url(imap_config))
    assert len(rows) == MESSAGES
    assert len({r.message_id for r in rows}) == MESSAGES  # nothing twice, nothing missing


def test_kill_9_at_random_points_leaves_no_worker_and_the_next_poll_completes(mailbox: Dovecot, imap_config: Path) -> None:
    _fill(mailbox, imap_config)
    rng = random.Random(7)
    for _ in range(3):  # each kill lands later in the sync than the stored count before it
        before = _count(db_url(imap_config).removeprefix("sqlite:///"))
        proc, workers = _start_poll(imap_config, before + rng.randrange(50, 600))
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        # Before the fix the workers lived on (PPID 1), holding the account lock for ever.
        assert _gone(workers), f"parse workers outlived their poll: {[p for p in workers if _alive(p)]}"
    _assert_next_poll_completes(imap_config)


def test_sigterm_mid_sync_shuts_down_cleanly(mailbox: Dovecot, imap_config: Path) -> None:
    _fill(mailbox, imap_config)
    proc, workers = _start_poll(imap_config, 300)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=20)
    assert proc.returncode == 143
    assert b"hygiene: terminated" in err and b"Traceback" not in err
    assert _gone(workers, timeout=2)
    _assert_next_poll_completes(imap_config)


def _lock_holder(name: str, owner: str) -> Any:
    """Something other than the owner holding the account's lock file, with ``owner``
    written in it: what an orphaned worker of an older version looked like."""
    path = lock_path(name)
    path.parent.mkdir(parents=True, exist_ok=True)
    return holding(
        "import fcntl, os\n"
        f"fd = os.open({str(path)!r}, os.O_RDWR | os.O_CREAT, 0o600)\n"
        "fcntl.flock(fd, fcntl.LOCK_EX)\n"
        f"os.ftruncate(fd, 0); os.write(fd, {owner!r}.encode())"
    )


def test_a_stale_lock_whose_owner_is_gone_is_taken_over(mailbox: Dovecot, imap_config: Path) -> None:
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    with _lock_holder("jp", f"{dead.pid} 1\n"):
        mailbox.append("INBOX", eml(IMAP_BUYER, mailbox.user, "届きません", mid="s1@amazon"))
        result = run_poll(imap_config, match=False)
        assert result.folders[0].new == 1
        # and the new lock is really held while a poll runs
        with account_lock("jp"):
            fd = os.open(lock_path("jp"), os.O_RDWR)
            with pytest.raises(BlockingIOError):
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            os.close(fd)


@pytest.mark.parametrize("hours_held", [0, 3])
def test_a_live_lock_is_respected_and_reported_as_stuck_after_an_hour(imap_config: Path, hours_held: int) -> None:
    from hygiene.locks import PollStuck

    with _lock_holder("jp", "") as holder:
        path = lock_path("jp")
        path.write_text(f"{holder.pid}\n")  # the holder's own pid, as a live poll writes it
        since = time.time() - hours_held * 3600
        os.utime(path, (since, since))
        expected, words = (PollStuck, f"kill {holder.pid}") if hours_held else (PollBusy, f"pid {holder.pid}")
        with pytest.raises(expected, match=words):
            with account_lock("jp"):
                pass
