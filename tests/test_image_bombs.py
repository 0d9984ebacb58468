"""Images that would freeze their viewers: too many frames, too many pixels over all frames."""

from __future__ import annotations

import io
import time

from PIL import Image

from chat.media.sniff import MAX_FRAMES, MAX_PIXELS, MAX_TOTAL_PIXELS
from tests.media_files import form, png_bomb


def animated_gif(size: tuple[int, int], frames: int) -> bytes:
    # Alternating colours: Pillow merges identical consecutive frames.
    images = [Image.new("P", size, i % 2) for i in range(frames)]
    for img in images:
        img.putpalette([0, 0, 0, 255, 255, 255] + [0] * 762)
    out = io.BytesIO()
    images[0].save(out, "GIF", save_all=True, append_images=images[1:], duration=20, loop=0)
    return out.getvalue()


async def upload(chat, user, data: bytes, name: str) -> tuple[int, dict, float]:
    started = time.perf_counter()
    resp = await chat.rest.post("/api/uploads", data=form(data, name), headers=user.auth)
    return resp.status, await resp.json(), time.perf_counter() - started


async def test_frames_and_pixels_over_all_frames_are_bounded(chat):
    ann = await chat.user("Ann")
    many = animated_gif((1, 1), MAX_FRAMES + 100)
    status, body, took = await upload(chat, ann, many, "many.gif")
    print(f"{MAX_FRAMES + 100} frames of 1x1 ({len(many)} B): {status} in {took * 1000:.0f} ms")
    assert status == 413 and body["error"]["code"] == "PAYLOAD_TOO_LARGE"
    assert "frames" in body["error"]["message"]

    side = 3000  # 9 Mpx a frame, 12 frames: 108 Mpx in all
    heavy = animated_gif((side, side), 12)
    assert 12 * side * side > MAX_TOTAL_PIXELS
    status, body, took = await upload(chat, ann, heavy, "heavy.gif")
    print(f"12 frames of {side}x{side} ({len(heavy)} B): {status} in {took * 1000:.0f} ms")
    assert status == 413 and "megapixels" in body["error"]["message"]

    # What a phone can show is still accepted.
    status, body, _ = await upload(chat, ann, animated_gif((100, 100), 40), "fine.gif")
    assert status == 201, body


async def test_still_images_past_25_megapixels_are_refused(chat):
    ann = await chat.user("Ann")
    side = 6300  # 39.7 Mpx: passed the old 40 Mpx cap in a 38 KB PNG
    assert side * side > MAX_PIXELS
    status, body, _ = await upload(chat, ann, png_bomb(side, side), "big.png")
    assert status == 413 and body["error"]["code"] == "PAYLOAD_TOO_LARGE"
