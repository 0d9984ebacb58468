"""Uploads: store a checked file, optionally as an image/file message; avatars; room media."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

from chat.domain import FILE_KINDS, Attachment, Thumbnail
from chat.errors import NotFound, PayloadTooLarge, UnsupportedMediaType
from chat.media.sniff import Detected, clean_name, detect
from chat.media.storage import LocalStorage, Storage, Stored
from chat.media.thumbnail import make_thumbnail
from chat.services.access import Access
from chat.services.attachment_files import AttachmentFiles
from chat.services.file_urls import FileUrls
from chat.services.message_views import present, present_one
from chat.services.messages import MessageService
from chat.services.orphans import OrphanUploads
from chat.services.presenters.messages import attachment_view
from chat.services.presenters.shapes import AttachmentWire, FileStats, MessageWire, UserWire
from chat.services.users import UserService
from chat.store import Store

MB = 1024 * 1024
# Decoding a 25 Mpx image for its thumbnail takes ~100 MB and a core for a while: a few at a time,
# so a burst of uploads queues instead of taking the node's memory.
THUMBNAILS_AT_ONCE = 2
YEAR = 365 * 24 * 3600


@dataclass(frozen=True)
class ServedFile:
    """A local file the transport may send, and for how long a cache may keep it."""

    path: Path
    public: bool  # an avatar: anyone, for a year; else a signed URL, until it expires
    max_age: int


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
        files: AttachmentFiles,
        access: Access,
        messages: MessageService,
        users: UserService,
        limits: Limits,
        urls: FileUrls,
        orphans: OrphanUploads,
    ):
        self.store = store
        self.storage = storage
        self.files = files
        self.access = access
        self.messages = messages
        self.users = users
        self.limits = limits
        self.urls = urls
        self.orphans = orphans
        self.thumbnailing = asyncio.Semaphore(THUMBNAILS_AT_ONCE)

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
    ) -> tuple[AttachmentWire | dict[str, object], MessageWire | None, bool]:
        """Store a file; with a room, send it as a message. Returns (attachment, message, created);
        the attachment is `{}` when a resent clientId names a message without files."""
        if room_id is not None:
            await self.access.writable(user_id, room_id)  # refuse before anything is stored
            if client_id is not None:
                existing = await self.store.messages.by_client_id(user_id, client_id)
                if existing is not None and existing.attachments:
                    view = await present_one(self.store, self.urls, existing)
                    return view["attachments"][0], view, False
        name, detected = self._check(data, filename, declared)
        attachment = await self._store(data, name, detected)
        if room_id is None:  # never attachable later: an orphan from birth, swept when old
            await self.orphans.record(attachment, user_id)
            return self.urls.attachment(attachment_view(attachment)), None, True
        try:
            message, created = await self.messages.send(
                user_id, room_id, text,
                client_id=client_id, kind=detected.kind, attachments=[attachment],
            )  # fmt: skip
        except BaseException:
            await self.files.delete([attachment])
            raise
        if not created:  # the same clientId was stored meanwhile: keep that one's files only
            await self.files.delete([attachment])
        return message["attachments"][0] if message["attachments"] else {}, message, created

    async def _store(self, data: bytes, name: str, detected: Detected) -> Attachment:
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
                await self.files.delete_quietly(stored.key, stored.resource_type)
                raise
            attachment.thumbnail = _thumbnail(saved, thumbnail.detected)
        return attachment

    async def set_avatar(
        self, user_id: str, data: bytes, filename: str, declared: str | None
    ) -> UserWire:
        """A new avatar (an image); the old one's file goes. Returns the user's own profile."""
        _, detected = self._check(data, filename, declared)
        if detected.kind != "image":
            raise UnsupportedMediaType("An avatar must be an image")
        stored = await self.storage.save(data, detected, public=True)
        old = await self.store.users.get(user_id)
        user = await self.store.users.set_avatar(
            user_id, stored.url, stored.key, stored.resource_type
        )
        if user is None:
            await self.files.delete_quietly(stored.key, stored.resource_type)
            raise NotFound("User not found")
        if old is not None and old.avatar_key:
            await self.files.delete_quietly(old.avatar_key, old.avatar_resource)
        return await self.users.view(user, own=True)

    async def start(self) -> None:
        """Start the sweep of orphan uploads."""
        self.orphans.start()

    async def close(self) -> None:
        await self.orphans.close()

    async def sweep_orphans(self, now: int | None = None) -> int:
        """Delete the uploads no message uses that are older than UPLOAD_ORPHAN_HOURS as of
        `now` (epoch ms; the present by default)."""
        return await self.orphans.sweep(now)

    async def local_file(self, name: str, exp: str | None, sig: str | None) -> ServedFile | None:
        """The file this node stores locally as `name` (served at /uploads/<name>) when the
        request may have it: an avatar, or a signed URL that has not expired. None when files are
        not kept locally, the name is not one the storage could have made, or the URL is not
        (or no longer) valid: the caller cannot tell these apart."""
        storage = self.storage
        if not isinstance(storage, LocalStorage):
            return None
        path = storage.path_of(name)
        if path is None:
            return None
        if storage.is_public(name):
            return ServedFile(path, public=True, max_age=YEAR)
        left = self.urls.valid(name, exp, sig)
        if left is not None:
            return ServedFile(path, public=False, max_age=left)
        if exp is None and sig is None and await self.store.users.avatar_in_use(name):
            return ServedFile(path, public=True, max_age=YEAR)  # an avatar from before `public-`
        return None

    async def media(
        self, user_id: str, room_id: str, kind: str | None, before: int | None, limit: int
    ) -> tuple[list[MessageWire], bool]:
        """The room's live image and file messages (or one of the two), newest page first."""
        await self.access.readable(user_id, room_id)
        messages, more = await self.store.messages.page(
            room_id, before=before, limit=limit, kinds=[kind] if kind else FILE_KINDS,
            live_only=True,
        )  # fmt: skip
        return await present(self.store, self.urls, messages), more

    async def stats(self, user_id: str, room_id: str) -> FileStats:
        """How many live images and files the room holds, and their bytes."""
        await self.access.readable(user_id, room_id)
        totals = await self.store.messages.attachment_totals(room_id, FILE_KINDS)
        images, image_bytes = totals.get("image", (0, 0))
        files, file_bytes = totals.get("file", (0, 0))
        return {
            "image": {"count": images, "bytes": image_bytes},
            "file": {"count": files, "bytes": file_bytes},
            "total": {"count": images + files, "bytes": image_bytes + file_bytes},
        }


def _attachment(stored: Stored, name: str, detected: Detected, size: int) -> Attachment:
    return Attachment(
        url=stored.url, name=name, mime_type=detected.mime, size=size, key=stored.key,
        backend=stored.backend, resource_type=stored.resource_type,
        width=detected.width, height=detected.height if detected.width is not None else None,
    )  # fmt: skip


def _thumbnail(stored: Stored, detected: Detected) -> Thumbnail:
    return Thumbnail(
        url=stored.url,
        width=detected.width or 0,
        height=detected.height or 0,
        key=stored.key,
        resource_type=stored.resource_type,
    )
