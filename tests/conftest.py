"""Shared fixtures. Every test runs with its own config and data directories, so nothing
touches the developer's real ~/.config or ~/.local/share."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local/share"))
    monkeypatch.setenv("XDG_STATE_HOME", str(home / ".local/state"))
    for var in ("HYGIENE_CONFIG", "HYGIENE_NOW", "NO_COLOR"):
        monkeypatch.delenv(var, raising=False)
    return home


def missing_server(what: str) -> None:
    """Skip when a real server is unavailable, but fail under CI (HYGIENE_REQUIRE_SERVERS=1),
    so a broken install can never hide behind a skip."""
    if os.environ.get("HYGIENE_REQUIRE_SERVERS"):
        pytest.fail(f"{what} is required (HYGIENE_REQUIRE_SERVERS=1) but unavailable")
    pytest.skip(f"{what} unavailable")


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'test.db'}"


@pytest.fixture(scope="session")
def postgres_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A throwaway PostgreSQL cluster on a free loopback port; yields a server URL prefix."""
    from tests.servers import start_postgres

    server = start_postgres(tmp_path_factory.mktemp("pg"))
    if server is None:
        missing_server("PostgreSQL (initdb/postgres from Debian's postgresql)")
    assert server is not None
    try:
        yield server.url_prefix
    finally:
        server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Runs a test against both backends: the same contract for SQLite and PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'test.db'}"
    prefix: str = request.getfixturevalue("postgres_server")
    from tests.servers import create_pg_database

    return create_pg_database(prefix)
