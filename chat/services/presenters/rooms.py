"""Rooms on the wire, as one viewer sees them (their role, pointers and unread count), and a
room's members."""

from __future__ import annotations

from typing import cast

from chat.domain import MANAGERS, Member, Room, default_level
from chat.services.presenters.shapes import LastMessageWire, MemberWire, RoomWire, UserWire
from chat.services.presenters.time import iso


def room_view(
    room: Room,
    member: Member | None = None,
    *,
    unread: int | None = None,
    peer: UserWire | None = None,
) -> RoomWire:
    """A room as a viewer sees it: with their role and pointers if they are a member."""
    last = room.last_message
    view: RoomWire = {
        "id": room.id,
        "type": room.type,
        "name": room.name,
        "description": room.description,
        "ownerId": room.owner_id,
        "memberCount": room.member_count,
        "lastSeq": room.last_seq,
        "lastVer": room.last_ver,
        # The summary is written with the seq reservation, so it describes message lastSeq.
        # Stored in wire form already (services/group_commit.py writes last_message_summary).
        "lastMessage": cast(LastMessageWire, {**last, "seq": room.last_seq}) if last else None,
        "createdAt": iso(room.created_at),
        "updatedAt": iso(room.updated_at),
        "slowModeSeconds": room.slow_mode_seconds,
    }
    if member is not None:
        view["myRole"] = member.role
        view["lastReadSeq"] = member.last_read_seq
        view["mentionCount"] = member.mention_count
        view["notifications"] = member.notifications or default_level(room.type)
        if room.type == "private" and member.role in MANAGERS:
            view["inviteCode"] = room.invite_code
    if unread is not None:
        view["unreadCount"] = unread
    if peer is not None:
        view["peer"] = peer
    return view


def member_view(member: Member, user: UserWire) -> MemberWire:
    """One entry of a room's member list; `user` is the member's profile as presented."""
    return {
        "user": user,
        "role": member.role,
        "joinedAt": iso(member.joined_at),
        "lastReadSeq": member.last_read_seq,
    }
