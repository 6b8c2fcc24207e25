"""The one error type users see.

Anything the user can fix (bad config, unreachable server, unknown message id) is raised as
a :class:`HygieneError`; the CLI prints it as one line and exits 1. Everything else is a bug
and keeps its traceback.
"""

from __future__ import annotations


class HygieneError(Exception):
    """A failure the user can act on: what went wrong, and what to do about it."""

    exit_code = 1

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message}; {self.hint}" if self.hint else self.message


class ConfigError(HygieneError):
    """The config file is missing, unreadable or invalid.

    Rendered as ``FILE: KEY: problem; fix`` so the user knows where to look.
    """

    def __init__(self, path: object, key: str | None, problem: str, fix: str | None = None) -> None:
        where = f"{path}: {key}" if key else f"{path}"
        super().__init__(f"config error: {where}: {problem}", fix)
        self.path = path
        self.key = key


class MailSourceError(HygieneError):
    """A mail server or mail file could not be read (network, login, protocol)."""


class DatabaseError(HygieneError):
    """The database itself failed (locked past the busy timeout, read-only, full, gone).
    Never carries row data: the message is built from the driver's first line only."""


class Terminated(BaseException):
    """SIGTERM: unwinds like Ctrl-C, so transactions roll back, worker processes are shut
    down and locks are released before the process exits."""
