"""What an uploaded file is, decided from its bytes (never its name or declared type alone)."""

from __future__ import annotations

import io
import re
import unicodedata
import warnings
from dataclasses import dataclass
from typing import Literal

import filetype
from PIL import Image

from chat.errors import PayloadTooLarge, UnsupportedMediaType, ValidationFailed

# What phones decode comfortably (a 39.7 Mpx PNG of 38 KB passed the old 40 Mpx bound).
MAX_PIXELS = 25_000_000
# Animated images: at most this many frames and this many pixels over all of them (a 1.5 MB GIF
# of 6000x6000 with 100,000 frames froze whoever viewed it).
MAX_FRAMES = 500
MAX_TOTAL_PIXELS = 100_000_000


# The message type an upload makes.
FileKind = Literal["image", "file"]


@dataclass(frozen=True)
class Kind:
    kind: FileKind
    extensions: tuple[str, ...]
    pillow_format: str | None = None


ALLOWED: dict[str, Kind] = {
    "image/jpeg": Kind("image", ("jpg", "jpeg"), "JPEG"),
    "image/png": Kind("image", ("png",), "PNG"),
    "image/gif": Kind("image", ("gif",), "GIF"),
    "image/webp": Kind("image", ("webp",), "WEBP"),
    "application/pdf": Kind("file", ("pdf",)),
    "text/plain": Kind("file", ("txt", "text", "md", "csv", "log")),
    "video/mp4": Kind("file", ("mp4", "m4v")),
    "video/webm": Kind("file", ("webm",)),
    "audio/mpeg": Kind("file", ("mp3",)),
    "application/zip": Kind("file", ("zip",)),
}
# What browsers and phones call the same types.
ALIASES = {
    "image/jpg": "image/jpeg",
    "image/pjpeg": "image/jpeg",
    "audio/mp3": "audio/mpeg",
    "application/x-zip-compressed": "application/zip",
    "application/x-zip": "application/zip",
}
GENERIC = {"", "application/octet-stream", "binary/octet-stream"}
# Plain text under the names browsers send for .csv, .md and the like: bytes cannot tell them
# apart, so they agree by family (the byte checks, valid UTF-8 and no markup, still apply).
PLAIN_TEXT_FAMILY = frozenset(
    {"text/plain", "text/csv", "text/markdown", "text/x-markdown", "text/tab-separated-values"}
)
_MARKUP = re.compile(rb"^\s*(<|\xef\xbb\xbf\s*<)")


@dataclass(frozen=True)
class Detected:
    mime: str
    kind: FileKind
    ext: str
    width: int | None = None
    height: int | None = None


def clean_name(name: str | None) -> str:
    """The original name, for display only: no control characters, no path, at most 200 chars."""
    if not name:
        return ""
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C").strip()
    if "/" in name or "\\" in name or name.startswith(".") or ".." in name:
        raise ValidationFailed("Invalid file name")
    return name[-200:]


def _looks_like_text(data: bytes) -> bool:
    if b"\x00" in data or _MARKUP.match(data[:512]) or data.startswith(b"#!"):
        return False  # binary, or HTML / SVG / XML, or a script
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _check_frames(img: Image.Image, area: int) -> None:
    """Count frames by seeking, refusing as soon as a bound is passed (seeking may decode, so the
    work stops at the bound); `n_frames` would walk all 200,000 frames of a hostile GIF first."""
    if not getattr(img, "is_animated", False):
        return
    frames = 1
    while True:
        try:
            img.seek(frames)
        except EOFError:
            break
        frames += 1
        if frames > MAX_FRAMES:
            raise PayloadTooLarge(f"At most {MAX_FRAMES} frames in an animated image")
        if frames * area > MAX_TOTAL_PIXELS:
            raise PayloadTooLarge(
                f"At most {MAX_TOTAL_PIXELS // 1_000_000} megapixels over all frames"
            )
    img.seek(0)


def _image_size(data: bytes, fmt: str) -> tuple[int, int]:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=[fmt]) as img:
                width, height = img.size
                if width * height > MAX_PIXELS:
                    raise PayloadTooLarge("Image dimensions too large")
                _check_frames(img, width * height)
                img.verify()
    except (Image.DecompressionBombWarning, Image.DecompressionBombError):
        raise PayloadTooLarge("Image dimensions too large") from None
    except PayloadTooLarge:
        raise
    except Exception:
        raise UnsupportedMediaType("Not a valid image") from None
    return width, height


def detect(data: bytes, filename: str, declared: str | None) -> Detected:
    """The file's type from its bytes, checked against its name and declared type."""
    if not data:
        raise ValidationFailed("The file is empty")
    guess = filetype.guess(data[:8192])
    mime = guess.mime if guess else ("text/plain" if _looks_like_text(data) else "")
    mime = ALIASES.get(mime, mime)
    kind = ALLOWED.get(mime)
    if kind is None:
        raise UnsupportedMediaType("This type of file is not accepted")
    declared_mime = ALIASES.get(
        (declared or "").split(";")[0].strip().lower(),
        (declared or "").split(";")[0].strip().lower(),
    )
    if mime == "text/plain" and declared_mime in PLAIN_TEXT_FAMILY:
        mime = declared_mime  # the bytes passed the text checks; keep the more precise name
    elif declared_mime not in GENERIC and declared_mime != mime:
        raise UnsupportedMediaType(f"The file is {mime}, not {declared_mime}")
    ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if ext and ext not in kind.extensions:
        raise UnsupportedMediaType(f"The file is {mime}; its name says .{ext}")
    width = height = None
    if kind.pillow_format:
        width, height = _image_size(data, kind.pillow_format)
    return Detected(mime, kind.kind, kind.extensions[0], width, height)
