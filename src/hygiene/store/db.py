"""Engine set-up and schema migrations.

SQLite gets WAL and a busy timeout so a dashboard and a cron poll can overlap, and its file is
created 0600 (buyers' names and addresses are personal data). The schema is brought to the
newest Alembic revision on first use.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError

from hygiene.errors import HygieneError

BUSY_TIMEOUT_S = 30
#: The newest revision under migrations/ (a test holds it to Alembic's own head). A database
#: already there is recognised with one SELECT, which keeps Alembic's import (~130 ms) off the
#: path of every command; Alembic itself runs only when the schema is behind.
SCHEMA_HEAD = "0002"


def migrations_dir() -> Path:
    import hygiene.migrations

    return Path(hygiene.migrations.__file__).parent


def make_engine(url: str) -> Engine:
    """Create an engine for ``url``; for SQLite, create the file 0600 with WAL on."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise HygieneError(f"invalid database URL {url!r}", 'use e.g. "sqlite:////path/hygiene.db"') from None
    kwargs: dict[str, Any] = {}
    if parsed.get_backend_name() == "sqlite":
        db = parsed.database
        if db and db != ":memory:":
            path = Path(db)
            path.parent.mkdir(parents=True, exist_ok=True)
            if not path.exists():
                fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
                os.close(fd)
        kwargs["connect_args"] = {"timeout": BUSY_TIMEOUT_S}
    try:
        engine = create_engine(url, **kwargs)
    except (NoSuchModuleError, ModuleNotFoundError) as exc:
        raise HygieneError(
            f"no driver for database URL {url!r} ({exc})",
            "for PostgreSQL install the extra: pip install 'hygiene[postgres]'",
        ) from None
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_S * 1000}")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


def alembic_config(engine: Engine) -> Any:
    from alembic.config import Config as AlembicConfig

    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(migrations_dir()))
    cfg.attributes["engine"] = engine
    return cfg


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision(engine: Engine) -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config(engine)).get_current_head()


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply migrations up to ``revision`` (the only way the schema is made or changed)."""
    from alembic import command

    try:
        command.upgrade(alembic_config(engine), revision)
    except OperationalError as exc:
        raise HygieneError(f"database {engine.url!r}: migration failed: {exc.orig}") from None


def stored_revision(engine: Engine) -> str | None:
    """The revision recorded in the database (None when it has no schema yet), read with
    plain SQL."""
    with engine.connect() as conn:
        if not engine.dialect.has_table(conn, "alembic_version"):
            return None
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def open_database(url: str) -> Engine:
    """An engine whose schema is at the newest revision (migrating when behind)."""
    engine = make_engine(url)
    try:
        behind = stored_revision(engine) != SCHEMA_HEAD and current_revision(engine) != head_revision(engine)
    except OperationalError as exc:
        raise HygieneError(
            f"cannot open database {engine.url.render_as_string(hide_password=True)}: {exc.orig}",
            "check [database] url in the config and that the server is running",
        ) from None
    if behind:
        upgrade(engine)
    return engine


def table_names(engine: Engine) -> list[str]:
    return sorted(inspect(engine).get_table_names())
