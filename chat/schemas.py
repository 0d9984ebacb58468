"""marshmallow schemas for every REST body, query string and socket payload.

Unknown fields are refused (no mass assignment); every field has a type and a length bound, so an
operator object such as {"$gt": ""} never passes where a string or number is expected.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import emoji
from marshmallow import RAISE, Schema, ValidationError, fields, pre_load, validate, validates_schema

from chat.errors import ValidationFailed
from chat.text import clean_email, clean_name, clean_prose, visible

_ID = validate.Regexp(r"^[0-9a-f]{24}$", error="Not a valid id.")
_SEQ = validate.Range(min=0, max=2**53 - 1)


def Id(**kw: Any) -> fields.String:  # noqa: N802 - reads like a field class
    return fields.String(validate=_ID, **kw)


def Text(lo: int, hi: int, **kw: Any) -> fields.String:  # noqa: N802
    return fields.String(validate=validate.Length(min=lo, max=hi), **kw)


class _Cleaned(fields.String):
    """A string cleaned (chat.text) before its length is checked; blank or invisible-only text is
    refused where at least one character is required."""

    def __init__(self, clean: Callable[[str], str], lo: int, hi: int, **kw: Any):
        super().__init__(validate=validate.Length(min=lo, max=hi), **kw)
        self.clean, self.required_text = clean, lo > 0

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kw: Any) -> str:
        cleaned = self.clean(super()._deserialize(value, attr, data, **kw))
        if self.required_text and not visible(cleaned):
            raise ValidationError("Must contain visible characters.")
        return cleaned


def Name(lo: int, hi: int, **kw: Any) -> fields.String:  # noqa: N802
    """A person's or a room's name: NFKC, no invisible characters, spaces collapsed."""
    return _Cleaned(clean_name, lo, hi, **kw)


def Prose(lo: int, hi: int, **kw: Any) -> fields.String:  # noqa: N802
    """A message, bio or description: NFC, no invisible characters outside emoji and words."""
    return _Cleaned(clean_prose, lo, hi, **kw)


class EmailAddress(fields.String):
    """An email in one spelling (chat.text.clean_email): a look-alike is the same address or is
    refused. With `strict=False` (login) it is only normalised, and matches no account if odd."""

    def __init__(self, *, strict: bool = True, **kw: Any):
        checks = [validate.Length(min=1, max=254)]
        if strict:
            checks.append(validate.Email())
            kw.setdefault("metadata", {"format": "email"})  # what fields.Email tells OpenAPI
        super().__init__(validate=checks, **kw)
        self.strict = strict

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kw: Any) -> str:
        try:
            return clean_email(super()._deserialize(value, attr, data, **kw), strict=self.strict)
        except ValueError as exc:
            raise ValidationError(str(exc)) from None


class Strict(Schema):
    """Base: unknown keys raise; strings are stripped of surrounding white space."""

    class Meta:
        unknown = RAISE

    @pre_load
    def _strip(self, data: Any, **_: Any) -> Any:
        if not isinstance(data, dict):
            raise ValidationError("Expected an object.", "_schema")
        return {
            k: v.strip() if isinstance(v, str) and k not in self._raw else v
            for k, v in data.items()
        }

    _raw: frozenset[str] = frozenset()


class RegisterBody(Strict):
    _raw = frozenset({"password"})
    name = Name(1, 50, required=True)
    email = EmailAddress(required=True)
    password = Text(8, 256, required=True)


class LoginBody(Strict):
    _raw = frozenset({"password"})
    email = EmailAddress(strict=False, required=True)
    password = Text(1, 256, required=True)


class PasswordBody(Strict):
    _raw = frozenset({"currentPassword", "newPassword"})
    currentPassword = Text(1, 256, required=True)  # noqa: N815 - wire names are camelCase
    newPassword = Text(8, 256, required=True)  # noqa: N815


class ProfileBody(Strict):
    name = Name(1, 50)
    bio = Prose(0, 500)
    status = fields.String(validate=validate.OneOf(["online", "away", "busy", "offline"]))


class PageQuery(Strict):
    limit = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))
    skip = fields.Integer(load_default=0, validate=validate.Range(min=0, max=100_000))


class UserSearchQuery(Strict):
    q = Name(1, 100, required=True)
    limit = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))


class RoomListQuery(PageQuery):
    q = Text(0, 100, load_default="")


class RoomCreateBody(Strict):
    name = Name(1, 80, required=True)
    description = Prose(0, 500, load_default="")
    type = fields.String(load_default="public", validate=validate.OneOf(["public", "private"]))


class RoomUpdateBody(Strict):
    name = Name(1, 80)
    description = Prose(0, 500)
    type = fields.String(validate=validate.OneOf(["public", "private"]))


class InviteBody(Strict):
    inviteCode = Text(1, 100, required=True)  # noqa: N815


class RoleBody(Strict):
    role = fields.String(required=True, validate=validate.OneOf(["admin", "member"]))


class DirectBody(Strict):
    userId = Id(required=True)  # noqa: N815


class HistoryQuery(Strict):
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=100))
    before = fields.Integer(validate=_SEQ)
    after = fields.Integer(validate=_SEQ)


class MessageBody(Strict):
    text = Prose(1, 4000, required=True)
    clientId = Text(1, 100)  # noqa: N815
    replyTo = Id()  # noqa: N815


class EditBody(Strict):
    text = Prose(1, 4000, required=True)


_SHORTCODE = re.compile(r":[a-z0-9_+-]{1,30}:")


def _reaction(value: str) -> None:
    """One emoji (a grapheme cluster: skin tones, flags and ZWJ families included, from the
    `emoji` package's Unicode data) or a `:shortcode:` for custom ones; never free text."""
    if not (emoji.is_emoji(value) or _SHORTCODE.fullmatch(value)):
        raise ValidationError("Must be one emoji or a :shortcode: of a-z, 0-9, _, + and -.")


def Reaction(**kw: Any) -> fields.String:  # noqa: N802
    return fields.String(validate=[validate.Length(min=1, max=32), _reaction], **kw)


class ReactionBody(Strict):
    emoji = Reaction(required=True)


class ReadBody(Strict):
    seq = fields.Integer(required=True, strict=True, validate=_SEQ)


class MessageSearchQuery(Strict):
    q = Text(1, 200, required=True)
    roomId = Id()  # noqa: N815
    limit = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))


class UploadFields(Strict):
    _raw = frozenset({"text"})
    roomId = Id()  # noqa: N815
    text = Prose(0, 4000, load_default="")
    clientId = Text(1, 100)  # noqa: N815


class ChangesQuery(Strict):
    since = fields.Integer(load_default=0, validate=_SEQ)
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=100))


class MediaQuery(Strict):
    kind = fields.String(validate=validate.OneOf(["image", "file"]))
    before = fields.Integer(validate=_SEQ)
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=100))


# --- Socket.IO payloads -------------------------------------------------------------------------


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


class ReactPayload(ReactionBody):
    messageId = Id(required=True)  # noqa: N815


class SeqPayload(RoomRef):
    seq = fields.Integer(required=True, strict=True, validate=_SEQ)


class HistoryPayload(RoomRef):
    limit = fields.Integer(load_default=50, strict=True, validate=validate.Range(min=1, max=100))
    before = fields.Integer(strict=True, validate=_SEQ)
    after = fields.Integer(strict=True, validate=_SEQ)


class VerCursor(Strict):
    ver = fields.Integer(required=True, strict=True, validate=_SEQ)


class SyncCursor(fields.Field):
    """A sync value: a plain number (the last seq seen) or `{ver}` (a change cursor)."""

    _seq = fields.Integer(strict=True, validate=_SEQ)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kw: Any) -> Any:
        if isinstance(value, dict):
            return VerCursor().load(value)
        return self._seq.deserialize(value)


class SyncPayload(Strict):
    rooms = fields.Dict(keys=fields.String(validate=_ID), values=SyncCursor(), required=True)

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
    status = fields.String(
        required=True, validate=validate.OneOf(["online", "away", "busy", "offline"])
    )


def load(schema: Schema, data: Any) -> dict[str, Any]:
    """Validate `data` with `schema`; raise ValidationFailed carrying the field messages."""
    try:
        return schema.load(data)
    except ValidationError as exc:
        messages = exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}
        raise ValidationFailed("Invalid request", {"fields": messages}) from None
