"""Uploads to the local folder: real files end to end, and every refusal leaves nothing behind."""

from __future__ import annotations

import dataclasses

import aiohttp
import pytest

from chat.app import create_app
from tests.media_files import ELF, HTML, PDF, SVG, form, image, png_bomb, stored_files
from tests.realtime import Chat

CASES = [
    ("PNG", "pic.png", "image/png", "image"),
    ("JPEG", "pic.jpg", "image/jpeg", "image"),
    ("GIF", "pic.gif", "image/gif", "image"),
    ("WEBP", "pic.webp", "image/webp", "image"),
]


@pytest.mark.parametrize(("fmt", "name", "mime", "kind"), CASES)
async def test_images_round_trip_as_messages(chat, settings, fmt, name, mime, kind):
    ann, bob = await chat.user("Ann"), await chat.user("Bob")
    room = await chat.room(ann)
    await chat.join(bob, room)
    b = await chat.socket(bob)
    data = image(fmt)
    resp = await chat.rest.post(
        "/api/uploads",
        data=form(data, name, mime, roomId=room["id"], text="look", clientId="u1"),
        headers=ann.auth,
    )
    assert resp.status == 201, await resp.text()
    body = await resp.json()
    attachment = body["attachment"]
    assert (attachment["name"], attachment["mimeType"], attachment["size"]) == (
        name,
        mime,
        len(data),
    )
    assert (attachment["width"], attachment["height"]) == (32, 24)
    assert set(attachment) == {"url", "name", "mimeType", "size", "width", "height", "thumbnail"}
    # A small image's thumbnail is as big as the image (never enlarged), a WebP of its own.
    assert attachment["thumbnail"]["url"].startswith("/uploads/")
    assert attachment["thumbnail"]["url"].split("?")[0].endswith(".webp")
    assert (attachment["thumbnail"]["width"], attachment["thumbnail"]["height"]) == (32, 24)
    message = body["message"]
    assert (message["type"], message["text"], message["attachments"]) == (
        kind,
        "look",
        [attachment],
    )
    assert await b.wait_for("new-message") == message
    assert attachment["url"].startswith("/uploads/") and name not in attachment["url"]
    fetched = await chat.rest.get(attachment["url"])
    assert fetched.status == 200
    assert await fetched.read() == data
    assert fetched.headers["Content-Type"] == mime
    assert fetched.headers["X-Content-Type-Options"] == "nosniff"
    assert "Content-Disposition" not in fetched.headers
    # The same clientId again: the first message back, no second file (or thumbnail) on disk.
    again = await chat.rest.post(
        "/api/uploads",
        data=form(data, name, mime, roomId=room["id"], clientId="u1"),
        headers=ann.auth,
    )
    assert again.status == 200
    assert (await again.json())["message"]["id"] == message["id"]
    assert len(stored_files(settings)) == 2  # the image and its thumbnail


async def test_pdf_is_a_file_message_served_as_an_attachment(chat, settings):
    ann = await chat.user("Ann")
    room = await chat.room(ann)
    resp = await chat.rest.post(
        "/api/uploads",
        data=form(PDF, "doc.pdf", "application/pdf", roomId=room["id"]),
        headers=ann.auth,
    )
    assert resp.status == 201
    body = await resp.json()
    assert body["message"]["type"] == "file"
    assert body["message"]["text"] == ""
    assert "width" not in body["attachment"]
    fetched = await chat.rest.get(body["attachment"]["url"])
    assert await fetched.read() == PDF
    assert fetched.headers["Content-Disposition"] == "attachment"
    assert fetched.headers["Content-Type"] == "application/pdf"


async def test_upload_without_room_and_text_file(chat, settings):
    ann = await chat.user("Ann")
    resp = await chat.rest.post(
        "/api/uploads", data=form(b"plain notes\n", "notes.txt", "text/plain"), headers=ann.auth
    )
    assert resp.status == 201
    body = await resp.json()
    assert "message" not in body
    assert body["attachment"]["mimeType"] == "text/plain"


REFUSALS = [
    ("text named .png", b"just some text", "notes.png", "image/png", 415),
    ("PNG declared as GIF", image("PNG"), "pic.png", "image/gif", 415),
    ("SVG with a script", SVG, "pic.svg", "image/svg+xml", 415),
    ("HTML", HTML, "page.html", "text/html", 415),
    ("HTML named .txt", HTML, "page.txt", "text/plain", 415),
    ("executable", ELF, "tool", "application/octet-stream", 415),
    ("pixel bomb", png_bomb(), "bomb.png", "image/png", 413),
    ("traversal name", image("PNG"), "../../etc/passwd.png", "image/png", 400),
    ("backslash name", image("PNG"), "..\\..\\x.png", "image/png", 400),
    ("empty file", b"", "empty.txt", "text/plain", 400),
    ("broken PNG", image("PNG")[:60], "cut.png", "image/png", 415),
]


@pytest.mark.parametrize(
    ("why", "data", "name", "mime", "status"), REFUSALS, ids=[r[0] for r in REFUSALS]
)
async def test_refusals_leave_nothing_on_disk(chat, settings, why, data, name, mime, status):
    ann = await chat.user("Ann")
    room = await chat.room(ann)
    resp = await chat.rest.post(
        "/api/uploads", data=form(data, name, mime, roomId=room["id"]), headers=ann.auth
    )
    assert resp.status == status, (why, await resp.text())
    code = {400: "VALIDATION_ERROR", 413: "PAYLOAD_TOO_LARGE", 415: "UNSUPPORTED_MEDIA_TYPE"}[
        status
    ]
    assert (await resp.json())["error"]["code"] == code
    assert stored_files(settings) == []
    _, history = await chat.api("GET", f"/api/rooms/{room['id']}/messages", ann)
    assert history["messages"] == []


async def test_size_limits_one_byte_over(aiohttp_server, aiohttp_client, settings):
    changed = dataclasses.replace(settings, max_image_mb=0.05, max_file_mb=0.1)
    image_limit, file_limit = int(0.05 * 1024 * 1024), int(0.1 * 1024 * 1024)
    server = await aiohttp_server(create_app(changed))
    chat = Chat(server, await aiohttp_client(server))
    try:
        ann = await chat.user("Ann")

        async def status(data: bytes, name: str) -> int:
            return (
                await chat.rest.post("/api/uploads", data=form(data, name), headers=ann.auth)
            ).status

        assert await status(b"a" * file_limit, "at-limit.txt") == 201
        assert await status(b"a" * (file_limit + 1), "over.txt") == 413
        at_limit = _png_of_size(image_limit)
        assert await status(at_limit, "at-limit.png") == 201
        assert await status(_png_of_size(image_limit + 1), "over.png") == 413
        # A file bigger than the largest limit: reading stops there, nothing is stored.
        assert await status(b"a" * (file_limit * 3), "huge.txt") == 413
        assert len(stored_files(changed)) == 3  # the text, the image and its thumbnail
    finally:
        await chat.close()


def _png_of_size(size: int) -> bytes:
    """A valid PNG of exactly `size` bytes: a small image padded with an ancillary text chunk."""
    import struct
    import zlib

    base = image("PNG")
    end = base.rindex(b"IEND") - 4
    room = size - len(base) - 12  # a chunk is length + type + data + CRC

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    padded = base[:end] + chunk(b"tEXt", b"pad\x00" + b"x" * (room - 4)) + base[end:]
    assert len(padded) == size
    return padded


async def test_non_member_and_missing_file(chat, settings):
    ann, bob = await chat.user("Ann"), await chat.user("Bob")
    priv, pub = await chat.room(ann, "private"), await chat.room(ann, "public")
    resp = await chat.rest.post(
        "/api/uploads", data=form(image("PNG"), "p.png", roomId=priv["id"]), headers=bob.auth
    )
    assert resp.status == 404
    resp = await chat.rest.post(
        "/api/uploads", data=form(image("PNG"), "p.png", roomId=pub["id"]), headers=bob.auth
    )
    assert resp.status == 403
    no_file = aiohttp.FormData()
    no_file.add_field("roomId", pub["id"])
    no_file.add_field("text", "hi")
    resp = await chat.rest.post("/api/uploads", data=no_file, headers=ann.auth)
    assert (resp.status, (await resp.json())["error"]["code"]) == (400, "VALIDATION_ERROR")
    resp = await chat.rest.post("/api/uploads", json={"file": "x"}, headers=ann.auth)
    assert resp.status == 400
    resp = await chat.rest.post(
        "/api/uploads", data=form(image("PNG"), "p.png", isAdmin="1"), headers=ann.auth
    )
    assert resp.status == 400
    resp = await chat.rest.post("/api/uploads", data=form(image("PNG"), "p.png"))
    assert resp.status == 401
    assert stored_files(settings) == []


async def test_deleting_a_message_or_room_deletes_its_files(chat, settings):
    ann = await chat.user("Ann")
    room = await chat.room(ann)
    first = await (
        await chat.rest.post(
            "/api/uploads", data=form(image("PNG"), "a.png", roomId=room["id"]), headers=ann.auth
        )
    ).json()
    await chat.rest.post(
        "/api/uploads", data=form(PDF, "b.pdf", roomId=room["id"]), headers=ann.auth
    )
    assert len(stored_files(settings)) == 3  # the image, its thumbnail, the PDF
    assert (await chat.api("DELETE", f"/api/messages/{first['message']['id']}", ann))[0] == 204
    assert len(stored_files(settings)) == 1
    assert (await chat.rest.get(first["attachment"]["url"])).status == 404
    assert (await chat.rest.get(first["attachment"]["thumbnail"]["url"])).status == 404
    assert (await chat.api("DELETE", f"/api/rooms/{room['id']}", ann))[0] == 204
    assert stored_files(settings) == []


async def test_media_listing_and_stats(chat):
    ann, bob = await chat.user("Ann"), await chat.user("Bob")
    room = await chat.room(ann, "private")
    png, jpg = image("PNG"), image("JPEG")
    for data, name in ((png, "a.png"), (jpg, "b.jpg"), (PDF, "c.pdf")):
        resp = await chat.rest.post(
            "/api/uploads", data=form(data, name, roomId=room["id"]), headers=ann.auth
        )
        assert resp.status == 201
    await chat.api("POST", f"/api/rooms/{room['id']}/messages", ann, json={"text": "plain"})
    _, images = await chat.api("GET", f"/api/rooms/{room['id']}/media?kind=image", ann)
    assert [m["attachments"][0]["name"] for m in images["messages"]] == ["a.png", "b.jpg"]
    _, everything = await chat.api("GET", f"/api/rooms/{room['id']}/media?limit=2", ann)
    assert ([m["seq"] for m in everything["messages"]], everything["hasMore"]) == ([2, 3], True)
    _, stats = await chat.api("GET", f"/api/rooms/{room['id']}/files/stats", ann)
    assert stats == {
        "image": {"count": 2, "bytes": len(png) + len(jpg)},
        "file": {"count": 1, "bytes": len(PDF)},
        "total": {"count": 3, "bytes": len(png) + len(jpg) + len(PDF)},
    }
    assert (await chat.api("GET", f"/api/rooms/{room['id']}/media", bob))[0] == 404
    assert (await chat.api("GET", f"/api/rooms/{room['id']}/files/stats", bob))[0] == 404
    assert (await chat.api("GET", f"/api/rooms/{room['id']}/media?kind=video", ann))[0] == 400


async def test_avatar_replaces_the_old_one(chat, settings):
    ann, bob = await chat.user("Ann"), await chat.user("Bob")
    resp = await chat.rest.post(
        "/api/users/me/avatar", data=form(image("PNG"), "me.png"), headers=ann.auth
    )
    assert resp.status == 200
    first = (await resp.json())["user"]["avatarUrl"]
    assert first.startswith("/uploads/")
    resp = await chat.rest.post(
        "/api/users/me/avatar", data=form(image("JPEG"), "me.jpg"), headers=ann.auth
    )
    second = (await resp.json())["user"]["avatarUrl"]
    assert second != first
    assert stored_files(settings) == [second.removeprefix("/uploads/")]
    _, seen = await chat.api("GET", f"/api/users/{ann.id}", bob)
    assert seen["user"]["avatarUrl"] == second
    resp = await chat.rest.post("/api/users/me/avatar", data=form(PDF, "me.pdf"), headers=ann.auth)
    assert resp.status == 415


async def test_serving_refuses_odd_names(chat, settings):
    for name in ("..%2F..%2Fetc%2Fpasswd", "x.png", ".hidden", "a" * 22 + ".png"):
        resp = await chat.rest.get(f"/uploads/{name}")
        assert resp.status == 404, name
    resp = await chat.rest.get("/uploads/")
    assert resp.status == 404  # no directory listing


async def test_malformed_multipart_is_a_validation_error(chat, settings):
    """Found by schemathesis: a part header aiohttp cannot parse used to be a 500."""
    ann = await chat.user("Ann")
    boundary = "b0undary"
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="\x05bad\x16"\r\n\r\nx\r\n'
        f"--{boundary}--\r\n"
    ).encode()
    for path in ("/api/uploads", "/api/users/me/avatar"):
        resp = await chat.rest.post(
            path,
            data=body,
            headers={**ann.auth, "Content-Type": f"multipart/form-data; boundary={boundary}"},
        )
        assert resp.status == 400, await resp.text()
        assert (await resp.json())["error"]["code"] == "VALIDATION_ERROR"
    assert stored_files(settings) == []
