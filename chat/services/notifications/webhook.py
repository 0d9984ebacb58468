"""The notification webhook: one signed POST per message with every recipient's id, for a team
that sends through FCM or APNs itself. 2xx: delivered; 429, 5xx or no answer: tried again
later, at most 5 tries in all (queue.py); any other answer fails for good."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from chat.kit.log_limit import LogLimit
from chat.metrics import NOTIFICATIONS_FAILED, NOTIFICATIONS_SENT
from chat.outbound.http import Outbound, Unreachable
from chat.services.notifications.content import webhook_headers
from chat.services.notifications.queue import Retry

log = logging.getLogger("chat.notifications")
SENT = NOTIFICATIONS_SENT.labels("webhook")
FAILED = NOTIFICATIONS_FAILED.labels("webhook")


@dataclass(frozen=True, slots=True)
class WebhookJob:
    body: bytes  # signed as it is: the same bytes on every try
    message_id: str


class WebhookSender:
    def __init__(self, http: Outbound, url: str, secret: str) -> None:
        self.http = http
        self.url = url
        self.secret = secret
        self._log = LogLimit(log)

    async def send(self, job: WebhookJob) -> None:
        headers = webhook_headers(job.body, self.secret, job.message_id)
        try:
            status = await self.http.post(self.url, job.body, headers)
        except Unreachable as exc:
            raise Retry(f"webhook unreachable: {exc}") from None
        if 200 <= status < 300:
            SENT.inc()
        elif status == 429 or status >= 500:
            raise Retry(f"webhook answered {status}")
        else:
            self.failed(job, f"webhook answered {status}")

    async def close(self) -> None:
        await self.http.close()

    def failed(self, job: WebhookJob, reason: str) -> None:
        FAILED.inc()
        self._log.warning("webhook", "notifications: a webhook call failed for good: %s", reason)
