"""The `reports` collection: messages reported to the server admins. One report per reporter
and message (a unique index on the pair); `status` is `open` until an admin resolves it."""

from __future__ import annotations

from pymongo import ASCENDING, DESCENDING, ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from chat.domain import Report, ReportAction, ReportStatus
from chat.store.base import Doc, Duplicate, new_id, now_ms, translate_errors


def _report(doc: Doc) -> Report:
    return Report(
        id=doc["_id"],
        message_id=doc["messageId"],
        room_id=doc["roomId"],
        reporter_id=doc["reporterId"],
        reason=doc["reason"],
        created_at=doc["createdAt"],
        status=doc["status"],
        action=doc.get("action"),
        resolved_by=doc.get("resolvedBy"),
        resolved_at=doc.get("resolvedAt"),
    )


@translate_errors
class ReportRepo:
    def __init__(self, collection: AsyncCollection[Doc]):
        self.c = collection

    async def ensure_indexes(self) -> None:
        await self.c.create_index(
            [("messageId", ASCENDING), ("reporterId", ASCENDING)], unique=True
        )
        await self.c.create_index([("status", ASCENDING), ("createdAt", DESCENDING)])

    async def insert(self, message_id: str, room_id: str, reporter_id: str, reason: str) -> Report:
        """A new open report; Duplicate if this reporter reported this message before."""
        doc: Doc = {
            "_id": new_id(),
            "messageId": message_id,
            "roomId": room_id,
            "reporterId": reporter_id,
            "reason": reason,
            "status": "open",
            "createdAt": now_ms(),
        }
        try:
            await self.c.insert_one(doc)
        except DuplicateKeyError:
            raise Duplicate("report") from None
        return _report(doc)

    async def get(self, report_id: str) -> Report | None:
        doc = await self.c.find_one({"_id": report_id})
        return _report(doc) if doc else None

    async def listed(self, status: ReportStatus, limit: int) -> list[Report]:
        """Reports with this status, newest first."""
        cursor = self.c.find({"status": status}).sort("createdAt", DESCENDING).limit(limit)
        return [_report(d) for d in await cursor.to_list()]

    async def resolve(self, report_id: str, by: str, action: ReportAction) -> Report | None:
        """Resolve an open report; None if there is no open report with this id."""
        doc = await self.c.find_one_and_update(
            {"_id": report_id, "status": "open"},
            {"$set": _resolution(by, action)},
            return_document=ReturnDocument.AFTER,
        )
        return _report(doc) if doc else None

    async def reopen(self, report_id: str) -> None:
        """Open a report again whose resolution could not be carried out."""
        await self.c.update_one(
            {"_id": report_id, "status": "resolved"},
            {
                "$set": {"status": "open"},
                "$unset": {"action": "", "resolvedBy": "", "resolvedAt": ""},
            },
        )

    async def resolve_message(self, message_id: str, by: str, action: ReportAction) -> None:
        """Resolve every open report of a message (it was deleted: nothing is left to judge)."""
        await self.c.update_many(
            {"messageId": message_id, "status": "open"}, {"$set": _resolution(by, action)}
        )


def _resolution(by: str, action: ReportAction) -> Doc:
    return {"status": "resolved", "action": action, "resolvedBy": by, "resolvedAt": now_ms()}
