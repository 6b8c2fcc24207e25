"""The business-hours clock (``[schedule]``): its config, and business time counted by hand.

Cases, in Tokyo with the default hours (Monday to Friday 09:00-18:00, Japanese public
holidays):

- Friday 2026-11-13 17:00 → Monday 11-16 10:00: 1 h on Friday + 1 h on Monday = 2 h.
- Friday 2026-11-20 17:00 → Tuesday 11-24 10:00: Monday 11-23 is 勤労感謝の日 (Labour
  Thanksgiving Day), so 1 + 0 + 1 = 2 h; without holidays 1 + 9 + 1 = 11 h.
- an extra holiday on Monday 11-16: Friday 11-13 17:00 → Tuesday 11-17 10:00 = 2 h.
- received outside hours: Wednesday 20:00 → Thursday 09:30 = 0.5 h; Saturday 10:00 →
  Monday 09:30 = 0.5 h; Saturday 10:00 → Saturday 15:00 = 0.
"""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner

from hygiene.business import BusinessClock
from hygiene.cli import cli
from hygiene.config import DEFAULT_WORKING_HOURS, ScheduleConfig, load_config
from hygiene.errors import ConfigError
from hygiene.figures import compute_figures
from hygiene.store.db import open_database
from hygiene.views.dashboard import render_dashboard
from hygiene.views.report import BUSINESS_COLUMNS, CSV_COLUMNS
from tests.builders import NOW, NOW_ISO, ROW_KEYS, check_business_counts, load_history

TOKYO = ZoneInfo("Asia/Tokyo")
REPO = Path(__file__).resolve().parents[2]


def jst(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=TOKYO)


def hours(schedule: ScheduleConfig, start: str, end: str, tz: ZoneInfo = TOKYO) -> float:
    a, b = datetime.fromisoformat(start).replace(tzinfo=tz), datetime.fromisoformat(end).replace(tzinfo=tz)
    return BusinessClock.covering(schedule, tz, a, b).seconds(a, b) / 3600


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        ("2026-11-13 17:00", "2026-11-16 10:00", 2.0),  # Friday → Monday
        ("2026-11-20 17:00", "2026-11-24 10:00", 2.0),  # Monday 11-23 is a public holiday
        ("2026-11-18 20:00", "2026-11-19 09:30", 0.5),  # received after hours
        ("2026-11-14 10:00", "2026-11-16 09:30", 0.5),  # received on Saturday
        ("2026-11-14 10:00", "2026-11-14 15:00", 0.0),  # answered on Saturday too
        ("2026-11-16 10:00", "2026-11-16 10:45", 0.75),  # within the day
        ("2026-11-16 10:00", "2026-11-16 09:00", 0.0),  # the wrong way round
        ("2026-11-02 12:00", "2026-11-04 12:00", 9.0),  # Tuesday 11-03 is 文化の日: 6 h + 3 h
    ],
)
def test_business_hours_counted_by_hand(start: str, end: str, expected: float) -> None:
    assert hours(ScheduleConfig(), start, end) == pytest.approx(expected)


def test_without_holidays_the_holiday_is_a_working_day() -> None:
    assert hours(ScheduleConfig(country=None), "2026-11-20 17:00", "2026-11-24 10:00") == pytest.approx(11.0)


def test_an_extra_holiday_is_skipped() -> None:
    schedule = ScheduleConfig(extra_holidays=(date(2026, 11, 16),))
    assert hours(schedule, "2026-11-13 17:00", "2026-11-17 10:00") == pytest.approx(2.0)
    assert hours(ScheduleConfig(), "2026-11-13 17:00", "2026-11-17 10:00") == pytest.approx(11.0)


def test_a_lunch_break_and_a_saturday_morning() -> None:
    lunch = ((9 * 60, 12 * 60), (13 * 60, 18 * 60))
    schedule = ScheduleConfig(hours=(lunch,) * 5 + (((10 * 60, 13 * 60),), ()))
    assert hours(schedule, "2026-11-16 11:00", "2026-11-16 14:00") == pytest.approx(2.0)
    assert hours(schedule, "2026-11-13 17:00", "2026-11-16 10:00") == pytest.approx(1 + 3 + 1)


def test_daylight_saving_days_are_as_long_as_they_are() -> None:
    """A round-the-clock Sunday in New York: 23 h on the day clocks go forward, 25 h back."""
    ny = ZoneInfo("America/New_York")
    always = (((0, 24 * 60),),) * 7
    schedule = ScheduleConfig(hours=always, country=None)
    assert hours(schedule, "2026-03-08 00:00", "2026-03-09 00:00", ny) == pytest.approx(23.0)
    assert hours(schedule, "2026-11-01 00:00", "2026-11-02 00:00", ny) == pytest.approx(25.0)
    assert hours(schedule, "2026-11-13 17:00", "2026-11-16 10:00", ny) == pytest.approx(65.0)


def test_another_country_by_config() -> None:
    """US: Thursday 2026-11-26 is Thanksgiving."""
    ny = ZoneInfo("America/New_York")
    us = ScheduleConfig(country="US")
    assert hours(us, "2026-11-25 17:00", "2026-11-27 10:00", ny) == pytest.approx(2.0)
    assert hours(ScheduleConfig(), "2026-11-25 17:00", "2026-11-27 10:00", ny) == pytest.approx(11.0)


# --------------------------------------------------------------------------- config

BASE = '[database]\nurl = "sqlite:////tmp/x.db"\n'
WEEK = 'mon = "09:00-18:00"\ntue = "09:00-18:00"\nwed = "09:00-18:00"\nthu = "09:00-18:00"\nfri = "09:00-18:00"\nsat = ""\nsun = ""\n'


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(BASE + text, encoding="utf-8")
    return path


def test_no_schedule_by_default(tmp_path: Path) -> None:
    assert load_config(write(tmp_path, "")).schedule is None


def test_schedule_defaults_and_the_full_shape(tmp_path: Path) -> None:
    bare = load_config(write(tmp_path, "[schedule]\n")).schedule
    assert bare == ScheduleConfig(config_path=tmp_path / "config.toml")
    assert (bare.hours, bare.country, bare.target_hours, bare.extra_holidays) == (DEFAULT_WORKING_HOURS, "JP", 24.0, ())
    text = (
        '[schedule]\ncountry = "us"\nsubdivision = "CA"\ntarget_hours = 9\n'
        'extra_holidays = ["2026-12-30", 2026-12-29, "2026-12-30"]\n'
        'hours = {mon = "10:00-12:00, 13:00-19:00", tue = "9:00-18:00", wed = "09:00-18:00", '
        'thu = "09:00-18:00", fri = "09:00-24:00", sat = "", sun = " "}\n'
    )
    s = load_config(write(tmp_path, text)).schedule
    assert s is not None
    assert (s.country, s.subdivision, s.target_hours) == ("US", "CA", 9.0)
    assert s.extra_holidays == (date(2026, 12, 29), date(2026, 12, 30))
    assert s.hours[0] == ((600, 720), (780, 1140)) and s.hours[4] == ((540, 1440),) and s.hours[5:] == ((), ())
    assert load_config(write(tmp_path, '[schedule]\ncountry = ""\n')).schedule.country is None  # type: ignore[union-attr]


def test_example_config_schedule_is_valid_when_uncommented(tmp_path: Path) -> None:
    text = (REPO / "config.example.toml").read_text(encoding="utf-8")
    section = text.split("# [schedule]\n", 1)[1].split("\n\n", 1)[0]
    uncommented = "\n".join(line[2:] if line.startswith("# ") else line for line in ["# [schedule]", *section.splitlines()])
    schedule = load_config(write(tmp_path, uncommented)).schedule
    assert schedule is not None and schedule.country == "JP" and schedule.extra_holidays


@pytest.mark.parametrize(
    ("text", "key", "fragment"),
    [
        ("[schedule]\ncontry = \"JP\"\n", "schedule.contry", "did you mean 'country'"),
        ("[schedule]\ncountry = \"Japan\"\n", "schedule.country", "not a country code"),
        ("[schedule]\ncountry = 81\n", "schedule.country", "must be a string"),
        ("[schedule]\nsubdivision = \"CA\"\ncountry = \"\"\n", "schedule.subdivision", "without a country"),
        ("[schedule]\ntarget_hours = 0\n", "schedule.target_hours", "greater than 0"),
        ("[schedule]\ntarget_hours = \"a day\"\n", "schedule.target_hours", "must be a number"),
        ("[schedule]\nextra_holidays = \"2026-12-29\"\n", "schedule.extra_holidays", "array of dates"),
        ("[schedule]\nextra_holidays = [\"2026-12-29\", \"12/30\"]\n", "schedule.extra_holidays[1]", "is not a date"),
        ("[schedule]\nextra_holidays = [2026-12-29T10:00:00]\n", "schedule.extra_holidays[0]", "is not a date"),
        ("[schedule.hours]\n" + WEEK.replace('tue = "09:00-18:00"\n', ""), "schedule.hours.tue", "every weekday"),
        ("[schedule.hours]\n" + WEEK + "thur = \"\"\n", "schedule.hours.thur", "did you mean 'thu'"),
        ("[schedule.hours]\n" + WEEK.replace('"09:00-18:00"', '"9 to 6"', 1), "schedule.hours.mon", "not a span HH:MM-HH:MM"),
        ("[schedule.hours]\n" + WEEK.replace('"09:00-18:00"', '"09:00-25:00"', 1), "schedule.hours.mon", "not a time of day"),
        ("[schedule.hours]\n" + WEEK.replace('"09:00-18:00"', '"09:61-18:00"', 1), "schedule.hours.mon", "not a time of day"),
        ("[schedule.hours]\n" + WEEK.replace('"09:00-18:00"', '"22:00-02:00"', 1), "schedule.hours.mon", "ends before it starts"),
        ("[schedule.hours]\n" + WEEK.replace('"09:00-18:00"', '"09:00-13:00, 12:00-18:00"', 1), "schedule.hours.mon", "overlaps"),
        ("[schedule.hours]\n" + WEEK.replace('"09:00-18:00"', "9", 1), "schedule.hours.mon", "must be a string"),
        ("[schedule.hours]\n" + "\n".join(f'{d} = ""' for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")) + "\n", "schedule.hours.mon", "no working hours"),
        ("[schedule]\nhours = \"09:00-18:00\"\n", "schedule.hours", "must be a table"),
    ],
)
def test_bad_schedule_names_file_key_and_fix(tmp_path: Path, text: str, key: str, fragment: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    message = str(info.value)
    assert message.startswith(f"config error: {path}: {key}: ")
    assert fragment in message
    assert "\n" not in message


@pytest.mark.parametrize(
    ("text", "key"),
    [("[schedule]\ncountry = \"XX\"\n", "schedule.country"), ("[schedule]\ncountry = \"US\"\nsubdivision = \"ZZ\"\n", "schedule.subdivision")],
)
def test_a_country_the_holidays_package_does_not_know(tmp_path: Path, text: str, key: str) -> None:
    """Checked when the clock is built (reading the config never imports holidays)."""
    path = write(tmp_path, text)
    schedule = load_config(path).schedule
    assert schedule is not None
    with pytest.raises(ConfigError) as info:
        BusinessClock(schedule, TOKYO, date(2026, 11, 1), date(2026, 11, 30))
    message = str(info.value)
    assert message.startswith(f"config error: {path}: {key}: the holidays package has no calendar")
    assert "; use an ISO 3166 code" in message and "\n" not in message


def test_reading_a_config_with_a_schedule_does_not_import_holidays(tmp_path: Path) -> None:
    path = write(tmp_path, '[schedule]\ncountry = "JP"\n')
    code = (
        "import sys; from pathlib import Path; from hygiene.config import load_config; "
        f"load_config(Path({str(path)!r})); print('holidays' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


# --------------------------------------------------------------------------- figures, report, dashboard
#
# test_report.py's history (now: Friday 2026-11-20 09:00 JST) on the default schedule, in
# Tokyo. Business hours of each message needing a reply:
#   B  Wed 11-18 07:00 → Thu 11-19 07:01        9 h (all of Wednesday)
#   D  Thu 11-19 03:00 → Thu 13:00 (real reply) 4 h
#   E  Sat 11-14 10:00 → Mon 11-16 10:00        1 h
#   F  Mon 11-16 05:00 → 06:00                  0 h
#   H  Sat 10-31 09:00 → 11:00                  0 h
#   G  Tue 11-17 21:00, unanswered             18 h elapsed by now
#   A  Thu 11-19 10:00, unanswered              8 h elapsed
#   S  Thu 11-19 13:00, unanswered              5 h elapsed
#   I  Sun 10-11 09:00, unanswered             far more than any target
# 7 days: B D E F answered → avg 3.5, median 2.5. Target 8 h: within D E F, missed B (9 h)
# and G (18 h elapsed; A at exactly 8 h is not past it) → 3 / 5 = 0.6; buyers B D E: avg
# 4.667, median 4, 2 / 3. 30 days adds H (0 h): avg 2.8, median 1, 4 / 6. 90 days adds I
# (missed): 4 / 7. Target 24 h: everything answered is within; 90 days 5 / 6.
# An extra holiday on Wednesday 11-18: B takes 0 h and G 9 h.

SCHEDULE_KEYS = [
    "business_response_hours", "business_median_response_hours",
    "business_within_target", "business_target_missed", "business_within_target_share",
]


def history_config(tmp_path: Path, schedule: str | None) -> Path:
    path = tmp_path / "config.toml"
    text = f'timezone = "Asia/Tokyo"\n[database]\nurl = "sqlite:///{tmp_path / "biz.db"}"\n'
    path.write_text(text + (f"[schedule]\n{schedule}" if schedule is not None else ""), encoding="utf-8")
    load_history(tmp_path, load_config(path).database.url)
    return path


def report(path: Path, *args: str) -> str:
    result = CliRunner().invoke(cli, ["--config", str(path), "report", "--now", NOW_ISO, *args])
    assert result.exit_code == 0, result.output + result.stderr
    return result.output


def business(row: dict[str, object]) -> tuple[object, ...]:
    return tuple(row[k] for k in SCHEDULE_KEYS)


def test_report_json_with_a_schedule(tmp_path: Path) -> None:
    data = json.loads(report(history_config(tmp_path, "target_hours = 8\n"), "--format", "json"))
    assert list(data) == ["now", "windows", "counts", "score", "business_target_hours"]
    assert data["business_target_hours"] == 8
    rows = {(w["days"], w["category"]): w for w in data["windows"]}
    assert list(rows[(7, "all")]) == ROW_KEYS + SCHEDULE_KEYS  # the existing keys first, unchanged
    assert business(rows[(7, "all")]) == (3.5, 2.5, 3, 2, 0.6)
    assert business(rows[(7, "buyer")]) == (4.7, 4.0, 2, 1, 0.667)
    assert business(rows[(7, "account_health")]) == (None, None, 0, 1, 0.0)
    assert business(rows[(30, "all")]) == (2.8, 1.0, 4, 2, 0.667)
    assert business(rows[(90, "all")]) == (2.8, 1.0, 4, 3, 0.571)
    # Amazon's figures stay on the 24/7 clock
    assert (rows[(7, "all")]["late_response_rate"], rows[(7, "all")]["avg_response_hours"]) == (0.6, 20.8)
    weeks = json.loads(report(tmp_path / "config.toml", "--by", "week", "--format", "json"))["weeks"]
    assert business(weeks[-1]) == business(rows[(7, "all")])
    assert business(weeks[-3]) == (0.0, 0.0, 1, 0, 1.0)  # H


def test_report_with_the_default_target_and_an_extra_holiday(tmp_path: Path) -> None:
    path = history_config(tmp_path, 'extra_holidays = ["2026-11-18"]\n')
    rows = {(w["days"], w["category"]): w for w in json.loads(report(path, "--format", "json"))["windows"]}
    # B takes 0 h (its Wednesday is a day off): 0, 4, 1, 0; G has 9 h elapsed, under 24
    assert business(rows[(7, "all")]) == (1.2, 0.5, 4, 0, 1.0)
    assert business(rows[(90, "all")]) == (1.0, 0.0, 5, 1, 0.833)  # I missed


def test_report_csv_and_table_with_a_schedule(tmp_path: Path) -> None:
    path = history_config(tmp_path, "target_hours = 8\n")
    rows = list(csv.DictReader(io.StringIO(report(path, "--format", "csv"))))
    assert tuple(rows[0]) == CSV_COLUMNS + BUSINESS_COLUMNS
    assert tuple(rows[0][k] for k in BUSINESS_COLUMNS) == ("3.5", "2.5", "3", "2", "0.6")
    assert tuple(rows[2][k] for k in BUSINESS_COLUMNS) == ("", "", "0", "1", "0.0")  # account_health
    table = report(path)
    assert "Your business hours (target 8 h, 90 d): avg 2.8 h, median 1.0 h, 57.1% within target" in table
    assert "biz avg h  biz median h  in target" in table
    assert any(line.startswith("   7  all ") and line.endswith("3.5           2.5      60.0%") for line in table.splitlines())


def test_without_a_schedule_nothing_changes(tmp_path: Path) -> None:
    path = history_config(tmp_path, None)
    data = json.loads(report(path, "--format", "json"))
    assert "business_target_hours" not in data and list(data["windows"][0]) == ROW_KEYS
    assert report(path, "--format", "csv").splitlines()[0] == ",".join(CSV_COLUMNS)
    assert "business" not in report(path) and "biz" not in report(path)


@pytest.mark.parametrize(("width", "height"), [(80, 24), (100, 48)])
def test_dashboard_shows_the_business_line_only_with_a_schedule(tmp_path: Path, width: int, height: int) -> None:
    path = history_config(tmp_path, "target_hours = 8\n")
    config = load_config(path)
    engine = open_database(config.database.url)
    with engine.connect() as conn:
        with_schedule = compute_figures(conn, config, NOW)
        without = compute_figures(conn, replace(config, schedule=None), NOW)
    line = "Your business hours (target 8 h, 90 d): avg 2.8 h, median 1.0 h, 57.1% within target"
    board = render_dashboard(with_schedule, TOKYO, width, height, False)
    lines = board.split("\n")
    assert len(lines) <= height - 1 and max(len(x) for x in lines) <= width
    shown = [x for x in lines if x.startswith("Your business hours")]
    assert shown and line.startswith(shown[0].rstrip("…"))
    assert "Late Response Rate (buyers) 7 d 66.7%" in board  # Amazon's, unchanged
    assert "business hours" not in render_dashboard(without, TOKYO, width, height, False)
    result = CliRunner().invoke(cli, ["--config", str(path), "dashboard", "--now", NOW_ISO])
    assert line in result.output


def test_readme_documents_the_schedule(tmp_path: Path) -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("**Your business-hours clock**", 1)[1].split("\n## ", 1)[0]
    example = section.split("```toml\n", 1)[1].split("```", 1)[0]
    schedule = load_config(write(tmp_path, example)).schedule
    assert schedule is not None and schedule.hours == DEFAULT_WORKING_HOURS and schedule.country == "JP"
    flat = " ".join(section.split())
    for key in SCHEDULE_KEYS:
        assert f"`{key}`" in flat, key
    assert ",".join(BUSINESS_COLUMNS) in flat
    assert "Friday 17:00 and answered Monday 10:00 took 2 business hours" in flat


def test_business_figures_of_the_hand_counted_history(tmp_path: Path, sqlite_url: str) -> None:
    engine, _ = load_history(tmp_path, sqlite_url)
    check_business_counts(engine)
