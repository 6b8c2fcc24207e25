"""Folder names that say what a folder holds, shared by the IMAP poller and the importer."""

from __future__ import annotations

#: The usual names of the Sent folder, in order of preference: on IMAP for servers without
#: RFC 6154 special-use flags (the whole name, case-insensitively, the hierarchy separator
#: normalised to "/"), and for files imported (any one directory of the path). One list for
#: both: the union of the two the poller and the importer used to keep (".sent" is a Maildir++
#: folder on disk).
SENT_NAMES = (
    "sent",
    "sent items",
    "sent messages",
    "sent mail",
    "[gmail]/sent mail",
    "[google mail]/sent mail",
    "inbox/sent",
    "inbox/sent items",
    "inbox/sent messages",
    "送信済み",
    "送信済みメール",
    "送信済みアイテム",
    "送信箱",
    "送信済みトレイ",
    ".sent",
)
