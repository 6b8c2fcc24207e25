"""The mail-source seam: what the sync engine (:mod:`hygiene.mail.sync`) needs from a place
mail comes from, and nothing more.

Two sources implement it: an IMAP account (:class:`hygiene.mail.imap_source.ImapSource`) and
local files (:class:`hygiene.mail.files.FileSource`: Maildir, mbox, .eml, directories). A new
source (a JMAP account, a Gmail API export) implements this protocol and gets batching, the
parse workers, the writer and the failure rules of ``poll`` and ``import`` for free.

UIDs follow IMAP: within one folder and one UIDVALIDITY, a UID names one message for good and
new messages get higher UIDs. A source that cannot promise that across runs (files: a tree can
change between two imports) reports ``uidvalidity=None``; the engine then keeps no progress
for the folder, reads all of it each time, and the store's deduplication by content decides
what is new.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True)
class Folder:
    """A folder to sync. ``store_as``: the folder name rows are stored under (files store every
    folder as ``import``, so the same message imported twice is one row)."""

    name: str
    #: "inbox" or "sent": where the folder sits in the seller's mailbox
    role: str
    store_as: str = ""

    @property
    def stored_name(self) -> str:
        return self.store_as or self.name


@dataclass(frozen=True)
class FolderStatus:
    """A folder as opened (read-only) for a sync."""

    #: None: UIDs do not last across runs (files): no progress is kept
    uidvalidity: int | None
    #: CONDSTORE's HIGHESTMODSEQ, when the source has it: unchanged means no flag changed
    highestmodseq: int | None = None
    #: how many messages the folder holds
    exists: int = 0


@dataclass
class Fetched:
    """One message as the source holds it."""

    uid: int
    data: bytes
    flags: tuple[str, ...] = ()
    internal_date: datetime | None = None
    #: the message's own role where a folder holds both directions (a file under a Sent
    #: directory); None: the folder's
    role: str | None = None


class Source(Protocol):
    #: RawMessage.source of what it stores ("imap", "import")
    kind: str

    def folders(self) -> list[Folder]:
        """The folders to sync, with their roles, in sync order."""
        ...

    def open(self, folder: Folder) -> FolderStatus:
        """Open ``folder`` read-only for the calls below (until the next ``open``)."""
        ...

    def new_uids(self, folder: Folder, since: int) -> list[int]:
        """UIDs above ``since``, ascending."""
        ...

    def headers(self, folder: Folder, uids: Sequence[int]) -> Mapping[int, bytes] | None:
        """The From/To/Cc/Subject/Reply-To/Sender header block of each message, for the
        prefilter; None when that is not cheaper than :meth:`fetch` (the engine then fetches
        every body). A UID gone since :meth:`new_uids` is left out."""
        ...

    def fetch(self, folder: Folder, uids: Sequence[int]) -> list[Fetched]:
        """The messages of ``uids``, in that order; a UID gone (expunged, unreadable) is left out."""
        ...

    def flag_changes(self, folder: Folder, uids: Sequence[int], since_modseq: int | None) -> Mapping[int, tuple[str, ...]]:
        """Current flags of those of ``uids`` that changed since ``since_modseq`` (all of
        them when None)."""
        ...

    def close(self) -> None:
        """Let go of the connection or the open files; never raises."""
        ...
