"""Socket.IO payloads (the REST bodies they extend live beside their endpoints)."""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, fields, validate, validates_schema

from chat.schemas.common import ID_CHECK, SEQ_RANGE, USER_STATUSES, Id, Strict, Text
from chat.schemas.messages import EditBody, MessageBody, ReactionBody


class RoomRef(Strict):
    roomId = Id(required=True)  # noqa: N815


class JoinPayload(RoomRef):
    inviteCode = Text(1, 100)  # noqa: N815


class SendPayload(MessageBody):
    roomId = Id(required=True)  # noqa: N815


class EditPayload(EditBody):
    messageId = Id(required=True)  # noqa: N815


class MessageRef(Strict):
    messageId = Id(required=True)  # noqa: N815


class ThreadPayload(MessageRef):
    after = fields.Integer(load_default=0, strict=True, validate=SEQ_RANGE)
    limit = fields.Integer(load_default=50, strict=True, validate=validate.Range(min=1, max=100))


class ReactPayload(ReactionBody):
    messageId = Id(required=True)  # noqa: N815


class SeqPayload(RoomRef):
    seq = fields.Integer(required=True, strict=True, validate=SEQ_RANGE)


class HistoryPayload(RoomRef):
    limit = fields.Integer(load_default=50, strict=True, validate=validate.Range(min=1, max=100))
    before = fields.Integer(strict=True, validate=SEQ_RANGE)
    after = fields.Integer(strict=True, validate=SEQ_RANGE)


class VerCursor(Strict):
    ver = fields.Integer(required=True, strict=True, validate=SEQ_RANGE)


class SyncCursor(fields.Field[Any]):
    """A sync value: a plain number (the last seq seen) or `{ver}` (a change cursor)."""

    _seq = fields.Integer(strict=True, validate=SEQ_RANGE)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kw: Any) -> Any:
        if isinstance(value, dict):
            return VerCursor().load(value)
        return self._seq.deserialize(value)


class SyncPayload(Strict):
    rooms = fields.Dict(keys=fields.String(validate=ID_CHECK), values=SyncCursor(), required=True)

    @validates_schema
    def _bounded(self, data: dict[str, Any], **_: Any) -> None:
        if len(data.get("rooms", {})) > 500:
            raise ValidationError("At most 500 rooms per sync.", "rooms")


class RoomPresencePayload(RoomRef):
    limit = fields.Integer(load_default=500, strict=True, validate=validate.Range(min=1, max=1000))


PRESENCE_SUBSCRIPTIONS = 100


class PresenceSubscribePayload(Strict):
    """The users this socket shows (replaces the previous set; empty unsubscribes)."""

    userIds = fields.List(  # noqa: N815
        Id(), required=True, validate=validate.Length(max=PRESENCE_SUBSCRIPTIONS)
    )


class StatusPayload(Strict):
    status = fields.String(required=True, validate=validate.OneOf(USER_STATUSES))
