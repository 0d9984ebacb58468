"""Reports: anyone who can read a message may report it to the server admins, once (a second
report of the same message by the same user is CONFLICT). Admins list them and resolve them by
dismissing them or by deleting the message (services/admin.py)."""

from __future__ import annotations

from chat.domain import Report, ReportStatus
from chat.errors import Conflict, NotFound, ValidationFailed
from chat.services.access import Access
from chat.services.file_urls import FileUrls
from chat.services.message_views import present
from chat.services.presenters.moderation import ReportWire, report_view
from chat.services.users import UserService
from chat.store import Store
from chat.store.base import Duplicate, is_id


class ReportService:
    def __init__(self, store: Store, access: Access, users: UserService, urls: FileUrls):
        self.store = store
        self.access = access
        self.users = users
        self.urls = urls

    async def report(self, user_id: str, message_id: str, reason: str) -> ReportWire:
        """Report a message you can read (not your own, not a deleted one)."""
        msg = await self.store.messages.get(message_id) if is_id(message_id) else None
        if msg is None or msg.deleted:
            raise NotFound("Message not found")
        await self.access.readable(user_id, msg.room_id)  # NOT_FOUND for rooms you cannot see
        if msg.sender_id == user_id:
            raise ValidationFailed("You cannot report your own message")
        try:
            report = await self.store.reports.insert(message_id, msg.room_id, user_id, reason)
        except Duplicate:
            raise Conflict("You have reported this message already") from None
        return (await self.views([report]))[0]

    async def listed(self, status: ReportStatus, limit: int) -> list[ReportWire]:
        return await self.views(await self.store.reports.listed(status, limit))

    async def get(self, report_id: str) -> Report:
        report = await self.store.reports.get(report_id) if is_id(report_id) else None
        if report is None:
            raise NotFound("Report not found")
        return report

    async def views(self, reports: list[Report]) -> list[ReportWire]:
        """The reports with their messages (tombstones included) and reporters, a few queries
        for the whole list."""
        messages = await self.store.messages.many(list({r.message_id for r in reports}))
        by_id = {m["id"]: m for m in await present(self.store, self.urls, messages)}
        reporters = await self.store.users.many(list({r.reporter_id for r in reports}))
        users = {u["id"]: u for u in await self.users.views(reporters)}
        return [report_view(r, by_id.get(r.message_id), users.get(r.reporter_id)) for r in reports]
