"""Terminal conventions: NO_COLOR, progress only on a terminal, JSON output."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterable, Iterator
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


def print_json_list(key: str, items: Iterable[Any], *, flat: bool = False) -> None:
    """Print ``{key: [items]}`` exactly as :func:`print_json` would, one item at a time, so a
    long list is never held whole (``messages --json`` on 50k messages). ``flat``: every item
    is a dict of str keys and scalar values (no lists, dicts or datetimes), which is written
    through json's C encoder (``indent`` would make json use its pure-Python one)."""
    print_lines(_json_list_chunks(key, items, flat), end="")


_FLAT = {"ensure_ascii": False, "separators": (",\n      ", ": ")}


def _json_list_chunks(key: str, items: Iterable[Any], flat: bool) -> Iterator[str]:
    head = "{\n  " + json.dumps(key) + ": ["
    first = True
    for item in items:
        if flat and item:  # the line breaks as separators give the indented text
            text = "{\n      " + json.dumps(item, **_FLAT)[1:-1] + "\n    }"  # type: ignore[arg-type]
        else:
            text = json.dumps(item, ensure_ascii=False, indent=2, default=str).replace("\n", "\n    ")
        yield (head + "\n    " if first else ",\n    ") + text
        first = False
    yield head + "]\n}\n" if first else "\n  ]\n}\n"


def print_lines(lines: Iterable[str], end: str = "\n") -> None:
    """Write lines as they come, through one buffered stream (``click.echo`` flushes every
    call: 50k lines would be 50k writes)."""
    out = sys.stdout
    for line in lines:
        out.write(line + end)
    out.flush()
