"""`hygiene watch` runs for weeks (issue: watcher memory): a function cache keyed by anything
that comes with mail (addresses, domains, subjects, text) must have a bound, or the watcher
grows with every new sender. Unbounded caches are allowed only where the key comes from the
code itself (a language, a pattern's name) or there is no key at all."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Iterator
from typing import Any

import hygiene

#: unbounded on purpose: keyed by the program's own few values, never by mail
UNBOUNDED_OK = {
    "hygiene.deadlines._pattern",  # one of the names in _SOURCES
    "hygiene.domains.suffix_list",  # no argument
    "hygiene.views.columns._wcwidth",  # no argument
    "hygiene.tone.engine.lexicon",  # a language
    "hygiene.tone.engine.lexicon_crc",  # a language
    "hygiene.tone.engine._hashtag_words",  # no argument
    "hygiene.tone.learned._load",  # a language
    "hygiene.tone.learned.strategy_patterns",  # a language, folded or not
    "hygiene.tone.appeal._patterns",  # a language
}


def caches() -> Iterator[tuple[str, Any]]:
    """Every functools cache defined in a hygiene module (module level or in a class)."""
    for info in pkgutil.walk_packages(hygiene.__path__, "hygiene."):
        if info.name.endswith(".__main__"):
            continue  # runs the command line
        module = importlib.import_module(info.name)
        holders = [module, *(c for _, c in inspect.getmembers(module, inspect.isclass) if c.__module__ == module.__name__)]
        for holder in holders:
            for value in vars(holder).values():
                target = value.__func__ if isinstance(value, (staticmethod, classmethod)) else value
                if hasattr(target, "cache_parameters") and getattr(target, "__module__", None) == module.__name__:
                    yield f"{module.__name__}.{target.__qualname__}", target


def test_every_cache_keyed_by_mail_has_a_bound() -> None:
    found = dict(caches())
    # the walk sees the caches the watcher fills with every new sender (not a vacuous pass)
    assert {"hygiene.domains.address_matches", "hygiene.domains.split_domain", "hygiene.authenticity.skeleton"} <= set(found)
    unbounded = sorted(name for name, fn in found.items() if fn.cache_parameters()["maxsize"] is None)
    assert [name for name in unbounded if name not in UNBOUNDED_OK] == []
    # a listed exception that became bounded, or went away, is dropped from the list
    assert sorted(UNBOUNDED_OK) == unbounded


def test_in_lists_of_ids_come_in_few_lengths_and_match_the_same_rows() -> None:
    """Each length of an IN list is a prepared statement of its own (SQLite keeps 128 per
    connection): lists that followed the count of waiting messages grew the watcher by tens of
    MB. Padded, 2,000 counts make a dozen lengths, and each list holds the same ids."""
    from hygiene.store.replies import _chunks, _padded

    lengths = set()
    for n in range(1, 2001):
        padded = _padded(list(range(n)))
        assert set(padded) == set(range(n))
        lengths.add(len(padded))
    assert len(lengths) <= 12
    assert [sorted(set(c)) for c in _chunks(list(range(7)), 4)] == [[0, 1, 2, 3], [4, 5, 6]]
    assert {len(c) for n in range(1, 1200) for c in _chunks(list(range(n)))} <= {1 << k for k in range(10)} | {500}
