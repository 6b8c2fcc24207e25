"""Benchmark: ``hygiene report`` and ``hygiene dashboard`` on a database of 100,000 messages.

Fills a throwaway SQLite database with bench/check.py's history (two years, buyers, Seller
Support, account health, notifications and the seller's replies), gives the sent replies
tone scores, runs reply matching once, then times the real command in a subprocess (wall
clock, median of 3) for the table, JSON and --by week, and the dashboard (piped: the plain
100-column layout, charts drawn all the same); then the table, JSON and dashboard again with
``[schedule]`` set (the business-hours clock: JP holidays, Mon-Fri 09:00-18:00). Target:
under 1 s whole process, each.

    python bench/report.py [--messages 100000] [--keep DIR]
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_S = 1.0


def _check_bench() -> object:
    spec = importlib.util.spec_from_file_location("bench_check", Path(__file__).with_name("check.py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--keep", type=Path, help="keep the database in this directory")
    args = parser.parse_args()

    bench_check = _check_bench()
    work = args.keep or Path(tempfile.mkdtemp(prefix="hygiene-bench-report-"))
    work.mkdir(parents=True, exist_ok=True)
    db = work / "bench.db"
    if db.exists():
        db.unlink()
    url = f"sqlite:///{db}"
    config = work / "config.toml"
    config.write_text(f'timezone = "Asia/Tokyo"\n[database]\nurl = "{url}"\n')
    scheduled = work / "config-schedule.toml"
    scheduled.write_text(config.read_text() + '[schedule]\ncountry = "JP"\nextra_holidays = ["2026-12-29"]\n')

    started = time.perf_counter()
    counts = bench_check.fill(url, args.messages)  # type: ignore[attr-defined]
    from sqlalchemy import text

    from hygiene.clock import zone
    from hygiene.store.db import open_database
    from hygiene.threads import match_replies

    engine = open_database(url)
    with engine.begin() as conn:
        # tone as polling would have scored it: mostly polite, some review, a few block
        conn.execute(text(
            "UPDATE messages SET tone_score = 40 + (id * 37) % 61, "
            "tone_verdict = CASE WHEN (id * 37) % 61 < 5 THEN 'block' WHEN (id * 37) % 61 < 15 THEN 'review' ELSE 'ok' END "
            "WHERE direction = 'outbound'"
        ))
    print(f"filled {args.messages:,} messages ({counts['inbound']:,} inbound, {counts['outbound']:,} replies) in {time.perf_counter() - started:.1f} s")
    started = time.perf_counter()
    with engine.begin() as conn:
        match_replies(conn, tz=zone("Asia/Tokyo"))
    print(f"first match_replies (once): {time.perf_counter() - started:.1f} s")
    engine.dispose()

    env = {**os.environ, "NO_COLOR": "1"}
    now = bench_check.NOW.isoformat()  # type: ignore[attr-defined]
    worst = 0.0
    plain = (["report"], ["report", "--format", "json"], ["report", "--by", "week", "--format", "csv"], ["dashboard"])
    with_schedule = (["report"], ["report", "--format", "json"], ["dashboard"])
    runs = [(config, extra, "") for extra in plain] + [(scheduled, extra, " [schedule]") for extra in with_schedule]
    for path, extra, label in runs:
        command = [sys.executable, "-m", "hygiene", "--config", str(path), extra[0], "--now", now, *extra[1:]]
        times = []
        first = ""
        for _ in range(3):
            started = time.perf_counter()
            done = subprocess.run(command, capture_output=True, text=True, env=env)
            times.append(time.perf_counter() - started)
            if done.returncode != 0:
                print(done.stderr, file=sys.stderr)
                return 1
            first = next((line for line in done.stdout.splitlines() if "score" in line.lower()), "")
        median = statistics.median(times)
        worst = max(worst, median)
        shown = " ".join(extra) + label
        print(f"hygiene {shown}: median {median:.3f} s of 3 ({', '.join(f'{t:.3f}' for t in times)}){'  ' + first.strip() if first else ''}")
    print(f"slowest median {worst:.3f} s; target < {TARGET_S} s")
    print("PASS" if worst < TARGET_S else "FAIL")
    return 0 if worst < TARGET_S else 1


if __name__ == "__main__":
    sys.exit(main())
