"""Address patterns, and which domains are Amazon's.

A pattern is a shell-style glob on a lower-cased address (``*seller-support*@amazon.co.jp``),
with one addition: a pattern may end in ``.{suffix}``, which stands for one public suffix of
the Public Suffix List's ICANN section (``com``, ``co.jp``, ``de``, ``com.br``, …). The labels
before it are matched against the labels before the address's public suffix, so
``*@amazon.{suffix}`` matches an address whose *registrable* domain is ``amazon.`` plus a public
suffix (``amazon.co.jp``, ``amazon.com``) and ``*@*.amazon.{suffix}`` its subdomains
(``marketplace.amazon.co.jp``); neither matches a domain that merely holds "amazon." as a
label (``amazon.co.jp.login-check.example``, ``amazon.com-verify.example``).

The list is the snapshot bundled with :mod:`publicsuffixlist` (updated with each release of
that package); it is read from the package's own file, never fetched, and nothing is cached
on disk. It is loaded on the first address that a ``{suffix}`` pattern could match (about
20 ms, once per process): mail from elsewhere never loads it.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable
from functools import cache, lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from publicsuffixlist import PublicSuffixList

#: the placeholder for a public suffix, allowed only at the end of a pattern's domain
SUFFIX = "{suffix}"
_TAIL = "." + SUFFIX


def check_pattern(pattern: str) -> str | None:
    """Why ``pattern`` is not a valid address pattern, or None when it is."""
    if SUFFIX not in pattern:
        return None
    if not pattern.endswith(_TAIL) or pattern.count(SUFFIX) != 1:
        return f"{SUFFIX} may only end a pattern, after a dot"
    if "@" not in pattern:
        return f"{SUFFIX} belongs in the domain: write it after the @"
    head = pattern[: -len(_TAIL)]
    if not head.rsplit("@", 1)[1]:
        return f"{SUFFIX} needs a label before it, e.g. *@amazon.{SUFFIX}"
    return None


#: Second-level names that the list does not know as public suffixes but under which one of
#: Amazon's marketplaces lives: amazon.com.be (Belgium) is, by the list, a name under com.be,
#: a domain of its own whose holder is not Amazon. Read as suffixes here, so amazon.com.be and
#: its subdomains are Amazon's and any other name under com.be is not.
EXTRA_SUFFIXES = ("com.be",)


@cache
def suffix_list() -> PublicSuffixList:
    """The bundled Public Suffix List, ICANN section only: a private-section suffix
    (``herokuapp.com``, ``github.io``) would make ``amazon.herokuapp.com`` a registrable domain
    of its own. Unknown top-level domains (``.example``) are no public suffix at all."""
    from publicsuffixlist import PublicSuffixList

    # source=None: the file shipped inside the package (no network, no cache directory).
    # Without the punycode copy of every rule it loads in 9 ms instead of 23: an xn-- domain
    # is decoded before the lookup instead (split_domain).
    return PublicSuffixList(source=None, accept_unknown=False, only_icann=True, accept_encoded_idn=False)


@lru_cache(maxsize=4096)
def split_domain(domain: str) -> tuple[str, str] | None:
    """(labels before the public suffix, the suffix) of a lower-case domain, or None when it
    has no registrable domain (no known suffix, or it is a suffix itself)."""
    domain = domain.rstrip(".")
    for suffix in EXTRA_SUFFIXES:
        if domain.endswith("." + suffix) and len(domain) > len(suffix) + 1:
            return domain[: -len(suffix) - 1], suffix
    labels = domain.split(".")
    if "" in labels:
        return None
    lookup = ".".join(_unicode_label(label) for label in labels) if "xn--" in domain else domain
    psl = suffix_list()
    if psl.privatesuffix(lookup) is None:
        return None
    public = psl.publicsuffix(lookup)
    if public is None:  # pragma: no cover - privatesuffix found one
        return None
    depth = public.count(".") + 1  # the suffix's labels, counted on the domain as written
    return ".".join(labels[:-depth]), ".".join(labels[-depth:])


def _unicode_label(label: str) -> str:
    if not label.startswith("xn--"):
        return label
    try:
        return label.encode("ascii").decode("idna")
    except UnicodeError:
        return label  # not valid punycode: no rule will know it


@lru_cache(maxsize=1024)
def _compiled(pattern: str) -> tuple[Callable[[str], object], Callable[[str], object] | None]:
    """(match of the whole address, match of local@labels-before-the-suffix or None)."""
    if not pattern.endswith(_TAIL):
        return re.compile(fnmatch.translate(pattern)).match, None
    # The pattern with the suffix as '*' matches a superset: cheap, and most mail is not even
    # that, so it never loads the list.
    superset = re.compile(fnmatch.translate(pattern[: -len(SUFFIX)] + "*")).match
    return superset, re.compile(fnmatch.translate(pattern[: -len(_TAIL)])).match


# Small on purpose: most addresses are seen once (each buyer's own), so a big cache only grows
# (13 MB at 16,384 entries, in every parse worker); the few that recur (Amazon's senders, the
# seller's own) stay in it, and a miss is a regex match plus split_domain's cache.
@lru_cache(maxsize=1024)
def address_matches(address: str, pattern: str) -> bool:
    """Whether a lower-case ``address`` matches ``pattern`` (see the module docstring)."""
    whole, registrable = _compiled(pattern)
    if not whole(address):
        return False
    if registrable is None:
        return True
    local, at, domain = address.rpartition("@")
    if not at:
        return False
    split = split_domain(domain)
    return split is not None and bool(registrable(f"{local}@{split[0]}"))


def any_match(addresses: list[str], patterns: tuple[str, ...]) -> bool:
    return any(address_matches(a, p) for a in addresses for p in patterns)


@lru_cache(maxsize=4096)
def is_amazon_domain(domain: str) -> bool:
    """Amazon's own domain: its registrable domain is ``amazon.`` plus a public suffix
    (``amazon.co.jp``, ``marketplace.amazon.de``, ``amazon.com.br``); never one that merely
    holds "amazon." as a label (``amazon.co.jp.login-check.example``)."""
    domain = domain.strip().strip(".").lower()
    if "amazon" not in domain:  # cheap: most domains never load the list
        return False
    split = split_domain(domain)
    return split is not None and split[0].rsplit(".", 1)[-1] == "amazon"
