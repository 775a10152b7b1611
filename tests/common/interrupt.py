"""Run a command in a subprocess and press Ctrl-C once it is under way."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import time


def interrupt_when_running(
    cmd: list[str], marker: bytes, cwd: str, *, delay: float = 0.5, timeout: float = 60.0
) -> tuple[int, str]:
    """Start ``cmd``, wait for ``marker`` on its stderr (its progress output), wait ``delay`` s, send
    SIGINT; return ``(exit code, stdout)``."""
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=cwd)
    try:
        deadline, seen = time.monotonic() + timeout, b""
        while marker not in seen and time.monotonic() < deadline and proc.poll() is None:
            if select.select([proc.stderr], [], [], 1.0)[0]:
                seen += os.read(proc.stderr.fileno(), 4096)
        assert marker in seen, f"the command never printed {marker!r}: {seen[-500:]!r}"
        time.sleep(delay)
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=timeout)
    finally:
        if proc.poll() is None:
            proc.kill()
    return proc.returncode, out.decode()
