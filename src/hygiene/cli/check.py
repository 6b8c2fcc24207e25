"""``hygiene check`` (cron), ``show``, and the manual corrections ``replied``, ``dismiss``,
``undo``. Thin: parse, call the library, render."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

import click

from hygiene.cli.context import AppContext
from hygiene.cli.output import print_json
from hygiene.errors import HygieneError
from hygiene.safe_text import safe

if TYPE_CHECKING:
    pass

NOW_HELP = "Pretend it is WHEN (ISO-8601, or e.g. 'yesterday 18:00'). Default: $HYGIENE_NOW, else now."


def now_option(f: click.decorators.FC) -> click.decorators.FC:
    def remember(ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
        if value:
            ctx.ensure_object(AppContext).now_text = value

    return click.option("--now", "now_text", metavar="WHEN", help=NOW_HELP, expose_value=False, callback=remember)(f)


def _poll_first(app: AppContext, account: str | None) -> list[str]:
    """Poll the configured accounts; a failure is reported and the check goes on with what
    the database holds. Returns the names of the accounts that could not be polled."""
    from hygiene.locks import PollBusy
    from hygiene.mail.imap import poll_accounts

    config = app.config()
    accounts = [config.account(account)] if account else list(config.accounts)
    failed: list[str] = []
    for acc, item in zip(accounts, poll_accounts(app.engine(), config, accounts, now=app.now()), strict=True):
        if isinstance(item, HygieneError):
            if not isinstance(item, PollBusy):  # another poll is syncing it right now: fine
                failed.append(acc.name)
            click.echo(f"hygiene: poll {safe(acc.name)}: {safe(str(item))}; checking what the database has", err=True)
    return failed


def _freshness(conn: Any, config: Any, account: str | None, now: datetime) -> list[Any]:
    from datetime import timedelta

    from hygiene.freshness import account_freshness
    from hygiene.store.messages import all_folder_states

    names = [account] if account else [a.name for a in config.accounts]
    if not names:
        return []
    return account_freshness(all_folder_states(conn), names, now, timedelta(hours=config.stale_after_hours))


def _parse_at(app: AppContext, text: str, now: datetime) -> datetime:
    """--at WHEN: ISO-8601, or "yesterday 18:00" / "2時間前" relative to the --now clock."""
    return app.when(text, option="--at", base=now, hint='e.g. "yesterday 18:00", "2時間前" or ISO-8601')


def _match(app: AppContext, account: str | None = None, *, required: bool = True) -> None:
    """Reply matching (it writes only when there is something new to match). With
    ``required=False`` a database that cannot be written (locked by a long writer,
    read-only, full) is said and matching skipped: the check then lists from what was
    matched before (a reply may still show as awaited; nothing late is hidden)."""
    from sqlalchemy.exc import OperationalError

    from hygiene.errors import DatabaseError
    from hygiene.threads import match_replies

    engine = app.engine()  # a database that cannot be opened at all is an error, not a warning
    try:
        with engine.begin() as conn:
            match_replies(conn, account, tz=app.zone())
    except (DatabaseError, OperationalError) as exc:
        if required:
            raise
        from hygiene.store.db import database_error

        failure = exc if isinstance(exc, DatabaseError) else database_error(exc, engine.url)
        click.echo(f"hygiene: replies not matched: {failure}; listing what was matched before", err=True)


@click.command()
@click.option("--no-poll", is_flag=True, help="Do not poll first; check what the database has.")
@click.option("--json", "as_json", is_flag=True, help='Print {"now", "items": [...], "counts": {...}}.')
@click.option("--account", help="Only this account.")
@click.option("--verbose", "verbose_flag", is_flag=True, help="Say so when nothing awaits a reply.")
@now_option
@click.pass_obj
def check(app: AppContext, no_poll: bool, as_json: bool, account: str | None, verbose_flag: bool) -> None:
    """List the messages still awaiting your reply, most urgent first.

    Made for cron: polls first (unless --no-poll), prints nothing when nothing awaits a
    reply, and exits 0 when clear (only pending or due soon), 3 when something is late,
    4 when something is critical, 1 on error.
    """
    from hygiene.deadlines import check_report
    from hygiene.freshness import stale_line
    from hygiene.views.check import check_dict, render_check, render_suspicious, suspicious_dicts

    now = app.now()
    config = app.config()
    if account:
        config.account(account)  # an unknown name is an error before anything runs
    poll_failed: list[str] = []
    if not no_poll:
        if not config.accounts and not app.explicit_config and (config.path is None or not config.path.exists()):
            raise HygieneError(
                f"no config at {config.path}: nothing to poll",
                "run 'hygiene init' and add your account, or check stored mail with 'hygiene check --no-poll'",
            )
        poll_failed = _poll_first(app, account)
    _match(app, required=False)
    verbose = verbose_flag or app.verbose
    days = config.suspicious_check_days
    suspicious = []
    with app.engine().connect() as conn:
        report = check_report(conn, config, now, account, with_totals=verbose and not as_json)
        freshness = _freshness(conn, config, account, now)
        if days:
            from datetime import timedelta

            from hygiene import checkpoints
            from hygiene.store.replies import suspicious_since

            # Said once: what was stored since the previous check (received at most `days` ago).
            url, name = config.database.url, f"suspicious-{account or ''}"
            previous = checkpoints.last(url, name)
            suspicious = suspicious_since(conn, now - timedelta(days=days), account, stored_after=previous)
            checkpoints.mark(url, name, now)
    # Data that stopped syncing must not read as "clear": a failed poll, or (without a
    # poll) an account not synced successfully within [poll] stale_after_hours.
    stale = [f for f in freshness if f.name in poll_failed or (no_poll and f.stale)]
    if as_json:
        data = check_dict(report)
        data["sync"] = [f.as_json(now) for f in freshness]
        data["suspicious"] = suspicious_dicts(suspicious)
        print_json(data)
    else:
        text = render_check(report, app.zone(), verbose=verbose)
        if text:
            click.echo(text)
        warning = render_suspicious(suspicious, app.zone(), days)
        if warning:  # the exit code stays the list's: a forgery asks nothing of the seller
            click.echo(("\n" if text else "") + warning)
    for fresh in stale:
        click.echo(f"hygiene: warning: {safe(stale_line(fresh, now))}; this check may miss newer mail", err=True)
    if report.exit_code:
        raise SystemExit(report.exit_code)
    if stale:
        raise SystemExit(1)


@click.command()
@click.argument("message_id", metavar="ID", type=int)
@now_option
@click.pass_obj
def show(app: AppContext, message_id: int) -> None:
    """Show message ID: the message, its thread and its timeline."""
    from hygiene.deadlines import NO_REPLY_NEEDED, compute_deadlines, message_state, state_at
    from hygiene.store.replies import get_message, thread_of
    from hygiene.views.check import render_show

    now = app.now()
    _match(app)
    with app.engine().connect() as conn:
        message = get_message(conn, message_id)
        if message is None:
            raise HygieneError(f"no message #{message_id}", "see 'hygiene check' or 'hygiene messages' for ids")
        thread = thread_of(conn, message_id)
    deadlines = None
    if message.direction == "inbound" and message.needs_reply:
        deadlines = compute_deadlines(
            message.received_at, message.category, app.config(), message.stated_deadline_at, message.stated_deadline_text
        )
    clock = deadlines
    state = message_state(message, lambda _m: state_at(now, clock, app.config().warn_hours) if clock else NO_REPLY_NEEDED)
    click.echo(render_show(message, thread, now=now, tz=app.zone(), deadlines=deadlines, state=state))


@click.command()
@click.argument("message_id", metavar="ID", type=int)
@click.option("--at", "at_text", metavar="WHEN", help="When you replied ('yesterday 18:00', '2時間前', ISO-8601). Default: now.")
@now_option
@click.pass_obj
def replied(app: AppContext, message_id: int, at_text: str | None) -> None:
    """Mark message ID as answered outside mail (e.g. in Seller Central)."""
    from hygiene.threads import mark_replied

    now = app.now()
    at = _parse_at(app, at_text, now) if at_text else now
    with app.engine().begin() as conn:
        mark_replied(conn, message_id, at)
    click.echo(f"#{message_id} marked replied at {at.astimezone(app.zone()).strftime('%Y-%m-%d %H:%M %Z')}")


@click.command()
@click.argument("message_id", metavar="ID", type=int)
@click.option("--reason", required=True, help="Why no reply is needed (kept with the message).")
@now_option
@click.pass_obj
def dismiss(app: AppContext, message_id: int, reason: str) -> None:
    """Mark message ID as needing no reply."""
    from hygiene.threads import dismiss as dismiss_message

    with app.engine().begin() as conn:
        dismiss_message(conn, message_id, app.now(), reason)
    click.echo(f"#{message_id} dismissed: {reason}")


@click.command()
@click.argument("message_id", metavar="ID", type=int)
@now_option
@click.pass_obj
def undo(app: AppContext, message_id: int) -> None:
    """Undo 'replied' and 'dismiss' on message ID (a reply mail still counts)."""
    from hygiene.threads import undo as undo_marks

    with app.engine().begin() as conn:
        undone = undo_marks(conn, message_id, tz=app.zone())
    click.echo(f"#{message_id}: undid {' and '.join(undone)}")
