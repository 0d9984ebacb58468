"""Uploads: store a checked file, optionally as an image/file message; avatars; file cleanup."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

from chat.errors import NotFound, PayloadTooLarge, UnsupportedMediaType
from chat.media.sniff import Detected, clean_name, detect
from chat.media.storage import Storage, Stored
from chat.media.thumbnail import Thumbnail, make_thumbnail
from chat.services.access import Access
from chat.services.messages import MessageService
from chat.services.presenters.messages import attachment_view
from chat.store import Store

log = logging.getLogger("chat.media")
Doc = dict[str, Any]
MB = 1024 * 1024
# Decoding a 25 Mpx image for its thumbnail takes ~100 MB and a core for a while: a few at a time,
# so a burst of uploads queues instead of taking the node's memory.
THUMBNAILS_AT_ONCE = 2


@dataclass(frozen=True)
class Limits:
    image_bytes: int
    file_bytes: int

    @property
    def largest(self) -> int:
        return max(self.image_bytes, self.file_bytes)


class MediaService:
    def __init__(
        self,
        store: Store,
        storage: Storage,
        access: Access,
        messages: MessageService,
        limits: Limits,
    ):
        self.store = store
        self.storage = storage
        self.access = access
        self.messages = messages
        self.limits = limits
        self.thumbnailing = asyncio.Semaphore(THUMBNAILS_AT_ONCE)
        messages.files_deleter = self.delete_attachments

    def _check(self, data: bytes, filename: str, declared: str | None) -> tuple[str, Detected]:
        name = clean_name(filename)
        detected = detect(data, name, declared)
        limit = self.limits.image_bytes if detected.kind == "image" else self.limits.file_bytes
        if len(data) > limit:
            raise PayloadTooLarge(f"{detected.kind.capitalize()}s may be at most {limit // MB} MB")
        return name or f"file.{detected.ext}", detected

    async def upload(
        self,
        user_id: str,
        data: bytes,
        filename: str,
        declared: str | None,
        *,
        room_id: str | None = None,
        text: str = "",
        client_id: str | None = None,
    ) -> tuple[Doc, Doc | None, bool]:
        """Store a file; with a room, send it as a message. Returns (attachment, message, created)."""
        if room_id is not None:
            await self.access.writable(user_id, room_id)  # refuse before anything is stored
            if client_id is not None:
                existing = await self.store.messages.by_client_id(user_id, client_id)
                if existing is not None and existing.get("attachments"):
                    view = await self.messages.view(existing)
                    return view["attachments"][0], view, False
        name, detected = self._check(data, filename, declared)
        attachment = await self._store(data, name, detected)
        if room_id is None:
            return attachment_view(attachment), None, True
        try:
            message, created = await self.messages.send(
                user_id,
                room_id,
                text,
                client_id=client_id,
                kind=detected.kind,
                attachments=[attachment],
            )
        except BaseException:
            await self.delete_attachments([attachment])
            raise
        if not created:  # the same clientId was stored meanwhile: keep that one's files only
            await self.delete_attachments([attachment])
        return message["attachments"][0] if message["attachments"] else {}, message, created

    async def _store(self, data: bytes, name: str, detected: Detected) -> Doc:
        """Store the file, and for an image its thumbnail beside it through the same backend (made
        first: an image that cannot be decoded is refused before anything is stored)."""
        thumbnail = None
        if detected.kind == "image":
            async with self.thumbnailing:
                thumbnail = await asyncio.to_thread(make_thumbnail, data, detected)
        stored = await self.storage.save(data, detected)
        attachment = _attachment(stored, name, detected, len(data))
        if thumbnail is not None:
            try:
                saved = await self.storage.save(thumbnail.data, thumbnail.detected)
            except BaseException:
                await self._delete_quietly(stored.key, stored.resource_type)
                raise
            attachment.update(_thumbnail(saved, thumbnail))
        return attachment

    async def set_avatar(
        self, user_id: str, data: bytes, filename: str, declared: str | None
    ) -> Doc:
        _, detected = self._check(data, filename, declared)
        if detected.kind != "image":
            raise UnsupportedMediaType("An avatar must be an image")
        stored = await self.storage.save(data, detected)
        old = await self.store.users.get(user_id)
        user = await self.store.users.update(
            user_id,
            {
                "avatarUrl": stored.url,
                "avatarKey": stored.key,
                "avatarResource": stored.resource_type,
            },
        )
        if user is None:
            await self._delete_quietly(stored.key, stored.resource_type)
            raise NotFound("User not found")
        if old and old.get("avatarKey"):
            await self._delete_quietly(old["avatarKey"], old.get("avatarResource", ""))
        return user

    async def delete_attachments(self, attachments: list[Doc]) -> None:
        for item in attachments:
            if item.get("key"):
                await self._delete_quietly(item["key"], item.get("resourceType", ""))
            if item.get("thumbnailKey"):
                await self._delete_quietly(item["thumbnailKey"], item.get("thumbnailResource", ""))

    async def delete_room_files(self, room_id: str) -> None:
        for message in await self.store.messages.with_attachments(room_id):
            await self.delete_attachments(message.get("attachments", []))

    async def _delete_quietly(self, key: str, resource_type: str) -> None:
        # A file that cannot be deleted must not undo the delete the user asked for: log it loudly.
        try:
            await self.storage.delete(key, resource_type)
        except Exception:
            log.exception("could not delete stored file %s", key)

    async def media(
        self, user_id: str, room_id: str, kind: str | None, before: int | None, limit: int
    ) -> tuple[list[Doc], bool]:
        await self.access.readable(user_id, room_id)
        types = [kind] if kind else ["image", "file"]
        docs, more = await self.store.messages.page(
            room_id, before=before, limit=limit, types=types, live_only=True
        )
        return await self.messages.views(docs), more

    async def stats(self, user_id: str, room_id: str) -> Doc:
        await self.access.readable(user_id, room_id)
        totals = {row["_id"]: row for row in await self.store.messages.attachment_totals(room_id)}
        result = {
            kind: {
                "count": totals.get(kind, {}).get("count", 0),
                "bytes": totals.get(kind, {}).get("bytes", 0) or 0,
            }
            for kind in ("image", "file")
        }
        result["total"] = {
            "count": result["image"]["count"] + result["file"]["count"],
            "bytes": result["image"]["bytes"] + result["file"]["bytes"],
        }
        return result


def _attachment(stored: Stored, name: str, detected: Detected, size: int) -> Doc:
    doc: Doc = {
        "url": stored.url,
        "name": name,
        "mimeType": detected.mime,
        "size": size,
        "key": stored.key,
        "backend": stored.backend,
        "resourceType": stored.resource_type,
    }
    if detected.width is not None:
        doc["width"], doc["height"] = detected.width, detected.height
    return doc


def _thumbnail(stored: Stored, thumbnail: Thumbnail) -> Doc:
    return {
        "thumbnail": {
            "url": stored.url,
            "width": thumbnail.detected.width,
            "height": thumbnail.detected.height,
        },
        "thumbnailKey": stored.key,
        "thumbnailResource": stored.resource_type,
    }
