"""Reply matching against a plain reference: generated histories (several counterparts sharing
case IDs, order IDs, subjects and Message-IDs; forwards, auto-replies, flags, dismissals,
replies stored before or after their message, clocks out of order) stored in batches and
matched after each batch, on SQLite and PostgreSQL. The reference below states the rules of
``hygiene.threads`` pair by pair in Python; the set-based SQL must choose the same reply, time,
source and rule for every message, and count the same replies per run."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, delete, insert, select

from hygiene.store.db import open_database
from hygiene.store.tables import messages as table
from hygiene.store.tables import thread_keys as key_table
from hygiene.threads import RULE_OF_KIND, RULE_RANK, SUBJECT_WINDOW, match_replies, thread_keys

T0 = datetime(2026, 10, 1, tzinfo=UTC)
SHOP = "shop@example.jp"
#: the last is the first written another way: the same key, another sender (siblings need the same sender)
COUNTERPARTS = ["a1@marketplace.amazon.co.jp", "b2@marketplace.amazon.co.jp", "seller-support@amazon.co.jp", "A1@Marketplace.amazon.co.jp"]
SUBJECTS = ["商品について", "Re: 商品について", "RE: Return request", "Return request", "Fwd: 商品について", "[転送] ご質問", "ご質問"]
CASES = ["", "ケースID: 12345678901\n", "Case ID: 98765432109\n"]
ORDERS = ["", "注文番号 503-1234567-1234567\n", "order 249-7654321-7654321\n"]


@dataclass(frozen=True)
class Spec:
    """One generated message; ``refers`` is the index of the message its In-Reply-To names."""

    inbound: bool
    hour: int
    counterparts: tuple[int, ...]
    subject: int
    case: int
    order: int
    refers: int | None
    needs_reply: bool
    auto_reply: bool
    answered: bool
    seen_after: int | None
    dismissed: bool
    batch: int


@st.composite
def histories(draw: Any) -> list[Spec]:
    n = draw(st.integers(1, 28))
    # distinct whole hours over ~40 days (the subject window is 14): no two messages share a
    # time, so "the earliest reply" is never a tie the rules leave open
    hours = draw(st.lists(st.integers(0, 40 * 24), min_size=n, max_size=n, unique=True))
    specs: list[Spec] = []
    for k in range(n):
        inbound = draw(st.booleans())
        answered = inbound and draw(st.integers(0, 4)) == 0
        specs.append(
            Spec(
                inbound=inbound,
                hour=hours[k],
                counterparts=tuple(sorted(draw(st.sets(st.integers(0, 3 if inbound else 2), min_size=1, max_size=1 if inbound else 2)))),
                subject=draw(st.integers(0, len(SUBJECTS) - 1)),
                case=draw(st.integers(0, len(CASES) - 1)),
                order=draw(st.integers(0, len(ORDERS) - 1)),
                refers=draw(st.none() | st.integers(0, n - 1)),
                needs_reply=inbound and draw(st.integers(0, 5)) > 0,
                auto_reply=not inbound and draw(st.integers(0, 6)) == 0,
                answered=answered,
                # a flag seen half an hour off the whole hours: never the same time as a mail
                seen_after=draw(st.none() | st.integers(0, 30 * 24)) if answered else None,
                dismissed=inbound and draw(st.integers(0, 9)) == 0,
                batch=draw(st.integers(0, 2)),
            )
        )
    return specs


def _mid(k: int) -> str:
    return f"<m{k}@gen.example>"


def _row(k: int, s: Spec, specs: list[Spec]) -> dict[str, Any]:
    at = T0 + timedelta(hours=s.hour)
    others = ",".join(COUNTERPARTS[c] for c in s.counterparts)
    refers = _mid(s.refers) if s.refers is not None and s.refers != k else None
    seen_at = at + timedelta(hours=s.seen_after, minutes=30) if s.seen_after is not None else None
    return {
        "account": "gen", "folder": "INBOX" if s.inbound else "Sent", "uidvalidity": 1, "uid": k + 1,
        "fingerprint": f"{k:064x}", "source": "import", "message_id": _mid(k), "in_reply_to": refers,
        "message_references": refers, "from_name": None,
        "from_addr": others if s.inbound else SHOP, "to_addrs": SHOP if s.inbound else others, "cc_addrs": None,
        "subject": SUBJECTS[s.subject], "date_header": at, "internal_date": at, "received_at": at,
        "flags": "\\Answered" if s.answered else "", "seen": True, "answered": s.answered, "answered_seen_at": seen_at,
        "direction": "inbound" if s.inbound else "outbound", "category": "buyer" if s.inbound else "outbound",
        "needs_reply": s.needs_reply, "auto_reply": s.auto_reply,
        "body_text": f"{CASES[s.case]}{ORDERS[s.order]}よろしくお願いします。", "size": 100, "parse_note": None, "raw": None,
        "stored_at": T0, "dismissed_at": T0 if s.dismissed else None, "dismiss_reason": "gen" if s.dismissed else None,
    }


# --------------------------------------------------------------------------- the reference


@dataclass
class Reply:
    at: datetime
    reply: int | None  # index of the outbound message
    source: str
    rule: str | None
    seconds: int


def reference(specs: list[Spec]) -> tuple[dict[int, Reply], list[Counter[str]]]:
    """The rules of hygiene.threads, pair by pair: what every inbound message ends with after
    matching once per batch, and the replies counted by rule in each run."""
    rows = [_row(k, s, specs) for k, s in enumerate(specs)]
    keys = {
        k: thread_keys(
            direction=r["direction"], message_id=r["message_id"], in_reply_to=r["in_reply_to"],
            references=r["message_references"], from_addr=r["from_addr"], to_addrs=r["to_addrs"],
            cc_addrs=r["cc_addrs"], subject=r["subject"], body_text=r["body_text"], auto_reply=r["auto_reply"],
        )
        for k, r in enumerate(rows)
    }
    at = {k: r["received_at"] for k, r in enumerate(rows)}
    state: dict[int, Reply] = {}
    stored: list[int] = []
    runs: list[Counter[str]] = []

    def seconds(k: int, when: datetime) -> int:
        return max(0, int((when - at[k]).total_seconds()))

    def waiting(k: int) -> bool:
        s = specs[k]
        return s.inbound and s.needs_reply and not s.dismissed and (k not in state or state[k].source == "answered_flag")

    for batch in range(3):
        new = [k for k, s in enumerate(specs) if s.batch == batch]
        if not new and batch:
            continue
        stored += new
        by_rule: Counter[str] = Counter()
        outbound = [k for k in stored if not specs[k].inbound]
        if new:
            for i in [k for k in stored if waiting(k)]:
                best: tuple[datetime, int, int] | None = None
                for kind, key in keys[i]:
                    if kind == "tref":
                        continue
                    for o in outbound:
                        if not any(key == ok for _, ok in keys[o]):
                            continue
                        if kind != "mid" and at[o] <= at[i]:
                            continue
                        if kind == "subj" and at[o] > at[i] + SUBJECT_WINDOW:
                            continue
                        cand = (at[o], RULE_RANK[RULE_OF_KIND[kind]], o)
                        best = cand if best is None or cand < best else best
                if best is None:
                    continue
                if i in state and best[0] > state[i].at:  # a flag seen before the mail was sent
                    continue
                rule = next(r for r, rank in RULE_RANK.items() if rank == best[1])
                state[i] = Reply(best[0], best[2], "mail", rule, seconds(i, best[0]))
                by_rule[rule] += 1
        flagged = 0
        for i in stored:
            s = specs[i]
            if s.inbound and s.needs_reply and not s.dismissed and i not in state and s.answered:
                when = rows[i]["answered_seen_at"] or at[i]
                state[i] = Reply(when, None, "answered_flag", None, seconds(i, when))
                flagged += 1
        by_rule["answered_flag"] += flagged
        if new or flagged:
            answered = dict(state)
            for y in [k for k in stored if waiting(k) and k not in state]:
                best_x: tuple[datetime, int] | None = None
                for _kind, key in keys[y]:
                    end = at[y] + SUBJECT_WINDOW if key.startswith("subj:") else None
                    for x in stored:
                        if x == y or not specs[x].inbound or not any(key == xk for _, xk in keys[x]):
                            continue
                        if end is not None and at[x] > end:
                            continue
                        got = answered.get(x)
                        if got is None or got.rule == "thread" or got.source not in ("mail", "answered_flag"):
                            continue
                        if rows[x]["from_addr"] != rows[y]["from_addr"] or not at[y] < got.at:
                            continue
                        best_x = (got.at, x) if best_x is None or (got.at, x) < best_x else best_x
                if best_x is not None:
                    got = answered[best_x[1]]
                    state[y] = Reply(got.at, got.reply, got.source, "thread", seconds(y, got.at))
                    by_rule["thread"] += 1
        runs.append(Counter({k: v for k, v in by_rule.items() if v}))
    return state, runs


# --------------------------------------------------------------------------- the property


_ENGINES: dict[str, Engine] = {}


def _engine(url: str) -> Engine:
    if url not in _ENGINES:
        _ENGINES[url] = open_database(url)
    return _ENGINES[url]


def run_matcher(engine: Engine, specs: list[Spec]) -> tuple[dict[int, Reply], list[Counter[str]]]:
    with engine.begin() as conn:
        conn.execute(delete(key_table))
        conn.execute(delete(table))
    runs: list[Counter[str]] = []
    for batch in range(3):
        new = [_row(k, s, specs) for k, s in enumerate(specs) if s.batch == batch]
        if not new and batch:
            continue
        with engine.begin() as conn:
            if new:
                conn.execute(insert(table), new)
            runs.append(match_replies(conn).by_rule)
    with engine.connect() as conn:
        rows = conn.execute(select(table).where(table.c.direction == "inbound")).all()
        index = {r.id: int(r.message_id[2:].split("@")[0]) for r in conn.execute(select(table.c.id, table.c.message_id))}
    found = {
        index[r.id]: Reply(r.replied_at, index[r.reply_message_id] if r.reply_message_id else None, r.reply_source, r.reply_rule, r.response_seconds)
        for r in rows
        if r.replied_at is not None
    }
    return found, runs


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(specs=histories())
def test_matching_agrees_with_the_reference(database_url: str, specs: list[Spec]) -> None:
    engine = _engine(database_url)
    got, runs = run_matcher(engine, specs)
    want, want_runs = reference(specs)
    assert got == want
    assert runs == want_runs


def _dense_history(seed: int = 11) -> list[Spec]:
    """160 messages on few keys: every inbound message has dozens of candidate replies."""
    import random

    rnd = random.Random(seed)
    hours = rnd.sample(range(40 * 24), 160)
    return [
        Spec(
            inbound=(inbound := rnd.random() < 0.55), hour=hours[k], counterparts=(rnd.randrange(4),) if inbound else tuple(sorted({rnd.randrange(3), rnd.randrange(3)})),
            subject=rnd.randrange(len(SUBJECTS)), case=rnd.randrange(len(CASES)), order=rnd.randrange(len(ORDERS)),
            refers=rnd.randrange(160) if rnd.random() < 0.3 else None, needs_reply=inbound and rnd.random() < 0.85,
            auto_reply=not inbound and rnd.random() < 0.1, answered=(answered := inbound and rnd.random() < 0.15),
            seen_after=rnd.randrange(30 * 24) if answered and rnd.random() < 0.8 else None,
            dismissed=inbound and rnd.random() < 0.05, batch=rnd.randrange(3),
        )
        for k in range(160)
    ]


def test_a_dense_history_agrees_with_the_reference(database_url: str) -> None:
    """Many messages on few keys: every inbound message has dozens of candidate replies."""
    specs = _dense_history()
    got, runs = run_matcher(_engine(database_url), specs)
    want, want_runs = reference(specs)
    assert got == want
    assert runs == want_runs
    assert sum(1 for r in want.values() if r.rule == "thread") > 0 and len(want) > 40


def test_replies_sent_at_the_same_time_the_lowest_id_answers(database_url: str) -> None:
    """Two replies with the same time (a mail program's whole-second Date headers): the
    choice is stable, the one stored first, on both backends and on both paths (the first
    run, and new replies against a message already waiting)."""
    inbound = Spec(True, 0, (0,), 6, 1, 0, None, True, False, False, None, False, 0)
    twins = [Spec(False, 5, (0, 2) if n else (0,), 6, 1, 0, None, False, False, False, None, False, 0) for n in range(2)]
    engine = _engine(database_url)
    for batch in (0, 1):
        specs = [inbound, *[Spec(**{**t.__dict__, "batch": batch}) for t in twins]]
        # one more waiting message, so the second run takes the path of new replies
        specs += [Spec(True, 100 + n, (1,), 0, 0, 0, None, True, False, False, None, False, 0) for n in range(3)]
        got, _ = run_matcher(engine, specs)
        assert got[0] == Reply(T0 + timedelta(hours=5), 1, "mail", "case_id", 5 * 3600)


def test_small_chunks_give_the_same_answers(database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The dense history again with tiny chunks and a tiny budget of cached siblings: results
    must not depend on where a chunk ends or when the cache is dropped."""
    from hygiene.store import replies

    monkeypatch.setattr(replies, "CHUNK", 7)
    monkeypatch.setattr(replies, "_SIBLINGS_CHUNK", 5)
    monkeypatch.setattr(replies, "_SIBLINGS_HELD", 3)
    test_a_dense_history_agrees_with_the_reference(database_url)


@pytest.mark.parametrize("chunk", [1, 2])
def test_replies_recorded_chunk_by_chunk_equal_one_chunk(database_url: str, monkeypatch: pytest.MonkeyPatch, chunk: int) -> None:
    """A first run records the replies of each chunk of waiting messages before reading the
    next chunk; a later run gathers a message's candidates from its own chunk and from any
    chunk of new replies. With chunks of one or two messages (every candidate of a message in
    another chunk of new replies, each chunk's replies written before the next is read) the
    results equal one chunk holding everything, and the reference, on both paths."""
    from hygiene.store import replies

    among = replies.replies_among
    calls = Counter[int]()

    def counted(conn: Any, outbound_ids: Any) -> Any:
        calls[chunk] += 1
        return among(conn, outbound_ids)

    monkeypatch.setattr(replies, "replies_among", counted)
    engine = _engine(database_url)
    dense = _dense_history(5)
    # every tenth reply after the rest, the other replies auto-replies (they answer nothing):
    # many messages waiting for a few new replies, each message with candidates in several
    some = [Spec(**{**s.__dict__, "batch": int(not s.inbound and k % 10 == 0), "auto_reply": s.auto_reply or (not s.inbound and k % 10 != 0)}) for k, s in enumerate(dense)]
    for specs in ([Spec(**{**s.__dict__, "batch": 0}) for s in dense], some, dense):
        monkeypatch.setattr(replies, "CHUNK", 4096)
        whole = run_matcher(engine, specs)
        monkeypatch.setattr(replies, "CHUNK", chunk)
        assert run_matcher(engine, specs) == whole
        assert whole == reference(specs)
        assert sum(1 for r in whole[0].values() if r.source == "mail") > 20
    assert calls[chunk] > 0  # the path of new replies against messages already waiting was taken
