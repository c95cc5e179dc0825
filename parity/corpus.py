"""The token corpus: every token the auth cases use, minted against one FakeClerk at ``NOW``."""

from __future__ import annotations

import hashlib
from typing import Any

from common import (
    AUDIENCE,
    CAT_IGNORE,
    CAT_M2M,
    CAT_SESSION,
    CAT_TEMPLATE,
    CAT_UNKNOWN,
    NOW,
    OTHER_ISSUER,
    b64json,
    b64url,
)

from clerk_fastapi.testing import FakeClerk, SigningKey


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
