"""Web Push subscriptions: what a browser's PushSubscription.toJSON() gives, and its endpoint."""

from __future__ import annotations

from marshmallow import fields, validate

from chat.schemas.common import Strict, Text

ENDPOINT = [
    validate.Length(min=1, max=2048),
    validate.URL(relative=False, schemes={"http", "https"}, require_tld=False),
]


class PushKeys(Strict):
    p256dh = Text(1, 200, required=True)  # base64url; the service checks it is a P-256 point
    auth = Text(1, 100, required=True)


class PushSubscribeBody(Strict):
    endpoint = fields.String(required=True, validate=ENDPOINT)
    keys = fields.Nested(PushKeys, required=True)
    # toJSON() carries it (null in Chromium and Firefox): accepted so the object can be sent as
    # it is, and not used (a push service answering 404/410 is how an expired one goes).
    expirationTime = fields.Integer(  # noqa: N815
        allow_none=True, load_default=None, validate=validate.Range(min=0, max=2**53 - 1)
    )


class PushEndpointBody(Strict):
    endpoint = fields.String(required=True, validate=ENDPOINT)
