"""Speed of ``hygiene tone`` (issue 3, item 5), measured in one run so the ratios hold on a
shared machine:

  cli       wall time of ``hygiene tone FILE`` on a 2,000-character Japanese draft, interpreter
            start included (median of 15 runs); target < 150 ms
  python    a bare ``python -c pass`` start, for comparison
  in-proc   drafts per second through check_tone over 2,000 mixed drafts; target >= 500/s
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from hygiene.tone import check_tone  # noqa: E402

DRAFT_JA = (
    "いつもお世話になっております。さくら雑貨店の山田と申します。\n"
    "注文番号503-1234567-1234567の件につきまして、ご連絡ありがとうございます。\n"
    "なぜこのような対応になったのですか？？ 何度もお願いしているのに、納得できません！！\n"
    "お手数をおかけしますが、配送状況をご確認いただけますでしょうか。\n"
)
DRAFT_EN = (
    "Hello, this is Taro from Sakura Goods. Thank you for your message about order 111-1234567-1234567. "
    "This is the third time I have asked, and it is UNACCEPTABLE!!! Could you please check it? Kind regards.\n"
)


def timed(command: list[str], runs: int = 15) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> int:
    text = (DRAFT_JA * 20)[:2000]
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False, encoding="utf-8") as f:
        f.write(text)
    script = Path(sys.executable).with_name("hygiene")
    command = [str(script), "tone", f.name] if script.exists() else [sys.executable, "-m", "hygiene", "tone", f.name]
    timed(command, 2)  # warm the file cache
    cli = timed(command)
    bare = timed([sys.executable, "-c", "pass"])
    drafts = [(DRAFT_JA * (1 + i % 3)) if i % 2 else (DRAFT_EN * (1 + i % 4)) for i in range(2000)]
    started = time.perf_counter()
    for draft in drafts:
        check_tone(draft)
    rate = len(drafts) / (time.perf_counter() - started)
    print(f"hygiene tone on a 2,000-character draft  {cli * 1000:6.0f} ms  {'PASS' if cli < 0.150 else 'FAIL'} (< 150 ms)")
    print(f"bare python start                        {bare * 1000:6.0f} ms")
    print(f"in-process check_tone                    {rate:6.0f} drafts/s  {'PASS' if rate >= 500 else 'FAIL'} (>= 500/s)")
    Path(f.name).unlink()
    return 0 if cli < 0.150 and rate >= 500 else 1


if __name__ == "__main__":
    raise SystemExit(main())
