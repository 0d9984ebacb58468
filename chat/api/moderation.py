"""REST handlers for safety and moderation: blocking users, room bans and mutes, reporting a
message. (The server admin's endpoints are in chat/api/admin.py.)"""

from __future__ import annotations

from aiohttp import web

from chat.api.helpers import ok
from chat.api.keys import SERVICES
from chat.api.replies import UsersReply
from chat.api.route import Data, Routes
from chat.schemas import Strict
from chat.schemas.moderation import BanBody, MuteBody, ReportBody
from chat.services.accounts import Principal
from chat.services.presenters.moderation import (
    BanReply,
    BansReply,
    MuteReply,
    MutesReply,
    ReportReply,
)

routes = Routes()
NO_CONTENT = 204


def _no_content() -> web.Response:
    return web.Response(status=NO_CONTENT)


@routes.get("/api/users/blocked", "The users you block", reply=UsersReply)
async def blocked(request: web.Request, me: Principal) -> web.Response:
    return ok({"users": await request.app[SERVICES].blocks.blocked(me.user_id)})


@routes.post("/api/users/{user_id}/block", "Block a user", body=Strict, status=NO_CONTENT)
async def block(request: web.Request, me: Principal, _: Data) -> web.Response:
    await request.app[SERVICES].blocks.block(me.user_id, request.match_info["user_id"])
    return _no_content()


@routes.delete("/api/users/{user_id}/block", "Unblock a user", status=NO_CONTENT)
async def unblock(request: web.Request, me: Principal) -> web.Response:
    await request.app[SERVICES].blocks.unblock(me.user_id, request.match_info["user_id"])
    return _no_content()


@routes.post(
    "/api/rooms/{room_id}/bans", "Ban a user from a room", body=BanBody, reply=BanReply, status=201
)
async def ban(request: web.Request, me: Principal, data: Data) -> web.Response:
    room_id = request.match_info["room_id"]
    found = await request.app[SERVICES].moderation.ban(
        me.user_id, room_id, data["userId"], data.get("reason")
    )
    return ok({"ban": found}, 201)


@routes.get("/api/rooms/{room_id}/bans", "A room's bans", reply=BansReply)
async def bans(request: web.Request, me: Principal) -> web.Response:
    moderation = request.app[SERVICES].moderation
    return ok({"bans": await moderation.bans(me.user_id, request.match_info["room_id"])})


@routes.delete("/api/rooms/{room_id}/bans/{user_id}", "Lift a ban", status=NO_CONTENT)
async def unban(request: web.Request, me: Principal) -> web.Response:
    await request.app[SERVICES].moderation.unban(
        me.user_id, request.match_info["room_id"], request.match_info["user_id"]
    )
    return _no_content()


@routes.post(
    "/api/rooms/{room_id}/mutes", "Mute a member", body=MuteBody, reply=MuteReply, status=201
)
async def mute(request: web.Request, me: Principal, data: Data) -> web.Response:
    found = await request.app[SERVICES].moderation.mute(
        me.user_id, request.match_info["room_id"], data["userId"], data.get("minutes")
    )
    return ok({"mute": found}, 201)


@routes.get("/api/rooms/{room_id}/mutes", "A room's mutes in force", reply=MutesReply)
async def mutes(request: web.Request, me: Principal) -> web.Response:
    moderation = request.app[SERVICES].moderation
    return ok({"mutes": await moderation.mutes(me.user_id, request.match_info["room_id"])})


@routes.delete("/api/rooms/{room_id}/mutes/{user_id}", "Lift a mute", status=NO_CONTENT)
async def unmute(request: web.Request, me: Principal) -> web.Response:
    await request.app[SERVICES].moderation.unmute(
        me.user_id, request.match_info["room_id"], request.match_info["user_id"]
    )
    return _no_content()


@routes.post(
    "/api/messages/{message_id}/report",
    "Report a message to the server admins",
    body=ReportBody,
    reply=ReportReply,
    status=201,
)
async def report(request: web.Request, me: Principal, data: Data) -> web.Response:
    found = await request.app[SERVICES].reports.report(
        me.user_id, request.match_info["message_id"], data["reason"]
    )
    return ok({"report": found}, 201)
