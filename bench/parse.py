"""Cost of decoding a message (issue 2, item 5): parse_message and parse_headers against the
stdlib's bare compat32 parse of the same bytes, on 10,000 Amazon-like messages (ISO-2022-JP,
UTF-8 base64, quoted-printable, HTML-only), in one run. Target: parse_message under 0.5 ms.

    python bench/parse.py [--messages N]
"""

from __future__ import annotations

import argparse
import email
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))

from bench.poll import inbox_messages  # noqa: E402
from hygiene.mail.parse import parse_headers, parse_message  # noqa: E402


def per_message(function: object, messages: list[bytes]) -> float:
    started = time.perf_counter()
    for raw in messages:
        function(raw)  # type: ignore[operator]
    return (time.perf_counter() - started) / len(messages) * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=10_000)
    args = parser.parse_args()
    messages = list(inbox_messages(args.messages))
    baseline = per_message(email.message_from_bytes, messages)
    full = per_message(parse_message, messages)
    headers = per_message(parse_headers, messages)
    notes = sum(1 for raw in messages if parse_message(raw).parse_notes)
    print(f"messages                      {len(messages)} ({sum(len(m) for m in messages) / 1e6:.1f} MB), {notes} with parse notes")
    print(f"email.message_from_bytes      {baseline:.3f} ms/message (compat32, no decoding)")
    print(f"parse_message                 {full:.3f} ms/message ({full / baseline:.1f}x)  {'PASS' if full < 0.5 else 'FAIL'} (< 0.5 ms)")
    print(f"parse_headers                 {headers:.3f} ms/message")
    return 0 if full < 0.5 else 1


if __name__ == "__main__":
    raise SystemExit(main())
