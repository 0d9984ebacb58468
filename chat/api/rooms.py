"""REST handlers for /api/rooms: rooms, membership, roles, invite codes, direct rooms."""

from __future__ import annotations

from aiohttp import web

from chat import schemas
from chat.api.helpers import body, ok, principal, query
from chat.api.keys import SERVICES

routes = web.RouteTableDef()


@routes.post("/api/rooms")
async def create_room(request: web.Request) -> web.Response:
    me = await principal(request)
    data = await body(request, schemas.RoomCreateBody())
    room = await request.app[SERVICES].rooms.create(
        me.user_id, data["name"], data["description"], data["type"]
    )
    return ok({"room": room}, 201)


@routes.get("/api/rooms")
async def list_rooms(request: web.Request) -> web.Response:
    await principal(request)
    q = query(request, schemas.RoomListQuery())
    rooms, total = await request.app[SERVICES].rooms.list_public(q["q"], q["skip"], q["limit"])
    return ok({"rooms": rooms, "total": total})


@routes.get("/api/rooms/mine")
async def my_rooms(request: web.Request) -> web.Response:
    me = await principal(request)
    return ok({"rooms": await request.app[SERVICES].rooms.mine(me.user_id)})


@routes.post("/api/rooms/join")
async def join_by_invite(request: web.Request) -> web.Response:
    me = await principal(request)
    data = await body(request, schemas.InviteBody())
    return ok(
        {"room": await request.app[SERVICES].rooms.join_by_invite(me.user_id, data["inviteCode"])}
    )


@routes.post("/api/rooms/direct")
async def direct_room(request: web.Request) -> web.Response:
    me = await principal(request)
    data = await body(request, schemas.DirectBody())
    return ok({"room": await request.app[SERVICES].rooms.direct(me.user_id, data["userId"])})


@routes.get("/api/rooms/{room_id}")
async def get_room(request: web.Request) -> web.Response:
    me = await principal(request)
    return ok(
        {"room": await request.app[SERVICES].rooms.get(me.user_id, request.match_info["room_id"])}
    )


@routes.patch("/api/rooms/{room_id}")
async def update_room(request: web.Request) -> web.Response:
    me = await principal(request)
    data = await body(request, schemas.RoomUpdateBody())
    room = await request.app[SERVICES].rooms.update(me.user_id, request.match_info["room_id"], data)
    return ok({"room": room})


@routes.delete("/api/rooms/{room_id}")
async def delete_room(request: web.Request) -> web.Response:
    me = await principal(request)
    await request.app[SERVICES].rooms.delete(me.user_id, request.match_info["room_id"])
    return web.Response(status=204)


@routes.post("/api/rooms/{room_id}/join")
async def join_room(request: web.Request) -> web.Response:
    me = await principal(request)
    await body(request, schemas.Strict())
    return ok(
        {"room": await request.app[SERVICES].rooms.join(me.user_id, request.match_info["room_id"])}
    )


@routes.post("/api/rooms/{room_id}/leave")
async def leave_room(request: web.Request) -> web.Response:
    me = await principal(request)
    await request.app[SERVICES].rooms.leave(me.user_id, request.match_info["room_id"])
    return web.Response(status=204)


@routes.get("/api/rooms/{room_id}/members")
async def room_members(request: web.Request) -> web.Response:
    me = await principal(request)
    members = await request.app[SERVICES].rooms.members(me.user_id, request.match_info["room_id"])
    return ok({"members": members})


@routes.post("/api/rooms/{room_id}/invite-code")
async def new_invite_code(request: web.Request) -> web.Response:
    me = await principal(request)
    code = await request.app[SERVICES].rooms.new_invite_code(
        me.user_id, request.match_info["room_id"]
    )
    return ok({"inviteCode": code})


@routes.patch("/api/rooms/{room_id}/members/{user_id}")
async def set_role(request: web.Request) -> web.Response:
    me = await principal(request)
    data = await body(request, schemas.RoleBody())
    result = await request.app[SERVICES].rooms.set_role(
        me.user_id, request.match_info["room_id"], request.match_info["user_id"], data["role"]
    )
    return ok(result)


@routes.delete("/api/rooms/{room_id}/members/{user_id}")
async def kick_member(request: web.Request) -> web.Response:
    me = await principal(request)
    await request.app[SERVICES].rooms.kick(
        me.user_id, request.match_info["room_id"], request.match_info["user_id"]
    )
    return web.Response(status=204)
