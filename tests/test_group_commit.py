"""Group commit of sends: gapless seqs, per-socket order, resends that take no seq, and overload
that is shed with an answer instead of dropping the connection."""

from __future__ import annotations

import asyncio
import dataclasses

from prometheus_client.parser import text_string_to_metric_families

from chat.api.keys import SERVICES, SOCKET_IO
from chat.app import create_app
from tests.helpers import all_history
from tests.realtime import Chat


async def _room_of(chat: Chat, count: int):
    users = [await chat.user(f"S{i}") for i in range(count)]
    room = await chat.room(users[0])
    for user in users[1:]:
        await chat.join(user, room)
    return users, room


def _send(peer, room, text: str, client_id: str | None = None):
    payload = {"roomId": room["id"], "text": text}
    if client_id is not None:
        payload["clientId"] = client_id
    return peer.call("send-message", payload, timeout=60)


async def test_hundred_sends_from_ten_sockets_take_seqs_one_to_hundred(chat):
    users, room = await _room_of(chat, 10)
    sockets = [await chat.socket(u) for u in users]
    listener = await chat.socket(users[0])
    acks = await asyncio.gather(
        *(_send(sockets[i], room, f"{i}:{n}") for n in range(10) for i in range(10))
    )
    assert all(a["ok"] for a in acks)
    assert sorted(a["message"]["seq"] for a in acks) == list(range(1, 101))
    history = await all_history(chat.api, room["id"], users[0])
    assert [m["seq"] for m in history] == list(range(1, 101))
    for i in range(10):  # each socket's messages in its own send order
        assert [m["text"] for m in history if m["text"].startswith(f"{i}:")] == [
            f"{i}:{n}" for n in range(10)
        ]
    _, body = await chat.api("GET", f"/api/rooms/{room['id']}", users[0])
    assert body["room"]["lastSeq"] == 100 and body["room"]["lastMessage"]["seq"] == 100
    # Everyone hears them in seq order, and they were written in fewer batches than messages.
    await listener.wait_for("new-message", lambda m: m["seq"] == 100, timeout=30)
    heard = [m["seq"] for m in listener.got("new-message")]
    assert heard == sorted(heard)
    commits = chat.server.app[SERVICES].messages.commits
    assert commits.batches < 100


async def test_resends_mixed_in_take_no_seq(chat):
    users, room = await _room_of(chat, 5)
    sockets = [await chat.socket(u) for u in users]
    first = await asyncio.gather(
        *(_send(sockets[i], room, f"{i}:{n}", f"c{i}-{n}") for n in range(4) for i in range(5))
    )
    # Every message again (a lost ack), interleaved with new ones, all at once.
    again = await asyncio.gather(
        *(_send(sockets[i], room, f"{i}:{n}", f"c{i}-{n}") for n in range(4) for i in range(5)),
        *(_send(sockets[i], room, f"{i}:new", f"c{i}-new") for i in range(5)),
    )
    assert all(a["ok"] for a in first + again)
    originals = {a["message"]["clientId"]: a["message"]["id"] for a in first}
    for ack in again[:20]:
        assert ack["message"]["id"] == originals[ack["message"]["clientId"]]
    history = await all_history(chat.api, room["id"], users[0])
    assert [m["seq"] for m in history] == list(range(1, 26))
    assert len({m["clientId"] for m in history}) == 25


async def test_resend_to_a_node_that_never_saw_it_leaves_no_gap(
    chat, aiohttp_server, aiohttp_client, settings
):
    """A resend found only at insert time (another node, or after a restart): the seqs it took
    are given back, or the batch's messages move down, so the room stays 1..lastSeq."""
    users, room = await _room_of(chat, 4)
    a = await chat.socket(users[0])
    ack = await _send(a, room, "original", "dup-1")
    assert ack["message"]["seq"] == 1
    other = await aiohttp_server(create_app(settings))  # same database, fresh memory
    chat2 = Chat(other, await aiohttp_client(other))
    try:
        peers = [await chat2.socket(u) for u in users]
        # The resend lands alone or in one batch with the fresh sends, as timing has it: both
        # must leave no gap, so three rounds.
        for _ in range(3):
            acks = await asyncio.gather(
                _send(peers[0], room, "original", "dup-1"),
                *(_send(p, room, "fresh") for p in peers[1:]),
            )
            assert acks[0]["message"]["id"] == ack["message"]["id"]
            assert acks[0]["message"]["seq"] == 1
        history = await all_history(chat.api, room["id"], users[0])
        assert [m["seq"] for m in history] == list(range(1, 11))
        _, body = await chat.api("GET", f"/api/rooms/{room['id']}", users[0])
        assert body["room"]["lastSeq"] == 10
        fresh = await _send(peers[1], room, "after")
        assert fresh["message"]["seq"] == 11
        # Sending marked each sender's room read up to their newest message, renumbered or not.
        history = await all_history(chat.api, room["id"], users[0])
        for user in users:
            newest = max(m["seq"] for m in history if m["sender"]["id"] == user.id)
            _, mine = await chat.api("GET", "/api/rooms/mine", user)
            assert mine["rooms"][0]["lastReadSeq"] == newest, user.name
    finally:
        await chat2.close()


async def test_a_flooding_socket_is_answered_for_every_event_and_stays(
    aiohttp_server, aiohttp_client, settings
):
    app = create_app(
        dataclasses.replace(settings, socket_event_limit=50, rate_limit_messages="100000/10seconds")
    )
    server = await aiohttp_server(app)
    chat = Chat(server, await aiohttp_client(server))
    try:
        users, room = await _room_of(chat, 2)
        flooder = await chat.socket(users[0])
        acks = await asyncio.gather(*(_send(flooder, room, f"f{n}", f"f{n}") for n in range(2000)))
        assert len(acks) == 2000  # every one answered
        stored = [a["message"] for a in acks if a["ok"]]
        refused = [a["error"] for a in acks if not a["ok"]]
        assert stored and refused
        assert {e["code"] for e in refused} == {"RATE_LIMITED"}
        assert all(e["details"]["retryAfter"] >= 1 for e in refused)
        # The stored ones are in send order, gapless.
        sent_order = [int(m["text"][1:]) for m in stored]
        assert sent_order == sorted(sent_order)
        assert [m["seq"] for m in stored] == list(range(1, len(stored) + 1))
        assert server.app[SOCKET_IO].refused_events == len(refused)
        assert flooder.sio.connected
        assert (await _send(flooder, room, "still here"))["ok"] is True
    finally:
        await chat.close()


def _samples(text: str) -> dict[tuple[str, tuple], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


async def test_metrics_count_database_operations_per_stored_message(
    aiohttp_server, aiohttp_client, settings
):
    server = await aiohttp_server(create_app(dataclasses.replace(settings, metrics_token="m-tok")))
    chat = Chat(server, await aiohttp_client(server))
    try:
        users, room = await _room_of(chat, 5)
        sockets = [await chat.socket(u) for u in users]
        assert (await chat.rest.get("/metrics")).status == 401
        scrape = {"Authorization": "Bearer m-tok"}
        before = _samples(await (await chat.rest.get("/metrics", headers=scrape)).text())
        acks = await asyncio.gather(
            *(_send(sockets[i], room, f"{i}:{n}") for n in range(8) for i in range(5))
        )
        assert all(a["ok"] for a in acks)
        after = _samples(await (await chat.rest.get("/metrics", headers=scrape)).text())

        def delta(name: str, **labels: str) -> float:
            key = (name, tuple(sorted(labels.items())))
            return after.get(key, 0) - before.get(key, 0)

        assert delta("chat_messages_stored_total") == 40
        batches = delta("chat_send_batches_total")
        assert 1 <= batches < 40
        # One reservation (one room), one insert, one pointer update per batch: the work grows
        # with batches, not with messages. Sockets subscribed to the room need no membership
        # query; a REST send (no socket to vouch for it) does.
        for op in ("rooms.reserve_seqs", "messages.insert_many", "members.advance_many"):
            assert delta("chat_db_operations_total", op=op) == batches, op
        assert delta("chat_db_operations_total", op="members.many") == 0
        status, _ = await chat.api(
            "POST", f"/api/rooms/{room['id']}/messages", users[0], json={"text": "rest"}
        )
        assert status == 201
        final = _samples(await (await chat.rest.get("/metrics", headers=scrape)).text())
        key = ("chat_db_operations_total", (("op", "members.many"),))
        assert final.get(key, 0) - after.get(key, 0) == 1
    finally:
        await chat.close()


async def test_a_kicked_members_open_socket_cannot_send(chat):
    users, room = await _room_of(chat, 3)
    owner, member = users[0], users[1]
    m = await chat.socket(member)
    assert (await _send(m, room, "before"))["ok"] is True
    status, _ = await chat.api("DELETE", f"/api/rooms/{room['id']}/members/{member.id}", owner)
    assert status == 204
    await m.wait_for("member-left")
    refused = await _send(m, room, "after")
    assert refused["ok"] is False and refused["error"]["code"] == "FORBIDDEN"
    history = await all_history(chat.api, room["id"], owner)
    assert [msg["text"] for msg in history] == ["before"]
