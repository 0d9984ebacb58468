"""The domain's values: what repositories return and services reason about (never a document).

Times are epoch milliseconds (`int`) everywhere in the domain; the store converts at its edge and
presenters turn them into ISO-8601 strings. Ids are 24-hex strings.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

RoomType = Literal["public", "private", "direct"]
Role = Literal["owner", "admin", "member"]
MessageType = Literal["text", "image", "file", "system"]
Pointer = Literal["read", "delivered"]
# The status a user chooses ("offline" while connected: invisible to others).
UserStatus = Literal["online", "away", "busy", "offline"]
# Who may open a direct room with a user: anyone, or people who share a room with them.
DirectFrom = Literal["everyone", "shared"]
AccountRole = Literal["user", "admin"]  # admin: the email is in ADMIN_EMAILS
# Which messages of a room notify a member who is not connected.
NotifyLevel = Literal["all", "mentions", "none"]

MANAGERS: tuple[Role, ...] = ("owner", "admin")
MENTION_SEQS_KEPT = 100  # a room's unread-mention count stops growing past this
# Message types that carry stored files.
FILE_KINDS: tuple[MessageType, ...] = ("image", "file")


@dataclass(slots=True)
class User:
    id: str
    name: str
    email: str
    password_hash: str
    created_at: int
    avatar_url: str | None = None
    avatar_key: str | None = None
    avatar_resource: str | None = None
    bio: str = ""
    status: UserStatus = "online"
    last_seen: int | None = None
    email_verified: bool = False
    allow_direct_from: DirectFrom = "everyone"
    disabled_at: int | None = None  # disabled by a server admin: no login, no session

    @property
    def disabled(self) -> bool:
        return self.disabled_at is not None


@dataclass(slots=True)
class Session:
    id: str
    user_id: str
    created_at: int
    expires_at: int


@dataclass(slots=True)
class Room:
    id: str
    type: RoomType
    name: str
    owner_id: str | None
    created_at: int
    updated_at: int
    description: str = ""
    member_count: int = 0
    last_seq: int = 0
    last_ver: int = 0
    # The newest message's summary, already in wire form (written with the seq reservation).
    last_message: dict[str, Any] | None = None
    last_activity_at: int = 0
    invite_code: str | None = None
    direct_users: tuple[str, ...] = ()
    slow_mode_seconds: int = 0  # members (not owner/admins) send at most once per this; 0: off
    # Taken by every change to who may send here (mutes, slow mode, roles, a block of a direct
    # room's pair): a send checked against older rules is refused by the seq reservation.
    rules_ver: int = 0


@dataclass(slots=True)
class Member:
    room_id: str
    user_id: str
    role: Role
    joined_at: int
    last_read_seq: int = 0
    last_delivered_seq: int = 0
    notifications: NotifyLevel | None = None  # None: the room type's default (default_level)
    # Seqs of recent messages that mention this member (the newest MENTION_SEQS_KEPT): the
    # unread ones are those above last_read_seq.
    mention_seqs: tuple[int, ...] = ()

    @property
    def mention_count(self) -> int:
        return sum(1 for s in self.mention_seqs if s > self.last_read_seq)

    def seq(self, pointer: Pointer) -> int:
        return self.last_read_seq if pointer == "read" else self.last_delivered_seq


@dataclass(slots=True)
class Thumbnail:
    url: str
    width: int
    height: int
    key: str | None = None
    resource_type: str | None = None


@dataclass(slots=True)
class Attachment:
    url: str
    name: str
    mime_type: str
    size: int
    key: str
    backend: str
    resource_type: str | None = None
    width: int | None = None
    height: int | None = None
    thumbnail: Thumbnail | None = None


@dataclass(frozen=True, slots=True)
class StoredUpload:
    """A stored file no message uses (an upload made without a room), kept until it is swept."""

    key: str
    backend: str
    resource_type: str
    created_at: int  # epoch ms


def default_level(room_type: RoomType) -> NotifyLevel:
    """A member's notification level until they choose one."""
    return "all" if room_type == "direct" else "mentions"


@dataclass(slots=True)
class ThreadSummary:
    """What a thread's root message shows of its replies."""

    reply_count: int
    last_reply_at: int
    participant_ids: tuple[str, ...]


@dataclass(slots=True)
class Pin:
    by: str
    at: int


@dataclass(slots=True)
class Message:
    id: str
    room_id: str
    sender_id: str
    type: MessageType
    text: str
    created_at: int = 0
    seq: int = 0
    ver: int = 0
    attachments: list[Attachment] = field(default_factory=list)
    reply_to: str | None = None
    client_id: str | None = None
    edited_at: int | None = None
    deleted_at: int | None = None
    mentions: list[str] = field(default_factory=list)
    thread_id: str | None = None  # a reply: its thread's root message
    thread: ThreadSummary | None = None  # a root with replies
    pinned: Pin | None = None

    @property
    def deleted(self) -> bool:
        return self.deleted_at is not None

    @property
    def file_bytes(self) -> int:
        return sum(a.size for a in self.attachments)


@dataclass(slots=True)
class Reaction:
    message_id: str
    room_id: str
    user_id: str
    emoji: str
    at: int


@dataclass(slots=True)
class Ban:
    """A user kept out of a room (removed if a member): no join by any door until unbanned."""

    room_id: str
    user_id: str
    by: str
    at: int
    reason: str | None = None


@dataclass(slots=True)
class Mute:
    """A member who may read a room but not write to it, until `until` (None: until unmuted)."""

    room_id: str
    user_id: str
    by: str
    at: int
    until: int | None = None

    def active(self, now: int) -> bool:
        return self.until is None or self.until > now


ReportStatus = Literal["open", "resolved"]
ReportAction = Literal["dismiss", "delete-message"]


@dataclass(slots=True)
class Report:
    id: str
    message_id: str
    room_id: str
    reporter_id: str
    reason: str
    created_at: int
    status: ReportStatus = "open"
    action: ReportAction | None = None  # how it was resolved
    resolved_by: str | None = None
    resolved_at: int | None = None
