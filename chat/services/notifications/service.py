"""NotificationService: the Notifier that the group commit hands each stored message to.

Three bounded background queues, so that no kind of work waits behind another: finding who to
notify (one job for the messages, of any rooms, that arrive while the deciders are busy: they are
decided together), the pushes (one per subscription; paced, and coalesced per browser and room),
and the webhook calls (one per message). A message that mentions nobody in a room known to be
quiet (nobody there chose `all`: dispatch.py) is never queued at all.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field

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
from chat.store import Store, now_ms
from chat.store.push_subscriptions import PushSubscription

log = logging.getLogger("chat.notifications")

QUEUE_LIMIT = 10_000  # pushes or webhook calls per queue; past it the oldest are dropped
MESSAGES_PER_DISPATCH = 100  # messages decided together at most
DISPATCH_LIMIT = QUEUE_LIMIT // MESSAGES_PER_DISPATCH  # dispatch jobs (so, messages) kept
# The loop's budget, by the work done rather than the rooms it was done for. A push costs about
# half a millisecond of the event loop (encryption, signing, the request); deciding costs a few
# tens of microseconds per member asked about (each message of a direct room: its peer; of a
# group room: its members at `all` and those it mentions). These paces keep both to a small
# share, so notifications cannot slow the acks and broadcasts that share the loop. Under a burst
# the messages that wait are decided together and a browser gets each room's newest.
PUSHES_PER_SECOND = 200
PUSH_WORKERS = 16  # pushes in flight at once (a slow endpoint holds one: push.py caps them)
ASKED_PER_SECOND = 5_000


@dataclass(slots=True)
class Dispatch:
    """Stored messages, of any rooms, whose recipients are yet to be found."""

    messages: list[tuple[Message, User | None]] = field(default_factory=list)


OPEN = "open"  # the key of the dispatch job not yet started, which takes the messages arriving


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
            self._dispatch, self._dispatch_failed, limit=DISPATCH_LIMIT, workers=2,
            rate=ASKED_PER_SECOND, burst=ASKED_PER_SECOND // 5, size=lambda d: len(d.messages),
        )  # fmt: skip
        self.pushes: JobQueue[PushJob] = JobQueue(
            self._push, self._push_failed, limit=QUEUE_LIMIT, workers=PUSH_WORKERS,
            rate=PUSHES_PER_SECOND,
        )  # fmt: skip
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
            if not message.mentions and self.recipients.quiet(message.room_id):
                return
            waiting = self.dispatches.pending(OPEN)
            if waiting is None or len(waiting.messages) >= MESSAGES_PER_DISPATCH:
                self.dispatches.release(OPEN)
                waiting = Dispatch()
                self.dispatches.put(waiting, key=OPEN)
            waiting.messages.append((message, sender))
        except Exception:  # the send must not fail because of its notifications
            log.exception("notifications: could not queue message %s", message.id)

    def level_changed(self, room_id: str) -> None:
        """A member of the room chose a notification level (on this node)."""
        self.recipients.level_changed(room_id)

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
        try:
            rooms = await self.recipients.rooms(m.room_id for m, _ in work.messages)
            sent = [(m, sender) for m, sender in work.messages if m.room_id in rooms]
            found, asked = await self.recipients.of([m for m, _ in sent], rooms)
            subscriptions = await self._subscriptions({r.user_id for f in found for r in f})
        except Unavailable as exc:
            raise Retry(f"cannot tell who to notify: {exc}") from None
        self.dispatches.spend(asked)
        for (message, sender), recipients in zip(sent, found, strict=True):
            if not recipients:
                continue
            room = rooms[message.room_id]
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
        subs = await self.store.push_subscriptions.of_users(sorted(user_ids))
        live = await self._live_sessions({s.session_id for s in subs if s.session_id})
        by_user: dict[str, list[PushSubscription]] = {}
        for sub in subs:
            if sub.session_id is not None and sub.session_id not in live:
                # Its session ended without a logout (it expired): so does the subscription.
                await self.store.push_subscriptions.forget(sub.id)
                continue
            by_user.setdefault(sub.user_id, []).append(sub)
        return by_user

    async def _live_sessions(self, session_ids: set[str]) -> set[str]:
        if not session_ids:
            return set()
        now = now_ms()
        sessions = await self.store.sessions.many(sorted(session_ids))
        return {s.id for s in sessions if s.expires_at > now}

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
