"""The merged environment that load_settings reads: stripped strings, checked numbers and flags."""

from __future__ import annotations

from collections.abc import Mapping


class SettingsError(Exception):
    """A setting is missing or malformed; the message says which and why."""


class Values:
    """The merged environment: `get` a stripped value, or a checked `number` or `flag`."""

    def __init__(self, values: Mapping[str, str]) -> None:
        self._values = values

    def get(self, name: str, default: str = "") -> str:
        return self._values.get(name, default).strip()

    def number(
        self, name: str, default: str, kind: type[float] | type[int] = int, positive: bool = False
    ) -> float | int:
        text = self.get(name, default)
        try:
            value: float | int = kind(text)
        except ValueError:
            raise SettingsError(f"{name} must be a number, not {text!r}") from None
        if value < 0 or (positive and not value > 0):
            raise SettingsError(f"{name} must {'be positive' if positive else 'not be negative'}")
        return value

    def flag(self, name: str, default: str = "") -> bool:
        text = self.get(name) or default
        lowered = text.strip().lower()
        if lowered in ("1", "true", "yes", "on"):
            return True
        if lowered in ("0", "false", "no", "off", ""):
            return False
        raise SettingsError(f"{name} must be true or false, not {text!r}")
