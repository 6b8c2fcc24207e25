"""``hygiene dashboard``: the seller's record on one screen, a pure function of
:class:`hygiene.figures.Figures` (tests assert on the string).

From the top: the headline (score, Late Response Rate 7/30/90 d, average response time, what
waits now; with ``[schedule]``, a line of the same on the seller's business-hours clock), the response-time histogram with the 24 h and 48 h marks beside the weekly trend
(within-24 h share and median response time), the tone of sent replies (a chart beside them
on a wide terminal, else one line), response performance by category, the most urgent
waiting messages as ``check`` shows them, and the score's components with the top lifts.

Charts are drawn with plotext (imported only here, when drawing). ``color=False`` gives plain
text with no escape sequence at all (NO_COLOR, a pipe, cron mail). Figures are formatted by
the report's own helpers, so the dashboard and ``hygiene report`` print the same numbers.
Subjects go through :func:`hygiene.safe_text.safe`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import tzinfo
from typing import Any

from hygiene.figures import ALL, Figures, Row
from hygiene.safe_text import safe
from hygiene.views.check import STATE_LABEL, time_left
from hygiene.views.columns import clip as fit
from hygiene.views.columns import pad
from hygiene.views.columns import width as cells
from hygiene.views.report import _h, _pct, business_text, lift_text

#: the layout when the output is not a terminal (a pipe, cron mail): fixed, plain
PLAIN_WIDTH = 100
PLAIN_HEIGHT = 48
#: below this a chart says nothing; the text sections give way before the charts do
MIN_CHART_HEIGHT = 7
#: what a chart gets before the text sections grow
GOOD_CHART_HEIGHT = 10
MAX_CHART_HEIGHT = 20
#: at this width and more the tone trend is a third chart beside the other two
TONE_CHART_WIDTH = 150
SEPARATOR = "  │  "
SPARKS = "▁▂▃▄▅▆▇█"

_ESC = {"red": "\x1b[31m", "yellow": "\x1b[33m", "bold": "\x1b[1m", "dim": "\x1b[2m"}
_RESET = "\x1b[0m"


# --------------------------------------------------------------------------- text cells


def wrap(parts: Sequence[str], width: int, sep: str = SEPARATOR) -> list[str]:
    """Join ``parts`` with ``sep`` into as few lines of at most ``width`` columns as fit
    (a part longer than a line is cut)."""
    lines: list[str] = []
    line = ""
    for part in parts:
        part = fit(part, width)
        if line and cells(line + sep + part) <= width:
            line += sep + part
        else:
            if line:
                lines.append(line)
            line = part
    if line:
        lines.append(line)
    return lines


def _paint(text: str, how: str | None, color: bool) -> str:
    return f"{_ESC[how]}{text}{_RESET}" if color and how else text


def _days(row: Row) -> str:
    return f"{int(row.days)} d" if row.days == int(row.days) else f"{row.days} d"


# --------------------------------------------------------------------------- sections


def _title(figures: Figures, tz: tzinfo, scope: str) -> str:
    now = figures.now.astimezone(tz)
    return f"hygiene dashboard · {now:%Y-%m-%d %H:%M %Z} · {scope}"


def _scope(figures: Figures, account: str | None, category: str | None) -> str:
    widest = max((r for r in figures.windows if r.category == ALL and r.account == ALL), key=lambda r: r.days)
    bits = [f"since {widest.start:%Y-%m-%d}" if figures.since is not None else f"last {_days(widest)}"]
    if account:
        bits.append(f"account {safe(account)}")
    if category:
        bits.append(f"category {safe(category)}")
    return ", ".join(bits)


def _headline_rows(figures: Figures) -> tuple[str, list[Row]]:
    """The Late Response Rate rows of the headline: buyers' (the figure Amazon publishes)
    when there are buyer messages, else all mail."""
    tops = [r for r in figures.windows if r.category == ALL and r.account == ALL]
    buyers = [figures.window(r.days, "buyer") for r in tops]
    if "buyer" in figures.categories and all(b is not None for b in buyers):
        return "buyers", [b for b in buyers if b is not None]
    return "all mail", tops


def headline(figures: Figures, color: bool, *, due_soon: bool = True) -> list[str]:
    """The headline's parts: score, Late Response Rate, average response time, now."""
    s = figures.score.overall
    score = "Score -/100 (nothing to judge yet)" if s.score is None else f"Score {s.score}/100"
    who, rows = _headline_rows(figures)
    rates = " · ".join(f"{_days(r)} {_pct(r.response.late_response_rate)}" for r in rows)
    widest = max((r for r in figures.windows if r.category == ALL and r.account == ALL), key=lambda r: r.days)
    avg = widest.response.avg_response_hours
    c = figures.counts
    now = f"now {c.awaiting} awaiting · {c.late} late · {c.critical} critical"
    if c.due_soon and due_soon:
        now += f" · {c.due_soon} due soon"
    how = "red" if c.critical else ("yellow" if c.late else None)
    return [
        _paint(score, "bold", color) if color else score,
        f"Late Response Rate ({who}) {rates}",
        f"avg response {_h(avg)} h ({_days(widest)})" if avg is not None else f"avg response - ({_days(widest)})",
        _paint(now, how, color) if color else now,
    ]


def category_table(figures: Figures, width: int) -> list[str]:
    """Response performance per category: needing a reply, Late Response Rate per window,
    response hours and within-deadline share over the widest window."""
    tops = [r for r in figures.windows if r.category == ALL and r.account == ALL]
    widest = max(tops, key=lambda r: r.days)
    header = [f"category ({_days(widest)})", "need"]
    header += [f"late {_days(r)}" if i == 0 else _days(r) for i, r in enumerate(tops)]
    header += ["avg h", "median h", "in deadline"]
    table = [header]
    for category in (ALL, *figures.categories):
        rows = [figures.window(r.days, category) for r in tops]
        wide = figures.window(widest.days, category)
        if wide is None:
            continue
        f = wide.response
        table.append(
            [category, str(f.needing_reply)]
            + [_pct(r.response.late_response_rate) if r is not None else "-" for r in rows]
            + [_h(f.avg_response_hours), _h(f.median_response_hours), _pct(f.within_deadline_share)]
        )
    widths = [max(cells(row[i]) for row in table) for i in range(len(header))]
    lines = []
    for row in table:
        line = pad(row[0], widths[0]) + "".join("  " + " " * (w - cells(v)) + v for v, w in zip(row[1:], widths[1:], strict=True))
        lines.append(fit(line.rstrip(), width))
    return lines


def _tone_weeks(figures: Figures) -> list[float | None]:
    return [w.tone.avg_score if w.tone and w.tone.scored else None for w in figures.weeks]


def has_tone(figures: Figures) -> bool:
    return any(v is not None for v in _tone_weeks(figures))


def sparkline(values: Sequence[float | None], low: float = 0.0, high: float = 100.0) -> str:
    out = []
    for v in values:
        if v is None:
            out.append(" ")
            continue
        k = int((min(high, max(low, v)) - low) / (high - low) * (len(SPARKS) - 1) + 0.5)
        out.append(SPARKS[k])
    return "".join(out)


def tone_line(figures: Figures, width: int) -> list[str]:
    widest = max((r for r in figures.windows if r.category == ALL and r.account == ALL), key=lambda r: r.days)
    t = widest.tone
    if t is None or not has_tone(figures):
        return []
    parts = [
        f"Tone of sent replies {sparkline(_tone_weeks(figures))}",
        f"avg {_h(t.avg_score)} ({_days(widest)}): {t.sent} sent, {t.review} review, {t.block} block",
    ]
    return wrap(parts, width, "  ")


def urgent_lines(figures: Figures, width: int, limit: int, color: bool, category: str | None = None) -> list[str]:
    """The most urgent waiting messages, as ``check`` orders and words them (the same
    selection as the counts: received by ``now``, of ``category`` when given)."""
    report = figures.check
    items = [
        i for i in (report.items if report else ())
        if i.received_at <= figures.now and (not category or i.category == category)
    ]
    if not items:
        return ["Nothing awaits a reply."]
    shown = items[: max(0, limit)]
    lines = [f"Most urgent of {figures.counts.awaiting} awaiting (hygiene check lists them all):"]
    for item in shown:
        state = STATE_LABEL[item.state]
        left = time_left(item, figures.now)
        head = f"#{item.id:<5} {state:<9} {left:<21} "
        subject = " ".join(safe(item.subject).split()) or "(no subject)"
        text = fit(head + subject, width)
        if color:
            how = "red" if item.state == "critical" else ("yellow" if item.state == "late" else None)
            text = text.replace(state, _paint(state, how, True), 1)
        lines.append(text)
    return lines


def score_lines(figures: Figures, width: int, *, detail: bool = True) -> list[str]:
    """The score's components (response and tone; with ``detail``, the messages counted per
    deadline class) and the top lifts."""
    s = figures.score.overall
    if s.score is None:
        return ["Score: nothing to judge yet (no answered or overdue message, no scored reply in 12 weeks)."]
    bits = []
    if s.response is not None and s.tone is not None:
        bits.append(f"Score {s.score} = 0.8 × response {s.response * 100:.0f} + 0.2 × tone {s.tone * 100:.0f}")
    elif s.response is not None:
        bits.append(f"Score {s.score} = response {s.response * 100:.0f}")
    else:
        bits.append(f"Score {s.score} = tone {s.tone * 100:.0f}" if s.tone is not None else f"Score {s.score}")
    k = s.classes
    bits[-1] += " ·" if detail else ""
    bits += [] if not detail else [
        f"12 weeks: {k.get('within', 0)} in deadline,", f"{k.get('after_due', 0)} after due,",
        f"{k.get('after_critical', 0)} after critical,", f"{k.get('waiting_late', 0)} waiting late,",
        f"{k.get('waiting_critical', 0)} waiting critical",
    ]
    lines = wrap(bits, width, " ")
    lifts = figures.score.lifts[:3]
    if lifts:
        first, rest = lifts[0], lifts[1:]
        text = f"answering #{first.id} today lifts your score by {lift_text(first.overall_by)}"
        for x in rest:  # as many as fit whole
            more = f", #{x.id} by {lift_text(x.overall_by)}"
            if cells(text + more) > width:
                break
            text += more
        lines.append(fit(text, width))
    return lines


# --------------------------------------------------------------------------- charts


def _chart(plt: Any, width: int, height: int, color: bool, draw: Callable[[Any], None]) -> list[str]:
    """One plotext chart as ``height`` lines of ``width`` columns."""
    plt.clear_figure()
    plt.limit_size(False, False)
    plt.plot_size(width, height)
    plt.theme("pro" if color else "clear")
    draw(plt)
    text = plt.build()
    if not color:
        text = plt.uncolorize(text)
    lines = text.split("\n")[:height]
    lines += [""] * (height - len(lines))
    if color:
        return [line + _RESET if "\x1b" in line else pad(line, width) for line in lines]
    return [pad(fit(line.rstrip(), width), width) for line in lines]


def _int_ticks(top: float) -> list[int]:
    top = max(1, int(top + 0.999))
    step = max(1, -(-top // 4))
    return list(range(0, top + step, step))


def _draw_histogram(figures: Figures, width: int) -> Callable[[Any], None]:
    h = figures.histogram
    widest = max((r for r in figures.windows if r.category == ALL and r.account == ALL), key=lambda r: r.days)

    def draw(plt: Any) -> None:
        xs = [i * h.bin_hours + h.bin_hours / 2 for i in range(len(h.counts))]
        plt.bar(xs, list(h.counts), width=0.8, color="blue+")
        for mark in h.marks:
            plt.vline(mark, "red")
        last = (len(h.counts) - 1) * h.bin_hours
        ticks = [0, *h.marks, last]
        plt.xticks(ticks, ["0", *(f"{m} h" for m in h.marks), f"{last} h+"])
        plt.xlim(0, last + h.bin_hours)
        plt.yticks(_int_ticks(max(h.counts) if h.counts else 1))
        plt.title(f"Response times, {_days(widest)} ({h.total} answered)")

    return draw


def _week_labels(figures: Figures, tz: tzinfo, room: int) -> tuple[list[int], list[str]]:
    n = len(figures.weeks)
    step = max(1, -(-n * 6 // max(6, room)))
    xs = list(range(n - 1, -1, -step))[::-1]
    return [x + 1 for x in xs], [figures.weeks[x].start.astimezone(tz).strftime("%m-%d") for x in xs]


def _draw_weekly(figures: Figures, tz: tzinfo, width: int) -> Callable[[Any], None]:
    def draw(plt: Any) -> None:
        share = [(i + 1, w.response.within_24h_share * 100) for i, w in enumerate(figures.weeks) if w.response.within_24h_share is not None]
        median = [(i + 1, w.response.median_response_hours) for i, w in enumerate(figures.weeks) if w.response.median_response_hours is not None]
        if share:
            plt.plot([x for x, _ in share], [y for _, y in share], marker="*", color="green+", label="% within 24 h (left)")
        if median:
            plt.plot([x for x, _ in median], [y for _, y in median], marker="o", color="orange", label="median h (right)", yside="right")
            ticks = _int_ticks(max(24.0, max(y for _, y in median)))
            plt.ylim(0, ticks[-1], yside="right")
            plt.yticks(ticks, yside="right")
        plt.ylim(0, 100)
        plt.yticks([0, 25, 50, 75, 100], yside="left")
        plt.xlim(0.5, len(figures.weeks) + 0.5)
        xs, labels = _week_labels(figures, tz, width - 16)
        plt.xticks(xs, labels)
        plt.title(f"Weekly, {len(figures.weeks)} weeks (week from)")

    return draw


def _draw_tone(figures: Figures, tz: tzinfo, width: int) -> Callable[[Any], None]:
    def draw(plt: Any) -> None:
        values = [(i + 1, v) for i, v in enumerate(_tone_weeks(figures)) if v is not None]
        plt.plot([x for x, _ in values], [y for _, y in values], marker="+", color="cyan", label="avg tone (100 = polite)")
        plt.ylim(0, 100)
        plt.yticks([0, 50, 100])
        plt.xlim(0.5, len(figures.weeks) + 0.5)
        xs, labels = _week_labels(figures, tz, width - 10)
        plt.xticks(xs, labels)
        plt.title("Tone of sent replies, weekly")

    return draw


def charts(figures: Figures, tz: tzinfo, width: int, height: int, color: bool, *, with_tone: bool) -> list[str]:
    """The histogram and the weekly trend side by side (and the tone trend on a wide one)."""
    import plotext as plt

    n = 3 if with_tone else 2
    gap = 1
    each = (width - gap * (n - 1)) // n
    widths = [each] * n
    widths[-1] = width - gap * (n - 1) - each * (n - 1)
    drawers = [_draw_histogram(figures, widths[0]), _draw_weekly(figures, tz, widths[1])]
    if with_tone:
        drawers.append(_draw_tone(figures, tz, widths[2]))
    blocks = [_chart(plt, w, height, color, d) for w, d in zip(widths, drawers, strict=True)]
    plt.clear_figure()
    return [(" " * gap).join(parts).rstrip() for parts in zip(*blocks, strict=True)]


# --------------------------------------------------------------------------- the screen


def empty_text(figures: Figures, tz: tzinfo, scope: str) -> str:
    return "\n".join([
        _title(figures, tz, scope),
        "",
        "Nothing to show yet: no message needing a reply, no sent reply and nothing waiting in this period.",
        "Run 'hygiene poll' (or 'hygiene import PATH') to fill the database, then 'hygiene dashboard' again.",
        "New here? 'hygiene demo' shows the dashboard of a sample mailbox.",
    ])


def render_dashboard(
    figures: Figures,
    tz: tzinfo,
    width: int = PLAIN_WIDTH,
    height: int = PLAIN_HEIGHT,
    color: bool = False,
    *,
    account: str | None = None,
    category: str | None = None,
) -> str:
    """The dashboard in at most ``width`` columns and ``height - 1`` lines (the last line
    of the terminal stays for the prompt). ``color=False``: no escape sequence at all."""
    width = max(40, width)
    height = max(12, height)
    scope = _scope(figures, account, category)
    if figures.empty:
        return "\n".join(fit(line, width) for line in empty_text(figures, tz, scope).split("\n"))
    room = height - 1
    top = [fit(_title(figures, tz, scope), width)]
    narrow = width < 120
    heads = headline(figures, False, due_soon=not narrow)
    painted = headline(figures, color, due_soon=not narrow)
    lines = wrap(heads, width)
    if color:  # paint after wrapping: the escape sequences take no columns
        for plain, paint in zip(heads, painted, strict=True):
            lines = [line.replace(plain, paint, 1) for line in lines]
    top += lines
    if figures.business_target_hours is not None:  # [schedule]: the seller's own clock, beside Amazon's
        top.append(fit(business_text(figures, "Your business hours"), width))
    wide_tone = width >= TONE_CHART_WIDTH and has_tone(figures)
    middle = [] if wide_tone else tone_line(figures, width)
    table = category_table(figures, width)
    waiting = figures.counts.awaiting

    # The urgent list: up to 3 on a small screen, more (up to 10) on a tall one. The charts
    # take what is left, at most about half the screen; on a small screen the score's
    # breakdown by deadline class, then urgent messages beyond the first, give way to them.
    def chart_room(score: list[str], want: int) -> int:
        return room - len(top) - len(middle) - len(table) - len(score) - 1 - (want if waiting else 0)

    want = min(waiting, 3)
    score = score_lines(figures, width)
    if chart_room(score, want) < GOOD_CHART_HEIGHT:
        score = score_lines(figures, width, detail=False)
    while chart_room(score, want) < GOOD_CHART_HEIGHT and want > 1:
        want -= 1
    chart_h = chart_room(score, want)
    cap = max(GOOD_CHART_HEIGHT, min(MAX_CHART_HEIGHT, room // 2))
    if chart_h > cap:
        extra = min(chart_h - cap, max(0, min(waiting, 10) - want))
        want += extra
        chart_h -= extra
    spare = max(0, chart_h - cap)
    chart_h -= spare
    gaps = min(4, spare)  # blank lines between sections, when there is room to spare
    out = list(top)
    if chart_h >= MIN_CHART_HEIGHT:
        if gaps:
            out.append("")
            gaps -= 1
        out += charts(figures, tz, width, chart_h, color, with_tone=wide_tone)
    for section in (middle, table, urgent_lines(figures, width, want, color, category), score):
        if not section:
            continue
        if gaps > 0 and out[-1] != "":
            out.append("")
            gaps -= 1
        out += section
    return "\n".join(out[:room])
