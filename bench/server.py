"""Start the real server (`python run.py`, embedded database) on a free port for a benchmark."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def running_server(**env: str) -> Iterator[tuple[str, subprocess.Popen]]:
    """Yield (base URL, process) of a fresh server with its own data folder; stop it after."""
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="chat-bench-") as data:
        environ = {
            **os.environ,
            "PORT": str(port),
            "HOST": "127.0.0.1",
            "DATA_DIR": data,
            "MONGODB_URI": "",
            "LOG_LEVEL": "warning",
            "RATE_LIMIT_AUTH": "100000/minute",
            "RATE_LIMIT_API": "1000000/minute",
            "RATE_LIMIT_MESSAGES": "1000000/second",
            **env,
        }
        process = subprocess.Popen([sys.executable, str(ROOT / "run.py")], env=environ, cwd=ROOT)
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    with urllib.request.urlopen(url + "/health", timeout=1) as resp:  # noqa: S310
                        if resp.status == 200:
                            break
                except OSError:
                    pass
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("server did not start")
                time.sleep(0.2)
            yield url, process
        finally:
            process.terminate()
            process.wait(15)
