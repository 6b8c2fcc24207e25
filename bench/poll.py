"""Benchmark of ``hygiene poll`` against a real Dovecot (issue 2, item 10).

Builds a synthetic seller mailbox (default 10,000 messages in INBOX and 2,000 replies in
Sent: Japanese and English, ISO-2022-JP and UTF-8 base64, some HTML-only, a fifth of it not
from Amazon) in a throwaway Dovecot, then measures in one run:

  raw     a bare IMAPClient BODY.PEEK[] fetch of every message (the practical limit)
  first   the first poll into an empty SQLite database (sync + reply matching)
  no-op   a second poll with nothing new
  memory  peak RSS of the process that ran the first poll

Targets (2-core machine): first <= 3x raw; no-op <= 0.5x raw and < 0.5 s; peak < 200 MB.
Run as root (Dovecot's login processes need their own users): ``python bench/poll.py``.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
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


def inbox_messages(n: int, seed: int = 7) -> Iterator[bytes]:
    rng = random.Random(seed)
    for i in range(n):
        ja = i % 2 == 0
        sender = sender_of(i)
        subject = rng.choice(SUBJECTS_JA if ja else SUBJECTS_EN)
        body = (BODY_JA if ja else BODY_EN).format(order=_order(rng))
        date = format_datetime(NOW - timedelta(minutes=5 * (n - i)))
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


def raw_fetch(host: str, port: int, user: str, password: str, batch: int) -> tuple[float, int]:
    """Every message of INBOX and Sent with BODY.PEEK[], batched like the poller."""
    from imapclient import IMAPClient

    started = time.perf_counter()
    total = 0
    with IMAPClient(host, port=port, ssl=False) as client:
        client.login(user, password)
        for folder in ("INBOX", "Sent"):
            client.select_folder(folder, readonly=True)
            uids = client.search("ALL")
            for k in range(0, len(uids), batch):
                for data in client.fetch(uids[k : k + batch], ["BODY.PEEK[]"]).values():
                    total += len(data[b"BODY[]"])
    return time.perf_counter() - started, total


def _pss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


class MemorySampler:
    """Peak proportional set size (PSS) of this process plus its parse workers, sampled every
    100 ms. PSS splits pages the forked workers share with the parent instead of counting
    them once per process as RSS does."""

    def __init__(self) -> None:
        import threading

        self.peak_kb = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        me = os.getpid()
        while not self._stop.wait(0.1):
            total = _pss_kb(me) + sum(_pss_kb(c) for c in _children(me))
            self.peak_kb = max(self.peak_kb, total)

    def stop(self) -> int:
        self._stop.set()
        self._thread.join()
        return self.peak_kb


def child_poll(config_path: str) -> None:
    """Run one poll in this process and print its figures (the parent reads peak memory)."""
    from hygiene.config import load_config
    from hygiene.mail.imap import poll_account
    from hygiene.store.db import open_database

    config = load_config(Path(config_path), required=True)
    engine = open_database(config.database.url)
    sampler = MemorySampler()
    started = time.perf_counter()
    profile_to = os.environ.get("HYGIENE_BENCH_PROFILE")
    if profile_to and not os.path.exists(profile_to):  # the first poll: python -m pstats FILE
        import cProfile

        profiler = cProfile.Profile()
        result = profiler.runcall(poll_account, engine, config, config.accounts[0], now=NOW)
        profiler.dump_stats(profile_to)
    else:
        result = poll_account(engine, config, config.accounts[0], now=NOW)
    sync_seconds = time.perf_counter() - started
    from hygiene.mail.imap import _match

    result.replies_found = _match(engine, config, config.accounts[0].name, [])
    seconds = time.perf_counter() - started
    pss_kb = sampler.stop()
    rss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    worker_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print(json.dumps({"seconds": seconds, "sync_seconds": sync_seconds, "peak_mb": pss_kb / 1024,
                      "parent_mb": rss_kb / 1024, "worker_mb": worker_kb / 1024, "summary": result.summary(), "replies": result.replies_found}))


def run_child(config_path: Path) -> dict[str, float | str]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", str(config_path)], check=True, capture_output=True, text=True
    )
    data: dict[str, float | str] = json.loads(out.stdout.strip().splitlines()[-1])
    return data


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=10_000, help="messages in INBOX (default 10000)")
    parser.add_argument("--sent", type=int, default=2_000, help="replies in Sent (default 2000)")
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child_poll(args.child)
        return 0

    from tests.dovecot import start_dovecot, unavailable_reason

    reason = unavailable_reason()
    if reason:
        print(f"bench/poll.py: {reason}", file=sys.stderr)
        return 1
    work = Path(tempfile.mkdtemp(prefix="hygiene-bench-poll-"))
    server = start_dovecot(work / "dovecot")
    try:
        t0 = time.perf_counter()
        server.write_maildir("INBOX", inbox_messages(args.messages))
        server.write_maildir("Sent", sent_messages(args.messages, args.sent))
        raw_fetch(server.host, server.port, server.user, server.password, args.batch)  # Dovecot indexes once
        print(f"mailbox: {args.messages} in INBOX + {args.sent} in Sent, built and indexed in {time.perf_counter() - t0:.1f} s")

        raw_s, raw_bytes = raw_fetch(server.host, server.port, server.user, server.password, args.batch)
        config = work / "config.toml"
        config.write_text(
            f'[database]\nurl = "sqlite:///{work / "bench.db"}"\n\n[poll]\nbatch_size = {args.batch}\n\n'
            f'[[accounts]]\nname = "bench"\nhost = "127.0.0.1"\nport = {server.port}\ntls = "none"\n'
            f'username = "{server.user}"\npassword_command = "echo {server.password}"\n'
        )
        first = run_child(config)
        noop = run_child(config)
        first_s, noop_s, peak = float(first["sync_seconds"]), float(noop["seconds"]), float(first["peak_mb"])
        rows = [
            ("raw BODY.PEEK[] fetch", f"{raw_s:.2f} s", f"{raw_bytes / 1e6:.1f} MB", ""),
            ("first poll", f"{first_s:.2f} s", f"{first_s / raw_s:.2f}x raw", "PASS" if first_s <= 3 * raw_s else "FAIL (<= 3x)"),
            ("no-op poll", f"{noop_s:.3f} s", f"{noop_s / raw_s:.2f}x raw", "PASS" if noop_s <= 0.5 * raw_s and noop_s < 0.5 else "FAIL (<= 0.5x, < 0.5 s)"),
            ("peak memory (first poll)", f"{peak:.0f} MB", "PSS, with workers", "PASS" if peak < 200 else "FAIL (< 200 MB)"),
        ]
        print(
            f"memory: main process peak RSS {float(first['parent_mb']):.0f} MB, largest parse worker RSS "
            f"{float(first['worker_mb']):.0f} MB (mostly pages shared with the main process)"
        )
        print(
            f"first poll: {first['summary']}, {first['replies']} replies matched; "
            f"then the first reply matching (paid once, by the first check) "
            f"{float(first['seconds']) - first_s:.2f} s"
        )
        for name, a, b, verdict in rows:
            print(f"{name:<26} {a:>10}  {b:>12}  {verdict}")
        return 0 if all(not r[3].startswith("FAIL") for r in rows) else 1
    finally:
        server.stop()


if __name__ == "__main__":
    raise SystemExit(main())
