"""When ``hygiene check`` last ran against a database, so that what it only needs to say
once (mail claiming to be Amazon) is said once. Kept under $XDG_STATE_HOME, one small file
per database; losing it only means saying things again."""

from __future__ import annotations

import hashlib
from datetime import datetime
from pathlib import Path

from hygiene.paths import state_home


def _path(database_url: str, name: str) -> Path:
    digest = hashlib.sha256(database_url.encode()).hexdigest()[:16]
    return state_home() / "checks" / f"{name}-{digest}"


def last(database_url: str, name: str) -> datetime | None:
    try:
        return datetime.fromisoformat(_path(database_url, name).read_text().strip())
    except (OSError, ValueError):
        return None


def mark(database_url: str, name: str, at: datetime) -> None:
    """Remember ``at`` (never moving back: a check run with an earlier --now leaves it)."""
    before = last(database_url, name)
    if before is not None and before >= at:
        return
    path = _path(database_url, name)
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        path.write_text(at.isoformat() + "\n")
    except OSError:
        pass  # read-only or full: the next check says it again, which is the safe side
