"""The seller's own words in a reply: the quoted message below (or interleaved with ``>``)
is Amazon's or the buyer's text, not the seller's tone. Neutral ground: the tone checker,
ingest and stated deadlines all use these rules."""

from __future__ import annotations

import re

#: Lines where mail programs start the quoted original (shared with the tone checker) (Gmail, Outlook, Apple Mail, Japanese
#: webmail and Thunderbird in Japanese).
QUOTE_HEADER = re.compile(
    r"""^[ \t\u3000]*(?:
        On\s.{4,200}\swrote:\s*$                                   # Gmail / Apple Mail (EN)
      | -{2,}\s*(?:Original\sMessage|Forwarded\smessage|元のメッセージ|転送されたメッセージ)\s*-{2,}
      | _{10,}\s*$                                                 # Outlook separator
      | (?:From|差出人|送信者)\s*[:：].*$                            # Outlook header block
      | \d{4}年\d{1,2}月\d{1,2}日.{0,40}(?:\d{1,2}:\d{2}).{0,120}[:：]\s*$   # Gmail (JA)
      | .{0,120}\s(?:wrote|のメッセージ|さんは書きました)\s*[:：]\s*$
    )""",
    re.VERBOSE | re.MULTILINE | re.IGNORECASE,
)


def own_text(body: str) -> str:
    """``body`` without the quoted original: lines starting with ``>`` are dropped, and
    everything from the first quote header ("On … wrote:", "-----Original Message-----",
    "2026年11月19日(木) 10:00 … :") on."""
    match = QUOTE_HEADER.search(body)
    if match and match.start() > 0:
        body = body[: match.start()]
    return "\n".join(line for line in body.splitlines() if not line.lstrip().startswith(">")).strip()
