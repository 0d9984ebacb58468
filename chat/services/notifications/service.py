"""NotificationService: the Notifier that the group commit hands each stored message to.

Three bounded background queues, so that no kind of work waits behind another: finding who to
notify (one job per room and moment: messages of a room that wait are decided together), the
pushes (one per subscription; paced, and coalesced per browser and room), and the webhook calls
(one per message).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from chat.domain import Message, User
from chat.errors import Unavailable
from chat.kit.log_limit import LogLimit
from chat.services.file_urls import FileUrls
from chat.services.notifications.content import encode, push_payload, webhook_body
from chat.services.notifications.dispatch import Recipient, Recipients
from chat.services.notifications.push import PushJob, PushSender
from chat.services.notifications.queue import JobQueue, Retry
from chat.services.notifications.subscriptions import PushSubscriptions
from chat.services.notifications.webhook import WebhookJob, WebhookSender
from chat.services.presenters.messages import message_view
from chat.store import Store
from chat.store.push_subscriptions import PushSubscription

log = logging.getLogger("chat.notifications")

QUEUE_LIMIT = 10_000  # jobs per queue; past it the oldest are dropped
# A push costs about half a millisecond of the event loop (encryption, signing, the request),
# and deciding a message's recipients a few: these paces keep both to a small share of it, so a
# busy room's notifications cannot slow the acks and broadcasts that share the loop. Under a
# burst a room's messages are decided together and a browser gets the room's newest.
PUSHES_PER_SECOND = 200
DISPATCHES_PER_SECOND = 20
MESSAGES_PER_DISPATCH = 100


@dataclass(slots=True)
class Dispatch:
    """Stored messages of one room whose recipients are yet to be found."""

    room_id: str
    messages: list[tuple[Message, User | None]]


class NotificationService:
    def __init__(
        self,
        store: Store,
        recipients: Recipients,
        urls: FileUrls,
        subscriptions: PushSubscriptions,
        *,
        push: PushSender | None,
        webhook: WebhookSender | None,
    ) -> None:
        self.store = store
        self.recipients = recipients
        self.urls = urls
        self.subscriptions = subscriptions
        self.push = push
        self.webhook = webhook
        self.dispatches: JobQueue[Dispatch] = JobQueue(
            self._dispatch, self._dispatch_failed, limit=QUEUE_LIMIT, workers=2,
            rate=DISPATCHES_PER_SECOND, burst=10,
        )  # fmt: skip
        self.pushes: JobQueue[PushJob] = JobQueue(
            self._push, self._push_failed, limit=QUEUE_LIMIT, rate=PUSHES_PER_SECOND
        )
        self.webhooks: JobQueue[WebhookJob] = JobQueue(
            self._call_webhook, self._webhook_failed, limit=QUEUE_LIMIT
        )
        self._queues = (self.dispatches, self.pushes, self.webhooks)
        self._log = LogLimit(log)

    def message_stored(self, message: Message, sender: User | None) -> None:
        """Queue the message for notifying; returns at once and never raises."""
        try:
            if message.type == "system" or (self.push is None and self.webhook is None):
                return
            room_id = message.room_id
            waiting = self.dispatches.pending(room_id)
            if waiting is not None and len(waiting.messages) < MESSAGES_PER_DISPATCH:
                waiting.messages.append((message, sender))
                return
            self.dispatches.release(room_id)
            self.dispatches.put(Dispatch(room_id, [(message, sender)]), key=room_id)
        except Exception:  # the send must not fail because of its notifications
            log.exception("notifications: could not queue message %s", message.id)

    @property
    def idle(self) -> bool:
        """Nothing queued, waiting for a retry or being sent."""
        return all(queue.idle for queue in self._queues)

    async def start(self) -> None:
        for queue in self._queues:
            queue.start()

    async def close(self) -> None:
        """Deliver what is ready for a moment, abandon the rest, close the HTTP clients."""
        await asyncio.gather(*(queue.close() for queue in self._queues))
        for sender in (self.push, self.webhook):
            if sender is not None:
                await sender.close()

    async def _dispatch(self, work: Dispatch) -> None:
        """Find the recipients, then queue the pushes and the webhook calls."""
        messages = [message for message, _ in work.messages]
        try:
            room = await self.recipients.room(work.room_id)
            if room is None:
                return
            found = await self.recipients.of(messages, room)
            subscriptions = await self._subscriptions({r.user_id for f in found for r in f})
        except Unavailable as exc:
            raise Retry(f"cannot tell who to notify: {exc}") from None
        for (message, sender), recipients in zip(work.messages, found, strict=True):
            if not recipients:
                continue
            if subscriptions:
                data = encode(push_payload(message, sender, room))
                self._queue_pushes(data, recipients, subscriptions, room.id)
            if self.webhook is not None:
                view = self.urls.message(message_view(message, sender, []))
                body = webhook_body(view, [r.user_id for r in recipients])
                self.webhooks.put(WebhookJob(body, message.id))

    async def _subscriptions(self, user_ids: set[str]) -> dict[str, list[PushSubscription]]:
        if self.push is None or not user_ids:
            return {}
        by_user: dict[str, list[PushSubscription]] = {}
        for sub in await self.store.push_subscriptions.of_users(sorted(user_ids)):
            by_user.setdefault(sub.user_id, []).append(sub)
        return by_user

    def _queue_pushes(
        self,
        data: bytes,
        recipients: list[Recipient],
        subscriptions: dict[str, list[PushSubscription]],
        room_id: str,
    ) -> None:
        for recipient in recipients:
            for sub in subscriptions.get(recipient.user_id, ()):
                job = PushJob(sub, data, recipient.mentioned)
                self.pushes.put(job, key=(sub.id, room_id))

    async def _push(self, job: PushJob) -> None:
        assert self.push is not None  # only queued when push is on
        await self.push.send(job)

    async def _call_webhook(self, job: WebhookJob) -> None:
        assert self.webhook is not None  # only queued when the webhook is on
        await self.webhook.send(job)

    def _push_failed(self, job: PushJob, reason: str) -> None:
        if self.push is not None:
            self.push.failed(job, reason)

    def _webhook_failed(self, job: WebhookJob, reason: str) -> None:
        if self.webhook is not None:
            self.webhook.failed(job, reason)

    def _dispatch_failed(self, work: Dispatch, reason: str) -> None:
        self._log.warning(
            "dispatch", "notifications: %d messages notified nobody: %s", len(work.messages), reason
        )
