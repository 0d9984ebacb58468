"""REST handlers for files: uploads, avatars, serving local files, room media and file stats."""

from __future__ import annotations

import mimetypes

from aiohttp import web

from chat import schemas
from chat.api.helpers import ok
from chat.api.keys import SERVICES
from chat.api.multipart import read_form
from chat.api.replies import UploadReply, UserReply
from chat.api.route import Data, Routes
from chat.errors import NotFound
from chat.services.accounts import Principal
from chat.services.presenters.shapes import FileStats, MessagePage

routes = Routes()
files = web.RouteTableDef()  # not in the OpenAPI document: the stored files themselves

UPLOAD_FORM = {
    "type": "object",
    "required": ["file"],
    "properties": {
        "file": {"type": "string", "format": "binary"},
        "roomId": {"type": "string"},
        "text": {"type": "string", "maxLength": 4000},
        "clientId": {"type": "string", "minLength": 1, "maxLength": 100},
    },
}
AVATAR_FORM = {
    "type": "object",
    "required": ["file"],
    "properties": {"file": {"type": "string", "format": "binary"}},
}


@routes.post(
    "/api/uploads",
    "Upload a file",
    form=UPLOAD_FORM,
    reply=UploadReply,
    status=201,
    also=(200,),  # a resend of a stored clientId: the first message
)
async def upload(request: web.Request, me: Principal) -> web.Response:
    media = request.app[SERVICES].media
    form = await read_form(request, media.limits.largest, {"roomId", "text", "clientId"})
    values = schemas.load(schemas.UploadFields(), form.fields)
    attachment, message, created = await media.upload(
        me.user_id, form.data, form.filename, form.declared,
        room_id=values.get("roomId"), text=values["text"], client_id=values.get("clientId"),
    )  # fmt: skip
    body: dict[str, object] = {"attachment": attachment}
    if message is not None:
        body["message"] = message
    return ok(body, 201 if created else 200)


@routes.post("/api/users/me/avatar", "Upload your avatar", form=AVATAR_FORM, reply=UserReply)
async def avatar(request: web.Request, me: Principal) -> web.Response:
    media = request.app[SERVICES].media
    form = await read_form(request, media.limits.image_bytes)
    user = await media.set_avatar(me.user_id, form.data, form.filename, form.declared)
    return ok({"user": user})


@routes.get(
    "/api/rooms/{room_id}/media", "Messages with files", query=schemas.MediaQuery, reply=MessagePage
)
async def room_media(request: web.Request, me: Principal, q: Data) -> web.Response:
    messages, more = await request.app[SERVICES].media.media(
        me.user_id, request.match_info["room_id"], q.get("kind"), q.get("before"), q["limit"]
    )
    return ok({"messages": messages, "hasMore": more})


@routes.get("/api/rooms/{room_id}/files/stats", "File counts and bytes", reply=FileStats)
async def file_stats(request: web.Request, me: Principal) -> web.Response:
    return ok(await request.app[SERVICES].media.stats(me.user_id, request.match_info["room_id"]))


@files.get("/uploads/{name}")
async def serve_upload(request: web.Request) -> web.StreamResponse:
    q = request.query  # a missing, malformed, forged or expired signature: as if no such file
    found = await request.app[SERVICES].media.local_file(
        request.match_info["name"], q.get("exp"), q.get("sig")
    )
    if found is None or not found.path.is_file():
        raise NotFound("No such file")
    path = found.path
    mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    headers = {
        "Content-Type": mime,
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; sandbox",
        "Cache-Control": f"public, max-age={found.max_age}, immutable"
        if found.public
        else f"private, max-age={found.max_age}",
    }
    if not mime.startswith("image/"):
        headers["Content-Disposition"] = "attachment"
    return web.FileResponse(path, headers=headers)
