"""A real SMTP server in the test's own event loop (aiosmtpd): it receives what the app sends.

    async with SmtpServer() as smtp:              # plain SMTP on a free loopback port
        ... settings.smtp_url = smtp.url ...
        mail = await smtp.wait_for("ann@example.com")

`SmtpServer(tls=SelfSigned(tmp_path), login=("user", "pass"))` offers STARTTLS with a certificate
made for the test and requires it before AUTH; each received mail records whether it came over TLS
and who logged in.
"""

from __future__ import annotations

import asyncio
import datetime
import email
import ipaddress
import re
import ssl
import time
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.policy import default
from pathlib import Path
from typing import Any

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


@dataclass
class Received:
    sender: str
    recipients: list[str]
    message: EmailMessage
    tls: bool  # arrived after STARTTLS (or over implicit TLS)
    login: str | None  # the AUTH user, if any

    @property
    def body(self) -> str:
        part = self.message.get_body(("plain",))
        assert part is not None
        return part.get_content()

    def link_token(self, param: str) -> str:
        """The token in the mail's link `...?{param}=<token>`, read as a user's click would."""
        found = re.search(rf"https?://\S+[?&]{param}=([^\s&]+)", self.body)
        assert found, f"no ?{param}= link in: {self.body!r}"
        return found.group(1)


class SelfSigned:
    """A P-256 key and a certificate for localhost / 127.0.0.1, written under `folder`."""

    def __init__(self, folder: Path):
        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
        now = datetime.datetime.now(datetime.UTC)
        names = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName(names), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256())
        )
        self.cert_path = folder / "smtp-cert.pem"
        self.key_path = folder / "smtp-key.pem"
        self.cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        self.key_path.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )

    def server_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert_path, self.key_path)
        return context

    def client_context(self) -> ssl.SSLContext:
        """A client context that trusts this certificate (and nothing else)."""
        return ssl.create_default_context(cafile=str(self.cert_path))


@dataclass
class Inbox:
    """aiosmtpd's handler: keeps every message it accepts."""

    received: list[Received] = field(default_factory=list)
    login: tuple[str, str] | None = None

    async def handle_DATA(self, server: SMTP, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=default)
        assert isinstance(message, EmailMessage)
        user = session.auth_data.decode() if isinstance(session.auth_data, bytes) else None
        self.received.append(
            Received(
                envelope.mail_from,
                list(envelope.rcpt_tos),
                message,
                session.ssl is not None,
                user,
            )
        )
        return "250 Message accepted"

    def authenticate(
        self, server: SMTP, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> AuthResult:
        ok = (
            isinstance(auth_data, LoginPassword)
            and self.login is not None
            and (auth_data.login.decode(), auth_data.password.decode()) == self.login
        )
        return AuthResult(success=ok, auth_data=auth_data.login if ok else None)


class SmtpServer:
    def __init__(self, *, tls: SelfSigned | None = None, login: tuple[str, str] | None = None):
        self.inbox = Inbox(login=login)
        self.tls = tls
        self.login = login
        self._server: asyncio.AbstractServer | None = None
        self.port = 0

    def _protocol(self) -> SMTP:
        options: dict[str, Any] = {"hostname": "localhost"}
        if self.tls is not None:
            options |= {"tls_context": self.tls.server_context(), "require_starttls": True}
        if self.login is not None:
            options |= {"authenticator": self.inbox.authenticate, "auth_required": True}
        return SMTP(self.inbox, **options)

    async def __aenter__(self) -> SmtpServer:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(self._protocol, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    @property
    def url(self) -> str:
        who = f"{self.login[0]}:{self.login[1]}@" if self.login else ""
        return f"smtp://{who}127.0.0.1:{self.port}"

    @property
    def received(self) -> list[Received]:
        return self.inbox.received

    def to(self, address: str) -> list[Received]:
        return [r for r in self.received if address.lower() in (a.lower() for a in r.recipients)]

    async def wait_for(self, address: str, count: int = 1, timeout: float = 30) -> Received:
        """The `count`th mail to `address`, once it has arrived (the timeout only bounds a stuck
        test: the mail is sent in the background)."""
        deadline = time.monotonic() + timeout
        while len(self.to(address)) < count:
            assert time.monotonic() < deadline, f"no mail #{count} to {address} in {timeout}s"
            await asyncio.sleep(0.02)
        return self.to(address)[count - 1]
