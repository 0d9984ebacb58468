"""Signed, expiring URLs for locally stored files: `/uploads/<name>?exp=<epoch s>&sig=<hex>`.

The signature is HMAC-SHA256 over `<name>:<exp>` with a key derived from JWT_SECRET (so a leaked
upload signature says nothing about tokens, and the other way round). Every message the server
presents gets fresh URLs; the stored URL stays bare. `exp` is rounded up to a whole
`ROUND_SECONDS`, so the same file keeps the same URL for a while and browsers can cache it.
Avatars are not signed: their files stay public. Cloudinary URLs are left as they are (private
delivery there would need Cloudinary's `authenticated` type).
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable

from chat.services.presenters.shapes import AttachmentWire, MessageWire

LOCAL_PREFIX = "/uploads/"
TTL_SECONDS = 3600
ROUND_SECONDS = 600


class FileUrls:
    def __init__(
        self,
        secret: str,
        ttl_seconds: int = TTL_SECONDS,
        clock: Callable[[], float] = time.time,
    ):
        self._key = hmac.new(secret.encode(), b"upload-urls", hashlib.sha256).digest()
        self.ttl_seconds = ttl_seconds
        self.clock = clock

    def signature(self, name: str, exp: int) -> str:
        return hmac.new(self._key, f"{name}:{exp}".encode(), hashlib.sha256).hexdigest()

    def sign(self, url: str, exp: int | None = None) -> str:
        """A local file's URL with `exp` and `sig`; any other URL (Cloudinary's) unchanged."""
        if not url.startswith(LOCAL_PREFIX) or "?" in url:
            return url
        if exp is None:
            expires = int(self.clock()) + self.ttl_seconds
            exp = -(-expires // ROUND_SECONDS) * ROUND_SECONDS
        name = url.removeprefix(LOCAL_PREFIX)
        return f"{url}?exp={exp}&sig={self.signature(name, exp)}"

    def valid(self, name: str, exp: str | None, sig: str | None) -> int | None:
        """The seconds the signed URL has left, or None when it is missing, malformed, forged,
        for another file, or expired."""
        if not exp or not sig or len(exp) > 12 or not exp.isascii() or not exp.isdigit():
            return None
        expected = self.signature(name, int(exp))
        if not hmac.compare_digest(expected.encode(), sig.encode("utf-8", "replace")):
            return None
        left = int(exp) - int(self.clock())
        return left if left > 0 else None

    def attachment(self, item: AttachmentWire) -> AttachmentWire:
        """Sign an attachment view's URL and its thumbnail's, in place; the same dict."""
        if "url" in item:
            item["url"] = self.sign(item["url"])
        thumbnail = item.get("thumbnail")
        if thumbnail is not None:
            thumbnail["url"] = self.sign(thumbnail["url"])
        return item

    def message(self, view: MessageWire) -> MessageWire:
        for item in view["attachments"]:
            self.attachment(item)
        return view

    def messages(self, views: list[MessageWire]) -> list[MessageWire]:
        for view in views:
            self.message(view)
        return views
