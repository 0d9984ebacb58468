"""Thumbnails (issue 19, finding 3): the first frame, at most 1280 px a side, stored beside the image."""

from __future__ import annotations

import io
import struct
import zlib

from PIL import Image

from tests.media_files import form, image, stored_files


async def _post(chat, user, data: bytes, name: str, **fields: str) -> tuple[int, dict]:
    resp = await chat.rest.post("/api/uploads", data=form(data, name, **fields), headers=user.auth)
    return resp.status, await resp.json()


async def _fetch(chat, url: str) -> Image.Image:
    resp = await chat.rest.get(url)
    assert resp.status == 200
    assert resp.headers["Content-Type"] == "image/webp"
    return Image.open(io.BytesIO(await resp.read()))


def _encoded(img: Image.Image, fmt: str, **options) -> bytes:
    out = io.BytesIO()
    img.save(out, format=fmt, **options)
    return out.getvalue()


async def test_a_big_photo_gets_a_1280_thumbnail_in_every_view(chat):
    ann, bob = await chat.user("Ann"), await chat.user("Bob")
    room = await chat.room(ann)
    await chat.join(bob, room)
    b = await chat.socket(bob)
    for size, small in (((3000, 2000), (1280, 853)), ((900, 2400), (480, 1280))):
        status, body = await _post(chat, ann, image("JPEG", size), "photo.jpg", roomId=room["id"])
        assert status == 201
        attachment = body["attachment"]
        assert (attachment["width"], attachment["height"]) == size
        thumbnail = attachment["thumbnail"]
        assert set(thumbnail) == {"url", "width", "height"}
        assert (thumbnail["width"], thumbnail["height"]) == small
        assert thumbnail["url"] != attachment["url"]
        drawn = await _fetch(chat, thumbnail["url"])
        assert (drawn.format, drawn.size) == ("WEBP", small)
        # The same thumbnail reaches the room live, in history and in sync.
        live = await b.wait_for("new-message", lambda m, i=body["message"]["id"]: m["id"] == i)
        assert live["attachments"] == [attachment]
    _, history = await chat.api("GET", f"/api/rooms/{room['id']}/messages", bob)
    assert [m["attachments"][0]["thumbnail"]["width"] for m in history["messages"]] == [1280, 480]
    ack = await b.call("sync", {"rooms": {room["id"]: {"ver": 0}}})
    [synced] = [r["messages"] for r in ack["rooms"] if r["roomId"] == room["id"]]
    assert [m["attachments"] for m in synced] == [m["attachments"] for m in history["messages"]]


async def test_an_animated_gif_thumbnail_is_its_first_frame_and_still(chat):
    ann = await chat.user("Ann")
    frames = [Image.new("RGB", (64, 48), colour) for colour in ("red", "lime", "blue")]
    gif = _encoded(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100)
    status, body = await _post(chat, ann, gif, "dance.gif")  # no room: an attachment only
    assert status == 201
    thumbnail = body["attachment"]["thumbnail"]
    assert (thumbnail["width"], thumbnail["height"]) == (64, 48)
    drawn = await _fetch(chat, thumbnail["url"])
    assert getattr(drawn, "n_frames", 1) == 1
    r, g, b = drawn.convert("RGB").getpixel((32, 24))
    assert r > 200 and g < 60 and b < 60  # red: the first frame


async def test_transparency_and_exif_orientation_are_kept(chat):
    ann = await chat.user("Ann")
    clear = Image.new("RGBA", (40, 40), (0, 0, 255, 255))
    clear.putpixel((0, 0), (0, 0, 0, 0))
    _, body = await _post(chat, ann, _encoded(clear, "PNG"), "logo.png")
    drawn = await _fetch(chat, body["attachment"]["thumbnail"]["url"])
    assert drawn.mode == "RGBA" and drawn.getpixel((0, 0))[3] == 0
    # A phone's portrait photo: stored landscape with "turn 90 degrees" in its EXIF.
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: rotate 90 CW to view
    photo = _encoded(Image.new("RGB", (60, 20), "white"), "JPEG", exif=exif)
    _, body = await _post(chat, ann, photo, "portrait.jpg")
    thumbnail = body["attachment"]["thumbnail"]
    assert (thumbnail["width"], thumbnail["height"]) == (20, 60)
    drawn = await _fetch(chat, thumbnail["url"])
    assert drawn.size == (20, 60) and not drawn.getexif()  # upright, no metadata (GPS) carried


async def test_an_image_that_cannot_be_decoded_is_refused_and_nothing_is_stored(chat, settings):
    """A PNG whose chunks and CRCs are right (so `verify()` passes) but whose pixels are not zlib:
    no viewer could draw it, and no file is left behind."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + data))
        return struct.pack(">I", len(data)) + kind + data + crc

    header = struct.pack(">IIBBBBB", 64, 64, 8, 2, 0, 0, 0)
    broken = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", b"not zlib")
    broken += chunk(b"IEND", b"")
    ann = await chat.user("Ann")
    room = await chat.room(ann)
    status, body = await _post(chat, ann, broken, "broken.png", roomId=room["id"])
    assert (status, body["error"]["code"]) == (415, "UNSUPPORTED_MEDIA_TYPE")
    assert stored_files(settings) == []
    _, history = await chat.api("GET", f"/api/rooms/{room['id']}/messages", ann)
    assert history["messages"] == []


async def test_files_and_avatars_have_no_thumbnail(chat, settings):
    ann = await chat.user("Ann")
    status, body = await _post(chat, ann, b"plain notes\n", "notes.txt")
    assert status == 201 and "thumbnail" not in body["attachment"]
    resp = await chat.rest.post(
        "/api/users/me/avatar", data=form(image("PNG"), "me.png"), headers=ann.auth
    )
    assert resp.status == 200
    assert len(stored_files(settings)) == 2  # the text file and the avatar, nothing more
