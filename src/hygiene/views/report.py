"""``hygiene report`` as JSON, CSV or a table: pure functions of :class:`hygiene.figures.Figures`
(the shapes are documented in the README, "Your record: report and score"). Rates are
rounded to 3 places, hours to 1; a figure that is undefined (nothing to divide by) is null
in JSON and empty in CSV."""

from __future__ import annotations

import csv
import io
from datetime import tzinfo
from typing import Any

from hygiene.figures import Figures, Row
from hygiene.safe_text import safe
from hygiene.score import ScoreParts
from hygiene.views.columns import pad, pad_left, width

#: CSV columns, in order (stable: scripts read them by name or position)
CSV_COLUMNS = (
    "days", "start", "end", "account", "category",
    "needing_reply", "answered_on_time", "answered_late", "no_response", "late_response_rate",
    "avg_response_hours", "median_response_hours", "p90_response_hours",
    "within_deadline", "deadline_missed", "within_deadline_share",
    "sent_replies", "tone_avg", "tone_review", "tone_block",
)
#: with ``[schedule]`` only, after CSV_COLUMNS: the same rows on the business-hours clock
BUSINESS_COLUMNS = (
    "business_response_hours", "business_median_response_hours",
    "business_within_target", "business_target_missed", "business_within_target_share",
)


def _r(value: float | None, places: int) -> float | None:
    return None if value is None else round(value, places)


def _days(value: float) -> float | int:
    return int(value) if value == int(value) else value


def row_dict(row: Row, *, with_account: bool = False) -> dict[str, Any]:
    r = row.response
    out: dict[str, Any] = {"days": _days(row.days), "start": row.start.isoformat(), "end": row.end.isoformat()}
    if with_account:
        out["account"] = row.account
    out |= {
        "category": row.category,
        "needing_reply": r.needing_reply,
        "answered_on_time": r.answered_on_time,
        "answered_late": r.answered_late,
        "no_response": r.no_response,
        "late_response_rate": _r(r.late_response_rate, 3),
        "avg_response_hours": _r(r.avg_response_hours, 1),
        "median_response_hours": _r(r.median_response_hours, 1),
        "p90_response_hours": _r(r.p90_response_hours, 1),
        "within_deadline": r.within_deadline,
        "deadline_missed": r.deadline_missed,
        "within_deadline_share": _r(r.within_deadline_share, 3),
        "sent_replies": row.tone.sent if row.tone else None,
        "tone_avg": _r(row.tone.avg_score, 1) if row.tone else None,
        "tone_review": row.tone.review if row.tone else None,
        "tone_block": row.tone.block if row.tone else None,
    }
    if row.business is not None:
        b = row.business
        out |= {
            "business_response_hours": _r(b.avg_response_hours, 1),
            "business_median_response_hours": _r(b.median_response_hours, 1),
            "business_within_target": b.within_target,
            "business_target_missed": b.target_missed,
            "business_within_target_share": _r(b.within_target_share, 3),
        }
    return out


def _parts(parts: ScoreParts) -> dict[str, Any]:
    return {
        "score": parts.score,
        "response": _r(parts.response, 3),
        "tone": _r(parts.tone, 3),
        "messages": dict(parts.classes),
        "scored_replies": parts.scored_replies,
    }


def report_dict(figures: Figures) -> dict[str, Any]:
    """The ``--format json`` shape."""
    by_account = figures.by == "account"
    data: dict[str, Any] = {"now": figures.now.isoformat()}
    if figures.since is not None:
        data["since"] = figures.since.isoformat()
    if figures.by == "week":
        data["weeks"] = [row_dict(r) for r in figures.weeks]
    else:
        data["windows"] = [row_dict(r, with_account=by_account) for r in figures.windows]
    c = figures.counts
    data["counts"] = {"awaiting": c.awaiting, "critical": c.critical, "late": c.late, "due_soon": c.due_soon, "pending": c.pending}
    s = figures.score
    data["score"] = {
        "overall": s.overall.score,
        "accounts": {name: parts.score for name, parts in s.accounts.items()},
        "components": {"overall": _parts(s.overall)} | {name: _parts(p) for name, p in s.accounts.items()},
        "lifts": [
            {"id": x.id, "account": x.account, "state": x.state, "by": round(x.by, 1), "overall_by": round(x.overall_by, 1)}
            for x in s.lifts[:10]
        ],
    }
    if figures.business_target_hours is not None:
        data["business_target_hours"] = _days(figures.business_target_hours)
    return data


def report_csv(figures: Figures) -> str:
    """The ``--format csv`` text: a header line, then one line per row (the weekly rows
    with --by week, else window × group)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    columns = CSV_COLUMNS + (BUSINESS_COLUMNS if figures.business_target_hours is not None else ())
    writer.writerow(columns)
    rows = figures.weeks if figures.by == "week" else figures.windows
    for row in rows:
        data = row_dict(row, with_account=True)
        writer.writerow(["" if data.get(k) is None else data[k] for k in columns])
    return out.getvalue()


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.1f}%"


def _h(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def _score_text(parts: ScoreParts) -> str:
    if parts.score is None:
        return "- (nothing to judge yet)"
    bits = []
    if parts.response is not None:
        bits.append(f"response {parts.response * 100:.0f}")
    if parts.tone is not None:
        bits.append(f"tone {parts.tone * 100:.0f}")
    return f"{parts.score}/100 ({', '.join(bits)})"


def lift_text(by: float) -> str:
    """"3 points", "1 point", "0.4 points"."""
    if by < 1:
        return f"{by:.1f} points"
    shown = f"{by:.0f}"
    return f"{shown} point" if shown == "1" else f"{shown} points"


def business_text(figures: Figures, label: str) -> str:
    """The business-hours clock over the widest window: "Your business hours (target 24 h,
    90 d): avg 2.8 h, median 1.0 h, 83.3% within target"."""
    target = figures.business_target_hours
    widest = max((r for r in figures.windows if r.category == "all" and r.account == "all"), key=lambda r: r.days)
    b = widest.business
    days = int(widest.days) if widest.days == int(widest.days) else widest.days
    if b is None or target is None:
        return ""
    return (
        f"{label} (target {_days(target)} h, {days} d): avg {_h(b.avg_response_hours)} h, "
        f"median {_h(b.median_response_hours)} h, {_pct(b.within_target_share)} within target"
    )


def render_report(figures: Figures, tz: tzinfo) -> str:
    """The ``--format table`` text."""
    now = figures.now.astimezone(tz)
    lines = [f"Your record at {now.strftime('%Y-%m-%d %H:%M %Z')}"]
    if figures.empty:
        lines.append("")
        lines.append("Nothing to count yet: no message needing a reply and no sent reply in the period.")
        lines.append("Run 'hygiene poll' (or 'hygiene import PATH') first.")
        return "\n".join(lines)
    s = figures.score
    lines.append(f"Hygiene score: {_score_text(s.overall)}")
    if len(s.accounts) > 1:
        lines.append("  " + ", ".join(f"{safe(name)} {p.score if p.score is not None else '-'}" for name, p in s.accounts.items()))
    if s.lifts:
        top = s.lifts[0]
        lines.append(f"  answering #{top.id} today lifts your score by {lift_text(top.overall_by)}")
    buyer = [figures.window(r.days, "buyer") for r in figures.windows if r.category == "all" and r.account == "all"]
    shown = [(int(r.days) if r.days == int(r.days) else r.days, r) for r in buyer if r is not None]
    if shown:
        rates = ", ".join(f"{d} d {_pct(r.response.late_response_rate)}" for d, r in shown)
        lines.append(f"Late Response Rate (buyers, as Amazon publishes it): {rates}")
    if figures.business_target_hours is not None:
        lines.append(business_text(figures, "Your business hours"))
    c = figures.counts
    lines.append(f"Now: {c.awaiting} awaiting ({c.critical} critical, {c.late} late, {c.due_soon} due soon, {c.pending} pending)")
    lines.append("")
    rows = figures.weeks if figures.by == "week" else figures.windows
    first = "week from" if figures.by == "week" else "days"
    group = "account" if figures.by == "account" else "category"
    header: tuple[str, ...] = (first, group, "need", "on time", "late", "no resp", "late rate", "avg h", "median h", "p90 h", "in deadline", "sent", "tone")
    business = figures.business_target_hours is not None
    if business:
        header += ("biz avg h", "biz median h", "in target")
    table = [header]
    for r in rows:
        f = r.response
        label = r.start.astimezone(tz).strftime("%m-%d") if figures.by == "week" else str(int(r.days) if r.days == int(r.days) else r.days)
        table.append((
            label,
            safe(r.account if figures.by == "account" else r.category),
            str(f.needing_reply), str(f.answered_on_time), str(f.answered_late), str(f.no_response),
            _pct(f.late_response_rate), _h(f.avg_response_hours), _h(f.median_response_hours), _h(f.p90_response_hours),
            _pct(f.within_deadline_share),
            str(r.tone.sent) if r.tone else "",
            _h(r.tone.avg_score) if r.tone and r.tone.avg_score is not None else ("-" if r.tone else ""),
        ) + ((_h(r.business.avg_response_hours), _h(r.business.median_response_hours), _pct(r.business.within_target_share)) if business and r.business else ()))
    widths = [max(width(row[i]) for row in table) for i in range(len(header))]
    for row in table:
        cells = [pad_left(row[0], widths[0]), pad(row[1], widths[1])] + [pad_left(v, w) for v, w in zip(row[2:], widths[2:], strict=True)]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)
