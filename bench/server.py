"""Start a server for a benchmark on a free port: the real server or the Node.js reference.

- target "python": `python run.py` with the embedded database, its own data folder (DATA_DIR).
- target "node": `node bench/node_ref/server.mjs` (no database; `npm ci --prefix bench/node_ref`).

`bench_server` (async) yields a `Server` that can be restarted on the same data folder and port;
`running_server` (sync, kept for the older benches) yields (url, process). Either way the server
runs in its own process group (killed as a group if it does not stop in time) and the
`chat-bench-*` data folder is removed on the way out, including on Ctrl-C, SIGTERM or failure.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import AsyncIterator, Coroutine, Iterator
from pathlib import Path
from typing import Any

from bench.procstat import children

ROOT = Path(__file__).resolve().parents[1]
NODE_REF = ROOT / "bench" / "node_ref"
TARGETS = ("python", "node")

PYTHON_ENV = {
    "HOST": "127.0.0.1",
    "MONGODB_URI": "",
    "LOG_LEVEL": "warning",
    "RATE_LIMIT_AUTH": "100000/minute",
    "RATE_LIMIT_API": "1000000/minute",
    "RATE_LIMIT_MESSAGES": "1000000/second",
    # A benchmark's senders are load, not abuse: the per-user limits would refuse most of it.
    "RATE_LIMIT_USER_MESSAGES": "1000000/second",
    "RATE_LIMIT_EDITS": "1000000/second",
    "RATE_LIMIT_REACTIONS": "1000000/second",
    "RATE_LIMIT_LOGIN_ACCOUNT": "1000000/minute",
}


class Stalled(RuntimeError):
    """A benchmark wait ran out: the message says what it was waiting for."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    def __init__(self, target: str = "python", *, root: Path = ROOT, **env: str):
        if target not in TARGETS:
            raise ValueError(f"unknown target {target!r}")
        if target == "node" and not (NODE_REF / "node_modules" / "socket.io").is_dir():
            raise RuntimeError("Node reference not installed: npm ci --prefix bench/node_ref")
        self.target = target
        self.root = root  # another checkout of the project: "before" figures in the same run
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.data_dir = tempfile.mkdtemp(prefix="chat-bench-")
        self.env = {
            **os.environ,
            **(PYTHON_ENV if target == "python" else {"HOST": "127.0.0.1"}),
            "PORT": str(self.port),
            "DATA_DIR": self.data_dir,
            **env,
        }
        self.process: subprocess.Popen | None = None
        self.starts = 0

    def _spawn(self) -> None:
        if self.target == "python":
            command = [sys.executable, str(self.root / "run.py")]
        else:
            command = ["node", str(NODE_REF / "server.mjs")]
        # Its own session: the bench's Ctrl-C does not reach it; we stop it, as a group if need be.
        self.process = subprocess.Popen(
            command, env=self.env, cwd=self.root, stdout=subprocess.DEVNULL, start_new_session=True
        )
        self.starts += 1

    def pids(self) -> list[int]:
        """The server's pid first, then its children (the embedded database)."""
        if self.process is None or self.process.poll() is not None:
            return []
        pid = self.process.pid
        with contextlib.suppress(OSError):
            return [pid, *children(pid)]
        return [pid]

    def _healthy(self) -> bool:
        try:
            with urllib.request.urlopen(self.url + "/health", timeout=1) as resp:  # noqa: S310
                return resp.status == 200
        except OSError:
            return False

    def _check_started(self, started: float, timeout: float) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise RuntimeError(f"{self.target} server exited with {self.process.returncode}")
        if time.monotonic() - started > timeout:
            raise Stalled(f"{self.target} server did not answer /health within {timeout:.0f} s")
        return self._healthy()

    def start_sync(self, timeout: float = 60) -> None:
        self._spawn()
        started = time.monotonic()
        while not self._check_started(started, timeout):
            time.sleep(0.2)

    async def start(self, within: float = 60) -> None:
        """Start (or start again, same port and data folder) and wait for /health, bounded."""
        self._spawn()
        started = time.monotonic()
        while not await asyncio.to_thread(self._check_started, started, within):  # noqa: ASYNC110
            await asyncio.sleep(0.2)

    async def stop(self, within: float = 30) -> float:
        """SIGTERM, wait up to `within` s (then SIGKILL the group). Returns seconds to exit."""
        process = self.process
        if process is None:
            return 0.0
        started = time.monotonic()
        with contextlib.suppress(ProcessLookupError):
            process.terminate()
        while process.poll() is None and time.monotonic() - started < within:  # noqa: ASYNC110
            await asyncio.sleep(0.1)
        took = time.monotonic() - started
        if process.poll() is None:
            print(
                f"bench: {self.target} server ignored SIGTERM for {within:.0f} s: killed",
                file=sys.stderr,
                flush=True,
            )
        self.kill()
        return took

    async def restart(self, within: float = 60) -> float:
        """Stop (SIGTERM) and start again on the same DATA_DIR and port; returns stop seconds."""
        took = await self.stop()
        await self.start(within)
        return took

    def kill(self) -> None:
        """SIGKILL whatever is left of the server's process group (synchronous, never raises)."""
        process, self.process = self.process, None
        if process is None:
            return
        with contextlib.suppress(OSError):
            os.killpg(process.pid, signal.SIGKILL)
        with contextlib.suppress(Exception):
            process.wait(10)

    def remove_data(self) -> None:
        shutil.rmtree(self.data_dir, ignore_errors=True)


@contextlib.asynccontextmanager
async def bench_server(
    target: str = "python", *, root: Path = ROOT, **env: str
) -> AsyncIterator[Server]:
    server = Server(target, root=root, **env)
    try:
        await server.start()
        yield server
    finally:
        try:
            await server.stop()
        finally:
            server.kill()
            server.remove_data()


@contextlib.contextmanager
def running_server(**env: str) -> Iterator[tuple[str, subprocess.Popen]]:
    """Yield (base URL, process) of a fresh Python server with its own data folder; stop it after.

    SIGTERM acts like Ctrl-C here too (the benches that use this call asyncio.run themselves):
    without it a terminated bench left its server running and its chat-bench-* folder behind.
    """
    signal.signal(signal.SIGTERM, _sigterm)
    server = Server("python", **env)
    try:
        server.start_sync()
        assert server.process is not None
        yield server.url, server.process
    finally:
        try:
            if server.process is not None:
                server.process.terminate()
                server.process.wait(15)
        except Exception:  # noqa: S110 - killed below either way
            pass
        finally:
            server.kill()
            server.remove_data()


def _sigterm(_signum: int, _frame: Any) -> None:
    raise KeyboardInterrupt


def run(main: Coroutine[Any, Any, Any]) -> None:
    """asyncio.run for a bench: raise the fd limit, SIGTERM acts like Ctrl-C (cleanup runs),
    a stall or interrupt exits non-zero with one line on stderr."""
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    signal.signal(signal.SIGTERM, _sigterm)
    try:
        asyncio.run(main)
    except Stalled as exc:
        print(f"bench: STALLED: {exc}", file=sys.stderr, flush=True)
        sys.exit(1)
    except KeyboardInterrupt:
        print("bench: interrupted (server stopped, data folder removed)", file=sys.stderr)
        sys.exit(130)
