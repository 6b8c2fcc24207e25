"""`hygiene watch` runs for weeks: its connections are cut and re-opened again and again, and
nothing of a closed connection may stay alive (issue: watcher memory). The watch loop runs in
this process against the real Dovecot through a fault proxy; live objects are counted, not
memory or time (bench/watch_memory.py measures the RSS over many rounds)."""

from __future__ import annotations

import gc
import logging
import threading
from functools import partial
from pathlib import Path
from typing import Any

from imapclient import IMAPClient

from hygiene.config import load_config
from hygiene.errors import HygieneError
from hygiene.store.db import open_database
from hygiene.watch import watch
from tests.builders import IMAP_BUYER, NOW, eml
from tests.dovecot import Dovecot
from tests.servers import FaultProxy

CUTS = 4


class Reconnects(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.count = 0
        self.changed = threading.Condition()

    def emit(self, record: logging.LogRecord) -> None:
        if "reconnected after" in record.getMessage():
            with self.changed:
                self.count += 1
                self.changed.notify_all()


def live_clients() -> int:
    gc.collect()
    return sum(isinstance(o, IMAPClient) for o in gc.get_objects())


def test_watch_keeps_no_imap_client_of_a_closed_connection_nor_a_database_connection(mailbox: Dovecot, imap_config: Path) -> None:
    proxy = FaultProxy(mailbox.port)
    imap_config.write_text(imap_config.read_text().replace(f"port = {mailbox.port}", f"port = {proxy.port}"))
    config = load_config(imap_config, required=True)
    engine = open_database(config.database.url)
    before = live_clients()
    after_polls: list[int] = []

    def on_poll(name: str, item: Any) -> None:
        # after a poll only the idler's connection is open (an error's traceback may still hold
        # the failed poll's client until the next poll: counted only after a successful one)
        if not isinstance(item, HygieneError):
            after_polls.append(live_clients() - before)

    handler = Reconnects()
    log = logging.getLogger("hygiene.watch")
    log.addHandler(handler)
    # pytest keeps every log record, and a failed poll's record holds its error, whose
    # traceback holds the failed connection: here the records go to our counter only
    log.propagate = False
    stop = threading.Event()
    runner = threading.Thread(
        target=watch, args=(engine, config, config.accounts),
        kwargs={"stop": stop, "now": lambda: NOW, "notify": None, "interval": 0.3, "on_poll": on_poll},
    )
    try:
        runner.start()
        def reconnected(n: int) -> bool:
            return handler.count > n

        for n in range(CUTS):
            mailbox.append("INBOX", eml(IMAP_BUYER, mailbox.user, f"問い合わせ {n}", mid=f"mem{n}@amazon"))
            with handler.changed:
                assert handler.changed.wait_for(lambda: after_polls != [], 30)
            proxy.cut_all()
            with handler.changed:
                assert handler.changed.wait_for(partial(reconnected, n), 30), f"no reconnect after cut {n + 1}"
        polls = len(after_polls)
        with handler.changed:
            handler.changed.wait_for(lambda: len(after_polls) > polls + 2, 30)  # rounds after the last reconnect
    finally:
        stop.set()
        runner.join(30)
        log.removeHandler(handler)
        log.propagate = True
        proxy.close()
    assert handler.count == CUTS
    assert len(after_polls) > CUTS + 2
    assert max(after_polls) == 1  # the one IDLE connection, however many were cut before it
    assert live_clients() == before  # closed with the watch
    assert engine.pool.checkedout() == 0  # type: ignore[attr-defined]
    engine.dispose()
