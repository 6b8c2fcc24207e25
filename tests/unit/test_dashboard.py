"""``hygiene dashboard`` against the history counted by hand in ``test_report.py``: the
headline figures exactly as ``report`` computes them, at 80×24 and 200×50; no escape code with
NO_COLOR or a pipe (and colour on a real terminal); an empty database; ``--watch`` and Ctrl-C;
the demo in a clean environment; one render in a real terminal (tmux)."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from hygiene.cli import cli
from hygiene.clock import zone
from hygiene.config import load_config
from hygiene.figures import Figures
from hygiene.views.dashboard import cells, render_dashboard
from hygiene.views.report import report_dict
from tests.builders import NOW_ISO, figures_of, load_history
from tests.conftest import missing_server
from tests.terminal import run_on_pty

ROOT = Path(__file__).parents[2]
TOKYO = zone("Asia/Tokyo")
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


@pytest.fixture
def config_path(tmp_path: Path) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(f'timezone = "Asia/Tokyo"\n[database]\nurl = "sqlite:///{tmp_path / "dash.db"}"\n')
    return path


@pytest.fixture
def loaded(tmp_path: Path, config_path: Path) -> tuple[Figures, dict[str, int]]:
    engine, ids = load_history(tmp_path, load_config(config_path).database.url)
    return figures_of(engine), ids


def run(config_path: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--config", str(config_path), "dashboard", "--now", NOW_ISO, *args])


def headline_figures(figures: Figures) -> list[str]:
    """What the headline must show, taken from report's JSON (and checked against the hand
    count of test_report.py)."""
    data = report_dict(figures)
    buyer = {w["days"]: w["late_response_rate"] for w in data["windows"] if w["category"] == "buyer"}
    assert buyer == {7: 0.667, 30: 0.5, 90: 0.6}
    overall = {w["days"]: w for w in data["windows"] if w["category"] == "all"}
    assert overall[90]["avg_response_hours"] == 17.0
    counts = data["counts"]
    assert (counts["awaiting"], counts["late"], counts["critical"]) == (4, 0, 3)
    score = data["score"]["overall"]
    assert isinstance(score, int)
    rates = " · ".join(f"{d} d {buyer[d] * 100:.1f}%" for d in (7, 30, 90))
    return [
        f"Score {score}/100",
        f"Late Response Rate (buyers) {rates}",  # 7 d 66.7% · 30 d 50.0% · 90 d 60.0%
        f"avg response {overall[90]['avg_response_hours']:.1f} h (90 d)",
        f"now {counts['awaiting']} awaiting · {counts['late']} late · {counts['critical']} critical",
    ]


@pytest.mark.parametrize(("width", "height"), [(80, 24), (200, 50), (100, 48)])
@pytest.mark.parametrize("color", [False, True])
def test_dashboard_shows_the_report_figures_at_every_size(loaded: tuple[Figures, dict[str, int]], width: int, height: int, color: bool) -> None:
    figures, ids = loaded
    out = render_dashboard(figures, TOKYO, width, height, color)
    assert ("\x1b" in out) == color
    plain = ANSI.sub("", out)
    assert "\x1b" not in plain
    lines = plain.split("\n")
    assert len(lines) <= height - 1  # the last line stays for the prompt
    assert max(cells(line) for line in lines) <= width, max(lines, key=cells)
    assert lines[0] == "hygiene dashboard · 2026-11-20 09:00 JST · last 90 d"  # the configured zone
    for figure in headline_figures(figures):
        assert figure in plain, figure
    # the histogram with its marks, the weekly trend (week starts in Tokyo time)
    assert "Response times, 90 d (5 answered)" in plain and "24 h" in plain and "48 h" in plain
    assert "Weekly, 12 weeks" in plain and "11-13" in plain
    # by category, as report counts them: late rate 7 / 30 / 90 d, avg, median, in deadline
    assert re.search(r"^buyer\s+5\s+66\.7%\s+50\.0%\s+60\.0%\s+21\.0\s+17\.0\s+33\.3%$", plain, re.M)
    assert re.search(r"^account_health\s+1\s+100\.0%\s+100\.0%\s+100\.0%\s+-\s+-\s+0\.0%$", plain, re.M)
    assert re.search(r"^all\s+7\s+60\.0%\s+50\.0%\s+57\.1%\s+17\.0\s+10\.0\s+37\.5%$", plain, re.M)
    # the most urgent first, as check orders them: I (39 days overdue)
    assert re.search(rf"^#{ids['I']}\s+CRITICAL\s+overdue by 39 d\s+質問I$", plain, re.M)
    # the score's components and the top lift
    s = figures.score.overall
    assert s.response is not None and s.tone is not None
    assert f"Score {s.score} = 0.8 × response {s.response * 100:.0f} + 0.2 × tone {s.tone * 100:.0f}" in plain
    assert f"answering #{ids['A']} today lifts your score by {figures.score.lifts[0].overall_by:.0f} points" in plain
    if height >= 48:  # room for every waiting message and the breakdown of the score
        for letter in "IGSA":
            assert f"#{ids[letter]} " in plain
        assert "3 in deadline, 2 after due, 0 after critical, 0 waiting late, 3 waiting critical" in " ".join(lines)
    if width >= 150:  # the tone trend is a third chart
        assert "Tone of sent replies, weekly" in plain
    else:
        assert "avg 80.4 (90 d): 5 sent, 0 review, 1 block" in plain or "Tone of sent replies" in plain


def test_mail_text_is_made_safe(tmp_path: Path, config_path: Path) -> None:
    from tests.builders import Mailbox

    box = Mailbox(tmp_path / "mail")
    box.inbound("x@marketplace.amazon.co.jp", "Hi\x1b]52;c;cm0gLXJmIH4=\x07 there\x1b[2J", hours_ago=30)
    box.load(load_config(config_path).database.url)
    out = run(config_path).output
    assert "\x1b" not in out and "\x07" not in out and "Hi there" in out


def test_piped_and_no_color_give_plain_100_columns(loaded: tuple[Figures, dict[str, int]], config_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    figures, _ = loaded
    for no_color in (False, True):
        if no_color:
            monkeypatch.setenv("NO_COLOR", "1")
        result = run(config_path)  # CliRunner: not a terminal
        assert result.exit_code == 0, result.output + result.stderr
        assert "\x1b" not in result.output
        lines = result.output.rstrip("\n").split("\n")
        assert max(cells(line) for line in lines) <= 100
        assert result.output.rstrip("\n") == render_dashboard(figures, TOKYO, 100, 48, False)


def _in_a_terminal(config_path: Path, env: dict[str, str], size: tuple[int, int] = (80, 24)) -> bytes:
    """Run the dashboard with its stdout on a pseudo-terminal of ``size``; what it wrote."""
    clean = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "COLUMNS", "LINES")}
    code, out = run_on_pty("--config", str(config_path), "dashboard", "--now", NOW_ISO, env={**clean, **env}, size=size, stderr_too=False, timeout=30)
    assert code == 0
    return out


def test_a_terminal_gets_colour_unless_no_color(loaded: tuple[Figures, dict[str, int]], config_path: Path) -> None:
    figures, _ = loaded
    coloured = _in_a_terminal(config_path, {})
    assert b"\x1b[" in coloured
    plain = _in_a_terminal(config_path, {"NO_COLOR": "1"})
    assert b"\x1b" not in plain
    text = plain.decode().replace("\r\n", "\n").rstrip("\n")
    assert text == render_dashboard(figures, TOKYO, 80, 24, False)  # the terminal's size
    assert len(text.split("\n")) <= 23


def test_empty_database_says_what_to_run_first(config_path: Path) -> None:
    result = run(config_path)
    assert result.exit_code == 0, result.output + result.stderr
    assert "Nothing to show yet" in result.output and "hygiene poll" in result.output and "hygiene demo" in result.output
    assert len(result.output.splitlines()) <= 6 and "Traceback" not in result.output


def test_options(loaded: tuple[Figures, dict[str, int]], config_path: Path) -> None:
    since = run(config_path, "--since", "21d")
    assert since.exit_code == 0, since.output + since.stderr
    assert "since 2026-10-30" in since.output and "Weekly, 3 weeks" in since.output
    assert "Late Response Rate (buyers) 21 d 50.0%" in since.output
    buyers = run(config_path, "--category", "buyer")
    assert buyers.exit_code == 0 and "category buyer" in buyers.output
    assert "now 3 awaiting · 0 late · 2 critical" in buyers.output  # A, S and I; G is account health
    assert run(config_path, "--category", "nope").exit_code == 1
    assert run(config_path, "--since", "tomorrow").exit_code == 1
    shop = run(config_path, "--account", "shop")
    assert shop.exit_code == 0 and "account shop" in shop.output and "now 4 awaiting" in shop.output


def test_watch_redraws_until_ctrl_c_and_exits_0(loaded: tuple[Figures, dict[str, int]], config_path: Path) -> None:
    command = [sys.executable, "-m", "hygiene", "--config", str(config_path), "dashboard", "--now", NOW_ISO, "--watch", "0.2"]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None
    seen = b""
    deadline = time.monotonic() + 30
    while seen.count(b"hygiene dashboard \xc2\xb7") < 2 and time.monotonic() < deadline:
        seen += os.read(proc.stdout.fileno(), 65536)
    assert seen.count(b"hygiene dashboard \xc2\xb7") >= 2, "not redrawn"
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert b"\x1b" not in seen + out  # a pipe: no clearing of the screen either
    assert b"Traceback" not in err


def test_demo_ends_with_the_dashboard_in_a_clean_environment(tmp_path: Path) -> None:
    home = tmp_path / "clean"
    home.mkdir()
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home), "LANG": "C.UTF-8"}
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "hygiene", "demo"], capture_output=True, env=env, cwd=home, timeout=60)
    elapsed = time.perf_counter() - started
    assert done.returncode == 0, done.stderr.decode()
    out = done.stdout.decode()
    assert "\x1b" not in out
    board = out.split("\n\nhygiene dashboard · 2026-11-20 09:00 JST · last 90 d\n", 1)[1]
    assert re.match(r"Score \d+/100  │  Late Response Rate \(buyers\) 7 d \d+\.\d% · 30 d \d+\.\d% · 90 d \d+\.\d%", board)
    assert "Response times, 90 d" in board and "Weekly, 12 weeks" in board and "Most urgent of " in board
    assert max(cells(line) for line in board.splitlines()) <= 100
    assert not list(home.rglob("*.db"))  # nothing written in the home
    print(f"hygiene demo, whole process: {elapsed:.2f} s")
    assert elapsed < 5

    # the README's captured dashboard is this one, line for line
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("### The dashboard", 1)[1]
    shown = section.split("```\n", 1)[1].split("```", 1)[0].rstrip("\n").split("\n")
    printed = [line.rstrip() for line in ("hygiene dashboard · 2026-11-20 09:00 JST · last 90 d\n" + board).rstrip("\n").split("\n")]
    assert shown == printed


def test_readme_documents_the_dashboard() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "| `hygiene dashboard [--since WHEN] [--account NAME] [--category C] [--watch SECONDS] [--now WHEN]` |" in readme
    section = readme.split("### The dashboard", 1)[1].split("\n## ", 1)[0]
    for words in ("80×24", "NO_COLOR", "--watch", "Ctrl-C", "exits 0", "hygiene poll", "100 columns", "scripts/tmux_capture"):
        assert words in section, words


def test_a_real_terminal_tmux_capture(loaded: tuple[Figures, dict[str, int]], config_path: Path) -> None:
    """What a seller sees: the dashboard in an 80×24 tmux pane (scripts/tmux_capture)."""
    if shutil.which("tmux") is None:
        missing_server("tmux")
    figures, _ = loaded
    hygiene = [sys.executable, "-m", "hygiene", "--config", str(config_path), "dashboard", "--now", NOW_ISO]
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "COLUMNS", "LINES")}
    done = subprocess.run([str(ROOT / "scripts/tmux_capture"), "80x24", "--", *hygiene], capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 0, done.stderr
    screen = done.stdout.rstrip("\n").split("\n")
    print("\n".join(screen))
    assert len(screen) == 24 and screen[-1].startswith("[exit 0]")
    assert screen[0] == "hygiene dashboard · 2026-11-20 09:00 JST · last 90 d"  # nothing scrolled away
    text = "\n".join(screen)
    for figure in headline_figures(figures):
        assert figure in text, figure
    coloured = subprocess.run([str(ROOT / "scripts/tmux_capture"), "-e", "80x24", "--", *hygiene], capture_output=True, text=True, env=env, timeout=60)
    assert "\x1b[" in coloured.stdout  # a terminal without NO_COLOR gets colour
