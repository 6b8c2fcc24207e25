"""Soak test of ``hygiene watch`` (issue 13: "runs for an hour against Dovecot with periodic
connection kills and misses nothing").

Starts its own Dovecot (root, as the tests do) and ``hygiene watch`` against ``--accounts``
mailboxes, reached through a fault proxy. For ``--minutes`` (60) it delivers messages at random
intervals (straight to Dovecot, as a mail server would), cuts every connection through the
proxy every few minutes, blackholes the proxy once (a silent connection the watcher must time
out), and restarts Dovecot ``--restarts`` times (2). Half the messages are 30 h old on arrival,
hence late at once: the notifier must run exactly once for each of those and never for the
others (the clock is frozen with HYGIENE_NOW, so no state changes by time alone).

At the end it waits for the last deliveries, stops the watcher with SIGTERM and prints:
messages delivered, stored, missed (must be 0), duplicates, notices expected/got, reconnects,
delivery→stored latency (median, max; sampled every 0.1 s), the watcher's RSS at start and end,
and the SIGTERM exit. Exit status 1 when anything was missed or a check failed.

    python bench/soak_watch.py [--minutes 60] [--accounts 3] [--seed 1]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.builders import IMAP_BUYER, NOW, eml  # noqa: E402
from tests.dovecot import Dovecot, start_dovecot, unavailable_reason  # noqa: E402
from tests.servers import FaultProxy  # noqa: E402

#: the watcher's own timers: a poll round (and the IDLE keepalive) every INTERVAL seconds
INTERVAL = 60
TIMEOUT = 10


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


class Watcher:
    """``hygiene watch`` as a child process; its log lines kept with the time they came."""

    def __init__(self, env: dict[str, str]) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "hygiene", "watch"], env=env, stderr=subprocess.PIPE, text=True, cwd=ROOT
        )
        self.lines: list[tuple[float, str]] = []
        self.watching = threading.Event()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.lines.append((time.monotonic(), line.rstrip("\n")))
            if "watching " in line:
                self.watching.set()

    def count(self, text: str) -> int:
        return sum(text in line for _, line in self.lines)


class Stored:
    """Watches the database: when each Message-ID was first seen stored."""

    def __init__(self, db: Path) -> None:
        self.db = db
        self.first_seen: dict[str, float] = {}
        self.rows = 0
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(0.1)

    def sample(self) -> None:
        if not self.db.exists():
            return
        try:
            with sqlite3.connect(f"file:{self.db}?mode=ro", uri=True, timeout=5) as conn:
                ids = [mid for (mid,) in conn.execute("SELECT message_id FROM messages")]
        except sqlite3.OperationalError:
            return
        now = time.monotonic()
        self.rows = len(ids)
        for mid in ids:
            self.first_seen.setdefault(mid, now)

    def stop(self) -> None:
        self._stop.set()
        self.thread.join()


def deliver(box: Dovecot, message: bytes, up: threading.Event) -> None:
    """APPEND straight to Dovecot, retried while it is down (a restart)."""
    while True:
        up.wait()
        try:
            box.append("INBOX", message)
            return
        except Exception:  # noqa: BLE001 - the server is restarting: try again shortly
            time.sleep(0.5)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=60)
    parser.add_argument("--accounts", type=int, default=3)
    parser.add_argument("--restarts", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--log", type=Path, help="write the watcher's log here")
    parser.add_argument("--mean-gap", type=float, default=8.0, help="mean seconds between deliveries")
    args = parser.parse_args()
    reason = unavailable_reason()
    if reason:
        print(f"soak_watch: {reason}", file=sys.stderr)
        return 2
    rng = random.Random(args.seed)
    work = Path(tempfile.mkdtemp(prefix="hygiene-soak-"))
    dovecot = start_dovecot(work / "dovecot")
    proxy = FaultProxy(dovecot.port)
    boxes = [dovecot.add_user(n) for n in range(1, args.accounts + 1)]
    db = work / "hygiene.db"
    notes = work / "notes.jsonl"
    notifier = work / "notify.py"
    notifier.write_text(f"import sys\nopen({str(notes)!r}, 'a').write(sys.stdin.read().replace('\\n', ' ') + '\\n')\n")
    blocks = [f'[database]\nurl = "sqlite:///{db}"\n\n[watch]\nnotify = "{sys.executable} {notifier}"\ninterval = {INTERVAL}\n']
    for n, box in enumerate(boxes):
        blocks.append(
            f'[[accounts]]\nname = "acc{n}"\nhost = "127.0.0.1"\nport = {proxy.port}\ntls = "none"\n'
            f'username = "{box.user}"\npassword_env = "SOAK_IMAP_PASSWORD"\ntimeout = {TIMEOUT}\n'
        )
    config = work / "config.toml"
    config.write_text("\n".join(blocks))
    env = {
        **os.environ, "HYGIENE_CONFIG": str(config), "HYGIENE_NOW": NOW.isoformat(),
        "SOAK_IMAP_PASSWORD": dovecot.password, "XDG_STATE_HOME": str(work / "state"),
        "XDG_DATA_HOME": str(work / "data"), "XDG_CONFIG_HOME": str(work / "config"),
        "PYTHONPATH": str(ROOT / "src"),
    }
    watcher = Watcher(env)
    stored = Stored(db)
    up = threading.Event()
    up.set()
    delivered: dict[str, float] = {}  # Message-ID → when the APPEND returned
    late_ids: set[str] = set()
    events: list[str] = []
    status = 0
    try:
        if not watcher.watching.wait(60):
            raise SystemExit(f"the watcher did not start: {watcher.lines[-5:]}")
        rss_start = rss_mb(watcher.proc.pid)
        started = time.monotonic()
        end = started + args.minutes * 60
        restarts = sorted(started + (end - started) * (k + 1) / (args.restarts + 1) for k in range(args.restarts))
        # the blackhole half-way between the start and the first restart (or at a quarter)
        blackhole_at = started + (end - started) / (2 * (args.restarts + 1))
        blackhole_end = 0.0
        next_cut = started + rng.uniform(120, 300)
        next_mail = started + rng.expovariate(1 / args.mean_gap)
        n = 0
        while time.monotonic() < end:
            now = time.monotonic()
            if watcher.proc.poll() is not None:
                raise SystemExit(f"the watcher died ({watcher.proc.returncode}): {watcher.lines[-10:]}")
            if restarts and now >= restarts[0]:
                restarts.pop(0)
                up.clear()
                dovecot.stop()
                time.sleep(rng.uniform(1, 5))  # down a few seconds, as a package upgrade
                dovecot.start()
                up.set()
                events.append(f"{now - started:7.1f} s  Dovecot restarted")
            elif blackhole_at and now >= blackhole_at:
                blackhole_at = 0
                proxy.blackhole(True)
                blackhole_end = now + INTERVAL + 2 * TIMEOUT  # long enough for the keepalive to fire
                events.append(f"{now - started:7.1f} s  blackhole for {INTERVAL + 2 * TIMEOUT} s")
            elif blackhole_end and now >= blackhole_end:
                blackhole_end = 0
                proxy.blackhole(False)
                cut = proxy.cut_all()  # what hung in the hole is no use to anyone
                events.append(f"{now - started:7.1f} s  blackhole over, {cut} connection(s) in it cut")
            elif now >= next_cut and not blackhole_end:  # a cut would end the blackhole's test early
                cut = proxy.cut_all()
                events.append(f"{now - started:7.1f} s  {cut} connection(s) cut")
                next_cut = now + rng.uniform(120, 300)
            elif now >= next_mail:
                n += 1
                box_no = rng.randrange(len(boxes))
                late = rng.random() < 0.5
                mid = f"soak{n}@amazon"
                message = eml(IMAP_BUYER.replace("@", f"+{n}@"), boxes[box_no].user, f"問い合わせ {n}", mid=mid, hours_ago=30 if late else 1)
                deliver(boxes[box_no], message, up)
                delivered[f"<{mid}>"] = time.monotonic()
                if late:
                    late_ids.add(f"<{mid}>")
                next_mail = time.monotonic() + rng.expovariate(1 / args.mean_gap)
            else:
                time.sleep(min(0.1, max(0.0, min(next_mail, next_cut, end) - now)))
        if blackhole_end:  # a short run ends inside the blackhole: lift it, or nothing gets through
            proxy.blackhole(False)
            proxy.cut_all()
        # every delivery had its chance: a poll round (INTERVAL) plus a reconnect's backoff
        deadline = time.monotonic() + INTERVAL + 60
        while time.monotonic() < deadline and not set(delivered) <= set(stored.first_seen):
            time.sleep(0.2)
        stored.sample()
        rss_end = rss_mb(watcher.proc.pid)
        time.sleep(2)  # the last notifier runs
        watcher.proc.send_signal(signal.SIGTERM)
        t = time.monotonic()
        code = watcher.proc.wait(timeout=30)
        stop_s = time.monotonic() - t
    finally:
        if watcher.proc.poll() is None:
            watcher.proc.kill()
            watcher.proc.wait()
        stored.stop()
        proxy.close()
        dovecot.stop()
    missed = sorted(set(delivered) - set(stored.first_seen))
    latencies = [stored.first_seen[m] - t for m, t in delivered.items() if m in stored.first_seen]
    notices = [json.loads(line) for line in notes.read_text().splitlines()] if notes.exists() else []
    noticed_ids = sorted(f"<soak{n['subject'].split()[-1]}@amazon>" for n in notices)  # subjects: "問い合わせ N"
    expected_ids = sorted(late_ids)
    duplicates = stored.rows - len(stored.first_seen)
    tracebacks = watcher.count("Traceback")
    print(f"soak of hygiene watch: {args.minutes:g} min, {args.accounts} accounts through a fault proxy, seed {args.seed}")
    for line in events:
        print("  " + line)
    print(f"messages delivered      {len(delivered)}")
    print(f"stored                  {len(set(delivered) & set(stored.first_seen))}")
    print(f"missed                  {len(missed)}{'  ' + ' '.join(missed[:10]) if missed else ''}")
    print(f"duplicate rows          {duplicates}")
    print(f"notices expected/got    {len(expected_ids)}/{len(noticed_ids)} (one per late message: {'yes' if noticed_ids == expected_ids else 'NO'})")
    print(f"connections lost        {watcher.count('connection lost')} (log lines)")
    print(f"reconnects              {watcher.count('reconnected after')} (log lines)")
    print(f"failed connects, polls  {sum('acc' in line and ('cannot' in line or 'error' in line.lower()) for _, line in watcher.lines)} (log lines)")
    if latencies:
        print(f"delivery→stored         median {statistics.median(latencies):.2f} s, max {max(latencies):.2f} s, "
              f"p95 {sorted(latencies)[int(0.95 * (len(latencies) - 1))]:.2f} s")
    print(f"watcher RSS             {rss_start:.1f} MB at start, {rss_end:.1f} MB at end")
    print(f"SIGTERM                 exit {code} in {stop_s:.2f} s; tracebacks in log: {tracebacks}")
    if args.log:
        args.log.write_text("\n".join(f"{t - started:8.1f} {line}" for t, line in watcher.lines) + "\n")
    if missed or duplicates or noticed_ids != expected_ids or code != 0 or tracebacks:
        status = 1
        log = work / "watch.log"
        log.write_text("\n".join(f"{t:.1f} {line}" for t, line in watcher.lines))
        print(f"FAILED; the watcher's log: {log}")
    else:
        shutil.rmtree(work, ignore_errors=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
