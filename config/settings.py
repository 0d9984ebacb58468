"""Settings: read from the environment, then `.env`, then defaults, into one frozen object."""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dotenv import dotenv_values

from config.accounts import accounts
from config.environment import SettingsError, Values
from config.notifications import notifications

__all__ = ["Settings", "SettingsError", "load_settings", "parse_duration"]


LOG_LEVELS = ("debug", "info", "warning", "error", "critical")
_DURATION = re.compile(r"^\s*(\d+)\s*([smhdw]?)\s*$")
_UNIT_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(text: str) -> int:
    """Parse `90`, `30s`, `15m`, `12h`, `7d` or `2w` into seconds."""
    match = _DURATION.match(text)
    if not match or int(match.group(1)) <= 0:
        raise SettingsError(f"not a duration: {text!r} (use e.g. 3600, 15m, 12h, 7d)")
    return int(match.group(1)) * _UNIT_SECONDS[match.group(2)]


@dataclass(frozen=True)
class Settings:
    """Everything the server reads from its environment. Tests build it directly."""

    jwt_secret: str
    port: int = 5000
    host: str = "0.0.0.0"
    env: str = "development"
    mongodb_uri: str = ""
    mongodb_db: str = "chat"
    data_dir: Path = Path("./data")
    jwt_expires_in: int = 7 * 86400
    cookie_name: str = "token"
    cookie_secure: bool = False
    client_urls: tuple[str, ...] = ("http://localhost:5173",)
    cloudinary_url: str = ""
    upload_dir: Path | None = None
    max_image_mb: float = 5
    max_file_mb: float = 10
    redis_url: str = ""
    rate_limit_auth: str = "5/15minutes"
    rate_limit_api: str = "100/15minutes"
    rate_limit_messages: str = "5/10seconds"
    rate_limit_login_account: str = "5/15minutes"
    typing_timeout: float = 6
    presence_grace_seconds: float = 5
    bcrypt_rounds: int = 12
    log_level: str = "info"
    log_format: str = "console"
    trust_proxy: bool = False
    demo_client: bool = True
    socket_queue_limit: int = 2000
    presence_ttl_seconds: float = 15
    presence_room_limit: int = 100
    socket_event_limit: int = 1000
    socket_event_wait: float = 2.5
    metrics_token: str = ""
    ping_interval: float = 25
    ping_timeout: float = 20
    db_timeout_ms: int = 2000
    http_read_timeout: float = 30
    upload_min_bytes_per_second: int = 16384
    max_sockets_per_user: int = 20
    upload_orphan_hours: float = 24
    rate_limit_edits: str = "30/minute"
    rate_limit_reactions: str = "60/minute"
    rate_limit_typing: str = "1/3seconds"
    rate_limit_user_messages: str = "30/10seconds"
    # Empty: generated under DATA_DIR outside production; in production Web Push is off.
    vapid_private_key: str = ""
    vapid_subject: str = "mailto:admin@localhost"
    notify_webhook_url: str = ""
    notify_webhook_secret: str = ""
    push_allow_loopback: bool = False  # push endpoints may be loopback hosts (a local stand-in)
    admin_emails: tuple[str, ...] = ()  # lower-cased: server admins
    public_url: str = "http://localhost:5000"  # where links in emails point
    smtp_url: str = ""  # empty: emails are written to the log
    mail_from: str = "chat@localhost"
    reset_token_minutes: float = 60

    @property
    def production(self) -> bool:
        return self.env == "production"

    @property
    def uploads_path(self) -> Path:
        return self.upload_dir if self.upload_dir is not None else self.data_dir / "uploads"


def _development_secret(data_dir: Path) -> str:
    """Generate the development signing key once and keep it, so sessions survive restarts."""
    path = data_dir / "jwt-secret"
    if path.exists():
        return path.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(secret)
    return secret


def load_settings(
    environ: Mapping[str, str] | None = None, env_file: str | Path | None = ".env"
) -> Settings:
    """Read settings from `environ` (default os.environ), then `env_file`, then defaults."""
    values: dict[str, str] = {}
    if env_file and Path(env_file).is_file():
        values.update({k: v for k, v in dotenv_values(env_file).items() if v is not None})
    values.update(os.environ if environ is None else environ)
    v = Values(values)
    env = v.get("CHAT_ENV", "development")
    if env not in ("development", "production", "test"):
        raise SettingsError(f"CHAT_ENV must be development, production or test, not {env!r}")
    data_dir = Path(v.get("DATA_DIR", "./data") or "./data")
    return Settings(  # each group checks its values in turn: the first error met is raised
        jwt_secret=_secret(v.get("JWT_SECRET"), env, data_dir),
        env=env,
        data_dir=data_dir,
        **_logging(v),
        **_server(v, env),
        **_storage(v),
        **_limits(v, env == "production"),
        **_realtime(v),
        **notifications(v, env == "production"),
        **accounts(v),
    )


def _secret(secret: str, env: str, data_dir: Path) -> str:
    if env != "production":
        return secret or _development_secret(data_dir)
    if len(secret) < 32:
        raise SettingsError(
            "CHAT_ENV=production needs JWT_SECRET of at least 32 characters "
            "(generate one with: python -c 'import secrets; print(secrets.token_urlsafe(48))')"
        )
    return secret


def _logging(v: Values) -> dict[str, Any]:
    log_level = v.get("LOG_LEVEL", "info").lower() or "info"
    if log_level not in LOG_LEVELS:
        raise SettingsError(f"LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}, not {log_level!r}")
    log_format = v.get("LOG_FORMAT", "console").lower()
    if log_format not in ("console", "json"):
        raise SettingsError(f"LOG_FORMAT must be console or json, not {log_format!r}")
    return {"log_level": log_level, "log_format": log_format}


def _server(v: Values, env: str) -> dict[str, Any]:
    clients = tuple(u.strip().rstrip("/") for u in v.get("CLIENT_URL").split(",") if u.strip())
    return {
        "port": int(v.number("PORT", "5000")),
        # A development server (generated secret, detailed errors) stays on this machine unless
        # HOST says otherwise; production listens on every interface, as behind a proxy.
        "host": v.get("HOST") or ("0.0.0.0" if env == "production" else "127.0.0.1"),
        "jwt_expires_in": parse_duration(v.get("JWT_EXPIRES_IN", "7d") or "7d"),
        "cookie_name": v.get("COOKIE_NAME", "token") or "token",
        "cookie_secure": env == "production" or v.flag("COOKIE_SECURE"),
        "client_urls": clients or ("http://localhost:5173",),
        "bcrypt_rounds": int(v.number("BCRYPT_ROUNDS", "12")),
        "trust_proxy": v.flag("TRUST_PROXY"),
        "demo_client": v.flag("DEMO_CLIENT", "true"),
        "metrics_token": v.get("METRICS_TOKEN"),
        "http_read_timeout": v.number("HTTP_READ_TIMEOUT", "30", float),
        "upload_min_bytes_per_second": int(v.number("UPLOAD_MIN_BYTES_PER_SECOND", "16384")),
    }


def _storage(v: Values) -> dict[str, Any]:
    cloudinary = v.get("CLOUDINARY_URL")
    if not cloudinary and v.get("CLOUDINARY_CLOUD_NAME"):
        cloudinary = (
            f"cloudinary://{v.get('CLOUDINARY_API_KEY')}:{v.get('CLOUDINARY_API_SECRET')}"
            f"@{v.get('CLOUDINARY_CLOUD_NAME')}"
        )
    upload_dir = v.get("UPLOAD_DIR")
    return {
        "mongodb_uri": v.get("MONGODB_URI"),
        "mongodb_db": v.get("MONGODB_DB", "chat") or "chat",
        "redis_url": v.get("REDIS_URL"),
        "cloudinary_url": cloudinary,
        "upload_dir": Path(upload_dir) if upload_dir else None,
        "max_image_mb": v.number("MAX_IMAGE_MB", "5", float),
        "max_file_mb": v.number("MAX_FILE_MB", "10", float),
        "upload_orphan_hours": v.number("UPLOAD_ORPHAN_HOURS", "24", float, positive=True),
    }


def _limits(v: Values, prod: bool) -> dict[str, Any]:
    return {
        # The contract's limits in production; in development a second person trying the demo
        # from the same address must not be locked out for 15 minutes.
        "rate_limit_auth": v.get("RATE_LIMIT_AUTH") or ("5/15minutes" if prod else "100/15minutes"),
        "rate_limit_login_account": v.get("RATE_LIMIT_LOGIN_ACCOUNT")
        or ("5/15minutes" if prod else "20/15minutes"),
        "rate_limit_api": v.get("RATE_LIMIT_API", "100/15minutes") or "100/15minutes",
        "rate_limit_messages": v.get("RATE_LIMIT_MESSAGES", "5/10seconds") or "5/10seconds",
        "rate_limit_edits": v.get("RATE_LIMIT_EDITS", "30/minute") or "30/minute",
        "rate_limit_reactions": v.get("RATE_LIMIT_REACTIONS", "60/minute") or "60/minute",
        "rate_limit_typing": v.get("RATE_LIMIT_TYPING", "1/3seconds") or "1/3seconds",
        "rate_limit_user_messages": v.get("RATE_LIMIT_USER_MESSAGES") or "30/10seconds",
    }


def _realtime(v: Values) -> dict[str, Any]:
    return {
        "typing_timeout": v.number("TYPING_TIMEOUT", "6", float),
        "presence_grace_seconds": v.number("PRESENCE_GRACE_SECONDS", "5", float),
        "presence_ttl_seconds": v.number("PRESENCE_TTL_SECONDS", "15", float),
        "presence_room_limit": int(v.number("PRESENCE_ROOM_LIMIT", "100")),
        "socket_queue_limit": int(v.number("SOCKET_QUEUE_LIMIT", "2000")),
        "socket_event_limit": int(v.number("SOCKET_EVENT_LIMIT", "1000")),
        "socket_event_wait": v.number("SOCKET_EVENT_WAIT_SECONDS", "2.5", float),
        "ping_interval": v.number("PING_INTERVAL", "25", float),
        "ping_timeout": v.number("PING_TIMEOUT", "20", float),
        "max_sockets_per_user": int(v.number("MAX_SOCKETS_PER_USER", "20")),
    }
