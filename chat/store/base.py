"""Helpers every repository shares: string ids, UTC clock, and driver-error translation."""

from __future__ import annotations

import functools
import inspect
import time
from datetime import UTC, datetime
from typing import Any, TypeVar

from bson import ObjectId
from pymongo.errors import ConnectionFailure, ExecutionTimeout, WTimeoutError

from chat.errors import Unavailable
from chat.metrics import DB_OPERATIONS, DB_SECONDS

T = TypeVar("T")
# A stored document, as the driver reads and writes it: only repositories handle these.
Doc = dict[str, Any]

# Driver errors that mean "the database cannot be reached right now", not "your request is wrong".
_UNREACHABLE = (ConnectionFailure, ExecutionTimeout, WTimeoutError)


class Duplicate(Exception):
    """A unique key already holds this value (an email, a membership). Neutral: the service that
    asked decides what it means to the caller."""


def new_id() -> str:
    """A fresh id: ObjectId hex, stored as a string (see docs/MONGODB.md for why)."""
    return str(ObjectId())


def is_id(value: object) -> bool:
    return isinstance(value, str) and ObjectId.is_valid(value) and len(value) == 24


def pair_id(room_id: str, user_id: str) -> str:
    """The `_id` of a (room, user) document: a membership, a ban, a mute. A lookup by pair is
    a lookup by id."""
    return f"{room_id}:{user_id}"


def utcnow() -> datetime:
    # MongoDB keeps milliseconds; truncate now so a value read back equals the one written.
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def ms_to_datetime(ms: int) -> datetime:
    """For the one stored date (a session's TTL `expiresAt`): the domain's ms as a BSON date."""
    return datetime.fromtimestamp(ms / 1000, UTC)


def datetime_to_ms(value: datetime) -> int:
    return round(value.timestamp() * 1000)


def now_ms() -> int:
    """Stored times are epoch milliseconds (see docs/MONGODB.md: dates and `$set`)."""
    return time.time_ns() // 1_000_000


def _wrap(method: Any, op: str) -> Any:
    counted = DB_OPERATIONS.labels(op)
    timed = DB_SECONDS.labels(op)
    clock = time.perf_counter

    @functools.wraps(method)
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        counted.inc()
        started = clock()
        try:
            return await method(*args, **kwargs)
        except _UNREACHABLE as exc:
            raise Unavailable("Database unavailable") from exc
        finally:
            timed.observe(clock() - started)

    return wrapper


def translate_errors(cls: type[T]) -> type[T]:
    """Class decorator: every public coroutine raises Unavailable when MongoDB is unreachable,
    and counts as one database operation (`chat_db_operations{op="messages.insert_many"}`) with
    its latency (`chat_db_operation_seconds`)."""
    collection = cls.__name__.removesuffix("Repo").lower() + "s"  # MemberRepo: members
    for name, member in list(vars(cls).items()):
        if not name.startswith("_") and inspect.iscoroutinefunction(member):
            setattr(cls, name, _wrap(member, f"{collection}.{name}"))
    return cls
