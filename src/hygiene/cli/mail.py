"""``hygiene import``, ``hygiene messages`` and ``hygiene status``."""

from __future__ import annotations

from pathlib import Path

import click

from hygiene.cli.context import AppContext
from hygiene.cli.output import interactive, print_json, print_json_list, print_lines
from hygiene.safe_text import safe


@click.command("import")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--account", default="import", show_default=True, help="Account name to file the messages under.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.option(
    "--follow-symlinks", is_flag=True, help="Also follow symlinks that lead out of a directory given."
)
@click.pass_obj
def import_(app: AppContext, paths: tuple[Path, ...], account: str, as_json: bool, follow_symlinks: bool) -> None:
    """Import message files, mboxes, Maildirs or directories of them.

    Goes through the same parse, classify and store path as 'poll'. Importing the same
    messages twice adds nothing. Only regular files are read; FIFOs, devices, symlinks out of
    a directory (without --follow-symlinks) and messages over 50 MB are skipped, each
    reported on stderr, and make the exit code 1.
    """
    from hygiene.mail.importer import import_paths

    config = app.config()
    engine = app.engine()
    counter = {"n": 0}

    def tick() -> None:
        counter["n"] += 1
        if counter["n"] % 100 == 0 and interactive() and not as_json:
            click.echo(f"\r{counter['n']} messages read…", nl=False, err=True)

    stats = import_paths(
        engine,
        config,
        paths,
        now=app.now(),
        account=account,
        batch_size=config.batch_size,
        on_message=tick,
        follow_symlinks=follow_symlinks,
    )
    if counter["n"] >= 100 and interactive() and not as_json:
        click.echo("", err=True)
    for entry in stats.unread:
        click.echo(f"hygiene: skipped: {entry}", err=True)
    for error in stats.errors:
        click.echo(f"hygiene: failed: {safe(error)}", err=True)  # quotes the message's folder and parser
    if as_json:
        print_json(stats.as_json())
    else:
        s = stats
        click.echo(
            f"{account}: {s.new} new, {s.existing} existing, {s.skipped} skipped (no rule), "
            f"{s.parse_notes} with parse notes, {s.failed} failed" + (f", {s.unreadable} not read" if s.unreadable else "")
        )
    if stats.failed or stats.unreadable:  # exit 0 only when everything given was read
        raise SystemExit(1)


@click.command()
@click.option("--account", help="Only this account.")
@click.option("--category", help="Only this category (account_health, claim, seller_support, buyer, notification, outbound, other, suspicious).")
@click.option("--since", help='Only messages received since WHEN (ISO-8601, or "3 days ago").')
@click.option("--limit", type=click.IntRange(min=1), help="At most this many, newest first.")
@click.option("--json", "as_json", is_flag=True, help='Print {"messages": [...]}.')
@click.pass_obj
def messages(app: AppContext, account: str | None, category: str | None, since: str | None, limit: int | None, as_json: bool) -> None:
    """List stored messages, newest first."""
    from hygiene.store.messages import iter_messages
    from hygiene.views.messages import message_dict, message_line

    since_at = app.when(since, option="--since", base=app.now()) if since else None
    # Streamed: one batch of rows in memory, written as it is read (same bytes as a whole dump).
    with app.engine().connect() as conn:
        rows = iter_messages(conn, account=account, category=category, since=since_at, limit=limit)
        if as_json:
            print_json_list("messages", (message_dict(r) for r in rows), flat=True)
        else:
            print_lines(message_line(r) for r in rows)


@click.command()
@click.option("--json", "as_json", is_flag=True, help='Print {"accounts": [{"name", "folders": [...]}]}.')
@click.pass_obj
def status(app: AppContext, as_json: bool) -> None:
    """Per account and folder: messages stored, UIDVALIDITY, last sync and last error."""
    from datetime import timedelta

    from hygiene.freshness import account_freshness
    from hygiene.store.messages import all_folder_states
    from hygiene.views.messages import render_status, status_dict

    config = app.config()
    now = app.now()
    with app.engine().connect() as conn:
        states = all_folder_states(conn)
    names = [a.name for a in config.accounts]
    # an account whose sync keeps failing (or stopped) is flagged, not just listed
    fresh = account_freshness(states, names, now, timedelta(hours=config.stale_after_hours))
    data = status_dict(states, names, {f.name: f.as_json(now) for f in fresh})
    if as_json:
        print_json(data)
    else:
        click.echo(render_status(data))
