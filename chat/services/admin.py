"""The server admin's desk (ADMIN_EMAILS, services/admins.py): reports to review and resolve, and
accounts to disable and enable. Every method refuses anyone else with FORBIDDEN.

Disabling an account revokes every session it has (so every token of it stops working, on every
node) and tells each live socket `session-expired` with reason `disabled` before disconnecting it,
on whichever node it is (Publisher.end_sessions); login is refused while it stays disabled
(AccountService). Enabling lets its owner sign in again; nothing else comes back.
"""

from __future__ import annotations

import contextlib

from chat.domain import Report, ReportAction, ReportStatus, User
from chat.errors import Conflict, Forbidden, NotFound
from chat.services.access import existing_user
from chat.services.admins import ServerAdmins
from chat.services.events import Publisher
from chat.services.messages import MessageService
from chat.services.presenters.moderation import ReportWire
from chat.services.reports import ReportService
from chat.services.sessions import end_sessions
from chat.store import Store, now_ms


class AdminService:
    def __init__(
        self,
        store: Store,
        admins: ServerAdmins,
        publisher: Publisher,
        reports: ReportService,
        messages: MessageService,
    ):
        self.store = store
        self.admins = admins
        self.publisher = publisher
        self.reports = reports
        self.messages = messages

    async def reports_list(self, admin: User, status: ReportStatus, limit: int) -> list[ReportWire]:
        """Reports with this status, newest first."""
        self.admins.require(admin)
        return await self.reports.listed(status, limit)

    async def resolve(self, admin: User, report_id: str, action: ReportAction) -> ReportWire:
        """Dismiss a report, or delete its message (a tombstone, announced to its room as any
        deletion is); deleting also resolves the message's other open reports.

        The report is resolved first, in one conditional write, and acted on after: of two
        admins resolving it at once, one acts and the other hears CONFLICT, so a report is never
        left dismissed on a message its other resolution deleted."""
        self.admins.require(admin)
        report = await self.store.reports.resolve(report_id, admin.id, action)
        if report is None:
            await self.reports.get(report_id)  # NOT_FOUND if there is no such report
            raise Conflict("This report is resolved already")
        if action == "delete-message":
            await self._delete(admin, report)
        return (await self.reports.views([report]))[0]

    async def _delete(self, admin: User, report: Report) -> None:
        """Delete the resolved report's message (as a server admin may anywhere, and without
        spending the admin's budget of edits) and resolve its other open reports; if that fails
        (the database, say), the report is open again, to be resolved later."""
        try:
            msg = await self.store.messages.get(report.message_id)
            if msg is not None:  # else gone with its room: nothing left to delete
                with contextlib.suppress(NotFound):
                    await self.messages.tombstone(msg)
        except BaseException:
            await self.store.reports.reopen(report.id)
            raise
        await self.store.reports.resolve_message(report.message_id, admin.id, "delete-message")

    async def _target(self, admin: User, user_id: str) -> User:
        self.admins.require(admin)
        user = await existing_user(self.store, user_id)
        if self.admins.is_admin(user):
            raise Forbidden("A server admin cannot be disabled or enabled (see ADMIN_EMAILS)")
        return user

    async def disable(self, admin: User, user_id: str) -> None:
        """Disable an account: no login, no session, no socket, until enabled (again: no
        change, but any session made meanwhile is revoked too)."""
        user = await self._target(admin, user_id)
        if not user.disabled:
            await self.store.users.set_disabled(user_id, now_ms())
        await end_sessions(self.store, self.publisher, user_id, "disabled")

    async def enable(self, admin: User, user_id: str) -> None:
        """Let a disabled account sign in again (an enabled one: no change)."""
        user = await self._target(admin, user_id)
        if user.disabled:
            await self.store.users.set_disabled(user_id, None)
