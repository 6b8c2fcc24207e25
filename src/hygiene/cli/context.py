"""The typed object every command receives: config, database and clock, loaded on demand."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hygiene.errors import HygieneError

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from hygiene.config import Config


@dataclass
class AppContext:
    config_path: str | None = None
    verbose: bool = False
    now_text: str | None = None
    _config: Config | None = field(default=None, repr=False)
    _engine: Engine | None = field(default=None, repr=False)

    @property
    def resolved_config_path(self) -> Path:
        from hygiene.paths import find_config_path

        return find_config_path(self.config_path)

    def config(self, *, required: bool = False) -> Config:
        if self._config is None:
            from hygiene.config import load_config

            self._config = load_config(self.resolved_config_path, required=required)
        elif required and self._config.path is not None and not self._config.path.exists():
            from hygiene.config import load_config

            load_config(self._config.path, required=True)
        return self._config

    def engine(self) -> Engine:
        if self._engine is None:
            from hygiene.store.db import open_database

            self._engine = open_database(self.config().database.url)
        return self._engine

    def now(self) -> datetime:
        """The clock: ``--now`` / ``$HYGIENE_NOW`` when given (tests, "what did it say
        yesterday"), else the real time. Always aware, in UTC."""
        text = self.now_text or os.environ.get("HYGIENE_NOW")
        if not text:
            return datetime.now(UTC)
        return parse_when(text, option="--now / HYGIENE_NOW")


def parse_when(text: str, *, option: str, base: datetime | None = None) -> datetime:
    """ISO-8601 first (exact and fast), then dateparser for "yesterday 18:00", "2時間前"."""
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        value = None
    if value is None:
        import dateparser

        settings: dict[str, Any] = {"RETURN_AS_TIMEZONE_AWARE": True, "TO_TIMEZONE": "UTC"}
        if base is not None:
            settings["RELATIVE_BASE"] = base.replace(tzinfo=None)
        value = dateparser.parse(text, settings=settings)
        if value is None:
            raise HygieneError(f"{option}: cannot read {text!r} as a time", 'use ISO-8601 such as "2026-11-24T09:00:00+09:00"')
    if value.tzinfo is None:
        value = value.astimezone()  # naive means the local time zone
    return value.astimezone(UTC)
