"""Does ``hygiene watch`` grow without bound? Many poll rounds and reconnects, quickly.

Runs the watch loop in this process (``hygiene.watch.watch``, what the command runs) against
its own Dovecot, ``--accounts`` mailboxes reached through a fault proxy, with a poll round every
``--interval`` seconds (the command's floor is 4 s; the library takes less, so rounds come
fast). Meanwhile a message is delivered every ``--mean-gap`` seconds on average and every
connection is cut every ``--cut-every`` seconds (each cut: a reconnect per account). A round is
one poll of every account.

Prints the process's RSS after each tenth of ``--rounds`` (start = after the first round), what
SQLite holds of it (page caches: up to 2 MB per pooled connection), the database's size, the
live objects of the kinds a leak would pile up (IMAP clients, sockets, engines, idlers,
parse pools), and with ``--trace`` the 15 source lines whose allocations grew most between
round ``--rounds``/10 and the last (tracemalloc; it slows the run and adds its own memory, so
the RSS figures of a traced run are not the ones to quote).

    python bench/watch_memory.py [--rounds 1000] [--interval 0.5] [--accounts 3] [--trace]
"""

from __future__ import annotations

import argparse
import gc
import logging
import random
import sys
import tempfile
import threading
import time
import tracemalloc
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))

from tests.builders import IMAP_BUYER, NOW, eml  # noqa: E402
from tests.dovecot import start_dovecot, unavailable_reason  # noqa: E402
from tests.servers import FaultProxy  # noqa: E402

#: the kinds of object counted live (by class name): what a leak per poll or reconnect would be
WATCHED = ("IMAPClient", "socket", "SSLSocket", "Engine", "QueuePool", "NullPool", "SingletonThreadPool",
           "Idler", "ProcessPoolExecutor", "Connection", "Session", "PollResult", "SyncRun")


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def sqlite_mb() -> float:
    """What SQLite itself holds (page caches, statements): malloc'd outside Python's heap."""
    import ctypes

    try:
        lib = ctypes.CDLL("libsqlite3.so.0")  # the library the sqlite3 module is linked to
    except OSError:
        return float("nan")
    lib.sqlite3_memory_used.restype = ctypes.c_int64
    return int(lib.sqlite3_memory_used()) / 2**20


#: the DBAPI connections the engine opened (SQLite's own per-connection figures are read from them)
CONNECTIONS: list[Any] = []


def sqlite_split() -> str:
    """Page cache / prepared statements MB of each open SQLite connection (sqlite3_db_status;
    the handle is the first field after the object header of CPython's sqlite3.Connection)."""
    import ctypes

    lib = ctypes.CDLL("libsqlite3.so.0")
    parts = []
    for conn in CONNECTIONS:
        try:
            conn.total_changes  # noqa: B018 - raises once closed
        except Exception:  # noqa: BLE001 - closed: nothing held
            continue
        db = ctypes.c_void_p.from_address(id(conn) + 2 * ctypes.sizeof(ctypes.c_void_p))
        figures = []
        for op in (1, 3):  # SQLITE_DBSTATUS_CACHE_USED, SQLITE_DBSTATUS_STMT_USED
            cur, high = ctypes.c_int(), ctypes.c_int()
            lib.sqlite3_db_status(db, op, ctypes.byref(cur), ctypes.byref(high), 0)
            figures.append(f"{cur.value / 2**20:.1f}")
        parts.append("/".join(figures))
    return " ".join(parts)


def py_heap_mb() -> float:
    return tracemalloc.get_traced_memory()[0] / 2**20 if tracemalloc.is_tracing() else float("nan")


def live_objects() -> Counter[str]:
    gc.collect()
    return Counter(name for o in gc.get_objects() if (name := type(o).__name__) in WATCHED)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=1000, help="poll rounds in all (10 checkpoints)")
    parser.add_argument("--interval", type=float, default=0.5, help="seconds between poll rounds")
    parser.add_argument("--accounts", type=int, default=3)
    parser.add_argument("--mean-gap", type=float, default=2.0, help="mean seconds between deliveries")
    parser.add_argument("--cut-every", type=float, default=15.0, help="seconds between cuts of every connection")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--trace", action="store_true", help="tracemalloc: what grew between round N/10 and N")
    args = parser.parse_args()
    reason = unavailable_reason()
    if reason:
        print(f"watch_memory: {reason}", file=sys.stderr)
        return 2

    from hygiene.config import load_config
    from hygiene.store.db import open_database
    from hygiene.watch import watch

    logging.basicConfig(level=logging.ERROR)  # the reconnect lines are expected, by the hundred
    rng = random.Random(args.seed)
    work = Path(tempfile.mkdtemp(prefix="hygiene-watchmem-"))
    dovecot = start_dovecot(work / "dovecot")
    proxy = FaultProxy(dovecot.port)
    boxes = [dovecot.add_user(n) for n in range(1, args.accounts + 1)]
    import os

    os.environ["WATCHMEM_IMAP_PASSWORD"] = dovecot.password
    os.environ["XDG_STATE_HOME"] = str(work / "state")  # the account locks
    blocks = [f'[database]\nurl = "sqlite:///{work / "hygiene.db"}"\n']
    for n, box in enumerate(boxes):
        blocks.append(
            f'[[accounts]]\nname = "acc{n}"\nhost = "127.0.0.1"\nport = {proxy.port}\ntls = "none"\n'
            f'username = "{box.user}"\npassword_env = "WATCHMEM_IMAP_PASSWORD"\ntimeout = 10\n'
        )
    (work / "config.toml").write_text("\n".join(blocks))
    config = load_config(work / "config.toml", required=True)
    engine = open_database(config.database.url)
    from sqlalchemy import event

    engine.dispose()  # from here on every connection is seen opening
    event.listen(engine, "connect", lambda dbapi_conn, _record: CONNECTIONS.append(dbapi_conn))

    polls = 0
    lock = threading.Condition()

    def on_poll(name: str, item: Any) -> None:
        nonlocal polls
        with lock:
            polls += 1
            lock.notify_all()

    stop = threading.Event()
    runner = threading.Thread(
        target=watch, args=(engine, config, config.accounts),
        kwargs={"stop": stop, "now": lambda: NOW, "notify": None, "interval": args.interval, "on_poll": on_poll},
        daemon=True,
    )

    delivered = 0

    def feed() -> None:
        nonlocal delivered
        now = time.monotonic()
        next_cut, next_mail = now + args.cut_every, now + rng.expovariate(1 / args.mean_gap)
        while not stop.wait(max(0.0, min(next_cut, next_mail) - time.monotonic())):
            if time.monotonic() >= next_cut:
                proxy.cut_all()
                next_cut = time.monotonic() + args.cut_every
            if time.monotonic() < next_mail:
                continue
            next_mail = time.monotonic() + rng.expovariate(1 / args.mean_gap)
            box = boxes[rng.randrange(len(boxes))]
            n = delivered + 1
            try:
                box.append("INBOX", eml(IMAP_BUYER.replace("@", f"+{n}@"), box.user, f"問い合わせ {n}",
                                        mid=f"mem{n}@amazon", hours_ago=rng.choice((1, 30))))
            except Exception:  # noqa: BLE001 - Dovecot busy: the next one then
                continue
            delivered = n

    def rounds() -> int:
        return polls // args.accounts

    def wait_rounds(n: int) -> None:
        with lock:
            lock.wait_for(lambda: rounds() >= n or not runner.is_alive(), timeout=args.interval * n * 20 + 120)
        if not runner.is_alive():
            raise SystemExit("the watch loop ended early")

    started = time.monotonic()
    runner.start()
    wait_rounds(1)
    threading.Thread(target=feed, daemon=True).start()
    print(f"watch memory: {args.accounts} accounts, a round every {args.interval:g} s, a delivery every "
          f"{args.mean_gap:g} s, every connection cut every {args.cut_every:g} s{', tracemalloc on' if args.trace else ''}")
    print(f"{'round':>7} {'RSS MB':>8} {'SQLite':>7} {'traced':>7} {'db MB':>6} {'mails':>6} {'s':>6}  live objects")

    def row(n: int, objects: Counter[str]) -> None:
        db_mb = (work / "hygiene.db").stat().st_size / 2**20
        print(f"{n:>7} {rss_mb():8.1f} {sqlite_mb():7.1f} {py_heap_mb():7.1f} {db_mb:6.1f} {delivered:>6} "
              f"{time.monotonic() - started:6.0f}  {dict(sorted(objects.items()))}  cache/stmt MB: {sqlite_split()}",
              flush=True)

    step = max(1, args.rounds // 10)
    base: Any = None
    row(1, live_objects())
    try:
        for checkpoint in range(step, args.rounds + 1, step):
            wait_rounds(checkpoint)
            if args.trace and checkpoint == step:
                tracemalloc.start(12)
            objects = live_objects()
            if args.trace and checkpoint == step * 2:
                base = tracemalloc.take_snapshot()
            row(checkpoint, objects)
        if args.trace and base is not None:
            gc.collect()
            diff = tracemalloc.take_snapshot().compare_to(base, "traceback")
            print(f"\ngrown most between round {step * 2} and {args.rounds} (tracemalloc, by traceback):")
            for stat in diff[:15]:
                print(f"  {stat.size_diff / 1024:+9.1f} KiB {stat.count_diff:+7d} blocks")
                for line in stat.traceback.format()[-8:]:
                    print("      " + line)
    finally:
        stop.set()
        runner.join(30)
        proxy.close()
        dovecot.stop()
        engine.dispose()
    print(f"\n{delivered} delivered, {rounds()} rounds, {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
