"""``hygiene poll``: copy the seller's Amazon mail and replies from IMAP, read-only."""

from __future__ import annotations

import sys
from typing import Any

import click

from hygiene.cli.context import AppContext
from hygiene.cli.output import interactive, print_json
from hygiene.errors import HygieneError
from hygiene.safe_text import safe


class _Bar:
    """A click progress bar per folder, on stderr, only when stderr is a terminal."""

    def __init__(self) -> None:
        self._bar: Any = None

    def start_folder(self, account: str, folder: str, total: int) -> None:
        # Folder names come from the server.
        bar: Any = click.progressbar(length=total, label=safe(f"{account}: {folder}"), file=sys.stderr, show_pos=True)
        self._bar = bar.__enter__()

    def advance(self, n: int) -> None:
        if self._bar is not None:
            self._bar.update(n)

    def end_folder(self) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)
            self._bar = None


@click.command()
@click.option("--account", "account_name", metavar="NAME", help="Only this account (default: all).")
@click.option("--full", is_flag=True, help="Read every folder again from the start (after changing classification rules).")
@click.option("--json", "as_json", is_flag=True, help='Print {"accounts": [{"name", "ok", "folders": [...]}]}.')
@click.option("--parallel", type=click.IntRange(1, 16), default=1, show_default=True, metavar="N",
              help="Poll up to N accounts at once, each in its own process (no progress bars).")
@click.pass_obj
def poll(app: AppContext, account_name: str | None, full: bool, as_json: bool, parallel: int) -> None:
    """Copy mail from Amazon and your replies from IMAP into the database.

    Read-only: folders are opened with EXAMINE and bodies fetched with BODY.PEEK, so nothing
    in the mailbox changes (not even \\Seen). Incremental: a second poll fetches only new
    mail and flag changes. Prints one line per account, e.g. "jp: INBOX +123, Sent +45 in
    2.1 s". Exit 1 when an account could not be polled (the others are still polled).
    """
    from hygiene.mail.imap import PollBusy, PollResult, poll_accounts

    config = app.config(required=True)
    if account_name:
        accounts = [config.account(account_name)]
    else:
        accounts = list(config.accounts)
    if not accounts:
        raise HygieneError(
            f"no [[accounts]] in {config.path}",
            "add an account (host, username, password_env); see config.example.toml",
        )
    engine = app.engine()
    progress = _Bar() if interactive() and not as_json and parallel == 1 else None
    failed = False
    report: list[dict[str, Any]] = []
    results = poll_accounts(engine, config, accounts, now=app.now(), full=full, progress=progress, match=True, parallel=parallel)
    for account, item in zip(accounts, results, strict=True):
        if isinstance(item, PollResult):
            report.append(item.as_json())
            if not as_json:
                click.echo(safe(item.summary()))  # folder names come from the server
        else:
            busy = isinstance(item, PollBusy)
            failed = failed or not busy
            report.append({"name": account.name, "ok": busy, "skipped": busy, "error": str(item)})
            if not as_json:
                click.echo(f"hygiene: {safe(str(item))}" if busy else f"hygiene: error: {safe(str(item))}", err=True)
    if as_json:
        print_json({"accounts": report})
    if failed:
        raise SystemExit(1)
