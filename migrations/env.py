"""Alembic environment. Used by ``hygiene db upgrade`` (which passes its engine in) and by a
developer's ``alembic -x url=sqlite:////tmp/x.db upgrade head`` from the repo root."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from hygiene.store.tables import metadata

config = context.config
target_metadata = metadata


def run_migrations_online() -> None:
    engine = config.attributes.get("engine")
    if engine is None:
        url = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option("sqlalchemy.url")
        if not url:
            raise SystemExit("pass the database: alembic -x url=sqlite:////path/hygiene.db upgrade head")
        engine = create_engine(url)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            # SQLite cannot ALTER most things: batch mode copies the table instead.
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


if context.is_offline_mode():
    raise SystemExit("offline (SQL script) migrations are not supported")
run_migrations_online()
