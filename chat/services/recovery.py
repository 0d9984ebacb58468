"""Password reset by email, and email verification.

`forgot` answers at once and in the same time whatever the address: it only counts the request
against the address's budget and hands the rest (looking the account up, making the token,
talking to the mail server) to a background job, so neither the database nor SMTP latency tells
whether an account exists. Jobs run a few at a time; their failures are logged without the token.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Coroutine
from typing import Any

from chat.domain import User
from chat.kit.log_limit import LogLimit
from chat.ratelimit import RateLimiter
from chat.security import PasswordHasher
from chat.services.account_tokens import AccountTokens, refused
from chat.services.accounts import Principal
from chat.services.events import Publisher
from chat.services.mailer import Email, Mailer
from chat.services.presenters.shapes import UserWire
from chat.services.sessions import end_sessions
from chat.services.users import UserService
from chat.store import Store

log = logging.getLogger("chat.mail")
SENDING_AT_ONCE = 4
MOST_PENDING = 1000  # jobs waiting past this are dropped (each request is rate-limited anyway)


class Background:
    """Jobs that must not hold up a request: kept referenced, a few at a time, waited for by
    `settle` (tests, shutdown) and cancelled by `close`."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[None]] = set()
        self._slots = asyncio.Semaphore(SENDING_AT_ONCE)
        self._dropped = LogLimit(log, 60)

    def spawn(self, job: Coroutine[Any, Any, None], what: str) -> None:
        if len(self._tasks) >= MOST_PENDING:
            job.close()
            self._dropped.warning("full", "too many emails waiting: a %s email was dropped", what)
            return
        task = asyncio.create_task(self._run(job, what), name=f"mail-{what}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(self, job: Coroutine[Any, Any, None], what: str) -> None:
        async with self._slots:
            try:
                await job
            except Exception as exc:  # the mail server or the database: logged, never raised
                log.warning("could not send a %s email: %s: %s", what, type(exc).__name__, exc)

    async def settle(self) -> None:
        """Wait until every job handed over so far (and any they started) has ended."""
        while self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


class RecoveryService:
    def __init__(
        self,
        store: Store,
        tokens: AccountTokens,
        hasher: PasswordHasher,
        mailer: Mailer,
        publisher: Publisher,
        limiter: RateLimiter,
        users: UserService,
        public_url: str,
    ):
        self.store = store
        self.tokens = tokens
        self.hasher = hasher
        self.mailer = mailer
        self.publisher = publisher
        self.limiter = limiter
        self.users = users
        self.public_url = public_url
        self.jobs = Background()

    async def _budget(self, address: str) -> None:
        """Emails to one address: RATE_LIMIT_LOGIN_ACCOUNT, counted whether or not it exists."""
        await self.limiter.hit("login_account", "mail:" + address)

    def link(self, purpose: str, token: str) -> str:
        return f"{self.public_url}/?{purpose}={token}"

    # -- password reset -------------------------------------------------------------------------

    async def forgot(self, email: str) -> None:
        """Send a reset link if the address has an account; the same answer either way."""
        address = email.strip().lower()
        await self._budget(address)
        self.jobs.spawn(self._send_reset(address), "password reset")

    async def _send_reset(self, address: str) -> None:
        user = await self.store.users.by_email(address)
        if user is None or user.disabled:
            return
        token = await self.tokens.issue(user, "reset")
        minutes = self.tokens.lifetimes["reset"] // 60_000
        await self.mailer.send(reset_email(user, self.link("reset", token), minutes))

    async def reset(self, token: str, new_password: str) -> None:
        """Spend the token, set the password, and end every session of the account."""
        record = await self.tokens.check(token, "reset")
        hashed = await self.hasher.hash(new_password)
        await self.tokens.spend(record)
        user = await self.store.users.get(record.user_id)
        if user is None or user.email != record.email:
            raise refused("invalid")
        await self.store.users.update(user.id, password_hash=hashed)
        # The link reached the mailbox: that proves the address as well as a verification would.
        await self.store.users.set_email_verified(user.id, record.email)
        await self.tokens.void(user.id, "reset")
        await end_sessions(self.store, self.publisher, user.id, "password-reset")

    # -- email verification ---------------------------------------------------------------------

    async def request_verification(self, me: Principal) -> bool:
        """Email a verification link; False, sending nothing (and counting nothing), when the
        address is verified already (the contract's 202 either way)."""
        if me.user.email_verified:
            return False
        await self._budget(me.user.email)
        self.jobs.spawn(self._send_verification(me.user), "verification")
        return True

    async def _send_verification(self, user: User) -> None:
        token = await self.tokens.issue(user, "verify")
        hours = self.tokens.lifetimes["verify"] // 3_600_000
        await self.mailer.send(verify_email(user, self.link("verify", token), hours))

    async def verify(self, token: str, caller: Principal | None) -> UserWire:
        """Spend the token and mark the address verified; a signed-in caller must be the
        token's account."""
        record = await self.tokens.check(token, "verify", caller.user_id if caller else None)
        await self.tokens.spend(record)
        user = await self.store.users.set_email_verified(record.user_id, record.email)
        if user is None:  # the account is gone, or its address is not the one verified
            raise refused("invalid")
        return await self.users.view(user, own=True)

    async def settle(self) -> None:
        """Wait for the emails in flight (tests; shutdown gives them this chance first)."""
        await self.jobs.settle()

    async def close(self, grace: float = 2.0) -> None:
        """Give the emails in flight `grace` seconds to go, then stop them."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.jobs.settle(), grace)
        await self.jobs.close()


def reset_email(user: User, link: str, minutes: int) -> Email:
    text = (
        f"Hello {user.name},\n\n"
        f"Someone (we hope you) asked to reset the password of the chat account for {user.email}.\n"
        f"To choose a new password, open this link within {max(minutes, 1)} minutes:\n\n"
        f"{link}\n\n"
        "The link works once, and signs you out everywhere. If you did not ask for it, ignore\n"
        "this email: your password stays as it is.\n"
    )
    return Email(to=user.email, subject="Reset your password", text=text)


def verify_email(user: User, link: str, hours: int) -> Email:
    text = (
        f"Hello {user.name},\n\n"
        f"To confirm that {user.email} is your address, open this link within {max(hours, 1)}"
        f" hours:\n\n{link}\n\n"
        "The link works once. If you did not ask for it, ignore this email.\n"
    )
    return Email(to=user.email, subject="Confirm your email address", text=text)
