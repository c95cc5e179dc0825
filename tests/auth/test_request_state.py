"""``RequestState.principal``: what ``to_auth()`` gives with the state's own pending rule,
worked out once when the state is made, and again for a state derived with ``replace``."""

from __future__ import annotations

import dataclasses

import pytest

from clerk_fastapi.testing import FakeClerk

pytestmark = pytest.mark.anyio


async def test_a_pending_session_has_no_principal_unless_pending_counts(
    fake_clerk: FakeClerk,
) -> None:
    token = fake_clerk.session_token(user_id="user_1", pending=True)
    strict = await fake_clerk.clerk().authenticate_token(token)
    assert strict.status == "signed-in" and strict.principal is None and strict.to_auth() is None
    held = strict.to_auth(treat_pending_as_signed_out=False)
    assert held is not None and held.user_id == "user_1"

    lenient = await fake_clerk.clerk(treat_pending_as_signed_out=False).authenticate_token(token)
    assert lenient.principal is not None and lenient.principal.user_id == "user_1"
    assert lenient.to_auth() is lenient.principal
    assert lenient.to_auth(treat_pending_as_signed_out=True) is None


async def test_a_state_turned_signed_out_loses_its_principal(fake_clerk: FakeClerk) -> None:
    state = await fake_clerk.clerk().authenticate_token(fake_clerk.session_token())
    assert state.principal is not None
    refused = dataclasses.replace(state, status="signed-out", auth=None, error="invalid_token")
    assert refused.principal is None and not refused.is_authenticated
    assert refused.log_level > state.log_level  # a refusal is logged at INFO, a success at DEBUG


async def test_a_cached_state_cannot_be_changed_by_the_route_it_answered(
    fake_clerk: FakeClerk,
) -> None:
    """One route's code cannot rewrite the state the cache serves to the next request."""
    clerk = fake_clerk.clerk()
    token = fake_clerk.session_token(user_id="user_1")
    await clerk.authenticate_token(token)
    served = await clerk.authenticate_token(token)
    assert served.source == "cache"
    for name, value in (("status", "signed-out"), ("auth", None), ("principal", None)):
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(served, name, value)
    with pytest.raises(dataclasses.FrozenInstanceError):
        del served.auth
    again = await clerk.authenticate_token(token)
    assert again.status == "signed-in" and again.principal.user_id == "user_1"
    assert again == served and "user_1" in repr(again)
