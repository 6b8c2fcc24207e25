"""One poll per account at a time on this machine, and no lock that outlives its owner.

A lock is an ``flock`` on ``$XDG_STATE_HOME/hygiene/locks/<account>.lock``, whose content
names the owner (pid and process start time). The kernel releases it when the owner exits,
however it exits. Two things could still leave it held with nobody syncing, and both are
handled here:

- forked children (the parse workers) inherit the descriptor and with it the lock: they close
  their copy at start (:func:`forget_in_child`) and die with their parent;
- a holder that is not the recorded owner while the owner is gone (an orphan of an older
  version, a stray ``flock`` command) makes the lock stale: the next poll replaces the file
  and takes it over, under a second lock so two pollers never both take over.
"""

from __future__ import annotations

import fcntl
import logging
import os
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from hygiene.errors import HygieneError
from hygiene.paths import state_home

if TYPE_CHECKING:
    from sqlalchemy import Engine

log = logging.getLogger(__name__)

#: A lock held longer than this by a live owner is reported as an error, not as a busy run:
#: a poll that takes hours is stuck, and cron must hear of it.
STUCK_AFTER_S = 3600

#: Descriptors of the locks this process holds (children close them, see forget_in_child).
_held: set[int] = set()


class PollBusy(HygieneError):
    """Another poll of the same account holds its lock (an overlapping cron run)."""

    @classmethod
    def of(cls, name: str, holder: str = "") -> PollBusy:
        """``holder``: who holds it, as " (pid 123)", when known."""
        return cls(f"{name}: another poll of this account is running{holder}", "it syncs the same mail; nothing to do")


class PollStuck(HygieneError):
    """The lock's owner has held it for longer than any poll takes."""


def lock_path(name: str) -> Path:
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", name)
    return state_home() / "locks" / f"{safe}.lock"


def _start_time(pid: int) -> str | None:
    """The process's start time in clock ticks since boot (Linux), which tells a live owner
    from a new process that reuses its pid. None when the process does not exist."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return None
    except OSError:
        return "?"
    # the command name (field 2) may hold spaces and parentheses: split after the last ')'
    fields = stat.rsplit(")", 1)[-1].split()
    return fields[19] if len(fields) > 19 else "?"


def _alive(pid: int, start: str | None) -> bool:
    if Path("/proc/self/stat").exists():
        now = _start_time(pid)
        return now is not None and (start is None or now == "?" or start == "?" or now == start)
    try:  # no /proc: the pid alone
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _owner(fd: int) -> tuple[int | None, str | None]:
    text = os.pread(fd, 64, 0).decode("ascii", "replace").split()
    pid = int(text[0]) if text and text[0].isdigit() else None
    return pid, (text[1] if len(text) > 1 else None)


def _try_lock(path: Path) -> int | None:
    """The descriptor of ``path`` locked by us, or None when someone holds it."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    # The file may have been replaced (a takeover) between open and flock: lock the one
    # that is at the path now, or we would hold a lock nobody else looks at.
    if os.fstat(fd).st_ino != os.stat(path).st_ino:
        os.close(fd)
        return _try_lock(path)
    return fd


@contextmanager
def account_lock(name: str) -> Iterator[None]:
    """Hold the account's lock for the block; PollBusy when a live poll holds it, PollStuck
    when it has held it for over an hour; a stale lock is taken over."""
    path = lock_path(name)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = _try_lock(path)
    if fd is None:
        fd = _take_over_if_stale(name, path)
    _held.add(fd)
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()} {_start_time(os.getpid()) or '?'}\n".encode(), 0)
        yield
    finally:
        _held.discard(fd)
        os.close(fd)  # closing releases the lock


def _take_over_if_stale(name: str, path: Path) -> int:
    # Serialised by a lock on the directory's own lock file: of two pollers that both find
    # the lock stale, the second sees the first one's fresh lock and is busy.
    guard = os.open(path.parent / ".takeover", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(guard, fcntl.LOCK_EX)
        fd = _try_lock(path)
        if fd is not None:
            return fd  # released meanwhile
        probe = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        try:
            pid, start = _owner(probe)
            age = time.time() - os.fstat(probe).st_mtime
        finally:
            os.close(probe)
        if pid is not None and _alive(pid, start):
            if age > STUCK_AFTER_S:
                raise PollStuck(
                    f"{name}: the poll with pid {pid} has held this account's lock for {age / 3600:.1f} h",
                    f"it looks stuck: stop it (kill {pid}) and poll again",
                )
            raise PollBusy.of(name, f" (pid {pid})")
        # The owner is gone but something still holds the lock: a new file, a new lock.
        os.unlink(path)
        fd = _try_lock(path)
        if fd is None:  # pragma: no cover - only another takeover could, and it waits on guard
            raise PollBusy.of(name)
        return fd
    finally:
        os.close(guard)


def forget_in_child() -> None:
    """In a forked child: close the inherited lock descriptors, so the locks stay the
    parent's alone and are released when the parent ends, whatever the child does."""
    for fd in list(_held):
        try:
            os.close(fd)
        except OSError:
            pass
    _held.clear()


def advisory_key(name: str) -> int:
    """A stable signed 64-bit key for an account's PostgreSQL advisory lock."""
    import hashlib

    return int.from_bytes(hashlib.sha256(f"hygiene-poll:{name}".encode()).digest()[:8], "big", signed=True)


@contextmanager
def poll_lock(name: str, engine: Engine | None = None) -> Iterator[None]:
    """The lock that makes one poll per account at a time: on PostgreSQL a session-level
    advisory lock, so pollers on different machines sharing the database never sync the same
    account at once and a crashed machine's lock ends with its connection; elsewhere the
    file lock of :func:`account_lock` (one machine)."""
    if engine is None or engine.dialect.name != "postgresql":
        with account_lock(name):
            yield
        return
    from sqlalchemy.exc import DBAPIError

    from hygiene.store import advisory

    key = advisory_key(name)
    with engine.connect() as conn:
        if not advisory.try_lock(conn, key):
            holder = advisory.holder(conn, key)
            where = f" (database session {holder.pid} from {holder.client_addr or 'this machine'})" if holder else ""
            raise PollBusy.of(name, where)
        try:
            yield
        finally:
            try:
                advisory.unlock(conn, key)
            except DBAPIError as exc:  # a broken connection released the lock already
                log.debug("poll lock of %s: unlock failed (%s); the closed session released it", name, type(exc).__name__)
