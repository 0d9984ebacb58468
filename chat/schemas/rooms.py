"""Rooms: create, change, list, join by invite code, roles, direct rooms."""

from __future__ import annotations

from marshmallow import fields, validate

from chat.schemas.common import Id, Name, PageQuery, Prose, Strict, Text


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
    # Members (not its owner and admins) send at most one message per this many seconds; 0: off.
    slowModeSeconds = fields.Integer(strict=True, validate=validate.Range(min=0, max=3600))  # noqa: N815


class InviteBody(Strict):
    inviteCode = Text(1, 100, required=True)  # noqa: N815


class RoleBody(Strict):
    role = fields.String(required=True, validate=validate.OneOf(["admin", "member"]))


class NotificationsBody(Strict):
    level = fields.String(required=True, validate=validate.OneOf(["all", "mentions", "none"]))


class DirectBody(Strict):
    userId = Id(required=True)  # noqa: N815
