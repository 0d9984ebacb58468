"""The JavaScript suite (clients/): socket.io-client 4 and axios walking the contract against the
real server. Run here so the README's one test command covers it too."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

CLIENTS = Path(__file__).resolve().parents[1] / "clients"


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
@pytest.mark.skipif(
    not (CLIENTS / "node_modules" / "socket.io-client").exists(),
    reason="npm packages missing: run `npm ci --prefix clients` (.ci/run does)",
)
def test_javascript_clients_walk_the_contract():
    result = subprocess.run(
        ["node", "--test", "--test-concurrency=1", "test/"],
        cwd=CLIENTS,
        env={**os.environ, "PYTHON": sys.executable},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "# fail 0" in result.stdout
    assert "# pass 4" in result.stdout
