"""Other processes for the tests: something holding a lock the way a real second process
would (locks taken in this process would not conflict with ours)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def holding(code: str) -> Iterator[subprocess.Popen[bytes]]:
    """Run Python ``code`` in a child until the block ends; ``code`` prints ``ready`` once
    it holds what it takes, and sleeps."""
    proc = subprocess.Popen([sys.executable, "-c", code + "\nprint('ready', flush=True)\nimport time; time.sleep(120)\n"], stdout=subprocess.PIPE)
    try:
        assert proc.stdout is not None and proc.stdout.readline() == b"ready\n", "the child did not get ready"
        yield proc
    finally:
        proc.kill()
        proc.wait()
