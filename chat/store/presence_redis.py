"""Presence across nodes in Redis: connections per user, node heartbeats, leaving markers.

A connection counts only while the node holding it keeps its heartbeat key alive, so a node
that dies without closing its sockets stops counting its users online once its key expires.
Each multi-step change is one Lua script, so concurrent nodes never announce a user twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from redis import asyncio as aioredis
from redis.exceptions import RedisError

from chat.errors import Unavailable
from chat.kit.outage import OutageLog
from chat.kit.tasks import TaskSet

log = logging.getLogger("chat.presence")

# KEYS: conns, leaving, users. ARGV: conn, node, user, node prefix.
_ADD = """
local live = 0
local entries = redis.call('HGETALL', KEYS[1])
for i = 1, #entries, 2 do
  if redis.call('EXISTS', ARGV[4] .. entries[i + 1]) == 1 then live = live + 1 end
end
local leaving = redis.call('DEL', KEYS[2])
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('SADD', KEYS[3], ARGV[3])
if live == 0 and leaving == 0 then return 1 end
return 0
"""
# KEYS: conns, leaving. ARGV: conn, node prefix, leaving ttl ms.
_REMOVE = """
if redis.call('HDEL', KEYS[1], ARGV[1]) == 0 then return 0 end
local entries = redis.call('HGETALL', KEYS[1])
for i = 1, #entries, 2 do
  if redis.call('EXISTS', ARGV[2] .. entries[i + 1]) == 1 then return 0 end
end
redis.call('SET', KEYS[2], '1', 'PX', ARGV[3])
return 1
"""
# KEYS: conns, leaving. ARGV: node prefix.
_SETTLE = """
if redis.call('DEL', KEYS[2]) == 0 then return 0 end
local entries = redis.call('HGETALL', KEYS[1])
for i = 1, #entries, 2 do
  if redis.call('EXISTS', ARGV[1] .. entries[i + 1]) == 1 then return 0 end
end
return 1
"""
# ARGV: conns prefix, leaving prefix, node prefix, user ids...
_ONLINE = """
local online = {}
for u = 4, #ARGV do
  local user = ARGV[u]
  local found = redis.call('EXISTS', ARGV[2] .. user) == 1
  if not found then
    local entries = redis.call('HGETALL', ARGV[1] .. user)
    for i = 1, #entries, 2 do
      if redis.call('EXISTS', ARGV[3] .. entries[i + 1]) == 1 then found = true break end
    end
  end
  if found then table.insert(online, user) end
end
return online
"""
# ARGV: conns prefix, node prefix, user ids... (the leaving markers do not count here)
_CONNECTED = """
local connected = {}
for u = 3, #ARGV do
  local entries = redis.call('HGETALL', ARGV[1] .. ARGV[u])
  for i = 1, #entries, 2 do
    if redis.call('EXISTS', ARGV[2] .. entries[i + 1]) == 1 then
      table.insert(connected, ARGV[u])
      break
    end
  end
end
return connected
"""
# KEYS: users. ARGV: conns prefix, leaving prefix, node prefix.
_REAP = """
local gone = {}
for _, user in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local key = ARGV[1] .. user
  local entries = redis.call('HGETALL', key)
  local removed, live = 0, 0
  for i = 1, #entries, 2 do
    if redis.call('EXISTS', ARGV[3] .. entries[i + 1]) == 1 then
      live = live + 1
    else
      redis.call('HDEL', key, entries[i])
      removed = removed + 1
    end
  end
  local leaving = redis.call('EXISTS', ARGV[2] .. user)
  if removed > 0 and live == 0 and leaving == 0 then table.insert(gone, user) end
  if live == 0 and leaving == 0 then redis.call('SREM', KEYS[1], user) end
end
return gone
"""


class RedisLedger:
    """The presence ledger every node shares (chat.services.ledger.Ledger)."""

    shared = True

    def __init__(
        self, url: str, heartbeat_ttl: float, grace: float, prefix: str = "chat:presence:"
    ) -> None:
        self.redis: aioredis.Redis = aioredis.Redis.from_url(
            url, decode_responses=True, socket_timeout=2, socket_connect_timeout=2
        )
        self.node = uuid.uuid4().hex
        self.ttl_ms = int(heartbeat_ttl * 1000)
        self.leaving_ms = int((grace + heartbeat_ttl) * 1000)
        self.p = prefix
        self._scripts = {
            name: self.redis.register_script(body)
            for name, body in (
                ("add", _ADD),
                ("remove", _REMOVE),
                ("settle", _SETTLE),
                ("online", _ONLINE),
                ("connected", _CONNECTED),
                ("reap", _REAP),
            )
        }
        # Said once per outage, not on every call or beat.
        self._outage = OutageLog(
            log, "presence: Redis unreachable", "presence: Redis reachable again"
        )
        self._heartbeat = TaskSet()

    def _keys(self, user_id: str) -> list[str]:
        return [f"{self.p}conns:{user_id}", f"{self.p}leaving:{user_id}"]

    async def _run(self, name: str, keys: list[str], args: Sequence[str | int]) -> Any:
        try:
            result = await self._scripts[name](keys=keys, args=args)
        except (RedisError, OSError) as exc:
            self._outage.down(exc)
            raise Unavailable("Presence store unavailable") from None
        self._outage.up()
        return result

    async def beat(self) -> None:
        await self.redis.set(f"{self.p}node:{self.node}", "1", px=self.ttl_ms)

    async def start(self) -> None:
        """Keep this node's heartbeat key alive: its connections count only while it lives."""
        self._heartbeat.spawn(self._heartbeat_forever())

    async def _heartbeat_forever(self) -> None:
        while True:
            try:
                await self.beat()
            except (RedisError, OSError) as exc:
                self._outage.down(exc)
            await asyncio.sleep(self.ttl_ms / 3000)

    async def add(self, user_id: str, conn_id: str) -> bool:
        keys = [*self._keys(user_id), f"{self.p}users"]
        return bool(await self._run("add", keys, [conn_id, self.node, user_id, f"{self.p}node:"]))

    async def remove(self, user_id: str, conn_id: str) -> bool:
        args: list[str | int] = [conn_id, f"{self.p}node:", self.leaving_ms]
        return bool(await self._run("remove", self._keys(user_id), args))

    async def settle(self, user_id: str) -> bool:
        return bool(await self._run("settle", self._keys(user_id), [f"{self.p}node:"]))

    async def online(self, user_ids: Iterable[str]) -> set[str]:
        ids = list(user_ids)
        if not ids:
            return set()
        args = [f"{self.p}conns:", f"{self.p}leaving:", f"{self.p}node:", *ids]
        try:
            return set(await self._run("online", [], args))
        except Unavailable:
            return set()  # Redis away: nobody is shown online rather than every list failing

    async def connected(self, user_ids: Iterable[str]) -> set[str]:
        """Unlike online(), a Redis outage raises Unavailable: the caller (notifications) retries
        rather than taking everyone for disconnected."""
        ids = list(user_ids)
        if not ids:
            return set()
        return set(await self._run("connected", [], [f"{self.p}conns:", f"{self.p}node:", *ids]))

    async def all_online(self) -> set[str]:
        try:
            members = await self.redis.smembers(f"{self.p}users")
        except (RedisError, OSError):
            return set()
        return await self.online(str(m) for m in members)

    async def hide(self, user_id: str, hidden: bool) -> None:
        key = f"{self.p}hidden"
        try:
            await (self.redis.sadd(key, user_id) if hidden else self.redis.srem(key, user_id))
        except (RedisError, OSError) as exc:
            raise Unavailable("Presence store unavailable") from exc

    async def hidden(self, user_ids: Iterable[str]) -> set[str]:
        ids = list(user_ids)
        if not ids:
            return set()
        try:
            flags = await self.redis.smismember(f"{self.p}hidden", ids)
        except (RedisError, OSError):
            return set()  # Redis away: online() answers nobody anyway
        return {u for u, flag in zip(ids, flags, strict=True) if flag}

    async def reap(self) -> list[str]:
        args = [f"{self.p}conns:", f"{self.p}leaving:", f"{self.p}node:"]
        return list(await self._run("reap", [f"{self.p}users"], args))

    async def close(self) -> None:
        await self._heartbeat.close()
        with contextlib.suppress(RedisError, OSError):
            await self.redis.delete(f"{self.p}node:{self.node}")
        await self.redis.aclose()
