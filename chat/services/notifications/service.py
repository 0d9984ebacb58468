"""NotificationService: the Notifier that the group commit hands each stored message to, and the
Web Push subscriptions a browser registers (GET/POST/DELETE /api/push/...)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric import ec

from chat.domain import Message, User
from chat.errors import NotFound, Unavailable, ValidationFailed
from chat.kit.log_limit import LogLimit
from chat.outbound.guard import endpoint_problem
from chat.services.file_urls import FileUrls
from chat.services.notifications.content import encode, push_payload, webhook_body
from chat.services.notifications.dispatch import Recipients
from chat.services.notifications.push import PushJob, PushSender
from chat.services.notifications.queue import JobQueue, Retry
from chat.services.notifications.vapid import b64url_decode
from chat.services.notifications.webhook import WebhookJob, WebhookSender
from chat.services.presenters.messages import message_view
from chat.store import Store

log = logging.getLogger("chat.notifications")

SUBSCRIPTIONS_PER_USER = 10  # browsers and devices; past it the least recently subscribed go


@dataclass(frozen=True, slots=True)
class Dispatch:
    """A stored message whose recipients are yet to be found."""

    message: Message
    sender: User | None


Work = Dispatch | PushJob | WebhookJob


class NotificationService:
    def __init__(
        self,
        store: Store,
        recipients: Recipients,
        urls: FileUrls,
        *,
        push: PushSender | None,
        public_key: str | None,
        webhook: WebhookSender | None,
        production: bool,
        queue_limit: int = 10_000,
    ) -> None:
        self.store = store
        self.recipients = recipients
        self.urls = urls
        self.push = push
        self._public_key = public_key
        self.webhook = webhook
        self.production = production
        self.queue: JobQueue[Work] = JobQueue(self._run, self._give_up, limit=queue_limit)
        self._log = LogLimit(log)

    # -- the Notifier port ---------------------------------------------------------------------

    def message_stored(self, message: Message, sender: User | None) -> None:
        """Queue the message for notifying; returns at once and never raises."""
        try:
            if message.type != "system" and (self.push is not None or self.webhook is not None):
                self.queue.put(Dispatch(message, sender))
        except Exception:  # the send must not fail because of its notifications
            log.exception("notifications: could not queue message %s", message.id)

    async def start(self) -> None:
        self.queue.start()

    async def close(self) -> None:
        """Deliver what is ready for a moment, abandon the rest, close the HTTP clients."""
        await self.queue.close()
        for sender in (self.push, self.webhook):
            if sender is not None:
                await sender.close()

    # -- subscriptions ---------------------------------------------------------------------------

    def public_key(self) -> str:
        if self._public_key is None:
            raise NotFound("Web Push is not enabled on this server")
        return self._public_key

    async def subscribe(self, user_id: str, endpoint: str, p256dh: str, auth: str) -> None:
        self.public_key()  # 404 when Web Push is off
        problems: dict[str, list[str]] = {}
        problem = endpoint_problem(endpoint, production=self.production)
        if problem is not None:
            problems["endpoint"] = [f"The endpoint {problem}."]
        if not _p256_point(p256dh):
            problems["keys"] = ["p256dh must be an uncompressed P-256 point (base64url)."]
        elif len(_decoded(auth)) != 16:
            problems["keys"] = ["auth must be 16 bytes (base64url)."]
        if problems:
            raise ValidationFailed("Invalid push subscription", {"fields": problems})
        await self.store.push_subscriptions.save(
            user_id, endpoint, p256dh, auth, keep=SUBSCRIPTIONS_PER_USER
        )

    async def unsubscribe(self, user_id: str, endpoint: str) -> None:
        """Idempotent: an endpoint the user does not have is not an error."""
        await self.store.push_subscriptions.remove(user_id, endpoint)

    # -- the background work --------------------------------------------------------------------

    async def _run(self, work: Work) -> None:
        if isinstance(work, Dispatch):
            await self._dispatch(work)
        elif isinstance(work, PushJob):
            assert self.push is not None  # only queued when push is on
            await self.push.send(work)
        else:
            assert self.webhook is not None
            await self.webhook.send(work)

    async def _dispatch(self, work: Dispatch) -> None:
        """Find the recipients, then queue one push per subscription and one webhook call."""
        message = work.message
        try:
            room = await self.recipients.room(message.room_id)
            if room is None:
                return
            recipients = await self.recipients.of(message, room)
            if not recipients:
                return
            subscriptions = (
                await self.store.push_subscriptions.of_users([r.user_id for r in recipients])
                if self.push is not None
                else []
            )
        except Unavailable as exc:
            raise Retry(f"cannot tell who to notify: {exc}") from None
        if subscriptions:
            data = encode(push_payload(message, work.sender, room))
            urgent = {r.user_id for r in recipients if r.mentioned}
            for sub in subscriptions:
                self.queue.put(PushJob(sub, data, sub.user_id in urgent))
        if self.webhook is not None:
            view = self.urls.message(message_view(message, work.sender, []))
            body = webhook_body(view, [r.user_id for r in recipients])
            self.queue.put(WebhookJob(body, message.id))

    def _give_up(self, work: Work, reason: str) -> None:
        if isinstance(work, PushJob) and self.push is not None:
            self.push.failed(work, reason)
        elif isinstance(work, WebhookJob) and self.webhook is not None:
            self.webhook.failed(work, reason)
        else:
            self._log.warning("dispatch", "notifications: a message notified nobody: %s", reason)


def _decoded(text: str) -> bytes:
    try:
        return b64url_decode(text)
    except ValueError:
        return b""


def _p256_point(text: str) -> bool:
    raw = _decoded(text)
    if len(raw) != 65 or raw[0] != 4:
        return False
    try:
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), raw)
    except ValueError:
        return False
    return True
