"""Pure rendering of the check list, ``show`` and the demo summary (tests assert on these
strings). Times are shown in the zone the caller passes (hygiene.clock.zone: the configured one, else
the machine's); views never read the machine's zone themselves. Text from mail goes through :func:`hygiene.safe_text.safe`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta, tzinfo
from typing import Any

from hygiene.deadlines import CRITICAL, DUE_SOON, LATE, PENDING, CheckItem, CheckReport, Deadlines
from hygiene.safe_text import safe
from hygiene.views.columns import mail_cell

STATE_LABEL = {CRITICAL: "CRITICAL", LATE: "LATE", DUE_SOON: "due soon", PENDING: "pending"}


def human_span(span: timedelta) -> str:
    """A duration in two units at most: "3 h 20 m", "1 d 2 h", "45 m", "< 1 m"."""
    minutes = int(abs(span).total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h" if hours else f"{days} d"
    if hours:
        return f"{hours} h {mins} m" if mins else f"{hours} h"
    return f"{mins} m" if mins else "< 1 m"


def time_left(item: CheckItem, now: datetime) -> str:
    left = item.deadlines.due_at - now
    if left.total_seconds() < 0:
        return f"overdue by {human_span(left)}"
    return f"{human_span(left)} left"


def _local(value: datetime, tz: tzinfo, fmt: str = "%Y-%m-%d %H:%M") -> str:
    return value.astimezone(tz).strftime(fmt)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def check_dict(report: CheckReport) -> dict[str, Any]:
    """The ``--json`` shape (documented in the README)."""
    return {
        "now": report.now.isoformat(),
        "items": [
            {
                "id": i.id,
                "account": i.account,
                "category": i.category,
                "from": i.from_addr,
                "subject": i.subject,
                "received_at": i.received_at.isoformat(),
                "due_at": i.deadlines.due_at.isoformat(),
                "critical_at": i.deadlines.critical_at.isoformat(),
                "deadline_source": i.deadlines.source,
                "state": i.state,
                "hours_left": i.hours_left,
            }
            for i in report.items
        ],
        "counts": report.counts,
    }


def _count_phrase(counts: dict[str, int]) -> str:
    parts = [f"{n} {STATE_LABEL[state].lower()}" for state, n in counts.items() if n]
    return ", ".join(parts)


def render_check(report: CheckReport, tz: tzinfo, *, verbose: bool = False) -> str:
    """The check list, most urgent first; "" when nothing awaits a reply (cron stays quiet),
    unless ``verbose``."""
    now = report.now
    stamp = _local(now, tz, "%Y-%m-%d %H:%M %Z")
    if not report.items:
        if not verbose:
            return ""
        off = report.off_list
        return f"{stamp}: nothing awaits a reply ({off.get('replied', 0)} replied, {off.get('dismissed', 0)} dismissed)."
    n = len(report.items)
    lines = [f"{stamp}: {n} message{'s' if n != 1 else ''} await{'s' if n == 1 else ''} a reply ({_count_phrase(report.counts)})"]
    for item in report.items:
        who = safe(item.from_addr) or "(no sender)"
        lines.append("")
        lines.append(f"{STATE_LABEL[item.state]:<9} {time_left(item, now):<22} {item.category:<15} {who}  #{item.id}")
        lines.append(f"          {mail_cell(item.subject, 90, fill=False) or '(no subject)'}")
        age = human_span(now - item.received_at)
        due = _local(item.deadlines.due_at, tz, "%m-%d %H:%M")
        detail = f"received {_local(item.received_at, tz)} ({age} ago), due {due}"
        if item.state in (LATE, CRITICAL) or item.deadlines.critical_at != item.deadlines.due_at:
            detail += f", critical {_local(item.deadlines.critical_at, tz, '%m-%d %H:%M')}"
        lines.append(f"          {detail} [{safe(item.deadlines.source)}]")
    if report.items:
        lines.append("")
        lines.append("Answered in Seller Central? hygiene replied ID   ·   No reply needed? hygiene dismiss ID --reason ...")
    return "\n".join(lines)


def render_show(
    message: Any,
    thread: Sequence[Any],
    *,
    now: datetime,
    tz: tzinfo,
    deadlines: Deadlines | None,
    state: str,
) -> str:
    """One message, its thread and its timeline."""
    sender = f"{safe(message.from_name)} <{safe(message.from_addr)}>" if message.from_name else safe(message.from_addr)
    lines = [
        f"#{message.id}  {safe(message.account)}  {message.direction}  {message.category}  [{state}]",
        f"From:     {sender}",
        f"To:       {safe(message.to_addrs)}",
        f"Subject:  {safe(message.subject)}",
        f"Received: {_local(message.received_at, tz, '%Y-%m-%d %H:%M %Z')}",
    ]
    if message.parse_note:
        lines.append(f"Note:     {safe(message.parse_note)}")
    reasons = getattr(message, "suspicious_reasons", None)
    if reasons:
        lines.append("WARNING:  this mail only claims to be Amazon; do not reply or open its links")
        lines += [f"  - {safe(reason)}" for reason in reason_list(reasons)]
    body = safe(message.body_text, multiline=True).strip()
    if body:
        lines.append("")
        body_lines = body.split("\n")
        lines += [f"  {line}" for line in body_lines[:40]]
        if len(body_lines) > 40:
            lines.append(f"  … ({len(body_lines) - 40} more lines)")

    events: list[tuple[datetime, str]] = [(message.received_at, "received")]
    if deadlines is not None:
        events.append((deadlines.due_at, f"due [{safe(deadlines.source)}]"))
        if deadlines.critical_at != deadlines.due_at:
            events.append((deadlines.critical_at, "critical"))
    if message.replied_at is not None:
        how = {"mail": "reply mail", "answered_flag": "\\Answered flag seen", "manual": "marked replied"}.get(
            message.reply_source or "", message.reply_source or ""
        )
        if message.reply_rule:
            how += f" (rule: {message.reply_rule}"
            how += f", #{message.reply_message_id})" if message.reply_message_id else ")"
        took = human_span(timedelta(seconds=message.response_seconds or 0))
        events.append((message.replied_at, f"replied: {how}, after {took}"))
    if message.manual_replied_at is not None and message.reply_source != "manual":
        events.append((message.manual_replied_at, "also marked replied by hand"))
    if message.dismissed_at is not None:
        events.append((message.dismissed_at, f"dismissed: {safe(message.dismiss_reason)}"))
    events.append((now, "now"))
    lines += ["", "Timeline:"]
    lines += [f"  {_local(at, tz)}  {what}" for at, what in sorted(events, key=lambda e: e[0])]

    others = [m for m in thread if m.id != message.id]
    if others:
        lines += ["", "Thread:"]
        for m in thread:
            arrow = "→" if m.direction == "outbound" else "←"
            mark = "*" if m.id == message.id else " "
            who = ", ".join((m.to_addrs or "").split(", ")[:1]) if m.direction == "outbound" else (m.from_addr or "")
            lines.append(f" {mark}{_local(m.received_at, tz)}  {arrow} #{m.id:<6} {mail_cell(who, 34)}  {mail_cell(m.subject, 50, fill=False)}")
    return "\n".join(lines)


def render_demo_summary(
    *,
    messages: int,
    inbound: int,
    outbound: int,
    by_rule: dict[str, int],
    response_seconds: Sequence[int],
    manual: int,
) -> str:
    rules = ", ".join(f"{name} {n}" for name, n in sorted(by_rule.items(), key=lambda kv: (-kv[1], kv[0]))) or "none"
    median = "-"
    if response_seconds:
        ordered = sorted(response_seconds)
        mid = len(ordered) // 2
        secs = ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2
        median = human_span(timedelta(seconds=secs))
    return "\n".join(
        [
            f"Sample mailbox: {messages} messages ({inbound} from Amazon and buyers, {outbound} sent by the seller).",
            f"Replies found: {sum(by_rule.values())} — by rule: {rules}.",
            f"Answered only in Seller Central (marked with 'hygiene replied'): {manual}.",
            f"Median response time: {median}.",
        ]
    )


def reason_list(stored: str | None) -> list[str]:
    """The reasons kept in ``messages.suspicious_reasons`` ("; "-joined by classify)."""
    return stored.split("; ") if stored else []


def suspicious_dicts(rows: Sequence[Any]) -> list[dict[str, Any]]:
    """``check --json``'s ``"suspicious"`` entries (exact text: JSON is data)."""
    return [
        {
            "id": r.id,
            "from": r.from_addr,
            "subject": r.subject,
            "received_at": r.received_at.isoformat(),
            "reasons": reason_list(r.suspicious_reasons),
        }
        for r in rows
    ]


def render_suspicious(rows: Sequence[Any], tz: tzinfo, days: int) -> str:
    """The warning block after the check list; "" when there is nothing to warn of."""
    if not rows:
        return ""
    n = len(rows)
    lines = [
        f"{n} suspicious message{'s' if n != 1 else ''} claiming to be Amazon in the last {days} days "
        "(no reply needed; do not open their links):"
    ]
    for r in rows:
        first = (reason_list(r.suspicious_reasons) or [""])[0]
        lines.append(f"  #{r.id:<6} {_local(r.received_at, tz)}  {mail_cell(r.from_addr, 34)}  {mail_cell(r.subject, 40, fill=False)}")
        lines.append(f"          {safe(first)}")
    return "\n".join(lines)
