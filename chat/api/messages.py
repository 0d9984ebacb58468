"""REST handlers for messages: history, changes, send, edit, delete, react, read pointer, search."""

from __future__ import annotations

from aiohttp import web

from chat import schemas
from chat.api.helpers import body, ok, principal, query
from chat.api.keys import SERVICES

routes = web.RouteTableDef()


@routes.get("/api/messages/search")
async def search_messages(request: web.Request) -> web.Response:
    me = await principal(request)
    q = query(request, schemas.MessageSearchQuery())
    found = await request.app[SERVICES].messages.search(
        me.user_id, q["q"], q.get("roomId"), q["limit"]
    )
    return ok({"messages": found})


@routes.get("/api/rooms/{room_id}/messages")
async def history(request: web.Request) -> web.Response:
    me = await principal(request)
    q = query(request, schemas.HistoryQuery())
    messages, more = await request.app[SERVICES].messages.history(
        me.user_id,
        request.match_info["room_id"],
        before=q.get("before"),
        after=q.get("after"),
        limit=q["limit"],
    )
    return ok({"messages": messages, "hasMore": more})


@routes.get("/api/rooms/{room_id}/changes")
async def changes(request: web.Request) -> web.Response:
    me = await principal(request)
    q = query(request, schemas.ChangesQuery())
    page = await request.app[SERVICES].catch_up.changes(
        me.user_id, request.match_info["room_id"], q["since"], q["limit"]
    )
    return ok(page)


@routes.post("/api/rooms/{room_id}/messages")
async def send_message(request: web.Request) -> web.Response:
    me = await principal(request)
    data = await body(request, schemas.MessageBody())
    message, created = await request.app[SERVICES].messages.send(
        me.user_id,
        request.match_info["room_id"],
        data["text"],
        client_id=data.get("clientId"),
        reply_to=data.get("replyTo"),
    )
    return ok({"message": message}, 201 if created else 200)


@routes.patch("/api/messages/{message_id}")
async def edit_message(request: web.Request) -> web.Response:
    me = await principal(request)
    data = await body(request, schemas.EditBody())
    message = await request.app[SERVICES].messages.edit(
        me.user_id, request.match_info["message_id"], data["text"]
    )
    return ok({"message": message})


@routes.delete("/api/messages/{message_id}")
async def delete_message(request: web.Request) -> web.Response:
    me = await principal(request)
    await request.app[SERVICES].messages.delete(me.user_id, request.match_info["message_id"])
    return web.Response(status=204)


@routes.post("/api/messages/{message_id}/reactions")
async def react(request: web.Request) -> web.Response:
    me = await principal(request)
    data = await body(request, schemas.ReactionBody())
    reactions = await request.app[SERVICES].messages.react(
        me.user_id, request.match_info["message_id"], data["emoji"]
    )
    return ok({"reactions": reactions})


@routes.post("/api/rooms/{room_id}/read")
async def mark_read(request: web.Request) -> web.Response:
    me = await principal(request)
    data = await body(request, schemas.ReadBody())
    seq = await request.app[SERVICES].messages.mark(
        me.user_id, request.match_info["room_id"], data["seq"], "lastReadSeq"
    )
    return ok({"lastReadSeq": seq})
