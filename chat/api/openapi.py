"""The OpenAPI 3 description of the REST API, built by apispec from the marshmallow schemas.

Request bodies and query strings use the very schemas the handlers validate with (chat.schemas);
responses use the output schemas below, which describe what chat.services.views produces.
Served at GET /api/openapi.json; tests/test_openapi.py checks every route is described and runs
schemathesis against it.
"""

from __future__ import annotations

import functools
from typing import Any

from aiohttp import web
from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from marshmallow import Schema, fields

from chat import __version__, schemas

routes = web.RouteTableDef()

S, I, B = fields.String, fields.Integer, fields.Boolean  # noqa: E741 - short column names


class ErrorBody(Schema):
    code = S(required=True)
    message = S(required=True)
    details = fields.Dict()


class ErrorOut(Schema):
    error = fields.Nested(ErrorBody, required=True)


class UserOut(Schema):
    id = S(required=True)
    name = S(required=True)
    avatarUrl = S(required=True, allow_none=True)  # noqa: N815 - wire names are camelCase
    bio = S(required=True)
    status = S(required=True)
    online = B(required=True)
    lastSeen = S(required=True, allow_none=True)  # noqa: N815
    createdAt = S(required=True)  # noqa: N815
    email = S()


class ThumbnailOut(Schema):
    url = S(required=True)
    width = I(required=True)
    height = I(required=True)


class AttachmentOut(Schema):
    url = S(required=True)
    name = S(required=True)
    mimeType = S(required=True)  # noqa: N815
    size = I(required=True)
    width = I()
    height = I()
    thumbnail = fields.Nested(ThumbnailOut)  # images: the first frame, at most 1280 px a side


class ReactionOut(Schema):
    emoji = S(required=True)
    count = I(required=True)
    userIds = fields.List(S(), required=True)  # noqa: N815


class SenderOut(Schema):
    id = S(required=True)
    name = S(required=True)
    avatarUrl = S(required=True, allow_none=True)  # noqa: N815


class MessageOut(Schema):
    id = S(required=True)
    roomId = S(required=True)  # noqa: N815
    seq = I(required=True)
    ver = I(required=True)
    sender = fields.Nested(SenderOut, required=True)
    type = S(required=True)
    text = S(required=True)
    attachments = fields.List(fields.Nested(AttachmentOut), required=True)
    replyTo = S(required=True, allow_none=True)  # noqa: N815
    reactions = fields.List(fields.Nested(ReactionOut), required=True)
    clientId = S(required=True, allow_none=True)  # noqa: N815
    createdAt = S(required=True)  # noqa: N815
    editedAt = S(required=True, allow_none=True)  # noqa: N815
    deletedAt = S(required=True, allow_none=True)  # noqa: N815


class LastMessageOut(Schema):
    id = S(required=True)
    seq = I(required=True)
    type = S(required=True)
    text = S(required=True)
    senderId = S(required=True)  # noqa: N815
    senderName = S(required=True, allow_none=True)  # noqa: N815
    createdAt = S(required=True)  # noqa: N815
    deleted = B(required=True)


class RoomOut(Schema):
    id = S(required=True)
    type = S(required=True)
    name = S(required=True)
    description = S(required=True)
    ownerId = S(required=True, allow_none=True)  # noqa: N815
    memberCount = I(required=True)  # noqa: N815
    lastSeq = I(required=True)  # noqa: N815
    lastVer = I(required=True)  # noqa: N815
    lastMessage = fields.Nested(LastMessageOut, required=True, allow_none=True)  # noqa: N815
    createdAt = S(required=True)  # noqa: N815
    updatedAt = S(required=True)  # noqa: N815
    myRole = S()  # noqa: N815
    lastReadSeq = I()  # noqa: N815
    unreadCount = I()  # noqa: N815
    inviteCode = S(allow_none=True)  # noqa: N815
    peer = fields.Nested(UserOut, allow_none=True)


class MemberOut(Schema):
    user = fields.Nested(UserOut, required=True)
    role = S(required=True)
    joinedAt = S(required=True)  # noqa: N815
    lastReadSeq = I(required=True)  # noqa: N815


class CountBytes(Schema):
    count = I(required=True)
    bytes = I(required=True)


def _out(name: str, **shape: fields.Field) -> type[Schema]:
    return Schema.from_dict(shape, name=name)


USER = _out("UserReply", user=fields.Nested(UserOut, required=True))
SIGNED_IN = _out("SignedIn", user=fields.Nested(UserOut, required=True), token=S(required=True))
TOKEN = _out("TokenReply", token=S(required=True))
MESSAGE_TEXT = _out("MessageReply", message=S(required=True))
USERS = _out("UsersReply", users=fields.List(fields.Nested(UserOut), required=True))
USERS_PAGE = _out(
    "UsersPage", users=fields.List(fields.Nested(UserOut), required=True), total=I(required=True)
)
ROOM = _out("RoomReply", room=fields.Nested(RoomOut, required=True))
ROOMS = _out("RoomsReply", rooms=fields.List(fields.Nested(RoomOut), required=True))
ROOMS_PAGE = _out(
    "RoomsPage", rooms=fields.List(fields.Nested(RoomOut), required=True), total=I(required=True)
)
MEMBERS = _out("MembersReply", members=fields.List(fields.Nested(MemberOut), required=True))
INVITE = _out("InviteReply", inviteCode=S(required=True))
ROLE = _out("RoleReply", userId=S(required=True), role=S(required=True))
ONE_MESSAGE = _out("OneMessage", message=fields.Nested(MessageOut, required=True))
MESSAGES = _out("MessagesReply", messages=fields.List(fields.Nested(MessageOut), required=True))
MESSAGE_PAGE = _out(
    "MessagePage",
    messages=fields.List(fields.Nested(MessageOut), required=True),
    hasMore=B(required=True),
)
CHANGES = _out(
    "ChangesPage",
    messages=fields.List(fields.Nested(MessageOut), required=True),
    ver=I(required=True),
    hasMore=B(required=True),
)
REACTIONS = _out("ReactionsReply", reactions=fields.List(fields.Nested(ReactionOut), required=True))
READ = _out("ReadReply", lastReadSeq=I(required=True))
UPLOAD = _out(
    "UploadReply",
    attachment=fields.Nested(AttachmentOut, required=True),
    message=fields.Nested(MessageOut),
)
STATS = _out(
    "FileStats",
    image=fields.Nested(CountBytes, required=True),
    file=fields.Nested(CountBytes, required=True),
    total=fields.Nested(CountBytes, required=True),
)
HEALTH = _out("Health", status=S(required=True), database=S(required=True), uptime=fields.Float(required=True),
              version=S(required=True), timestamp=S(required=True),
              environment=S(required=True))  # fmt: skip
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

PUBLIC = frozenset(
    {"/api/auth/register", "/api/auth/login", "/health", "/api/health", "/api/openapi.json"}
)

# (method, path, summary, request body, query schema, success status, success schema)
OPERATIONS: list[tuple[str, str, str, Any, Any, int, Any]] = [
    ("get", "/health", "Health: is MongoDB reachable", None, None, 200, HEALTH),
    ("get", "/api/health", "Health (under /api)", None, None, 200, HEALTH),
    ("post", "/api/auth/register", "Create an account", schemas.RegisterBody, None, 201, SIGNED_IN),
    ("post", "/api/auth/login", "Sign in", schemas.LoginBody, None, 200, SIGNED_IN),
    ("post", "/api/auth/logout", "Sign out: revoke this session", None, None, 200, MESSAGE_TEXT),
    ("get", "/api/auth/me", "Your own user", None, None, 200, USER),
    ("post", "/api/auth/refresh", "A fresh expiry for this session", None, None, 200, TOKEN),
    ("put", "/api/auth/password", "Change password; revokes other sessions", schemas.PasswordBody, None, 200, MESSAGE_TEXT),
    ("get", "/api/users", "Everyone but you", None, schemas.PageQuery, 200, USERS_PAGE),
    ("get", "/api/users/search", "Users by name or email prefix", None, schemas.UserSearchQuery, 200, USERS),
    ("get", "/api/users/online", "Users online now", None, None, 200, USERS),
    ("get", "/api/users/me", "Your own user (with email)", None, None, 200, USER),
    ("patch", "/api/users/me", "Change your profile", schemas.ProfileBody, None, 200, USER),
    ("post", "/api/users/me/avatar", "Upload your avatar", AVATAR_FORM, None, 200, USER),
    ("get", "/api/users/{user_id}", "A user", None, None, 200, USER),
    ("post", "/api/rooms", "Create a room", schemas.RoomCreateBody, None, 201, ROOM),
    ("get", "/api/rooms", "Public rooms", None, schemas.RoomListQuery, 200, ROOMS_PAGE),
    ("get", "/api/rooms/mine", "Your rooms, with unread counts", None, None, 200, ROOMS),
    ("post", "/api/rooms/join", "Join a private room by invite code", schemas.InviteBody, None, 200, ROOM),
    ("post", "/api/rooms/direct", "The direct room with a user", schemas.DirectBody, None, 200, ROOM),
    ("get", "/api/rooms/{room_id}", "A room", None, None, 200, ROOM),
    ("patch", "/api/rooms/{room_id}", "Change a room", schemas.RoomUpdateBody, None, 200, ROOM),
    ("delete", "/api/rooms/{room_id}", "Delete a room", None, None, 204, None),
    ("post", "/api/rooms/{room_id}/join", "Join a public room", schemas.Strict, None, 200, ROOM),
    ("post", "/api/rooms/{room_id}/leave", "Leave a room", None, None, 204, None),
    ("get", "/api/rooms/{room_id}/members", "A room's members", None, None, 200, MEMBERS),
    ("post", "/api/rooms/{room_id}/invite-code", "A new invite code", None, None, 200, INVITE),
    ("patch", "/api/rooms/{room_id}/members/{user_id}", "Change a member's role", schemas.RoleBody, None, 200, ROLE),
    ("delete", "/api/rooms/{room_id}/members/{user_id}", "Remove a member", None, None, 204, None),
    ("get", "/api/rooms/{room_id}/messages", "History by seq", None, schemas.HistoryQuery, 200, MESSAGE_PAGE),
    ("get", "/api/rooms/{room_id}/changes", "Messages created or changed after a ver (catch-up)", None, schemas.ChangesQuery, 200, CHANGES),
    ("post", "/api/rooms/{room_id}/messages", "Send a message", schemas.MessageBody, None, 201, ONE_MESSAGE),
    ("post", "/api/rooms/{room_id}/read", "Move your read pointer", schemas.ReadBody, None, 200, READ),
    ("get", "/api/rooms/{room_id}/media", "Messages with files", None, schemas.MediaQuery, 200, MESSAGE_PAGE),
    ("get", "/api/rooms/{room_id}/files/stats", "File counts and bytes", None, None, 200, STATS),
    ("patch", "/api/messages/{message_id}", "Edit your message", schemas.EditBody, None, 200, ONE_MESSAGE),
    ("delete", "/api/messages/{message_id}", "Delete a message", None, None, 204, None),
    ("post", "/api/messages/{message_id}/reactions", "Toggle your reaction", schemas.ReactionBody, None, 200, REACTIONS),
    ("get", "/api/messages/search", "Search your rooms' messages", None, schemas.MessageSearchQuery, 200, MESSAGES),
    ("post", "/api/uploads", "Upload a file", UPLOAD_FORM, None, 201, UPLOAD),
]  # fmt: skip


def _operation(
    path: str, summary: str, body: Any, query: Any, status: int, reply: Any
) -> dict[str, Any]:
    op: dict[str, Any] = {"summary": summary, "responses": {}}
    params: list[dict[str, Any]] = [
        {"in": "path", "name": name, "required": True, "schema": {"type": "string"}}
        for name in (part[1:-1] for part in path.split("/") if part.startswith("{"))
    ]
    if query is not None:
        params.append({"in": "query", "schema": query})
    if params:
        op["parameters"] = params
    if isinstance(body, dict):
        op["requestBody"] = {"required": True, "content": {"multipart/form-data": {"schema": body}}}
    elif body is not None:
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
    success: dict[str, Any] = {"description": "Success"}
    if reply is not None:
        success["content"] = {"application/json": {"schema": reply}}
    op["responses"][str(status)] = success
    if path == "/api/rooms/{room_id}/messages" or path == "/api/uploads":
        # A resend of a stored clientId answers 200 with the first message.
        op["responses"]["200"] = success
    op["responses"]["default"] = {
        "description": "An error, with the contract's code",
        "content": {"application/json": {"schema": ErrorOut}},
    }
    if path not in PUBLIC:
        op["security"] = [{"bearer": []}, {"cookie": []}]
    return op


def build_spec() -> dict[str, Any]:
    spec = APISpec(
        title="chat",
        version=__version__,
        openapi_version="3.0.3",
        plugins=[MarshmallowPlugin()],
        info={
            "description": "The REST half of the chat server. The Socket.IO half is in docs/API.md."
        },
    )
    spec.components.security_scheme(
        "bearer", {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
    )
    spec.components.security_scheme("cookie", {"type": "apiKey", "in": "cookie", "name": "token"})
    by_path: dict[str, dict[str, Any]] = {}
    for method, path, *rest in OPERATIONS:
        by_path.setdefault(path, {})[method] = _operation(path, *rest)
    for path, operations in by_path.items():
        spec.path(path=path, operations=operations)
    return spec.to_dict()


@routes.get("/api/openapi.json")
async def openapi(request: web.Request) -> web.Response:
    return web.json_response(_cached_spec())


@functools.cache
def _cached_spec() -> dict[str, Any]:
    return build_spec()
