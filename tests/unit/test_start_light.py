"""Read-only commands start light (issue 8): no SQLAlchemy ORM, no asyncio extension, no
Alembic, no IMAP stack before they work. Which modules are imported is asserted, not times."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

#: never on a read-only path (the ORM alone was ~0.4 s of a 0.7 s check --no-poll)
FORBIDDEN = ("sqlalchemy.orm", "sqlalchemy.ext.asyncio", "alembic", "imapclient", "dateparser")


def imported(config: Path, *args: str) -> list[str]:
    code = (
        "import sys\nfrom hygiene.cli import main\n"
        f"sys.argv = ['hygiene', '--config', {str(config)!r}, *{list(args)!r}]\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        f"print([m for m in {FORBIDDEN!r} if m in sys.modules])"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return [line for line in done.stdout.splitlines() if line.startswith("[")][-1:]


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(f'timezone = "Asia/Tokyo"\n[database]\nurl = "sqlite:///{tmp_path / "h.db"}"\n')
    # the database exists and is at the schema head (a first run may migrate, with Alembic)
    subprocess.run([sys.executable, "-m", "hygiene", "--config", str(path), "db", "upgrade"], check=True, capture_output=True)
    return path


@pytest.mark.parametrize(
    "args",
    [
        ("messages",),
        ("messages", "--json", "--limit", "5"),
        ("status",),
        ("status", "--json"),
        ("check", "--no-poll"),
        ("show", "1"),
        ("report",),
        ("dashboard",),
    ],
    ids=" ".join,
)
def test_read_only_commands_import_no_orm(config: Path, args: tuple[str, ...]) -> None:
    assert imported(config, *args) == ["[]"]
