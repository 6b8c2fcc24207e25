"""XDG base directories for config and data (XDG Base Directory Specification)."""

from __future__ import annotations

import os
from pathlib import Path

APP = "hygiene"


def _xdg(var: str, fallback: str) -> Path:
    value = os.environ.get(var, "")
    # The spec says relative paths are invalid and must be ignored.
    if value and os.path.isabs(value):
        return Path(value)
    return Path.home() / fallback


def config_home() -> Path:
    return _xdg("XDG_CONFIG_HOME", ".config") / APP


def data_home() -> Path:
    return _xdg("XDG_DATA_HOME", ".local/share") / APP


def state_home() -> Path:
    return _xdg("XDG_STATE_HOME", ".local/state") / APP


def default_config_path() -> Path:
    return config_home() / "config.toml"


def default_database_path() -> Path:
    return data_home() / "hygiene.db"


def find_config_path(explicit: str | os.PathLike[str] | None) -> Path:
    """``--config`` first, then ``$HYGIENE_CONFIG``, then the XDG location."""
    if explicit:
        return Path(explicit)
    env = os.environ.get("HYGIENE_CONFIG")
    if env:
        return Path(env)
    return default_config_path()
