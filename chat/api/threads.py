"""REST handlers for threads, pins and mentions (CONTRACT.md "Mentions, threads and pins")."""

from __future__ import annotations

from aiohttp import web

from chat import schemas
from chat.api.helpers import ok
from chat.api.keys import SERVICES
from chat.api.replies import MessagesReply, OneMessage
from chat.api.route import Data, Routes
from chat.services.accounts import Principal
from chat.services.presenters.shapes import MessagePage, ThreadPage

routes = Routes()


@routes.get(
    "/api/mentions",
    "Messages that mention you, newest first",
    query=schemas.MentionsQuery,
    reply=MessagePage,
)
async def mentions(request: web.Request, me: Principal, q: Data) -> web.Response:
    page = await request.app[SERVICES].mentions.of_user(me.user_id, q.get("before"), q["limit"])
    return ok(page)


@routes.get(
    "/api/messages/{message_id}/thread",
    "A thread: its root and replies by seq",
    query=schemas.ThreadQuery,
    reply=ThreadPage,
)
async def thread(request: web.Request, me: Principal, q: Data) -> web.Response:
    page = await request.app[SERVICES].threads.page(
        me.user_id, request.match_info["message_id"], q["after"], q["limit"]
    )
    return ok(page)


@routes.post("/api/messages/{message_id}/pin", "Pin a message (owner, admin)", reply=OneMessage)
async def pin(request: web.Request, me: Principal) -> web.Response:
    message = await request.app[SERVICES].pins.pin(me.user_id, request.match_info["message_id"])
    return ok({"message": message})


@routes.delete("/api/messages/{message_id}/pin", "Unpin a message (owner, admin)", reply=OneMessage)
async def unpin(request: web.Request, me: Principal) -> web.Response:
    message = await request.app[SERVICES].pins.unpin(me.user_id, request.match_info["message_id"])
    return ok({"message": message})


@routes.get(
    "/api/rooms/{room_id}/pins", "A room's pinned messages, newest pin first", reply=MessagesReply
)
async def pins(request: web.Request, me: Principal) -> web.Response:
    pinned = await request.app[SERVICES].pins.of_room(me.user_id, request.match_info["room_id"])
    return ok({"messages": pinned})
