"""Outgoing email: one small interface, SMTP (aiosmtplib) or the log behind it.

`SMTP_URL` `smtp://user:pass@host:587` upgrades to TLS with STARTTLS whenever the server offers it;
`smtps://host:465` speaks TLS from the first byte. Certificates are verified against the system's
trust store (or the `tls_context` given). With no `SMTP_URL` each email is written to the log
instead: development needs no mail server, and in production `build_mailer` warns once at start.

Sending is done off the request path by the callers (services/recovery.py); a Mailer only sends.
"""

from __future__ import annotations

import logging
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Protocol
from urllib.parse import unquote, urlsplit

import aiosmtplib

from config.settings import Settings

log = logging.getLogger("chat.mail")
SMTP_TIMEOUT = 30.0  # seconds for the whole conversation with the server


@dataclass(frozen=True, slots=True)
class Email:
    to: str
    subject: str
    text: str


class Mailer(Protocol):
    async def send(self, email: Email) -> None:
        """Deliver the email to the mail server (raise if it was not accepted)."""


def message_of(email: Email, sender: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = email.to
    message["Subject"] = email.subject
    message["Date"] = formatdate(localtime=False, usegmt=True)
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or "localhost")
    message.set_content(email.text)
    return message


class SmtpMailer:
    """Each email in its own SMTP conversation (emails are rare: resets and verifications)."""

    def __init__(
        self,
        url: str,
        sender: str,
        *,
        tls_context: ssl.SSLContext | None = None,
        timeout: float = SMTP_TIMEOUT,
    ):
        parts = urlsplit(url)
        self.implicit_tls = parts.scheme == "smtps"
        self.host = parts.hostname or "localhost"
        self.port = parts.port or (465 if self.implicit_tls else 587)
        self.username = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None
        self.sender = sender
        self.tls_context = tls_context
        self.timeout = timeout

    async def send(self, email: Email) -> None:
        await aiosmtplib.send(
            message_of(email, self.sender),
            hostname=self.host,
            port=self.port,
            username=self.username,
            password=self.password,
            use_tls=self.implicit_tls,
            start_tls=None if not self.implicit_tls else False,  # None: when offered
            tls_context=self.tls_context,
            timeout=self.timeout,
        )


class LogMailer:
    """Writes each email to the log (no SMTP_URL): links can be followed from there."""

    def __init__(self, sender: str):
        self.sender = sender

    async def send(self, email: Email) -> None:
        log.info(
            "email (SMTP_URL is not set, so it is written here) from %s to %s: %s\n%s",
            self.sender,
            email.to,
            email.subject,
            email.text,
        )


def build_mailer(settings: Settings) -> Mailer:
    """SMTP when SMTP_URL is set, else the log (with one warning in production)."""
    if settings.smtp_url:
        return SmtpMailer(settings.smtp_url, settings.mail_from)
    if settings.production:
        log.warning(
            "SMTP_URL is not set: password reset and verification emails go to the log only"
        )
    return LogMailer(settings.mail_from)
