"""Web Push delivery to one subscription, and what each answer of the push service means.

201 (or 200, 202): delivered. 404 or 410: the subscription is gone and is deleted. 429 and 5xx,
or no answer: tried again later (queue.py). Any other answer (3xx included: redirects are not
followed, 400, 403, 413), or an endpoint the guard refuses, fails for good: a retry would get the
same, and a subscription that fails for good FORGET_AFTER times in a row is deleted.

No endpoint can hold up everyone's pushes: at most PER_USER pushes are in flight to one user's
browsers and PER_ORIGIN to one push service; a push past either waits a moment (queue.Later)
and the worker takes another.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass

from chat.kit.log_limit import LogLimit
from chat.metrics import NOTIFICATIONS_FAILED, NOTIFICATIONS_SENT
from chat.outbound.http import Unreachable
from chat.outbound.webpush import PushTarget, WebPushClient, origin
from chat.services.notifications.queue import Later, Retry
from chat.store import Store
from chat.store.push_subscriptions import PushSubscription

log = logging.getLogger("chat.notifications")

# How long a push service keeps a push for a device that is offline: a direct message from last
# night still matters in the morning; one from last week does not.
PUSH_TTL_SECONDS = 24 * 3600
PER_USER = 2  # pushes in flight to one user's browsers (a user keeps at most 10 subscriptions)
PER_ORIGIN = 8  # pushes in flight to one push service (scheme, host and port)
FORGET_AFTER = 3  # failures for good in a row (on this node) that delete a subscription
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
        self._in_flight: Counter[tuple[str, str]] = Counter()
        self._failures: dict[str, int] = {}  # subscription id: failures for good in a row

    async def send(self, job: PushJob) -> None:
        sub = job.subscription
        lanes = (("user", sub.user_id), ("origin", origin(sub.endpoint)))
        if self._in_flight[lanes[0]] >= PER_USER or self._in_flight[lanes[1]] >= PER_ORIGIN:
            raise Later
        self._in_flight.update(lanes)
        try:
            status = await self._post(job)
        finally:
            self._in_flight.subtract(lanes)
            for lane in lanes:
                if self._in_flight[lane] <= 0:
                    del self._in_flight[lane]
        if status is None:
            return
        if 200 <= status < 300:
            self._failures.pop(sub.id, None)
            SENT.inc()
        elif status in (404, 410):
            await self.store.push_subscriptions.forget(sub.id)
            FAILED.inc()
        elif status == 429 or status >= 500:
            raise Retry(f"push service answered {status}")
        else:
            await self._failed_for_good(job, f"push service answered {status}")

    async def _post(self, job: PushJob) -> int | None:
        """The push service's status; None when the guard refused the endpoint (for good)."""
        sub = job.subscription
        target = PushTarget(sub.endpoint, sub.p256dh, sub.auth)
        urgency = "high" if job.urgent else "normal"
        try:
            return await self.client.send(target, job.data, ttl=PUSH_TTL_SECONDS, urgency=urgency)
        except Unreachable as exc:
            if not exc.permanent:
                raise Retry(f"push service unreachable: {exc}") from None
            await self._failed_for_good(job, str(exc))
            return None

    async def _failed_for_good(self, job: PushJob, reason: str) -> None:
        self.failed(job, reason)
        sub_id = job.subscription.id
        if len(self._failures) > 10_000:  # bounded: a flood of bad endpoints resets the count
            self._failures.clear()
        self._failures[sub_id] = self._failures.get(sub_id, 0) + 1
        if self._failures[sub_id] >= FORGET_AFTER:
            del self._failures[sub_id]
            await self.store.push_subscriptions.forget(sub_id)

    async def close(self) -> None:
        await self.client.http.close()

    def failed(self, job: PushJob, reason: str) -> None:
        FAILED.inc()
        self._log.warning("push", "notifications: a Web Push failed for good: %s", reason)
