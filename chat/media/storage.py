"""Where uploaded files are kept: one small interface, a local folder or Cloudinary behind it."""

from __future__ import annotations

import asyncio
import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from chat.media.sniff import Detected

# `public-` names files anyone may fetch without a signed URL (avatars); the rest need one.
PUBLIC = "public-"
LOCAL_NAME = re.compile(r"^(?:public-)?[A-Za-z0-9_-]{22}\.[a-z0-9]{2,5}$")


@dataclass(frozen=True)
class Stored:
    url: str
    key: str  # what `delete` needs: a file name, or a Cloudinary public id
    backend: str
    resource_type: str = ""


class Storage(Protocol):
    name: str

    async def save(self, data: bytes, detected: Detected, *, public: bool = False) -> Stored: ...

    async def delete(self, key: str, resource_type: str) -> None: ...


class LocalStorage:
    """Files under one folder, served by the app at /uploads/<random name>."""

    name = "local"

    def __init__(self, root: Path, url_prefix: str = "/uploads/"):
        self.root = root
        self.url_prefix = url_prefix

    def path_of(self, name: str) -> Path | None:
        """The file's path, or None for any name this backend could not have made."""
        return self.root / name if LOCAL_NAME.match(name) else None

    def is_public(self, name: str) -> bool:
        """Whether the file is one saved `public` (served without a signed URL)."""
        return name.startswith(PUBLIC) and LOCAL_NAME.match(name) is not None

    async def save(self, data: bytes, detected: Detected, *, public: bool = False) -> Stored:
        name = f"{PUBLIC if public else ''}{secrets.token_urlsafe(16)}.{detected.ext}"
        await asyncio.to_thread(self._write, name, data)
        return Stored(url=self.url_prefix + name, key=name, backend=self.name)

    def _write(self, name: str, data: bytes) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        temp = self.root / f".{name}.part"
        with open(temp, "xb") as handle:
            handle.write(data)
        os.replace(temp, self.root / name)  # readers never see half a file

    async def delete(self, key: str, resource_type: str = "") -> None:
        path = self.path_of(key)
        if path is not None:
            await asyncio.to_thread(path.unlink, missing_ok=True)
