"""Starts the embedded MongoDB-wire-compatible server (nx-27017, SQLite underneath) as a child."""

from __future__ import annotations

import contextlib
import ctypes
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from pymongo import MongoClient
from pymongo.errors import PyMongoError


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def _die_with_parent() -> None:
    # Linux: the child gets SIGTERM when run.py dies, even by SIGKILL, so nothing is left behind.
    with contextlib.suppress(Exception):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)


class EmbeddedMongo:
    """One nx-27017 process on a free loopback port; `data_dir=None` keeps everything in memory."""

    def __init__(self, data_dir: Path | None, port: int | None = None, host: str = "127.0.0.1"):
        self.data_dir = data_dir
        self.host = host
        self.port = port or free_port(host)
        self.process: subprocess.Popen[bytes] | None = None
        # In memory: pid and log files go to a private folder removed on stop, not loose in /tmp.
        self._scratch: Path | None = None

    @property
    def uri(self) -> str:
        return f"mongodb://{self.host}:{self.port}"

    def start(self, timeout: float = 20) -> str:
        """Start the server, wait until it answers `ping`, and return its URI."""
        if self.data_dir is not None:
            self.data_dir.mkdir(parents=True, exist_ok=True)
            run_dir = self.data_dir
        else:
            run_dir = self._scratch = Path(tempfile.mkdtemp(prefix="nx-27017-"))
        # One name, not one per port: each start reuses the files instead of adding a pair.
        tag = "nx-27017"
        command = [
            sys.executable, "-m", "nx_27017.nx_27017",
            "--host", self.host, "--port", str(self.port),
            "--data-dir", str(self.data_dir) if self.data_dir is not None else "memory",
            "--pid-file", str(run_dir / f"{tag}.pid"),
            "--log-file", str(run_dir / f"{tag}.log"),
        ]  # fmt: skip
        # Its own log lines go to stderr too: a file, never a pipe nobody drains.
        self._stderr_path = run_dir / f"{tag}.stderr"
        with open(self._stderr_path, "wb") as stderr:
            self.process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=stderr,
                preexec_fn=_die_with_parent,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                err = self._stderr_path.read_text(errors="replace")[-2000:]
                raise RuntimeError(
                    f"embedded database exited with {self.process.returncode}: {err}"
                )
            if self._answers():
                return self.uri
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"embedded database did not answer on {self.uri} within {timeout}s")

    def _answers(self) -> bool:
        client: MongoClient[dict[str, Any]] = MongoClient(
            self.uri, serverSelectionTimeoutMS=300, connectTimeoutMS=300
        )
        try:
            client.admin.command("ping")
            return True
        except PyMongoError:
            return False
        finally:
            client.close()

    def stop(self, timeout: float = 5) -> None:
        """Ask the server to stop (SIGTERM), then kill it if it does not within `timeout`."""
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self._remove_scratch()

    def _remove_scratch(self) -> None:
        scratch, self._scratch = self._scratch, None
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)

    def kill(self) -> None:
        """SIGKILL, as a crash would: for fault tests."""
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None
        self._remove_scratch()
