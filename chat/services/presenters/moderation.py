"""Bans, mutes and reports on the wire, and the REST envelopes around them.

No `from __future__ import annotations`: see shapes.py.
"""

from typing import TypedDict

from chat.domain import Ban, Mute, Report, ReportAction, ReportStatus
from chat.services.presenters.shapes import MessageWire, UserWire
from chat.services.presenters.time import iso


class BanWire(TypedDict):
    user: UserWire
    by: str  # the owner or admin who banned, by id
    reason: str | None
    at: str


class MuteWire(TypedDict):
    user: UserWire
    by: str
    until: str | None  # null: until unmuted
    at: str


class ReportWire(TypedDict):
    id: str
    message: MessageWire | None  # null: gone with its room
    reporter: UserWire | None  # null: the account was deleted
    reason: str
    status: ReportStatus
    createdAt: str
    action: ReportAction | None  # how it was resolved
    resolvedBy: str | None
    resolvedAt: str | None


class BanReply(TypedDict):
    ban: BanWire


class BansReply(TypedDict):
    bans: list[BanWire]


class MuteReply(TypedDict):
    mute: MuteWire


class MutesReply(TypedDict):
    mutes: list[MuteWire]


class ReportReply(TypedDict):
    report: ReportWire


class ReportsReply(TypedDict):
    reports: list[ReportWire]


def ban_view(ban: Ban, user: UserWire) -> BanWire:
    return {"user": user, "by": ban.by, "reason": ban.reason, "at": iso(ban.at)}


def mute_view(mute: Mute, user: UserWire) -> MuteWire:
    return {"user": user, "by": mute.by, "until": iso(mute.until), "at": iso(mute.at)}


def report_view(
    report: Report, message: MessageWire | None, reporter: UserWire | None
) -> ReportWire:
    return {
        "id": report.id,
        "message": message,
        "reporter": reporter,
        "reason": report.reason,
        "status": report.status,
        "createdAt": iso(report.created_at),
        "action": report.action,
        "resolvedBy": report.resolved_by,
        "resolvedAt": iso(report.resolved_at),
    }
