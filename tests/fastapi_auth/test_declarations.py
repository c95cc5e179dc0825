"""Declarations that cannot mean what they say fail when they are made (issue 24 item 4):
a requirement no accepted token type can meet would either let every caller through unchecked
or refuse every caller, whatever the token."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import Depends, FastAPI, Security
from fastapi.testclient import TestClient

from clerk_fastapi import Auth
from clerk_fastapi.testing import FakeClerk


@pytest.mark.parametrize("accepts", ["session_token", ["session_token"], None])
def test_scopes_on_a_session_only_auth_fail_at_declaration(accepts: Any) -> None:
    kwargs = {} if accepts is None else {"accepts": accepts}
    with pytest.raises(ValueError, match="permissions=/roles=") as caught:
        Auth(**kwargs, scopes=["admin:write"])
    assert "session tokens carry no scopes" in str(caught.value)


@pytest.mark.parametrize(
    "requirement",
    [
        {"permissions": ["org:reports:read"]},
        {"roles": ["admin"]},
        {"features": ["export"]},
        {"plans": ["pro"]},
        {"reverification": "strict"},
    ],
)
@pytest.mark.parametrize("accepts", ["m2m_token", "api_key", ["oauth_token", "api_key"]])
def test_session_requirements_on_machine_only_routes_fail_at_declaration(
    requirement: dict[str, Any], accepts: Any
) -> None:
    with pytest.raises(ValueError, match="apply to session tokens only"):
        Auth(accepts=accepts, **requirement)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"accepts": ["session_token", "oauth_token"], "scopes": ["notes:read"]},
        {"accepts": "any", "scopes": ["notes:read"], "permissions": ["org:x:y"]},
        {"accepts": ["session_token", "api_key"], "permissions": ["org:x:y"]},
        {"accepts": "oauth_token", "scopes": ["profile"]},
        {"permissions": ["org:x:y"], "roles": ["admin"]},
    ],
)
def test_declarations_some_accepted_type_can_meet_still_work(kwargs: dict[str, Any]) -> None:
    Auth(**kwargs)


def test_security_scopes_on_a_session_only_auth_fail_at_start_up() -> None:
    fake = FakeClerk()
    clerk = fake.clerk()
    app = FastAPI(lifespan=clerk.lifespan)
    session_only = Auth()

    @app.get("/admin")
    async def admin(user: Any = Security(session_only, scopes=["admin:write"])) -> dict[str, str]:
        return {}

    with pytest.raises(ValueError, match=r"route /admin: Security\(\.\.\., scopes=\.\.\.\)"):
        clerk.install(app)
    with pytest.raises(ValueError, match="session tokens carry no scopes"), TestClient(app):
        pass


def test_scopes_through_an_outer_security_dependency_are_checked_too() -> None:
    fake = FakeClerk()
    session_only = Auth()

    async def current_user(user: Any = Depends(session_only)) -> Any:
        return user

    app = FastAPI()

    @app.get("/reports")
    async def reports(user: Any = Security(current_user, scopes=["reports:read"])) -> None:
        return None

    with pytest.raises(ValueError, match="route /reports"):
        fake.clerk().install(app)


def test_security_scopes_on_a_scoped_type_are_fine() -> None:
    fake = FakeClerk()
    app = FastAPI()
    mixed = Auth(accepts=["session_token", "oauth_token"])

    @app.get("/notes")
    async def notes(user: Any = Security(mixed, scopes=["notes:read"])) -> None:
        return None

    fake.clerk().install(app)
