"""Benchmark: ``hygiene check --no-poll`` on a database of 100,000 messages.

Fills a throwaway SQLite database (set-based inserts, through the real schema), runs reply
matching once (timed: the first run keys every message), then times the real command in a
subprocess, wall clock, median of 3. Target: under 0.5 s.

``--shared``: first reply matching on histories where half the conversations are one long
thread (one Seller Support case ID, one buyer's order ID: thousands of messages on one key),
at 10,000 and 50,000 messages, on SQLite and PostgreSQL (a throwaway cluster started as the
tests do, or ``--postgres-url``): the first ``hygiene check --no-poll`` after the fill (it keys
and matches every message) as a whole process, its wall time and peak RSS (the child's
ru_maxrss; PostgreSQL's own processes not counted), then a second run with nothing new.
``--siblings``: instead, one Seller Support case answered one message in ten, by In-Reply-To
alone (the other nine are answered as thread siblings). ``--before SRC`` runs the same on a checkout of other code (its ``src/``) beside, killed after
``--timeout`` seconds or 8 GB. Targets: under 10 s and 300 MB at 50,000.

    python bench/check.py [--messages 100000] [--keep DIR]
    python bench/check.py --shared [--sizes 10000,50000] [--postgres-url URL | --sqlite-only] [--before SRC]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

TARGET_S = 0.5
NOW = datetime(2026, 11, 20, 0, 0, tzinfo=UTC)
SUBJECTS_JA = ["商品の発送について", "返品について", "商品が届きません", "サイズ交換のお願い", "請求書の発行について"]
SUBJECTS_EN = ["Where is my order?", "Return request", "Item arrived damaged", "Question about size", "Invoice please"]


#: the one Seller Support case and the one busy order of the ``shared`` history
SHARED_CASE = "31415926535"
SHARED_ORDER = "503-2718281-8284590"
BUSY_BUYER = "busy7q@marketplace.amazon.co.jp"


def fill(url: str, total: int, seed: int = 7, shared: float = 0.0) -> dict[str, int]:
    """About 55 % inbound (buyers, Seller Support, account health, notifications) and the
    seller's replies, over two years; a few hundred recent messages still await a reply.

    ``shared``: the share of conversations in one long thread: half of them Seller Support
    mail about one case ID, half one buyer's mail about one order ID, the seller's replies
    quoting the ID (thousands of messages on one key: the worst case of reply matching)."""
    from sqlalchemy import insert

    from hygiene.store.db import open_database
    from hygiene.store.tables import messages as table

    rnd = random.Random(seed)
    engine = open_database(url)
    rows: list[dict[str, object]] = []
    counts = {"inbound": 0, "outbound": 0, "awaiting": 0}
    n = 0

    def base(i: int, direction: str, category: str, at: datetime) -> dict[str, object]:
        return {
            "account": "bench", "folder": "INBOX" if direction == "inbound" else "Sent", "uidvalidity": 1,
            "uid": i, "fingerprint": f"{i:064x}", "source": "imap", "date_header": at, "internal_date": at,
            "received_at": at, "flags": "\\Seen", "seen": True, "answered": False, "answered_seen_at": None,
            "direction": direction, "category": category, "needs_reply": False, "auto_reply": False,
            "size": 2000, "parse_note": None, "raw": None, "stored_at": NOW, "from_name": None, "cc_addrs": None,
            "in_reply_to": None, "message_references": None,
        }

    with engine.begin() as conn:
        while n < total:
            age_h = rnd.uniform(0.5, 2 * 365 * 24)
            at = NOW - timedelta(hours=age_h)
            kind = rnd.random()
            n += 1
            if kind < 0.15:  # a notification: no reply needed
                row = base(n, "inbound", "notification", at)
                row |= {"message_id": f"<n{n}@amazon.example>", "from_addr": "no-reply@amazon.co.jp", "to_addrs": "shop@example.jp",
                        "subject": f"ご注文の発送 {rnd.randrange(100, 999)}-{rnd.randrange(10**6, 10**7)}-{rnd.randrange(10**6, 10**7)}",
                        "body_text": "ご注文の商品を発送しました。"}
                rows.append(row)
                counts["inbound"] += 1
            else:
                category = rnd.choice(["buyer"] * 6 + ["seller_support", "account_health"])
                buyer = f"b{rnd.randrange(20000)}@marketplace.amazon.co.jp" if category == "buyer" else (
                    "seller-support@amazon.co.jp" if category == "seller_support" else "seller-performance@amazon.co.jp")
                subject = rnd.choice(SUBJECTS_JA + SUBJECTS_EN)
                case = f"ケースID: {rnd.randrange(10**10, 10**11)}\n" if category == "seller_support" else ""
                order = f"{rnd.randrange(100, 999)}-{rnd.randrange(10**6, 10**7)}-{rnd.randrange(10**6, 10**7)}"
                quoted = ""
                if shared and rnd.random() < shared:
                    if rnd.random() < 0.5:
                        category, buyer, case = "seller_support", "seller-support@amazon.co.jp", f"ケースID: {SHARED_CASE}\n"
                        quoted = case
                    else:
                        category, buyer, order = "buyer", BUSY_BUYER, SHARED_ORDER
                        quoted = f"注文番号 {order} の件、"
                mid = f"<q{n}@amazon.example>"
                row = base(n, "inbound", category, at)
                row |= {"message_id": mid, "from_addr": buyer, "to_addrs": "shop@example.jp", "subject": subject,
                        "needs_reply": True, "body_text": f"{case}注文番号 {order} についてお問い合わせです。" * 3}
                rows.append(row)
                counts["inbound"] += 1
                # Most get a reply; the last few days hold the ones still waiting.
                if age_h > 72 or rnd.random() < 0.6:
                    n += 1
                    reply_at = at + timedelta(hours=rnd.uniform(0.2, 40))
                    out = base(n, "outbound", "outbound", reply_at)
                    how = rnd.random()
                    out |= {"message_id": f"<r{n}@shop.example>", "from_addr": "shop@example.jp", "to_addrs": buyer,
                            "subject": f"Re: {subject}", "body_text": f"{quoted}いつもお世話になっております。ご連絡ありがとうございます。",
                            "in_reply_to": mid if how < 0.7 else None, "message_references": mid if how < 0.7 else None}
                    rows.append(out)
                    counts["outbound"] += 1
                else:
                    counts["awaiting"] += 1
            if len(rows) >= 5000:
                conn.execute(insert(table), rows)
                rows.clear()
        if rows:
            conn.execute(insert(table), rows)
    engine.dispose()
    return counts


def fill_case(url: str, total: int) -> dict[str, int]:
    """One Seller Support case of ``total`` messages, every two hours, the seller answering
    one in ten by In-Reply-To alone: the other nine are answered as thread siblings (the
    worst case of that rule: every waiting message against every answered one)."""
    from sqlalchemy import insert

    from hygiene.store.db import open_database
    from hygiene.store.tables import messages as table

    engine = open_database(url)
    rows: list[dict[str, object]] = []
    counts = {"inbound": 0, "outbound": 0, "awaiting": 0}

    def base(i: int, direction: str, at: datetime) -> dict[str, object]:
        return {
            "account": "bench", "folder": "INBOX" if direction == "inbound" else "Sent", "uidvalidity": 1, "uid": i,
            "fingerprint": f"{i:064x}", "source": "imap", "date_header": at, "internal_date": at, "received_at": at,
            "flags": "\\Seen", "seen": True, "answered": False, "answered_seen_at": None, "direction": direction,
            "category": "seller_support" if direction == "inbound" else "outbound", "needs_reply": direction == "inbound",
            "auto_reply": False, "size": 2000, "parse_note": None, "raw": None, "stored_at": NOW, "from_name": None,
            "cc_addrs": None, "in_reply_to": None, "message_references": None,
        }

    n = 0
    with engine.begin() as conn:
        for j in range(int(total / 1.1)):
            at = NOW - timedelta(hours=2 * (total - j))
            n += 1
            rows.append(base(n, "inbound", at) | {
                "message_id": f"<s{n}@amazon.example>", "from_addr": "seller-support@amazon.co.jp", "to_addrs": "shop@example.jp",
                "subject": f"ケースID: {SHARED_CASE} のご連絡 ({j})", "body_text": f"ケースID: {SHARED_CASE}\nご確認ください。"})
            counts["inbound"] += 1
            if j % 10 == 0:
                n += 1
                rows.append(base(n, "outbound", at + timedelta(minutes=30)) | {
                    "message_id": f"<r{n}@shop.example>", "from_addr": "shop@example.jp", "to_addrs": "seller-support@amazon.co.jp",
                    "subject": f"Re: ご連絡 ({j})", "body_text": "承知しました。", "in_reply_to": f"<s{n - 1}@amazon.example>"})
                counts["outbound"] += 1
            if len(rows) >= 5000:
                conn.execute(insert(table), rows)
                rows.clear()
        if rows:
            conn.execute(insert(table), rows)
    engine.dispose()
    return counts


SHARED_TARGET_S = 10.0
SHARED_TARGET_MB = 300
MEMORY_LIMIT = 8 << 30


def run_check(config: Path, src: Path | None = None, timeout: float = 600) -> tuple[float, float, float, str]:
    """One whole-process ``hygiene check --no-poll``: wall seconds, the child's CPU seconds
    (steadier than wall time on a shared machine), its peak RSS (MB), and "" or why it did not
    finish."""
    import resource
    import threading

    env = {**os.environ, "NO_COLOR": "1"}
    if src is not None:
        env["PYTHONPATH"] = str(src / "src")

    def limit() -> None:  # a runaway run must not take the machine down with it
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))

    command = [sys.executable, "-m", "hygiene", "--config", str(config), "check", "--no-poll", "--now", NOW.isoformat()]
    started = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, preexec_fn=limit)
    timer = threading.Timer(timeout, child.kill)
    timer.start()
    assert child.stderr is not None
    err = child.stderr.read().decode(errors="replace")
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - started
    timer.cancel()
    child.returncode = os.waitstatus_to_exitcode(status)
    why = ""
    if child.returncode < 0:
        why = f"killed after {timeout:.0f} s"
    elif child.returncode not in (0, 3, 4):
        why = "out of memory" if "MemoryError" in err or "memory" in err.lower() else f"failed: {err.strip()[-200:]}"
    return seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, why


def shared_bench(args: argparse.Namespace) -> int:
    """First reply matching on long threads, whole process, per backend and size."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    work = args.keep or Path(tempfile.mkdtemp(prefix="hygiene-bench-shared-"))
    work.mkdir(parents=True, exist_ok=True)
    server = None
    backends: list[tuple[str, str | None]] = [("sqlite", None)]
    if not args.sqlite_only:
        prefix = args.postgres_url
        if prefix is None:
            from tests.servers import start_postgres

            server = start_postgres(work / "pg")
            prefix = server.url_prefix if server else None
        if prefix is None:
            print("postgresql: not installed here, skipped")
        else:
            backends.append(("postgresql", prefix))
    ok = True
    try:
        for size in [int(s) for s in args.sizes.split(",")]:
            for backend, prefix in backends:
                codes: list[tuple[str, Path | None]] = [("this code", None)]
                if args.before:
                    codes.append(("before", args.before))
                for label, src in codes:
                    if prefix is None:
                        db = work / f"shared-{size}-{label.replace(' ', '-')}.db"
                        db.unlink(missing_ok=True)
                        url = f"sqlite:///{db}"
                    else:
                        from tests.servers import create_pg_database

                        url = create_pg_database(prefix)
                    config = work / f"{backend}-{size}.toml"
                    config.write_text(f'timezone = "Asia/Tokyo"\n[database]\nurl = "{url}"\n')
                    counts = fill_case(url, size) if args.siblings else fill(url, size, shared=0.5)
                    seconds, cpu, peak, why = run_check(config, src, args.timeout)
                    head = f"{backend:10} {size:>7,} messages ({counts['inbound']:,} inbound) {label:9}"
                    if why:
                        print(f"{head}  first check --no-poll did not finish: {why} ({seconds:.1f} s, peak {peak:,.0f} MB)", flush=True)
                        continue
                    again, _, _, _ = run_check(config, src, args.timeout)
                    verdict = ""
                    if src is None and size >= 50_000:
                        passed = seconds < SHARED_TARGET_S and peak < SHARED_TARGET_MB
                        ok = ok and passed
                        verdict = "PASS" if passed else "FAIL"
                    print(f"{head}  first check --no-poll {seconds:6.2f} s (CPU {cpu:5.2f} s), peak {peak:5,.0f} MB; nothing new {again:5.2f} s {verdict}", flush=True)
    finally:
        if server is not None:
            server.stop()
        if not args.keep:  # the databases of a 50k run are a few hundred MB
            import shutil

            shutil.rmtree(work, ignore_errors=True)
    print(f"targets at 50,000: first matching < {SHARED_TARGET_S:g} s and < {SHARED_TARGET_MB} MB peak (whole process)")
    return 0 if ok else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or '').splitlines()[0])
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--keep", type=Path, help="keep the database in this directory")
    parser.add_argument("--shared", action="store_true", help="first matching on long shared threads (see above)")
    parser.add_argument("--sizes", default="10000,50000")
    parser.add_argument("--siblings", action="store_true", help="with --shared: one case answered one in ten (thread siblings)")
    parser.add_argument("--postgres-url", help="a PostgreSQL server URL prefix (postgresql+psycopg://user@host:port)")
    parser.add_argument("--sqlite-only", action="store_true")
    parser.add_argument("--before", type=Path, help="a checkout of other code to run beside (its src/)")
    parser.add_argument("--timeout", type=float, default=600)
    args = parser.parse_args()
    if args.shared:
        return shared_bench(args)

    work = args.keep or Path(tempfile.mkdtemp(prefix="hygiene-bench-check-"))
    work.mkdir(parents=True, exist_ok=True)
    db = work / "bench.db"
    if db.exists():
        db.unlink()
    url = f"sqlite:///{db}"
    config = work / "config.toml"
    config.write_text(f'timezone = "Asia/Tokyo"\n[database]\nurl = "{url}"\n')

    started = time.perf_counter()
    counts = fill(url, args.messages)
    fill_s = time.perf_counter() - started
    print(f"filled {args.messages:,} messages ({counts['inbound']:,} inbound, {counts['outbound']:,} replies) in {fill_s:.1f} s")

    from hygiene.clock import zone
    from hygiene.store.db import open_database
    from hygiene.threads import match_replies

    engine = open_database(url)
    started = time.perf_counter()
    with engine.begin() as conn:
        stats = match_replies(conn, tz=zone("Asia/Tokyo"))
    match_s = time.perf_counter() - started
    rules = ", ".join(f"{k} {v:,}" for k, v in sorted(stats.by_rule.items()))
    print(f"first match_replies: keyed {stats.keyed:,}, replies {stats.replied:,} ({rules}) in {match_s:.1f} s")
    started = time.perf_counter()
    with engine.begin() as conn:
        again = match_replies(conn, tz=zone("Asia/Tokyo"))
    print(f"second match_replies (nothing new): keyed {again.keyed}, {time.perf_counter() - started:.3f} s")
    engine.dispose()

    command = [sys.executable, "-m", "hygiene", "--config", str(config), "check", "--no-poll", "--now", NOW.isoformat()]
    env = {**os.environ, "NO_COLOR": "1"}
    times = []
    listed = ""
    for _ in range(3):
        started = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True, env=env)
        times.append(time.perf_counter() - started)
        if done.returncode not in (0, 3, 4):
            print(done.stderr, file=sys.stderr)
            return 1
        listed = done.stdout.splitlines()[0] if done.stdout else "(nothing listed)"
    median = statistics.median(times)
    print(f"check lists: {listed}")
    print(f"hygiene check --no-poll: median {median:.3f} s of 3 ({', '.join(f'{t:.3f}' for t in times)}); target < {TARGET_S} s")
    print("PASS" if median < TARGET_S else "FAIL")
    return 0 if median < TARGET_S else 1


if __name__ == "__main__":
    sys.exit(main())
