"""Benchmarks: a SIGTERM stops the server and removes its data folder; one set of commands."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _until(check, what: str, within: float = 120) -> None:
    deadline = time.monotonic() + within  # a bound for a stuck run, not an expectation
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"no {what} within {within} s")
        time.sleep(0.2)


@pytest.mark.slow
def test_a_terminated_ack_latency_bench_leaves_nothing_behind(tmp_path):
    bench = subprocess.Popen(
        [sys.executable, "-m", "bench.ack_latency", "--sends", "1000000"],
        cwd=ROOT,
        env={**os.environ, "TMPDIR": str(tmp_path)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        folders = lambda: list(tmp_path.glob("chat-bench-*"))  # noqa: E731
        # Progress, not time: the server's data folder holds its database once it is up.
        _until(lambda: any((f / "db").is_dir() for f in folders()), "server started")
        time.sleep(1)  # let it send a while; any moment must clean up alike
        bench.send_signal(signal.SIGTERM)
        bench.wait(60)
    finally:
        if bench.poll() is None:
            os.killpg(bench.pid, signal.SIGKILL)
            bench.wait()
    assert bench.returncode != 0
    assert folders() == []
    left = subprocess.run(["pgrep", "-f", str(tmp_path)], capture_output=True, text=True)
    assert left.stdout == "", "the bench's server outlived it"


def test_readme_and_bench_readme_give_the_same_commands():
    command = re.compile(r"`(python -m bench\.[^`]*)`")
    readme = set(command.findall((ROOT / "README.md").read_text()))
    bench = set(command.findall((ROOT / "bench" / "README.md").read_text()))
    assert readme and readme <= bench, readme - bench
