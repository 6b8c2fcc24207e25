"""Reply matching: which outbound message answered which inbound message.

An inbound message that needs a reply is answered by the first outbound message that replies
to it, found by these rules (strongest first):

``references``  the reply's In-Reply-To / References name the message's Message-ID;
``case_id`` / ``order_id``
                the same Amazon case ID (ケースID / Case ID, 10+ digits) or order ID
                (``\\d{3}-\\d{7}-\\d{7}``) in subject or body, sent later;
``subject``     the same normalised subject, sent later within 14 days.

Every rule needs the counterpart (the sender of the message answered: the buyer's relay
address, Seller Support's address) among the reply's To/Cc: mail programs keep In-Reply-To /
References when the seller writes to someone else from a message, and mail to Seller Support
about a buyer's order answers Seller Support, not the buyer. A forward (subject opening with
Fwd:/FW:/転送:/[転送], see ``is_forward``) answers nothing, whoever it goes to.

When several outbound messages match, the earliest one is the reply (that is the response
time Amazon sees); on a tie the stronger rule is recorded. The server's \\Answered flag counts
too (time: when a poll first saw it), as does the seller's manual mark (``hygiene replied``).
A reply also answers the earlier unanswered messages from the same counterpart in the same
thread (rule ``thread``); a message that arrives after a reply starts a new clock, because only
replies sent after it can answer it. Auto-replies (headers, or a template's subject or opening
lines: see ``hygiene.mail.parse.AUTO_REPLY_SUBJECTS``) and forwards never count: they get no
keys at all.

How it stays fast: every message is keyed once (``thread_keys`` rows: Message-IDs, case and
order IDs and the normalised subject, each joined with the counterpart address), and matching
only looks at what is new since the last run — new inbound messages against all outbound keys,
and new outbound messages against the inbound messages still waiting. Its cost follows the
messages, not the pairs of a thread: each inbound key finds its first reply with one index
seek, however many messages share the key (one Seller Support case, one busy order), and the
work goes in chunks, so memory stays flat.
"""

from __future__ import annotations

import re
import unicodedata
from array import array
from collections import Counter
from collections.abc import Container, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from typing import Any

from sqlalchemy import Connection

from hygiene.deadlines import stated_deadline

SUBJECT_WINDOW = timedelta(days=14)
#: rule name per key kind, and their strength (lower wins a tie)
RULE_OF_KIND = {"mid": "references", "case": "case_id", "order": "order_id", "subj": "subject"}
RULE_RANK = {"references": 0, "case_id": 1, "order_id": 2, "subject": 3}
MAX_KEY = 380

#: What mail programs put before a subject: replies (re, German aw, Nordic sv) and forwards
#: (fwd, fw, German wg); also "[転送]" / "【転送】" as Japanese mailers write it.
_REPLY_WORDS = r"re|aw|sv|返信|回复|答复"
_FORWARD_WORDS = r"fwd?|wg|転送|转发"
_COUNT = r"\s*(?:\[\d+\]|\(\d+\))?\s*"
_PREFIX = re.compile(rf"^\s*(?:{_REPLY_WORDS}|{_FORWARD_WORDS}){_COUNT}:\s*|^\s*[\[【](?:{_FORWARD_WORDS})[\]】]\s*", re.IGNORECASE)
_FORWARD = re.compile(rf"^\s*(?:(?:{_FORWARD_WORDS}){_COUNT}:|[\[【](?:{_FORWARD_WORDS})[\]】])", re.IGNORECASE)
_TAG = re.compile(r"^\s*\[(?:ext|external|外部)\]\s*", re.IGNORECASE)
_CASE = re.compile(r"(?:ケース|case)\s*(?:id|番号|number|no\.?|#)?\s*[:#]?\s*(\d{10,})", re.IGNORECASE)
_ORDER = re.compile(r"(?<!\d)(\d{3}-\d{7}-\d{7})(?!\d)")
_MSGID = re.compile(r"<([^<>\s]+)>")


def normalize_subject(subject: str | None) -> str:
    """Subject without reply/forward prefixes (repeated), NFKC-folded, whitespace collapsed,
    case-folded: "RE: Re：返信: ご質問" → "ご質問"."""
    text = unicodedata.normalize("NFKC", subject or "")
    while True:
        stripped = _TAG.sub("", _PREFIX.sub("", text))
        if stripped == text:
            break
        text = stripped
    return " ".join(text.split()).casefold()


def is_forward(subject: str | None) -> bool:
    """Whether the subject says "forward": Fwd:/FW:/WG:/転送: or [転送]/【転送】 as its outermost
    prefix ([EXT]-style tags skipped). The outermost prefix is what the sender's mail program
    added last: "Re: Fwd: 発送通知" answers a forwarded message (a buyer forwarding Amazon's
    notice) and is a reply; "Fwd: Re: ご質問" passes a conversation on and answers nothing."""
    text = unicodedata.normalize("NFKC", subject or "")
    while True:
        stripped = _TAG.sub("", text)
        if stripped == text:
            break
        text = stripped
    return bool(_FORWARD.match(text))


def case_ids(text: str) -> set[str]:
    return set(_CASE.findall(unicodedata.normalize("NFKC", text)))


def order_ids(text: str) -> set[str]:
    return set(_ORDER.findall(unicodedata.normalize("NFKC", text)))


def message_ids(header: str | None) -> list[str]:
    """Message-IDs in a header value, without angle brackets."""
    if not header:
        return []
    found = _MSGID.findall(header)
    return found if found else [t.strip("<>") for t in header.split() if t.strip("<>")]


def _addresses(*fields: str | None) -> list[str]:
    out: list[str] = []
    for value in fields:
        for part in (value or "").split(","):
            addr = part.strip().lower()
            if addr and addr not in out:
                out.append(addr)
    return out


def thread_keys(
    *,
    direction: str,
    message_id: str | None,
    in_reply_to: str | None,
    references: str | None,
    from_addr: str | None,
    to_addrs: str | None,
    cc_addrs: str | None,
    subject: str | None,
    body_text: str | None,
    auto_reply: bool = False,
) -> list[tuple[str, str]]:
    """The (kind, key) pairs a message is matched on, each joined with the counterpart: the
    sender of an inbound message, each To/Cc recipient of an outbound one (so a reply counts
    only when it went to whom it answers). Auto-replies and forwards get none (never count)."""
    if direction == "outbound" and (auto_reply or is_forward(subject)):
        return []
    keys: list[tuple[str, str]] = []
    if direction == "inbound":
        counterparts = _addresses(from_addr)
        own, refs = message_ids(message_id), message_ids(in_reply_to) + message_ids(references)
    else:
        counterparts = _addresses(to_addrs, cc_addrs)
        own, refs = [], message_ids(in_reply_to) + message_ids(references)
    text = f"{subject or ''}\n{(body_text or '')[:20_000]}"
    subject_key = normalize_subject(subject)
    for addr in counterparts:
        if direction == "inbound":
            keys += [("mid", f"mid:{m}|{addr}") for m in own]
            # What an inbound message refers to ties it to its thread (see answer_thread_siblings).
            keys += [("tref", f"mid:{m}|{addr}") for m in refs]
        else:
            keys += [("mid", f"mid:{m}|{addr}") for m in refs]
        keys += [("case", f"case:{c}|{addr}") for c in sorted(case_ids(text))]
        keys += [("order", f"order:{o}|{addr}") for o in sorted(order_ids(text))]
        if subject_key:
            keys.append(("subj", f"subj:{subject_key[:200]}|{addr}"))
    unique = list(dict.fromkeys((kind, key[:MAX_KEY]) for kind, key in keys))
    return unique


@dataclass
class MatchStats:
    keyed: int = 0
    #: replies found in this run, by rule (references, case_id, order_id, subject, thread,
    #: answered_flag)
    by_rule: Counter[str] = field(default_factory=Counter)

    @property
    def replied(self) -> int:
        return sum(self.by_rule.values())


@dataclass(frozen=True, slots=True)
class _Found:
    outbound_id: int
    at: datetime
    rule: str


def _best(rows: Iterable[Any], waiting: Container[int], best: dict[int, _Found]) -> None:
    """Per inbound message, the earliest matching outbound message (stronger rule on a tie
    in time, then the lowest id), folded into ``best``."""
    for r in rows:
        if r.inbound_id not in waiting or (r.kind == "subj" and r.out_at - r.in_at > SUBJECT_WINDOW):
            continue
        found = _Found(r.outbound_id, r.out_at, RULE_OF_KIND[r.kind])
        current = best.get(r.inbound_id)
        if current is None or _order(found) < _order(current):
            best[r.inbound_id] = found


def _order(f: _Found) -> tuple[datetime, int, int]:
    return (f.at, RULE_RANK[f.rule], f.outbound_id)


def match_replies(
    conn: Connection,
    account: str | None = None,
    *,
    tz: tzinfo | None = None,
    recheck: Sequence[int] = (),
) -> MatchStats:
    """Key new messages and record the replies found since the last run.

    Run it after every poll or import (``check`` runs it too; with nothing new it costs a few
    indexed lookups). ``recheck`` names inbound messages to look at again (after ``undo``).
    ``tz`` is where a stated date without a time ends (default: local). The caller owns the
    transaction.
    """
    from hygiene.store import replies as store

    stats = MatchStats()
    new_in, new_out = store.key_new_messages(conn, account, _keys_for, _deadline_for(tz), window=SUBJECT_WINDOW)
    stats.keyed = len(new_in) + len(new_out)
    if recheck:
        new_in = array("q", sorted(set(new_in) | set(recheck)))
    if new_in or new_out:
        waiting = store.waiting_ids(conn, account)
        recorded = 0
        # One candidate per inbound message and key kind, a chunk at a time: memory follows
        # a chunk, never the messages waiting nor the pairs of a long thread.
        if len(waiting) <= len(new_in) + len(new_out):
            # A first run, or few messages waiting: looking at every waiting message against
            # all replies is cheaper than two passes that overlap. Each chunk of inbound
            # messages holds every candidate of its messages, so its replies are recorded at
            # once (a first check of a million messages held half a million of them: 698 MB).
            for rows in store.first_replies(conn, waiting.ids):
                found: dict[int, _Found] = {}
                _best(rows, waiting, found)
                recorded += _record(conn, found, stats)
        else:
            # New replies against messages already waiting: a message's candidates come from
            # both passes and any chunk of new replies, so they are recorded after both (as
            # many as the messages waiting, at most).
            found = {}
            for rows in store.first_replies(conn, [i for i in new_in if i in waiting]):
                _best(rows, waiting, found)
            for rows in store.replies_among(conn, new_out):
                _best(rows, waiting, found)
            recorded += _record(conn, found, stats)
        store.replies_recorded(conn, recorded)
    flagged = store.record_answered_flags(conn, account)
    stats.by_rule["answered_flag"] += flagged
    if new_in or new_out or flagged:
        # Only something new can answer a sibling (a reply, a flag, or a message stored after
        # its reply): with nothing new, a check does not rescan every waiting message.
        stats.by_rule["thread"] += store.answer_thread_siblings(conn)
    stats.by_rule = Counter({k: v for k, v in stats.by_rule.items() if v})
    return stats


def _record(conn: Connection, found: dict[int, _Found], stats: MatchStats) -> int:
    """Records the replies ``found`` (inbound id → its best reply); returns how many."""
    from hygiene.store import replies as store

    if not found:
        return 0
    flagged_at = store.answered_flag_times(conn, list(found))
    replies = [
        (inbound_id, f.outbound_id, f.at, f.rule)
        for inbound_id, f in sorted(found.items())
        # A flag seen before the mail was sent says the seller replied earlier, elsewhere.
        if inbound_id not in flagged_at or f.at <= flagged_at[inbound_id]
    ]
    store.record_mail_replies(conn, replies)
    stats.by_rule.update(rule for *_, rule in replies)
    return len(replies)


def _keys_for(row: Any) -> list[tuple[str, str]]:
    return thread_keys(
        direction=row.direction,
        message_id=row.message_id,
        in_reply_to=row.in_reply_to,
        references=row.message_references,
        from_addr=row.from_addr,
        to_addrs=row.to_addrs,
        cc_addrs=row.cc_addrs,
        subject=row.subject,
        body_text=row.body_text,
        auto_reply=bool(row.auto_reply),
    )


def _deadline_for(tz: tzinfo | None) -> Any:
    def find(row: Any) -> tuple[datetime, str] | None:
        if row.direction != "inbound" or not row.needs_reply:
            return None
        # A blank line: the subject is a sentence of its own.
        text = f"{row.subject or ''}\n\n{row.body_text or ''}"
        found = stated_deadline(text, row.received_at, tz, category=row.category)
        return (found.at, found.text) if found else None

    return find


# --------------------------------------------------------------------------- manual marks


def _inbound(conn: Connection, message_id: int) -> Any:
    from hygiene.errors import HygieneError
    from hygiene.store.replies import get_message

    row = get_message(conn, message_id)
    if row is None:
        raise HygieneError(f"no message #{message_id}", "see 'hygiene check' or 'hygiene messages' for ids")
    if row.direction != "inbound":
        raise HygieneError(f"message #{message_id} is the seller's own mail, not one awaiting a reply")
    return row


def mark_replied(conn: Connection, message_id: int, at: datetime) -> None:
    """``hygiene replied``: answered outside mail (Seller Central) at ``at``."""
    from hygiene.errors import HygieneError
    from hygiene.store import replies as store

    row = _inbound(conn, message_id)
    if at < row.received_at:
        raise HygieneError(
            f"message #{message_id} arrived at {row.received_at.isoformat()}; a reply at {at.isoformat()} would be before it",
            "give --at a later time",
        )
    store.mark_replied(conn, message_id, at)


def dismiss(conn: Connection, message_id: int, at: datetime, reason: str) -> None:
    """``hygiene dismiss``: no reply needed after all."""
    from hygiene.store import replies as store

    _inbound(conn, message_id)
    store.mark_dismissed(conn, message_id, at, reason)


def undo(conn: Connection, message_id: int, *, tz: tzinfo | None = None) -> list[str]:
    """``hygiene undo``: drop the manual marks, then look for a mail reply again."""
    from hygiene.errors import HygieneError
    from hygiene.store import replies as store

    _inbound(conn, message_id)
    undone = store.clear_manual_marks(conn, message_id)
    if not undone:
        raise HygieneError(f"message #{message_id} has no 'replied' or 'dismiss' mark to undo")
    match_replies(conn, tz=tz, recheck=[message_id])
    return undone
