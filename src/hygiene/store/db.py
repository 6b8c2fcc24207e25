"""Engine set-up and schema migrations.

SQLite gets WAL and a busy timeout so a dashboard and a cron poll can overlap, and its file is
created 0600 (buyers' names and addresses are personal data). The schema is brought to the
newest Alembic revision on first use.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError

from hygiene.errors import DatabaseError, HygieneError

BUSY_TIMEOUT_S = 30
#: The newest revision under migrations/ (a test holds it to Alembic's own head). A database
#: already there is recognised with one SELECT, which keeps Alembic's import (~130 ms) off the
#: path of every command; Alembic itself runs only when the schema is behind.
SCHEMA_HEAD = "0006"


def busy_timeout() -> float:
    """How long a SQLite writer waits for another one: BUSY_TIMEOUT_S, or
    ``$HYGIENE_BUSY_TIMEOUT`` seconds (tests; a dashboard that must not wait)."""
    value = os.environ.get("HYGIENE_BUSY_TIMEOUT", "")
    try:
        seconds = float(value)
    except ValueError:
        return BUSY_TIMEOUT_S
    return seconds if 0 <= seconds <= 3600 else BUSY_TIMEOUT_S


def is_database_failure(exc: BaseException) -> bool:
    """Whether ``exc`` is the database itself failing (a driver error through SQLAlchemy, or
    sqlite3's own from the bulk insert), as opposed to a bug."""
    import sqlite3

    from sqlalchemy.exc import DBAPIError

    return isinstance(exc, DBAPIError | sqlite3.DatabaseError)


def database_error(exc: BaseException, url: Any = None) -> DatabaseError:
    """One line for a failure of the database itself, naming the database and, when it is
    locked, the processes using it. Built from the driver's message alone: SQLAlchemy's own
    text appends the statement and its parameters."""
    orig = getattr(exc, "orig", None) or exc
    first = (str(orig).strip().splitlines() or [orig.__class__.__name__])[0][:200]
    parsed = _parsed(url)
    sqlite_path = parsed.database if parsed is not None and parsed.get_backend_name() == "sqlite" else None
    if parsed is None:
        where = "(unknown)"
    else:
        where = str(sqlite_path) if sqlite_path is not None else parsed.render_as_string(hide_password=True)
    lowered = first.lower()
    if "locked" in lowered:
        users = _sqlite_users(sqlite_path) if sqlite_path else ""
        who = f" (in use by {users})" if users else ""
        return DatabaseError(
            f"database {where} is locked by another process{who} for longer than {busy_timeout():g} s",
            "wait for it to finish (a long poll or import) and run again",
        )
    if "unable to open" in lowered and sqlite_path and not os.access(Path(sqlite_path).parent, os.W_OK):
        # a WAL database needs its directory writable even to read (the -shm file)
        return DatabaseError(f"database {where} is read-only: its directory cannot be written", "make the directory writable, or set [database] url")
    if "readonly" in lowered or "read-only" in lowered:
        return DatabaseError(f"database {where} is read-only: {first}", "make the file and its directory writable, or set [database] url")
    if "full" in lowered or "no space" in lowered:
        return DatabaseError(f"database {where}: the disk is full: {first}", "free some space and run again (nothing was half-written)")
    return DatabaseError(f"database {where}: {orig.__class__.__name__}: {first}")


def _parsed(url: Any) -> Any:
    """``url`` (text or an SQLAlchemy URL) as a URL, None when there is none or it is invalid."""
    if url is None:
        return None
    if hasattr(url, "render_as_string"):
        return url
    try:
        return make_url(str(url))
    except ArgumentError:
        return None


def _sqlite_users(database: str) -> str:
    """'pid 123 (hygiene poll), pid 456 (sqlite3 …)': who holds POSIX locks on the SQLite
    file, its WAL or shared memory (Linux /proc/locks), this process left out."""
    try:
        inodes = set()
        for suffix in ("", "-wal", "-shm"):
            try:
                inodes.add(os.stat(f"{database}{suffix}").st_ino)
            except OSError:
                pass
        pids: set[int] = set()
        with open("/proc/locks") as fh:
            for line in fh:
                parts = line.split()
                if len(parts) > 5 and parts[4].isdigit() and int(parts[5].rsplit(":", 1)[-1]) in inodes:
                    pids.add(int(parts[4]))
    except (OSError, ValueError):
        return ""
    pids.discard(os.getpid())
    out = []
    for pid in sorted(pids)[:5]:
        try:
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        words = [os.path.basename(a.decode(errors="replace")) for a in argv[:3] if a]
        command = " ".join(w for w in words if not w.startswith("python"))
        safe = "".join(c if c.isprintable() else "?" for c in command)[:60]
        out.append(f"pid {pid} ({safe})" if safe else f"pid {pid}")
    return ", ".join(out)


def migrations_dir() -> Path:
    import hygiene.migrations

    return Path(hygiene.migrations.__file__).parent


def make_engine(url: str) -> Engine:
    """Create an engine for ``url``; for SQLite, create the file 0600 with WAL on."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        # not repeated: a URL may carry a password
        raise HygieneError("[database] url is not a valid database URL", 'use e.g. "sqlite:////path/hygiene.db"') from None
    kwargs: dict[str, Any] = {}
    if parsed.get_backend_name() == "sqlite":
        db = parsed.database
        if db and db != ":memory:":
            path = Path(db)
            path.parent.mkdir(parents=True, exist_ok=True)
            if not path.exists():
                fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
                os.close(fd)
        kwargs["connect_args"] = {"timeout": busy_timeout()}
    try:
        # hide_parameters: an error message must never carry row data (buyers' addresses,
        # bodies), even in a traceback under --verbose.
        engine = create_engine(url, hide_parameters=True, **kwargs)
    except (NoSuchModuleError, ModuleNotFoundError) as exc:
        raise HygieneError(
            f"no driver for database URL {parsed.render_as_string(hide_password=True)!r} ({exc})",
            "for PostgreSQL install the extra: pip install 'hygiene[postgres]'",
        ) from None
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute(f"PRAGMA busy_timeout={int(busy_timeout() * 1000)}")
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
        raise database_error(exc, engine.url) from None


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
        failure = database_error(exc, engine.url)
        if "read-only" in str(failure):
            raise failure from None
        raise HygieneError(
            f"cannot open database {engine.url.render_as_string(hide_password=True)}: {exc.orig}",
            "check [database] url in the config and that the server is running",
        ) from None
    if behind:
        with _migration_lock(engine):
            # Another process (a second cron job, a poller on another machine) may have
            # migrated while this one waited: look again before touching the schema.
            if current_revision(engine) != head_revision(engine):
                upgrade(engine)
    return engine


@contextmanager
def _migration_lock(engine: Engine) -> Iterator[None]:
    """One migration at a time per database: a PostgreSQL advisory lock (any machine), or
    a file lock beside a SQLite database."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": _MIGRATION_KEY})
            conn.commit()
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _MIGRATION_KEY})
                conn.commit()
        return
    database = engine.url.database if engine.dialect.name == "sqlite" else None
    if not database or database == ":memory:":
        yield
        return
    import fcntl

    fd = os.open(f"{database}.migrate-lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


#: the advisory lock key of schema migrations (any fixed 64-bit number, "hygiene" in ASCII)
_MIGRATION_KEY = 0x687967696E656D


def table_names(engine: Engine) -> list[str]:
    return sorted(inspect(engine).get_table_names())
