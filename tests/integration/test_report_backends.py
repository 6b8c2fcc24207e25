"""The figures of the hand-counted history (tests/unit/test_report.py) on both backends:
the same SQL (CASE buckets, ROW_NUMBER percentiles, integer division) gives the same numbers
on SQLite and a real PostgreSQL; and the business-hours figures ([schedule])."""

from __future__ import annotations

from pathlib import Path

from tests.builders import check_business_counts, check_hand_counts, load_history


def test_hand_counted_figures_on_both_backends(database_url: str, tmp_path: Path) -> None:
    engine, ids = load_history(tmp_path, database_url)
    check_hand_counts(engine, ids)
    check_business_counts(engine)  # the business-hours clock's one query, on both too
