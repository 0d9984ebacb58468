"""DESIGN.md's layer rule, checked on the source: transport -> services -> store, never upward."""

from __future__ import annotations

import ast
from pathlib import Path

CHAT = Path(__file__).resolve().parents[1] / "chat"

# What each layer may not import.
FORBIDDEN = {
    "chat.store": ("chat.services", "chat.api", "chat.realtime", "chat.app", "aiohttp", "socketio"),
    "chat.services": (
        "chat.api",
        "chat.realtime",
        "chat.app",
        "aiohttp",
        "socketio",
        "pymongo",
        "bson",
    ),
    "chat.api": ("chat.realtime", "chat.app", "pymongo", "bson"),
    "chat.realtime": ("chat.api", "chat.app", "pymongo", "bson"),
    "chat.errors": ("chat", "aiohttp", "socketio", "pymongo"),
    "chat.media": (
        "chat.services",
        "chat.api",
        "chat.realtime",
        "chat.app",
        "aiohttp",
        "socketio",
        "pymongo",
    ),
}
DRIVER = ("pymongo", "bson")


def _module(path: Path) -> str:
    return ".".join(path.relative_to(CHAT.parent).with_suffix("").parts).removesuffix(".__init__")


def _imports(path: Path) -> list[str]:
    names = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return names


def _violations() -> list[str]:
    found = []
    for path in sorted(CHAT.rglob("*.py")):
        module = _module(path)
        banned = [
            b
            for layer, ban in FORBIDDEN.items()
            if module == layer or module.startswith(layer + ".")
            for b in ban
        ]
        if not module.startswith("chat.store"):
            banned += DRIVER
        for name in _imports(path):
            if any(name == b or name.startswith(b + ".") for b in banned):
                found.append(f"{module} imports {name}")
    return found


def test_no_layer_imports_upward():
    assert _violations() == []


def test_the_check_sees_a_violation(tmp_path):
    # The rule's own test: a services module importing aiohttp would be caught.
    bad = CHAT / "services" / "_layer_probe.py"
    bad.write_text("import aiohttp\nfrom pymongo import MongoClient\n")
    try:
        assert sorted(_violations()) == [
            "chat.services._layer_probe imports aiohttp",
            "chat.services._layer_probe imports pymongo",
        ]
    finally:
        bad.unlink()
