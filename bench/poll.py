"""Benchmark of ``hygiene poll`` against a real Dovecot, whole processes, as a user sees it
(issue 8, "Speed").

Builds a synthetic seller mailbox (default 10,000 messages in INBOX and 2,000 replies in
Sent: Japanese and English, ISO-2022-JP and UTF-8 base64, some HTML-only, a fifth of it not
from Amazon) in a throwaway Dovecot, then measures, every figure a whole process (interpreter
start and imports included) beside a bare IMAPClient doing the least the same job needs:

  first   the first sync into an empty SQLite database (``poll_account``, no reply matching)
          against a raw BODY.PEEK[] fetch of every message: wall, CPU (user + system of the
          process and its parse workers) and peak memory (PSS of the process tree)
  no-op   ``hygiene poll`` with nothing new (median of --repeat) against a raw
          connect-login-EXAMINE-logout
  100 new 100 new messages arrive, against a raw fetch of those 100: the sync alone
          (``poll_account`` without reply matching), then another 100 by ``hygiene poll``

Targets (issue 8): no-op <= 0.25 s; 100 new <= 2x raw; first <= 2.5x raw, CPU <= 3x raw's,
peak memory flat from 10k to 50k (run twice: ``--messages 50000 --sent 10000``).
``--baseline SRC`` runs the same commands with another checkout's ``src`` first on
PYTHONPATH (the code before a change), in the same run, alternated.
Run as root (Dovecot's login processes need their own users): ``python bench/poll.py``.
"""

from __future__ import annotations

import argparse
import base64
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.header import Header
from email.utils import format_datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

NOW = datetime(2026, 11, 20, 0, 0, tzinfo=UTC)
SHOP = "seller@example.jp"

SUBJECTS_JA = ["商品が届きません", "返品について", "【重要】アカウント健全性について", "出品制限のお知らせ", "ご注文の商品について"]
SUBJECTS_EN = ["Where is my order?", "Return request", "Action required: policy warning", "Your case has been updated", "Question about item"]
BODY_JA = "いつもお世話になっております。\n注文番号 {order} の件でご連絡いたしました。\n72時間以内にご返信ください。\n" * 6
BODY_EN = "Hello,\nI am writing about order {order}. Please reply within 72 hours.\nThank you.\n" * 6


def _order(rng: random.Random) -> str:
    return f"503-{rng.randrange(10**7):07d}-{rng.randrange(10**7):07d}"


def sender_of(i: int) -> str:
    """The sender of inbox message ``i`` (a reply goes back to it: the counterpart)."""
    ja = i % 2 == 0
    kind = i % 10
    if kind < 2:
        return f"news{i % 13}@shop-{i % 7}.example.com"  # not Amazon: headers only
    if kind < 6:
        return f"buyer{i:05d}@marketplace.amazon.{'co.jp' if ja else 'com'}"
    if kind < 8:
        return "seller-performance@amazon.co.jp" if ja else "seller-performance@amazon.com"
    return "no-reply@amazon.co.jp" if ja else "donotreply@amazon.com"


def inbox_messages(n: int, seed: int = 7, start: int = 0) -> Iterator[bytes]:
    rng = random.Random(seed)
    for i in range(start, start + n):
        ja = i % 2 == 0
        sender = sender_of(i)
        subject = rng.choice(SUBJECTS_JA if ja else SUBJECTS_EN)
        body = (BODY_JA if ja else BODY_EN).format(order=_order(rng))
        date = format_datetime(NOW - timedelta(minutes=5 * (start + n - i)))
        head = f"From: {sender}\r\nTo: {SHOP}\r\nDate: {date}\r\nMessage-ID: <m{i}@bench.amazon>\r\nMIME-Version: 1.0\r\n"
        if ja and i % 4 == 0:
            yield (
                head.encode()
                + f"Subject: {Header(subject, 'iso-2022-jp').encode()}\r\n".encode()
                + b"Content-Type: text/plain; charset=ISO-2022-JP\r\nContent-Transfer-Encoding: 7bit\r\n\r\n"
                + body.replace("\n", "\r\n").encode("iso-2022-jp")
            )
        elif i % 9 == 0:
            html = "<html><body>" + "".join(f"<p>{line}</p>" for line in body.splitlines()) + "</body></html>"
            yield (
                head
                + f"Subject: {Header(subject, 'utf-8').encode()}\r\n"
                + "Content-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n"
                + base64.encodebytes(html.encode()).decode().replace("\n", "\r\n")
            ).encode()
        else:
            yield (
                head
                + f"Subject: {Header(subject, 'utf-8').encode()}\r\n"
                + "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n"
                + base64.encodebytes(body.encode()).decode().replace("\n", "\r\n")
            ).encode()


def sent_messages(n_inbox: int, n: int) -> Iterator[bytes]:
    step = max(1, n_inbox // n)
    for j, i in enumerate(range(2, n_inbox, step)):
        if j >= n:
            break
        to = sender_of(i)  # replies go to whoever wrote: mail to someone else answers nothing
        date = format_datetime(NOW - timedelta(minutes=5 * (n_inbox - i) - 90))
        yield (
            f"From: {SHOP}\r\nTo: {to}\r\nDate: {date}\r\nMessage-ID: <s{j}@bench.shop>\r\n"
            f"In-Reply-To: <m{i}@bench.amazon>\r\nSubject: {Header('Re: 商品が届きません', 'utf-8').encode()}\r\n"
            "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n"
            + base64.encodebytes("ご連絡ありがとうございます。確認いたします。\n".encode()).decode().replace("\n", "\r\n")
        ).encode()


RAW_CHILD = r"""
import sys
from imapclient import IMAPClient

mode, host, port, user, password, batch, since = sys.argv[1:8]
batch, since = int(batch), int(since)
client = IMAPClient(host, port=int(port), ssl=False)
client.login(user, password)
for folder in ("INBOX", "Sent"):
    info = client.select_folder(folder, readonly=True)
    if mode == "check":
        continue
    if mode == "new" and folder != "INBOX":
        continue
    uids = [u for u in client.search(["UID", f"{since + 1}:*"]) if u > since]
    for k in range(0, len(uids), batch):
        for data in client.fetch(uids[k : k + batch], ["BODY.PEEK[]", "FLAGS", "INTERNALDATE"]).values():
            assert data[b"BODY[]"]
client.logout()
"""

SYNC_CHILD = r"""
import sys
from datetime import datetime
from pathlib import Path
from hygiene.config import load_config
from hygiene.mail.imap import poll_account
from hygiene.store.db import open_database

config = load_config(Path(sys.argv[1]), required=True)
engine = open_database(config.database.url)
poll_account(engine, config, config.accounts[0], now=datetime.fromisoformat(sys.argv[2]))
"""


def _pss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _tree(pid: int) -> list[int]:
    found = [pid]
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            for child in (task / "children").read_text().split():
                found += _tree(int(child))
        except OSError:
            continue
    return found


@dataclass
class Run:
    wall: float
    cpu: float
    peak_mb: float


def run(argv: list[str], env: dict[str, str], *, sample: bool = False) -> Run:
    """One whole process: wall time, CPU (its own and its reaped children's), and, with
    ``sample``, the peak PSS of its process tree sampled every 50 ms."""
    started = time.perf_counter()
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak = 0
    while True:  # os.wait4, not proc.poll: it also gives the child's resource usage
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG if sample else 0)
        if pid:
            break
        peak = max(peak, sum(_pss_kb(p) for p in _tree(proc.pid)))
        time.sleep(0.05)
    wall = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    if proc.returncode not in (0,):
        raise SystemExit(f"{' '.join(argv[:4])}… exited {proc.returncode}: {err[-2000:]}")
    return Run(wall, usage.ru_utime + usage.ru_stime, peak / 1024)


def median(runs: list[Run]) -> Run:
    ordered = sorted(runs, key=lambda r: r.wall)
    return ordered[len(ordered) // 2]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=10_000, help="messages in INBOX (default 10000)")
    parser.add_argument("--sent", type=int, default=2_000, help="replies in Sent (default 2000)")
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=5, help="runs of each no-op measurement (median)")
    parser.add_argument("--baseline", type=Path, help="another checkout's src directory, measured in the same run")
    args = parser.parse_args()

    from tests.dovecot import start_dovecot, unavailable_reason

    reason = unavailable_reason()
    if reason:
        print(f"bench/poll.py: {reason}", file=sys.stderr)
        return 1
    work = Path(tempfile.mkdtemp(prefix="hygiene-bench-poll-"))
    server = start_dovecot(work / "dovecot")
    versions = {"new": str(ROOT / "src")}
    if args.baseline:
        versions = {"before": str(args.baseline.resolve()), **versions}
    py = sys.executable
    base_env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "HYGIENE_CONFIG")}
    base_env["HYGIENE_NOW"] = NOW.isoformat()
    raw_args = [server.host, str(server.port), server.user, server.password, str(args.batch)]
    try:
        t0 = time.perf_counter()
        server.write_maildir("INBOX", inbox_messages(args.messages))
        server.write_maildir("Sent", sent_messages(args.messages, args.sent))
        run([py, "-c", RAW_CHILD, "all", *raw_args, "0"], base_env)  # Dovecot indexes once
        print(f"mailbox: {args.messages} in INBOX + {args.sent} in Sent, built and indexed in {time.perf_counter() - t0:.1f} s; "
              f"load average {os.getloadavg()[0]:.1f}")

        envs: dict[str, dict[str, str]] = {}
        for name, src in versions.items():
            config = work / f"config-{name}.toml"
            config.write_text(
                f'[database]\nurl = "sqlite:///{work / f"bench-{name}.db"}"\n\n[poll]\nbatch_size = {args.batch}\n\n'
                f'[[accounts]]\nname = "bench"\nhost = "127.0.0.1"\nport = {server.port}\ntls = "none"\n'
                f'username = "{server.user}"\npassword_command = "echo {server.password}"\n'
            )
            envs[name] = {**base_env, "PYTHONPATH": src, "HYGIENE_CONFIG": str(config)}

        rows: list[tuple[str, str, str, str]] = []
        raw_first = run([py, "-c", RAW_CHILD, "all", *raw_args, "0"], base_env, sample=True)
        firsts: dict[str, Run] = {}
        for name, env in envs.items():
            firsts[name] = run([py, "-c", SYNC_CHILD, env["HYGIENE_CONFIG"], NOW.isoformat()], env, sample=True)
        raw_again = run([py, "-c", RAW_CHILD, "all", *raw_args, "0"], base_env, sample=True)
        raw = raw_first if raw_first.wall <= raw_again.wall else raw_again
        rows.append(("raw fetch, all", f"{raw.wall:.2f} s", f"cpu {raw.cpu:.2f} s", f"{raw.peak_mb:.0f} MB"))
        for name, r in firsts.items():
            rows.append((f"first sync ({name})", f"{r.wall:.2f} s = {r.wall / raw.wall:.2f}x",
                         f"cpu {r.cpu:.2f} s = {r.cpu / raw.cpu:.2f}x", f"{r.peak_mb:.0f} MB"))
        for env in envs.values():
            run([py, "-m", "hygiene", "poll"], env)  # the first reply matching: paid once, not measured

        noop: dict[str, list[Run]] = {name: [] for name in envs}
        raw_check: list[Run] = []
        for _ in range(args.repeat):  # alternated: a noisy moment hits every version alike
            raw_check.append(run([py, "-c", RAW_CHILD, "check", *raw_args, "0"], base_env))
            for name, env in envs.items():
                noop[name].append(run([py, "-m", "hygiene", "poll"], env))
        rc = median(raw_check)
        rows.append(("raw connect + EXAMINE", f"{rc.wall:.3f} s", f"cpu {rc.cpu:.3f} s", ""))
        for name, runs in noop.items():
            r = median(runs)
            rows.append((f"no-op poll ({name})", f"{r.wall:.3f} s", f"cpu {r.cpu:.3f} s", f"{r.wall / rc.wall:.2f}x raw check"))

        # 100 new messages, twice: the sync alone (no reply matching), then ``hygiene poll``
        # as a user runs it (the sync, then reply matching of what came in).
        for label, start in (("sync only", args.messages), ("hygiene poll", args.messages + 100)):
            server.write_maildir("INBOX", inbox_messages(100, seed=11 + start, start=start))
            raw_new = median([run([py, "-c", RAW_CHILD, "new", *raw_args, str(start)], base_env) for _ in range(3)])
            rows.append(("raw fetch, 100 new", f"{raw_new.wall:.3f} s", f"cpu {raw_new.cpu:.3f} s", ""))
            for name, env in envs.items():
                argv = [py, "-c", SYNC_CHILD, env["HYGIENE_CONFIG"], NOW.isoformat()] if label == "sync only" else [py, "-m", "hygiene", "poll"]
                r = run(argv, env)
                rows.append((f"100 new, {label} ({name})", f"{r.wall:.3f} s = {r.wall / raw_new.wall:.2f}x", f"cpu {r.cpu:.3f} s", ""))
        for row in rows:
            print(f"{row[0]:<32} {row[1]:>18}  {row[2]:>18}  {row[3]}")
        return 0
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)  # a 50k mailbox is 60,000 files


if __name__ == "__main__":
    raise SystemExit(main())
