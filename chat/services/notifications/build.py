"""Builds the notification service from the settings: Web Push when a VAPID key is at hand,
the webhook when NOTIFY_WEBHOOK_URL is set, each with its own HTTP client."""

from __future__ import annotations

import logging

from chat.outbound.http import Outbound
from chat.outbound.webpush import WebPushClient
from chat.services.file_urls import FileUrls
from chat.services.ledger import Ledger
from chat.services.notifications.dispatch import Recipients
from chat.services.notifications.push import PushSender
from chat.services.notifications.service import NotificationService
from chat.services.notifications.subscriptions import PushSubscriptions
from chat.services.notifications.vapid import load_vapid
from chat.services.notifications.webhook import WebhookSender
from chat.store import Store
from config.settings import Settings

log = logging.getLogger("chat.notifications")
HTTP_TIMEOUT_SECONDS = 10


def build_notifications(
    settings: Settings, store: Store, ledger: Ledger, urls: FileUrls
) -> NotificationService:
    vapid = load_vapid(settings)
    push = None
    if vapid is not None:
        # Push endpoints come from users: that client calls public hosts only (chat/outbound).
        http = Outbound(
            timeout=HTTP_TIMEOUT_SECONDS,
            untrusted=True,
            allow_loopback=settings.push_allow_loopback,
        )
        push = PushSender(store, WebPushClient(http, vapid.signer, settings.vapid_subject))
    else:
        log.warning("notifications: Web Push is off (CHAT_ENV=production and no VAPID_PRIVATE_KEY)")
    webhook = None
    if settings.notify_webhook_url and settings.notify_webhook_secret:
        webhook = WebhookSender(
            Outbound(timeout=HTTP_TIMEOUT_SECONDS),
            settings.notify_webhook_url,
            settings.notify_webhook_secret,
        )
    elif settings.notify_webhook_url:
        log.error("notifications: NOTIFY_WEBHOOK_URL is set without NOTIFY_WEBHOOK_SECRET; off")
    public_key = vapid.public_key if vapid is not None else None
    return NotificationService(
        store,
        Recipients(store, ledger),
        urls,
        PushSubscriptions(store, public_key, allow_loopback=settings.push_allow_loopback),
        push=push,
        webhook=webhook,
    )
