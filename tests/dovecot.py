"""A real, throwaway Dovecot IMAP server for the tests and the benchmark.

Debian's dovecot-imapd, started in the foreground on a free 127.0.0.1 port with its own config,
run and state directories under a temporary folder. Dovecot refuses to run its login and mail
processes as root, so the config names ``dovenull`` and ``dovecot`` for its own processes and
serves one mail user whose uid (``nobody``) owns the maildir.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from tests.servers import free_port, wait_for_port

#: user numbers on the session's shared Dovecot: each test's mailbox is its own user
USERS = itertools.count(1)

USER = "seller@example.jp"
PASSWORD = "dovecot-test-password"
#: mail users seller1..sellerN, one fresh mailbox per test
SPARE_USERS = 300

_CONFIG = """\
# Written by tests/dovecot.py for one test run; nothing here touches /etc/dovecot.
base_dir = {base}/run
state_dir = {base}/state
log_path = {base}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = yes
ssl_cert = <{base}/tls/cert.pem
ssl_key = <{base}/tls/key.pem
ssl_min_protocol = TLSv1.2
disable_plaintext_auth = no
auth_mechanisms = plain login
# failed logins are test cases here, not attacks: answered at once
auth_failure_delay = 0
default_login_user = dovenull
default_internal_user = dovecot
first_valid_uid = 1
mail_location = maildir:{base}/mail/%n
mail_uid = {uid}
mail_gid = {gid}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {base}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={base}/mail/%n
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {imaps_port}
  }}
}}
service anvil {{
  chroot =
  # no auth penalty (failed logins are test cases here, each would slow the next login
  # from 127.0.0.1 by 2-15 s): Dovecot's documented way is an unreachable socket
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
service imap-login {{
  chroot =
}}
namespace inbox {{
  inbox = yes
  separator = /
  mailbox Sent {{
    special_use = \\Sent
    auto = subscribe
  }}
  mailbox Trash {{
    special_use = \\Trash
    auto = subscribe
  }}
}}
"""


def dovecot_binary() -> str | None:
    found = shutil.which("dovecot")
    if found:
        return found
    return "/usr/sbin/dovecot" if os.path.exists("/usr/sbin/dovecot") else None


def unavailable_reason() -> str | None:
    """Why a Dovecot cannot be started here, or None when it can."""
    if dovecot_binary() is None:
        return "dovecot is not installed (apt-get install dovecot-imapd; scripts/test does it as root)"
    if os.geteuid() != 0:
        return "the Dovecot fixture runs as root (its mail user must differ from its login users)"
    for user in ("dovenull", "dovecot"):
        try:
            pwd.getpwnam(user)
        except KeyError:
            return f"system user {user} is missing (reinstall dovecot-core)"
    return None


@dataclass
class Dovecot:
    base: Path
    port: int
    uid: int
    #: implicit-TLS port (the plain ``port`` also offers STARTTLS); the certificate, made for
    #: 127.0.0.1 by a throwaway CA, is ``ca_file``
    imaps_port: int
    gid: int
    process: subprocess.Popen[bytes] | None = None
    user: str = USER
    password: str = PASSWORD
    host: str = "127.0.0.1"
    _conf: Path = field(init=False)

    def __post_init__(self) -> None:
        self._conf = self.base / "dovecot.conf"

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> None:
        for sub in ("run", "state", "mail"):
            (self.base / sub).mkdir(parents=True, exist_ok=True)
        # Dovecot's unprivileged processes walk this path: make it traversable.
        for path in [self.base, *self.base.parents]:
            if path == Path("/"):
                break
            if path.stat().st_mode & 0o005 != 0o005:
                path.chmod(path.stat().st_mode | 0o005)
        os.chown(self.base / "mail", self.uid, self.gid)
        # Every user the tests may ask for exists from the start: Dovecot notices a changed
        # passwd-file by its mtime, too coarse for users added within the same second.
        users = [self.user] + [f"seller{i}@example.jp" for i in range(1, SPARE_USERS + 1)]
        (self.base / "passwd").write_text("".join(f"{u}:{{PLAIN}}{self.password}::::::\n" for u in users))
        self._make_certificate()
        self._conf.write_text(
            _CONFIG.format(base=self.base, port=self.port, imaps_port=self.imaps_port, uid=self.uid, gid=self.gid)
        )
        binary = dovecot_binary()
        assert binary is not None
        self.process = subprocess.Popen(
            [binary, "-F", "-c", str(self._conf)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        if not wait_for_port(self.port, timeout=20):
            err = b""
            if self.process.poll() is not None and self.process.stderr:
                err = self.process.stderr.read()
            self.stop()
            raise RuntimeError(f"dovecot did not start: {err.decode(errors='replace')} {self.log()[-2000:]}")

    @property
    def ca_file(self) -> Path:
        return self.base / "tls" / "cert.pem"

    def _make_certificate(self) -> None:
        """A self-signed certificate for 127.0.0.1 (the tests trust it through ca_file)."""
        tls = self.base / "tls"
        if (tls / "cert.pem").exists():
            return
        tls.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [
                "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
                "-keyout", str(tls / "key.pem"), "-out", str(tls / "cert.pem"),
            ],
            check=True,
            capture_output=True,
        )

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def add_user(self, number: int) -> Dovecot:
        """The handle of spare user ``seller<number>`` (a fresh, empty mailbox)."""
        assert 1 <= number <= SPARE_USERS, "raise SPARE_USERS"
        user = f"seller{number}@example.jp"
        other = Dovecot(base=self.base, port=self.port, imaps_port=self.imaps_port, uid=self.uid, gid=self.gid, user=user, password=self.password)
        other.process = self.process
        return other

    def session_stats(self) -> list[str]:
        """The logout lines of this user's sessions (Dovecot counts header and body bytes sent)."""
        return [line for line in self.log().splitlines() if f"imap({self.user})" in line and "Logged out" in line]

    def settled_session_count(self, quiet: float = 0.3, timeout: float = 10) -> int:
        """How many sessions have logged out, once the log has been still for ``quiet`` s (the
        logout line of a session just closed may still be on its way)."""
        deadline = time.monotonic() + timeout
        count, since = len(self.session_stats()), time.monotonic()
        while time.monotonic() - since < quiet and time.monotonic() < deadline:
            time.sleep(0.05)
            now = len(self.session_stats())
            if now != count:
                count, since = now, time.monotonic()
        return count

    def sessions_after(self, since: int, count: int = 1, timeout: float = 10) -> list[str]:
        """The logout lines after the first ``since``, waiting until ``count`` have come:
        Dovecot's log process writes them a moment after the client has gone."""
        deadline = time.monotonic() + timeout
        while True:
            lines = self.session_stats()[since:]
            if len(lines) >= count or time.monotonic() > deadline:
                return lines
            time.sleep(0.02)

    def log(self) -> str:
        path = self.base / "dovecot.log"
        return path.read_text(errors="replace") if path.exists() else ""

    # -- what a test needs -----------------------------------------------------------------
    def client(self) -> Any:  # an IMAPClient (untyped)
        """A logged-in IMAPClient, as the seller's own mail program would be."""
        from imapclient import IMAPClient

        client = IMAPClient(self.host, port=self.port, ssl=False, timeout=10)
        client.login(self.user, self.password)
        return client

    def append(
        self,
        folder: str,
        message: bytes,
        *,
        flags: Iterable[str] = (),
        internal_date: datetime | None = None,
    ) -> None:
        with self.client() as client:
            if not client.folder_exists(folder):
                client.create_folder(folder)
            client.append(folder, message, flags=tuple(flags), msg_time=internal_date)

    def append_many(self, folder: str, messages: Iterable[tuple[bytes, tuple[str, ...], datetime | None]]) -> None:
        with self.client() as client:
            if not client.folder_exists(folder):
                client.create_folder(folder)
            for message, flags, when in messages:
                client.append(folder, message, flags=flags, msg_time=when)

    def flags(self, folder: str) -> dict[int, tuple[bytes, ...]]:
        """UID → flags, read without changing anything (EXAMINE)."""
        with self.client() as client:
            client.select_folder(folder, readonly=True)
            uids = client.search("ALL")
            if not uids:
                return {}
            # \Recent belongs to the session, not the message: leave it out of comparisons.
            return {
                uid: tuple(sorted(f for f in d[b"FLAGS"] if f != b"\\Recent"))
                for uid, d in client.fetch(uids, ["FLAGS"]).items()
            }

    def set_flags(self, folder: str, uids: Iterable[int], flags: Iterable[str]) -> None:
        with self.client() as client:
            client.select_folder(folder)
            client.add_flags(list(uids), list(flags))

    def uidvalidity(self, folder: str) -> int:
        with self.client() as client:
            return int(client.folder_status(folder, [b"UIDVALIDITY"])[b"UIDVALIDITY"])

    def recreate(self, folder: str) -> None:
        """Delete and create ``folder`` again: a new UIDVALIDITY, as after a server migration."""
        with self.client() as client:
            client.delete_folder(folder)
            client.create_folder(folder)

    def maildir(self, folder: str = "INBOX") -> Path:
        root = self.base / "mail" / self.user.split("@")[0]
        return root if folder == "INBOX" else root / f".{folder}"

    def write_maildir(self, folder: str, messages: Iterable[bytes]) -> int:
        """Drop messages straight into the maildir (fast; for the benchmark's big mailbox).
        Dovecot assigns their UIDs when a client first looks."""
        box = self.maildir(folder)
        for sub in ("cur", "new", "tmp"):
            (box / sub).mkdir(parents=True, exist_ok=True)
        count = 0
        stamp = int(time.time())
        for count, data in enumerate(messages, 1):
            path = box / "cur" / f"{stamp}.M{count}P{os.getpid()}.hygiene:2,"
            path.write_bytes(data)
        for path in [box, *box.rglob("*")]:
            os.chown(path, self.uid, self.gid)
        root = self.base / "mail"
        for path in root.rglob("*"):
            os.chown(path, self.uid, self.gid)
        return count


def start_dovecot(base: Path | None = None) -> Dovecot:
    """Start a Dovecot for one test session (caller stops it)."""
    nobody = pwd.getpwnam("nobody")
    base = base or Path(tempfile.mkdtemp(prefix="hygiene-dovecot-"))
    server = Dovecot(base=base, port=free_port(), imaps_port=free_port(), uid=nobody.pw_uid, gid=nobody.pw_gid)
    server.start()
    return server


@contextlib.contextmanager
def private_dovecot() -> Iterator[Dovecot]:
    """A Dovecot in a directory of its own, stopped and removed afterwards. Not under pytest's
    basetemp: every pytest session on the machine chmods /tmp/pytest-of-<user> back to 0700,
    which locks Dovecot's mail processes (uid nobody) out of the maildirs of any other session
    still running."""
    base = Path(tempfile.mkdtemp(prefix="hygiene-dovecot-"))
    server = start_dovecot(base)
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(base, ignore_errors=True)
