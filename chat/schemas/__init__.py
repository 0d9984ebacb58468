"""marshmallow schemas for every REST body, query string and socket payload.

Unknown fields are refused (no mass assignment); every field has a type and a length bound, so an
operator object such as {"$gt": ""} never passes where a string or number is expected. One module
per sub-domain; everything is importable from here (`from chat.schemas import X, load`).
"""

from chat.schemas.accounts import (
    LoginBody,
    PasswordBody,
    ProfileBody,
    RegisterBody,
    UserSearchQuery,
)
from chat.schemas.common import (
    EmailAddress,
    Id,
    Name,
    PageQuery,
    Prose,
    Strict,
    Text,
    load,
)
from chat.schemas.messages import (
    ChangesQuery,
    EditBody,
    HistoryQuery,
    MessageBody,
    MessageSearchQuery,
    Reaction,
    ReactionBody,
    ReadBody,
)
from chat.schemas.rooms import (
    DirectBody,
    InviteBody,
    RoleBody,
    RoomCreateBody,
    RoomListQuery,
    RoomUpdateBody,
)
from chat.schemas.sockets import (
    PRESENCE_SUBSCRIPTIONS,
    EditPayload,
    HistoryPayload,
    JoinPayload,
    MessageRef,
    PresenceSubscribePayload,
    ReactPayload,
    RoomPresencePayload,
    RoomRef,
    SendPayload,
    SeqPayload,
    StatusPayload,
    SyncCursor,
    SyncPayload,
    VerCursor,
)
from chat.schemas.uploads import MediaQuery, UploadFields

__all__ = [
    "PRESENCE_SUBSCRIPTIONS", "ChangesQuery", "DirectBody", "EditBody", "EditPayload",
    "EmailAddress", "HistoryPayload", "HistoryQuery", "Id", "InviteBody", "JoinPayload",
    "LoginBody", "MediaQuery", "MessageBody", "MessageRef", "MessageSearchQuery", "Name",
    "PageQuery", "PasswordBody", "PresenceSubscribePayload", "ProfileBody", "Prose", "ReactPayload",
    "Reaction", "ReactionBody", "ReadBody", "RegisterBody", "RoleBody", "RoomCreateBody",
    "RoomListQuery", "RoomPresencePayload", "RoomRef", "RoomUpdateBody", "SendPayload",
    "SeqPayload", "StatusPayload", "Strict", "SyncCursor", "SyncPayload", "Text", "UploadFields",
    "UserSearchQuery", "VerCursor", "load",
]  # fmt: skip
