"""Prometheus metrics every layer may bump: plain counters, no unbounded labels (no user or
room ids), served at GET /metrics (chat/api/metrics.py)."""

from __future__ import annotations

from prometheus_client import Counter

DB_OPERATIONS = Counter("chat_db_operations", "Database operations, by repository method", ["op"])
MESSAGES_STORED = Counter("chat_messages_stored", "Messages stored (sends acked as created)")
SEND_BATCHES = Counter("chat_send_batches", "Group-commit batches written")
EVENTS_SHED = Counter(
    "chat_socket_events_shed", "Socket events answered RATE_LIMITED because the inbox was full"
)
