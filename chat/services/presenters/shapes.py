"""The wire format's shapes, written once: what the presenters build (mypy checks them against
these) and what the OpenAPI document shows (chat.api.typed_schema converts these TypedDicts).

`NotRequired[...]` marks a key that is sometimes absent, `X | None` a key that is present and may
be null; Literal types become enums. No `from __future__ import annotations` here: TypedDict reads
NotRequired from the evaluated annotations (Python 3.11 misses it in string annotations).
"""

from typing import Literal, NotRequired, TypedDict

from chat.domain import (
    AccountRole,
    DirectFrom,
    MessageType,
    NotifyLevel,
    Role,
    RoomType,
    UserStatus,
)


class UserWire(TypedDict):
    id: str
    name: str
    avatarUrl: str | None
    bio: str
    status: UserStatus  # the chosen status while connected, else "offline"
    online: bool
    lastSeen: str | None
    createdAt: str
    email: NotRequired[str]  # only in your own user, as are the three below
    emailVerified: NotRequired[bool]
    role: NotRequired[AccountRole]
    allowDirectFrom: NotRequired[DirectFrom]


class SenderWire(TypedDict):
    """The short form of a user that a message carries."""

    id: str
    name: str
    avatarUrl: str | None


class ThumbnailWire(TypedDict):
    url: str
    width: int
    height: int


class AttachmentWire(TypedDict):
    url: str
    name: str
    mimeType: str
    size: int
    width: NotRequired[int]  # images
    height: NotRequired[int]
    thumbnail: NotRequired[ThumbnailWire]  # images: the first frame, at most 1280 px a side


class ReactionWire(TypedDict):
    emoji: str
    count: int
    userIds: list[str]


class ThreadWire(TypedDict):
    """A thread root's summary of its replies."""

    replyCount: int
    lastReplyAt: str
    participantIds: list[str]


class PinWire(TypedDict):
    by: str
    at: str


class MessageWire(TypedDict):
    id: str
    roomId: str
    seq: int
    ver: int
    sender: SenderWire
    type: MessageType
    text: str
    attachments: list[AttachmentWire]
    replyTo: str | None
    reactions: list[ReactionWire]
    clientId: str | None
    createdAt: str
    editedAt: str | None
    deletedAt: str | None
    mentions: list[str]
    threadId: str | None
    thread: ThreadWire | None  # on a root with replies
    pinned: PinWire | None


class MessagePage(TypedDict):
    messages: list[MessageWire]
    hasMore: bool


class ThreadPage(TypedDict):
    """A thread: its root and a page of its replies by seq."""

    root: MessageWire
    messages: list[MessageWire]
    hasMore: bool


class LastMessageWire(TypedDict):
    """What a room listing shows of its newest message."""

    id: str
    seq: int
    type: MessageType
    text: str
    senderId: str
    senderName: str | None
    createdAt: str
    deleted: bool


class RoomWire(TypedDict):
    id: str
    type: RoomType
    name: str
    description: str
    ownerId: str | None
    memberCount: int
    lastSeq: int
    lastVer: int
    lastMessage: LastMessageWire | None
    createdAt: str
    updatedAt: str
    slowModeSeconds: int  # 0: off; else members send at most once per this many seconds
    myRole: NotRequired[Role]  # the viewer's, when a member
    lastReadSeq: NotRequired[int]
    unreadCount: NotRequired[int]
    mentionCount: NotRequired[int]  # unread messages that mention the viewer
    notifications: NotRequired[NotifyLevel]  # the viewer's level there
    inviteCode: NotRequired[str | None]  # private rooms, to their owner and admins
    peer: NotRequired[UserWire | None]  # direct rooms: the other user


class MemberWire(TypedDict):
    user: UserWire
    role: Role
    joinedAt: str
    lastReadSeq: int


class RoleChange(TypedDict):
    userId: str
    role: Role


class ChangesPage(TypedDict):
    """Messages created or changed after a ver, oldest change first (catch-up)."""

    messages: list[MessageWire]
    ver: int
    hasMore: bool


class CountBytes(TypedDict):
    count: int
    bytes: int


class FileStats(TypedDict):
    image: CountBytes
    file: CountBytes
    total: CountBytes


class HealthWire(TypedDict):
    status: Literal["ok", "degraded"]
    database: Literal["connected", "disconnected"]
    uptime: float
    version: str
    timestamp: str
    environment: str
