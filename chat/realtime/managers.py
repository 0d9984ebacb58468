"""Socket.IO client managers: one node in memory, or many nodes through Redis pub/sub.

Both add two things to python-socketio's managers:
- skip markers: `@<channel>` in `skip_sid` skips every socket in that channel, resolved on each
  node against its own sockets (so "not the typist's own sockets" holds on every node);
- `control(op, ...)`: channel changes that must reach a user's sockets on every node (subscribe,
  unsubscribe, end sessions). Locally they are applied at once; with Redis they also travel on the
  same pub/sub channel as the broadcasts and every other node applies them to its own sockets.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import socketio
from engineio import packet as eio_packet
from socketio import packet

from chat.kit.outage import OutageLog
from chat.metrics import DELIVERIES
from chat.realtime import wire
from chat.realtime.channel_index import IndexedRooms
from chat.realtime.channels import room_channel, session_channel, user_channel

log = logging.getLogger("chat.realtime")
NAMESPACE = "/"
SKIP_PREFIX = "@"
CONTROL = "chat-control"
_DIRECT, _QUEUED = DELIVERIES.labels("direct"), DELIVERIES.labels("queued")


class ChatManager(IndexedRooms, socketio.AsyncManager):
    """The single-node manager (and the local layer under the Redis one)."""

    def local_sids(self, channel: str) -> list[str]:
        return [sid for sid, _ in self.get_participants(NAMESPACE, channel)]

    def _expand_skips(self, skip_sid: Any) -> Any:
        if not isinstance(skip_sid, list) or not any(
            isinstance(s, str) and s.startswith(SKIP_PREFIX) for s in skip_sid
        ):
            return skip_sid
        expanded = []
        for item in skip_sid:
            if isinstance(item, str) and item.startswith(SKIP_PREFIX):
                expanded.extend(self.local_sids(item[len(SKIP_PREFIX) :]))
            else:
                expanded.append(item)
        return expanded

    async def emit(
        self,
        event: str,
        data: Any,
        namespace: str | None = None,
        room: Any = None,
        skip_sid: Any = None,
        callback: Any = None,
        to: Any = None,
        **kwargs: Any,
    ) -> Any:
        namespace = namespace or NAMESPACE
        skip = self._expand_skips(skip_sid)
        if callback is not None or namespace not in self.rooms:
            return await super().emit(
                event, data, namespace, room=to or room, skip_sid=skip, callback=callback, **kwargs
            )
        self._broadcast(event, data, namespace, to or room, skip)
        return None

    def set_server(self, server: Any) -> None:
        super().set_server(server)
        # Lets `_broadcast` write to upgraded websockets directly (chat/realtime/wire.py).
        wire.install(server.eio)

    def _broadcast(self, event: str, data: Any, namespace: str, room: Any, skip: Any) -> None:
        """Encode once and frame once, then write the frame to each recipient's websocket.

        A recipient whose websocket is not ready for a direct write (polling, mid-upgrade, a
        packet sent earlier still in its Engine.IO queue, or a full write buffer) gets the packet
        on its queue instead, behind whatever is there. python-socketio's manager starts an
        asyncio task per recipient instead; at a few thousand deliveries a second those tasks,
        and then engineio's per-socket writer waking for every packet, were most of the work.
        """
        args = list(data) if isinstance(data, tuple) else ([] if data is None else [data])
        encoded = self.server.packet_class(
            packet.EVENT, namespace=namespace, data=[event, *args]
        ).encode()
        message = eio_packet.Packet(eio_packet.MESSAGE, encoded)
        # Binary payloads (this app sends none) encode to a list: no frame, queue path.
        frame = wire.text_frame(message.encode()) if isinstance(encoded, str) else None
        skipped = set(skip) if isinstance(skip, list) else {skip}
        sockets = self.server.eio.sockets
        direct_count = queued = 0  # counted locally, added to the metrics once per broadcast
        for sid, eio_sid in self.get_participants(namespace, room):
            if sid in skipped:
                continue
            sock = sockets.get(eio_sid)
            if sock is None or sock.closed:
                continue
            direct = getattr(sock, "wire", None)
            if direct is not None and frame is not None and direct.write_now(frame):
                direct_count += 1
                continue
            # What engineio's AsyncSocket.send does, less its per-packet ping check (its
            # service task already drops clients that stopped answering pings).
            sock.queue.put_nowait(message)
            queued += 1
        if direct_count:
            _DIRECT.inc(direct_count)
        if queued:
            _QUEUED.inc(queued)

    async def control(self, op: str, **args: Any) -> None:
        await self.apply_control(op, args)

    async def apply_control(self, op: str, args: dict[str, Any]) -> None:
        """Apply a channel change to this node's own sockets."""
        if op in ("subscribe", "unsubscribe"):
            channel = room_channel(args["room_id"])
            for sid in self.local_sids(user_channel(args["user_id"])):
                if op == "subscribe":
                    await self.enter_room(sid, NAMESPACE, channel)
                else:
                    await self.leave_room(sid, NAMESPACE, channel)
        elif op == "end_sessions":
            payload = {"reason": args["reason"]}
            for session_id in args["session_ids"]:
                for sid in self.local_sids(session_channel(session_id)):
                    # Local delivery, so the notice is queued before the disconnect.
                    await self.emit(
                        "session-expired", payload, NAMESPACE, room=sid, ignore_queue=True
                    )
                    await self.server.disconnect(sid, namespace=NAMESPACE, ignore_queue=True)
        else:
            log.warning("unknown channel control %r ignored", op)


class ChatRedisManager(socketio.AsyncRedisManager, ChatManager):
    """AsyncRedisManager (JSON, never pickle) plus channel controls, quieter and quicker to heal.

    Redis going away must not fail a send that is already stored: publishing failures are logged
    once per outage and swallowed (clients catch up with `sync`); the listener retries every
    second or two, so the cluster heals by itself when Redis returns.
    """

    connected: bool  # python-socketio's: whether its Redis client is connected

    def __init__(self, url: str, channel: str = "chat") -> None:
        super().__init__(url, channel=channel)
        self._delivery = OutageLog(
            log,
            "Redis unreachable: cross-node delivery paused; local delivery goes on",
            "Redis reachable again: cross-node delivery resumed",
        )

    async def _publish(self, data: Any) -> Any:
        for attempt in range(2):
            try:
                if not self.connected:
                    self._redis_connect()
                result = await self.redis.publish(self.channel, self.json.dumps(data))
                self._delivery.up()
                return result
            except Exception as exc:  # redis raises several unrelated types for "unreachable"
                self.connected = False
                if attempt == 1:
                    self._delivery.down(f"publishing: {exc}")
        return None

    async def _redis_listen_with_retries(self) -> Any:
        module = self._get_redis_module()
        while True:
            client = module.Redis.from_url(self.redis_url, **self.redis_options)
            pubsub = client.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(self.channel)
                self._delivery.up()
                async for message in pubsub.listen():
                    yield message
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self._delivery.down(f"listening: {exc}")
                await asyncio.sleep(1)
            finally:
                try:
                    await pubsub.aclose()
                    await client.aclose()
                except Exception:  # noqa: S110 - closing a dead connection may fail; nothing to do
                    pass

    async def _listen(self) -> Any:
        async for data in super()._listen():
            # Channel controls travel on the broadcast channel; they are ours to handle.
            if isinstance(data, bytes | str) and CONTROL in (
                data if isinstance(data, str) else data.decode(errors="ignore")
            ):
                message = self.json.loads(data)
                if message.get("method") == CONTROL:
                    if message.get("host_id") != self.host_id:
                        await self.apply_control(message["op"], message["args"])
                    continue
            yield data

    async def control(self, op: str, **args: Any) -> None:
        await self.apply_control(op, args)
        await self._publish({"method": CONTROL, "op": op, "args": args, "host_id": self.host_id})
