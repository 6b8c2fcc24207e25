"""``hygiene init`` and ``hygiene db``."""

from __future__ import annotations

import click

from hygiene.cli.context import AppContext


@click.command()
@click.option("--force", is_flag=True, help="Overwrite an existing config file.")
@click.pass_obj
def init(app: AppContext, force: bool) -> None:
    """Write a starter config file (mode 0600) to the XDG config path."""
    from hygiene.config import write_starter_config

    path = app.resolved_config_path
    write_starter_config(path, force=force)
    click.echo(f"wrote {path}; edit the [[accounts]] entry, then run 'hygiene poll'")


@click.group()
def db() -> None:
    """Database maintenance."""


@db.command()
@click.pass_obj
def upgrade(app: AppContext) -> None:
    """Bring the database schema up to date (also done automatically on first use)."""
    from hygiene.store.db import current_revision, head_revision, make_engine
    from hygiene.store.db import upgrade as run_upgrade

    engine = make_engine(app.config().database.url)
    before = current_revision(engine)
    run_upgrade(engine)
    after = current_revision(engine)
    url = engine.url.render_as_string(hide_password=True)
    if before == after:
        click.echo(f"{url}: already at revision {after}")
    else:
        click.echo(f"{url}: upgraded {before or 'empty'} -> {after} (head {head_revision(engine)})")
