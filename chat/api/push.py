"""REST handlers for Web Push: the server's VAPID public key, and the browser's subscriptions."""

from typing import TypedDict

from aiohttp import web

from chat.api.helpers import ok
from chat.api.keys import SERVICES
from chat.api.route import Data, Routes
from chat.errors import Unauthorized
from chat.schemas.push import PushEndpointBody, PushSubscribeBody
from chat.services.accounts import Principal

# No `from __future__ import annotations`: the reply TypedDict is read at run time (shapes.py).

routes = Routes()


class VapidKeyReply(TypedDict):
    publicKey: str  # base64url uncompressed P-256 point: pushManager's applicationServerKey


@routes.get(
    "/api/push/vapid-public-key",
    "The server's VAPID public key (404 when Web Push is off)",
    reply=VapidKeyReply,
)
async def vapid_public_key(request: web.Request, me: Principal) -> web.Response:
    return ok({"publicKey": request.app[SERVICES].notifications.subscriptions.public_key()})


@routes.post(
    "/api/push/subscriptions",
    "Subscribe this browser to Web Push",
    body=PushSubscribeBody,
    status=201,
)
async def subscribe(request: web.Request, me: Principal, data: Data) -> web.Response:
    services, keys = request.app[SERVICES], data["keys"]
    subscriptions = services.notifications.subscriptions
    await subscriptions.subscribe(
        me.user_id, data["endpoint"], keys["p256dh"], keys["auth"], session_id=me.session_id
    )
    # Kept with this session, and ended with it (services/sessions.py). If it ended while this
    # request ran, the ending may have looked before the subscription was saved: take it back.
    if not await services.accounts.still_signed_in(me):
        await subscriptions.unsubscribe(me.user_id, data["endpoint"])
        raise Unauthorized("Session expired")
    return web.Response(status=201)


@routes.delete(
    "/api/push/subscriptions",
    "Unsubscribe a browser (204 also when it was not subscribed)",
    body=PushEndpointBody,
    status=204,
)
async def unsubscribe(request: web.Request, me: Principal, data: Data) -> web.Response:
    await request.app[SERVICES].notifications.subscriptions.unsubscribe(
        me.user_id, data["endpoint"]
    )
    return web.Response(status=204)
