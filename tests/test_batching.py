"""BatchLoader: concurrent lookups share a query while one is in flight; a lone one goes at once."""

from __future__ import annotations

import asyncio

import pytest

from chat.services.batching import BatchLoader


class Table:
    """A fetch over a dict that records each query and can be held in flight."""

    def __init__(self, rows: dict[str, int]):
        self.rows = rows
        self.queries: list[list[str]] = []
        self.gate = asyncio.Event()
        self.gate.set()
        self.fail: Exception | None = None

    async def fetch(self, keys: list[str]) -> dict[str, int]:
        self.queries.append(keys)
        await self.gate.wait()
        if self.fail is not None:
            raise self.fail
        return {k: self.rows[k] for k in keys if k in self.rows}


async def test_a_lone_lookup_goes_at_once_and_a_missing_key_is_none():
    table = Table({"a": 1})
    loader = BatchLoader(table.fetch)
    assert await loader.load("a") == 1
    assert await loader.load("zz") is None
    assert table.queries == [["a"], ["zz"]]


async def test_lookups_made_while_one_is_in_flight_go_together():
    table = Table({f"k{i}": i for i in range(10)})
    loader = BatchLoader(table.fetch)
    table.gate.clear()
    first = asyncio.ensure_future(loader.load("k0"))
    while not table.queries:  # the first query is in flight
        await asyncio.sleep(0)
    rest = [asyncio.ensure_future(loader.load(f"k{i % 9 + 1}")) for i in range(18)]
    await asyncio.sleep(0)
    table.gate.set()
    assert await first == 0
    assert [await r for r in rest] == [i % 9 + 1 for i in range(18)]
    # Two queries for nineteen lookups; a key asked for twice is asked for once.
    assert table.queries == [["k0"], [f"k{i}" for i in range(1, 10)]]
    assert await loader.load_many(["k3", "missing", "k3"]) == {"k3": 3}


async def test_every_waiting_lookup_gets_the_error_and_the_next_one_retries():
    table = Table({"a": 1})
    loader = BatchLoader(table.fetch)
    table.fail = ConnectionError("database away")
    table.gate.clear()
    waits = [asyncio.ensure_future(loader.load(k)) for k in ("a", "a", "b")]
    await asyncio.sleep(0)
    table.gate.set()
    for wait in waits:
        with pytest.raises(ConnectionError):
            await wait
    table.fail = None
    assert await loader.load("a") == 1
