"""Real files made in the tests (images by Pillow, a small PDF, hostile ones), the upload form,
and what the local uploads folder holds."""

from __future__ import annotations

import io
import struct
import zlib

import aiohttp
from PIL import Image

from config.settings import Settings


def image(fmt: str, size: tuple[int, int] = (32, 24)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 40, 90)).save(out, format=fmt)
    return out.getvalue()


PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)
SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
HTML = b"<!doctype html><html><script>alert(document.cookie)</script></html>"
ELF = b"\x7fELF\x02\x01\x01" + b"\x00" * 100


def png_bomb(width: int = 100_000, height: int = 100_000) -> bytes:
    """A tiny PNG whose header declares a huge image (a decompression bomb)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )


def form(
    data: bytes, filename: str, content_type: str | None = None, **fields: str
) -> aiohttp.FormData:
    payload = aiohttp.FormData()
    for key, value in fields.items():
        payload.add_field(key, value)
    payload.add_field(
        "file", data, filename=filename, content_type=content_type or "application/octet-stream"
    )
    return payload


def stored_files(settings: Settings) -> list[str]:
    root = settings.uploads_path
    return sorted(p.name for p in root.iterdir()) if root.exists() else []
