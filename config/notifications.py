"""Settings for notifications: Web Push's VAPID key and subject, the webhook, and whether push
endpoints may be loopback hosts (read by config/settings.py)."""

from __future__ import annotations

from typing import Any

from config.environment import SettingsError, Values


def notifications(v: Values, production: bool) -> dict[str, Any]:
    subject = v.get("VAPID_SUBJECT") or "mailto:admin@localhost"
    if not subject.startswith(("mailto:", "https://")):
        raise SettingsError(f"VAPID_SUBJECT must be a mailto: or https: URL, not {subject!r}")
    url, secret = v.get("NOTIFY_WEBHOOK_URL"), v.get("NOTIFY_WEBHOOK_SECRET")
    if url and not url.startswith(("https://", "http://")):
        raise SettingsError(f"NOTIFY_WEBHOOK_URL must be an http(s) URL, not {url!r}")
    if url and len(secret) < 16:
        # An unsigned webhook would let anyone who finds the receiver's URL forge messages.
        raise SettingsError("NOTIFY_WEBHOOK_URL needs NOTIFY_WEBHOOK_SECRET (16+ characters)")
    allow_loopback = v.flag("PUSH_ALLOW_LOOPBACK")
    if allow_loopback and production:
        # Push endpoints come from users: on a real server this would let anyone make it call
        # whatever listens on its own loopback interface.
        raise SettingsError("PUSH_ALLOW_LOOPBACK is for a local push stand-in: not in production")
    return {
        "vapid_private_key": v.get("VAPID_PRIVATE_KEY"),
        "vapid_subject": subject,
        "notify_webhook_url": url,
        "notify_webhook_secret": secret,
        "push_allow_loopback": allow_loopback,
    }
