"""``hygiene report``: the figures behind the dashboard as data. Thin: parse, call
:func:`hygiene.figures.compute_figures`, render with :mod:`hygiene.views.report`."""

from __future__ import annotations

import click

from hygiene.cli.check import now_option
from hygiene.cli.context import AppContext
from hygiene.clock import parse_since
from hygiene.errors import HygieneError


@click.command()
@click.option("--since", "since_text", metavar="WHEN", help='One period from WHEN ("90d", "12w", ISO-8601, "3 weeks ago") instead of 7/30/90 days.')
@click.option("--by", type=click.Choice(["category", "account", "week"]), default="category", show_default=True, help="Rows beside 'all': per category, per account, or one per week.")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table", show_default=True)
@click.option("--account", help="Only this account.")
@click.option("--category", help="Only this category.")
@now_option
@click.pass_obj
def report(app: AppContext, since_text: str | None, by: str, fmt: str, account: str | None, category: str | None) -> None:
    """Your record as Amazon counts it: Late Response Rate, response times, the share
    answered within your deadlines, what waits now, the tone of your sent replies and the
    hygiene score.

    Reads the database only (run 'hygiene poll' first, or let cron do it). The figures and
    the JSON and CSV columns are defined in the README ("Your record: report and score").
    """
    from hygiene.cli.check import _match
    from hygiene.config import CATEGORIES
    from hygiene.figures import compute_figures
    from hygiene.views.report import render_report, report_csv, report_dict

    now = app.now()
    config = app.config()
    if category and category not in CATEGORIES:
        raise HygieneError(f"--category: unknown category {category!r}", f"use one of {', '.join(CATEGORIES)}")
    since = parse_since(since_text, now=now, tz=app.zone()) if since_text else None
    _match(app, required=False)
    with app.engine().connect() as conn:
        figures = compute_figures(conn, config, now, since=since, by=by, account=account, category=category)
    if fmt == "json":
        from hygiene.cli.output import print_json

        print_json(report_dict(figures))
    elif fmt == "csv":
        click.echo(report_csv(figures), nl=False)
    else:
        click.echo(render_report(figures, app.zone()))
