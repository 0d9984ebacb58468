"""Uploads made without a room: recorded when stored, deleted once `UPLOAD_ORPHAN_HOURS` old.

Such an upload can never be attached to a message later (only `POST /api/uploads` with a
`roomId` makes a file message), so each is an orphan from birth: without this, anyone signed in
could keep files here forever. Every node sweeps; deleting twice is harmless.
"""

from __future__ import annotations

import asyncio
import logging

from chat.domain import Attachment
from chat.kit.tasks import TaskSet
from chat.services.attachment_files import AttachmentFiles
from chat.store import Store, now_ms

log = logging.getLogger("chat.media")
BATCH = 500


class OrphanUploads:
    def __init__(self, store: Store, files: AttachmentFiles, backend: str, hours: float):
        self.store = store
        self.files = files
        self.backend = backend
        self.max_age_ms = int(hours * 3600 * 1000)
        # Sweep a few times per lifetime, at least every 10 minutes, at most every second.
        self.every = min(600.0, max(1.0, hours * 3600 / 4))
        self._tasks = TaskSet()

    async def record(self, attachment: Attachment, user_id: str | None = None) -> None:
        """Remember the upload's file and its thumbnail's (and who uploaded them), to be swept."""
        thumbnail = attachment.thumbnail
        items = [(attachment.key, attachment.resource_type)]
        if thumbnail is not None and thumbnail.key:
            items.append((thumbnail.key, thumbnail.resource_type))
        for key, resource_type in items:
            await self.store.uploads.record(
                key, attachment.backend, resource_type or "", user_id=user_id
            )

    async def delete_of_user(self, user_id: str) -> int:
        """Delete the user's recorded uploads now (their account is going); how many went."""
        items = await self.store.uploads.of_user(user_id)
        for item in items:
            if item.backend == self.backend:
                await self.files.delete_quietly(item.key, item.resource_type)
        return await self.store.uploads.forget([item.key for item in items])

    async def sweep(self, now: int | None = None) -> int:
        """Delete the recorded files older than the limit, and their records; how many went."""
        cutoff = (now_ms() if now is None else now) - self.max_age_ms
        deleted = 0
        while True:
            batch = await self.store.uploads.older_than(cutoff, BATCH)
            for item in batch:
                if item.backend == self.backend:
                    await self.files.delete_quietly(item.key, item.resource_type)
                else:  # stored before the backend changed: this node cannot reach it
                    log.warning("orphan upload %s is on %s: not deleted", item.key, item.backend)
            deleted += await self.store.uploads.forget([item.key for item in batch])
            if len(batch) < BATCH:
                return deleted

    def start(self) -> None:
        if not len(self._tasks):
            self._tasks.spawn(self._forever(), name="orphan-uploads")

    async def close(self) -> None:
        await self._tasks.close()

    async def _forever(self) -> None:
        while True:
            try:
                swept = await self.sweep()
                if swept:
                    log.info("deleted %d orphan uploads", swept)
            except Exception as exc:  # the database may be down for a while: try again later
                log.warning("orphan upload sweep failed: %s", exc)
            await asyncio.sleep(self.every)
