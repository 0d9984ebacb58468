"""Web Push delivery to one subscription, and what each answer of the push service means.

201 (or 200, 202): delivered. 404 or 410: the subscription is gone and is deleted. 429 and 5xx,
or no answer: tried again later (queue.py). Any other answer (400, 403, 413) fails for good: a
retry would get the same.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from chat.kit.log_limit import LogLimit
from chat.metrics import NOTIFICATIONS_FAILED, NOTIFICATIONS_SENT
from chat.outbound.http import Unreachable
from chat.outbound.webpush import PushTarget, WebPushClient
from chat.services.notifications.queue import Retry
from chat.store import Store
from chat.store.push_subscriptions import PushSubscription

log = logging.getLogger("chat.notifications")

# How long a push service keeps a push for a device that is offline: a direct message from last
# night still matters in the morning; one from last week does not.
PUSH_TTL_SECONDS = 24 * 3600
SENT = NOTIFICATIONS_SENT.labels("webpush")
FAILED = NOTIFICATIONS_FAILED.labels("webpush")


@dataclass(frozen=True, slots=True)
class PushJob:
    subscription: PushSubscription
    data: bytes  # the JSON payload; encrypted afresh for each try
    urgent: bool


class PushSender:
    def __init__(self, store: Store, client: WebPushClient) -> None:
        self.store = store
        self.client = client
        self._log = LogLimit(log)

    async def send(self, job: PushJob) -> None:
        sub = job.subscription
        target = PushTarget(sub.endpoint, sub.p256dh, sub.auth)
        urgency = "high" if job.urgent else "normal"
        try:
            status = await self.client.send(target, job.data, ttl=PUSH_TTL_SECONDS, urgency=urgency)
        except Unreachable as exc:
            if not exc.permanent:
                raise Retry(f"push service unreachable: {exc}") from None
            self.failed(job, str(exc))
            return
        if 200 <= status < 300:
            SENT.inc()
        elif status in (404, 410):
            await self.store.push_subscriptions.forget(sub.id)
            FAILED.inc()
        elif status == 429 or status >= 500:
            raise Retry(f"push service answered {status}")
        else:
            self.failed(job, f"push service answered {status}")

    async def close(self) -> None:
        await self.client.http.close()

    def failed(self, job: PushJob, reason: str) -> None:
        FAILED.inc()
        self._log.warning("push", "notifications: a Web Push failed for good: %s", reason)
