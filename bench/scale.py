"""Benchmark at agency size (issue 13, item 5): many accounts, a big database.

Part 1 (root: starts a Dovecot; ``--accounts`` × ``--per-account`` messages): the first poll
and the no-op poll of every account, serial against ``--parallel 4``, whole process, on SQLite
and (when Debian's PostgreSQL is installed) on PostgreSQL; peak memory of the process tree.
Part 2: a generated database of ``--messages`` messages (:func:`history`: ten accounts,
notifications, buyers, Seller Support and account health, most answered, long shared threads),
written in bulk (COPY on PostgreSQL, one executemany on SQLite); the first ``check --no-poll``
(it keys and matches every message) timed once; on PostgreSQL a VACUUM ANALYZE then, as
autovacuum would; then ``check --no-poll``, ``report``, ``dashboard`` and ``messages --since
7d``, whole process, median of ``--runs``, and each command's peak RSS, on SQLite and
PostgreSQL (a throwaway cluster, or ``--postgres-url``).

Targets: parallel first poll of 20 accounts >= 1.6x faster than serial on this 2-core
machine; ``check --no-poll`` < 1 s at 1,000,000 messages on both databases.

    python bench/scale.py [--accounts 20] [--per-account 5000] [--messages 1000000] [--runs 5] [--skip-poll] [--skip-db]
                          [--quick] [--baseline SRC]
    python bench/scale.py --skip-poll [--sqlite-only | --postgres-only] [--postgres-url URL]

``--quick``: 8 accounts x 2,000 messages and 100,000 in the database (minutes, not an hour).
``--baseline SRC`` polls with another checkout's ``src`` too (the code before a change), in
the same run, so the two are compared under the same load.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _bench(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"bench_{name}", Path(__file__).with_name(f"{name}.py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while it loads
    spec.loader.exec_module(module)
    return module


SUBJECTS = ["商品の発送について", "返品について", "商品が届きません", "サイズ交換のお願い", "請求書の発行について",
            "Where is my order?", "Return request", "Item arrived damaged", "Question about size", "Invoice please"]
ACCOUNTS = 10
COLUMNS = (
    "account", "folder", "uidvalidity", "uid", "fingerprint", "source", "message_id", "in_reply_to",
    "message_references", "from_addr", "to_addrs", "subject", "date_header", "internal_date", "received_at",
    "flags", "seen", "answered", "direction", "category", "needs_reply", "auto_reply", "body_text", "size", "stored_at",
)


def history(total: int, now: datetime, seed: int = 7, accounts: int = ACCOUNTS, shared: float = 0.02) -> Iterator[tuple[object, ...]]:
    """``total`` messages of ``accounts`` seller accounts over two years, as rows of COLUMNS:
    15 % notifications, the rest buyers' questions (order IDs), Seller Support (case IDs) and
    account health, about four in five answered (70 % of replies carry In-Reply-To, the rest
    are matched on the case / order ID or the subject), the last three days holding the ones
    still waiting. ``shared``: the share of conversations on each account's one long Seller
    Support case or one busy buyer's order (thousands of messages on one key)."""
    rnd = random.Random(seed)
    n = 0
    stored = now.replace(tzinfo=None)
    while n < total:
        account = f"shop{rnd.randrange(accounts) + 1}"
        shop = f"{account}@example.jp"
        at = (now - timedelta(hours=rnd.uniform(0.5, 2 * 365 * 24))).replace(tzinfo=None)
        age_h = (stored - at).total_seconds() / 3600
        n += 1
        if rnd.random() < 0.15:
            order = f"{rnd.randrange(100, 999)}-{rnd.randrange(10**6, 10**7)}-{rnd.randrange(10**6, 10**7)}"
            yield (account, "INBOX", 1, n, f"{n:064x}", "imap", f"<n{n}@amazon.example>", None, None,
                   "no-reply@amazon.co.jp", shop, f"ご注文の発送 {order}", at, at, at, "\\Seen", True, False,
                   "inbound", "notification", False, False, "ご注文の商品を発送しました。", 2000, stored)
            continue
        category = rnd.choice(["buyer"] * 6 + ["seller_support", "account_health"])
        sender = f"b{rnd.randrange(20000)}@marketplace.amazon.co.jp" if category == "buyer" else (
            "seller-support@amazon.co.jp" if category == "seller_support" else "seller-performance@amazon.co.jp")
        subject = rnd.choice(SUBJECTS)
        case = f"ケースID: {rnd.randrange(10**10, 10**11)}\n" if category == "seller_support" else ""
        order = f"{rnd.randrange(100, 999)}-{rnd.randrange(10**6, 10**7)}-{rnd.randrange(10**6, 10**7)}"
        quoted = ""
        if rnd.random() < shared:
            if rnd.random() < 0.5:
                category, sender = "seller_support", "seller-support@amazon.co.jp"
                case = quoted = f"ケースID: 3141592{account[4:]:0>4}\n"
            else:
                category, sender = "buyer", f"busy-{account}@marketplace.amazon.co.jp"
                order = f"503-27182{account[4:]:0>2}-8284590"
                quoted = f"注文番号 {order} の件、"
        elif rnd.random() < 0.3:
            quoted = f"ケースID: {case[7:]}\n" if case else f"注文番号 {order} の件、"
        mid = f"<q{n}@amazon.example>"
        yield (account, "INBOX", 1, n, f"{n:064x}", "imap", mid, None, None, sender, shop, subject, at, at, at,
               "\\Seen", True, False, "inbound", category, True, False,
               f"{case}注文番号 {order} についてお問い合わせです。" * 3, 2000, stored)
        if age_h > 72 or rnd.random() < 0.6:
            n += 1
            reply_at = at + timedelta(hours=rnd.uniform(0.2, 40))
            threaded = rnd.random() < 0.7
            yield (account, "Sent", 1, n, f"{n:064x}", "imap", f"<r{n}@{account}.example>", mid if threaded else None,
                   mid if threaded else None, shop, sender, f"Re: {subject}", reply_at, reply_at, reply_at, "\\Seen",
                   True, False, "outbound", "outbound", False, False,
                   f"{quoted}いつもお世話になっております。ご連絡ありがとうございます。", 1500, stored)


def replied(url: str) -> int:
    from sqlalchemy import func, select

    from hygiene.store.db import open_database
    from hygiene.store.tables import messages

    engine = open_database(url)
    with engine.connect() as conn:
        n = conn.execute(select(func.count()).where(messages.c.replied_at.is_not(None))).scalar_one()
    engine.dispose()
    return int(n)


def vacuum(url: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text("VACUUM ANALYZE messages"))
        conn.execute(text("VACUUM ANALYZE thread_keys"))
    engine.dispose()


def load(url: str, total: int, now: datetime) -> int:
    """Writes the history through the driver in bulk (COPY on PostgreSQL, executemany in one
    transaction on SQLite) into a database at the newest schema; returns the rows written."""
    from hygiene.store.db import open_database

    engine = open_database(url)
    raw = engine.raw_connection()
    rows = 0
    try:
        cursor = raw.cursor()
        if engine.dialect.name == "postgresql":
            with cursor.copy(f"COPY messages ({', '.join(COLUMNS)}) FROM STDIN") as copy:  # type: ignore[attr-defined]
                for row in history(total, now):
                    copy.write_row(row)
                    rows += 1
        else:
            def text_dates() -> Iterator[tuple[object, ...]]:  # SQLAlchemy's SQLite storage format
                nonlocal rows
                for row in history(total, now):
                    rows += 1
                    yield row[:12] + tuple(d.strftime("%Y-%m-%d %H:%M:%S.%f") for d in row[12:15]) + row[15:24] + (
                        row[24].strftime("%Y-%m-%d %H:%M:%S.%f"),)

            cursor.executemany(
                f"INSERT INTO messages ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})", text_dates()
            )
        raw.commit()
        if engine.dialect.name == "postgresql":  # as autovacuum would after a bulk load
            cursor.execute("ANALYZE")
            raw.commit()
    finally:
        raw.close()
        engine.dispose()
    return rows


#: runs ``python -m hygiene`` and, at exit, writes the process's own peak RSS (VmHWM, kB) to
#: the pipe named by its first argument: getrusage's ru_maxrss of a child also counts the parent's memory at fork time
PEAK = (
    "import atexit, os, runpy, sys\n"
    "fd = int(sys.argv.pop(1))\n"
    "def peak():\n"
    "    line = next(x for x in open('/proc/self/status') if x.startswith('VmHWM'))\n"
    "    os.write(fd, line.split()[1].encode())\n"
    "atexit.register(peak)\n"
    "sys.argv[0] = 'hygiene'\n"
    "runpy.run_module('hygiene', run_name='__main__', alter_sys=True)\n"
)


def timed(args: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of one whole-process run of ``hygiene ARGS``."""
    read, write = os.pipe()
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", PEAK, str(write), *args], env=env, capture_output=True, pass_fds=(write,)
    )
    seconds = time.perf_counter() - started
    os.close(write)
    with os.fdopen(read) as peak:
        kb = peak.read()
    if done.returncode not in (0, 3, 4):
        raise SystemExit(f"hygiene {' '.join(args)} failed: {done.stderr.decode()[-500:]}")
    return seconds, int(kb) / 1024


def machine_busy() -> float:
    """CPU seconds the whole machine has spent busy (all cores, /proc/stat): how much of the
    two cores a serial poll leaves for --parallel to use (Dovecot runs on them too)."""
    fields = [int(x) for x in open("/proc/stat").readline().split()[1:]]
    return (sum(fields) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")


def children_cpu() -> float:
    """User + system CPU seconds of the finished child processes so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def median(args: list[str], env: dict[str, str], runs: int) -> tuple[float, float]:
    """Median wall seconds of ``runs`` whole-process runs, and the largest peak RSS (MB)."""
    results = [timed(args, env) for _ in range(runs)]
    return statistics.median(r[0] for r in results), max(r[1] for r in results)


def postgres(work: Path) -> tuple[object, str] | None:
    from tests.servers import create_pg_database, start_postgres

    server = start_postgres(work / "pg")
    if server is None:
        return None
    return server, create_pg_database(server.url_prefix)


def poll_part(args: argparse.Namespace, work: Path) -> None:
    from tests.dovecot import start_dovecot

    poll = _bench("poll")
    server = start_dovecot(work / "dovecot")
    pg = postgres(work)
    try:
        boxes = [server.add_user(n) for n in range(1, args.accounts + 1)]
        t0 = time.perf_counter()
        for n, box in enumerate(boxes):
            box.write_maildir("INBOX", poll.inbox_messages(args.per_account, seed=n))
        print(f"{args.accounts} accounts x {args.per_account} messages written in {time.perf_counter() - t0:.1f} s")
        urls = {"sqlite": None, "postgresql": pg[1] if pg else None}
        for backend, url in urls.items():
            if backend == "postgresql" and url is None:
                print("postgresql: not installed here, skipped")
                continue
            results = {}
            versions = {"": None} if args.baseline is None else {" (before)": str(args.baseline.resolve()), " (new)": str(ROOT / "src")}
            modes = [(f"{mode}{label}", mode, src) for label, src in versions.items() for mode in ("serial", "parallel 4")]
            for name, mode, src in modes:
                tag = f"{mode[:3]}{len(results)}"
                db_url = url or f"sqlite:///{work / f'{tag}.db'}"
                if backend == "postgresql":  # a fresh database for each mode
                    from tests.servers import create_pg_database

                    db_url = create_pg_database(pg[0].url_prefix)  # type: ignore[index, union-attr]
                config = work / f"{backend}-{tag}.toml"
                config.write_text(f'[database]\nurl = "{db_url}"\n' + "".join(
                    f'[[accounts]]\nname = "a{n}"\nhost = "127.0.0.1"\nport = {server.port}\ntls = "none"\n'
                    f'username = "{box.user}"\npassword_command = "echo {server.password}"\n' for n, box in enumerate(boxes)
                ))
                env = {**os.environ, "HYGIENE_CONFIG": str(config), "XDG_STATE_HOME": str(work / "state")}
                if src:
                    env["PYTHONPATH"] = src
                extra = [] if mode == "serial" else ["--parallel", "4"]
                busy_before, cpu_before = machine_busy(), children_cpu()
                first, peak = timed(["poll", *extra], env)
                cores = (machine_busy() - busy_before) / first
                cpu = children_cpu() - cpu_before
                noop, _ = timed(["poll", *extra], env)
                results[name] = first
                print(f"{backend:10} {name:21}  first poll {first:6.1f} s (hygiene CPU {cpu:5.1f} s, machine busy {cores:4.2f} of "
                      f"{os.cpu_count()} cores)   no-op {noop:5.2f} s   peak {peak:5.0f} MB (largest process)", flush=True)
            for label in versions:
                ratio = results[f"serial{label}"] / results[f"parallel 4{label}"]
                print(f"{backend:10} parallel 4{label} is {ratio:.2f}x faster than serial{label} (target 1.6x): "
                      f"{'PASS' if ratio >= 1.6 else 'FAIL'}", flush=True)
    finally:
        server.stop()
        if pg:
            pg[0].stop()  # type: ignore[attr-defined]


def db_part(args: argparse.Namespace, work: Path) -> None:
    check = _bench("check")
    pg = None if args.postgres_url or args.sqlite_only else postgres(work)
    urls = {"sqlite": f"sqlite:///{work / 'big.db'}", "postgresql": args.postgres_url or (pg[1] if pg else None)}
    if args.postgres_only:
        del urls["sqlite"]
    try:
        for backend, url in urls.items():
            if url is None:
                print("postgresql: not installed here, skipped")
                continue
            t0 = time.perf_counter()
            rows = load(url, args.messages, check.NOW)
            filled = time.perf_counter() - t0
            config = work / f"{backend}-big.toml"
            config.write_text(f'timezone = "Asia/Tokyo"\n[database]\nurl = "{url}"\n')
            env = {**os.environ, "HYGIENE_CONFIG": str(config), "HYGIENE_NOW": check.NOW.isoformat(), "XDG_STATE_HOME": str(work / "state")}
            # The first check keys every message and matches every reply: timed once, whole process.
            matched, peak = timed(["check", "--no-poll"], env)
            print(
                f"{backend}: {rows:,} messages of {ACCOUNTS} accounts written in {filled:.0f} s; first check --no-poll "
                f"(keys and matches all) {matched:.1f} s, peak {peak:.0f} MB; {replied(url):,} messages answered",
                flush=True,
            )
            if backend == "postgresql":
                # Index-only scans need the visibility map that VACUUM sets: autovacuum does so
                # within minutes of the first check's writes; until then check reads the table.
                unvacuumed, _ = timed(["check", "--no-poll"], env)
                t0 = time.perf_counter()
                vacuum(url)
                print(f"postgresql: check --no-poll before any vacuum {unvacuumed:.2f} s (one run); VACUUM ANALYZE {time.perf_counter() - t0:.0f} s", flush=True)
            for label, cmd in (
                ("check --no-poll", ["check", "--no-poll"]),
                ("report --format json", ["report", "--format", "json"]),
                ("dashboard", ["dashboard"]),
                ("messages --since 7d", ["messages", "--since", "7 days ago"]),
            ):
                seconds, peak = median(cmd, env, args.runs)
                verdict = ("PASS" if seconds < 1 else "FAIL") if label == "check --no-poll" else ""
                print(f"{backend:10} {label:22} {seconds:6.2f} s (median of {args.runs}, whole process)  peak {peak:4.0f} MB  {verdict}", flush=True)
    finally:
        if pg:
            pg[0].stop()  # type: ignore[attr-defined]


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--accounts", type=int, default=20)
    parser.add_argument("--per-account", type=int, default=5000)
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5, help="whole-process runs per command (the median is printed)")
    parser.add_argument("--postgres-url", help="an empty PostgreSQL database to fill (default: a throwaway cluster)")
    parser.add_argument("--sqlite-only", action="store_true")
    parser.add_argument("--postgres-only", action="store_true")
    parser.add_argument("--skip-poll", action="store_true")
    parser.add_argument("--skip-db", action="store_true")
    parser.add_argument("--quick", action="store_true", help="8 accounts x 2,000 messages, 100,000 in the database")
    parser.add_argument("--baseline", type=Path, help="another checkout's src directory, polled in the same run")
    args = parser.parse_args()
    if args.quick:
        args.accounts, args.per_account, args.messages = 8, 2000, 100_000
    work = Path(tempfile.mkdtemp(prefix="hygiene-bench-scale-"))
    if not args.skip_poll:
        poll_part(args, work)
    if not args.skip_db:
        db_part(args, work)
    print(f"(work files in {work})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
