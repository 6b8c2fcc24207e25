"""The hygiene score's promises, on random histories (hypothesis): it stays in 0-100;
answering a late message never lowers it; a new critical message never raises it. First on
the pure formula, then end to end through the database, the SQL cells and check's states."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, delete, insert

from hygiene.config import default_config
from hygiene.figures import compute_figures
from hygiene.outcomes import AFTER_CRITICAL, AFTER_DUE, WAITING_CRITICAL, WAITING_LATE
from hygiene.score import VALUES, WEEKS, ScoreInput, score_of
from hygiene.store.db import open_database
from hygiene.store.models import Message
from hygiene.threads import mark_replied
from tests.builders import NOW

# --------------------------------------------------------------------------- the formula

weeks = st.integers(0, WEEKS - 1)
inputs = st.builds(
    lambda msgs, tones: _input(msgs, tones),
    st.lists(st.tuples(weeks, st.sampled_from(sorted(VALUES)), st.integers(1, 50)), max_size=20),
    st.lists(st.tuples(weeks, st.integers(1, 20), st.floats(0, 100)), max_size=8),
)


def _input(msgs: list[tuple[int, str, int]], tones: list[tuple[int, int, float]]) -> ScoreInput:
    data = ScoreInput()
    for week, klass, n in msgs:
        data.add_messages(week, klass, n)
    for week, n, mean in tones:
        data.add_tone(week, n, n * mean)
    return data


@given(inputs)
def test_the_score_stays_between_0_and_100(data: ScoreInput) -> None:
    parts = score_of(data)
    assert parts.score is None or 0 <= parts.score <= 100
    assert parts.score is None if not data.messages and not data.tone else parts.score is not None


@given(inputs, weeks, st.sampled_from([(WAITING_LATE, AFTER_DUE), (WAITING_CRITICAL, AFTER_CRITICAL)]))
def test_answering_a_late_message_never_lowers_the_score(data: ScoreInput, week: int, move: tuple[str, str]) -> None:
    old, new = move
    data.add_messages(week, old, 1)
    before = score_of(data)
    after = score_of(data.moved(week, old, new))
    assert before.exact is not None and after.exact is not None
    assert after.exact >= before.exact - 1e-9 and after.score is not None and before.score is not None
    assert after.score >= before.score


@given(inputs, weeks)
def test_a_new_critical_message_never_raises_the_score(data: ScoreInput, week: int) -> None:
    before = score_of(data)
    after = score_of(data.moved(week, None, WAITING_CRITICAL))
    assert after.score is not None
    assert before.score is None or after.score <= before.score


# --------------------------------------------------------------------------- end to end

CATEGORIES = ("buyer", "seller_support", "account_health")
inbound = st.tuples(
    st.floats(0.5, 100 * 24),  # age in hours
    st.sampled_from(CATEGORIES),
    st.one_of(st.none(), st.floats(0.1, 120)),  # hours to the first reply (may be after now)
    st.booleans(),  # dismissed
    st.one_of(st.none(), st.floats(1, 100)),  # a deadline the message states, hours after receipt
    st.sampled_from(("jp", "us")),
)
outbound = st.tuples(st.floats(0.5, 100 * 24), st.floats(0, 100), st.sampled_from(("ok", "review", "block")), st.booleans())


@pytest.fixture(scope="module")
def engine() -> Iterator[Engine]:
    with tempfile.TemporaryDirectory() as tmp:
        engine = open_database(f"sqlite:///{Path(tmp) / 'props.db'}")
        yield engine
        engine.dispose()


def _row(n: int, direction: str, category: str, age_h: float, account: str) -> dict[str, Any]:
    at = NOW - timedelta(hours=age_h)
    return {
        "account": account, "folder": "INBOX", "fingerprint": f"{n:064x}", "source": "import", "received_at": at,
        "flags": "", "seen": True, "answered": False, "direction": direction, "category": category,
        "needs_reply": direction == "inbound", "auto_reply": False, "body_text": "", "size": 1, "stored_at": NOW,
    }


def _fill(engine: Engine, ins: list[Any], outs: list[Any]) -> None:
    rows = []
    for n, (age, category, reply_h, dismissed, stated_h, account) in enumerate(ins):
        row = _row(n, "inbound", category, age, account)
        if reply_h is not None:
            row |= {"replied_at": row["received_at"] + timedelta(hours=reply_h), "reply_source": "mail", "response_seconds": int(reply_h * 3600)}
        if dismissed:
            row |= {"dismissed_at": row["received_at"] + timedelta(hours=1), "dismiss_reason": "x"}
        if stated_h is not None:
            row |= {"stated_deadline_at": row["received_at"] + timedelta(hours=stated_h), "stated_deadline_text": "stated"}
        rows.append(row)
    for n, (age, score, verdict, auto) in enumerate(outs, start=len(ins)):
        rows.append(_row(n, "outbound", "outbound", age, "jp") | {"tone_score": score, "tone_verdict": verdict, "auto_reply": auto})
    with engine.begin() as conn:
        conn.execute(delete(Message))
        for row in rows:
            conn.execute(insert(Message), row)


def _scores(engine: Engine) -> tuple[int | None, dict[str, int | None], Any]:
    with engine.connect() as conn:
        fig = compute_figures(conn, default_config(), NOW)
    return fig.score.overall.score, {a: p.score for a, p in fig.score.accounts.items()}, fig


def not_lower(before: int | None, after: int | None) -> bool:
    if before is None:
        return after is None or after >= 0
    return after is not None and after >= before


HISTORY = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@HISTORY
@given(st.lists(inbound, max_size=12), st.lists(outbound, max_size=6), st.data())
def test_on_random_histories_in_the_database(engine: Engine, ins: list[Any], outs: list[Any], data: st.DataObject) -> None:
    _fill(engine, ins, outs)
    overall, accounts, fig = _scores(engine)
    for score in (overall, *accounts.values()):
        assert score is None or 0 <= score <= 100
    waiting = [i for i in fig.check.items if i.state in ("late", "critical")] if fig.check else []
    event(f"waiting late or critical: {bool(waiting)}")
    if waiting:
        item = data.draw(st.sampled_from(waiting))
        with engine.begin() as conn:
            mark_replied(conn, item.id, NOW)
        overall2, accounts2, _ = _scores(engine)
        # (a message older than the scored weeks moves nothing: None stays None)
        assert not_lower(overall, overall2)
        assert not_lower(accounts.get(item.account), accounts2.get(item.account))
        _fill(engine, ins, outs)  # back to the drawn history
    # a new message past its critical time (48 h by default), unanswered
    account = data.draw(st.sampled_from(("jp", "us")))
    age = data.draw(st.floats(48.5, WEEKS * 7 * 24 - 1))
    with engine.begin() as conn:
        conn.execute(insert(Message), _row(10_000, "inbound", data.draw(st.sampled_from(CATEGORIES)), age, account))
    overall3, accounts3, _ = _scores(engine)
    assert overall3 is not None and (overall is None or overall3 <= overall)
    before3 = accounts.get(account)
    assert accounts3[account] is not None and (before3 is None or accounts3[account] <= before3)  # type: ignore[operator]
