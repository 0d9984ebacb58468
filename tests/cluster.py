"""Real processes on loopback for many-node tests: redis-server, and nodes started by run.py."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from chat.store.embedded import free_port
from tests.helpers import User, register

ROOT = Path(__file__).resolve().parents[1]
SECRET = "cluster-test-secret-" + "s" * 50


def _wait(check: Any, what: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not come up within {timeout}s")


class RedisServer:
    """A throwaway redis-server on a free port; stop() and start() again keep the port."""

    def __init__(self, workdir: Path):
        self.binary = shutil.which("redis-server")
        self.port = free_port()
        self.workdir = workdir
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def _answers(self) -> bool:
        import socket

        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.3) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def start(self) -> None:
        assert self.binary, "redis-server is not installed"
        self.process = subprocess.Popen(
            [
                self.binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.workdir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        _wait(self._answers, "redis-server")

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None


@dataclass
class Node:
    """One chat server process (`python run.py`) on a free port."""

    env: dict[str, str]
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _healthy(self) -> bool:
        try:
            with urllib.request.urlopen(self.url + "/health", timeout=1) as resp:
                return resp.status == 200
        except OSError:
            return False

    def start(self, log_path: Path | None = None) -> None:
        """Start and wait for /health; with `log_path`, its output goes to that file."""
        env = {**os.environ, **self.env, "PORT": str(self.port), "HOST": "127.0.0.1"}
        output = open(log_path, "ab") if log_path else None  # noqa: SIM115 - the child owns it
        try:
            self.process = subprocess.Popen(
                [sys.executable, str(ROOT / "run.py")], env=env, cwd=ROOT,
                stdout=output, stderr=subprocess.STDOUT if output else None,
            )  # fmt: skip
        finally:
            if output:
                output.close()
        _wait(self._healthy, f"node on {self.port}")

    def kill(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            self.process = None


def node_env(mongo_uri: str, redis_url: str, data_dir: Path, **overrides: str) -> dict[str, str]:
    return {
        "MONGODB_URI": mongo_uri,
        "MONGODB_DB": f"cluster_{uuid.uuid4().hex[:10]}",
        "REDIS_URL": redis_url,
        "JWT_SECRET": SECRET,
        "DATA_DIR": str(data_dir),
        "CHAT_ENV": "test",
        "BCRYPT_ROUNDS": "4",
        "LOG_LEVEL": "warning",
        "PRESENCE_GRACE_SECONDS": "0.5",
        "PRESENCE_TTL_SECONDS": "2",
        "TYPING_TIMEOUT": "1",
        "RATE_LIMIT_AUTH": "10000/minute",
        "RATE_LIMIT_API": "100000/minute",
        "RATE_LIMIT_MESSAGES": "10000/10seconds",
        # The per-user limits and the socket cap have tests of their own (test_event_limits).
        "RATE_LIMIT_USER_MESSAGES": "100000/10seconds",
        "RATE_LIMIT_EDITS": "100000/minute",
        "RATE_LIMIT_REACTIONS": "100000/minute",
        "RATE_LIMIT_TYPING": "100000/second",
        "MAX_SOCKETS_PER_USER": "100000",
        **overrides,
    }


class Api:
    """REST calls to any node, as a mobile client would make them (Bearer tokens)."""

    def __init__(self, session: aiohttp.ClientSession):
        self.session = session

    async def user(self, node: Node, name: str) -> User:
        return await register(self.session, name, base=node.url)

    async def call(
        self, node: Node, method: str, path: str, user: User, **kw: Any
    ) -> tuple[int, Any]:
        async with self.session.request(method, node.url + path, headers=user.auth, **kw) as resp:
            body = await resp.json() if resp.content_type == "application/json" else None
            return resp.status, body
