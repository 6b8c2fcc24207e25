"""Read messages from files: a single message file of any name, an mbox (recognised by its
``From `` line), a Maildir, or a directory searched recursively."""

from __future__ import annotations

import mailbox
import os
import stat
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from hygiene.errors import MailSourceError
from hygiene.mail.folders import SENT_NAMES
from hygiene.mail.ingest import RawMessage
from hygiene.mail.source import Fetched, Folder, FolderStatus

MAILDIR_SUBDIRS = ("cur", "new", "tmp")


def is_maildir(path: Path) -> bool:
    return all((path / sub).is_dir() for sub in ("cur", "new"))


def _maildir_flags(name: str) -> tuple[str, ...]:
    # Maildir info ":2,FRS": map to IMAP system flags.
    info = name.rpartition(":2,")[2] if ":2," in name else ""
    table = {"S": "\\Seen", "R": "\\Answered", "F": "\\Flagged", "T": "\\Deleted", "D": "\\Draft"}
    return tuple(table[c] for c in info if c in table)


_SENT = frozenset(SENT_NAMES)


def _role_for(path: Path) -> str:
    # An exported "Sent" folder holds the seller's own mail.
    lowered = {part.lower() for part in path.parts}
    return "sent" if lowered & _SENT else "inbox"


#: A message larger than this is skipped. An mbox is read one message at a time, so the cap
#: applies to each of its messages, not to the file. Real mail with attachments stays well
#: under it; what does not is a wrong file, or a device that would never end.
MAX_MESSAGE_BYTES = 50 * 1024 * 1024

#: Told of each entry not read: its path and why ("not a regular file", ...).
OnSkip = Callable[[Path, str], None]


def read_path(path: Path, *, follow_symlinks: bool = False, on_skip: OnSkip | None = None) -> Iterator[RawMessage]:
    """Every message under ``path``. Raises MailSourceError when ``path`` cannot be read.

    Only regular files are opened: FIFOs, sockets and devices would block or never end. Under
    a directory, a symlinked file is read when its target is inside that directory too, and a
    symlinked directory is not entered (its target is walked anyway), unless
    ``follow_symlinks``; ``path`` itself is followed, since the user named it. Messages over
    :data:`MAX_MESSAGE_BYTES` are not read either. Each entry left unread goes to ``on_skip``
    with the reason; without one, the first raises MailSourceError.
    """
    source = FileSource([path], follow_symlinks=follow_symlinks, on_skip=on_skip)
    try:
        folder = source.folders()[0]
        status = source.open(folder)
        for uid in range(1, status.exists + 1):
            for message in source.fetch(folder, [uid]):
                yield RawMessage(message.data, IMPORT_FOLDER, message.role or "inbox", None, None, message.internal_date, message.flags, "import")
    finally:
        source.close()


class FileSource:
    """Message files, mboxes, Maildirs and directories of them, as one mail source
    (:class:`hygiene.mail.source.Source`) with one folder, stored as ``import``.

    The paths are walked when the folder is opened; each message gets a synthetic UID, its
    place in the walk (directories sorted; a Maildir's ``new`` then ``cur``; an mbox in file
    order): stable while the files are, but not promised across runs, so the folder reports
    no UIDVALIDITY and the engine keeps no progress (an import reads everything; storing the
    same bytes twice adds nothing). Only where each message is, not the message, is held
    until its batch is read. A message's role comes from its path (a ``Sent`` directory)."""

    kind = "import"

    def __init__(self, paths: Sequence[Path], *, follow_symlinks: bool = False, on_skip: OnSkip | None = None) -> None:
        self.paths = list(paths)
        self.follow_symlinks = follow_symlinks
        self.skip = on_skip or _refuse
        self._entries: list[_Entry] = []
        #: the mbox being read, kept open while its messages are (one file open at a time)
        self._mbox: tuple[Path, BinaryIO] | None = None

    def folders(self) -> list[Folder]:
        return [Folder(IMPORT_FOLDER, "inbox")]

    def open(self, folder: Folder) -> FolderStatus:
        for path in self.paths:
            if not path.exists():
                raise MailSourceError(f"{path}: no such file or directory")
        self.close()
        for path in self.paths:
            reader = _Reader(Path(os.path.realpath(path)), self.follow_symlinks, self.skip, MAX_MESSAGE_BYTES)
            self._entries.extend(reader.tree(path) if path.is_dir() else reader.file(path))
        return FolderStatus(None, None, len(self._entries))

    def new_uids(self, folder: Folder, since: int) -> list[int]:
        return list(range(since + 1, len(self._entries) + 1))

    def headers(self, folder: Folder, uids: Sequence[int]) -> Mapping[int, bytes] | None:
        return None  # reading a file's head costs about what reading the file does

    def fetch(self, folder: Folder, uids: Sequence[int]) -> list[Fetched]:
        out: list[Fetched] = []
        for uid in uids:
            if 1 <= uid <= len(self._entries):
                message = self._entries[uid - 1].read(uid, self.skip, self._open_mbox)
                if message is not None:
                    out.append(message)
        return out

    def flag_changes(self, folder: Folder, uids: Sequence[int], since_modseq: int | None) -> Mapping[int, tuple[str, ...]]:
        # No modification sequence: every message's current flags (a Maildir's, from its name).
        return {uid: self._entries[uid - 1].flags for uid in uids if 1 <= uid <= len(self._entries)}

    def close(self) -> None:
        if self._mbox is not None:
            self._mbox[1].close()
            self._mbox = None
        self._entries.clear()

    def _open_mbox(self, path: Path) -> BinaryIO:
        if self._mbox is None or self._mbox[0] != path:
            if self._mbox is not None:
                self._mbox[1].close()
            self._mbox = (path, open(path, "rb"))  # noqa: SIM115 - closed when the next mbox is read, or by close()
        return self._mbox[1]


@dataclass
class _Entry:
    """Where one message is: a file (``span`` None) or the bytes ``span`` of the mbox at ``path``."""

    path: Path
    role: str
    flags: tuple[str, ...] = ()
    #: (start, stop): where the message is in its mbox, its ``From `` line included
    span: tuple[int, int] | None = None
    #: the message's place in its mbox, for what is said about it
    n: int = 0

    def read(self, uid: int, skip: OnSkip, open_mbox: Callable[[Path], BinaryIO]) -> Fetched | None:
        if self.span is not None:
            # What mailbox.mbox.get_file gives, read by offset: the message after its From line.
            start, stop = self.span
            try:
                box = open_mbox(self.path)
                box.seek(start)
                box.readline()
                length = stop - box.tell()
                # An oversized message is never read, let alone held in memory whole.
                if length > MAX_MESSAGE_BYTES:
                    skip(self.path, f"message {self.n} is larger than {_size(MAX_MESSAGE_BYTES)}")
                    return None
                data = box.read(length)
            except OSError as exc:
                skip(self.path, f"cannot read: {exc.strerror}")
                return None
            return Fetched(uid, data, role=self.role)
        fh = _open_regular(self.path, skip)
        if fh is None:
            return None
        with fh:
            st = os.fstat(fh.fileno())
            try:
                # Bounded even for a regular file: one still growing cannot push past the cap.
                data = fh.read(MAX_MESSAGE_BYTES + 1)
            except OSError as exc:
                skip(self.path, f"cannot read: {exc.strerror}")
                return None
        if len(data) > MAX_MESSAGE_BYTES:
            skip(self.path, f"larger than {_size(MAX_MESSAGE_BYTES)}")
            return None
        if not data.strip():
            return None
        return Fetched(uid, data, self.flags, datetime.fromtimestamp(st.st_mtime, UTC), self.role)


def _refuse(path: Path, why: str) -> None:
    raise MailSourceError(f"{path}: {why}")


def _size(n: int) -> str:
    mb = 1024 * 1024
    return f"{n // mb} MB" if n % mb == 0 else f"{n} bytes"


#: Imported messages share one folder name so that importing the same message again, from
#: another path or another export, adds nothing.
IMPORT_FOLDER = "import"


@dataclass
class _Reader:
    #: the directory given, symlinks resolved: the tree symlinks may point into
    root: Path
    follow_symlinks: bool
    skip: OnSkip
    max_bytes: int

    def tree(self, top: Path) -> Iterator[_Entry]:
        seen: set[tuple[int, int]] = set()

        def unreadable(exc: OSError) -> None:
            self.skip(Path(exc.filename), f"cannot read: {exc.strerror}")

        for root, dirs, files in os.walk(top, onerror=unreadable, followlinks=self.follow_symlinks):
            here = Path(root)
            st = os.stat(here)
            if (st.st_dev, st.st_ino) in seen:  # a symlink loop, or a directory reached twice
                dirs[:] = []
                continue
            seen.add((st.st_dev, st.st_ino))
            maildir = is_maildir(here)
            if maildir:
                yield from self.maildir(here)
                dirs[:] = [d for d in dirs if d not in MAILDIR_SUBDIRS]
            dirs[:] = [d for d in sorted(dirs) if self.descend(here / d)]
            if maildir:
                continue  # a Maildir's own files (dovecot-uidlist, ...) are not messages
            for name in sorted(files):
                if self.inside(here / name):
                    yield from self.file(here / name)

    def descend(self, directory: Path) -> bool:
        if not directory.is_symlink() or self.follow_symlinks:
            return True
        # Not entered: inside the tree the walk reaches its target anyway; outside, inside()
        # reports it.
        self.inside(directory)
        return False

    def inside(self, entry: Path) -> bool:
        """Whether the walk may read ``entry``: not a symlink leading out of the tree, unless asked."""
        if self.follow_symlinks or not entry.is_symlink():
            return True
        target = Path(os.path.realpath(entry))
        if target.is_relative_to(self.root):
            return True
        self.skip(entry, f"symlink to {target}, outside {self.root} (--follow-symlinks reads it)")
        return False

    def file(self, path: Path, *, maildir_flags: tuple[str, ...] | None = None) -> Iterator[_Entry]:
        """A message file, or an mbox (not in a Maildir), recognised by its ``From `` line."""
        if maildir_flags is not None:
            # A Maildir holds one message per file: opened (and checked) when read.
            yield _Entry(path, _role_for(path), maildir_flags)
            return
        fh = _open_regular(path, self.skip)
        if fh is None:
            return
        with fh:
            try:
                is_mbox = fh.read(5) == b"From "
            except OSError as exc:
                self.skip(path, f"cannot read: {exc.strerror}")
                return
        if not is_mbox:
            yield _Entry(path, _role_for(path))
            return
        role = _role_for(path)
        # Where each message starts and stops (mailbox's own table of contents): the file is
        # closed again, and read by offset when its batch comes (not one open file per mbox).
        box = mailbox.mbox(path, create=False)
        try:
            spans = [box._lookup(key) for key in box.iterkeys()]  # type: ignore[attr-defined]
        finally:
            box.close()
        for n, (start, stop) in enumerate(spans, start=1):
            yield _Entry(path, role, span=(int(start), int(stop)), n=n)

    def maildir(self, path: Path) -> Iterator[_Entry]:
        for sub in ("new", "cur"):
            directory = path / sub
            for name in sorted(os.listdir(directory)):
                file = directory / name
                if file.is_dir() and not file.is_symlink():
                    continue  # not a message; Maildir++ keeps nothing here, so nothing to report
                if self.inside(file):
                    yield from self.file(file, maildir_flags=_maildir_flags(name))


def _open_regular(path: Path, skip: OnSkip) -> BinaryIO | None:
    """``path`` opened for reading if it is a regular file, else None (reported)."""
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):  # checked before opening: a device may act on open
            skip(path, "not a regular file")
            return None
        # O_NONBLOCK: should it have become a FIFO meanwhile, the open does not wait for a writer.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError as exc:
        skip(path, f"cannot read: {exc.strerror}")
        return None
    fh = os.fdopen(fd, "rb")
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        fh.close()
        skip(path, "not a regular file")
        return None
    return fh
