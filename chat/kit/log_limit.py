"""A log line that may repeat under a flood, said at most once per interval per kind."""

from __future__ import annotations

import logging
import time


class LogLimit:
    """`warning(key, ...)` logs the first time, then at most once every `every` seconds per
    key; a line after a quiet spell says how many were left unsaid in between."""

    def __init__(self, log: logging.Logger, every: float = 60) -> None:
        self._log = log
        self.every = every
        self._last: dict[str, float] = {}
        self._unsaid: dict[str, int] = {}

    def warning(self, key: str, message: str, *args: object) -> bool:
        """True if this one was logged."""
        now = time.monotonic()
        last = self._last.get(key)
        if last is not None and now - last < self.every:
            self._unsaid[key] = self._unsaid.get(key, 0) + 1
            return False
        if len(self._last) > 1000:  # keys come from fixed sets; this only bounds a mistake
            self._last.clear()
        self._last[key] = now
        unsaid = self._unsaid.pop(key, 0)
        suffix = f" ({unsaid} more like it since the last line)" if unsaid else ""
        self._log.warning(message + suffix, *args)
        return True
