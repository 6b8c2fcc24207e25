"""``hygiene watch``: stay connected, store new mail within seconds, notify on rising states."""

from __future__ import annotations

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
    import threading

    from hygiene.watch import watch as run

    config = app.config(required=True)
    accounts = [config.account(account_name)] if account_name else list(config.accounts)
    if not accounts:
        raise HygieneError(f"no [[accounts]] in {config.path}", "add an account; see config.example.toml")
    if not logging.getLogger().handlers:
        # one line per event on stderr (the journal, under systemd)
        logging.basicConfig(level=logging.INFO, format="hygiene watch: %(message)s")
    engine = app.engine()
    stop = threading.Event()
    try:
        run(
            engine, config, accounts, stop=stop, now=app.now, notify=config.watch_notify,
            interval=interval or config.watch_interval,
        )
    except (KeyboardInterrupt, Terminated):
        stop.set()
        click.echo("hygiene watch: stopped", err=True)
