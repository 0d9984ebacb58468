"""Settings for accounts: server admins, outgoing email, reset links (read by config/settings.py)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from config.environment import SettingsError, Values


def accounts(v: Values) -> dict[str, Any]:
    admins = tuple(
        dict.fromkeys(e.strip().lower() for e in v.get("ADMIN_EMAILS").split(",") if e.strip())
    )
    public_url = (v.get("PUBLIC_URL") or "http://localhost:5000").rstrip("/")
    if urlsplit(public_url).scheme not in ("http", "https"):
        raise SettingsError(f"PUBLIC_URL must be an http(s) URL, not {public_url!r}")
    smtp_url = v.get("SMTP_URL")
    if smtp_url and urlsplit(smtp_url).scheme not in ("smtp", "smtps"):
        scheme = urlsplit(smtp_url).scheme
        # Only the scheme is echoed: the URL may carry a password.
        raise SettingsError(f"SMTP_URL must start smtp:// or smtps://, not {scheme}://")
    return {
        "admin_emails": admins,
        "public_url": public_url,
        "smtp_url": smtp_url,
        "mail_from": v.get("MAIL_FROM") or "chat@localhost",
        "reset_token_minutes": v.number("RESET_TOKEN_MINUTES", "60", float, positive=True),
    }
