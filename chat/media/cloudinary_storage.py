"""Cloudinary through its official SDK: signed uploads, public ids chosen by the server."""

from __future__ import annotations

import asyncio
import io
import logging
import secrets
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import cloudinary.exceptions
import cloudinary.uploader

from chat.errors import Unavailable
from chat.media.sniff import Detected
from chat.media.storage import Stored

log = logging.getLogger("chat.media")


def parse_cloudinary_url(url: str) -> dict[str, str]:
    """`cloudinary://key:secret@cloud[?upload_prefix=...]` into the SDK's per-call options."""
    parts = urlsplit(url)
    if parts.scheme != "cloudinary" or not (parts.username and parts.password and parts.hostname):
        raise ValueError("CLOUDINARY_URL must look like cloudinary://API_KEY:API_SECRET@CLOUD_NAME")
    options = {
        "api_key": unquote(parts.username),
        "api_secret": unquote(parts.password),
        "cloud_name": parts.hostname,
    }
    for key, values in parse_qs(parts.query).items():
        if key == "upload_prefix":
            options["upload_prefix"] = values[-1]
    return options


def resource_type_for(detected: Detected) -> str:
    """Images as `image`, audio and video as `video` (Cloudinary keeps audio there), else `raw`."""
    if detected.kind == "image":
        return "image"
    if detected.mime.startswith(("video/", "audio/")):
        return "video"
    return "raw"


class CloudinaryStorage:
    name = "cloudinary"

    def __init__(self, url: str, folder: str = "chat"):
        self.options: dict[str, Any] = parse_cloudinary_url(url)
        self.folder = folder

    async def save(self, data: bytes, detected: Detected, *, public: bool = False) -> Stored:
        """`public` changes nothing here: every Cloudinary delivery URL is public (private
        delivery would need Cloudinary's `authenticated` type)."""
        resource_type = resource_type_for(detected)
        public_id = f"{self.folder}/{secrets.token_urlsafe(16)}"
        if resource_type == "raw":
            public_id += f".{detected.ext}"  # raw files keep their extension in the id
        try:
            # The SDK blocks (urllib3): keep it off the event loop.
            result = await asyncio.to_thread(
                cloudinary.uploader.upload,
                io.BytesIO(data),
                public_id=public_id,
                resource_type=resource_type,
                overwrite=False,
                unique_filename=False,
                filename=f"upload.{detected.ext}",
                **self.options,
            )
        except cloudinary.exceptions.Error as exc:
            log.error("Cloudinary refused an upload: %s", exc)
            raise Unavailable("File storage is unavailable") from None
        return Stored(
            url=result["secure_url"],
            key=result["public_id"],
            backend=self.name,
            resource_type=resource_type,
        )

    async def delete(self, key: str, resource_type: str) -> None:
        result = await asyncio.to_thread(
            cloudinary.uploader.destroy,
            key,
            resource_type=resource_type or "image",
            invalidate=True,
            **self.options,
        )
        if result.get("result") not in ("ok", "not found"):
            raise OSError(f"Cloudinary did not delete {key}: {result}")
