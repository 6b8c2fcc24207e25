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
from pathlib import Path

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


def many_accounts(dovecot_server: Dovecot, tmp_path: Path, url: str, monkeypatch: pytest.MonkeyPatch, per_account: int) -> tuple[Path, list[Dovecot]]:
    from tests.dovecot import USERS

    boxes = [dovecot_server.add_user(next(USERS)) for _ in range(ACCOUNTS)]
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


def test_two_pollers_on_one_postgresql_sync_every_account_once(
    dovecot_server: Dovecot, tmp_path: Path, postgres_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two poll processes started together on the same accounts and database: each account is
    synced by one of them (the other reports it busy), nothing twice, nothing lost; a poller
    killed mid-way leaves nothing that stops the next run."""
    from tests.servers import create_pg_database

    url = create_pg_database(postgres_server)
    many_accounts(dovecot_server, tmp_path, url, monkeypatch, per_account=400)
    env = {**os.environ, "HYGIENE_NOW": NOW.isoformat()}
    first = subprocess.Popen([sys.executable, "-m", "hygiene", "poll", "--json"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    second = subprocess.Popen([sys.executable, "-m", "hygiene", "poll", "--json"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    outs = [json.loads(p.communicate(timeout=120)[0])["accounts"] for p in (first, second)]
    for n in range(ACCOUNTS):
        entries = [next(a for a in out if a["name"] == f"acc{n}") for out in outs]
        synced = [e for e in entries if not e.get("skipped")]
        assert synced and all(e["ok"] for e in entries)
    assert counts(url) == {f"acc{n}": (400, 400) for n in range(ACCOUNTS)}
    # kill -9 one poller mid-way through a full re-read: the next poll is not blocked
    killed = subprocess.Popen([sys.executable, "-m", "hygiene", "poll", "--full"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.5)
    killed.send_signal(signal.SIGKILL)
    killed.wait(timeout=10)
    time.sleep(0.5)
    after = subprocess.run([sys.executable, "-m", "hygiene", "poll", "--json"], env=env, capture_output=True, timeout=120)
    assert after.returncode == 0, after.stderr.decode()
    assert all(not a.get("skipped") for a in json.loads(after.stdout)["accounts"])
    assert counts(url) == {f"acc{n}": (400, 400) for n in range(ACCOUNTS)}


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
