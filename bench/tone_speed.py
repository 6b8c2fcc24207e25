"""Speed of ``hygiene tone`` (issue 3, item 5), measured in one run so the ratios hold on a
shared machine:

  cli       wall time of ``hygiene tone FILE`` on a 2,000-character Japanese draft and on an
            English one (the learned layer's weights read too), interpreter start included
            (median of 15 runs); target <= 120 ms (issue 12)
  python    a bare ``python -c pass`` start, for comparison
  in-proc   drafts per second through check_tone over 2,000 mixed drafts; target >= 1,000/s
            (and, for text that does not repeat, over the project's 676 dev and appeal texts)
  hostile   (issue 7) 100 kB, 500 kB and 1 MB drafts (UTF-8) full of findings, English and
            Japanese: check_tone as shipped (the first 100,000 characters checked) and on the
            whole text, to show the work grows linearly; targets: 1 MB under 1 s as shipped,
            1 MB whole within 15x the 100 kB time (linear: 10x)
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
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
#: dense with findings: insults, threats, demands, accusing questions, shouting
HOSTILE_EN = "You idiots!!! This is UNACCEPTABLE. Why did you cancel my order? Fix this now or I will sue you. "
HOSTILE_JA = "ふざけるな！！なぜ返金しないのですか？？バカか。すぐに返金しろ。訴えるぞ。\n"
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


def hostile(unit: str, size: int) -> str:
    """``unit`` repeated to ``size`` bytes of UTF-8."""
    per = len(unit.encode("utf-8")) / len(unit)
    count = int(size / per)
    return (unit * (count // len(unit) + 1))[:count]


def best(run: Callable[[], object], times: int = 3) -> float:
    elapsed = []
    for _ in range(times):
        started = time.perf_counter()
        run()
        elapsed.append(time.perf_counter() - started)
    return min(elapsed)


def hostile_figures() -> bool:
    """Print the hostile-draft table; whether the targets hold."""
    ok = True
    print("hostile drafts          capped (as shipped)   whole text   findings (whole)")
    for name, unit in (("en", HOSTILE_EN), ("ja", HOSTILE_JA)):
        whole_times = []
        for size in (100_000, 500_000, 1_000_000):
            text = hostile(unit, size)
            capped = best(lambda text=text: check_tone(text))
            whole = best(lambda text=text: check_tone(text, max_chars=None), 1 if size > 100_000 else 3)
            whole_times.append(whole)
            findings = len(check_tone(text, max_chars=None).findings)
            print(f"  {name} {size // 1000:>5} kB          {capped:6.2f} s            {whole:6.2f} s    {findings:7,}")
            ok &= capped < 1.0
        growth = whole_times[-1] / whole_times[0]
        print(f"  {name} whole text 1 MB / 100 kB: {growth:.1f}x  {'PASS' if growth < 15 else 'FAIL'} (linear: 10x)")
        ok &= growth < 15
    return ok


def main() -> int:
    text = (DRAFT_JA * 20)[:2000]
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False, encoding="utf-8") as f:
        f.write(text)
    script = Path(sys.executable).with_name("hygiene")
    command = [str(script), "tone", f.name] if script.exists() else [sys.executable, "-m", "hygiene", "tone", f.name]
    timed(command, 2)  # warm the file cache
    cli_ja = timed(command)
    with open(f.name, "w", encoding="utf-8") as handle:
        handle.write((DRAFT_EN * 20)[:2000])
    timed(command, 2)
    cli = timed(command)
    bare = timed([sys.executable, "-c", "pass"])
    drafts = [(DRAFT_JA * (1 + i % 3)) if i % 2 else (DRAFT_EN * (1 + i % 4)) for i in range(2000)]
    started = time.perf_counter()
    for draft in drafts:
        check_tone(draft)
    rate = len(drafts) / (time.perf_counter() - started)
    dev = [json.loads(line)["text"] for name in ("dev-en.jsonl", "dev-ja.jsonl", "appeals.jsonl")
           for line in (ROOT / "tests" / "data" / "tone" / name).read_text(encoding="utf-8").splitlines() if line.strip()]
    dev_rate = len(dev) / best(lambda: [check_tone(text) for text in dev])
    cli_ok = max(cli, cli_ja) <= 0.120
    print(f"hygiene tone on a 2,000-character draft  ja {cli_ja * 1000:4.0f} ms, en {cli * 1000:4.0f} ms  {'PASS' if cli_ok else 'FAIL'} (<= 120 ms)")
    print(f"bare python start                        {bare * 1000:6.0f} ms")
    print(f"in-process check_tone                    {rate:6.0f} drafts/s  {'PASS' if rate >= 1000 else 'FAIL'} (>= 1,000/s)")
    average = sum(map(len, dev)) / len(dev)
    print(f"  on the {len(dev)} dev and appeal texts         {dev_rate:6.0f} texts/s (all different; {average:.0f} characters on average)")
    Path(f.name).unlink()
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False, encoding="utf-8") as f:
        f.write(hostile(HOSTILE_JA, 1_000_000))
    command[-1] = f.name
    wall = timed(command, 3)
    print(f"hygiene tone on a 1 MB hostile draft      {wall * 1000:6.0f} ms  {'PASS' if wall < 1.0 else 'FAIL'} (< 1 s)")
    Path(f.name).unlink()
    hostile_ok = hostile_figures()
    return 0 if cli_ok and rate >= 1000 and wall < 1.0 and hostile_ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
