"""``hygiene watch``: stay connected, store new mail within seconds, notify on rising states."""

from __future__ import annotations

from typing import Any

import click

from hygiene.cli.context import AppContext
from hygiene.errors import HygieneError, Terminated


@click.command()
@click.option("--account", "account_name", metavar="NAME", help="Only this account (default: all).")
@click.option("--interval", type=click.FloatRange(4, 86400), metavar="SECONDS",
              help="Poll every account this often anyway (default: [watch] interval, 300).")
@click.pass_obj
def watch(app: AppContext, account_name: str | None, interval: float | None) -> None:
    """Watch your mailboxes (IMAP IDLE) until stopped: new mail is stored and matched within
    seconds, and [watch] notify runs once, with the message as JSON on stdin, when a message
    turns due soon, late or critical. Reconnects by itself; exits 0 on Ctrl-C or SIGTERM.
    Run it as a user service (contrib/systemd/hygiene-watch.service).
    """
    import logging
    import signal
    import sys
    import threading

    from hygiene.watch import watch as run

    config = app.config(required=True)
    accounts = [config.account(account_name)] if account_name else list(config.accounts)
    if not accounts:
        raise HygieneError(f"no [[accounts]] in {config.path}", "add an account; see config.example.toml")
    ours = logging.getLogger("hygiene")
    if not ours.handlers and not logging.getLogger().handlers:
        # one line per event on stderr (the journal, under systemd); our own lines only: at
        # INFO, Alembic and IMAPClient would add their chatter (plugins, "Connection closed")
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("hygiene watch: %(message)s"))
        ours.addHandler(handler)
        ours.setLevel(logging.INFO)
    engine = app.engine()
    stop = threading.Event()

    # A signal's exception can land where Python swallows it (a garbage collector's callback
    # prints "Exception ignored" and goes on): the stop flag is set first, so the watch loop
    # ends within a second anyway, and the swallowed exception is not shown as a traceback.
    def on_signal(signum: int, frame: Any) -> None:
        stop.set()
        raise Terminated() if signum == signal.SIGTERM else KeyboardInterrupt()

    def unraisable(info: Any) -> None:
        if not (stop.is_set() and isinstance(info.exc_value, (Terminated, KeyboardInterrupt))):
            default_unraisable(info)

    default_unraisable = sys.unraisablehook
    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    sys.unraisablehook = unraisable
    try:
        run(
            engine, config, accounts, stop=stop, now=app.now, notify=config.watch_notify,
            interval=interval or config.watch_interval,
        )
    except (KeyboardInterrupt, Terminated):
        stop.set()
    finally:
        for sig, before in previous.items():
            signal.signal(sig, before)
        sys.unraisablehook = default_unraisable
    click.echo("hygiene watch: stopped", err=True)
