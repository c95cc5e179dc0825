"""Tests of the Next.js equivalents: every token type against every route, with the fake Clerk."""

import nextjs_accepts_list
import nextjs_any
import nextjs_route_groups
import pytest
from fastapi.testclient import TestClient

GROUPS = ["oauth", "api", "m2m", "user", "any"]


@pytest.fixture
def tokens(fake_clerk):
    return {
        "session_token": fake_clerk.session_token(user_id="user_1"),
        "oauth_token": fake_clerk.oauth_token(scopes=["profile"], user_id="user_2"),
        "m2m_token": fake_clerk.m2m_token(machine_id="mch_worker"),
        "api_key": fake_clerk.api_key(subject="user_3", scopes=["write:users"]),
    }


def call(app, method, path, token=None):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return TestClient(app).request(method, path, headers=headers)


def test_each_path_group_takes_its_token_type(fake_clerk, use_fake_clerk, tokens):
    app = nextjs_route_groups.app
    use_fake_clerk(app)
    accepted = {
        "oauth": "oauth_token",
        "api": "api_key",
        "m2m": "m2m_token",
        "user": "session_token",
    }
    for group in GROUPS:
        for token_type, token in tokens.items():
            response = call(app, "GET", f"/{group}/data", token)
            if group == "any" or accepted[group] == token_type:
                assert response.json() == {"group": group}, (group, token_type)
            else:
                assert response.status_code == 401, (group, token_type)
                # As in Clerk, an opaque mt_/ak_ token on a session-only route is not a JWT.
                opaque = group == "user" and token_type in ("m2m_token", "api_key")
                reason = "token-invalid" if opaque else "token-type-mismatch"
                assert response.json()["detail"]["reason"] == reason, (group, token_type)
        assert call(app, "GET", f"/{group}/data").status_code == 401  # no token at all
    assert call(app, "GET", "/health").json() == {"status": "ok"}


def test_routes_in_a_group_receive_the_principal(use_fake_clerk, tokens):
    app = nextjs_route_groups.app
    use_fake_clerk(app)
    assert call(app, "GET", "/user/me", tokens["session_token"]).json() == {"user_id": "user_1"}
    assert call(app, "GET", "/oauth/me", tokens["oauth_token"]).json()["user_id"] == "user_2"
    for token_type, token in tokens.items():
        whoami = call(app, "GET", "/any/whoami", token).json()
        assert whoami == {"token_type": token_type}


@pytest.mark.parametrize("path", ["/profile", "/profile/declared"])
def test_session_or_oauth_with_the_profile_scope(fake_clerk, use_fake_clerk, tokens, path):
    app = nextjs_accepts_list.app
    use_fake_clerk(app)
    user = call(app, "GET", path, tokens["session_token"])
    assert user.json() == {"user_id": "user_1", "token_type": "session_token"}
    oauth = call(app, "GET", path, tokens["oauth_token"])
    assert oauth.json() == {"user_id": "user_2", "token_type": "oauth_token"}
    no_scope = fake_clerk.oauth_token(scopes=["email"], user_id="user_2")
    assert call(app, "GET", path, no_scope).status_code == 403
    for other in ("m2m_token", "api_key"):
        assert call(app, "GET", path, tokens[other]).status_code == 401


def test_subject_per_token_type_and_the_api_key_scope(fake_clerk, use_fake_clerk, tokens):
    app = nextjs_accepts_list.app
    use_fake_clerk(app)
    expected = {"session_token": "user_1", "oauth_token": "user_2", "api_key": "user_3"}
    for token_type, subject in expected.items():
        response = call(app, "POST", "/users", tokens[token_type])
        assert response.json() == {"subject": subject, "token_type": token_type}
    read_only = fake_clerk.api_key(subject="user_3", scopes=["read:users"])
    assert call(app, "POST", "/users", read_only).status_code == 403
    assert call(app, "POST", "/users", tokens["m2m_token"]).status_code == 401


def test_any_token_branches_on_its_type(fake_clerk, use_fake_clerk, tokens):
    app = nextjs_any.app
    use_fake_clerk(app)
    answers = {t: call(app, "GET", "/activity", token).json() for t, token in tokens.items()}
    assert answers["session_token"] == {"kind": "user", "id": "user_1"}
    assert answers["oauth_token"]["kind"] == "oauth app"
    assert answers["oauth_token"]["on_behalf_of"] == "user_2"
    assert answers["m2m_token"] == {"kind": "machine", "id": "mch_worker"}
    assert answers["api_key"] == {"kind": "api key", "id": "user_3"}
    assert call(app, "GET", "/activity").status_code == 401
    assert call(app, "GET", "/activity", "not-a-token").status_code == 401
