"""Benchmark at agency size (issue 13, item 5): many accounts, a big database.

Part 1 (root: starts a Dovecot; ``--accounts`` × ``--per-account`` messages): the first poll
and the no-op poll of every account, serial against ``--parallel 4``, whole process, on SQLite
and (when Debian's PostgreSQL is installed) on PostgreSQL; peak memory of the process tree.
Part 2: a generated database of ``--messages`` messages (bench/check.py's history):
``check --no-poll``, ``report``, ``dashboard`` and ``messages --since 7d``, whole process,
median of 3, on SQLite and PostgreSQL.

Targets: parallel first poll of 20 accounts >= 1.6x faster than serial on this 2-core
machine; ``check --no-poll`` < 1 s at 1,000,000 messages on both databases.

    python bench/scale.py [--accounts 20] [--per-account 5000] [--messages 1000000] [--skip-poll] [--skip-db]
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _bench(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"bench_{name}", Path(__file__).with_name(f"{name}.py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def timed(args: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall seconds and the peak RSS (MB) of the biggest child, of one whole-process run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "hygiene", *args], env=env, capture_output=True)
    seconds = time.perf_counter() - started
    if done.returncode not in (0, 3, 4):
        raise SystemExit(f"hygiene {' '.join(args)} failed: {done.stderr.decode()[-500:]}")
    return seconds, max(before, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) / 1024


def median3(args: list[str], env: dict[str, str]) -> float:
    return statistics.median(timed(args, env)[0] for _ in range(3))


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
            for mode in ("serial", "parallel 4"):
                db_url = url or f"sqlite:///{work / f'{mode[:3]}.db'}"
                if backend == "postgresql":  # a fresh database for each mode
                    from tests.servers import create_pg_database

                    db_url = create_pg_database(pg[0].url_prefix)  # type: ignore[index, union-attr]
                config = work / f"{backend}-{mode[:3]}.toml"
                config.write_text(f'[database]\nurl = "{db_url}"\n' + "".join(
                    f'[[accounts]]\nname = "a{n}"\nhost = "127.0.0.1"\nport = {server.port}\ntls = "none"\n'
                    f'username = "{box.user}"\npassword_command = "echo {server.password}"\n' for n, box in enumerate(boxes)
                ))
                env = {**os.environ, "HYGIENE_CONFIG": str(config), "XDG_STATE_HOME": str(work / "state")}
                extra = [] if mode == "serial" else ["--parallel", "4"]
                first, peak = timed(["poll", *extra], env)
                noop, _ = timed(["poll", *extra], env)
                results[mode] = first
                print(f"{backend:10} {mode:10}  first poll {first:6.1f} s   no-op {noop:5.2f} s   peak {peak:5.0f} MB (largest process)")
            ratio = results["serial"] / results["parallel 4"]
            print(f"{backend:10} parallel 4 is {ratio:.2f}x faster than serial (target 1.6x): {'PASS' if ratio >= 1.6 else 'FAIL'}")
    finally:
        server.stop()
        if pg:
            pg[0].stop()  # type: ignore[attr-defined]


def db_part(args: argparse.Namespace, work: Path) -> None:
    check = _bench("check")
    pg = postgres(work)
    urls = {"sqlite": f"sqlite:///{work / 'big.db'}", "postgresql": pg[1] if pg else None}
    try:
        for backend, url in urls.items():
            if url is None:
                print("postgresql: not installed here, skipped")
                continue
            t0 = time.perf_counter()
            check.fill(url, args.messages)
            filled = time.perf_counter() - t0
            from hygiene.config import default_config
            from hygiene.store.db import open_database
            from hygiene.threads import match_replies

            engine = open_database(url)
            t0 = time.perf_counter()
            with engine.begin() as conn:
                stats = match_replies(conn)
            matched = time.perf_counter() - t0
            engine.dispose()
            print(
                f"{backend}: {args.messages:,} messages filled in {filled:.0f} s; first reply matching (in-process) "
                f"{matched:.1f} s: keyed {stats.keyed:,}, {stats.replied:,} replies",
                flush=True,
            )
            config = work / f"{backend}-big.toml"
            config.write_text(f'timezone = "Asia/Tokyo"\n[database]\nurl = "{url}"\n')
            env = {**os.environ, "HYGIENE_CONFIG": str(config), "HYGIENE_NOW": check.NOW.isoformat(), "XDG_STATE_HOME": str(work / "state")}
            for label, cmd in (
                ("check --no-poll", ["check", "--no-poll"]),
                ("report --format json", ["report", "--format", "json"]),
                ("dashboard", ["dashboard"]),
                ("messages --since 7d", ["messages", "--since", "7 days ago"]),
            ):
                seconds = median3(cmd, env)
                verdict = ("PASS" if seconds < 1 else "FAIL") if label == "check --no-poll" else ""
                print(f"{backend:10} {label:22} {seconds:6.2f} s (median of 3, whole process) {verdict}")
            del default_config
    finally:
        if pg:
            pg[0].stop()  # type: ignore[attr-defined]


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--accounts", type=int, default=20)
    parser.add_argument("--per-account", type=int, default=5000)
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--skip-poll", action="store_true")
    parser.add_argument("--skip-db", action="store_true")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="hygiene-bench-scale-"))
    if not args.skip_poll:
        poll_part(args, work)
    if not args.skip_db:
        db_part(args, work)
    print(f"(work files in {work})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
