"""Messages: history and changes, send, edit, react, read pointer, search."""

from __future__ import annotations

import re
from typing import Any

import emoji
from marshmallow import ValidationError, fields, validate

from chat.schemas.common import SEQ_RANGE, Id, Prose, Strict, Text


class HistoryQuery(Strict):
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=100))
    before = fields.Integer(validate=SEQ_RANGE)
    after = fields.Integer(validate=SEQ_RANGE)


class MessageBody(Strict):
    text = Prose(1, 4000, required=True)
    clientId = Text(1, 100)  # noqa: N815
    replyTo = Id()  # noqa: N815
    # Members of the room (checked by the service); duplicates count once.
    mentions = fields.List(Id(), validate=validate.Length(max=50))
    threadId = Id()  # noqa: N815 - a thread's root message: this message is a reply in it


class ThreadQuery(Strict):
    after = fields.Integer(load_default=0, validate=SEQ_RANGE)
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=100))


class MentionsQuery(Strict):
    before = Id()  # a message id: the page ends just before it (newest first)
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=100))


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
    seq = fields.Integer(required=True, strict=True, validate=SEQ_RANGE)


class MessageSearchQuery(Strict):
    q = Text(1, 200, required=True)
    roomId = Id()  # noqa: N815
    limit = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))


class ChangesQuery(Strict):
    since = fields.Integer(load_default=0, validate=SEQ_RANGE)
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=100))
