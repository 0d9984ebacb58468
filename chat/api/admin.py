"""REST handlers for the server admin (ADMIN_EMAILS): reports, disabling and enabling accounts.
Anyone else gets FORBIDDEN (the services check)."""

from __future__ import annotations

from aiohttp import web

from chat.api.helpers import ok
from chat.api.keys import SERVICES
from chat.api.route import Data, Routes
from chat.schemas import Strict
from chat.schemas.moderation import ReportsQuery, ResolveBody
from chat.services.accounts import Principal
from chat.services.presenters.moderation import ReportReply, ReportsReply

routes = Routes()


@routes.get("/api/admin/reports", "Reported messages", query=ReportsQuery, reply=ReportsReply)
async def reports(request: web.Request, me: Principal, q: Data) -> web.Response:
    found = await request.app[SERVICES].admin.reports_list(me.user, q["status"], q["limit"])
    return ok({"reports": found})


@routes.post(
    "/api/admin/reports/{report_id}/resolve",
    "Resolve a report: dismiss it or delete its message",
    body=ResolveBody,
    reply=ReportReply,
)
async def resolve(request: web.Request, me: Principal, data: Data) -> web.Response:
    found = await request.app[SERVICES].admin.resolve(
        me.user, request.match_info["report_id"], data["action"]
    )
    return ok({"report": found})


@routes.post("/api/admin/users/{user_id}/disable", "Disable an account", body=Strict, status=204)
async def disable(request: web.Request, me: Principal, _: Data) -> web.Response:
    await request.app[SERVICES].admin.disable(me.user, request.match_info["user_id"])
    return web.Response(status=204)


@routes.post(
    "/api/admin/users/{user_id}/enable", "Enable an account again", body=Strict, status=204
)
async def enable(request: web.Request, me: Principal, _: Data) -> web.Response:
    await request.app[SERVICES].admin.enable(me.user, request.match_info["user_id"])
    return web.Response(status=204)
