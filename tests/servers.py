"""Real servers for integration tests, started on free loopback ports with throwaway config."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_port(port: int, timeout: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return True
        time.sleep(0.05)
    return False


@dataclass
class PostgresServer:
    datadir: Path
    port: int
    bin_dir: Path
    run_as: str | None

    @property
    def url_prefix(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}"

    def stop(self) -> None:
        _run_as(self.run_as, [str(self.bin_dir / "pg_ctl"), "-D", str(self.datadir), "-m", "immediate", "stop"])
        shutil.rmtree(self.datadir.parent, ignore_errors=True)


def _run_as(user: str | None, cmd: list[str]) -> subprocess.CompletedProcess[str]:
    if user:
        cmd = ["runuser", "-u", user, "--", *cmd]
    return subprocess.run(cmd, capture_output=True, text=True, check=False)


def start_postgres(base: Path) -> PostgresServer | None:
    """Start a cluster. ``base`` is only a hint: as root the cluster lives in a fresh /tmp
    directory owned by the postgres user, since pytest's tmp dirs are root-only (0700)."""
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    initdb = shutil.which("initdb") or (candidates[-1] if candidates else None)
    if initdb is None:
        return None
    bin_dir = Path(initdb).parent
    # PostgreSQL refuses to run as root: run it as the postgres system user then.
    run_as = None
    if os.geteuid() == 0:
        try:
            pw = pwd.getpwnam("postgres")
        except KeyError:
            return None
        run_as = "postgres"
        base = Path(tempfile.mkdtemp(prefix="hygiene-pg-"))
        os.chown(base, pw.pw_uid, pw.pw_gid)
    datadir = base / "data"
    done = _run_as(run_as, [str(bin_dir / "initdb"), "-D", str(datadir), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync"])
    if done.returncode != 0:
        raise RuntimeError(f"initdb failed: {done.stderr}")
    port = free_port()
    opts = f"-p {port} -c listen_addresses=127.0.0.1 -k {base} -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    done = _run_as(run_as, [str(bin_dir / "pg_ctl"), "-D", str(datadir), "-o", opts, "-l", str(base / "log"), "-w", "start"])
    if done.returncode != 0:
        raise RuntimeError(f"postgres failed to start: {done.stderr} {(base / 'log').read_text()}")
    return PostgresServer(datadir, port, bin_dir, run_as)


def create_pg_database(prefix: str) -> str:
    from sqlalchemy import create_engine, text

    name = "t_" + uuid.uuid4().hex[:12]
    engine = create_engine(prefix + "/postgres", isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return f"{prefix}/{name}"


class FaultProxy:
    """A TCP proxy on a free loopback port in front of a server, with faults on demand:
    :meth:`cut_all` drops every open connection at once (both ways, as a NAT reset or a server
    killed); :meth:`blackhole` stops all bytes both ways while the sockets stay open (a pulled
    cable, a dead middlebox): the client hears neither data nor a close, so only a timeout of
    its own can notice. Real sockets, real server behind."""

    def __init__(self, target_port: int) -> None:
        import threading

        self.target_port = target_port
        self.cuts = 0
        self.accepted = 0
        self._black = threading.Event()
        self._lock = threading.Lock()
        self._pairs: set[tuple[socket.socket, socket.socket]] = set()
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(32)
        self.port = int(self.listener.getsockname()[1])
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def open_connections(self) -> int:
        with self._lock:
            return len(self._pairs)

    def _accept(self) -> None:
        import threading

        while not self._closed:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port), timeout=5)
                upstream.settimeout(None)
            except OSError:  # the server is down: the client sees a closed connection
                client.close()
                continue
            pair = (client, upstream)
            with self._lock:
                self._pairs.add(pair)
                self.accepted += 1
            threading.Thread(target=self._pump, args=(client, upstream, pair, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, pair, False), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket, pair: tuple[socket.socket, socket.socket], from_client: bool) -> None:
        try:
            while True:
                data = src.recv(65536)
                if not data or not self._passes(data, from_client):
                    break
                if not self._black.is_set():  # blackholed bytes are swallowed, never sent
                    dst.sendall(data)
        except OSError:
            pass
        self._drop(pair)

    def _passes(self, data: bytes, from_client: bool) -> bool:
        """Whether the connection lives on after ``data`` (False: drop it, both ways)."""
        return True

    def _drop(self, pair: tuple[socket.socket, socket.socket]) -> None:
        with self._lock:
            self._pairs.discard(pair)
        for s in pair:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()

    def cut_all(self) -> int:
        """Drop every open connection now; how many there were."""
        with self._lock:
            pairs = list(self._pairs)
        for pair in pairs:
            self._drop(pair)
        self.cuts += len(pairs)
        return len(pairs)

    def blackhole(self, on: bool = True) -> None:
        """While on, nothing passes either way (connections stay open, new ones are accepted)."""
        if on:
            self._black.set()
        else:
            self._black.clear()

    def close(self) -> None:
        self._closed = True
        self.listener.close()
        self.cut_all()


class CuttingProxy(FaultProxy):
    """A :class:`FaultProxy` that drops the connection (both ways, at once) when the client
    sends its ``nth`` command containing ``marker``: a network failure mid-sync, at a chosen
    point of the protocol, with real sockets."""

    def __init__(self, target_port: int, marker: bytes, nth: int) -> None:
        self.marker = marker
        self.nth = nth
        self.seen = 0
        super().__init__(target_port)

    def _passes(self, data: bytes, from_client: bool) -> bool:
        if from_client and self.marker in data:
            self.seen += data.count(self.marker)
            return self.seen < self.nth
        return True
