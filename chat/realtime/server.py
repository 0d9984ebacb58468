"""The python-socketio server, refusing binary packets before it buffers any attachment."""

from __future__ import annotations

import logging
from typing import Any

import socketio

log = logging.getLogger("chat.realtime")

# Socket.IO packet types 5 (BINARY_EVENT) and 6 (BINARY_ACK) announce attachments to follow.
_BINARY_TYPES = ("5", "6")


class ChatServer(socketio.AsyncServer):
    """AsyncServer that disconnects a client announcing binary attachments (files go over REST)."""

    async def _handle_eio_message(self, eio_sid: str, data: Any) -> None:
        if isinstance(data, bytes) or (isinstance(data, str) and data[:1] in _BINARY_TYPES):
            log.warning("binary packet refused; disconnecting", extra={"eio_sid": eio_sid})
            await self.eio.disconnect(eio_sid)
            return
        await super()._handle_eio_message(eio_sid, data)
