"""Slow, lying and oversized HTTP requests: bounded in time, answered in contract JSON, no echo."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import time

import pytest

from chat.app import create_app
from tests.helpers import register

TRICKLE = 0.1  # seconds between bytes of a trickled request


@pytest.fixture
async def served(aiohttp_server, settings):
    return await aiohttp_server(create_app(dataclasses.replace(settings, http_read_timeout=1)))


async def answer(reader: asyncio.StreamReader) -> tuple[int, dict, bytes]:
    """Read one HTTP response (status, headers, body) and check the connection then ends."""
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 30)
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (x.partition(":") for x in lines[1:] if x)}
    body = await asyncio.wait_for(reader.readexactly(int(headers["content-length"])), 30)
    return int(lines[0].split()[1]), headers, body


def assert_contract_error(status: int, headers: dict, body: bytes, code: str) -> dict:
    assert headers["content-type"].startswith("application/json"), (status, body)
    error = json.loads(body)["error"]
    assert error["code"] == code and error["message"], error
    return error


async def test_a_body_shorter_than_its_content_length_is_answered_and_dropped(served, captured):
    reader, writer = await asyncio.open_connection(served.host, served.port)
    started = time.monotonic()
    writer.write(
        b"POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: 100\r\n\r\n" + b'{"email": '
    )
    status, headers, body = await answer(reader)
    print(f"lying Content-Length answered after {time.monotonic() - started:.2f} s")
    assert status == 400
    assert_contract_error(status, headers, body, "VALIDATION_ERROR")
    assert await asyncio.wait_for(reader.read(), 30) == b""  # and the connection is closed
    writer.close()
    assert not [r for r in captured.records if r.levelno >= logging.ERROR or r.exc_info]


async def test_an_upload_trickling_at_a_byte_at_a_time_is_cut_off(served, aiohttp_client):
    rest = await aiohttp_client(served)
    token = (await register(rest)).token
    reader, writer = await asyncio.open_connection(served.host, served.port)
    boundary = "b0undary"
    writer.write(
        (
            f"POST /api/uploads HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n"
            f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
            f"Content-Length: 100000\r\n\r\n--{boundary}\r\n"
            'Content-Disposition: form-data; name="file"; filename="a.txt"\r\n'
            "Content-Type: text/plain\r\n\r\n"
        ).encode()
    )
    started, sent = time.monotonic(), 0
    reply = asyncio.ensure_future(answer(reader))
    while not reply.done() and sent < 600:  # 60 s at most; the grace is 1 s
        writer.write(b"a")
        sent += 1
        await asyncio.wait([reply], timeout=TRICKLE)
    assert reply.done(), "a trickling upload was still open after 600 bytes"
    status, headers, body = reply.result()
    print(f"trickled upload dropped after {time.monotonic() - started:.2f} s, {sent} bytes")
    assert status == 400
    assert_contract_error(status, headers, body, "VALIDATION_ERROR")
    writer.close()


async def test_headers_that_trickle_are_dropped(served):
    reader, writer = await asyncio.open_connection(served.host, served.port)
    writer.write(b"GET /health HTTP/1.1\r\nHost: x\r\n")
    started, sent = time.monotonic(), 0
    eof = asyncio.ensure_future(reader.read())
    while not eof.done() and sent < 600:
        writer.write(b"X-Slow-%d: a\r\n" % sent)
        sent += 1
        await asyncio.wait([eof], timeout=TRICKLE)
    assert eof.done(), "a request whose headers trickle was still open after 600 lines"
    print(f"trickled headers dropped after {time.monotonic() - started:.2f} s, {sent} lines")
    writer.close()


async def test_a_100kb_header_gets_contract_json_that_echoes_nothing(served, captured):
    reader, writer = await asyncio.open_connection(served.host, served.port)
    writer.write(b"GET /api/users HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + b"a" * 100_000)
    writer.write(b"\r\n\r\n")
    status, headers, body = await answer(reader)
    assert status == 400
    assert_contract_error(status, headers, body, "VALIDATION_ERROR")
    assert b"aaaa" not in body and b"Bearer" not in body
    writer.close()
    assert not [r for r in captured.records if r.levelno >= logging.ERROR or r.exc_info]
    assert not [r for r in captured.records if "aaaa" in r.getMessage()]


async def test_a_bad_request_line_gets_contract_json(served):
    reader, writer = await asyncio.open_connection(served.host, served.port)
    writer.write(b"GET /\x00<script> HTTP/1.1\r\nHost: x\r\n\r\n")
    status, headers, body = await answer(reader)
    assert status == 400
    assert_contract_error(status, headers, body, "VALIDATION_ERROR")
    assert b"script" not in body
    writer.close()


async def test_an_upload_aborted_midway_logs_no_error(served, aiohttp_client, captured):
    rest = await aiohttp_client(served)
    token = (await register(rest)).token
    for _ in range(20):
        reader, writer = await asyncio.open_connection(served.host, served.port)
        writer.write(
            (
                f"POST /api/uploads HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n"
                "Content-Type: multipart/form-data; boundary=xx\r\nContent-Length: 500000\r\n\r\n"
                '--xx\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\n'
                "Content-Type: text/plain\r\n\r\n"
            ).encode()
            + b"a" * 100_000
        )
        await writer.drain()
        writer.transport.abort()
    # A request after them is answered: the server handled each abort before this one.
    resp = await rest.get("/health")
    assert resp.status == 200
    for _ in range(100):  # the aborted handlers finish soon after; wait by progress, not time
        if (
            sum(
                r.name == "chat.http" and " /api/uploads " in r.getMessage()
                for r in captured.records
            )
            >= 20
        ):
            break
        await asyncio.sleep(0.05)
    assert not [r for r in captured.records if r.levelno >= logging.ERROR or r.exc_info]
    assert not [r.getMessage() for r in captured.records if " 500 " in r.getMessage()]
