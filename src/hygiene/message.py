"""The parsed message: the fields hygiene keeps from a mail, as :mod:`hygiene.mail.parse`
decodes them. Neutral ground: classification, authenticity, ingest and the tests read it
without importing the mail stack."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass
class ParsedMessage:
    message_id: str | None = None
    in_reply_to: str | None = None
    references: list[str] = field(default_factory=list)
    from_name: str = ""
    from_addr: str = ""
    to_addrs: list[str] = field(default_factory=list)
    cc_addrs: list[str] = field(default_factory=list)
    subject: str = ""
    #: the Date header in UTC, None when missing or unparseable
    date: datetime | None = None
    body_text: str = ""
    #: Auto-Submitted (not "no"), X-Autoreply, Precedence: auto_reply, or the words of a
    #: vacation responder or shop template (AUTO_REPLY_SUBJECTS, AUTO_REPLY_BODIES)
    auto_reply: bool = False
    parse_notes: list[str] = field(default_factory=list)
    #: what the message says about where it comes from (judged by hygiene.authenticity)
    reply_to: list[str] = field(default_factory=list)
    sender: str = ""
    #: Authentication-Results / ARC-Authentication-Results values, topmost first
    auth_results: list[str] = field(default_factory=list)
    arc_auth_results: list[str] = field(default_factory=list)
    #: d= of each DKIM-Signature
    dkim_domains: list[str] = field(default_factory=list)
    received_spf: list[str] = field(default_factory=list)
    #: hosts of the http(s) links in the body (an HTML link's target is kept in the text)
    link_hosts: list[str] = field(default_factory=list)
    #: an Amazon DKIM signature verified (True), failed against its key (False), or was not
    #: checked / had no answer (None); set by ingest, which knows the config
    dkim_verified: bool | None = None

    @property
    def parse_note(self) -> str | None:
        return "; ".join(self.parse_notes) if self.parse_notes else None
