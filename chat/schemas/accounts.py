"""Accounts and users: register, sign in, password, profile, user lists and search."""

from __future__ import annotations

from marshmallow import fields, validate

from chat.schemas.common import USER_STATUSES, EmailAddress, Name, Prose, Strict, Text


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
    status = fields.String(validate=validate.OneOf(USER_STATUSES))
    # Who may open a direct room with you: everyone, or people who share a room with you.
    allowDirectFrom = fields.String(validate=validate.OneOf(["everyone", "shared"]))  # noqa: N815


class UserSearchQuery(Strict):
    q = Name(1, 100, required=True)
    limit = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))


# -- account lifecycle: password reset, email verification, deletion ----------------------------


class ForgotBody(Strict):
    email = EmailAddress(strict=False, required=True)


class ResetBody(Strict):
    _raw = frozenset({"newPassword"})
    token = Text(1, 200, required=True)  # the `reset` parameter of the emailed link
    newPassword = Text(8, 256, required=True)  # noqa: N815 - wire names are camelCase


class VerifyBody(Strict):
    token = Text(1, 200, required=True)  # the `verify` parameter of the emailed link


class DeleteAccountBody(Strict):
    _raw = frozenset({"password"})
    password = Text(1, 256, required=True)
