"""What every schema shares: the strict base, field helpers (ids, bounded and cleaned text,
emails) and `load`, which turns marshmallow's refusal into the contract's VALIDATION_FAILED."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, get_args

from marshmallow import RAISE, Schema, ValidationError, fields, pre_load, validate

from chat.domain import UserStatus
from chat.errors import ValidationFailed
from chat.text import clean_email, clean_name, clean_prose, visible

ID_CHECK = validate.Regexp(r"^[0-9a-f]{24}$", error="Not a valid id.")
SEQ_RANGE = validate.Range(min=0, max=2**53 - 1)
USER_STATUSES = list(get_args(UserStatus))


def Id(**kw: Any) -> fields.String:  # noqa: N802 - reads like a field class
    return fields.String(validate=ID_CHECK, **kw)


def Text(lo: int, hi: int, **kw: Any) -> fields.String:  # noqa: N802
    return fields.String(validate=validate.Length(min=lo, max=hi), **kw)


class _Cleaned(fields.String):
    """A string cleaned (chat.text) before its length is checked; blank or invisible-only text is
    refused where at least one character is required."""

    def __init__(self, clean: Callable[[str], str], lo: int, hi: int, **kw: Any) -> None:
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

    def __init__(self, *, strict: bool = True, **kw: Any) -> None:
        checks: list[validate.Validator] = [validate.Length(min=1, max=254)]
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


class PageQuery(Strict):
    limit = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))
    skip = fields.Integer(load_default=0, validate=validate.Range(min=0, max=100_000))


def load(schema: Schema, data: Any) -> dict[str, Any]:
    """Validate `data` with `schema`; raise ValidationFailed carrying the field messages."""
    try:
        loaded: dict[str, Any] = schema.load(data)
    except ValidationError as exc:
        messages = exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}
        raise ValidationFailed("Invalid request", {"fields": messages}) from None
    return loaded
