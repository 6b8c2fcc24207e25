"""Benchmark: ``hygiene check --no-poll`` on a database of 100,000 messages.

Fills a throwaway SQLite database (set-based inserts, through the real schema), runs reply
matching once (timed: the first run keys every message), then times the real command in a
subprocess, wall clock, median of 3. Target: under 0.5 s.

    python bench/check.py [--messages 100000] [--keep DIR]
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


def fill(url: str, total: int, seed: int = 7) -> dict[str, int]:
    """About 55 % inbound (buyers, Seller Support, account health, notifications) and the
    seller's replies, over two years; a few hundred recent messages still await a reply."""
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
                            "subject": f"Re: {subject}", "body_text": "いつもお世話になっております。ご連絡ありがとうございます。",
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


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or '').splitlines()[0])
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--keep", type=Path, help="keep the database in this directory")
    args = parser.parse_args()

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
