"""Reading a multipart/form-data upload: streamed, bounded, and at a minimum rate."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Collection
from dataclasses import dataclass
from typing import TypeVar

from aiohttp import BodyPartReader, MultipartReader, web

from chat.api import protocol
from chat.api.keys import SETTINGS
from chat.errors import PayloadTooLarge, ValidationFailed

T = TypeVar("T")

FIELD_LIMIT = 16 * 1024
CHUNK = 64 * 1024
FORM_OVERHEAD = 64 * 1024


@dataclass(frozen=True, slots=True)
class Form:
    fields: dict[str, str]  # the named text fields that were sent
    data: bytes  # the `file` part
    filename: str
    declared: str | None  # the Content-Type the client gave the file (not trusted)


class _Pace:
    """A minimum upload rate: after HTTP_READ_TIMEOUT seconds of grace, each byte received buys
    1/UPLOAD_MIN_BYTES_PER_SECOND seconds more. A trickle (1 byte/s) is cut off after the grace."""

    def __init__(self, request: web.Request) -> None:
        settings = request.app[SETTINGS]
        self.start = time.monotonic() + settings.http_read_timeout
        self.rate = max(1, settings.upload_min_bytes_per_second)
        self.received = 0

    def __call__(self, awaitable: Awaitable[T]) -> Awaitable[T]:
        return protocol.within(awaitable, self.start + self.received / self.rate)


async def read_form(request: web.Request, limit: int, fields: Collection[str] = ()) -> Form:
    """Stream a multipart form: the `file` part up to `limit` bytes (reading stops there) and the
    named text fields, at a minimum rate. Any other part, or a second one, is refused."""
    reader = await _multipart(request, limit)
    paced = _Pace(request)
    values: dict[str, str] = {}
    file: tuple[bytes, str, str | None] | None = None
    while (part := await paced(_next_part(reader))) is not None:
        if part.name == "file" and file is None:
            file = await _read_file(part, paced, limit)
        elif part.name is not None and part.name in fields and part.name not in values:
            values[part.name] = await _read_field(part, paced)
        else:
            raise ValidationFailed(f"Unexpected form field {part.name!r}")
    if file is None:
        raise ValidationFailed("The form needs a `file` field", {"fields": {"file": ["Missing."]}})
    return Form(values, *file)


async def _multipart(request: web.Request, limit: int) -> MultipartReader:
    if request.content_length is not None and request.content_length > limit + FORM_OVERHEAD:
        raise PayloadTooLarge(f"At most {limit} bytes")
    if not request.content_type.startswith("multipart/form-data"):
        raise ValidationFailed("Send the file as multipart/form-data")
    try:
        return await request.multipart()
    except (ValueError, AssertionError):
        raise ValidationFailed("Malformed multipart body") from None


async def _next_part(reader: MultipartReader) -> BodyPartReader | None:
    try:
        part = await reader.next()
    except ValueError:  # a malformed boundary or part; header errors reach the error middleware
        raise ValidationFailed("Malformed multipart body") from None
    if part is not None and not isinstance(part, BodyPartReader):
        raise ValidationFailed("Nested multipart is not accepted")
    return part


async def _read_file(
    part: BodyPartReader, paced: _Pace, limit: int
) -> tuple[bytes, str, str | None]:
    chunks: list[bytes] = []
    size = 0
    while chunk := await paced(part.read_chunk(CHUNK)):
        size += len(chunk)
        paced.received += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"At most {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks), part.filename or "", part.headers.get("Content-Type")


async def _read_field(part: BodyPartReader, paced: _Pace) -> str:
    raw = await paced(part.read())
    if len(raw) > FIELD_LIMIT:
        raise PayloadTooLarge(f"Field {part.name} too long")
    return raw.decode("utf-8", errors="replace")
