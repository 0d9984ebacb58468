"""The Cloudinary backend through the official SDK, against a stand-in that checks signatures."""

from __future__ import annotations

import dataclasses
import io

from PIL import Image

from chat.app import create_app
from tests.cloudinary_standin import StandIn
from tests.media_files import PDF, form, image
from tests.realtime import Chat

MP4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00\x00\x00\x08free" + b"\x00" * 64


async def _chat_with(
    aiohttp_server, aiohttp_client, settings, standin: StandIn, secret: str
) -> Chat:
    cloud = await aiohttp_server(standin.app())
    url = f"cloudinary://{standin.api_key}:{secret}@{standin.cloud}?upload_prefix=http://127.0.0.1:{cloud.port}"
    server = await aiohttp_server(create_app(dataclasses.replace(settings, cloudinary_url=url)))
    return Chat(server, await aiohttp_client(server))


async def test_uploads_go_to_cloudinary_signed_and_are_destroyed(
    aiohttp_server, aiohttp_client, settings
):
    standin = StandIn()
    chat = await _chat_with(aiohttp_server, aiohttp_client, settings, standin, standin.api_secret)
    try:
        ann = await chat.user("Ann")
        room = await chat.room(ann)
        png = image("PNG")
        sent = {}
        for data, name, expected_type in (
            (png, "a.png", "image"),
            (PDF, "b.pdf", "raw"),
            (MP4, "c.mp4", "video"),
        ):
            resp = await chat.rest.post(
                "/api/uploads", data=form(data, name, roomId=room["id"]), headers=ann.auth
            )
            assert resp.status == 201, await resp.text()
            body = await resp.json()
            url = body["attachment"]["url"]
            assert url.startswith(
                f"https://res.cloudinary.com/{standin.cloud}/{expected_type}/upload/"
            )
            [public_id] = [pid for pid in standin.assets if pid in url]
            assert public_id.startswith("chat/") and name not in public_id  # the server chose it
            assert standin.assets[public_id].data == data
            assert standin.assets[public_id].resource_type == expected_type
            sent[name] = (body["message"]["id"], public_id)
            if expected_type == "image":  # its thumbnail: an image upload of its own, a WebP
                thumbnail = body["attachment"]["thumbnail"]
                assert thumbnail["url"].startswith(
                    f"https://res.cloudinary.com/{standin.cloud}/image/upload/"
                )
                assert thumbnail["url"].endswith(".webp")
                [thumb_id] = [pid for pid in standin.assets if pid in thumbnail["url"]]
                assert thumb_id.startswith("chat/") and thumb_id != public_id
                assert standin.assets[thumb_id].resource_type == "image"
                assert Image.open(io.BytesIO(standin.assets[thumb_id].data)).format == "WEBP"
                assert (thumbnail["width"], thumbnail["height"]) == (32, 24)
            else:
                assert "thumbnail" not in body["attachment"]
        assert standin.refused == []
        assert not settings.uploads_path.exists() or list(settings.uploads_path.iterdir()) == []

        message_id, public_id = sent["a.png"]
        assert (await chat.api("DELETE", f"/api/messages/{message_id}", ann))[0] == 204
        assert standin.destroyed == [public_id, thumb_id]  # the thumbnail goes with the image
        assert (await chat.api("DELETE", f"/api/rooms/{room['id']}", ann))[0] == 204
        assert sorted(standin.destroyed[2:]) == sorted([sent["b.pdf"][1], sent["c.mp4"][1]])
        assert standin.assets == {}

        resp = await chat.rest.post(
            "/api/users/me/avatar", data=form(png, "me.png"), headers=ann.auth
        )
        assert (await resp.json())["user"]["avatarUrl"].startswith("https://res.cloudinary.com/")
    finally:
        await chat.close()


async def test_a_wrong_secret_is_refused_and_nothing_is_stored(
    aiohttp_server, aiohttp_client, settings
):
    standin = StandIn()
    chat = await _chat_with(aiohttp_server, aiohttp_client, settings, standin, "not-the-secret")
    try:
        ann = await chat.user("Ann")
        room = await chat.room(ann)
        resp = await chat.rest.post(
            "/api/uploads", data=form(image("PNG"), "a.png", roomId=room["id"]), headers=ann.auth
        )
        assert resp.status == 503
        assert (await resp.json())["error"]["code"] == "UNAVAILABLE"
        assert standin.assets == {}
        assert standin.refused and standin.refused[0].startswith("Invalid Signature")
        _, history = await chat.api("GET", f"/api/rooms/{room['id']}/messages", ann)
        assert history["messages"] == []
    finally:
        await chat.close()
