"""Settings: environment over .env over defaults; production refuses a weak secret."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from config.settings import SettingsError, load_settings, parse_duration

ROOT = Path(__file__).resolve().parents[1]


def test_defaults_and_generated_development_secret(tmp_path):
    settings = load_settings({"DATA_DIR": str(tmp_path)}, env_file=None)
    assert (settings.port, settings.host, settings.env) == (5000, "127.0.0.1", "development")
    assert settings.client_urls == ("http://localhost:5173",)
    assert settings.jwt_expires_in == 7 * 86400
    assert settings.uploads_path == tmp_path / "uploads"
    secret_file = tmp_path / "jwt-secret"
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    assert len(settings.jwt_secret) >= 32
    # Kept: a restart signs with the same key, so sessions survive.
    assert (
        load_settings({"DATA_DIR": str(tmp_path)}, env_file=None).jwt_secret == settings.jwt_secret
    )


def test_environment_overrides_env_file(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text(
        "PORT=7000\nCLIENT_URL=http://a.example, http://b.example/\nMONGODB_DB=fromfile\n"
    )
    settings = load_settings({"PORT": "7100", "DATA_DIR": str(tmp_path)}, env_file=env_file)
    assert settings.port == 7100
    assert settings.mongodb_db == "fromfile"
    assert settings.client_urls == ("http://a.example", "http://b.example")


def test_demo_client_is_on_by_default_and_switches_off(tmp_path):
    base = {"DATA_DIR": str(tmp_path)}
    assert load_settings(base, env_file=None).demo_client is True
    assert load_settings({**base, "DEMO_CLIENT": ""}, env_file=None).demo_client is True
    assert load_settings({**base, "DEMO_CLIENT": "false"}, env_file=None).demo_client is False
    with pytest.raises(SettingsError, match="DEMO_CLIENT"):
        load_settings({**base, "DEMO_CLIENT": "maybe"}, env_file=None)


@pytest.mark.parametrize("secret", ["", "short", "x" * 31])
def test_production_refuses_weak_secret(tmp_path, secret):
    with pytest.raises(SettingsError, match="JWT_SECRET"):
        load_settings(
            {"CHAT_ENV": "production", "JWT_SECRET": secret, "DATA_DIR": str(tmp_path)},
            env_file=None,
        )


def test_production_turns_secure_cookies_on(tmp_path):
    settings = load_settings(
        {"CHAT_ENV": "production", "JWT_SECRET": "s" * 32, "DATA_DIR": str(tmp_path)}, env_file=None
    )
    assert settings.production and settings.cookie_secure


def test_run_py_exits_nonzero_with_weak_production_secret(tmp_path):
    env = {**os.environ, "CHAT_ENV": "production", "JWT_SECRET": "weak", "DATA_DIR": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, str(ROOT / "run.py")],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        cwd=tmp_path,
    )
    assert result.returncode == 2
    assert "JWT_SECRET" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("text", "seconds"), [("90", 90), ("15m", 900), ("12h", 43200), ("7d", 604800)]
)
def test_durations(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "0", "7x", "-1d", "d"])
def test_bad_durations(text):
    with pytest.raises(SettingsError):
        parse_duration(text)
