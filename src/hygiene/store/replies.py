"""Queries behind reply matching, ``check`` and the manual marks. Set-based: each step is a
few indexed statements over batches of ids, never a Python loop issuing one query per row.
The caller owns the transaction."""

from __future__ import annotations

from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import (
    Connection,
    and_,
    bindparam,
    func,
    insert,
    or_,
    select,
    text,
    true,
    update,
)

from hygiene.store.tables import messages as _M
from hygiene.store.tables import thread_keys as _K
from hygiene.store.tables import waiting_marked_answered

CHUNK = 500
#: waiting messages (and keys) a statement of answer_thread_siblings looks at: each lookup of
#: the answered messages costs a read of them on PostgreSQL, so fewer, larger ones
_SIBLINGS_CHUNK = 2000
#: answered key rows held at once by answer_thread_siblings (~0.2 kB each)
_SIBLINGS_HELD = 200_000
_MAX_ID = 2**63



def _chunks(ids: Sequence[int], size: int | None = None) -> Iterable[Sequence[int]]:
    size = size or CHUNK
    for i in range(0, len(ids), size):
        yield _padded(ids[i : i + size], size)


def _padded(values: Sequence[Any], most: int = _SIBLINGS_CHUNK) -> list[Any]:
    """``values`` for an ``IN`` list, its last one repeated up to a power of two (or ``most``):
    the same rows match. Each length is a statement of its own, and SQLite keeps up to 128
    prepared per connection, ~140 bytes an id: lengths that follow the count of waiting
    messages made the watcher grow with the mail it stored (tens of MB, bench/watch_memory.py)."""
    out = list(values)
    if out:
        out.extend(out[-1:] * (min(most, 1 << (len(out) - 1).bit_length()) - len(out)))
    return out


def _account(query: Any, account: str | None) -> Any:
    return query.where(_M.c.account == account) if account else query


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
) -> tuple[array[int], array[int]]:
    """Compute thread keys (and stated deadlines) of the messages not keyed yet.

    Returns the ids of the new inbound and outbound messages, ascending, 8 bytes each (a list
    of ints costs ~36: 36 MB for a first import of a million messages)."""
    new_in: array[int] = array("q")
    new_out: array[int] = array("q")
    stamp = datetime.now(UTC)
    columns = (
        _M.c.id,
        _M.c.account,
        _M.c.direction,
        _M.c.needs_reply,
        _M.c.category,
        _M.c.auto_reply,
        _M.c.message_id,
        _M.c.in_reply_to,
        _M.c.message_references,
        _M.c.from_addr,
        _M.c.to_addrs,
        _M.c.cc_addrs,
        _M.c.subject,
        _M.c.body_text,
        _M.c.received_at,
    )
    last_id = 0
    inserted = 0
    if conn.dialect.name == "postgresql":
        pending = conn.execute(_account(select(func.count()).select_from(_M).where(_M.c.keyed_at.is_(None)), account)).scalar_one()
        _analyze(conn, "messages", pending)
    while True:
        query = _account(select(*columns).where(_M.c.keyed_at.is_(None), _M.c.id > last_id), account)
        rows = list(conn.execute(query.order_by(_M.c.id).limit(batch)))
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
            if stated:
                marks.append({"b_id": row.id, "b_stated_at": stated[0], "b_stated_text": stated[1]})
            (new_in if row.direction == "inbound" else new_out).append(row.id)
        if key_rows:
            _insert_keys(conn, key_rows)
            inserted += len(key_rows)
        # One statement a batch marks it keyed (an UPDATE a row cost a round trip each on
        # PostgreSQL); then the few that state their own deadline.
        conn.execute(
            update(_M)
            .where(_M.c.id.in_([row.id for row in rows]))
            .values(keyed_at=stamp, stated_deadline_at=None, stated_deadline_text=None)
        )
        if marks:
            conn.execute(
                update(_M)
                .where(_M.c.id == bindparam("b_id"))
                .values(stated_deadline_at=bindparam("b_stated_at"), stated_deadline_text=bindparam("b_stated_text")),
                marks,
            )
    _analyze(conn, "thread_keys", inserted)
    return new_in, new_out


_KEY_COLUMNS = ("message_id", "account", "direction", "kind", "key", "at", "window_end")


def _naive_utc(at: datetime | None) -> datetime | None:
    return at.astimezone(UTC).replace(tzinfo=None) if at is not None else None


def _insert_keys(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """Key rows in bulk: on PostgreSQL through COPY (an executemany INSERT sends a statement a
    row: 4.1 s against 1.5 s for the 230,000 keys of 50,000 messages); elsewhere an
    executemany, which SQLite runs in one loop of its own."""
    if conn.dialect.driver != "psycopg":
        conn.execute(insert(_K), rows)
        return
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    with cursor.copy(f"COPY thread_keys ({', '.join(_KEY_COLUMNS)}) FROM STDIN") as copy:
        for r in rows:  # stored as naive UTC, as the UTCDateTime columns store them
            copy.write_row((r["message_id"], r["account"], r["direction"], r["kind"], r["key"], _naive_utc(r["at"]), _naive_utc(r["window_end"])))


#: Rows written in bulk past which PostgreSQL's statistics of a table are refreshed
ANALYZE_AFTER = 5000


def _analyze(conn: Connection, table: str, rows: int) -> None:
    """After a bulk load (a first sync, a first keying), let PostgreSQL see the table as it
    now is. With the statistics of an empty table it plans "messages not keyed yet" as a
    bitmap of all of them, sorted again for every batch (quadratic: 3.6 s of the keying of
    100,000 messages, against 0.45 s), and looks up the keys of a chunk of messages by
    scanning the whole key index (80 ms a chunk, against 8 ms).
    Autovacuum analyzes later, but the first check runs in the same minute. SQLite plans
    these queries from the indexes alone."""
    if rows >= ANALYZE_AFTER and conn.dialect.name == "postgresql":
        conn.execute(text(f"ANALYZE {table}"))


# --------------------------------------------------------------------------- matching


def _waiting(m: Any = _M) -> Any:
    """Inbound messages that still need a reply (a flag-only reply may still be refined by
    the mail that shows when it was sent)."""
    return and_(
        m.c.direction == "inbound",
        m.c.needs_reply == true(),
        or_(m.c.replied_at.is_(None), m.c.reply_source == "answered_flag"),
        m.c.dismissed_at.is_(None),
    )


class Ids:
    """Ids ascending, without repeats, 8 bytes each: a set of ints costs ~70 (31 MB for the
    470,000 messages waiting before the first reply matching of a million)."""

    def __init__(self, ids: Iterable[int] = ()) -> None:
        self.ids: array[int] = array("q", ids)

    def __len__(self) -> int:
        return len(self.ids)

    def __iter__(self) -> Iterator[int]:
        return iter(self.ids)

    def __contains__(self, value: object) -> bool:
        at = bisect_left(self.ids, value)  # type: ignore[call-overload]
        return at < len(self.ids) and self.ids[at] == value


def waiting_ids(conn: Connection, account: str | None) -> Ids:
    """The messages waiting for a reply (see :func:`_waiting`)."""
    # Not streamed (yield_per): PostgreSQL plans a cursor for its first rows, here a walk of
    # the whole primary key in id order instead of the small index of waiting messages.
    return Ids(conn.execute(_account(select(_M.c.id).where(_waiting()), account).order_by(_M.c.id)).scalars())


@dataclass(frozen=True, slots=True)
class KeyMatch:
    """The first outbound message sharing one of an inbound message's keys (one per inbound
    key: a handful per message, whatever the thread's length). The earliest reply wins; on a
    tie in time, the lowest id."""

    inbound_id: int
    kind: str
    in_at: datetime
    outbound_id: int
    out_at: datetime


def first_replies(conn: Connection, inbound_ids: Sequence[int]) -> Iterator[list[KeyMatch]]:
    """Per inbound key (message and key kind), the earliest outbound message sharing that key,
    in chunks of inbound messages (``inbound_ids`` without repeats: each chunk holds every
    candidate of its messages).

    One row per inbound key, never one per pair: the earliest time is a correlated MIN that
    reads the first entry of the key's range in ``ix_thread_keys_lookup`` (account, key,
    direction, at), so a case ID shared by thousands of messages costs one index seek per
    message, not one row per inbound × outbound pair. The window of a subject key is an upper
    bound on the reply time, so the earliest reply is inside it if any is."""
    i = _K.alias("i")
    o = _K.alias("o")
    o2 = _K.alias("o2")
    same_key = and_(o.c.account == i.c.account, o.c.key == i.c.key, o.c.direction == "outbound")
    ids: Any = bindparam("ids", expanding=True)
    # Two statements (a Message-ID reference has no lower bound in time), so each subquery is
    # a plain range of the index on both SQLite and PostgreSQL; the time and the id are two
    # independent subqueries (one reading another is planned as both, twice over).
    queries = []
    for kinds, later in ((("mid",), None), (("case", "order", "subj"), o.c.at > i.c.at)):
        bounds = [same_key] if later is None else [same_key, later]
        first_at = select(func.min(o.c.at)).where(*bounds).correlate(i).scalar_subquery()
        # the lowest id among those sent at that very time: an equality seek (an ORDER BY at,
        # id LIMIT 1 is planned by PostgreSQL as a sort of the key's whole range)
        first_id = (
            select(func.min(o2.c.message_id))
            .where(o2.c.account == i.c.account, o2.c.key == i.c.key, o2.c.direction == "outbound", o2.c.at == first_at)
            .correlate(i)
            .scalar_subquery()
        )
        queries.append(
            select(i.c.message_id, i.c.kind, i.c.at, i.c.window_end, first_id, first_at).where(
                i.c.direction == "inbound", i.c.kind.in_(kinds), i.c.message_id.in_(ids)
            )
        )
    for chunk in _chunks(inbound_ids):
        found: list[KeyMatch] = []
        for query in queries:
            for message_id, kind, at, window_end, reply_id, reply_at in conn.execute(query, {"ids": list(chunk)}):
                if reply_at is not None and (window_end is None or reply_at <= window_end):
                    found.append(KeyMatch(message_id, kind, at, reply_id, reply_at))
        yield found


def replies_among(conn: Connection, outbound_ids: Sequence[int]) -> Iterator[list[KeyMatch]]:
    """Per waiting inbound message and key kind, the earliest of these outbound messages (the
    new ones) sharing that key, in chunks of outbound messages.

    Each key of the chunk is read once: its outbound times sorted here, and the inbound
    messages on it still waiting (a range of ``ix_thread_keys_lookup`` each), then one binary
    search per waiting message. A chunk of new replies in a thread of thousands costs the
    thread's waiting messages, not new replies × thread."""
    o = _K.alias("o")
    i = _K.alias("i")
    m = _M.alias("m")
    sent = select(o.c.account, o.c.key, o.c.at, o.c.message_id).where(
        o.c.direction == "outbound", o.c.message_id.in_(bindparam("ids", expanding=True))
    )
    waiting = (
        select(i.c.message_id, i.c.kind, i.c.at, i.c.window_end, i.c.account, i.c.key)
        .join(m, m.c.id == i.c.message_id)
        .where(
            i.c.account.in_(bindparam("accounts", expanding=True)),
            i.c.key.in_(bindparam("keys", expanding=True)),
            i.c.direction == "inbound",
            i.c.kind != "tref",
            _waiting(m),
        )
    )
    for chunk in _chunks(sorted(set(outbound_ids))):
        by_key: dict[tuple[str, str], list[tuple[datetime, int]]] = {}
        for account, key, at, message_id in conn.execute(sent, {"ids": list(chunk)}):
            by_key.setdefault((account, key), []).append((at, message_id))
        for times in by_key.values():
            times.sort()
        found: list[KeyMatch] = []
        keys = sorted(by_key)
        for part in range(0, len(keys), CHUNK):
            some = keys[part : part + CHUNK]
            params = {"accounts": _padded(sorted({a for a, _ in some})), "keys": _padded(sorted({k for _, k in some}))}
            for message_id, kind, at, window_end, account, key in conn.execute(waiting, params):
                replies = by_key.get((account, key))
                if replies is None:
                    continue
                # the first sent after the message (any time, for a Message-ID reference);
                # (at, max id) sorts after every entry at that very time
                first = 0 if kind == "mid" else bisect_right(replies, (at, _MAX_ID))
                if first == len(replies) or (window_end is not None and replies[first][0] > window_end):
                    continue
                found.append(KeyMatch(message_id, kind, at, replies[first][1], replies[first][0]))
        yield found


def answered_flag_times(conn: Connection, ids: Sequence[int]) -> dict[int, datetime]:
    found: dict[int, datetime] = {}
    for chunk in _chunks(sorted(ids)):
        query = select(_M.c.id, _M.c.replied_at).where(
            _M.c.id.in_(chunk), _M.c.reply_source == "answered_flag"
        )
        found.update({mid: at for mid, at in conn.execute(query) if at is not None})
    return found


def _seconds(received_at: datetime, replied_at: datetime) -> int:
    return max(0, int((replied_at - received_at).total_seconds()))


def _received(conn: Connection, ids: Sequence[int]) -> dict[int, datetime]:
    found: dict[int, datetime] = {}
    for chunk in _chunks(sorted(ids)):
        query = select(_M.c.id, _M.c.received_at).where(_M.c.id.in_(chunk))
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


def replies_recorded(conn: Connection, count: int) -> None:
    """After ``count`` replies were recorded (in chunks, by :func:`record_mail_replies`)."""
    # the thread siblings look the answered messages up next: with statistics that say none
    # is answered, PostgreSQL read all of them for every chunk of keys (22 s of 29 on a case
    # of 45,000 messages)
    _analyze(conn, "messages", 5 * count)


def record_answered_flags(conn: Connection, account: str | None) -> int:
    """Waiting messages the server marks \\Answered: replied when the flag was first seen.
    Returns how many.

    A chunk at a time: the first import of a mailbox whose replies are not in it (sent from
    another program, or Seller Central) can flag every message it holds."""
    query = _account(select(_M.c.id).where(waiting_marked_answered()), account).order_by(_M.c.id)
    # not streamed: see waiting_ids (every check runs this; a cursor made it 0.4 s at a million)
    ids: array[int] = array("q", conn.execute(query).scalars())
    times = select(_M.c.id, _M.c.received_at, _M.c.answered_seen_at).where(_M.c.id.in_(bindparam("ids", expanding=True)))
    for chunk in _chunks(ids):
        values = []
        for mid, received_at, seen_at in conn.execute(times, {"ids": list(chunk)}):
            at = seen_at or received_at
            values.append({"b_id": mid, "b_at": at, "b_reply": None, "b_source": "answered_flag", "b_rule": None, "b_seconds": _seconds(received_at, at)})
        _write_replies(conn, values)
    return len(ids)


@dataclass(frozen=True, slots=True)
class _Answered:
    """An answered message on a key, as answer_thread_siblings holds it (~0.2 kB; the row of
    its query, with its key and account, ~0.6 kB)."""

    replied_at: datetime
    message_id: int
    at: datetime
    from_addr: str | None
    reply_message_id: int | None
    reply_source: str


def answer_thread_siblings(conn: Connection) -> int:
    """A reply also answers the earlier unanswered messages of its thread from the same
    counterpart. Returns how many were answered that way.

    Works from the few messages still waiting, a chunk at a time: their keys, then the
    answered messages on those keys (a range of ``ix_thread_keys_lookup`` each), sorted by
    reply time here, and one binary search per waiting key. Joining waiting and answered
    messages pair by pair in SQL grew with their product: 24 s for a Seller Support case of
    6,000 messages, one in ten answered. A message that arrives late (received before a reply
    already stored) is answered too, whenever it shows up."""
    # waiting and not even answered by a flag
    still_waiting = sorted(conn.execute(select(_M.c.id).where(_waiting(), _M.c.replied_at.is_(None))).scalars())
    if not still_waiting:
        return 0
    y = _K.alias("y")
    ym = _M.alias("ym")
    x = _K.alias("x")
    xm = _M.alias("xm")
    waiting_keys = (
        select(y.c.message_id, y.c.account, y.c.key, y.c.window_end, ym.c.received_at, ym.c.from_addr)
        .join(ym, ym.c.id == y.c.message_id)
        .where(y.c.direction == "inbound", y.c.message_id.in_(bindparam("ids", expanding=True)))
    )
    answered = (
        select(x.c.account, x.c.key, xm.c.replied_at, x.c.message_id, x.c.at, xm.c.from_addr, xm.c.reply_message_id, xm.c.reply_source)
        .join(xm, xm.c.id == x.c.message_id)
        .where(
            x.c.account.in_(bindparam("accounts", expanding=True)),
            x.c.key.in_(bindparam("keys", expanding=True)),
            x.c.direction == "inbound",
            # answered by mail or a flag: not through a sibling (no chains of threads), and not
            # by a manual mark (undoing the mark must not leave its siblings answered)
            xm.c.reply_source.in_(("mail", "answered_flag")),
            or_(xm.c.reply_rule.is_(None), xm.c.reply_rule != "thread"),
            xm.c.replied_at.is_not(None),
        )
    )
    answered_count = 0
    # The answered messages of each key, sorted by reply time: read once however many chunks
    # of waiting messages share the key, up to a budget. What a chunk writes does not change
    # them (a message answered through a sibling answers no other), so each chunk's siblings
    # are written as they are found, not held to the end.
    siblings: dict[tuple[str, str], list[_Answered]] = {}
    names: dict[str, str] = {}  # one copy of each sender address (a buyer's, Seller Support's)
    held = 0
    for chunk in _chunks(still_waiting, _SIBLINGS_CHUNK):
        rows = list(conn.execute(waiting_keys, {"ids": list(chunk)}))
        missing = sorted({(r.account, r.key) for r in rows} - siblings.keys())
        if held > _SIBLINGS_HELD:
            siblings.clear()
            names.clear()
            held = 0
            missing = sorted({(r.account, r.key) for r in rows})
        for part in range(0, len(missing), _SIBLINGS_CHUNK):
            some = missing[part : part + _SIBLINGS_CHUNK]
            wanted = set(some)  # the IN lists also match other pairs of account and key
            for key in some:
                siblings[key] = []
            params = {"accounts": _padded(sorted({a for a, _ in some})), "keys": _padded(sorted({k for _, k in some}))}
            for r in conn.execute(answered, params):
                if (r.account, r.key) in wanted:
                    siblings[(r.account, r.key)].append(
                        _Answered(r.replied_at, r.message_id, r.at, names.setdefault(r.from_addr, r.from_addr),
                                  r.reply_message_id, names.setdefault(r.reply_source, r.reply_source))
                    )
                    held += 1
            for key in some:
                siblings[key].sort(key=lambda r: (r.replied_at, r.message_id))
        best: dict[int, tuple[Any, _Answered]] = {}  # waiting id -> (its row, the sibling chosen)
        for w in rows:
            found = siblings[(w.account, w.key)]
            # the earliest reply after the message (lowest sibling id on a tie in time)
            for n in range(bisect_right(found, w.received_at, key=lambda r: r.replied_at), len(found)):
                f = found[n]
                # a waiting message is never among the answered, so never its own sibling;
                # a shared subject ties two messages only within the subject window
                if f.from_addr != w.from_addr or (w.window_end is not None and f.at > w.window_end):
                    continue
                current = best.get(w.message_id)
                if current is None or (f.replied_at, f.message_id) < (current[1].replied_at, current[1].message_id):
                    best[w.message_id] = (w, f)
                break
        _write_replies(
            conn,
            [
                {"b_id": w.message_id, "b_at": f.replied_at, "b_reply": f.reply_message_id, "b_source": f.reply_source,
                 "b_rule": "thread", "b_seconds": _seconds(w.received_at, f.replied_at)}
                for w, f in best.values()
            ],
        )
        answered_count += len(best)
    return answered_count


# --------------------------------------------------------------------------- check


def awaiting_reply(conn: Connection, account: str | None = None) -> list[Any]:
    """Every inbound message that needs a reply and has none (nor a dismissal)."""
    query = select(
        _M.c.id,
        _M.c.account,
        _M.c.category,
        _M.c.from_name,
        _M.c.from_addr,
        _M.c.subject,
        _M.c.received_at,
        _M.c.stated_deadline_at,
        _M.c.stated_deadline_text,
    ).where(
        _M.c.needs_reply == true(),
        _M.c.replied_at.is_(None),
        _M.c.dismissed_at.is_(None),
        _M.c.direction == "inbound",
    )
    return list(conn.execute(_account(query, account)))


def off_list_counts(conn: Connection, account: str | None = None) -> dict[str, int]:
    """How many messages needing a reply were replied to or dismissed (for --verbose)."""
    query = _account(
        select(
            func.count(_M.c.replied_at),
            func.count(_M.c.dismissed_at),
        ).where(_M.c.needs_reply == true()),
        account,
    )
    replied, dismissed = conn.execute(query).one()
    return {"replied": int(replied), "dismissed": int(dismissed)}


def reply_summary(conn: Connection, account: str | None = None) -> tuple[dict[str, int], list[int]]:
    """Replies by (source or rule), and every response time in seconds (for the demo)."""
    query = _account(
        select(_M.c.reply_source, _M.c.reply_rule, _M.c.response_seconds).where(
            _M.c.direction == "inbound", _M.c.replied_at.is_not(None)
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
    a = _K.alias("a")
    b = _K.alias("b")
    related = (
        select(b.c.message_id)
        .select_from(a)
        .join(b, and_(b.c.account == a.c.account, b.c.key == a.c.key))
        .where(a.c.message_id == message_id)
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
