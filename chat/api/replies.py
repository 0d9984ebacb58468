"""The REST replies' envelopes around the wire shapes (chat.services.presenters.shapes), as the
route declarations name them; the OpenAPI document is built from these TypedDicts.

No `from __future__ import annotations`: see shapes.py.
"""

from typing import Any, NotRequired, TypedDict

from chat.services.presenters.shapes import (
    AttachmentWire,
    MemberWire,
    MessageWire,
    ReactionWire,
    RoomWire,
    UserWire,
)


class ErrorBody(TypedDict):
    code: str  # the contract's code, e.g. VALIDATION_FAILED
    message: str
    details: NotRequired[dict[str, Any]]


class ErrorOut(TypedDict):
    error: ErrorBody


class UserReply(TypedDict):
    user: UserWire


class SignedIn(TypedDict):
    user: UserWire
    token: str


class TokenReply(TypedDict):
    token: str


class MessageReply(TypedDict):
    message: str


class UsersReply(TypedDict):
    users: list[UserWire]


class UsersPage(TypedDict):
    users: list[UserWire]
    total: int


class RoomReply(TypedDict):
    room: RoomWire


class RoomsReply(TypedDict):
    rooms: list[RoomWire]


class RoomsPage(TypedDict):
    rooms: list[RoomWire]
    total: int


class MembersReply(TypedDict):
    members: list[MemberWire]


class InviteReply(TypedDict):
    inviteCode: str


class OneMessage(TypedDict):
    message: MessageWire


class MessagesReply(TypedDict):
    messages: list[MessageWire]


class ReactionsReply(TypedDict):
    reactions: list[ReactionWire]


class ReadReply(TypedDict):
    lastReadSeq: int


class UploadReply(TypedDict):
    attachment: AttachmentWire
    message: NotRequired[MessageWire]  # when the file was sent to a room
