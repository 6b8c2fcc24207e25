"""Read messages from files: a single message file of any name, an mbox (recognised by its
``From `` line), a Maildir, or a directory searched recursively."""

from __future__ import annotations

import mailbox
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from hygiene.errors import MailSourceError
from hygiene.mail.ingest import RawMessage

MAILDIR_SUBDIRS = ("cur", "new", "tmp")


def is_maildir(path: Path) -> bool:
    return all((path / sub).is_dir() for sub in ("cur", "new"))


def is_mbox(path: Path) -> bool:
    try:
        with path.open("rb") as fh:
            return fh.read(5) == b"From "
    except OSError:
        return False


def _maildir_flags(name: str) -> tuple[str, ...]:
    # Maildir info ":2,FRS": map to IMAP system flags.
    info = name.rpartition(":2,")[2] if ":2," in name else ""
    table = {"S": "\\Seen", "R": "\\Answered", "F": "\\Flagged", "T": "\\Deleted", "D": "\\Draft"}
    return tuple(table[c] for c in info if c in table)


def _mtime(path: Path) -> datetime:
    return datetime.fromtimestamp(path.stat().st_mtime, UTC)


def _role_for(path: Path) -> str:
    # An exported "Sent" folder holds the seller's own mail.
    lowered = {part.lower() for part in path.parts}
    return "sent" if lowered & {"sent", ".sent", "sent items", "sent messages", "送信済み", "送信済みアイテム"} else "inbox"


def read_path(path: Path) -> Iterator[RawMessage]:
    """Every message under ``path``. Raises MailSourceError when ``path`` cannot be read."""
    if not path.exists():
        raise MailSourceError(f"{path}: no such file or directory")
    if path.is_dir():
        if is_maildir(path):
            yield from _read_maildir(path)
            return
        for root, dirs, files in os.walk(path):
            dirs.sort()
            here = Path(root)
            if is_maildir(here):
                yield from _read_maildir(here)
                dirs[:] = [d for d in dirs if d not in MAILDIR_SUBDIRS]
                continue
            for name in sorted(files):
                yield from _read_file(here / name)
        return
    yield from _read_file(path)


#: Imported messages share one folder name so that importing the same message again, from
#: another path or another export, adds nothing.
IMPORT_FOLDER = "import"


def _read_file(path: Path) -> Iterator[RawMessage]:
    role = _role_for(path)
    if is_mbox(path):
        box = mailbox.mbox(path, create=False)
        try:
            for key in box.iterkeys():
                data = box.get_bytes(key)
                yield RawMessage(data=data, folder=IMPORT_FOLDER, role=role, source="import")
        finally:
            box.close()
        return
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise MailSourceError(f"{path}: cannot read: {exc.strerror}") from None
    if not data.strip():
        return
    yield RawMessage(
        data=data, folder=IMPORT_FOLDER, role=role, internal_date=_mtime(path), source="import"
    )


def _read_maildir(path: Path) -> Iterator[RawMessage]:
    role = _role_for(path)
    for sub in ("new", "cur"):
        directory = path / sub
        for name in sorted(os.listdir(directory)):
            file = directory / name
            if not file.is_file():
                continue
            yield RawMessage(
                data=file.read_bytes(),
                folder=IMPORT_FOLDER,
                role=role,
                internal_date=_mtime(file),
                flags=_maildir_flags(name),
                source="import",
            )
