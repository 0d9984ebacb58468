"""Logs a dependency going away once per outage, and its return once, however often it is used."""

from __future__ import annotations

import logging


class OutageLog:
    """`down(exc)` logs an ERROR the first time only; `up()` logs a WARNING if it was down."""

    def __init__(self, log: logging.Logger, down: str, up: str) -> None:
        self._log = log
        self._down_message = down
        self._up_message = up
        self.failing = False

    def down(self, exc: BaseException | str) -> None:
        if not self.failing:
            self.failing = True
            self._log.error("%s: %s", self._down_message, exc)

    def up(self) -> None:
        if self.failing:
            self.failing = False
            self._log.warning("%s", self._up_message)
