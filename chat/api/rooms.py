"""REST handlers for /api/rooms: rooms, membership, roles, invite codes, direct rooms."""

from __future__ import annotations

from aiohttp import web

from chat import schemas
from chat.api.helpers import ok
from chat.api.keys import SERVICES
from chat.api.replies import InviteReply, MembersReply, RoomReply, RoomsPage, RoomsReply
from chat.api.route import Data, Routes
from chat.services.accounts import Principal
from chat.services.presenters.shapes import RoleChange

routes = Routes()


@routes.post(
    "/api/rooms", "Create a room", body=schemas.RoomCreateBody, reply=RoomReply, status=201
)
async def create_room(request: web.Request, me: Principal, data: Data) -> web.Response:
    room = await request.app[SERVICES].rooms.create(
        me.user_id, data["name"], data["description"], data["type"]
    )
    return ok({"room": room}, 201)


@routes.get("/api/rooms", "Public rooms", query=schemas.RoomListQuery, reply=RoomsPage)
async def list_rooms(request: web.Request, me: Principal, q: Data) -> web.Response:
    rooms, total = await request.app[SERVICES].rooms.list_public(
        me.user_id, q["q"], q["skip"], q["limit"]
    )
    return ok({"rooms": rooms, "total": total})


@routes.get("/api/rooms/mine", "Your rooms, with unread counts", reply=RoomsReply)
async def my_rooms(request: web.Request, me: Principal) -> web.Response:
    return ok({"rooms": await request.app[SERVICES].rooms.mine(me.user_id)})


@routes.post(
    "/api/rooms/join",
    "Join a private room by invite code",
    body=schemas.InviteBody,
    reply=RoomReply,
)
async def join_by_invite(request: web.Request, me: Principal, data: Data) -> web.Response:
    return ok(
        {"room": await request.app[SERVICES].rooms.join_by_invite(me.user_id, data["inviteCode"])}
    )


@routes.post(
    "/api/rooms/direct", "The direct room with a user", body=schemas.DirectBody, reply=RoomReply
)
async def direct_room(request: web.Request, me: Principal, data: Data) -> web.Response:
    return ok({"room": await request.app[SERVICES].rooms.direct(me.user_id, data["userId"])})


@routes.get("/api/rooms/{room_id}", "A room", reply=RoomReply)
async def get_room(request: web.Request, me: Principal) -> web.Response:
    return ok(
        {"room": await request.app[SERVICES].rooms.get(me.user_id, request.match_info["room_id"])}
    )


@routes.patch("/api/rooms/{room_id}", "Change a room", body=schemas.RoomUpdateBody, reply=RoomReply)
async def update_room(request: web.Request, me: Principal, data: Data) -> web.Response:
    room = await request.app[SERVICES].rooms.update(me.user_id, request.match_info["room_id"], data)
    return ok({"room": room})


@routes.patch(
    "/api/rooms/{room_id}/notifications",
    "Your notification level for a room",
    body=schemas.NotificationsBody,
    reply=RoomReply,
)
async def set_notifications(request: web.Request, me: Principal, data: Data) -> web.Response:
    room = await request.app[SERVICES].rooms.set_notifications(
        me.user_id, request.match_info["room_id"], data["level"]
    )
    return ok({"room": room})


@routes.delete("/api/rooms/{room_id}", "Delete a room", status=204)
async def delete_room(request: web.Request, me: Principal) -> web.Response:
    await request.app[SERVICES].rooms.delete(me.user_id, request.match_info["room_id"])
    return web.Response(status=204)


@routes.post(
    "/api/rooms/{room_id}/join", "Join a public room", body=schemas.Strict, reply=RoomReply
)
async def join_room(request: web.Request, me: Principal, _: Data) -> web.Response:
    return ok(
        {"room": await request.app[SERVICES].rooms.join(me.user_id, request.match_info["room_id"])}
    )


@routes.post("/api/rooms/{room_id}/leave", "Leave a room", status=204)
async def leave_room(request: web.Request, me: Principal) -> web.Response:
    await request.app[SERVICES].rooms.leave(me.user_id, request.match_info["room_id"])
    return web.Response(status=204)


@routes.get("/api/rooms/{room_id}/members", "A room's members", reply=MembersReply)
async def room_members(request: web.Request, me: Principal) -> web.Response:
    members = await request.app[SERVICES].rooms.members(me.user_id, request.match_info["room_id"])
    return ok({"members": members})


@routes.post("/api/rooms/{room_id}/invite-code", "A new invite code", reply=InviteReply)
async def new_invite_code(request: web.Request, me: Principal) -> web.Response:
    code = await request.app[SERVICES].rooms.new_invite_code(
        me.user_id, request.match_info["room_id"]
    )
    return ok({"inviteCode": code})


@routes.patch(
    "/api/rooms/{room_id}/members/{user_id}",
    "Change a member's role",
    body=schemas.RoleBody,
    reply=RoleChange,
)
async def set_role(request: web.Request, me: Principal, data: Data) -> web.Response:
    result = await request.app[SERVICES].rooms.set_role(
        me.user_id, request.match_info["room_id"], request.match_info["user_id"], data["role"]
    )
    return ok(result)


@routes.delete("/api/rooms/{room_id}/members/{user_id}", "Remove a member", status=204)
async def kick_member(request: web.Request, me: Principal) -> web.Response:
    await request.app[SERVICES].rooms.kick(
        me.user_id, request.match_info["room_id"], request.match_info["user_id"]
    )
    return web.Response(status=204)
