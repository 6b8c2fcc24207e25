"""Queries behind reply matching, ``check`` and the manual marks. Set-based: each step is a
few indexed statements over batches of ids, never a Python loop issuing one query per row.
The caller owns the transaction."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Table, and_, bindparam, func, insert, or_, select, true, update
from sqlalchemy.orm import aliased

from hygiene.store.models import Message, ThreadKey

CHUNK = 500

_M: Table = Message.__table__  # type: ignore[assignment]
_K: Table = ThreadKey.__table__  # type: ignore[assignment]


def _chunks(ids: Sequence[int]) -> Iterable[Sequence[int]]:
    for i in range(0, len(ids), CHUNK):
        yield ids[i : i + CHUNK]


def _account(query: Any, account: str | None) -> Any:
    return query.where(Message.account == account) if account else query


# --------------------------------------------------------------------------- keying

KeysFn = Callable[[Any], list[tuple[str, str]]]
DeadlineFn = Callable[[Any], tuple[datetime, str] | None]


def key_new_messages(
    conn: Connection,
    account: str | None,
    keys_for: KeysFn,
    deadline_for: DeadlineFn,
    *,
    window: timedelta,
    batch: int = 2000,
) -> tuple[list[int], list[int]]:
    """Compute thread keys (and stated deadlines) of the messages not keyed yet.

    Returns the ids of the new inbound and outbound messages."""
    new_in: list[int] = []
    new_out: list[int] = []
    stamp = datetime.now(UTC)
    columns = (
        Message.id,
        Message.account,
        Message.direction,
        Message.needs_reply,
        Message.category,
        Message.auto_reply,
        Message.message_id,
        Message.in_reply_to,
        _M.c.message_references,
        Message.from_addr,
        Message.to_addrs,
        Message.cc_addrs,
        Message.subject,
        Message.body_text,
        Message.received_at,
    )
    last_id = 0
    while True:
        query = _account(select(*columns).where(Message.keyed_at.is_(None), Message.id > last_id), account)
        rows = list(conn.execute(query.order_by(Message.id).limit(batch)))
        if not rows:
            break
        last_id = rows[-1].id
        key_rows: list[dict[str, Any]] = []
        marks: list[dict[str, Any]] = []
        for row in rows:
            for kind, key in keys_for(row):
                key_rows.append(
                    {
                        "message_id": row.id,
                        "account": row.account,
                        "direction": row.direction,
                        "kind": kind,
                        "key": key,
                        "at": row.received_at,
                        "window_end": row.received_at + window if kind == "subj" and row.direction == "inbound" else None,
                    }
                )
            stated = deadline_for(row)
            marks.append(
                {
                    "b_id": row.id,
                    "b_keyed_at": stamp,
                    "b_stated_at": stated[0] if stated else None,
                    "b_stated_text": stated[1] if stated else None,
                }
            )
            (new_in if row.direction == "inbound" else new_out).append(row.id)
        if key_rows:
            conn.execute(insert(_K), key_rows)
        conn.execute(
            update(_M)
            .where(_M.c.id == bindparam("b_id"))
            .values(
                keyed_at=bindparam("b_keyed_at"),
                stated_deadline_at=bindparam("b_stated_at"),
                stated_deadline_text=bindparam("b_stated_text"),
            ),
            marks,
        )
    return new_in, new_out


# --------------------------------------------------------------------------- matching


def _waiting() -> Any:
    """Inbound messages that still need a reply (a flag-only reply may still be refined by
    the mail that shows when it was sent)."""
    return and_(
        Message.direction == "inbound",
        Message.needs_reply == true(),
        or_(Message.replied_at.is_(None), Message.reply_source == "answered_flag"),
        Message.dismissed_at.is_(None),
    )


def waiting_ids(conn: Connection, account: str | None) -> set[int]:
    return set(conn.execute(_account(select(Message.id).where(_waiting()), account)).scalars())


@dataclass(frozen=True)
class KeyMatch:
    inbound_id: int
    kind: str
    in_at: datetime
    outbound_id: int
    out_at: datetime


def key_matches(
    conn: Connection, *, inbound_ids: Sequence[int] = (), outbound_ids: Sequence[int] = ()
) -> list[KeyMatch]:
    """Inbound/outbound pairs sharing a key, the outbound one sent later (for a Message-ID
    reference, any time: the reference itself proves the order, whatever the clocks say)."""
    i = aliased(ThreadKey, name="i")
    o = aliased(ThreadKey, name="o")
    base = (
        select(i.message_id, i.kind, i.at, o.message_id, o.at)
        .select_from(i)
        .join(
            o,
            and_(
                o.account == i.account,
                o.key == i.key,
                o.direction == "outbound",
                or_(o.at > i.at, i.kind == "mid"),
                # Subject matches only within the window: bounds the join on common subjects.
                or_(i.window_end.is_(None), o.at <= i.window_end),
            ),
        )
        .where(i.direction == "inbound", i.kind != "tref")
    )
    out: list[KeyMatch] = []
    for ids, column in ((inbound_ids, i.message_id), (outbound_ids, o.message_id)):
        for chunk in _chunks(sorted(set(ids))):
            for r in conn.execute(base.where(column.in_(chunk))):
                out.append(KeyMatch(r[0], r[1], r[2], r[3], r[4]))
    return out


def answered_flag_times(conn: Connection, ids: Sequence[int]) -> dict[int, datetime]:
    found: dict[int, datetime] = {}
    for chunk in _chunks(sorted(ids)):
        query = select(Message.id, Message.replied_at).where(
            Message.id.in_(chunk), Message.reply_source == "answered_flag"
        )
        found.update({mid: at for mid, at in conn.execute(query) if at is not None})
    return found


def _seconds(received_at: datetime, replied_at: datetime) -> int:
    return max(0, int((replied_at - received_at).total_seconds()))


def _received(conn: Connection, ids: Sequence[int]) -> dict[int, datetime]:
    found: dict[int, datetime] = {}
    for chunk in _chunks(sorted(ids)):
        query = select(Message.id, Message.received_at).where(Message.id.in_(chunk))
        found.update({mid: at for mid, at in conn.execute(query)})
    return found


def _write_replies(conn: Connection, values: list[dict[str, Any]]) -> None:
    if not values:
        return
    conn.execute(
        update(_M)
        .where(_M.c.id == bindparam("b_id"))
        .values(
            replied_at=bindparam("b_at"),
            reply_message_id=bindparam("b_reply"),
            reply_source=bindparam("b_source"),
            reply_rule=bindparam("b_rule"),
            response_seconds=bindparam("b_seconds"),
        ),
        values,
    )


def record_mail_replies(conn: Connection, replies: Sequence[tuple[int, int, datetime, str]]) -> None:
    """(inbound id, outbound id, sent at, rule) → the inbound message's reply columns."""
    received = _received(conn, [r[0] for r in replies])
    _write_replies(
        conn,
        [
            {"b_id": i, "b_at": at, "b_reply": o, "b_source": "mail", "b_rule": rule, "b_seconds": _seconds(received[i], at)}
            for i, o, at, rule in replies
        ],
    )


def record_answered_flags(conn: Connection, account: str | None) -> list[int]:
    """Waiting messages the server marks \\Answered: replied when the flag was first seen."""
    query = _account(
        select(Message.id, Message.received_at, Message.answered_seen_at).where(
            Message.direction == "inbound",
            Message.needs_reply == true(),
            Message.replied_at.is_(None),
            Message.dismissed_at.is_(None),
            Message.answered == true(),
        ),
        account,
    )
    values = []
    for mid, received_at, seen_at in conn.execute(query):
        at = seen_at or received_at
        values.append({"b_id": mid, "b_at": at, "b_reply": None, "b_source": "answered_flag", "b_rule": None, "b_seconds": _seconds(received_at, at)})
    _write_replies(conn, values)
    return [v["b_id"] for v in values]


def answer_thread_siblings(conn: Connection) -> int:
    """A reply also answers the earlier unanswered messages of its thread from the same
    counterpart. Returns how many were answered that way.

    Works from the few messages still waiting, not from the many just answered: when
    thousands of messages share one key (one counterpart, one subject), starting from the
    answered side joins every pair of them. A message that arrives late (received before a
    reply already stored) is answered too, whenever it shows up."""
    # waiting and not even answered by a flag
    still_waiting = sorted(conn.execute(select(Message.id).where(_waiting(), Message.replied_at.is_(None))).scalars())
    if not still_waiting:
        return 0
    x = aliased(ThreadKey, name="x")
    y = aliased(ThreadKey, name="y")
    xm = aliased(Message, name="xm")
    ym = aliased(Message, name="ym")
    base = (
        select(y.message_id, ym.received_at, xm.replied_at, xm.reply_message_id, xm.reply_source)
        .select_from(y)
        .join(ym, ym.id == y.message_id)
        .join(
            x,
            and_(
                x.account == y.account,
                x.key == y.key,
                x.direction == "inbound",
                x.message_id != y.message_id,
                # A shared subject ties two messages only within the subject window.
                or_(y.window_end.is_(None), x.at <= y.window_end),
            ),
        )
        .join(xm, xm.id == x.message_id)
        .where(
            y.direction == "inbound",
            # answered by mail or a flag: not through a sibling (no chains of threads), and not
            # by a manual mark (undoing the mark must not leave its siblings answered)
            xm.reply_source.in_(("mail", "answered_flag")),
            or_(xm.reply_rule.is_(None), xm.reply_rule != "thread"),
            xm.from_addr == ym.from_addr,
            ym.received_at < xm.replied_at,
        )
    )
    best: dict[int, dict[str, Any]] = {}
    for chunk in _chunks(still_waiting):
        for y_id, received_at, at, reply_id, source in conn.execute(base.where(y.message_id.in_(chunk))):
            if at is None or (y_id in best and best[y_id]["b_at"] <= at):
                continue
            best[y_id] = {"b_id": y_id, "b_at": at, "b_reply": reply_id, "b_source": source, "b_rule": "thread", "b_seconds": _seconds(received_at, at)}
    _write_replies(conn, list(best.values()))
    return len(best)


# --------------------------------------------------------------------------- check


def awaiting_reply(conn: Connection, account: str | None = None) -> list[Any]:
    """Every inbound message that needs a reply and has none (nor a dismissal)."""
    query = select(
        Message.id,
        Message.account,
        Message.category,
        Message.from_name,
        Message.from_addr,
        Message.subject,
        Message.received_at,
        Message.stated_deadline_at,
        Message.stated_deadline_text,
    ).where(
        Message.needs_reply == true(),
        Message.replied_at.is_(None),
        Message.dismissed_at.is_(None),
        Message.direction == "inbound",
    )
    return list(conn.execute(_account(query, account)))


def off_list_counts(conn: Connection, account: str | None = None) -> dict[str, int]:
    """How many messages needing a reply were replied to or dismissed (for --verbose)."""
    query = _account(
        select(
            func.count(Message.replied_at),
            func.count(Message.dismissed_at),
        ).where(Message.needs_reply == true()),
        account,
    )
    replied, dismissed = conn.execute(query).one()
    return {"replied": int(replied), "dismissed": int(dismissed)}


def reply_summary(conn: Connection, account: str | None = None) -> tuple[dict[str, int], list[int]]:
    """Replies by (source or rule), and every response time in seconds (for the demo)."""
    query = _account(
        select(Message.reply_source, Message.reply_rule, Message.response_seconds).where(
            Message.direction == "inbound", Message.replied_at.is_not(None)
        ),
        account,
    )
    by: dict[str, int] = {}
    seconds: list[int] = []
    for source, rule, secs in conn.execute(query):
        name = rule or source
        by[name] = by.get(name, 0) + 1
        if secs is not None:
            seconds.append(int(secs))
    return by, seconds


# --------------------------------------------------------------------------- one message


def get_message(conn: Connection, message_id: int) -> Any | None:
    return conn.execute(select(_M).where(_M.c.id == message_id)).first()


def thread_of(conn: Connection, message_id: int, *, limit: int = 100) -> list[Any]:
    """The messages sharing a thread key with this one (itself included), oldest first."""
    a = aliased(ThreadKey, name="a")
    b = aliased(ThreadKey, name="b")
    related = (
        select(b.message_id)
        .select_from(a)
        .join(b, and_(b.account == a.account, b.key == a.key))
        .where(a.message_id == message_id)
    )
    query = (
        select(_M)
        .where(or_(_M.c.id.in_(related), _M.c.id == message_id, _M.c.reply_message_id == message_id))
        .order_by(_M.c.received_at, _M.c.id)
        .limit(limit)
    )
    return list(conn.execute(query))


def mark_replied(conn: Connection, message_id: int, at: datetime) -> None:
    """The seller answered elsewhere (Seller Central) at ``at``: the first reply, unless a
    reply already known was earlier."""
    row = get_message(conn, message_id)
    assert row is not None
    values: dict[str, Any] = {"manual_replied_at": at}
    if row.replied_at is None or at < row.replied_at:
        values |= {
            "replied_at": at,
            "reply_source": "manual",
            "reply_rule": None,
            "reply_message_id": None,
            "response_seconds": _seconds(row.received_at, at),
        }
    conn.execute(update(_M).where(_M.c.id == message_id).values(**values))


def mark_dismissed(conn: Connection, message_id: int, at: datetime, reason: str) -> None:
    conn.execute(update(_M).where(_M.c.id == message_id).values(dismissed_at=at, dismiss_reason=reason))


def clear_manual_marks(conn: Connection, message_id: int) -> list[str]:
    """Undo 'replied' and 'dismiss' on a message; returns what was undone."""
    row = get_message(conn, message_id)
    assert row is not None
    undone: list[str] = []
    values: dict[str, Any] = {}
    if row.manual_replied_at is not None:
        undone.append("replied")
        values["manual_replied_at"] = None
        if row.reply_source == "manual":
            values |= {"replied_at": None, "reply_source": None, "reply_rule": None, "reply_message_id": None, "response_seconds": None}
    if row.dismissed_at is not None:
        undone.append("dismissed")
        values |= {"dismissed_at": None, "dismiss_reason": None}
    if values:
        conn.execute(update(_M).where(_M.c.id == message_id).values(**values))
    return undone


def suspicious_since(conn: Connection, since: datetime, account: str | None = None, *, stored_after: datetime | None = None) -> list[Any]:
    """Mail judged to only claim to be Amazon, received since ``since`` (and stored after
    ``stored_after``, when given), newest first."""
    query = select(_M.c.id, _M.c.from_addr, _M.c.subject, _M.c.received_at, _M.c.suspicious_reasons).where(
        _M.c.category == "suspicious", _M.c.received_at >= since
    )
    if stored_after is not None:
        query = query.where(_M.c.stored_at > stored_after)
    return list(conn.execute(_account(query.order_by(_M.c.received_at.desc()), account)))
