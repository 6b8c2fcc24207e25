"""The ``hygiene`` command: a thin click layer over the library.

Commands are loaded lazily from their modules so that ``hygiene --help`` and ``hygiene tone``
never import SQLAlchemy, Alembic, IMAPClient or plotext. Every command module keeps those
imports inside its functions.
"""

from __future__ import annotations

import importlib
import traceback
from typing import Any

import click

from hygiene.cli.context import AppContext
from hygiene.errors import HygieneError
from hygiene.safe_text import safe

#: command name → "module:attribute"; the order is the order of ``hygiene --help``.
COMMANDS: dict[str, str] = {
    "demo": "hygiene.cli.demo:demo",
    "init": "hygiene.cli.setup:init",
    "poll": "hygiene.cli.poll:poll",
    "import": "hygiene.cli.mail:import_",
    "messages": "hygiene.cli.mail:messages",
    "status": "hygiene.cli.mail:status",
    "check": "hygiene.cli.check:check",
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
        return [name for name in COMMANDS if self._load(name) is not None]

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        return self._load(name)

    def _load(self, name: str) -> click.Command | None:
        target = COMMANDS.get(name)
        if target is None:
            return None
        module_name, attr = target.split(":")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            # A command whose module is not written yet is simply absent.
            if exc.name == module_name:
                return None
            raise
        command: click.Command = getattr(module, attr)
        return command

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except HygieneError as exc:
            app = ctx.find_object(AppContext)
            if app is not None and app.verbose:
                traceback.print_exc()
            click.echo(f"hygiene: {safe(str(exc))}", err=True)  # may quote the server
            ctx.exit(exc.exit_code)
        except KeyboardInterrupt:
            click.echo("hygiene: interrupted", err=True)
            ctx.exit(130)


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


def main() -> None:
    cli(prog_name="hygiene")


if __name__ == "__main__":  # pragma: no cover
    main()
