"""Decide what a message is: which category, and whether it expects the seller's reply.

Rules come from the config (defaults in :data:`hygiene.config.DEFAULT_RULES`, documented in
``config.example.toml``); the first rule whose conditions all match wins. Outbound mail (the
seller's own) is kept when it is addressed to Amazon; anything else matching no rule is
skipped unless ``keep_other`` is set.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from hygiene.authenticity import MessageClaims, claims_amazon, judge
from hygiene.config import OUTBOUND, ClassifyRule, Config
from hygiene.domains import any_match, is_amazon_domain
from hygiene.message import ParsedMessage

INBOUND = "inbound"
OUTBOUND_DIRECTION = "outbound"
#: Mail that claims to be Amazon and is not (hygiene.authenticity): kept, never answered.
SUSPICIOUS = "suspicious"


@dataclass(frozen=True)
class Classification:
    direction: str
    category: str
    needs_reply: bool
    #: why the message is SUSPICIOUS ("; "-joined), else None
    reasons: str | None = None


@lru_cache(maxsize=256)
def _regex(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


def _any_glob(addresses: list[str], patterns: tuple[str, ...]) -> bool:
    return any_match(addresses, patterns)


def rule_matches(rule: ClassifyRule, msg: ParsedMessage, *, headers_only: bool = False) -> bool:
    """Whether ``rule`` matches; with ``headers_only`` a body condition counts as met (the
    body is not fetched yet)."""
    if rule.from_ and not _any_glob([msg.from_addr], rule.from_):
        return False
    if rule.to and not _any_glob(msg.to_addrs + msg.cc_addrs, rule.to):
        return False
    if rule.subject and not _regex(rule.subject).search(msg.subject):
        return False
    if rule.body and not headers_only and not _regex(rule.body).search(msg.body_text):
        return False
    return True


def is_outbound(msg: ParsedMessage, folder_role: str, own_addresses: frozenset[str]) -> bool:
    return folder_role == "sent" or (bool(msg.from_addr) and msg.from_addr in own_addresses)


def classify(
    msg: ParsedMessage,
    config: Config,
    *,
    folder_role: str = "inbox",
    own_addresses: frozenset[str] = frozenset(),
    trusted_authserv_ids: tuple[str, ...] = (),
) -> Classification | None:
    """The message's classification, or None when it is not worth keeping. Inbound mail that
    claims to be Amazon and is not is SUSPICIOUS whatever the rules say (and kept even when
    no rule would keep it); ``trusted_authserv_ids`` name the receivers whose
    Authentication-Results are believed (see :mod:`hygiene.authenticity`)."""
    if is_outbound(msg, folder_role, own_addresses):
        if _any_glob(msg.to_addrs + msg.cc_addrs, config.outbound_to) or config.keep_other:
            return Classification(OUTBOUND_DIRECTION, OUTBOUND, False)
        return None
    kind = _by_rules(msg, config)
    reasons = _forgery(msg, trusted_authserv_ids)
    if reasons:
        return Classification(INBOUND, SUSPICIOUS, False, reasons)
    return kind


def _by_rules(msg: ParsedMessage, config: Config) -> Classification | None:
    for rule in config.rules:
        if rule_matches(rule, msg):
            return Classification(INBOUND, rule.category, config.needs_reply.get(rule.category, False))
    if config.keep_other:
        return Classification(INBOUND, "other", config.needs_reply.get("other", False))
    return None


def _claims(msg: ParsedMessage) -> MessageClaims:
    return MessageClaims(
        from_addr=msg.from_addr,
        from_name=msg.from_name,
        reply_to=tuple(msg.reply_to),
        sender=msg.sender,
        auth_results=tuple(msg.auth_results),
        arc_auth_results=tuple(msg.arc_auth_results),
        dkim_domains=tuple(msg.dkim_domains),
        received_spf=tuple(msg.received_spf),
        link_hosts=tuple(msg.link_hosts),
        dkim_verified=msg.dkim_verified,
    )


def _forgery(msg: ParsedMessage, trusted_authserv_ids: tuple[str, ...]) -> str | None:
    """Why ``msg`` only claims to be Amazon, or None (no claim, or a claim that holds)."""
    if (
        not (msg.auth_results or msg.dkim_domains or msg.received_spf or msg.link_hosts or msg.reply_to or msg.sender)
        and is_amazon_domain(msg.from_addr.rpartition("@")[2])
    ):
        # From an Amazon domain with nothing to judge it by (no verdict, signature, link or
        # other address): no rule of the judge can find fault, and most mail is like this
        return None
    # judge says nothing of mail that claims nothing
    verdict = judge(_claims(msg), is_amazon=is_amazon_domain, trusted_authserv_ids=trusted_authserv_ids)
    return "; ".join(verdict.reasons) if verdict.suspicious else None


def could_keep(
    headers: ParsedMessage,
    config: Config,
    *,
    folder_role: str = "inbox",
    own_addresses: frozenset[str] = frozenset(),
) -> bool:
    """From the headers alone: could :func:`classify` keep this message once the body is
    read? The poller fetches bodies only for these (most of a seller's mailbox is not Amazon)."""
    if config.keep_other:
        return True
    if is_outbound(headers, folder_role, own_addresses):
        return _any_glob(headers.to_addrs + headers.cc_addrs, config.outbound_to)
    # Mail claiming to be Amazon is always read: a forgery must be seen to be flagged.
    return any(rule_matches(rule, headers, headers_only=True) for rule in config.rules) or claims_amazon(
        _claims(headers), is_amazon=is_amazon_domain
    )
