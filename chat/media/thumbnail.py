"""Thumbnails: the first frame of an image, at most 1280 px on its longest side, as WebP."""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps

from chat.errors import UnsupportedMediaType
from chat.media.sniff import ALLOWED, Detected

THUMBNAIL_SIDE = 1280
QUALITY = 80


@dataclass(frozen=True)
class Thumbnail:
    data: bytes
    detected: Detected  # what storage needs to name and file it


def make_thumbnail(data: bytes, detected: Detected) -> Thumbnail:
    """Decode the first frame (already bounded by sniff.detect), turn it upright by its EXIF
    orientation, shrink it and encode it as WebP (alpha kept, metadata such as GPS dropped).
    An image that passed `verify()` but cannot be decoded is refused here, before anything is
    stored: viewers could not draw it either. Blocking: run it in a thread."""
    fmt = ALLOWED[detected.mime].pillow_format
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=[fmt] if fmt else None) as img:
                # JPEG decodes at 1/2, 1/4 or 1/8 scale when that is still big enough: much less work.
                img.draft("RGB", (THUMBNAIL_SIDE, THUMBNAIL_SIDE))
                img.load()  # decode errors surface here, not in the EXIF step below
                frame = _upright(img)
        alpha = frame.mode in ("RGBA", "LA", "PA") or "transparency" in frame.info
        frame = frame.convert("RGBA" if alpha else "RGB")
        frame.thumbnail((THUMBNAIL_SIDE, THUMBNAIL_SIDE), Image.Resampling.LANCZOS)
        out = io.BytesIO()
        frame.save(out, format="WEBP", quality=QUALITY, method=4)
    except Exception:
        raise UnsupportedMediaType("Not a valid image") from None
    width, height = frame.size
    return Thumbnail(out.getvalue(), Detected("image/webp", "image", "webp", width, height))


def _upright(img: Image.Image) -> Image.Image:
    """A copy of the current (first) frame turned by its EXIF orientation; as it is when the EXIF
    block is unreadable (browsers draw such files, so they are not refused for it)."""
    try:
        return ImageOps.exif_transpose(img)
    except Exception:
        return img.copy()
