"""Read messages from files: a single message file of any name, an mbox (recognised by its
``From `` line), a Maildir, or a directory searched recursively."""

from __future__ import annotations

import mailbox
import os
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from hygiene.errors import MailSourceError
from hygiene.mail.folders import SENT_NAMES
from hygiene.mail.ingest import RawMessage

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
    if not path.exists():
        raise MailSourceError(f"{path}: no such file or directory")
    reader = _Reader(Path(os.path.realpath(path)), follow_symlinks, on_skip or _refuse, MAX_MESSAGE_BYTES)
    if path.is_dir():
        yield from reader.tree(path)
    else:
        yield from reader.file(path)


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

    def tree(self, top: Path) -> Iterator[RawMessage]:
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

    def open(self, path: Path) -> BinaryIO | None:
        """``path`` opened for reading if it is a regular file, else None (reported)."""
        try:
            if not stat.S_ISREG(os.stat(path).st_mode):  # checked before opening: a device may act on open
                self.skip(path, "not a regular file")
                return None
            # O_NONBLOCK: should it have become a FIFO meanwhile, the open does not wait for a writer.
            fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        except OSError as exc:
            self.skip(path, f"cannot read: {exc.strerror}")
            return None
        fh = os.fdopen(fd, "rb")
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            fh.close()
            self.skip(path, "not a regular file")
            return None
        return fh

    def file(self, path: Path, *, maildir_flags: tuple[str, ...] | None = None) -> Iterator[RawMessage]:
        """A message file, or an mbox (not in a Maildir), recognised by its ``From `` line."""
        fh = self.open(path)
        if fh is None:
            return
        with fh:
            st = os.fstat(fh.fileno())
            try:
                is_mbox = maildir_flags is None and fh.read(5) == b"From "
                fh.seek(0)
                # Bounded even for a regular file: one still growing cannot push past the cap.
                data = b"" if is_mbox else fh.read(self.max_bytes + 1)
            except OSError as exc:
                self.skip(path, f"cannot read: {exc.strerror}")
                return
        if is_mbox:
            yield from self.mbox(path)
            return
        if len(data) > self.max_bytes:
            self.skip(path, f"larger than {_size(self.max_bytes)}")
            return
        if not data.strip():
            return
        yield RawMessage(
            data=data,
            folder=IMPORT_FOLDER,
            role=_role_for(path),
            internal_date=datetime.fromtimestamp(st.st_mtime, UTC),
            flags=maildir_flags or (),
            source="import",
        )

    def mbox(self, path: Path) -> Iterator[RawMessage]:
        role = _role_for(path)
        box = mailbox.mbox(path, create=False)
        try:
            for n, key in enumerate(box.iterkeys(), start=1):
                # get_file + a bounded read: an oversized message is never held in memory whole.
                with box.get_file(key) as part:
                    data = part.read(self.max_bytes + 1)
                if len(data) > self.max_bytes:
                    self.skip(path, f"message {n} is larger than {_size(self.max_bytes)}")
                    continue
                yield RawMessage(data=data, folder=IMPORT_FOLDER, role=role, source="import")
        finally:
            box.close()

    def maildir(self, path: Path) -> Iterator[RawMessage]:
        for sub in ("new", "cur"):
            directory = path / sub
            for name in sorted(os.listdir(directory)):
                file = directory / name
                if file.is_dir() and not file.is_symlink():
                    continue  # not a message; Maildir++ keeps nothing here, so nothing to report
                if self.inside(file):
                    yield from self.file(file, maildir_flags=_maildir_flags(name))
