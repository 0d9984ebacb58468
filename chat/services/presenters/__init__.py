"""Presenters: domain values to the wire format of docs/API.md (camelCase, string ids,
ISO-8601 UTC times with `Z`). Services return what these build; nothing else shapes the wire."""
