"""Times on the wire: ISO-8601 UTC with milliseconds and a `Z`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import overload


@overload
def iso(value: int | datetime) -> str: ...
@overload
def iso(value: None) -> None: ...
@overload
def iso(value: int | datetime | None) -> str | None: ...
def iso(value: int | datetime | None) -> str | None:
    """Epoch milliseconds (how times are stored) or a datetime, as `2026-11-21T10:00:00.000Z`."""
    if value is None:
        return None
    if isinstance(value, int):
        value = datetime.fromtimestamp(value / 1000, UTC)
    elif value.tzinfo is not None:
        value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"
