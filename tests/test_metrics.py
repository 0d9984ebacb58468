"""GET /metrics after real traffic, read with the official Prometheus parser: counts, no ids."""

from __future__ import annotations

import dataclasses
import platform

from prometheus_client.parser import text_string_to_metric_families

from chat import __version__
from chat.app import create_app
from tests.realtime import Chat

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]
SCRAPE = {"Authorization": "Bearer m-tok"}


def parse(text: str) -> Samples:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


async def scrape(chat: Chat) -> tuple[str, Samples]:
    resp = await chat.rest.get("/metrics", headers=SCRAPE)
    assert resp.status == 200
    text = await resp.text()
    return text, parse(text)


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0)


async def test_metrics_count_real_traffic_by_bounded_labels(
    aiohttp_server, aiohttp_client, settings
):
    sends = 12
    app = create_app(
        dataclasses.replace(settings, metrics_token="m-tok", rate_limit_messages=f"{sends}/minute")
    )
    server = await aiohttp_server(app)
    chat = Chat(server, await aiohttp_client(server))
    try:
        ann, bob = await chat.user("Ann"), await chat.user("Bob")
        room = await chat.room(ann)
        await chat.join(bob, room)
        sender = await chat.socket(ann)
        listeners = [await chat.socket(bob), await chat.socket(bob, transports=["polling"])]
        for peer in (sender, *listeners):
            await peer.wait_for("online-users")
        _, before = await scrape(chat)

        def delta(name: str, **labels: str) -> float:
            return value(after, name, **labels) - value(before, name, **labels)

        for n in range(sends):
            ack = await sender.call("send-message", {"roomId": room["id"], "text": f"m{n}"})
            assert ack["ok"], ack
        over = await sender.call("send-message", {"roomId": room["id"], "text": "one too many"})
        assert over["error"]["code"] == "RATE_LIMITED"
        bad = await sender.call("send-message", {"roomId": room["id"], "text": 5})
        assert bad["error"]["code"] == "VALIDATION_ERROR"
        junk = await sender.call("no-such-event-" + ann.id, {})
        assert junk["error"]["code"] == "NOT_FOUND"
        for listener in listeners:
            await listener.wait_for("new-message", lambda m: m["text"] == f"m{sends - 1}")
        for _ in range(3):
            status, _ = await chat.api("GET", f"/api/rooms/{room['id']}", ann)
            assert status == 200
        assert (await chat.rest.get(f"/api/nothing/{ann.id}")).status == 404
        text, after = await scrape(chat)

        # Sockets by transport (read when scraped), events by name and outcome, ack latency.
        assert value(after, "chat_sockets_connected", transport="websocket") == 2
        assert value(after, "chat_sockets_connected", transport="polling") == 1
        assert delta("chat_socket_events_total", event="send-message", outcome="ok") == sends
        assert delta("chat_socket_events_total", event="send-message", outcome="RATE_LIMITED") == 1
        assert (
            delta("chat_socket_events_total", event="send-message", outcome="VALIDATION_ERROR") == 1
        )
        assert delta("chat_socket_events_total", event="unknown", outcome="NOT_FOUND") == 1
        assert delta("chat_socket_ack_seconds_count", event="send-message") == sends + 2
        assert delta("chat_socket_ack_seconds_bucket", event="send-message", le="+Inf") == sends + 2
        assert delta("chat_rate_limited_total", rule="messages") == 1
        # Stored once each, delivered to Bob's two sockets (the sender's socket has the ack).
        assert delta("chat_messages_stored_total") == sends
        delivered = delta("chat_deliveries_total", path="direct") + delta(
            "chat_deliveries_total", path="queued"
        )
        assert delivered == 2 * sends
        # HTTP by route template and status, with latency.
        route = "/api/rooms/{room_id}"
        assert delta("chat_http_requests_total", method="GET", route=route, status="200") == 3
        assert delta("chat_http_request_seconds_count", route=route) == 3
        assert delta("chat_http_requests_total", method="GET", route="unmatched", status="404") == 1
        # Database operations by kind, each with its latency observed.
        for op in ("messages.insert_many", "rooms.reserve_seqs"):
            count = delta("chat_db_operations_total", op=op)
            assert count >= 1
            assert delta("chat_db_operation_seconds_count", op=op) == count
        # Every notification channel's series is there from the start; none was sent here (no
        # Web Push subscription, no webhook).
        for channel in ("webpush", "webhook"):
            for name in ("chat_notifications_sent_total", "chat_notifications_failed_total"):
                assert (name, (("channel", channel),)) in after
                assert delta(name, channel=channel) == 0
        assert (
            value(after, "chat_build_info", version=__version__, python=platform.python_version())
            == 1
        )
        # No label carries an id, whatever the clients sent.
        for identifier in (ann.id, bob.id, room["id"]):
            assert identifier not in text
    finally:
        await chat.close()


async def test_metrics_require_the_token_when_one_is_set(make_client):
    client = await make_client(metrics_token="m-tok")
    assert (await client.get("/metrics")).status == 401
    wrong = await client.get("/metrics", headers={"Authorization": "Bearer nope"})
    assert wrong.status == 401
    assert (await wrong.json())["error"]["code"] == "UNAUTHORIZED"
    assert (await client.get("/metrics", headers=SCRAPE)).status == 200
