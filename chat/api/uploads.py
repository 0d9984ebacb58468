"""REST handlers for files: uploads, avatars, serving local files, room media and file stats."""

from __future__ import annotations

import mimetypes
import time
from collections.abc import Awaitable
from typing import TypeVar

from aiohttp import BodyPartReader, MultipartReader, web

from chat import schemas
from chat.api import protocol
from chat.api.helpers import ok, principal, query
from chat.api.keys import SERVICES, SETTINGS
from chat.errors import NotFound, PayloadTooLarge, ValidationFailed
from chat.media.storage import LocalStorage

routes = web.RouteTableDef()
T = TypeVar("T")

FIELD_LIMIT = 16 * 1024
CHUNK = 64 * 1024
FORM_OVERHEAD = 64 * 1024


class _Pace:
    """A minimum upload rate: after HTTP_READ_TIMEOUT seconds of grace, each byte received buys
    1/UPLOAD_MIN_BYTES_PER_SECOND seconds more. A trickle (1 byte/s) is cut off after the grace."""

    def __init__(self, request: web.Request):
        settings = request.app[SETTINGS]
        self.start = time.monotonic() + settings.http_read_timeout
        self.rate = max(1, settings.upload_min_bytes_per_second)
        self.received = 0

    def __call__(self, awaitable: Awaitable[T]) -> Awaitable[T]:
        return protocol.within(awaitable, self.start + self.received / self.rate)


async def read_form(
    request: web.Request, limit: int, fields: set[str]
) -> tuple[dict, bytes, str, str | None]:
    """Stream a multipart form: the `file` part up to `limit` bytes (reading stops there) and the
    named text fields, at a minimum rate. Returns (fields, file bytes, file name, declared type)."""
    if request.content_length is not None and request.content_length > limit + FORM_OVERHEAD:
        raise PayloadTooLarge(f"At most {limit} bytes")
    if not request.content_type.startswith("multipart/form-data"):
        raise ValidationFailed("Send the file as multipart/form-data")
    try:
        reader = await request.multipart()
    except (ValueError, AssertionError):
        raise ValidationFailed("Malformed multipart body") from None
    values: dict[str, str] = {}
    data: bytes | None = None
    filename, declared = "", None
    paced = _Pace(request)
    while (part := await paced(_next_part(reader))) is not None:
        if not isinstance(part, BodyPartReader):
            raise ValidationFailed("Nested multipart is not accepted")
        if part.name == "file" and data is None:
            filename, declared = part.filename or "", part.headers.get("Content-Type")
            chunks, size = [], 0
            while chunk := await paced(part.read_chunk(CHUNK)):
                size += len(chunk)
                paced.received += len(chunk)
                if size > limit:
                    raise PayloadTooLarge(f"At most {limit} bytes")
                chunks.append(chunk)
            data = b"".join(chunks)
        elif part.name in fields and part.name not in values:
            raw = await paced(part.read())
            if len(raw) > FIELD_LIMIT:
                raise PayloadTooLarge(f"Field {part.name} too long")
            values[part.name] = raw.decode("utf-8", errors="replace")
        else:
            raise ValidationFailed(f"Unexpected form field {part.name!r}")
    if data is None:
        raise ValidationFailed("The form needs a `file` field", {"fields": {"file": ["Missing."]}})
    return values, data, filename, declared


async def _next_part(reader: MultipartReader) -> object:
    try:
        return await reader.next()
    except ValueError:  # a malformed boundary or part; header errors reach the error middleware
        raise ValidationFailed("Malformed multipart body") from None


@routes.post("/api/uploads")
async def upload(request: web.Request) -> web.Response:
    me = await principal(request)
    media = request.app[SERVICES].media
    values, data, filename, declared = await read_form(
        request, media.limits.largest, {"roomId", "text", "clientId"}
    )
    form = schemas.load(schemas.UploadFields(), values)
    attachment, message, created = await media.upload(
        me.user_id, data, filename, declared,
        room_id=form.get("roomId"), text=form["text"], client_id=form.get("clientId"),
    )  # fmt: skip
    body = {"attachment": attachment}
    if message is not None:
        body["message"] = message
    return ok(body, 201 if created else 200)


@routes.post("/api/users/me/avatar")
async def avatar(request: web.Request) -> web.Response:
    me = await principal(request)
    services = request.app[SERVICES]
    _, data, filename, declared = await read_form(request, services.media.limits.image_bytes, set())
    user = await services.media.set_avatar(me.user_id, data, filename, declared)
    return ok({"user": await services.users.view(user, own=True)})


@routes.get("/api/rooms/{room_id}/media")
async def room_media(request: web.Request) -> web.Response:
    me = await principal(request)
    q = query(request, schemas.MediaQuery())
    messages, more = await request.app[SERVICES].media.media(
        me.user_id, request.match_info["room_id"], q.get("kind"), q.get("before"), q["limit"]
    )
    return ok({"messages": messages, "hasMore": more})


@routes.get("/api/rooms/{room_id}/files/stats")
async def file_stats(request: web.Request) -> web.Response:
    me = await principal(request)
    return ok(await request.app[SERVICES].media.stats(me.user_id, request.match_info["room_id"]))


@routes.get("/uploads/{name}")
async def serve_upload(request: web.Request) -> web.StreamResponse:
    storage = request.app[SERVICES].media.storage
    path = (
        storage.path_of(request.match_info["name"]) if isinstance(storage, LocalStorage) else None
    )
    if path is None or not path.is_file():
        raise NotFound("No such file")
    mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    headers = {
        "Content-Type": mime,
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; sandbox",
        "Cache-Control": "public, max-age=31536000, immutable",
    }
    if not mime.startswith("image/"):
        headers["Content-Disposition"] = "attachment"
    return web.FileResponse(path, headers=headers)
