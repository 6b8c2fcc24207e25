"""Real Amazon mail, or mail that only claims to be Amazon.

Sellers get a steady stream of forged "your account has been suspended" mail in Amazon's
name. Answering one (or clicking in it) is the harm; queueing it with a 24 h deadline would
push the seller to. :func:`judge` decides from what the message says about itself and what
the seller's own receiving server says about it, in this order:

1. Does it claim to be Amazon at all? An Amazon domain in From / Reply-To / Sender, a display
   name that says Amazon, or an address that imitates one (``amaz0n``, ``arnazon``,
   ``amazon-security.example``, ``amazon.co.jp.login-check.example``, Cyrillic ``а``).
   A message that makes no such claim is not judged.
2. A claim on an address that is not Amazon's (display name or look-alike) is suspicious.
3. For an Amazon From domain, the receiving server's verdict in ``Authentication-Results``
   (only from trusted receivers): ``dmarc=fail``, or DKIM and SPF both failing, is
   suspicious; ``dmarc=pass`` or a DKIM pass aligned with From is genuine.
4. Without a verdict: an Amazon DKIM signature that does not verify (checked by
   hygiene.mail.dkim_check; one that verifies is genuine), a DKIM signature by a non-Amazon
   domain, or ``Received-SPF`` failing, is suspicious. No information at all is not suspicion.
5. Links to hosts that are not Amazon's, in mail claiming to be Amazon and not verified
   genuine, are suspicious (the hosts are named, never fetched) — except in a buyer's
   message through Amazon's relay (marketplace.amazon.*), whose links are the buyer's.

Pure functions of plain data: the caller says which domains are Amazon's.
"""

from __future__ import annotations

import functools
import logging
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

log = logging.getLogger(__name__)

#: A display name that says Amazon (after NFKC: full-width letters fold to ASCII).
_AMAZON_NAME = re.compile(r"amazon|アマゾン|ａｍａｚｏｎ|amzn", re.IGNORECASE)
#: "Amazon.co.jp via some-list": a mailing list rewrote From (DMARC): the list's mail, not a claim.
_VIA_LIST = re.compile(r"\s(?:via|経由)\s", re.IGNORECASE)
#: Look-alike spellings of "amazon" once confusable characters are folded to Latin.
_LOOKALIKE = re.compile(r"am[a4@]z[o0]n|arnaz[o0]n|amaz[o0]m|annaz[o0]n|amazn|amaozn|amzon|arnazon")

#: Link hosts Amazon's own mail uses that are not under an amazon.* registrable domain.
AMAZON_LINK_DOMAINS = (
    "amzn.to", "amzn.com", "amzn.asia", "a.co", "media-amazon.com", "ssl-images-amazon.com",
    "images-amazon.com", "amazonaws.com", "awstrack.me", "amazontrust.com", "primevideo.com",
)


@dataclass(frozen=True)
class MessageClaims:
    """What a message says about where it comes from (header values as received)."""

    from_addr: str = ""
    from_name: str = ""
    reply_to: tuple[str, ...] = ()
    sender: str = ""
    #: Authentication-Results values, top (newest, added by the last receiver) first
    auth_results: tuple[str, ...] = ()
    arc_auth_results: tuple[str, ...] = ()
    #: d= of each DKIM-Signature
    dkim_domains: tuple[str, ...] = ()
    #: Received-SPF values, top first
    received_spf: tuple[str, ...] = ()
    #: hosts of the links in the body
    link_hosts: tuple[str, ...] = ()
    #: our own DKIM check of an Amazon signature (hygiene.mail.dkim_check), None: not made
    dkim_verified: bool | None = None


@dataclass(frozen=True)
class Verdict:
    claims_amazon: bool = False
    suspicious: bool = False
    #: the receiving server verified it as Amazon's (DMARC, or aligned DKIM)
    verified: bool = False
    reasons: tuple[str, ...] = field(default_factory=tuple)


def _domain(address: str) -> str:
    return address.rpartition("@")[2].strip().strip(".").lower()


#: Scripts that have no letters confusable with Latin ones (kana, CJK, Hangul, punctuation
#: and spaces of those blocks): a name written in them cannot spell "amazon" in disguise.
_NO_LATIN_LOOKALIKES = re.compile(r"[\u3000-\u9fff\uac00-\ud7af\uff00-\uffef\s]*")


@functools.lru_cache(maxsize=4096)
def skeleton(text: str) -> str:
    """``text`` with compatibility forms and confusable characters folded to Latin, lower
    case: ``ＡＭＡＺＯＮ``, ``аmazon`` (Cyrillic а) and ``amazon`` all read ``amazon``."""
    folded = unicodedata.normalize("NFKC", text).lower()
    if folded.isascii() or _NO_LATIN_LOOKALIKES.fullmatch("".join(c for c in folded if not c.isascii())):
        return folded
    from confusable_homoglyphs import confusables

    out = []
    for char in folded:
        found = confusables.is_confusable(char, preferred_aliases=["latin"]) if not char.isascii() else False
        if isinstance(found, list) and found:
            latin = [h["c"] for h in found[0]["homoglyphs"] if h["c"].isascii()]
            out.append(latin[0].lower() if latin else char)
        else:
            out.append(char)
    return "".join(out)


def looks_like_amazon(domain: str) -> bool:
    """Whether a domain's spelling imitates Amazon (``amaz0n.example``, ``аmazon.com`` with a
    Cyrillic а, ``amazon-security.example``). The caller has ruled out Amazon's own."""
    return bool(_LOOKALIKE.search(skeleton(domain)))


def _names_amazon(display_name: str) -> bool:
    """Whether a display name says Amazon (full-width and confusable letters folded)."""
    name = unicodedata.normalize("NFKC", display_name)
    return bool(name) and bool(_AMAZON_NAME.search(name) or (not name.isascii() and _AMAZON_NAME.search(skeleton(name))))


def claims_amazon(claims: MessageClaims, *, is_amazon: Callable[[str], bool]) -> bool:
    """Whether the message claims to be Amazon at all (step 1): cheap, for the header
    prefilter, which must fetch every such message so that a forgery is seen."""
    if _names_amazon(claims.from_name):
        return True
    for address in (claims.from_addr, *claims.reply_to, claims.sender):
        domain = _domain(address)
        if domain and (is_amazon(domain) or looks_like_amazon(domain)):
            return True
    return False


def judge(
    claims: MessageClaims,
    *,
    is_amazon: Callable[[str], bool],
    trusted_authserv_ids: Sequence[str] = (),
) -> Verdict:
    """The verdict on one message (see the module docstring). ``is_amazon(domain)``: whether
    a domain is Amazon's own (registrable domain). ``trusted_authserv_ids``: the receivers
    whose Authentication-Results count; empty means the first (topmost) header's."""
    from_domain = _domain(claims.from_addr)
    amazon_from = bool(from_domain) and is_amazon(from_domain)
    reasons: list[str] = []
    name_claim = _names_amazon(claims.from_name) and not _VIA_LIST.search(unicodedata.normalize("NFKC", claims.from_name))
    others = [a for a in (*claims.reply_to, claims.sender) if a]
    other_amazon = any(is_amazon(_domain(a)) for a in others)
    lookalikes = sorted({d for d in (from_domain, *map(_domain, others)) if d and not is_amazon(d) and looks_like_amazon(d)})
    if not (amazon_from or name_claim or other_amazon or lookalikes):
        return Verdict()

    if lookalikes:
        reasons.append(f"address imitates Amazon: {', '.join(lookalikes)}")
    if name_claim and not amazon_from:
        reasons.append(f"display name says Amazon but the address is {claims.from_addr or '(none)'}")
    if other_amazon and not amazon_from and not name_claim:
        reasons.append(f"Reply-To/Sender is Amazon's but From is {claims.from_addr or '(none)'}")

    verified = False
    if amazon_from:
        server = _server_verdict(claims, from_domain, is_amazon, trusted_authserv_ids)
        if server is True:
            verified = True
        elif isinstance(server, str):
            reasons.append(server)
        elif server is None and claims.dkim_verified is True:
            verified = True
        elif server is None:
            if claims.dkim_verified is False:
                reasons.append(f"its DKIM signature by an Amazon domain does not verify against the published key ({from_domain})")
            reasons.extend(_unverified_signs(claims, from_domain, is_amazon))
    # A buyer's message through Amazon's relay carries the buyer's own words and links: not
    # Amazon claiming anything (a forged relay address is caught by the server's verdict).
    relay = from_domain.startswith("marketplace.amazon.")
    if not verified and not relay:
        foreign = sorted({h for h in claims.link_hosts if h and not _amazon_link(h, is_amazon)})
        if foreign:
            shown = ", ".join(foreign[:5]) + (f" and {len(foreign) - 5} more" if len(foreign) > 5 else "")
            reasons.append(f"links to hosts that are not Amazon's: {shown}")
    return Verdict(claims_amazon=True, suspicious=bool(reasons), verified=verified, reasons=tuple(reasons))


def _amazon_link(host: str, is_amazon: Callable[[str], bool]) -> bool:
    host = host.lower().strip(".")
    return is_amazon(host) or any(host == d or host.endswith("." + d) for d in AMAZON_LINK_DOMAINS)


def _server_verdict(
    claims: MessageClaims, from_domain: str, is_amazon: Callable[[str], bool], trusted: Sequence[str]
) -> bool | str | None:
    """True: verified genuine; a reason: failed; None: no trusted verdict for From."""
    import authres

    parsed = []
    for value in claims.auth_results:
        try:
            parsed.append(authres.AuthenticationResultsHeader.parse(f"Authentication-Results: {value}"))
        except Exception as exc:  # noqa: BLE001 - an unreadable header (authres raises its own types and more) is no verdict
            log.debug("Authentication-Results not readable (%s); no verdict from it", exc.__class__.__name__)
            continue
    if not parsed:
        return None
    ids = {t.lower() for t in trusted} or {str(parsed[0].authserv_id).lower()}
    results = [r for header in parsed if str(header.authserv_id).lower() in ids for r in header.results]
    if not results:
        return None
    by_method: dict[str, list[str]] = {}
    aligned_dkim = False
    for result in results:
        method, outcome = str(result.method).lower(), str(result.result).lower()
        by_method.setdefault(method, []).append(outcome)
        if method == "dkim" and outcome == "pass":
            signer = str(getattr(result, "header_d", None) or _prop(result, "header", "d") or "").lower()
            if signer and _aligned(signer, from_domain) and is_amazon(signer):
                aligned_dkim = True
    dmarc = by_method.get("dmarc", [])
    if "fail" in dmarc:
        return f"the receiving server's DMARC check failed for {from_domain}"
    if "pass" in dmarc or aligned_dkim:
        return True
    dkim_failed = bool(by_method.get("dkim")) and all(o in ("fail", "none", "neutral", "policy", "permerror") for o in by_method["dkim"])
    spf_failed = bool(by_method.get("spf")) and all(o in ("fail", "softfail", "none", "permerror") for o in by_method["spf"])
    if dkim_failed and spf_failed:
        return f"the receiving server found neither DKIM nor SPF valid for {from_domain}"
    return None


def _prop(result: object, ptype: str, name: str) -> str | None:
    for prop in getattr(result, "properties", ()) or ():
        if getattr(prop, "type", None) == ptype and getattr(prop, "name", None) == name:
            return str(prop.value)
    return None


def _aligned(signer: str, from_domain: str) -> bool:
    # relaxed alignment: one is the other or a subdomain of it
    return signer == from_domain or from_domain.endswith("." + signer) or signer.endswith("." + from_domain)


def _unverified_signs(claims: MessageClaims, from_domain: str, is_amazon: Callable[[str], bool]) -> list[str]:
    """Without a server verdict: a signature by someone else, or SPF failing."""
    out = []
    signers = [d.lower() for d in claims.dkim_domains if d]
    if signers and not any(is_amazon(d) and _aligned(d, from_domain) for d in signers):
        out.append(f"signed (DKIM) by {', '.join(sorted(set(signers)))}, not by {from_domain}")
    for value in claims.received_spf[:1]:  # the seller's own server's, on top
        outcome = value.strip().split(None, 1)[0].lower() if value.strip() else ""
        if outcome in ("fail", "softfail", "none"):
            out.append(f"Received-SPF: {outcome} for a sender claiming {from_domain}")
    return out
