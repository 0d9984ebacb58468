"""The server's VAPID key pair (RFC 8292): from VAPID_PRIVATE_KEY, or kept under DATA_DIR."""

from __future__ import annotations

import base64
import contextlib
import os
import uuid
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from py_vapid import Vapid

from config.settings import Settings, SettingsError

KEY_FILE = "vapid-private.pem"


@dataclass(frozen=True)
class VapidKey:
    signer: Vapid
    # What browsers' pushManager.subscribe() takes as applicationServerKey: the uncompressed
    # P-256 point, base64url without padding.
    public_key: str


def load_vapid(settings: Settings) -> VapidKey | None:
    """The configured key; outside production one generated once under DATA_DIR; in production
    without a key, None (Web Push is off)."""
    if settings.vapid_private_key:
        return _vapid(_parse(settings.vapid_private_key))
    if settings.production:
        return None
    return _vapid(_parse(_development_pem(settings.data_dir)))


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _vapid(key: ec.EllipticCurvePrivateKey) -> VapidKey:
    point = key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return VapidKey(signer=Vapid(private_key=key), public_key=b64url(point))


def _parse(text: str) -> ec.EllipticCurvePrivateKey:
    """PEM (a one-line env value may carry `\\n`), or base64url of the raw 32-byte scalar (what
    `vapid --gen` and web-push's generateVAPIDKeys print) or of DER."""
    text = text.replace("\\n", "\n").strip()
    try:
        if "-----BEGIN" in text:
            key = serialization.load_pem_private_key(text.encode(), password=None)
        else:
            raw = b64url_decode("".join(text.split()))
            if len(raw) == 32:
                key = ec.derive_private_key(int.from_bytes(raw, "big"), ec.SECP256R1())
            else:
                key = serialization.load_der_private_key(raw, password=None)
    except (ValueError, TypeError) as exc:
        raise SettingsError(f"VAPID_PRIVATE_KEY is not a private key: {exc}") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
        raise SettingsError("VAPID_PRIVATE_KEY must be a P-256 (prime256v1) key")
    return key


def _development_pem(data_dir: Path) -> str:
    """Generate the key once and keep it (mode 0600), so browsers' subscriptions survive a
    restart. Nodes sharing DATA_DIR agree: the first file linked into place wins."""
    path = data_dir / KEY_FILE
    if path.exists():
        return path.read_text()
    data_dir.mkdir(parents=True, exist_ok=True)
    pem = (
        ec.generate_private_key(ec.SECP256R1())
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        .decode()
    )
    draft = data_dir / f".{KEY_FILE}.{uuid.uuid4().hex}"
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(pem)
    try:
        os.link(draft, path)  # atomic, and fails if another node got there first
    except FileExistsError:
        pem = path.read_text()
    finally:
        with contextlib.suppress(FileNotFoundError):
            draft.unlink()
    return pem
