"""REST handlers for messages: history, changes, send, edit, delete, react, read pointer, search."""

from __future__ import annotations

from aiohttp import web

from chat import schemas
from chat.api.helpers import ok
from chat.api.keys import SERVICES
from chat.api.replies import MessagesReply, OneMessage, ReactionsReply, ReadReply
from chat.api.route import Data, Routes
from chat.services.accounts import Principal
from chat.services.presenters.shapes import ChangesPage, MessagePage

routes = Routes()


@routes.get(
    "/api/messages/search",
    "Search your rooms' messages",
    query=schemas.MessageSearchQuery,
    reply=MessagesReply,
)
async def search_messages(request: web.Request, me: Principal, q: Data) -> web.Response:
    found = await request.app[SERVICES].history.search(
        me.user_id, q["q"], q.get("roomId"), q["limit"]
    )
    return ok({"messages": found})


@routes.get(
    "/api/rooms/{room_id}/messages",
    "History by seq",
    query=schemas.HistoryQuery,
    reply=MessagePage,
)
async def history(request: web.Request, me: Principal, q: Data) -> web.Response:
    messages, more = await request.app[SERVICES].history.page(
        me.user_id,
        request.match_info["room_id"],
        before=q.get("before"),
        after=q.get("after"),
        limit=q["limit"],
    )
    return ok({"messages": messages, "hasMore": more})


@routes.get(
    "/api/rooms/{room_id}/changes",
    "Messages created or changed after a ver (catch-up)",
    query=schemas.ChangesQuery,
    reply=ChangesPage,
)
async def changes(request: web.Request, me: Principal, q: Data) -> web.Response:
    page = await request.app[SERVICES].catch_up.changes(
        me.user_id, request.match_info["room_id"], q["since"], q["limit"]
    )
    return ok(page)


@routes.post(
    "/api/rooms/{room_id}/messages",
    "Send a message",
    body=schemas.MessageBody,
    reply=OneMessage,
    status=201,
    also=(200,),  # a resend of a stored clientId: the first message
)
async def send_message(request: web.Request, me: Principal, data: Data) -> web.Response:
    message, created = await request.app[SERVICES].messages.send(
        me.user_id,
        request.match_info["room_id"],
        data["text"],
        client_id=data.get("clientId"),
        reply_to=data.get("replyTo"),
        mentions=data.get("mentions"),
        thread_id=data.get("threadId"),
    )
    return ok({"message": message}, 201 if created else 200)


@routes.patch(
    "/api/messages/{message_id}", "Edit your message", body=schemas.EditBody, reply=OneMessage
)
async def edit_message(request: web.Request, me: Principal, data: Data) -> web.Response:
    message = await request.app[SERVICES].messages.edit(
        me.user_id, request.match_info["message_id"], data["text"]
    )
    return ok({"message": message})


@routes.delete("/api/messages/{message_id}", "Delete a message", status=204)
async def delete_message(request: web.Request, me: Principal) -> web.Response:
    await request.app[SERVICES].messages.delete(me.user_id, request.match_info["message_id"])
    return web.Response(status=204)


@routes.post(
    "/api/messages/{message_id}/reactions",
    "Toggle your reaction",
    body=schemas.ReactionBody,
    reply=ReactionsReply,
)
async def react(request: web.Request, me: Principal, data: Data) -> web.Response:
    reactions = await request.app[SERVICES].messages.react(
        me.user_id, request.match_info["message_id"], data["emoji"]
    )
    return ok({"reactions": reactions})


@routes.post(
    "/api/rooms/{room_id}/read", "Move your read pointer", body=schemas.ReadBody, reply=ReadReply
)
async def mark_read(request: web.Request, me: Principal, data: Data) -> web.Response:
    seq = await request.app[SERVICES].receipts.mark_read(
        me.user_id, request.match_info["room_id"], data["seq"]
    )
    return ok({"lastReadSeq": seq})
