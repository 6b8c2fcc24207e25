"""Running the real `hygiene` on a pseudo-terminal, as a person at a terminal would."""

from __future__ import annotations

import os
import select
import subprocess
import sys
import time


def run_on_pty(
    *args: str,
    env: dict[str, str] | None = None,
    size: tuple[int, int] | None = None,
    stderr_too: bool = True,
    timeout: float = 60,
) -> tuple[int, bytes]:
    """Run ``hygiene ARGS`` with stdout (and stdin and stderr, unless ``stderr_too`` is
    false) on a pseudo-terminal of ``size`` (columns, rows); its exit code and all it wrote."""
    master, slave = os.openpty()
    if size is not None:
        import fcntl
        import struct
        import termios

        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", size[1], size[0], 0, 0))
    terminal = {"stdin": slave, "stdout": slave, "stderr": slave} if stderr_too else {"stdout": slave, "stderr": subprocess.PIPE}
    proc = subprocess.Popen([sys.executable, "-m", "hygiene", *args], env=env if env is not None else dict(os.environ), **terminal)  # type: ignore[call-overload]
    os.close(slave)
    out = bytearray()
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.5)
            if not ready:
                if proc.poll() is not None:
                    break
                continue
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: the child closed its end
                break
            if not data:
                break
            out += data
    finally:
        os.close(master)
        if proc.poll() is None:
            proc.kill()
    return proc.wait(), bytes(out)
