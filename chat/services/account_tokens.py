"""Single-use tokens that emails carry: made, checked and spent here, stored hashed.

A token is `<selector>.<verifier>`, both base64url: the selector (128 random bits) finds the
stored record, the verifier (256 random bits) is kept only as its SHA-256 and compared in constant
time. A token is bound to one account, one purpose (`reset` or `verify`) and the address it was
sent to; it expires (a reset link after RESET_TOKEN_MINUTES, a verification link after a day, or
RESET_TOKEN_MINUTES if longer); only the account's newest token of a purpose works (by creation
time, then selector): issuing one marks the older ones `replaced`, and a use checks that no newer
one exists, so of tokens issued at once exactly one works; spending it is one atomic update, so
two racing uses cannot both succeed.

Every refusal is VALIDATION_ERROR with `details.token` saying why: `malformed`, `invalid`, `used`,
`replaced`, `expired`, `purpose` or `account`. A refusal for purpose or account leaves the token
usable for what it was made for.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Callable

from chat.domain import User
from chat.errors import ValidationFailed
from chat.store import Store, now_ms
from chat.store.tokens import AccountToken, Purpose

DAY_MS = 24 * 3600 * 1000
SHAPE = re.compile(r"^([A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]{43})$")
WHAT = {"reset": "resetting a password", "verify": "verifying an email address"}
REFUSALS = {
    "malformed": "This link is incomplete or malformed: open the link from the email as it is",
    "invalid": "This link is not valid",
    "used": "This link has already been used",
    "replaced": "This link was replaced by a newer one: use the latest email",
    "expired": "This link has expired: ask for a new one",
    "account": "This link belongs to another account: sign out, then open it again",
}


def _digest(verifier: str) -> str:
    return hashlib.sha256(verifier.encode()).hexdigest()


def refused(reason: str, message: str | None = None) -> ValidationFailed:
    return ValidationFailed(message or REFUSALS[reason], {"token": reason})


class AccountTokens:
    def __init__(self, store: Store, reset_minutes: float, clock: Callable[[], int] = now_ms):
        self.store = store
        reset_ms = int(reset_minutes * 60_000)
        self.lifetimes: dict[Purpose, int] = {"reset": reset_ms, "verify": max(reset_ms, DAY_MS)}
        self.clock = clock  # epoch ms; tests move it to expire tokens without waiting

    async def issue(self, user: User, purpose: Purpose) -> str:
        """A new token for the account and purpose (older ones of that purpose are void)."""
        selector, verifier = secrets.token_urlsafe(16), secrets.token_urlsafe(32)
        now = self.clock()
        await self.store.tokens.insert(
            AccountToken(
                selector=selector,
                digest=_digest(verifier),
                user_id=user.id,
                purpose=purpose,
                email=user.email,
                created_at=now,
                expires_at=now + self.lifetimes[purpose],
            )
        )
        # Older ones only: of tokens issued at once, none voids one newer than itself.
        await self.store.tokens.replace_older(user.id, purpose, now, selector)
        return f"{selector}.{verifier}"

    async def check(
        self, token: str, purpose: Purpose, for_user: str | None = None
    ) -> AccountToken:
        """The token's record if it may be spent now for this purpose (and this account, when
        `for_user` is given); else the refusal, raised."""
        shape = SHAPE.match(token)
        if shape is None:
            raise refused("malformed")
        selector, verifier = shape.groups()
        record = await self.store.tokens.get(selector)
        # Constant-time: how much of a guessed verifier matches tells nothing.
        if record is None or not hmac.compare_digest(_digest(verifier), record.digest):
            raise refused("invalid")
        if record.purpose != purpose:
            raise refused("purpose", f"This link is for {WHAT[record.purpose]}, not for this")
        if for_user is not None and record.user_id != for_user:
            raise refused("account")
        if record.state is not None:
            raise refused(record.state)
        if record.expires_at <= self.clock():
            raise refused("expired")
        # Issuing voids the tokens older than its own once it is stored: of two issued at once,
        # the older can be checked before the newer's voiding. Only the newest may be spent.
        if await self.store.tokens.newest(record.user_id, purpose) != record.selector:
            raise refused("replaced")
        return record

    async def spend(self, record: AccountToken) -> None:
        """Use the token up; `used` if another request spent it first."""
        if not await self.store.tokens.spend(record.selector, record.digest, self.clock()):
            raise refused("used")

    async def void(self, user_id: str, purpose: Purpose) -> None:
        """Every usable token of the account for this purpose stops working."""
        await self.store.tokens.replace_all(user_id, purpose)
