"""``hygiene dashboard``: the seller's record on one screen. Thin: parse, compute the figures
as ``report`` does, decide size and colour, print :func:`hygiene.views.dashboard.render_dashboard`."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click

from hygiene.cli.check import now_option
from hygiene.cli.context import AppContext
from hygiene.errors import HygieneError

if TYPE_CHECKING:
    from datetime import datetime


#: clear the screen and go home (only on a colour terminal: NO_COLOR means no escape codes)
CLEAR = "\x1b[H\x1b[2J"


def screen_size() -> tuple[int, int, bool]:
    """(columns, lines, is a terminal): the terminal's size, else the fixed plain layout."""
    import shutil

    from hygiene.views.dashboard import PLAIN_HEIGHT, PLAIN_WIDTH

    if not sys.stdout.isatty():
        return PLAIN_WIDTH, PLAIN_HEIGHT, False
    size = shutil.get_terminal_size((PLAIN_WIDTH, PLAIN_HEIGHT))
    return size.columns, size.lines, True


@click.command()
@click.option("--since", "since_text", metavar="WHEN", help='One period from WHEN ("90d", "12w", ISO-8601, "3 weeks ago") instead of 7/30/90 days; the weekly trend goes back to it.')
@click.option("--account", help="Only this account.")
@click.option("--category", help="Only this category.")
@click.option("--watch", type=click.FloatRange(min=0.1), metavar="SECONDS", help="Redraw every SECONDS until Ctrl-C.")
@now_option
@click.pass_obj
def dashboard(app: AppContext, since_text: str | None, account: str | None, category: str | None, watch: float | None) -> None:
    """Your record at a glance: score, Late Response Rate, response times, the weekly trend,
    categories, tone, what waits most urgently and what would lift your score.

    Reads the database only (run 'hygiene poll' first, or let cron do it); the figures are
    those of 'hygiene report', defined in the README ("Your record: report and score").
    Follows the terminal's size; plain text of 100 columns when not a terminal or with
    NO_COLOR (no escape codes, so it can be mailed from cron). Exit code 0: it is a view.
    """
    from hygiene.config import CATEGORIES

    now = app.now()
    app.config()
    if category and category not in CATEGORIES:
        raise HygieneError(f"--category: unknown category {category!r}", f"use one of {', '.join(CATEGORIES)}")
    if since_text:
        from hygiene.clock import parse_since

        parse_since(since_text, now=now, tz=app.zone())  # a bad --since is an error before anything is drawn
    if watch is None:
        click.echo(_draw(app, since_text, account, category))
        return
    import time

    from hygiene.cli.output import use_color

    try:
        while True:
            text = _draw(app, since_text, account, category)
            if use_color():
                click.echo(CLEAR + text)
            else:  # no escape codes: one screen after another
                click.echo("\n" + text)
            time.sleep(watch)
    except KeyboardInterrupt:
        return  # Ctrl-C ends --watch: exit 0


def _draw(app: AppContext, since_text: str | None, account: str | None, category: str | None) -> str:
    from hygiene.cli.check import _match
    from hygiene.cli.output import use_color
    from hygiene.clock import parse_since
    from hygiene.figures import compute_figures
    from hygiene.views.dashboard import render_dashboard

    now: datetime = app.now()
    since = parse_since(since_text, now=now, tz=app.zone()) if since_text else None
    _match(app, required=False)
    with app.engine().connect() as conn:
        figures = compute_figures(conn, app.config(), now, since=since, account=account, category=category)
    width, height, _terminal = screen_size()
    return render_dashboard(figures, app.zone(), width, height, use_color(), account=account, category=category)
