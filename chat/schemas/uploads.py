"""Files: the upload form's text fields and the room media listing."""

from __future__ import annotations

from marshmallow import fields, validate

from chat.schemas.common import SEQ_RANGE, Id, Prose, Strict, Text


class UploadFields(Strict):
    _raw = frozenset({"text"})
    roomId = Id()  # noqa: N815
    text = Prose(0, 4000, load_default="")
    clientId = Text(1, 100)  # noqa: N815


class MediaQuery(Strict):
    kind = fields.String(validate=validate.OneOf(["image", "file"]))
    before = fields.Integer(validate=SEQ_RANGE)
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=100))
