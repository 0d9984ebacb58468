"""The real clients (clients/): socket.io-client 4 and axios walking the contract, and the demo
page in Debian's chromium through playwright-core. Run here so the README's one test command
covers them too."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

CLIENTS = Path(__file__).resolve().parents[1] / "clients"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")


def needs_npm(test):
    """Node and the npm packages from the committed lockfile (.ci/run installs both)."""
    test = pytest.mark.slow(test)
    test = pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")(test)
    return pytest.mark.skipif(
        not (CLIENTS / "node_modules" / "playwright-core").exists(),
        reason="npm packages missing: run `npm ci --prefix clients`",
    )(test)


def run_node_suite(test_file: str, passes: int) -> None:
    # Its own temporary folder: whatever the suite leaves behind (server data folders, browser
    # profiles) would show there, and must not.
    scratch = Path(tempfile.mkdtemp(prefix="chat-js-suite-"))
    try:
        _run_node_suite(test_file, passes, scratch)
        assert sorted(p.name for p in scratch.iterdir()) == [], "left behind in the temp folder"
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _run_node_suite(test_file: str, passes: int, scratch: Path) -> None:
    # A session of its own, so a timeout takes node, its server and its browser down together.
    node = subprocess.Popen(
        ["node", "--test", "--test-concurrency=1", f"test/{test_file}"],
        cwd=CLIENTS,
        env={**os.environ, "PYTHON": sys.executable, "CHROMIUM": CHROMIUM, "TMPDIR": str(scratch)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        stdout, stderr = node.communicate(timeout=300)
    except subprocess.TimeoutExpired:
        os.killpg(node.pid, signal.SIGKILL)
        stdout, stderr = node.communicate()
    report = stdout[-4000:] + stderr[-2000:]
    assert node.returncode == 0, report
    assert "# fail 0" in stdout, report
    assert "# skipped 0" in stdout, report
    assert f"# pass {passes}" in stdout, report


# The suites bound themselves (300 s); pytest's default 120 s cut them off on a busy machine.
@pytest.mark.timeout(330)
@needs_npm
def test_javascript_clients_walk_the_contract():
    run_node_suite("contract.test.mjs", passes=17)


@pytest.mark.timeout(330)
@needs_npm
@pytest.mark.skipif(
    not Path(CHROMIUM).exists(), reason=f"{CHROMIUM} missing: `apt-get install chromium`"
)
def test_demo_page_in_chromium():
    run_node_suite("demo.browser.test.mjs", passes=9)
