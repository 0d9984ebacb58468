"""A Socket.IO-first chat server: aiohttp + python-socketio + MongoDB."""

__version__ = "0.1.0"
