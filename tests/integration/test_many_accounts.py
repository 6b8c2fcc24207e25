"""Many accounts, several pollers (issue 13, item 2, first part): `poll --parallel N`, and on
PostgreSQL a per-account advisory lock that pollers on different machines respect and that a
crashed poller cannot leave behind. Real Dovecot, real PostgreSQL, separate processes."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from hygiene.cli import cli
from hygiene.locks import PollBusy, advisory_key, poll_lock
from hygiene.store.db import open_database
from hygiene.store.models import Message
from tests.builders import IMAP_BUYER, NOW, eml
from tests.dovecot import Dovecot

ACCOUNTS = 4


def many_accounts(
    dovecot_server: Dovecot, tmp_path: Path, url: str, monkeypatch: pytest.MonkeyPatch, per_account: int, count: int = ACCOUNTS
) -> tuple[Path, list[Dovecot]]:
    from tests.dovecot import USERS

    boxes = [dovecot_server.add_user(next(USERS)) for _ in range(count)]
    monkeypatch.setenv("TEST_IMAP_PASSWORD", dovecot_server.password)
    blocks = [f'[database]\nurl = "{url}"\n']
    for n, box in enumerate(boxes):
        box.write_maildir("INBOX", (eml(IMAP_BUYER, box.user, f"注文 {n}-{i}", mid=f"a{n}-{i}@amazon") for i in range(per_account)))
        blocks.append(
            f'[[accounts]]\nname = "acc{n}"\nhost = "127.0.0.1"\nport = {box.port}\ntls = "none"\n'
            f'username = "{box.user}"\npassword_env = "TEST_IMAP_PASSWORD"\ntimeout = 20\n'
        )
    path = tmp_path / "config.toml"
    path.write_text("\n".join(blocks))
    monkeypatch.setenv("HYGIENE_CONFIG", str(path))
    return path, boxes


def counts(url: str) -> dict[str, tuple[int, int]]:
    engine = open_database(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                select(Message.account, func.count(), func.count(func.distinct(Message.fingerprint))).group_by(Message.account)
            )
            return {a: (n, d) for a, n, d in rows}
    finally:
        engine.dispose()


def test_parallel_poll_syncs_every_account_once(dovecot_server: Dovecot, tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    many_accounts(dovecot_server, tmp_path, database_url, monkeypatch, per_account=120)
    result = CliRunner().invoke(cli, ["poll", "--parallel", "3", "--json"], env={"HYGIENE_NOW": NOW.isoformat()})
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)["accounts"]
    assert [a["name"] for a in report] == [f"acc{n}" for n in range(ACCOUNTS)]  # config order
    assert all(a["ok"] and a["folders"][0]["new"] == 120 for a in report)
    assert counts(database_url) == {f"acc{n}": (120, 120) for n in range(ACCOUNTS)}
    again = CliRunner().invoke(cli, ["poll", "--parallel", "3"], env={"HYGIENE_NOW": NOW.isoformat()})
    assert again.exit_code == 0 and all(re.search(rf"acc{n}: INBOX \+0", again.stdout) for n in range(ACCOUNTS))


def test_an_advisory_lock_keeps_two_pollers_off_one_account_and_dies_with_its_holder(postgres_server: str) -> None:
    """Two processes, as if on two machines sharing one PostgreSQL: the second is busy while
    the first holds the account; when the first is killed (-9), its connection ends and the
    lock with it, with no stale lock file to clear."""
    from tests.servers import create_pg_database

    url = create_pg_database(postgres_server)
    engine = open_database(url)
    code = (
        "import sys, time\n"
        "from hygiene.locks import poll_lock\nfrom hygiene.store.db import open_database\n"
        f"engine = open_database({url!r})\n"
        "with poll_lock('jp', engine):\n"
        "    print('ready', flush=True)\n"
        "    time.sleep(120)\n"
    )
    holder = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, env=os.environ.copy())
    try:
        assert holder.stdout is not None and holder.stdout.readline() == b"ready\n"
        with pytest.raises(PollBusy, match="another poll of this account is running \\(database session \\d+"):
            with poll_lock("jp", engine):
                pass
        with poll_lock("other", engine):  # other accounts are free
            pass
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=10)
        deadline = time.monotonic() + 10
        while True:  # the server notices the dead session at once on loopback
            try:
                with poll_lock("jp", engine):
                    break
            except PollBusy:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
    finally:
        holder.kill()
        holder.wait()
        engine.dispose()
    assert advisory_key("jp") == advisory_key("jp") != advisory_key("jp2")


#: accounts and messages of the two-poller test (issue 13: "10 accounts")
POLLERS_ACCOUNTS = 10
FIRST, MORE, LAST = 150, 20, 150


def poll_proc(env: dict[str, str], name: str, *args: str) -> subprocess.Popen[bytes]:
    """A poller as its own process, its database session named ``name`` (libpq's PGAPPNAME)."""
    return subprocess.Popen(
        [sys.executable, "-m", "hygiene", "poll", "--json", *args], env={**env, "PGAPPNAME": name},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )


def lock_holders(url: str) -> list[str]:
    """The sessions holding an account's advisory lock now, by application name."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            return [name for (name,) in conn.execute(text(
                "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
                "WHERE l.locktype = 'advisory' AND l.granted"
            ))]
    finally:
        engine.dispose()


def await_condition(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"not within {timeout} s: {what}"
        time.sleep(0.01)


def server_state(boxes: list[Dovecot]) -> dict[str, tuple[int, int]]:
    """Per account: messages and \\Answered ones, as the server has them."""
    return {
        f"acc{n}": (len(flags), sum(b"\\Answered" in f for f in flags.values()))
        for n, box in enumerate(boxes) for flags in [box.flags("INBOX")]
    }


def db_state(url: str) -> dict[str, tuple[int, int]]:
    engine = open_database(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(select(Message.account, func.count(), func.count().filter(Message.answered)).group_by(Message.account))
            return {a: (n, k) for a, n, k in rows}
    finally:
        engine.dispose()


def test_two_pollers_on_one_postgresql_sync_every_account_once(
    dovecot_server: Dovecot, tmp_path: Path, postgres_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two poll processes (as if on two machines) on one PostgreSQL and 10 accounts: every
    message fetched by exactly one of them, nothing twice, nothing lost, flag changes kept; one
    of them killed (-9) in the middle of an account's sync: the other one's next run takes
    its accounts, and every message is stored exactly once."""
    from tests.servers import create_pg_database

    url = create_pg_database(postgres_server)
    _, boxes = many_accounts(dovecot_server, tmp_path, url, monkeypatch, per_account=FIRST, count=POLLERS_ACCOUNTS)
    names = [f"acc{n}" for n in range(POLLERS_ACCOUNTS)]
    env = {**os.environ, "HYGIENE_NOW": NOW.isoformat()}

    def both(*args: str) -> list[dict[str, dict[str, Any]]]:
        procs = [poll_proc(env, "poller-a", *args), poll_proc(env, "poller-b", *args)]
        outs = [p.communicate(timeout=120) for p in procs]
        assert [p.returncode for p in procs] == [0, 0], [e.decode()[-500:] for _, e in outs]
        return [{a["name"]: a for a in json.loads(o)["accounts"]} for o, _ in outs]

    def new_counts(reports: list[dict[str, dict[str, Any]]]) -> dict[str, int]:
        """Messages fetched per account, over both pollers (a busy account counts 0)."""
        return {
            name: sum(sum(f["new"] for f in r[name]["folders"]) for r in reports if not r[name].get("skipped"))
            for name in names
        }

    # 1. both at once on 10 accounts: each message fetched once, by one or the other
    first = both()
    assert all(r[name]["ok"] for r in first for name in names)
    assert new_counts(first) == dict.fromkeys(names, FIRST)
    assert db_state(url) == server_state(boxes) == dict.fromkeys(names, (FIRST, 0))
    assert counts(url) == dict.fromkeys(names, (FIRST, FIRST))
    # 2. new mail and changed flags everywhere, both again: no update lost between them
    for n, box in enumerate(boxes):
        box.append_many("INBOX", [(eml(IMAP_BUYER, box.user, f"追加 {n}-{i}", mid=f"b{n}-{i}@amazon"), (), None) for i in range(MORE)])
        box.set_flags("INBOX", range(1, n + 2), ["\\Answered"])  # n + 1 answered in acc<n>
    second = both()
    assert new_counts(second) == dict.fromkeys(names, MORE)
    assert db_state(url) == server_state(boxes) == {name: (FIRST + MORE, n + 1) for n, name in enumerate(names)}
    # 3. more mail; both start, and poller-a is killed while it holds an account
    for n, box in enumerate(boxes):
        box.write_maildir("INBOX", (eml(IMAP_BUYER, box.user, f"最後 {n}-{i}", mid=f"c{n}-{i}@amazon") for i in range(LAST)))
    victim, survivor = poll_proc(env, "poller-a", "--full"), poll_proc(env, "poller-b")
    try:
        await_condition(lambda: "poller-a" in lock_holders(url), 60, "poller-a syncing an account")
        victim.send_signal(signal.SIGKILL)
        victim.wait(timeout=10)
        out, err = survivor.communicate(timeout=120)
    finally:
        for proc in (victim, survivor):
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    assert survivor.returncode == 0, err.decode()[-500:]
    # its database session ends with it, and the advisory lock with the session
    await_condition(lambda: "poller-a" not in lock_holders(url), 30, "poller-a's locks released")
    again = subprocess.run([sys.executable, "-m", "hygiene", "poll", "--json"], env={**env, "PGAPPNAME": "poller-b"}, capture_output=True, timeout=120)
    assert again.returncode == 0, again.stderr.decode()
    assert all(a["ok"] and not a.get("skipped") for a in json.loads(again.stdout)["accounts"])
    total = FIRST + MORE + LAST
    assert counts(url) == dict.fromkeys(names, (total, total))
    assert db_state(url) == server_state(boxes) == {name: (total, n + 1) for n, name in enumerate(names)}
    engine = open_database(url)
    try:
        with engine.connect() as conn:
            stored = sorted(mid or "" for mid in conn.execute(select(Message.message_id)).scalars())
    finally:
        engine.dispose()
    expected = sorted(f"<{k}{n}-{i}@amazon>" for n in range(POLLERS_ACCOUNTS) for k, m in (("a", FIRST), ("b", MORE), ("c", LAST)) for i in range(m))
    assert stored == expected  # every message exactly once


def test_processes_opening_a_new_database_at_once_migrate_it_once(database_url: str) -> None:
    """Two cron jobs (or pollers on two machines) meeting an empty database: one migrates, the
    others wait and find it done (before, the second died creating tables that existed)."""
    code = f"from hygiene.store.db import open_database\nopen_database({database_url!r}).dispose()\nprint('ok')\n"
    procs = [subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=os.environ.copy()) for _ in range(4)]
    outs = [p.communicate(timeout=60) for p in procs]
    assert all(p.returncode == 0 for p in procs), [e.decode()[-300:] for _, e in outs]
    engine = open_database(database_url)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(Message)).scalar() == 0
    engine.dispose()
