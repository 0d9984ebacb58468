"""Server admins: the accounts whose email is in ADMIN_EMAILS and verified (never stored, so
editing the setting and restarting is how one is made or unmade).

Verified, because registering proves nothing about an address: without it, whoever registered an
admin's email first (before the admin did, or after the admin deleted their account) would be
admin."""

from __future__ import annotations

from collections.abc import Iterable

from chat.domain import User
from chat.errors import Forbidden


class ServerAdmins:
    def __init__(self, emails: Iterable[str]):
        self.emails = frozenset(e.lower() for e in emails)

    def is_admin(self, user: User | None) -> bool:
        return user is not None and user.email_verified and user.email.lower() in self.emails

    def require(self, user: User | None) -> None:
        if not self.is_admin(user):
            raise Forbidden("Only a server admin may do this")
