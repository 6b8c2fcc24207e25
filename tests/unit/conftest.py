"""Fixtures of the unit tests (builders shared by several test files are in tests/builders.py)."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def config_path(tmp_path: Path) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(f'timezone = "Asia/Tokyo"\n[database]\nurl = "sqlite:///{tmp_path / "check.db"}"\n')
    return path
