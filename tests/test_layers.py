"""DESIGN.md's layer rule, checked on the source: transport -> services -> store, never upward.

The transports (chat.api, chat.realtime) reach the database, the file storage and outgoing HTTP
(chat.outbound) only through services; chat.kit (small tools) and chat.domain (the values) stand on nothing of chat's."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

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
    "chat.api": (
        "chat.realtime",
        "chat.app",
        "chat.store",
        "chat.media",
        "chat.outbound",
        "pymongo",
        "bson",
    ),
    "chat.realtime": (
        "chat.api",
        "chat.app",
        "chat.store",
        "chat.media",
        "chat.outbound",
        "pymongo",
        "bson",
    ),
    # HTTP calls the server makes (push services): a client beside the store, under services.
    "chat.outbound": ("chat.services", "chat.api", "chat.realtime", "chat.app", "chat.store"),
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
    "chat.kit": ("chat",),
    "chat.domain": ("chat",),
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


def _within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def _violations() -> list[str]:
    found = []
    for path in sorted(CHAT.rglob("*.py")):
        module = _module(path)
        layers = [layer for layer in FORBIDDEN if _within(module, layer)]
        banned = [b for layer in layers for b in FORBIDDEN[layer]]
        if not module.startswith("chat.store"):
            banned += DRIVER
        for name in _imports(path):
            own = any(_within(name, layer) for layer in layers)  # chat.kit.x may use chat.kit.y
            if not own and any(_within(name, b) for b in banned):
                found.append(f"{module} imports {name}")
    return found


def test_no_layer_imports_upward():
    assert _violations() == []


PROBES = {
    "services": "import aiohttp\nfrom pymongo import MongoClient\n",
    "api": "from chat.store import Store\nfrom chat.media.storage import LocalStorage\n",
    "realtime": "import chat.store.users\n",
    "kit": "from chat.kit.tasks import TaskSet\nfrom chat.errors import ChatError\n",
}


@pytest.mark.parametrize("layer", PROBES)
def test_the_check_sees_a_violation(layer):
    # The rule's own test: a module importing what its layer may not would be caught.
    bad = CHAT / layer / "_layer_probe.py"
    bad.write_text(PROBES[layer])
    try:
        assert (
            sorted(_violations())
            == {
                "services": [
                    "chat.services._layer_probe imports aiohttp",
                    "chat.services._layer_probe imports pymongo",
                ],
                "api": [
                    "chat.api._layer_probe imports chat.media.storage",
                    "chat.api._layer_probe imports chat.store",
                ],
                "realtime": ["chat.realtime._layer_probe imports chat.store.users"],
                "kit": ["chat.kit._layer_probe imports chat.errors"],  # its own package is fine
            }[layer]
        )
    finally:
        bad.unlink()


def test_the_domain_imports_nothing_of_chat():
    assert [n for n in _imports(CHAT / "domain.py") if _within(n, "chat")] == []
