"""Prometheus metrics every layer may bump, cheap on the hot path, served at GET /metrics."""

from __future__ import annotations

import platform
from bisect import bisect_left
from collections.abc import Iterable, Iterator
from typing import Any

from prometheus_client import REGISTRY
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)

from chat import __version__

# Why not prometheus_client's own Counter and Histogram: each of their values takes a
# threading.Lock on every increment. The server is one event loop in one thread, so plain
# attributes suffice; the official client still formats the output (a custom collector, below).
# Label values come from fixed sets only (event names, route templates, codes): never user or
# room ids, so the number of series stays bounded.

_ALL: list[_Family] = []


class _Cell:
    __slots__ = ("value",)

    def __init__(self) -> None:
        self.value = 0.0

    def inc(self, amount: float = 1) -> None:
        self.value += amount


class _Buckets:
    __slots__ = ("bounds", "counts", "sum")

    def __init__(self, bounds: tuple[float, ...]) -> None:
        self.bounds = bounds
        self.counts = [0] * (len(bounds) + 1)  # the last one is +Inf
        self.sum = 0.0

    def observe(self, value: float) -> None:
        # Prometheus buckets are "less than or equal": the first bound >= value.
        self.counts[bisect_left(self.bounds, value)] += 1
        self.sum += value


class _Family:
    def __init__(self, name: str, doc: str, labelnames: Iterable[str] = ()) -> None:
        self.name = name
        self.doc = doc
        self.labelnames = tuple(labelnames)
        self._children: dict[tuple[str, ...], Any] = {}
        self._plain = None if self.labelnames else self._new()
        _ALL.append(self)

    def _new(self) -> Any:
        raise NotImplementedError

    def collect(self) -> Metric:
        raise NotImplementedError

    def labels(self, *values: str) -> Any:
        """The child for these label values; keep it where it is used often."""
        child = self._children.get(values)
        if child is None:
            child = self._children[values] = self._new()
        return child

    def _items(self) -> Iterator[tuple[list[str], Any]]:
        if self._plain is not None:
            yield [], self._plain
        for values, child in list(self._children.items()):
            yield list(values), child


class Counter(_Family):
    """A monotonic counter; exposed as `<name>_total`."""

    def _new(self) -> _Cell:
        return _Cell()

    def inc(self, amount: float = 1) -> None:
        self._plain.inc(amount)  # type: ignore[union-attr]

    def collect(self) -> Metric:
        family = CounterMetricFamily(self.name, self.doc, labels=self.labelnames)
        for values, cell in self._items():
            family.add_metric(values, cell.value)
        return family


class Histogram(_Family):
    """A histogram with a handful of fixed buckets (seconds)."""

    def __init__(self, name: str, doc: str, labelnames: Iterable[str], buckets: tuple[float, ...]):
        self.bounds = tuple(sorted(buckets))
        super().__init__(name, doc, labelnames)

    def _new(self) -> _Buckets:
        return _Buckets(self.bounds)

    def observe(self, value: float) -> None:
        self._plain.observe(value)  # type: ignore[union-attr]

    def collect(self) -> Metric:
        family = HistogramMetricFamily(self.name, self.doc, labels=self.labelnames)
        for values, child in self._items():
            running, cumulative = 0, []
            for bound, count in zip((*child.bounds, float("inf")), child.counts, strict=True):
                running += count
                cumulative.append((_le(bound), running))
            family.add_metric(values, cumulative, child.sum)
        return family


class Gauge(_Family):
    """A value set at scrape time (connected sockets): no cost between scrapes."""

    def _new(self) -> _Cell:
        return _Cell()

    def set(self, values: dict[tuple[str, ...], float]) -> None:
        for child in self._children.values():
            child.value = 0.0  # a transport with no sockets left reads 0, not its last count
        for key, value in values.items():
            self.labels(*key).value = value

    def collect(self) -> Metric:
        family = GaugeMetricFamily(self.name, self.doc, labels=self.labelnames)
        for values, cell in self._items():
            family.add_metric(values, cell.value)
        return family


def _le(bound: float) -> str:
    return "+Inf" if bound == float("inf") else repr(bound)


class _Collector:
    def collect(self) -> Iterator[Metric]:
        for family in _ALL:
            yield family.collect()

    def describe(self) -> list[Metric]:
        return []  # no duplicate-name checks against our own families


REGISTRY.register(_Collector())

# Latency buckets, seconds: few on purpose (each is a series per label set).
FAST = (0.001, 0.005, 0.025, 0.1, 0.5, 2.5)
SLOW = (0.005, 0.025, 0.1, 0.5, 2.5, 10.0)

BUILD_INFO = Gauge(
    "chat_build_info", "Always 1; the labels say what is running", ["version", "python"]
)
BUILD_INFO.set({(__version__, platform.python_version()): 1})

SOCKETS = Gauge(
    "chat_sockets_connected", "Socket.IO connections on this node, by transport", ["transport"]
)
SOCKET_EVENTS = Counter(
    "chat_socket_events", "Socket.IO events handled, by event and outcome (ok or the error code)",
    ["event", "outcome"],
)  # fmt: skip
ACK_SECONDS = Histogram(
    "chat_socket_ack_seconds", "From handling an event to its ack, by event", ["event"], FAST
)
EVENTS_SHED = Counter(
    "chat_socket_events_shed", "Socket events answered RATE_LIMITED because the inbox was full"
)
HTTP_REQUESTS = Counter(
    "chat_http_requests", "HTTP requests, by method, route template and status",
    ["method", "route", "status"],
)  # fmt: skip
HTTP_SECONDS = Histogram(
    "chat_http_request_seconds",
    "HTTP request latency by route template (Socket.IO transports left out: they are long-lived)",
    ["route"],
    SLOW,
)
DB_OPERATIONS = Counter("chat_db_operations", "Database operations, by repository method", ["op"])
DB_SECONDS = Histogram(
    "chat_db_operation_seconds", "Database operation latency, by repository method", ["op"], FAST
)
MESSAGES_STORED = Counter("chat_messages_stored", "Messages stored (sends acked as created)")
SEND_BATCHES = Counter("chat_send_batches", "Group-commit batches written")
DELIVERIES = Counter(
    "chat_deliveries",
    "Broadcast packets handed to a local socket: written directly, or queued behind others",
    ["path"],
)
RATE_LIMITED = Counter("chat_rate_limited", "Requests refused by a rate limit, by rule", ["rule"])
NOTIFICATIONS_SENT = Counter(
    "chat_notifications_sent",
    "Notifications delivered (Web Push, webhook), by channel",
    ["channel"],
)
NOTIFICATIONS_FAILED = Counter(
    "chat_notifications_failed", "Notifications that failed for good, by channel", ["channel"]
)
NOTIFICATIONS_DROPPED = Counter(
    "chat_notifications_dropped",
    "Notification jobs dropped unsent because the background queue was full (the oldest go)",
)
# Every channel's series exists from the start, at 0, so dashboards and alerts have it.
for _channel in ("webpush", "webhook"):
    NOTIFICATIONS_SENT.labels(_channel)
    NOTIFICATIONS_FAILED.labels(_channel)
