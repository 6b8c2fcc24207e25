"""The typed object every command receives: config, database and clock, loaded on demand."""

from __future__ import annotations

import os
from collections.abc import Callable
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

    @property
    def explicit_config(self) -> bool:
        """Whether the user named a config (--config or $HYGIENE_CONFIG): it must exist then,
        or a typo in a cron line would check an empty database and say all clear."""
        return bool(self.config_path or os.environ.get("HYGIENE_CONFIG"))

    def config(self, *, required: bool = False) -> Config:
        if self._config is None:
            from hygiene.config import load_config

            path = self.resolved_config_path
            if self.explicit_config and not path.exists():
                from hygiene.errors import ConfigError

                raise ConfigError(
                    path, None, "no such config file",
                    f"fix the path, or write one with 'hygiene --config {path} init'",
                )
            self._config = load_config(path, required=required)
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


#: Times the user gives are refused outside these years (UTC): mail older than 1990 is taken
#: for a broken date elsewhere too (ingest.received_at), and anything far out is a typo that
#: would otherwise overflow date arithmetic ("0001-01-01T00:00:00+05:00" has no UTC time).
MIN_YEAR = 1990
MAX_YEAR = 2200

ISO_HINT = 'use ISO-8601 such as "2026-11-24T09:00:00+09:00"'


def parse_when(text: str, *, option: str, base: datetime | None = None) -> datetime:
    """ISO-8601 first (exact and fast), then dateparser for "yesterday 18:00", "2時間前"."""

    def parse(text: str) -> datetime | None:
        value = iso_time(text)
        if value is not None:
            return value
        import dateparser

        settings: dict[str, Any] = {"RETURN_AS_TIMEZONE_AWARE": True, "TO_TIMEZONE": "UTC"}
        if base is not None:
            settings["RELATIVE_BASE"] = base.replace(tzinfo=None)
        return dateparser.parse(text, settings=settings)

    return read_time(text, parse, option=option, hint=ISO_HINT)


def iso_time(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def read_time(text: str, parse: Callable[[str], datetime | None], *, option: str, hint: str) -> datetime:
    """Run ``parse`` on a time the user gave (--now, HYGIENE_NOW, --since, --at) and check its
    answer the same way whichever parser it is: one line naming the option, never a traceback.
    Naive results are local time. Returns an aware UTC datetime within MIN_YEAR..MAX_YEAR."""
    # dateparser reads "-1", "1e400" or "1700000000" as some odd time; a bare number is a
    # mistake (ISO-8601's basic form, "20261124", is still a date).
    if _is_number(text) and iso_time(text) is None:
        raise HygieneError(f"{option}: {text!r} is a number, not a time", hint)
    out_of_range = HygieneError(
        f"{option}: {text!r} is out of range", f"give a time between {MIN_YEAR} and {MAX_YEAR}"
    )
    try:
        value = parse(text)
        if value is None:
            raise HygieneError(f"{option}: cannot read {text!r} as a time", hint)
        if value.tzinfo is None:
            value = value.astimezone()  # naive means the local time zone
        value = value.astimezone(UTC)
    except (OverflowError, ValueError):  # year 1 or 9999 shifted past the ends of datetime
        raise out_of_range from None
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        raise out_of_range
    return value


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
