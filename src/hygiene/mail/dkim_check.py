"""DKIM verification of mail signed by Amazon, when the receiving server gave no verdict.

Most providers add Authentication-Results, and hygiene.authenticity believes them. Mail that
arrives without one (a self-hosted server, an import of saved files) but carries a DKIM
signature by an Amazon domain is verified here with ``dkimpy``: the signer's public key is
looked up in DNS (once per selector and process). A signature that does not verify is a
forgery's mark; a lookup that fails (no network, a timeout) is no verdict at all, never
suspicion. ``[phishing] verify_dkim = false`` turns it off.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Callable

log = logging.getLogger(__name__)

#: seconds a DNS lookup may take (a poll must not hang on an unreachable resolver)
DNS_TIMEOUT_S = 3.0

_SELECTOR_DOMAIN = re.compile(rb"(?:^|;)\s*([ds])\s*=\s*([^;\s]+)", re.IGNORECASE)


@functools.lru_cache(maxsize=256)
def lookup_txt(name: bytes) -> bytes | None:
    """The TXT record at ``name`` (None when there is none or it cannot be had)."""
    import dkim.dnsplug

    try:
        return dkim.dnsplug.get_txt(name, timeout=DNS_TIMEOUT_S)
    except Exception as exc:  # noqa: BLE001 - any resolver failure (dnspython's, the socket's) is "no answer", never a verdict
        log.debug("DKIM key lookup of %r: no answer (%s)", name, exc.__class__.__name__)
        return None


def verify_signatures(raw: bytes, signer: Callable[[str], bool], lookup: Callable[[bytes], bytes | None] | None = None) -> bool | None:
    """True when a DKIM signature by a domain ``signer`` accepts verifies; False when such
    a signature fails against its published key; None when there is none, or its key could
    not be looked up (no verdict)."""
    import dkim

    lookup = lookup or lookup_txt
    answered: list[bool] = []

    def dnsfunc(name: bytes, timeout: float = DNS_TIMEOUT_S) -> bytes | None:
        found = lookup(name)
        answered.append(found is not None)
        return found

    try:
        verifier = dkim.DKIM(raw)
    except Exception as exc:  # noqa: BLE001 - a message dkimpy cannot read (it raises its own and others) has no verdict
        log.debug("DKIM: message not readable by dkimpy (%s); no verdict", exc.__class__.__name__)
        return None
    signatures = [v for k, v in verifier.headers if k.lower() == b"dkim-signature"]
    outcome: bool | None = None
    for index, value in enumerate(signatures):
        tags = {m.group(1).lower(): m.group(2) for m in _SELECTOR_DOMAIN.finditer(value.replace(b"\r\n", b""))}
        domain = tags.get(b"d", b"").decode("ascii", "replace").lower()
        if not domain or not signer(domain):
            continue
        answered.clear()
        try:
            good = verifier.verify(idx=index, dnsfunc=dnsfunc)
        except dkim.ValidationError:
            good = False  # e.g. "body hash mismatch": a verdict when the key was had
        except Exception as exc:  # noqa: BLE001 - dkimpy raises its own and others on odd input: no verdict
            log.debug("DKIM signature of %s: not checkable (%s); no verdict", domain, exc.__class__.__name__)
            continue
        if good:
            return True
        if answered and all(answered):
            outcome = False  # the published key was there and the message does not match it
    return outcome
