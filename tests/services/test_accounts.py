"""Accounts: signing out ends that session's connections; a new password ends the others."""

from __future__ import annotations

import pytest

from chat.errors import Conflict, Unauthorized
from tests.helpers import PASSWORD
from tests.services.conftest import World
from tests.services.recorder import Channel


async def test_logout_and_password_change_end_exactly_the_right_sessions(world: World):
    accounts = world.services.accounts
    first = await accounts.register("Ann", "ann@example.com", PASSWORD)
    second = await accounts.login("ANN@example.com", PASSWORD)
    third = await accounts.login("ann@example.com", PASSWORD)
    with pytest.raises(Conflict):
        await accounts.register("Ann again", "Ann@Example.com", PASSWORD)
    assert world.recorder.take() == []

    await accounts.logout(await accounts.authenticate(second.token))
    assert world.recorder.take() == [Channel("end_sessions", second.session_id, "logout")]
    with pytest.raises(Unauthorized):
        await accounts.authenticate(second.token)

    me = await accounts.authenticate(first.token)
    with pytest.raises(Unauthorized):
        await accounts.change_password(me, "not the password", "a new password")
    assert world.recorder.take() == []
    await accounts.change_password(me, PASSWORD, "a new password")
    assert world.recorder.take() == [Channel("end_sessions", third.session_id, "password-changed")]
    assert (await accounts.authenticate(first.token)).user_id == first.user_id
