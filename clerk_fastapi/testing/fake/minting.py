"""Token minting: every Clerk token type with Clerk's exact shapes, and broken variants."""

from __future__ import annotations

from typing import Any, Literal

from clerk_fastapi.kinds._jwt import CATEGORY_JWT_TEMPLATE, CATEGORY_M2M, CATEGORY_SESSION
from clerk_fastapi.testing.fake._common import (
    TEST_USER_ID,
    Record,
    TokenStore,
    hex_id,
    random_text,
)
from clerk_fastapi.testing.keys import SigningKey

# Registered claims a caller's ``claims`` never set in an M2M JWT (Clerk sets or omits them).
_M2M_JWT_RESERVED = frozenset({"iss", "sub", "aud", "scopes", "exp", "iat", "nbf", "jti"})


class Minting(TokenStore):
    """Signs tokens with the fake's current key; opaque tokens are remembered for verification."""

    signing_key: SigningKey
    issuer: str
    authorized_party: str
    default_machine_id: str

    def sign(
        self,
        payload: dict[str, Any] | bytes,
        header: dict[str, Any] | None = None,
        *,
        key: SigningKey | None = None,
    ) -> str:
        """Sign any payload/header with the current key (or ``key``): for hand-made tokens."""
        signer = key or self.signing_key
        full = {"alg": signer.alg, "kid": signer.kid, "typ": "JWT"}
        if header is not None:
            full.update(header)
            full = {k: v for k, v in full.items() if v is not None}
        return signer.sign(payload, full)

    def session_claims(
        self,
        user_id: str = TEST_USER_ID,
        *,
        session_id: str | None = None,
        org_id: str | None = None,
        org_slug: str | None = None,
        role: str | None = None,
        permissions: list[str] | None = None,
        features: list[str] | None = None,
        plans: list[str] | None = None,
        pending: bool = False,
        expires_in: float = 60,
        issued_ago: float = 0,
        azp: str | None = None,
        fva: tuple[int, int] | None = (0, -1),
        version: Literal[1, 2] = 2,
        **claims: Any,
    ) -> dict[str, Any]:
        now = self._now() - int(issued_ago)
        payload: dict[str, Any] = {
            "azp": azp if azp is not None else self.authorized_party,
            "exp": now + expires_in,
            "iat": now,
            "iss": self.issuer,
            "nbf": now - 10,
            "sid": session_id or "sess_" + random_text(27),
            "sub": user_id,
        }
        if isinstance(payload["exp"], float) and payload["exp"].is_integer():
            payload["exp"] = int(payload["exp"])
        if version == 2:
            payload["v"] = 2
            payload["sts"] = "pending" if pending else "active"
            if fva is not None:
                payload["fva"] = list(fva)
            entries = list(features or [])
            if org_id:
                org: dict[str, Any] = {"id": org_id, "slg": org_slug or org_id.lower()}
                if role:
                    org["rol"] = role.removeprefix("org:")
                per, fpm, org_features = _encode_permissions(permissions or [])
                for feature in org_features:
                    if f"o:{feature}" not in entries:
                        entries.append(f"o:{feature}")
                if per:
                    org["per"] = ",".join(per)
                    org_feature_order = [
                        e.split(":", 1)[1] for e in entries if "o" in e.split(":", 1)[0]
                    ]
                    org["fpm"] = ",".join(str(fpm.get(f, 0)) for f in org_feature_order)
                payload["o"] = org
            if entries:
                payload["fea"] = ",".join(entries)
            if plans:
                payload["pla"] = ",".join(plans)
        else:
            if pending:
                payload["sts"] = "pending"
            if org_id:
                payload.update(
                    org_id=org_id,
                    org_slug=org_slug or org_id.lower(),
                    org_role=role if role is None or role.startswith("org:") else f"org:{role}",
                    org_permissions=list(permissions or []),
                )
        payload.update(claims)
        return {k: v for k, v in payload.items() if v is not None}

    def session_token(
        self,
        user_id: str = TEST_USER_ID,
        *,
        org: str | None = None,
        header: dict[str, Any] | None = None,
        key: SigningKey | None = None,
        **options: Any,
    ) -> str:
        """A Clerk session token (v2 claims by default). Any claim can be overridden by keyword;
        ``org=`` is a shortcut for ``org_id=``. ``expires_in``, ``issued_ago``, ``pending``,
        ``role``, ``permissions`` (``org:feature:perm``), ``features``, ``plans`` shape it."""
        if org is not None:
            options.setdefault("org_id", org)
        payload = self.session_claims(user_id, **options)
        return self.sign(payload, {"cat": CATEGORY_SESSION, **(header or {})}, key=key)

    def broken_session_token(
        self,
        kind: Literal[
            "expired", "not_yet_valid", "wrong_key", "wrong_azp", "wrong_cat", "bad_signature"
        ],
        user_id: str = TEST_USER_ID,
        **options: Any,
    ) -> str:
        """A session token that must be refused, and the reason Clerk gives for it."""
        if kind == "expired":
            return self.session_token(user_id, issued_ago=120, expires_in=60, **options)
        if kind == "not_yet_valid":
            now = self._now()
            return self.session_token(user_id, nbf=now + 120, **options)
        if kind == "wrong_key":
            evil = SigningKey(
                self.signing_key.kid, SigningKey.generate("evil", pool_index=15).private_key
            )
            return self.session_token(user_id, key=evil, **options)
        if kind == "wrong_azp":
            return self.session_token(user_id, azp="https://evil.test", **options)
        if kind == "wrong_cat":
            return self.session_token(user_id, header={"cat": CATEGORY_JWT_TEMPLATE}, **options)
        token = self.session_token(user_id, **options)
        head, _, sig = token.rpartition(".")
        flipped = ("A" if sig[0] != "A" else "B") + sig[1:]
        return f"{head}.{flipped}"

    def oauth_token(
        self,
        format: Literal["jwt", "opaque"] = "jwt",
        *,
        scopes: list[str] | None = None,
        user_id: str = TEST_USER_ID,
        client_id: str | None = None,
        expires_in: int = 3600,
        typ: str = "at+jwt",
        aud: str | list[str] | None = None,
        **claims: Any,
    ) -> str:
        """An OAuth access token: a JWT (``typ: at+jwt``) or an opaque ``oat_`` token that the
        verify endpoint knows. ``aud``: the resource(s) it was issued for (Clerk sets ``aud``
        when the client sent ``resource``); for a JWT it is the claim, for an opaque token the
        verify answer's ``aud`` list."""
        client = client_id or "client_" + random_text(27)
        scopes = list(scopes or [])
        now = self._now()
        if format == "jwt":
            jti = hex_id("oat_")
            payload = {
                "azp": self.authorized_party,
                "exp": now + expires_in,
                "iat": now,
                "iss": self.issuer,
                "nbf": now - 10,
                "sub": user_id,
                "client_id": client,
                "scope": " ".join(scopes),
                "jti": jti,
                **({"aud": aud} if aud is not None else {}),
                **claims,
            }
            return self.sign(payload, {"typ": typ})
        token = "oat_" + random_text(32)
        resource = {
            "object": "clerk_idp_oauth_access_token",
            "id": hex_id("oat_"),
            "client_id": client,
            "subject": user_id,
            "scopes": scopes,
            "revoked": False,
            "revocation_reason": None,
            "expired": False,
            "expiration": (now + expires_in) * 1000,
            "created_at": now * 1000,
            "updated_at": now * 1000,
        }
        if aud is not None:
            resource["aud"] = [aud] if isinstance(aud, str) else list(aud)
        self._remember(token, Record("oauth_token", resource))
        return token

    def m2m_token(
        self,
        format: Literal["opaque", "jwt"] = "opaque",
        *,
        machine_id: str | None = None,
        scopes: list[str] | None = None,
        claims: dict[str, Any] | None = None,
        expires_in: int = 3600,
        category: str | None = CATEGORY_M2M,
    ) -> str:
        machine = machine_id or self.default_machine_id
        scopes = list(scopes or [])
        now = self._now()
        token_id = hex_id("mt_")
        if format == "jwt":
            # Exactly the claims Clerk's ``POST /m2m_tokens`` puts in a JWT (no ``iss``, no
            # ``nbf``: tests/data/clerk/m2m-jwts.json), and Clerk sets them itself: a caller's
            # ``claims`` never override them.
            custom = {k: v for k, v in (claims or {}).items() if k not in _M2M_JWT_RESERVED}
            payload: dict[str, Any] = {
                **custom,
                "jti": token_id,
                "sub": machine,
                "aud": scopes,
                "scopes": " ".join(scopes),
                "iat": now,
                "exp": now + expires_in,
            }
            return self.sign(payload, {"cat": category} if category else None)
        token = "mt_" + random_text(40)
        resource = self._m2m_resource(token_id, machine, scopes, claims, now, expires_in)
        self._remember(token, Record("m2m_token", resource))
        return token

    def _m2m_resource(
        self,
        token_id: str,
        machine: str,
        scopes: list[str],
        claims: dict[str, Any] | None,
        now: int,
        expires_in: int | None,
    ) -> dict[str, Any]:
        return {
            "object": "machine_to_machine_token",
            "id": token_id,
            "subject": machine,
            "scopes": scopes,
            "claims": claims,
            "revoked": False,
            "revocation_reason": None,
            "expired": False,
            "expiration": (now + expires_in) * 1000 if expires_in else None,
            "last_used_at": None,
            "created_at": now * 1000,
            "updated_at": now * 1000,
        }

    def api_key(
        self,
        *,
        subject: str = TEST_USER_ID,
        scopes: list[str] | None = None,
        name: str = "test-key",
        claims: dict[str, Any] | None = None,
        description: str | None = None,
        expires_in: int | None = None,
    ) -> str:
        now = self._now()
        token = "ak_" + random_text(40)
        resource = self._api_key_resource(
            subject, scopes, name, claims, description, now, expires_in
        )
        self._remember(token, Record("api_key", resource))
        return token

    def _api_key_resource(
        self,
        subject: str,
        scopes: list[str] | None,
        name: str,
        claims: dict[str, Any] | None,
        description: str | None,
        now: int,
        expires_in: int | None,
    ) -> dict[str, Any]:
        return {
            "object": "api_key",
            "id": hex_id("ak_"),
            "type": "api_key",
            "name": name,
            "subject": subject,
            "scopes": list(scopes or []),
            "claims": claims,
            "revoked": False,
            "revocation_reason": None,
            "expired": False,
            "expiration": (now + expires_in) * 1000 if expires_in else None,
            "created_by": subject if subject.startswith("user_") else None,
            "description": description,
            "last_used_at": None,
            "created_at": now * 1000,
            "updated_at": now * 1000,
        }


def _encode_permissions(permissions: list[str]) -> tuple[list[str], dict[str, int], list[str]]:
    """``org:feature:perm`` names -> (``per`` list, feature -> bitmask, org features in order)."""
    per: list[str] = []
    masks: dict[str, int] = {}
    features: list[str] = []
    for permission in permissions:
        parts = permission.removeprefix("org:").split(":")
        if len(parts) != 2:
            raise ValueError(
                f"v2 session permissions look like org:<feature>:<perm>, not {permission!r}"
            )
        feature, name = parts
        if name not in per:
            per.append(name)
        if feature not in masks:
            masks[feature] = 0
            features.append(feature)
        masks[feature] |= 1 << per.index(name)
    return per, masks, features
