"""Differential parity run: @clerk/backend 3.25.0 versus clerk-fastapi, case by case.

Run with the package's venv python from the repository root (``make parity``). It starts one
``FakeClerk`` on 127.0.0.1 (the Backend API and the JWKS for both sides), generates the cases,
runs them all through ``parity/runner.mjs`` (one Node process, cases on stdin) and through
``Clerk.authenticate_request`` on a Starlette request built from the same method, URL and headers,
with both clocks frozen to the case's time. It prints every difference no rule in
``parity/deviations.py`` documents, writes ``parity/results.json`` and ends with the line
``N agree, M differ (K documented)``; it exits 1 when any difference is undocumented.

Only public names are used: ``clerk_fastapi.Clerk`` / ``ClerkSettings`` and
``clerk_fastapi.testing`` (``FakeClerk``, ``FrozenClock``, ``SigningKey``).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import hashlib
import json
import re
import shutil
import socket
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from starlette.requests import Request

from clerk_fastapi import Clerk, ClerkSettings
from clerk_fastapi.testing import FakeClerk, FrozenClock, SigningKey

sys.path.insert(0, str(Path(__file__).resolve().parent))
from deviations import RULES, matching_rules

HERE = Path(__file__).resolve().parent
NOW = 1_795_000_000  # seconds; every case is frozen here (2026-11-18T09:46:40Z)
APP_ORIGIN = "https://app.test"
URL = f"{APP_ORIGIN}/api/resource"
AUDIENCE = "https://api.parity.test"
OTHER_ISSUER = "https://clerk.other-instance.test"

CAT_SESSION = "cl_B7d4PD111AAA"
CAT_TEMPLATE = "cl_B7d4PD222AAA"
CAT_M2M = "cl_B7d4PD333AAA"
CAT_IGNORE = "cl_I7d4PD111III"
CAT_UNKNOWN = "cl_Z9z9ZZ999ZZZ"

ACCEPTS_FORMS: list[Any] = [
    None,  # omitted: Clerk's default, session_token
    "session_token",
    "any",
    "oauth_token",
    "m2m_token",
    "api_key",
    "machine_token",
    ["session_token"],
    ["oauth_token", "m2m_token", "api_key"],
    ["session_token", "oauth_token"],
    ["session_token", "m2m_token", "api_key"],
    ["api_key"],
]

# Clerk's auth-object field -> clerk-fastapi's principal field, per token type.
FIELD_MAP: dict[str, list[tuple[str, str]]] = {
    "session_token": [
        ("userId", "user_id"),
        ("sessionId", "session_id"),
        ("sessionStatus", "session_status"),
        ("orgId", "org_id"),
        ("orgRole", "org_role"),
        ("orgSlug", "org_slug"),
        ("orgPermissions", "org_permissions"),
        ("actor", "actor"),
        ("factorVerificationAge", "factor_verification_age"),
        ("sessionClaims", "claims"),
    ],
    "oauth_token": [
        ("id", "id"),
        ("subject", "subject"),
        ("scopes", "scopes"),
        ("userId", "user_id"),
        ("clientId", "client_id"),
    ],
    "m2m_token": [
        ("id", "id"),
        ("subject", "subject"),
        ("scopes", "scopes"),
        ("claims", "claims"),
        ("machineId", "machine_id"),
    ],
    "api_key": [
        ("id", "id"),
        ("subject", "subject"),
        ("scopes", "scopes"),
        ("claims", "claims"),
        ("name", "name"),
        ("userId", "user_id"),
        ("orgId", "org_id"),
    ],
}


def fingerprint(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()[:12]


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def b64json(value: Any) -> str:
    return b64url(json.dumps(value, separators=(",", ":")).encode())


def live_publishable_key(frontend_api: str) -> str:
    return "pk_live_" + base64.b64encode(f"{frontend_api}$".encode()).decode().rstrip("=")


def cookie_suffix(publishable_key: str) -> str:
    digest = hashlib.sha1(publishable_key.encode()).digest()  # noqa: S324 (Clerk's own scheme)
    return base64.b64encode(digest).decode().replace("+", "-").replace("/", "_")[:8]


# -- the token corpus ---------------------------------------------------------------------------


class Corpus:
    """Every token the cases use, minted against one FakeClerk at ``NOW``.

    ``tokens[name] = (token, primary type, fixture)``; ``fixture`` records what the fake will
    answer for opaque tokens (the rules read it).
    """

    def __init__(self, fake: FakeClerk) -> None:
        self.fake = fake
        self.tokens: dict[str, tuple[str, str, dict[str, Any]]] = {}
        self.evil = SigningKey(
            fake.signing_key.kid, SigningKey.generate("evil", pool_index=14).private_key
        )
        self.machine = "mch_2parityMachineAAAAAAAAAAAA"
        self._session()
        self._oauth_jwt()
        self._oauth_opaque()
        self._m2m_jwt()
        self._m2m_opaque()
        self._api_keys()
        self._malformed()

    def add(self, name: str, token: str, kind: str, **fixture: Any) -> None:
        assert name not in self.tokens, name
        self.tokens[name] = (token, kind, {"token": token, **fixture})

    def sign(self, payload: Any, header: dict[str, Any] | None = None, *, key: Any = None) -> str:
        return self.fake.sign(payload, header, key=key)

    def unsigned(self, header: dict[str, Any], payload: dict[str, Any], sig: str = "") -> str:
        return f"{b64json(header)}.{b64json(payload)}.{sig}"

    # session tokens
    def session_payload(self, **over: Any) -> dict[str, Any]:
        payload = self.fake.session_claims(
            "user_2parityUser",
            session_id="sess_2parity",
            org_id="org_2parity",
            org_slug="parity-org",
            role="admin",
            permissions=["org:reports:read", "org:reports:manage"],
            features=["u:dashboard"],
            plans=["u:pro"],
        )
        for key, value in over.items():
            if value is None:
                payload.pop(key, None)
            else:
                payload[key] = value
        return payload

    def session(
        self, name: str, header: dict[str, Any] | None = None, key: Any = None, **over: Any
    ) -> None:
        head = {"cat": CAT_SESSION, **(header or {})}
        self.add(name, self.sign(self.session_payload(**over), head, key=key), "session_token")

    def _session(self) -> None:
        f = self.fake
        s = self.session
        s("s_valid")
        self.add(
            "s_valid_v1",
            self.sign(
                f.session_claims(
                    "user_2v1",
                    version=1,
                    org_id="org_v1",
                    role="org:member",
                    permissions=["org:x:read"],
                ),
                {"cat": CAT_SESSION},
            ),
            "session_token",
        )
        self.add("s_pending", f.session_token("user_2pending", pending=True), "session_token")
        self.add(
            "s_minimal",
            self.sign({"sub": "user_2min", "exp": NOW + 60, "iat": NOW}),
            "session_token",
        )
        s("s_actor", act={"sub": "user_2admin", "type": "agent"})
        s("s_no_fva", fva=None)
        s("s_no_sid", sid=None)
        s("s_expired", exp=NOW - 60, iat=NOW - 120, nbf=NOW - 130)
        s("s_expired_in_skew", exp=NOW - 3, iat=NOW - 63, nbf=NOW - 70)
        s("s_exp_now", exp=NOW)
        s("s_nbf_future", nbf=NOW + 120)
        s("s_nbf_in_skew", nbf=NOW + 3)
        s("s_iat_future", iat=NOW + 120, nbf=None)
        s("s_iat_in_skew", iat=NOW + 3, nbf=None)
        # Clock-skew boundaries (5 s): expired when exp <= now - 5; early when nbf/iat > now + 5.
        s("s_exp_skew_edge", exp=NOW - 5, iat=NOW - 65, nbf=NOW - 70)
        s("s_exp_skew_inside", exp=NOW - 4, iat=NOW - 64, nbf=NOW - 70)
        s("s_nbf_skew_edge", nbf=NOW + 5)
        s("s_nbf_skew_outside", nbf=NOW + 6)
        s("s_iat_skew_edge", iat=NOW + 5, nbf=None)
        s("s_iat_skew_outside", iat=NOW + 6, nbf=None)
        s("s_exp_missing", exp=None)
        s("s_exp_string", exp=str(NOW + 60))
        s("s_exp_float", exp=NOW + 60.5)
        s("s_nbf_string", nbf="soon")
        s("s_iat_string", iat="now")
        s("s_bad_signature_key", key=self.evil)
        token = f.session_token("user_2flip")
        head, _, sig = token.rpartition(".")
        self.add(
            "s_bad_signature_flip",
            f"{head}.{('A' if sig[0] != 'A' else 'B') + sig[1:]}",
            "session_token",
        )
        payload = self.session_payload()
        self.add(
            "s_alg_none_empty",
            self.unsigned(
                {"alg": "none", "kid": f.signing_key.kid, "typ": "JWT", "cat": CAT_SESSION}, payload
            ),
            "session_token",
        )
        s("s_alg_none_signed", header={"alg": "none"})
        s("s_alg_hs256", header={"alg": "HS256"})
        s("s_alg_es256", header={"alg": "ES256"})
        s("s_alg_rs384", header={"alg": "RS384"})
        s("s_alg_rs512", header={"alg": "RS512"})
        s("s_alg_ps256", header={"alg": "PS256"})
        s("s_alg_missing", header={"alg": None})
        s("s_kid_unknown", header={"kid": "ins_unknownKid"})
        s("s_kid_missing", header={"kid": None})
        s("s_typ_absent", header={"typ": None})
        s("s_typ_lower", header={"typ": "jwt"})
        s("s_typ_jws", header={"typ": "JWS"})
        s("s_cat_template", header={"cat": CAT_TEMPLATE})
        s("s_cat_m2m", header={"cat": CAT_M2M})
        s("s_cat_unknown", header={"cat": CAT_UNKNOWN})
        s("s_cat_ignore", header={"cat": CAT_IGNORE})
        s("s_cat_absent", header={"cat": None})
        s("s_sub_missing", sub=None)
        s("s_sub_number", sub=12345)
        s("s_sub_empty", sub="")
        s("s_sub_odd", sub="not-a-user-id")
        s("s_azp_missing", azp=None)
        s("s_azp_foreign", azp="https://evil.test")
        s("s_aud_match", aud=AUDIENCE)
        s("s_aud_list_match", aud=["https://x.test", AUDIENCE])
        s("s_aud_other", aud="https://other-api.test")
        s("s_aud_odd_shape", aud=[1, 2])
        s("s_iss_other", iss=OTHER_ISSUER)
        s("s_iss_missing", iss=None)
        s("s_iss_trailing_slash", iss=f.issuer + "/")
        self.add("s_payload_array", self.sign(b"[1,2,3]", {"cat": CAT_SESSION}), "session_token")
        self.add(
            "s_payload_not_json",
            f"{b64json({'alg': 'RS256', 'kid': f.signing_key.kid, 'typ': 'JWT'})}."
            f"{b64url(b'not json')}.{b64url(b'sig')}",
            "session_token",
        )

    # OAuth JWTs
    def oauth_payload(self, **over: Any) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "azp": self.fake.authorized_party,
            "exp": NOW + 3600,
            "iat": NOW,
            "iss": self.fake.issuer,
            "nbf": NOW - 10,
            "sub": "user_2oauthUser",
            "client_id": "client_2parity",
            "scope": "read write",
            "jti": "oat_" + "1" * 32,
        }
        for key, value in over.items():
            if value is None:
                payload.pop(key, None)
            else:
                payload[key] = value
        return payload

    def oauth(
        self, name: str, header: dict[str, Any] | None = None, key: Any = None, **over: Any
    ) -> None:
        head = {"typ": "at+jwt", **(header or {})}
        self.add(name, self.sign(self.oauth_payload(**over), head, key=key), "oauth_token")

    def _oauth_jwt(self) -> None:
        o = self.oauth
        o("o_valid")
        o("o_valid_app_typ", header={"typ": "application/at+jwt"})
        o("o_scp_array", scp=["a", "b"], scope="ignored scope")
        o("o_no_scope", scope=None)
        o("o_no_client_id", client_id=None)
        o("o_no_jti", jti=None)
        o("o_expired", exp=NOW - 60, iat=NOW - 3700, nbf=NOW - 3710)
        o("o_nbf_future", nbf=NOW + 120)
        o("o_iat_future", iat=NOW + 120, nbf=None)
        o("o_bad_signature", key=self.evil)
        o("o_alg_none", header={"alg": "none"})
        o("o_alg_hs256", header={"alg": "HS256"})
        o("o_kid_unknown", header={"kid": "ins_unknownKid"})
        o("o_aud_match", aud=[AUDIENCE])
        o("o_aud_string", aud=AUDIENCE)
        o("o_aud_other", aud=["https://other-api.test"])
        o("o_aud_empty_list", aud=[])
        o("o_azp_foreign", azp="https://evil.test")
        o("o_azp_missing", azp=None)
        o("o_iss_other", iss=OTHER_ISSUER)
        o("o_cat_template", header={"cat": CAT_TEMPLATE})
        o("o_cat_session", header={"cat": CAT_SESSION})
        o("o_sub_mch", sub=self.machine)
        o("o_sub_missing", sub=None)
        o("o_sub_empty", sub="")
        o("o_exp_missing", exp=None)
        o("o_exp_skew_edge", exp=NOW - 5, iat=NOW - 65, nbf=NOW - 70)
        o("o_exp_skew_inside", exp=NOW - 4, iat=NOW - 64, nbf=NOW - 70)

    # OAuth opaque
    def opaque(
        self,
        name: str,
        prefix: str,
        kind: str,
        resource: dict[str, Any] | None,
        revoke: bool = False,
    ) -> None:
        token = prefix + hashlib.sha256(name.encode()).hexdigest()[:32]
        if resource is not None:
            self.fake.register_opaque(token, kind, resource)  # type: ignore[arg-type]
            if revoke:
                self.fake.revoke(token)
        self.add(name, token, kind, verify_answer=None if revoke else resource)

    def oauth_resource(self, **over: Any) -> dict[str, Any]:
        resource: dict[str, Any] = {
            "object": "clerk_idp_oauth_access_token",
            "id": "oat_" + "2" * 32,
            "client_id": "client_2opaque",
            "subject": "user_2opaqueUser",
            "scopes": ["profile", "email"],
            "revoked": False,
            "revocation_reason": None,
            "expired": False,
            "expiration": (NOW + 3600) * 1000,
            "created_at": NOW * 1000,
            "updated_at": NOW * 1000,
        }
        resource.update(over)
        return resource

    def _oauth_opaque(self) -> None:
        r = self.oauth_resource
        self.opaque("oat_valid", "oat_", "oauth_token", r())
        self.opaque("oat_revoked_404", "oat_", "oauth_token", r(), revoke=True)
        self.opaque("oat_unknown", "oat_", "oauth_token", None)
        self.opaque("oat_expired_404", "oat_", "oauth_token", r(expiration=(NOW - 60) * 1000))
        self.opaque("oat_200_revoked", "oat_", "oauth_token", r(revoked=True))
        self.opaque("oat_200_expired", "oat_", "oauth_token", r(expired=True))
        self.opaque("oat_200_inactive", "oat_", "oauth_token", {"active": False})
        self.opaque("oat_aud_match", "oat_", "oauth_token", r(aud=[AUDIENCE]))
        self.opaque("oat_aud_string", "oat_", "oauth_token", r(aud=AUDIENCE))
        self.opaque("oat_aud_other", "oat_", "oauth_token", r(aud=["https://other-api.test"]))
        self.opaque("oat_no_scopes", "oat_", "oauth_token", r(scopes=None))
        self.add("oat_jwt_shaped", "oat_a.b.c", "oauth_token")
        self.add("oat_bare_prefix", "oat_", "oauth_token")

    # M2M JWTs
    def m2m_payload(self, **over: Any) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "iss": self.fake.issuer,
            "sub": self.machine,
            "aud": ["mch_2otherMachine"],
            "exp": NOW + 3600,
            "iat": NOW,
            "nbf": NOW - 10,
            "jti": "mt_" + "3" * 32,
            "scopes": "mch_2otherMachine",
        }
        for key, value in over.items():
            if value is None:
                payload.pop(key, None)
            else:
                payload[key] = value
        return payload

    def m2m(
        self, name: str, header: dict[str, Any] | None = None, key: Any = None, **over: Any
    ) -> None:
        head = {"cat": CAT_M2M, **(header or {})}
        self.add(name, self.sign(self.m2m_payload(**over), head, key=key), "m2m_token")

    def _m2m_jwt(self) -> None:
        m = self.m2m
        m("m_valid")
        m("m_custom_claims", role="reporter", tenant={"id": 7})
        m("m_no_scopes_claim", scopes=None)
        m("m_aud_string_no_scopes", scopes=None, aud="mch_2otherMachine")
        m("m_no_aud_no_scopes", scopes=None, aud=None)
        m("m_aud_audience", aud=[AUDIENCE], scopes=None)
        m("m_no_jti", jti=None)
        m("m_cat_absent", header={"cat": None})
        m("m_cat_session", header={"cat": CAT_SESSION})
        m("m_cat_template", header={"cat": CAT_TEMPLATE})
        m("m_cat_ignore", header={"cat": CAT_IGNORE})
        m("m_expired", exp=NOW - 60, iat=NOW - 3700, nbf=NOW - 3710)
        m("m_nbf_future", nbf=NOW + 120)
        m("m_iat_future", iat=NOW + 120, nbf=None)
        m("m_bad_signature", key=self.evil)
        m("m_alg_none", header={"alg": "none"})
        m("m_alg_hs256", header={"alg": "HS256"})
        m("m_kid_unknown", header={"kid": "ins_unknownKid"})
        m("m_typ_at_jwt", header={"typ": "at+jwt"})
        m("m_typ_other", header={"typ": "JWS"})
        m("m_azp_foreign", azp="https://evil.test")
        m("m_iss_other", iss=OTHER_ISSUER)
        m("m_exp_missing", exp=None)
        m("m_exp_skew_edge", exp=NOW - 5, iat=NOW - 65, nbf=NOW - 70)
        m("m_nbf_skew_outside", nbf=NOW + 6)
        m("m_sub_bare_prefix", sub="mch_")

    def m2m_resource(self, **over: Any) -> dict[str, Any]:
        resource: dict[str, Any] = {
            "object": "machine_to_machine_token",
            "id": "mt_" + "4" * 32,
            "subject": self.machine,
            "scopes": ["mch_2otherMachine"],
            "claims": None,
            "revoked": False,
            "revocation_reason": None,
            "expired": False,
            "expiration": (NOW + 3600) * 1000,
            "last_used_at": None,
            "created_at": NOW * 1000,
            "updated_at": NOW * 1000,
        }
        resource.update(over)
        return resource

    def _m2m_opaque(self) -> None:
        r = self.m2m_resource
        self.opaque("mt_valid", "mt_", "m2m_token", r())
        self.opaque("mt_claims", "mt_", "m2m_token", r(claims={"env": "prod"}))
        self.opaque("mt_no_expiration", "mt_", "m2m_token", r(expiration=None))
        self.opaque("mt_revoked_404", "mt_", "m2m_token", r(), revoke=True)
        self.opaque("mt_unknown", "mt_", "m2m_token", None)
        self.opaque("mt_expired_404", "mt_", "m2m_token", r(expiration=(NOW - 60) * 1000))
        self.opaque("mt_200_revoked", "mt_", "m2m_token", r(revoked=True))
        self.opaque("mt_200_expired", "mt_", "m2m_token", r(expired=True))
        self.add("mt_bad_chars", "mt_abc!def", "m2m_token")
        self.add("mt_too_long", "mt_" + "a" * 600, "m2m_token")

    def api_key_resource(self, **over: Any) -> dict[str, Any]:
        resource: dict[str, Any] = {
            "object": "api_key",
            "id": "ak_" + "5" * 32,
            "type": "api_key",
            "name": "parity-key",
            "subject": "user_2keyOwner",
            "scopes": ["read:reports"],
            "claims": None,
            "revoked": False,
            "revocation_reason": None,
            "expired": False,
            "expiration": None,
            "created_by": "user_2keyOwner",
            "description": None,
            "last_used_at": None,
            "created_at": NOW * 1000,
            "updated_at": NOW * 1000,
        }
        resource.update(over)
        return resource

    def _api_keys(self) -> None:
        r = self.api_key_resource
        self.opaque("ak_user", "ak_", "api_key", r())
        self.opaque("ak_org", "ak_", "api_key", r(subject="org_2keyOrg", created_by=None))
        self.opaque("ak_machine", "ak_", "api_key", r(subject=self.machine))
        self.opaque("ak_claims", "ak_", "api_key", r(claims={"tier": "gold"}))
        self.opaque("ak_no_name", "ak_", "api_key", r(name=None))
        self.opaque("ak_expiring", "ak_", "api_key", r(expiration=(NOW + 60) * 1000))
        self.opaque("ak_revoked_404", "ak_", "api_key", r(), revoke=True)
        self.opaque("ak_unknown", "ak_", "api_key", None)
        self.opaque("ak_expired_404", "ak_", "api_key", r(expiration=(NOW - 60) * 1000))
        self.opaque("ak_200_revoked", "ak_", "api_key", r(revoked=True))
        self.opaque("ak_200_expired", "ak_", "api_key", r(expired=True))
        self.add("ak_machine_secret", self.fake.machine_secret_key, "api_key")
        self.add("ak_bad_chars", "ak_abc%def", "api_key")
        self.add("ak_too_long", "ak_" + "b" * 600, "api_key")

    def _malformed(self) -> None:
        kid = self.fake.signing_key.kid
        self.add("x_word", "not-a-token", "session_token")
        self.add("x_three_dots", "a.b.c", "session_token")
        self.add(
            "x_two_parts",
            f"{b64json({'alg': 'RS256', 'kid': kid})}.{b64json({'sub': 'u'})}",
            "session_token",
        )
        token = self.tokens["s_valid"][0]
        self.add("x_four_parts", token + ".extra", "session_token")
        self.add("x_padded_b64", token.replace(".", "=.", 1), "session_token")
        self.add("x_sk_secret", "sk_test_" + "c" * 40, "session_token")
        self.add("x_unknown_prefix", "pat_" + "d" * 32, "session_token")
        # Longer than clerk-fastapi's max_token_length (16 KiB), otherwise a valid session token.
        big = self.session_payload(padding="p" * 20_000)
        self.add("x_huge_session", self.sign(big, {"cat": CAT_SESSION}), "session_token")


# -- cases --------------------------------------------------------------------------------------


class Cases:
    def __init__(self, fake: FakeClerk, corpus: Corpus) -> None:
        self.fake = fake
        self.corpus = corpus
        self.items: list[dict[str, Any]] = []
        self.live_pk = live_publishable_key(fake.frontend_api)
        self.test_pk = fake.publishable_key
        self.suffix = cookie_suffix(self.live_pk)
        self.pem = fake.signing_key.public_pem()
        self.other_pem = SigningKey.generate("other", pool_index=13).public_pem()

    def add(
        self,
        desc: str,
        *,
        token_name: str | None = None,
        headers: list[tuple[str, str]] | None = None,
        accepts: Any = "session_token",
        method: str = "GET",
        config: dict[str, Any] | None = None,
        fixture: dict[str, Any] | None = None,
        url: str = URL,
    ) -> None:
        cfg = {"publishable_key": "live", **(config or {})}
        fix = dict(fixture or {})
        tokens = list(fix.pop("extra_tokens", []))
        if token_name is not None:
            token, _, base = self.corpus.tokens[token_name]
            fix = {**base, **fix}
            tokens.append(token)
        all_headers = [("accept", "application/json"), *(headers or [])]
        self.items.append(
            {
                "id": f"c{len(self.items) + 1:04d}",
                "desc": desc,
                "now": NOW,
                "accepts": accepts,
                "config": cfg,
                "request": {"method": method, "url": url, "headers": all_headers},
                "fixture": fix,
                "tokens": tokens,
            }
        )

    def bearer(self, name: str) -> list[tuple[str, str]]:
        return [("authorization", f"Bearer {self.corpus.tokens[name][0]}")]

    def build(self) -> list[dict[str, Any]]:
        self.header_matrix()
        self.config_variants()
        self.header_forms()
        self.methods_and_handshake()
        self.cookies()
        self.backend_faults()
        self.machine_secret_keys()
        self.cookie_config_variants()
        self.query_parameters()
        return self.items

    def cookie_config_variants(self) -> None:
        t = self.corpus.tokens
        configs: list[tuple[str, dict[str, Any]]] = [
            ("authorized_parties=[app]", {"authorized_parties": [APP_ORIGIN]}),
            ("authorized_parties=[other]", {"authorized_parties": ["https://other.test"]}),
            ("audience", {"audience": [AUDIENCE]}),
            ("issuer=fake", {"issuer": self.fake.issuer}),
            ("issuer=other", {"issuer": OTHER_ISSUER}),
            ("jwt_key=pem", {"jwt_key": "pem"}),
            ("jwt_key=other-pem", {"jwt_key": "other_pem"}),
            ("secret_key=wrong", {"secret_key": "wrong"}),
        ]
        names = [
            "s_valid",
            "s_azp_missing",
            "s_azp_foreign",
            "s_aud_match",
            "s_aud_other",
            "s_iss_missing",
            "s_expired",
            "s_kid_unknown",
        ]
        for label, config in configs:
            for name in names:
                cookie = f"__session={t[name][0]}; __client_uat={NOW - 30}"
                for accepts in (None, "any"):
                    self.add(
                        f"cookie {name} + uat {label} accepts={accepts!r}",
                        token_name=name,
                        headers=[("cookie", cookie)],
                        accepts=accepts,
                        config=config,
                    )

    def query_parameters(self) -> None:
        t = self.corpus.tokens
        cookie = f"__session={t['s_valid'][0]}; __client_uat={NOW - 30}"
        for label, query, config in (
            ("token in query, no header", f"?__session={t['s_valid'][0]}", {}),
            (
                "__clerk_db_jwt in query (dev)",
                "?__clerk_db_jwt=dvb_parity",
                {"publishable_key": "test"},
            ),
            ("__clerk_synced=true", "?__clerk_synced=true", {}),
            (
                "__clerk_redirect_url (dev)",
                "?__clerk_redirect_url=https%3A%2F%2Fapp.test%2F",
                {"publishable_key": "test"},
            ),
        ):
            for headers in ([], [("cookie", cookie)]):
                carrier = "cookie" if headers else "no cookie"
                self.add(
                    f"query {label}, {carrier}",
                    token_name="s_valid",
                    headers=headers,
                    accepts=None,
                    config=config,
                    url=URL + query,
                )

    def backend_faults(self) -> None:
        jwts = ["s_valid", "o_valid", "m_valid"]
        opaque = ["oat_valid", "mt_valid", "ak_user"]
        for backend in [*FAULT_SCENARIOS, "closed"]:
            names = jwts if backend.startswith("jwks") else opaque
            if backend == "closed":
                names = ["s_valid", "o_valid", "m_valid", *opaque]
            for name in names:
                kind = self.corpus.tokens[name][1]
                for accepts in ("any", kind):
                    self.add(
                        f"backend {backend} header {name} accepts={accepts!r}",
                        token_name=name,
                        headers=self.bearer(name),
                        accepts=accepts,
                        config={"backend": backend},
                    )
        # A cookie session while the JWKS fails.
        cookie = f"__session={self.corpus.tokens['s_valid'][0]}; __client_uat={NOW - 30}"
        for backend in ("jwks_500", "jwks_empty", "closed"):
            self.add(
                f"backend {backend} cookie s_valid",
                token_name="s_valid",
                headers=[("cookie", cookie)],
                accepts=None,
                config={"backend": backend},
            )

    def machine_secret_keys(self) -> None:
        for msk in ("good", "wrong"):
            for name in ("mt_valid", "mt_unknown", "m_valid", "ak_user", "oat_valid", "s_valid"):
                for accepts in ("m2m_token", "any", ["m2m_token", "api_key"]):
                    self.add(
                        f"machine_secret_key={msk} header {name} accepts={accepts!r}",
                        token_name=name,
                        headers=self.bearer(name),
                        accepts=accepts,
                        config={"machine_secret_key": msk},
                    )
            self.add(
                f"machine_secret_key={msk} no token accepts='m2m_token'",
                accepts="m2m_token",
                config={"machine_secret_key": msk},
            )

    def header_matrix(self) -> None:
        for name in self.corpus.tokens:
            for accepts in ACCEPTS_FORMS:
                self.add(
                    f"header {name} accepts={accepts!r}",
                    token_name=name,
                    headers=self.bearer(name),
                    accepts=accepts,
                )

    def config_variants(self) -> None:
        pem_tokens = [n for n in self.corpus.tokens if n[:2] in ("s_", "o_", "m_")]
        variants: list[tuple[str, dict[str, Any], list[str]]] = [
            (
                "authorized_parties=[app]",
                {"authorized_parties": [APP_ORIGIN]},
                [n for n in self.corpus.tokens if n[:2] in ("s_", "o_", "m_")],
            ),
            (
                "authorized_parties=[other]",
                {"authorized_parties": ["https://other.test"]},
                [
                    "s_valid",
                    "s_azp_missing",
                    "s_azp_foreign",
                    "s_expired",
                    "o_valid",
                    "o_azp_foreign",
                    "m_valid",
                    "m_azp_foreign",
                    "ak_user",
                    "mt_valid",
                ],
            ),
            (
                "audience",
                {"audience": [AUDIENCE]},
                [
                    n
                    for n in self.corpus.tokens
                    if n[:2] in ("s_", "o_", "m_") or n.startswith("oat_")
                ]
                + ["ak_user", "mt_valid"],
            ),
            (
                "issuer=fake",
                {"issuer": self.fake.issuer},
                [n for n in self.corpus.tokens if n.startswith(("s_", "o_valid", "m_valid"))],
            ),
            (
                "issuer=other",
                {"issuer": OTHER_ISSUER},
                [
                    "s_valid",
                    "s_iss_other",
                    "s_iss_missing",
                    "s_iss_trailing_slash",
                    "s_expired",
                    "o_valid",
                    "o_iss_other",
                    "m_valid",
                    "m_iss_other",
                    "ak_user",
                ],
            ),
            ("jwt_key=pem", {"jwt_key": "pem"}, pem_tokens),
            (
                "jwt_key=other-pem",
                {"jwt_key": "other_pem"},
                ["s_valid", "s_kid_unknown", "s_expired", "o_valid", "m_valid", "ak_user"],
            ),
            (
                "secret_key=wrong",
                {"secret_key": "wrong"},
                [
                    "s_valid",
                    "s_kid_unknown",
                    "o_valid",
                    "m_valid",
                    "oat_valid",
                    "mt_valid",
                    "ak_user",
                ],
            ),
        ]
        for label, config, names in variants:
            for name in names:
                kind = self.corpus.tokens[name][1]
                for accepts in ("any", kind):
                    self.add(
                        f"header {name} {label} accepts={accepts!r}",
                        token_name=name,
                        headers=self.bearer(name),
                        accepts=accepts,
                        config=config,
                    )

    def header_forms(self) -> None:
        for name, accepts_list in (
            ("s_valid", [None, "any", ["session_token", "api_key"]]),
            ("ak_user", ["api_key", "any"]),
            ("m_valid", ["m2m_token", "any"]),
        ):
            token = self.corpus.tokens[name][0]
            other = self.corpus.tokens["ak_org"][0]
            forms: list[tuple[str, list[tuple[str, str]], list[str]]] = [
                ("Bearer <t>", [("authorization", f"Bearer {token}")], []),
                ("bearer <t>", [("authorization", f"bearer {token}")], []),
                ("BEARER <t>", [("authorization", f"BEARER {token}")], []),
                ("<t> alone", [("authorization", token)], []),
                ("Bearer  <t> (two spaces)", [("authorization", f"Bearer  {token}")], []),
                ("Bearer <t> junk", [("authorization", f"Bearer {token} junk")], []),
                ("Bearer <t> <t2>", [("authorization", f"Bearer {token} {other}")], [other]),
                ("Bearer <t>, trailing space", [("authorization", f"Bearer {token} ")], []),
                ("Bearer\\t<t>", [("authorization", f"Bearer\t{token}")], []),
                ("Bearer (bare)", [("authorization", "Bearer")], []),
                ("Bearer + space", [("authorization", "Bearer ")], []),
                ("empty header", [("authorization", "")], []),
                ("Basic creds", [("authorization", "Basic dXNlcjpwYXNz")], []),
                ("Token <t>", [("authorization", f"Token {token}")], []),
                (
                    "two headers <t>, <t2>",
                    [("authorization", f"Bearer {token}"), ("authorization", f"Bearer {other}")],
                    [other],
                ),
                (
                    "two identical headers",
                    [("authorization", f"Bearer {token}"), ("authorization", f"Bearer {token}")],
                    [],
                ),
                ("Bearer <t>,", [("authorization", f"Bearer {token},")], []),
                ('Bearer "<t>"', [("authorization", f'Bearer "{token}"')], []),
            ]
            for label, headers, extra in forms:
                for accepts in accepts_list:
                    self.add(
                        f"header form {label} [{name}] accepts={accepts!r}",
                        token_name=name,
                        headers=headers,
                        accepts=accepts,
                        fixture={"extra_tokens": extra},
                    )

    def methods_and_handshake(self) -> None:
        refresh = f"__refresh_{self.suffix}=refresh_token_value"
        html = [("accept", "text/html,application/xhtml+xml")]
        doc = [("sec-fetch-dest", "document")]
        for name in ("s_expired", "s_nbf_future", "s_iat_future", "s_valid", "s_bad_signature_key"):
            variants: list[tuple[str, str, list[tuple[str, str]]]] = [
                ("POST", "POST", []),
                ("PUT", "PUT", []),
                ("GET text/html", "GET", html),
                ("GET sec-fetch-dest=document", "GET", doc),
                (
                    "GET sec-fetch-dest=empty + text/html",
                    "GET",
                    [*html, ("sec-fetch-dest", "empty")],
                ),
                (
                    "GET document, redirect count 3",
                    "GET",
                    [*doc, ("cookie", "__clerk_redirect_count=3")],
                ),
                ("GET __refresh cookie", "GET", [("cookie", refresh)]),
                ("POST __refresh cookie", "POST", [("cookie", refresh)]),
            ]
            for label, method, extra in variants:
                for accepts in ("session_token", "any"):
                    self.add(
                        f"method {label} header {name} accepts={accepts!r}",
                        token_name=name,
                        headers=[*self.bearer(name), *extra],
                        accepts=accepts,
                        method=method,
                    )

    def cookies(self) -> None:
        t = self.corpus.tokens
        sfx = self.suffix
        uat_ok = str(NOW - 30)
        session_accepts: list[Any] = [
            None,
            "any",
            ["session_token", "api_key"],
            ["api_key"],
            "api_key",
            "machine_token",
        ]
        plain: list[tuple[str, str, str | None]] = [
            ("no cookies", "", None),
            ("__session + uat", f"__session={t['s_valid'][0]}; __client_uat={uat_ok}", "s_valid"),
            ("__session, no uat", f"__session={t['s_valid'][0]}", "s_valid"),
            ("__session + uat=0", f"__session={t['s_valid'][0]}; __client_uat=0", "s_valid"),
            ("__session + uat junk", f"__session={t['s_valid'][0]}; __client_uat=abc", "s_valid"),
            (
                "__session + uat 123abc",
                f"__session={t['s_valid'][0]}; __client_uat=123abc",
                "s_valid",
            ),
            ("__session + empty uat", f"__session={t['s_valid'][0]}; __client_uat=", "s_valid"),
            ("uat only", f"__client_uat={uat_ok}", None),
            ("uat=0 only", "__client_uat=0", None),
            (
                "uat later than iat",
                f"__session={t['s_valid'][0]}; __client_uat={NOW + 30}",
                "s_valid",
            ),
            ("uat equal to iat", f"__session={t['s_valid'][0]}; __client_uat={NOW}", "s_valid"),
            (
                "uat later, token without iat",
                f"__session={t['s_minimal'][0]}; __client_uat={NOW + 30}",
                "s_minimal",
            ),
            ("empty __session + uat", f"__session=; __client_uat={uat_ok}", None),
        ]
        uat_old = str(NOW - 200)  # before every token's iat: the cookie checks pass
        for name in (
            "s_expired",
            "s_expired_in_skew",
            "s_nbf_future",
            "s_iat_future",
            "s_bad_signature_key",
            "s_kid_unknown",
            "s_alg_rs384",
            "s_azp_missing",
        ):
            cookie = f"__session={t[name][0]}; __client_uat={uat_old}"
            plain.append((f"__session={name} + older uat", cookie, name))
        for name in (
            "s_pending",
            "s_valid_v1",
            "s_expired",
            "s_nbf_future",
            "s_iat_future",
            "s_bad_signature_key",
            "s_alg_hs256",
            "s_kid_unknown",
            "s_cat_template",
            "s_cat_m2m",
            "s_cat_unknown",
            "s_cat_ignore",
            "s_azp_missing",
            "s_sub_empty",
            "s_typ_lower",
            "s_iss_other",
            "s_iss_missing",
            "m_valid",
            "o_valid",
            "ak_user",
            "mt_valid",
            "oat_valid",
            "x_word",
            "x_three_dots",
            "s_exp_missing",
        ):
            cookie = f"__session={t[name][0]}; __client_uat={uat_ok}"
            plain.append((f"__session={name} + uat", cookie, name))
        good, bad = t["s_valid"][0], t["s_bad_signature_key"][0]
        plain += [
            (
                "two __session good,bad",
                f"__session={good}; __session={bad}; __client_uat={uat_ok}",
                "s_valid",
            ),
            (
                "two __session bad,good",
                f"__session={bad}; __session={good}; __client_uat={uat_ok}",
                "s_bad_signature_key",
            ),
            (
                "two __session identical",
                f"__session={good}; __session={good}; __client_uat={uat_ok}",
                "s_valid",
            ),
            ("quoted __session", f'__session="{good}"; __client_uat={uat_ok}', "s_valid"),
            ("spaces around", f" __session = {good} ;  __client_uat = {uat_ok} ", "s_valid"),
            ("suffixed only", f"__session_{sfx}={good}; __client_uat_{sfx}={uat_ok}", "s_valid"),
            (
                "suffixed session, plain uat",
                f"__session_{sfx}={good}; __client_uat={uat_ok}",
                "s_valid",
            ),
            ("suffixed session, no uat", f"__session_{sfx}={good}", "s_valid"),
            (
                "plain bad + suffixed good",
                f"__session={bad}; __client_uat={uat_ok}; __session_{sfx}={good}; "
                f"__client_uat_{sfx}={uat_ok}",
                "s_valid",
            ),
            (
                "plain good + suffixed bad",
                f"__session={good}; __client_uat={uat_ok}; __session_{sfx}={bad}; "
                f"__client_uat_{sfx}={uat_ok}",
                "s_valid",
            ),
            (
                "plain foreign iss + suffixed good",
                f"__session={t['s_iss_other'][0]}; __client_uat={uat_ok}; __session_{sfx}={good}; "
                f"__client_uat_{sfx}={uat_ok}",
                "s_valid",
            ),
            (
                "suffixed uat=0, plain good",
                f"__session={good}; __client_uat={uat_ok}; __session_{sfx}={bad}; "
                f"__client_uat_{sfx}=0",
                "s_valid",
            ),
            ("wrong suffix", f"__session_zzzzzzzz={good}; __client_uat_zzzzzzzz={uat_ok}", None),
            # Rule 4: both UATs set and the plain session is newer -> plain; else suffixed.
            (
                "plain newer + suffixed older",
                f"__session={good}; __client_uat={uat_old}; "
                f"__session_{sfx}={t['s_expired_in_skew'][0]}; __client_uat_{sfx}={uat_old}",
                "s_valid",
            ),
            (
                "plain older + suffixed newer",
                f"__session={t['s_expired_in_skew'][0]}; __client_uat={uat_old}; "
                f"__session_{sfx}={good}; __client_uat_{sfx}={uat_old}",
                "s_valid",
            ),
        ]
        for label, cookie, token_name in plain:
            headers = [("cookie", cookie)] if cookie else []
            for accepts in session_accepts:
                for method in ("GET", "POST"):
                    if method == "POST" and accepts not in (None, "any"):
                        continue
                    self.add(
                        f"cookie {label} accepts={accepts!r} {method}",
                        token_name=token_name,
                        headers=headers,
                        accepts=accepts,
                        method=method,
                    )
        # Header beats cookie; lower-case bearer falls back to the cookie in Clerk.
        cookie = f"__session={good}; __client_uat={uat_ok}"
        for label, header in (
            ("header ak_user + cookie", f"Bearer {t['ak_user'][0]}"),
            ("header bad session + cookie", f"Bearer {bad}"),
            ("header s_valid + cookie", f"Bearer {good}"),
            ("lower-case bearer bad + cookie", f"bearer {bad}"),
            ("Basic + cookie", "Basic dXNlcjpwYXNz"),
        ):
            for accepts in (None, "any", ["session_token", "api_key"], "api_key"):
                self.add(
                    f"cookie {label} accepts={accepts!r}",
                    token_name="s_valid",
                    headers=[("authorization", header), ("cookie", cookie)],
                    accepts=accepts,
                    fixture={"extra_tokens": [t["ak_user"][0], bad]},
                )
        # Development instance: dev-browser flows, and with a dev-browser cookie.
        for label, cookie in (
            ("dev, no cookies", ""),
            ("dev, __session + uat", f"__session={good}; __client_uat={uat_ok}"),
            (
                "dev, __session + uat + db_jwt",
                f"__session={good}; __client_uat={uat_ok}; __clerk_db_jwt=dvb_parity",
            ),
            (
                "dev, expired __session + uat + db_jwt",
                f"__session={t['s_expired'][0]}; __client_uat={uat_ok}; __clerk_db_jwt=dvb_parity",
            ),
        ):
            for accepts in (None, "any"):
                self.add(
                    f"cookie {label} accepts={accepts!r}",
                    token_name="s_valid",
                    headers=[("cookie", cookie)] if cookie else [],
                    accepts=accepts,
                    config={"publishable_key": "test"},
                )
        # Rule 6 (development only): suffixed UAT set, plain UAT 0, suffixed session expired ->
        # plain cookies (and so a session without an active client).
        dev_sfx = cookie_suffix(self.test_pk)
        for label, cookie in (
            (
                "dev, rule 6: plain uat 0 + suffixed expired",
                f"__clerk_db_jwt=dvb_parity; __session={good}; __client_uat=0; "
                f"__session_{dev_sfx}={t['s_expired'][0]}; __client_uat_{dev_sfx}={uat_ok}",
            ),
            (
                "dev, rule 6 not met: suffixed valid",
                f"__clerk_db_jwt_{dev_sfx}=dvb_parity; __session={bad}; __client_uat=0; "
                f"__session_{dev_sfx}={good}; __client_uat_{dev_sfx}={uat_ok}",
            ),
        ):
            for accepts in (None, "any"):
                self.add(
                    f"cookie {label} accepts={accepts!r}",
                    token_name="s_valid",
                    headers=[("cookie", cookie)],
                    accepts=accepts,
                    config={"publishable_key": "test"},
                )
        # Page loads with cookies: handshake in Clerk.
        for name in ("s_expired", "s_valid"):
            cookie = f"__session={t[name][0]}; __client_uat={uat_ok}"
            for label, extra in (
                ("document GET", [("sec-fetch-dest", "document")]),
                (
                    "document GET, cross-origin referer",
                    [
                        ("sec-fetch-dest", "document"),
                        ("referer", "https://elsewhere.test/page"),
                        ("host", "app.test"),
                    ],
                ),
                ("text/html GET, no uat", [("accept", "text/html")]),
            ):
                hdrs = [
                    ("cookie", cookie if "no uat" not in label else f"__session={t[name][0]}"),
                    *extra,
                ]
                self.add(
                    f"cookie page-load {label} {name}", token_name=name, headers=hdrs, accepts=None
                )


# -- running both sides -------------------------------------------------------------------------


# Fault scenarios: each runs its own FakeClerk (same pooled signing key and kid, so the same JWKS)
# with a permanent fault, so both sides meet the same failure in one run.
FAULT_SCENARIOS: dict[str, tuple[str, ...]] = {
    "jwks_500": ("jwks",),
    "jwks_malformed": ("jwks",),
    "jwks_empty": ("jwks",),
    "bapi_500": ("m2m_verify", "api_key_verify", "oauth_verify"),
    "bapi_429": ("m2m_verify", "api_key_verify", "oauth_verify"),
    "bapi_400": ("m2m_verify", "api_key_verify", "oauth_verify"),
    "bapi_401": ("m2m_verify", "api_key_verify", "oauth_verify"),
    "bapi_malformed": ("m2m_verify", "api_key_verify", "oauth_verify"),
}


class Backends:
    """The main fake, one fake per fault scenario, and a closed port (connection refused)."""

    def __init__(self, fake: FakeClerk, clock: FrozenClock, builder: Cases) -> None:
        self.main = fake
        self.builder = builder
        self.fakes: dict[str, FakeClerk] = {}
        for name, endpoints in FAULT_SCENARIOS.items():
            other = FakeClerk(clock=clock)
            for endpoint in endpoints:
                if name == "jwks_empty":
                    other.jwks_override = {"keys": []}
                elif name.endswith("_malformed"):
                    other.fail(endpoint, "malformed")  # type: ignore[arg-type]
                elif name == "bapi_429":
                    other.fail(endpoint, status=429, retry_after=3)  # type: ignore[arg-type]
                else:
                    status = int(name.rsplit("_", 1)[1])
                    other.fail(endpoint, status=status)  # type: ignore[arg-type]
            self.fakes[name] = other
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        self.closed_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        sock.close()

    def serve(self, stack: contextlib.ExitStack) -> None:
        for other in self.fakes.values():
            stack.enter_context(other.serve())

    def resolve(self, cfg: dict[str, Any]) -> dict[str, Any]:
        """The concrete settings of a case's configuration, shared by both sides."""
        backend = cfg.get("backend", "main")
        fake = self.fakes.get(backend, self.main)
        secret = fake.secret_key if cfg.get("secret_key") != "wrong" else "sk_test_" + "w" * 40
        msk = cfg.get("machine_secret_key")
        return {
            "api_url": self.closed_url if backend == "closed" else fake.api_url,
            "secret_key": secret,
            "publishable_key": (
                self.builder.live_pk if cfg["publishable_key"] == "live" else self.builder.test_pk
            ),
            "jwt_key": {"pem": self.builder.pem, "other_pem": self.builder.other_pem}.get(
                cfg.get("jwt_key") or ""
            ),
            "machine_secret_key": (
                fake.machine_secret_key if msk == "good" else "ak_" + "w" * 40 if msk else None
            ),
        }


def node_client_config(case: dict[str, Any], backends: Backends) -> dict[str, Any]:
    cfg = case["config"]
    concrete = backends.resolve(cfg)
    client: dict[str, Any] = {
        "secretKey": concrete["secret_key"],
        "publishableKey": concrete["publishable_key"],
        "apiUrl": concrete["api_url"],
    }
    options: dict[str, Any] = {}
    if case["accepts"] is not None:
        options["acceptsToken"] = case["accepts"]
    if cfg.get("authorized_parties"):
        options["authorizedParties"] = cfg["authorized_parties"]
    if cfg.get("audience"):
        options["audience"] = cfg["audience"]
    if cfg.get("issuer"):
        options["issuer"] = cfg["issuer"]
    if concrete["jwt_key"]:
        client["jwtKey"] = concrete["jwt_key"]
        options["jwtKey"] = concrete["jwt_key"]
    if concrete["machine_secret_key"]:
        client["machineSecretKey"] = concrete["machine_secret_key"]
        options["machineSecretKey"] = concrete["machine_secret_key"]
    return {"client": client, "options": options}


def run_node(cases: list[dict[str, Any]], backends: Backends) -> list[dict[str, Any]]:
    node = shutil.which("node")
    if node is None:
        raise SystemExit("node is not installed: install Node.js >= 20 (apt-get install nodejs)")
    payload = []
    for case in cases:
        payload.append(
            {
                "id": case["id"],
                "now": case["now"] * 1000,
                "request": case["request"],
                **node_client_config(case, backends),
            }
        )
    proc = subprocess.run(  # noqa: S603 (fixed argv)
        [node, str(HERE / "runner.mjs")],
        input=json.dumps(payload),
        capture_output=True,
        text=True,
        cwd=HERE,
        timeout=1800,
        check=False,
    )
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr[-4000:])
        raise SystemExit(f"runner.mjs failed with exit code {proc.returncode}")
    results: list[dict[str, Any]] = json.loads(proc.stdout)
    assert [r["id"] for r in results] == [c["id"] for c in cases], "runner answered out of order"
    return results


def starlette_request(spec: dict[str, Any]) -> Request:
    from urllib.parse import urlsplit

    parts = urlsplit(spec["url"])
    headers = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in spec["headers"]]
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": spec["method"],
        "scheme": parts.scheme,
        "path": parts.path,
        "raw_path": parts.path.encode(),
        "query_string": parts.query.encode(),
        "root_path": "",
        "headers": headers,
        "server": (parts.hostname, parts.port or (443 if parts.scheme == "https" else 80)),
        "client": ("127.0.0.1", 50000),
    }
    return Request(scope)


def principal_fields(principal: Any, token_type: str | None) -> dict[str, Any] | None:
    if principal is None:
        return None
    data = principal.model_dump(mode="json")
    mapping = FIELD_MAP.get(str(token_type), [])
    return {clerk_name: data.get(ours_name) for clerk_name, ours_name in mapping}


async def run_python(
    cases: list[dict[str, Any]], backends: Backends, clock: FrozenClock
) -> list[dict[str, Any]]:
    clerks: dict[str, Clerk] = {}
    results = []
    try:
        for case in cases:
            clock.set(case["now"])
            cfg = case["config"]
            key = json.dumps(cfg, sort_keys=True)
            result: dict[str, Any]
            try:
                if key not in clerks:
                    concrete = backends.resolve(cfg)
                    settings: dict[str, Any] = {
                        "session_cookie": True,
                        "api_url": concrete["api_url"],
                        "secret_key": concrete["secret_key"],
                        "publishable_key": concrete["publishable_key"],
                    }
                    for name in ("authorized_parties", "audience", "issuer"):
                        if cfg.get(name):
                            settings[name] = cfg[name]
                    for name in ("jwt_key", "machine_secret_key"):
                        if concrete[name]:
                            settings[name] = concrete[name]
                    clerks[key] = Clerk(ClerkSettings(**settings), clock=clock)
                clerk = clerks[key]
                # Drop this case's cached results; the JWKS stays cached, as in Clerk's SDK.
                for token in case["tokens"]:
                    clerk.forget_token(token)
                accepts = "session_token" if case["accepts"] is None else case["accepts"]
                state = await clerk.authenticate_request(
                    starlette_request(case["request"]), accepts
                )
                auth = state.to_auth()
                pending = state.to_auth(treat_pending_as_signed_out=False)
                result = {
                    "status": state.status,
                    "reason": state.reason,
                    "message": state.message,
                    "tokenType": state.token_type,
                    "error": state.error,
                    "isAuthenticated": auth is not None,
                    "auth": principal_fields(auth, state.token_type),
                    "authPending": principal_fields(pending, state.token_type),
                }
            except Exception as exc:  # the package must never raise; record it as a difference
                result = {
                    "status": "error",
                    "reason": None,
                    "message": f"{type(exc).__name__}: {exc}"[:300],
                    "tokenType": None,
                    "error": "exception",
                    "isAuthenticated": False,
                    "auth": None,
                    "authPending": None,
                }
            results.append(result)
    finally:
        for clerk in clerks.values():
            await clerk.aclose()
    return results


# -- comparing ----------------------------------------------------------------------------------


def clerk_view(raw: dict[str, Any]) -> dict[str, Any]:
    """Clerk's answer in comparable form: handshake counts as signed-out (design section 7)."""
    auth = raw.get("auth") or None
    authenticated = bool(auth and auth.get("isAuthenticated"))
    token_type = raw.get("tokenType")
    fields = None
    source = raw.get("authPending") or auth
    if raw.get("status") == "signed-in" and source:
        fields = {name: source.get(name) for name, _ in FIELD_MAP.get(str(token_type), [])}
    return {
        "status": "signed-out" if raw.get("status") == "handshake" else raw.get("status"),
        "rawStatus": raw.get("status"),
        "reason": raw.get("reason"),
        "message": raw.get("message"),
        "tokenType": token_type,
        "isAuthenticated": authenticated,
        "fields": fields,
        "error": raw.get("error"),
        "toAuthError": raw.get("toAuthError"),
        "fetches": raw.get("fetches", []),
    }


def compare(clerk: dict[str, Any], ours: dict[str, Any]) -> list[dict[str, Any]]:
    diffs = []
    for name in ("status", "tokenType", "reason", "isAuthenticated"):
        if clerk[name] != ours[name]:
            diffs.append({"field": name, "clerk": clerk[name], "ours": ours[name]})
    if clerk["status"] == "signed-in" and ours["status"] == "signed-in":
        theirs = clerk["fields"] or {}
        mine = ours.get("authPending") or ours.get("auth") or {}
        if clerk["tokenType"] == ours["tokenType"]:
            for name, _ in FIELD_MAP.get(str(clerk["tokenType"]), []):
                if normalise(theirs.get(name)) != normalise(mine.get(name)):
                    diffs.append(
                        {"field": f"auth.{name}", "clerk": theirs.get(name), "ours": mine.get(name)}
                    )
    return diffs


def normalise(value: Any) -> Any:
    if isinstance(value, tuple):
        return list(value)
    return value


def redact(value: Any, hidden: re.Pattern[str]) -> Any:
    """Every token and key in ``value`` replaced by its fingerprint."""
    if isinstance(value, str):
        return hidden.sub(lambda m: f"<token {fingerprint(m.group(0))}>", value)
    if isinstance(value, list | tuple):
        return [redact(v, hidden) for v in value]
    if isinstance(value, dict):
        return {k: redact(v, hidden) for k, v in value.items()}
    return value


def compact(value: Any, limit: int = 90) -> str:
    text = json.dumps(value, separators=(",", ":"), default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def describe(answer: dict[str, Any]) -> str:
    status = answer.get("rawStatus") or answer["status"]
    return f"{status}/{answer['tokenType']}/{answer['reason']}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--filter", help="only cases whose description contains this text")
    parser.add_argument(
        "--show-documented", action="store_true", help="also print the documented differences"
    )
    args = parser.parse_args()
    started = time.monotonic()

    clock = FrozenClock(NOW)
    fake = FakeClerk(clock=clock)
    with contextlib.ExitStack() as stack:
        stack.enter_context(fake.serve())
        corpus = Corpus(fake)
        builder = Cases(fake, corpus)
        backends = Backends(fake, clock, builder)
        backends.serve(stack)
        cases = builder.build()
        if args.filter:
            cases = [c for c in cases if args.filter in c["desc"]]
        node_started = time.monotonic()
        clerk_raw = run_node(cases, backends)
        node_seconds = time.monotonic() - node_started
        py_started = time.monotonic()
        ours_all = asyncio.run(run_python(cases, backends, clock))
        py_seconds = time.monotonic() - py_started

    agree = differ = documented = 0
    secrets = {fake.secret_key, fake.machine_secret_key}
    secrets.update(t for t, _, _ in corpus.tokens.values())
    secrets.update(t for case in cases for t in case["tokens"])
    for other in backends.fakes.values():
        secrets.update((other.secret_key, other.machine_secret_key))
    # Longest first, so a token that contains another one is replaced whole.
    ordered = sorted((t for t in secrets if len(t) >= 8), key=len, reverse=True)
    hidden = re.compile("|".join(re.escape(t) for t in ordered))
    undocumented_kinds: Counter[str] = Counter()
    rule_hits: Counter[str] = Counter()
    records = []
    lines = []
    for case, raw, ours in zip(cases, clerk_raw, ours_all, strict=True):
        clerk = clerk_view(raw)
        diffs = compare(clerk, ours)
        rules = matching_rules(case, clerk, ours, diffs) if diffs else []
        tokens = case["tokens"]
        primary = case["fixture"].get("token") or (tokens[-1] if tokens else None)
        if not diffs:
            agree += 1
            verdict = "agree"
        else:
            differ += 1
            if rules:
                documented += 1
                verdict = "documented"
                rule_hits.update(rules[:1])
            else:
                verdict = "undocumented"
                undocumented_kinds[f"{describe(clerk)} vs {describe(ours)}"] += 1
        if verdict == "undocumented" or (verdict == "documented" and args.show_documented):
            fp = fingerprint(primary) if primary else "-"
            what = "; ".join(
                f"{d['field']}: {compact(redact(d['clerk'], hidden), 60)} vs "
                f"{compact(redact(d['ours'], hidden), 60)}"
                for d in diffs
            )
            tag = f" [{','.join(rules)}]" if rules else ""
            lines.append(
                f"{case['id']} {redact(case['desc'], hidden)} (token {fp}){tag}\n"
                f"    clerk {describe(clerk)}  ours {describe(ours)}  | {what}"
            )
        records.append(
            redact(
                {
                    "id": case["id"],
                    "desc": case["desc"],
                    "verdict": verdict,
                    "rules": rules,
                    "accepts": case["accepts"],
                    "config": case["config"],
                    "request": case["request"],
                    "token_fingerprints": [fingerprint(t) for t in tokens],
                    "clerk": clerk,
                    "ours": ours,
                    "diffs": diffs,
                },
                hidden,
            )
        )
    for line in lines:
        print(line)
    if undocumented_kinds:
        print("\nUndocumented differences by kind (Clerk vs ours):")
        for kind, count in undocumented_kinds.most_common():
            print(f"  {count:5d}  {kind}")
    if rule_hits:
        print(
            "Documented differences by rule: "
            + ", ".join(f"{k}={v}" for k, v in sorted(rule_hits.items()))
        )
    elapsed = time.monotonic() - started
    summary = {
        "cases": len(cases),
        "agree": agree,
        "differ": differ,
        "documented": documented,
        "undocumented": differ - documented,
        "seconds": {
            "total": round(elapsed, 1),
            "node": round(node_seconds, 1),
            "python": round(py_seconds, 1),
        },
        "clerk_backend": "3.25.0",
        "rules": [{"id": r.id, "description": r.description} for r in RULES],
    }
    (HERE / "results.json").write_text(
        json.dumps({"summary": summary, "cases": records}, indent=1, default=str) + "\n"
    )
    print(
        f"({len(cases)} cases in {elapsed:.1f}s: node {node_seconds:.1f}s, "
        f"python {py_seconds:.1f}s; details in parity/results.json)"
    )
    print(f"{agree} agree, {differ} differ ({documented} documented)")
    import webhooks  # issue 29: the same deliveries through Clerk's verifyWebhook and ours

    webhook_status = webhooks.main() if not args.filter else 0
    return 1 if differ > documented or webhook_status else 0


if __name__ == "__main__":
    sys.exit(main())
