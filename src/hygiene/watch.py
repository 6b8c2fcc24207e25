"""``hygiene watch``: new mail stored and matched within seconds, and a notifier run once when
a message turns due soon, late or critical.

Each account keeps one IMAP connection in IDLE on its inbox (RFC 2177), re-issued before the
server's 30-minute limit; a server without IDLE is polled every ``interval`` seconds. Any wake-
up (new mail, an expunge, a flag change) runs the ordinary poll of that account (read-only,
incremental, every folder including Sent), so the watcher adds no second sync path. Every
``interval`` seconds all accounts are polled anyway (the Sent folder, missed events), and the
states are looked at again (a deadline passes without any mail arriving). A dropped connection
is re-opened with capped exponential backoff and jitter; one line per reconnect is logged.
"""

from __future__ import annotations

import json
import logging
import random
import select
import shlex
import subprocess
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Engine

from hygiene.config import AccountConfig, Config
from hygiene.deadlines import CRITICAL, DUE_SOON, LATE, CheckItem, check_report
from hygiene.errors import HygieneError

log = logging.getLogger(__name__)

#: the states a notifier hears of, in rising order of urgency
NOTIFY_STATES = (DUE_SOON, LATE, CRITICAL)
_RANK = {DUE_SOON: 1, LATE: 2, CRITICAL: 3}
#: re-issue IDLE well before the 30 minutes after which servers may drop it (RFC 2177)
IDLE_RENEW_S = 25 * 60
BACKOFF_MAX_S = 300.0
#: how often states are looked at when no mail arrives
STATES_EVERY_S = 30.0


@dataclass
class Transitions:
    """Which state each waiting message was last seen in, so a notifier hears of each rise
    (pending → due soon → late → critical) once."""

    seen: dict[int, str] = field(default_factory=dict)

    def prime(self, items: Sequence[CheckItem]) -> None:
        """What is already so when the watcher starts is `check`'s to say, not a change."""
        self.seen = {i.id: i.state for i in items}

    def rises(self, items: Sequence[CheckItem]) -> list[CheckItem]:
        out = []
        current = {}
        for item in items:
            current[item.id] = item.state
            before = _RANK.get(self.seen.get(item.id, ""), 0)
            if item.state in NOTIFY_STATES and _RANK[item.state] > before:
                out.append(item)
        self.seen = current  # answered or dismissed messages drop out
        return out


def item_json(item: CheckItem) -> dict[str, Any]:
    return {
        "id": item.id,
        "account": item.account,
        "category": item.category,
        "from": item.from_addr,
        "subject": item.subject,
        "received_at": item.received_at.isoformat(),
        "due_at": item.deadlines.due_at.isoformat(),
        "critical_at": item.deadlines.critical_at.isoformat(),
        "state": item.state,
        "hours_left": item.hours_left,
    }


def run_notifier(command: str, item: CheckItem) -> None:
    """The configured command with the item as JSON on stdin; its failure is logged, never
    fatal (the watcher goes on)."""
    try:
        done = subprocess.run(
            shlex.split(command), input=json.dumps(item_json(item), ensure_ascii=False).encode(),
            capture_output=True, timeout=30,
        )
    except (OSError, subprocess.TimeoutExpired, ValueError) as exc:
        log.warning("notifier %r failed to run: %s", command, exc.__class__.__name__)
        return
    if done.returncode != 0:
        log.warning("notifier %r exited %s", command, done.returncode)


def changed(responses: Sequence[Any]) -> bool:
    """Whether IDLE's untagged responses say the mailbox changed."""
    return any(r[1] in (b"EXISTS", b"EXPUNGE", b"FETCH", b"RECENT") for r in responses if isinstance(r, tuple) and len(r) > 1)


class Idler:
    """One account's IDLE connection on its inbox; ``wait`` says whether the mailbox changed."""

    def __init__(
        self, account: AccountConfig, connect: Callable[[AccountConfig], Any], *, keepalive: float = IDLE_RENEW_S
    ) -> None:
        self.account = account
        self._connect = connect
        #: how often IDLE is ended and begun again: the server must answer the DONE within the
        #: account's timeout, so a connection that went silent without closing is noticed
        self.keepalive = min(keepalive, IDLE_RENEW_S)
        self.client: Any = None
        self.idle_since = 0.0
        self.failures = 0
        self.retry_at = 0.0
        self.supported = True
        self.instant_empty = 0

    def _open(self) -> None:
        client = self._connect(self.account)
        if not client.has_capability("IDLE"):
            self.supported = False
            client.logout()
            return
        client.select_folder(self.account.folders[0], readonly=True)  # EXAMINE: nothing changes
        client.idle()
        self.client, self.idle_since, self.instant_empty = client, time.monotonic(), 0

    def fileno(self) -> int | None:
        """The connection's socket while in IDLE (to wait on several at once), else None."""
        return self.client.socket().fileno() if self.client is not None else None

    def step(self, readable: bool) -> bool:
        """Act on what happened (``readable``: the server sent something or closed), re-open a
        lost connection when its back-off is over, keep a quiet one alive; True when the
        mailbox may have changed (the server said so, or the connection was re-opened)."""
        if not self.supported:
            return False
        if self.client is None:
            if time.monotonic() < self.retry_at:
                return False
            # Mail that arrived before IDLE began raised no event: poll once now, after it.
            return self.connect() and self.supported
        try:
            responses = self.client.idle_check(timeout=0) if readable else []
            # A closed connection does not raise here: it is readable and idle_check returns
            # nothing, every time. Several such answers in a row mean the server is gone.
            if readable and not responses:
                self.instant_empty += 1
                if self.instant_empty >= 3:
                    raise ConnectionError("the server closed the connection")
            elif responses:
                self.instant_empty = 0
            if any(isinstance(r, tuple) and r[:1] == (b"BYE",) for r in responses):
                # Dovecot's IMAP processes outlive a stopped master by some 10 s, then say BYE
                raise ConnectionError("the server said goodbye")
            if time.monotonic() - self.idle_since > self.keepalive:
                # A silent connection (no data, no close) times out here: re-opened below.
                _, more = self.client.idle_done()
                responses = [*responses, *more]  # what came between the last check and DONE
                self.client.idle()
                self.idle_since = time.monotonic()
        except Exception as exc:  # noqa: BLE001 - a dropped or dead connection: reconnect
            if isinstance(exc, TimeoutError):
                self._failed(f"connection lost: no answer within {self.account.timeout:g} s")
            elif isinstance(exc, ConnectionError) and exc.args:
                self._failed(f"connection lost: {exc}")
            else:
                self._failed(f"connection lost: {exc.__class__.__name__}")
            return True
        return changed(responses)

    def wait(self, timeout: float) -> bool:
        """:meth:`step` after up to ``timeout`` seconds waiting for this one connection."""
        return self.step(bool(wait_readable([self], timeout)))

    def connect(self) -> bool:
        """Open the connection and begin IDLE; False (logged, retried later) when that fails."""
        try:
            self._open()
        except Exception as exc:  # noqa: BLE001 - any failure to connect: back off, say so once
            self._failed(f"cannot watch: {str(exc).removeprefix(self.account.name + ': ')}")
            return False
        if self.failures:
            log.warning("%s: reconnected after %d failure(s)", self.account.name, self.failures)
            self.failures = 0
        return True

    def _failed(self, why: str) -> None:
        self.close()
        self.failures += 1
        delay = min(BACKOFF_MAX_S, 2.0 ** min(self.failures, 10)) * random.uniform(0.5, 1.0)
        self.retry_at = time.monotonic() + delay
        log.warning("%s: %s; retrying in %.0f s", self.account.name, why, delay)

    def close(self) -> None:
        client, self.client = self.client, None
        if client is None:
            return
        try:
            client.shutdown()  # no goodbye: a stop must be quick, and the socket is all there is
        except Exception:  # noqa: BLE001 - already gone
            pass


def wait_readable(idlers: Sequence[Idler], timeout: float) -> set[Idler]:
    """The idlers whose connection has something to say, waiting up to ``timeout`` seconds on
    all of them at once (one account's news is not kept waiting behind another's quiet)."""
    socks = {fd: idler for idler in idlers if (fd := idler.fileno()) is not None}
    if not socks:
        time.sleep(timeout)
        return set()
    try:
        ready, _, _ = select.select(list(socks), [], [], timeout)
    except (OSError, ValueError):  # a socket closed under us: let each idler find out
        return set(socks.values())
    return {socks[fd] for fd in ready}


def watch(
    engine: Engine,
    config: Config,
    accounts: Sequence[AccountConfig],
    *,
    stop: threading.Event,
    now: Callable[[], datetime],
    notify: str | None,
    interval: float,
    on_poll: Callable[[str, Any], None] | None = None,
) -> None:
    """Watch until ``stop`` is set (see the module docstring)."""
    from hygiene.mail.imap import connect, poll_accounts

    def poll(which: Sequence[AccountConfig]) -> None:
        for account, item in zip(which, poll_accounts(engine, config, which, now=now(), match=True), strict=True):
            if isinstance(item, HygieneError):
                log.warning("%s", item)
            if on_poll:
                on_poll(account.name, item)

    def report() -> list[CheckItem]:
        with engine.connect() as conn:
            return list(check_report(conn, config, now()).items)

    transitions = Transitions()
    idlers = [Idler(a, connect, keepalive=interval) for a in accounts]
    # IDLE first, then the first poll: mail arriving between the two is not missed, and
    # "watching" in the log means the connections are in IDLE (those that could connect).
    try:
        for idler in idlers:
            idler.connect()
        poll(accounts)
        transitions.prime(report())
        log.info("watching %s", ", ".join(a.name for a in accounts))
        last_round = last_states = time.monotonic()
        while not stop.is_set():
            # a second at most, so a stop and the reconnects due are never kept waiting long
            due = min((i.retry_at for i in idlers if i.client is None and i.supported), default=float("inf"))
            readable = wait_readable(idlers, max(0.0, min(1.0, due - time.monotonic())))
            woke = [idler.account for idler in idlers if idler.step(idler in readable) and not stop.is_set()]
            if time.monotonic() - last_round >= interval:
                woke, last_round = list(accounts), time.monotonic()
            if woke:
                poll(woke)
            # States change with mail and with the clock (a deadline passes in silence).
            if woke or time.monotonic() - last_states >= STATES_EVERY_S:
                last_states = time.monotonic()
                for item in transitions.rises(report()):
                    log.info("%s: #%d is %s", item.account, item.id, item.state)
                    if notify:
                        run_notifier(notify, item)
    finally:
        for idler in idlers:
            idler.close()
