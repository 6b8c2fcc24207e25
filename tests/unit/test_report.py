"""``hygiene report`` and the figures behind it, against a small history counted by hand.

The clock is Friday 2026-11-20 00:00 UTC (09:00 in Tokyo). Deadlines are the defaults (24 h
due, 48 h critical). The history, by message (hours before now):

====  ==============  ========  =========================================  ==================
id    category        received  what happened                              Amazon's class
====  ==============  ========  =========================================  ==================
A     buyer           23 h      unanswered                                 left out (young)
B     buyer           50 h      answered at 24 h 1 min                     answered_late
C     buyer           40 h      dismissed                                  left out
D     buyer           30 h      auto-reply at 0.5 h, real reply at 10 h    answered_on_time
E     buyer           143 h     Saturday 10:00 JST, answered Monday 10:00  answered_late (48 h)
F     seller_support  100 h     answered in 1 h (a rude reply: block)      answered_on_time
G     account_health  60 h      unanswered                                 no_response
S     buyer           20 h      states "12時間以内", unanswered            left out (young)
H     buyer           20 d      answered in 2 h                            answered_on_time
I     buyer           40 d      unanswered                                 no_response
N     notification    5 h       no reply needed                            left out
====  ==============  ========  =========================================  ==================

7 days: B D E F G → 5 needing a reply, 2 on time, 2 late, 1 no response, rate 3/5 = 0.6;
response hours 24.017, 10, 48, 1 → average 20.754, median 17.008, p90 40.805 (linear
interpolation). Within deadline (due 24 h): D, F; missed: B, E (after due), G and S
(unanswered past critical) → 2 of 6. 30 days adds H: 6, 3 on time, rate 0.5, average
17.003, median 10, p90 38.407. 90 days adds I: 7, rate 4/7.
"""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from hygiene.cli import cli
from hygiene.config import default_config, load_config
from hygiene.figures import compute_figures
from hygiene.mail.ingest import sent_tone
from hygiene.views.report import CSV_COLUMNS
from tests.builders import (
    NOW,
    NOW_ISO,
    POLITE,
    ROW_KEYS,
    RUDE,
    check_hand_counts,
    load_history,
    response_counts,
)


def test_figures_of_the_hand_counted_history(tmp_path: Path, sqlite_url: str) -> None:
    engine, ids = load_history(tmp_path, sqlite_url)
    check_hand_counts(engine, ids)


def test_a_reply_after_now_does_not_exist_yet(tmp_path: Path, sqlite_url: str) -> None:
    engine, _ = load_history(tmp_path, sqlite_url)
    with engine.connect() as conn:
        # 96 hours ago E (47 h old then) was still waiting: its reply came an hour later;
        # F had been answered; B, G and the others had not arrived
        fig = compute_figures(conn, default_config(), NOW - timedelta(hours=96))
    w7 = fig.window(7)
    assert w7 is not None
    assert response_counts(w7) == {"needing_reply": 2, "answered_on_time": 1, "answered_late": 0, "no_response": 1, "within_deadline": 1, "deadline_missed": 1}
    # check's list at that --now: what is unanswered today and was received by then (I)
    assert (fig.counts.awaiting, fig.counts.critical) == (1, 1)


# --------------------------------------------------------------------------- the command


@pytest.fixture
def config_path(tmp_path: Path) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(f'timezone = "Asia/Tokyo"\n[database]\nurl = "sqlite:///{tmp_path / "report.db"}"\n')
    return path


def run(config_path: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--config", str(config_path), "report", "--now", NOW_ISO, *args])


def loaded(tmp_path: Path, config_path: Path) -> dict[str, int]:
    return load_history(tmp_path, load_config(config_path).database.url)[1]


def test_report_json_shape_and_numbers(tmp_path: Path, config_path: Path) -> None:
    loaded(tmp_path, config_path)
    result = run(config_path, "--format", "json")
    assert result.exit_code == 0, result.output + result.stderr
    data = json.loads(result.output)
    assert list(data) == ["now", "windows", "counts", "score"]
    assert data["now"] == NOW_ISO
    assert [(w["days"], w["category"]) for w in data["windows"]] == [
        (d, c) for d in (7, 30, 90) for c in ("all", "buyer", "account_health", "seller_support")
    ]
    first = data["windows"][0]
    assert list(first) == ROW_KEYS
    polite, _ = sent_tone(POLITE, default_config())
    rude, _ = sent_tone(RUDE, default_config())
    assert polite is not None and rude is not None
    assert first == {
        "days": 7, "start": (NOW - timedelta(days=7)).isoformat(), "end": NOW_ISO, "category": "all",
        "needing_reply": 5, "answered_on_time": 2, "answered_late": 2, "no_response": 1,
        "late_response_rate": 0.6, "avg_response_hours": 20.8, "median_response_hours": 17.0, "p90_response_hours": 40.8,
        "within_deadline": 2, "deadline_missed": 4, "within_deadline_share": 0.333,
        "sent_replies": 4, "tone_avg": round((3 * polite + rude) / 4, 1), "tone_review": 0, "tone_block": 1,
    }
    buyer_30 = data["windows"][5]
    assert (buyer_30["days"], buyer_30["category"], buyer_30["late_response_rate"], buyer_30["sent_replies"]) == (30, "buyer", 0.5, None)
    health = data["windows"][2]
    assert (health["category"], health["avg_response_hours"], health["median_response_hours"]) == ("account_health", None, None)
    assert data["windows"][8]["late_response_rate"] == 0.571  # 4/7
    assert data["counts"] == {"awaiting": 4, "critical": 3, "late": 0, "due_soon": 1, "pending": 0}
    score = data["score"]
    assert set(score) >= {"overall", "accounts"} and score["accounts"] == {"shop": score["overall"]}
    assert isinstance(score["overall"], int) and 0 <= score["overall"] <= 100
    assert score["components"]["overall"]["messages"]["waiting_critical"] == 3


def test_report_csv_columns_and_numbers(tmp_path: Path, config_path: Path) -> None:
    loaded(tmp_path, config_path)
    result = run(config_path, "--format", "csv")
    assert result.exit_code == 0, result.output + result.stderr
    rows = list(csv.DictReader(io.StringIO(result.output)))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert len(rows) == 12
    first = rows[0]
    assert (first["days"], first["account"], first["category"], first["needing_reply"], first["late_response_rate"]) == ("7", "all", "all", "5", "0.6")
    assert (first["avg_response_hours"], first["median_response_hours"], first["p90_response_hours"]) == ("20.8", "17.0", "40.8")
    health = rows[2]
    assert (health["category"], health["no_response"], health["avg_response_hours"], health["sent_replies"]) == ("account_health", "1", "", "")


def test_report_by_week_account_and_since(tmp_path: Path, config_path: Path) -> None:
    loaded(tmp_path, config_path)
    weeks = json.loads(run(config_path, "--by", "week", "--format", "json").output)
    assert "windows" not in weeks and len(weeks["weeks"]) == 12
    assert weeks["weeks"][-1]["needing_reply"] == 5 and weeks["weeks"][-1]["end"] == NOW_ISO
    assert weeks["weeks"][-3]["answered_on_time"] == 1
    accounts = json.loads(run(config_path, "--by", "account", "--format", "json").output)
    assert [(w["days"], w["account"], w["category"]) for w in accounts["windows"][:2]] == [(7, "all", "all"), (7, "shop", "all")]
    assert accounts["windows"][1]["needing_reply"] == 5
    since = json.loads(run(config_path, "--since", "21d", "--format", "json").output)
    assert since["since"] == (NOW - timedelta(days=21)).isoformat()
    assert {w["days"] for w in since["windows"]} == {21}
    assert since["windows"][0]["needing_reply"] == 6
    iso = json.loads(run(config_path, "--since", (NOW - timedelta(days=21)).isoformat(), "--format", "json").output)
    assert iso["windows"] == since["windows"]
    weekly_since = run(config_path, "--since", "3w", "--by", "week", "--format", "csv")
    assert len(weekly_since.output.splitlines()) == 1 + 3
    bad = run(config_path, "--since", "tomorrow")
    assert bad.exit_code == 1 and "--since" in bad.stderr
    buyers = json.loads(run(config_path, "--category", "buyer", "--format", "json").output)
    assert [w["category"] for w in buyers["windows"][:2]] == ["all", "buyer"]
    assert buyers["windows"][0]["needing_reply"] == 3


def test_report_table(tmp_path: Path, config_path: Path) -> None:
    ids = loaded(tmp_path, config_path)
    result = run(config_path)
    assert result.exit_code == 0, result.output + result.stderr
    out = result.output
    assert out.startswith("Your record at 2026-11-20 09:00 JST\nHygiene score: ")
    assert f"answering #{ids['A']} today lifts your score by" in out
    assert "Late Response Rate (buyers, as Amazon publishes it): 7 d 66.7%, 30 d 50.0%, 90 d 60.0%" in out
    assert "Now: 4 awaiting (3 critical, 0 late, 1 due soon, 0 pending)" in out
    assert re.search(r"^\s+7  all\s+5\s+2\s+2\s+1\s+60\.0%\s+20\.8\s+17\.0\s+40\.8\s+33\.3%\s+4\s", out, re.MULTILINE)
    assert "\x1b" not in out


def test_report_on_an_empty_database_says_what_to_run(config_path: Path) -> None:
    result = run(config_path)
    assert result.exit_code == 0
    assert "Nothing to count yet" in result.output and "hygiene poll" in result.output
    data = json.loads(run(config_path, "--format", "json").output)
    assert data["windows"] == [
        {**{k: None for k in ROW_KEYS}, "days": d, "start": (NOW - timedelta(days=d)).isoformat(), "end": NOW_ISO,
         "category": "all", "needing_reply": 0, "answered_on_time": 0, "answered_late": 0, "no_response": 0,
         "within_deadline": 0, "deadline_missed": 0, "sent_replies": 0, "tone_review": 0, "tone_block": 0}
        for d in (7, 30, 90)
    ]
    assert data["score"]["overall"] is None and data["score"]["accounts"] == {}


def test_readme_example_is_what_the_command_prints(tmp_path: Path, config_path: Path) -> None:
    loaded(tmp_path, config_path)
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Your record: report and score", 1)[1]
    example = section.split("```\n", 1)[1].split("```", 1)[0]
    printed = run(config_path).output.splitlines()
    shown = [line for line in example.splitlines() if line and line != "…"]
    assert len(shown) >= 8
    for line in shown:
        assert line in printed, line


def test_readme_documents_the_report() -> None:
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Your record: report and score", 1)[1].split("\n## ", 1)[0]
    flat = " ".join(section.split())
    # every JSON key of a row, in order, and every CSV column, in order
    shape = flat.split("a row is `{", 1)[1].split("}`", 1)[0]
    assert re.findall(r'"(\w+)"', shape) == ROW_KEYS
    columns = flat.split("CSV columns: `", 1)[1].split("`", 1)[0]
    assert tuple(columns.split(",")) == CSV_COLUMNS
    for word in ("Late Response Rate", "within-deadline share", "hygiene score", "0.8", "weekends", "auto-repl"):
        assert word.lower() in flat.lower(), word
    assert "| `hygiene report" in readme


def test_lift_text_says_one_point_in_the_singular() -> None:
    from hygiene.views.report import lift_text

    assert lift_text(3.2) == "3 points"
    assert lift_text(1.3) == "1 point"
    assert lift_text(0.4) == "0.4 points"


def test_report_over_ten_years_reads_its_weeks_in_several_statements(tmp_path: Path, config_path: Path) -> None:
    """522 weekly periods: more than SQLite's 500 SELECTs in one UNION (the report failed
    with 'too many terms in compound SELECT'); the figures are those of a short report."""
    loaded(tmp_path, config_path)
    decade = run(config_path, "--since", "3650d", "--format", "json")
    assert decade.exit_code == 0, decade.output + decade.stderr
    assert json.loads(decade.output)["windows"][0]["needing_reply"] == 7
    weekly = json.loads(run(config_path, "--since", "3650d", "--by", "week", "--format", "json").output)["weeks"]
    recent = json.loads(run(config_path, "--by", "week", "--format", "json").output)["weeks"]
    assert len(weekly) > 500
    assert weekly[-12:] == recent
