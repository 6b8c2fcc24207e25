"""The ``hygiene`` command: a thin click layer over the library.

Commands are loaded lazily from their modules so that ``hygiene --help`` and ``hygiene tone``
never import SQLAlchemy, Alembic, IMAPClient or plotext. Every command module keeps those
imports inside its functions.
"""

from __future__ import annotations

import importlib
import signal
import traceback
from typing import Any

import click

from hygiene.cli.context import AppContext
from hygiene.errors import HygieneError, Terminated
from hygiene.safe_text import safe

#: command name → "module:attribute"; the order is the order of ``hygiene --help``.
COMMANDS: dict[str, str] = {
    "demo": "hygiene.cli.demo:demo",
    "init": "hygiene.cli.setup:init",
    "poll": "hygiene.cli.poll:poll",
    "watch": "hygiene.cli.watch:watch",
    "import": "hygiene.cli.mail:import_",
    "messages": "hygiene.cli.mail:messages",
    "status": "hygiene.cli.mail:status",
    "check": "hygiene.cli.check:check",
    "report": "hygiene.cli.report:report",
    "dashboard": "hygiene.cli.dashboard:dashboard",
    "show": "hygiene.cli.check:show",
    "replied": "hygiene.cli.check:replied",
    "dismiss": "hygiene.cli.check:dismiss",
    "undo": "hygiene.cli.check:undo",
    "tone": "hygiene.cli.tone:tone",
    "db": "hygiene.cli.setup:db",
}


class LazyGroup(click.Group):
    """A group whose subcommands are imported only when used (or listed in --help)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        return self._load(name)

    def _load(self, name: str) -> click.Command | None:
        target = COMMANDS.get(name)
        if target is None:
            return None
        module_name, attr = target.split(":")
        # Every listed command exists: a failing import is a bug to see, not a command to hide.
        module = importlib.import_module(module_name)
        command: click.Command = getattr(module, attr)
        return command

    def invoke(self, ctx: click.Context) -> Any:
        previous = signal.signal(signal.SIGTERM, _terminate)
        try:
            return super().invoke(ctx)
        except HygieneError as exc:
            self._fail(ctx, exc)
        except KeyboardInterrupt:
            click.echo("hygiene: interrupted", err=True)
            ctx.exit(130)
        except Terminated:
            click.echo("hygiene: terminated", err=True)
            ctx.exit(143)
        except Exception as exc:
            # The database or the disk failing is the environment, not a bug: one line
            # (never the statement or its parameters), a traceback only under --verbose.
            failure = _environment_error(exc)
            if failure is None:
                raise
            self._fail(ctx, failure)
        finally:
            signal.signal(signal.SIGTERM, previous)

    def _fail(self, ctx: click.Context, exc: HygieneError) -> None:
        app = ctx.find_object(AppContext)
        if app is not None and app.verbose:
            traceback.print_exc()
        click.echo(f"hygiene: {safe(str(exc))}", err=True)  # may quote the server
        ctx.exit(exc.exit_code)


def _terminate(signum: int, frame: Any) -> None:
    raise Terminated()


def _environment_error(exc: Exception) -> HygieneError | None:
    """A user-facing error for a failure of the database or the file system, else None."""
    if type(exc).__module__.split(".")[0] in ("sqlalchemy", "sqlite3", "psycopg"):
        from hygiene.store.db import database_error, is_database_failure

        if is_database_failure(exc):
            app = click.get_current_context().find_object(AppContext)
            url = None
            if app is not None and app._engine is not None:
                url = app._engine.url
            return database_error(exc, url)
        return None
    if isinstance(exc, OSError) and exc.filename:
        return HygieneError(f"cannot use {exc.filename}: {exc.strerror or exc}", "check that the path exists, is writable and the disk is not full")
    return None


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="hygiene", prog_name="hygiene")
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    help="Config file. Default: $HYGIENE_CONFIG, else $XDG_CONFIG_HOME/hygiene/config.toml.",
)
@click.option("-v", "--verbose", is_flag=True, help="More output; tracebacks on errors.")
@click.pass_context
def cli(ctx: click.Context, config_path: str | None, verbose: bool) -> None:
    """Keep your mail with Amazon timely and courteous.

    \b
    Exit codes: 0 clear, 1 error, 2 usage, 3 attention, 4 critical.
    Start with 'hygiene init', then 'hygiene poll'.
    """
    ctx.obj = AppContext(config_path=config_path, verbose=verbose)
    if verbose:
        # What the library swallows on purpose (a broken header, a row salvaged, a failed
        # logout) is logged at debug level: -v shows it.
        import logging

        logging.basicConfig(level=logging.DEBUG, format="hygiene: debug: %(name)s: %(message)s")
        for noisy in ("imapclient", "sqlalchemy", "alembic", "asyncio", "dkim"):
            logging.getLogger(noisy).setLevel(logging.WARNING)


def main() -> None:
    cli(prog_name="hygiene")


if __name__ == "__main__":  # pragma: no cover
    main()
