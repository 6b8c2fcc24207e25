"""Terminal conventions: NO_COLOR, progress only on a terminal, JSON output."""

from __future__ import annotations

import json
import os
import sys
from typing import Any

import click


def use_color() -> bool:
    return "NO_COLOR" not in os.environ and sys.stdout.isatty()


def style(text: str, **kwargs: Any) -> str:
    return click.style(text, **kwargs) if use_color() else text


def interactive() -> bool:
    return sys.stderr.isatty()


def print_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))
