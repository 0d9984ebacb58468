"""Outgoing email (chat/services/mailer.py): STARTTLS and AUTH against a real aiosmtpd with a
certificate made for the test, a certificate nobody vouches for refused, the log fallback, and a
failed send logged without the link."""

from __future__ import annotations

import dataclasses
import logging
import ssl

import aiosmtplib
import pytest

from chat.api.keys import SERVICES
from chat.app import create_app
from chat.services.mailer import Email, LogMailer, SmtpMailer, build_mailer
from tests.helpers import register
from tests.smtp_server import SelfSigned, SmtpServer

MAIL = Email(to="ann@example.com", subject="Hello", text="A line.\nhttps://x.example/?reset=abc\n")


async def test_starttls_before_login_when_the_server_offers_it(tmp_path):
    tls = SelfSigned(tmp_path)
    async with SmtpServer(tls=tls, login=("mailer", "s3cret pass")) as smtp:
        url = f"smtp://mailer:s3cret%20pass@127.0.0.1:{smtp.port}"
        await SmtpMailer(url, "chat@example.org", tls_context=tls.client_context()).send(MAIL)
        (mail,) = smtp.received
    assert (mail.tls, mail.login) == (True, "mailer")
    assert mail.sender == "chat@example.org"
    assert mail.recipients == ["ann@example.com"]
    assert mail.body.replace("\r\n", "\n") == MAIL.text
    assert mail.message["Message-ID"].endswith("@example.org>")


async def test_a_certificate_nobody_vouches_for_is_refused(tmp_path):
    async with SmtpServer(tls=SelfSigned(tmp_path), login=("mailer", "secret")) as smtp:
        mailer = SmtpMailer(f"smtp://mailer:secret@127.0.0.1:{smtp.port}", "chat@example.org")
        with pytest.raises((aiosmtplib.SMTPException, ssl.SSLError)):
            await mailer.send(MAIL)  # the system's trust store: the test's own CA is not in it
        assert smtp.received == []


async def test_plain_smtp_when_starttls_is_not_offered():
    async with SmtpServer() as smtp:
        await SmtpMailer(smtp.url, "chat@example.org").send(MAIL)
        assert [(m.tls, m.login) for m in smtp.received] == [(False, None)]


def test_which_mailer(settings, caplog):
    caplog.set_level(logging.WARNING, "chat.mail")
    smtps = dataclasses.replace(settings, smtp_url="smtps://u:p@mail.example.org")
    mailer = build_mailer(smtps)
    assert isinstance(mailer, SmtpMailer)
    assert (mailer.implicit_tls, mailer.port, mailer.username) == (True, 465, "u")
    starttls = build_mailer(dataclasses.replace(settings, smtp_url="smtp://mail.example.org"))
    assert isinstance(starttls, SmtpMailer)
    assert (starttls.implicit_tls, starttls.port, starttls.username) == (False, 587, None)
    assert isinstance(build_mailer(settings), LogMailer)
    assert caplog.records == []  # outside production the log is the expected place
    production = dataclasses.replace(settings, env="production")
    assert isinstance(build_mailer(production), LogMailer)
    assert [r.getMessage() for r in caplog.records] == [
        "SMTP_URL is not set: password reset and verification emails go to the log only"
    ]


async def test_without_smtp_url_the_email_is_written_to_the_log(aiohttp_client, settings, captured):
    client = await aiohttp_client(create_app(settings))  # SMTP_URL empty
    ann = await register(client, "Ann")
    client.session.cookie_jar.clear()  # the calls below carry no session
    resp = await client.post("/api/auth/password/forgot", json={"email": ann.email})
    assert resp.status == 202
    await client.app[SERVICES].lifecycle.recovery.settle()
    lines = [r.getMessage() for r in captured.records if r.name == "chat.mail"]
    assert len(lines) == 1
    assert ann.email in lines[0]
    assert f"{settings.public_url}/?reset=" in lines[0]


async def test_a_failed_send_is_logged_without_the_link(aiohttp_client, settings, captured):
    async with SmtpServer() as smtp:
        url = smtp.url  # a port nobody listens on once this block ends
    client = await aiohttp_client(create_app(dataclasses.replace(settings, smtp_url=url)))
    ann = await register(client, "Ann")
    client.session.cookie_jar.clear()  # the calls below carry no session
    resp = await client.post("/api/auth/password/forgot", json={"email": ann.email})
    assert resp.status == 202  # the request never waits for the mail server
    await client.app[SERVICES].lifecycle.recovery.settle()
    lines = [r.getMessage() for r in captured.records if r.name == "chat.mail"]
    assert len(lines) == 1
    assert lines[0].startswith("could not send a password reset email: SMTPConnect")
    assert "reset=" not in lines[0]
