"""Safety and moderation: bans, mutes, reports and the server admin's report queue."""

from __future__ import annotations

from marshmallow import fields, validate

from chat.schemas.common import Id, Prose, Strict

MAX_MUTE_MINUTES = 28 * 24 * 60  # 28 days, as Discord's longest timeout


class BanBody(Strict):
    userId = Id(required=True)  # noqa: N815
    reason = Prose(0, 500)


class MuteBody(Strict):
    userId = Id(required=True)  # noqa: N815
    # Absent: until unmuted.
    minutes = fields.Integer(strict=True, validate=validate.Range(min=1, max=MAX_MUTE_MINUTES))


class ReportBody(Strict):
    reason = Prose(1, 500, required=True)


class ResolveBody(Strict):
    action = fields.String(required=True, validate=validate.OneOf(["dismiss", "delete-message"]))


class ReportsQuery(Strict):
    status = fields.String(load_default="open", validate=validate.OneOf(["open", "resolved"]))
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=100))
