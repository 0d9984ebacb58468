"""The stored files behind attachments: deleted with their message, or with their whole room.

Built once by the service factory and handed to MessageService (a deleted message's files),
RoomService (a deleted room's files) and MediaService (an upload that is not kept).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from chat.domain import FILE_KINDS, Attachment
from chat.media.storage import Storage
from chat.store import Store

log = logging.getLogger("chat.media")


class AttachmentFiles:
    def __init__(self, store: Store, storage: Storage):
        self.store = store
        self.storage = storage

    async def delete(self, attachments: Iterable[Attachment]) -> None:
        """Delete each attachment's file and its thumbnail's."""
        for item in attachments:
            if item.key:
                await self.delete_quietly(item.key, item.resource_type)
            thumbnail = item.thumbnail
            if thumbnail is not None and thumbnail.key:
                await self.delete_quietly(thumbnail.key, thumbnail.resource_type)

    async def delete_room(self, room_id: str) -> None:
        """Delete the files of every message of the room (before its messages go)."""
        await self.delete(await self.store.messages.attachments(room_id, FILE_KINDS))

    async def delete_quietly(self, key: str, resource_type: str | None) -> None:
        """Delete one stored file; a failure is logged, never raised: a file that cannot be
        deleted must not undo the delete the user asked for."""
        try:
            await self.storage.delete(key, resource_type or "")
        except Exception:
            log.exception("could not delete stored file %s", key)
