"""The typed object every command receives: config, database and clock, loaded on demand."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from datetime import tzinfo

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
        return self.when(text, option="--now / HYGIENE_NOW")

    def zone(self) -> tzinfo:
        """The configured time zone, else the machine's (hygiene.clock's one rule)."""
        from hygiene.clock import zone

        return zone(self.config().timezone)

    def when(self, text: str, *, option: str, base: datetime | None = None, hint: str | None = None) -> datetime:
        """A time the user gave (--now, --since, --at), read in the configured zone."""
        from hygiene.clock import ISO_HINT, parse_when

        return parse_when(text, option=option, tz=self.zone(), base=base, hint=hint or ISO_HINT)
