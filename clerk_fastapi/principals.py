"""The typed principals a route receives (``kinds.AuthObject`` is their discriminated union on
``token_type``), and ``Verified``: a principal plus how long it may be reused."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, NamedTuple

from pydantic import BaseModel, ConfigDict, Field, SkipValidation

from clerk_fastapi.authorization import check_authorization


class _Principal(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    @property
    def is_authenticated(self) -> bool:
        return True


class SessionAuth(_Principal):
    """A signed-in user, from a verified session token."""

    token_type: Literal["session_token"] = "session_token"
    user_id: str = Field(description="The user (`sub`).")
    session_id: str | None = Field(None, description="The session (`sid`).")
    session_status: str | None = Field(None, description="`active` or `pending` (`sts`).")
    org_id: str | None = Field(None, description="The active organization.")
    org_role: str | None = Field(None, description="Role in the active organization (`org:...`).")
    org_slug: str | None = None
    org_permissions: list[str] = Field(default_factory=list)
    actor: dict[str, Any] | None = Field(None, description="Impersonation actor (`act`).")
    factor_verification_age: tuple[int, int] | None = Field(
        None, description="Minutes since first and second factor verification (-1: none)."
    )
    features: list[str] = Field(default_factory=list, description="`fea` entries, `scope:name`.")
    plans: list[str] = Field(default_factory=list, description="`pla` entries, `scope:name`.")
    # The verified payload as parsed (a JSON object, strictly): not copied by a second pass.
    claims: SkipValidation[dict[str, Any]] = Field(
        default_factory=dict, description="Every claim of the token."
    )

    def has(
        self,
        *,
        role: str | None = None,
        permission: str | None = None,
        feature: str | None = None,
        plan: str | None = None,
        reverification: str | dict[str, Any] | None = None,
    ) -> bool:
        """Clerk's ``has()``: every requested dimension must pass; fails closed."""
        return check_authorization(
            self,
            role=role,
            permission=permission,
            feature=feature,
            plan=plan,
            reverification=reverification,
        )


class _MachinePrincipal(_Principal):
    id: str = Field(description="The token's id (`jti` for JWTs; may be empty).")
    subject: str = Field(description="Who the token stands for.")
    scopes: list[str] = Field(default_factory=list)
    claims: dict[str, Any] | None = Field(None, description="Custom claims, if any.")
    expiration: datetime | None = Field(None, description="When the token expires, if known.")

    def has(self, **_: Any) -> bool:
        """Always false for machine tokens, as in Clerk: check ``scopes`` instead."""
        return False


class OAuthAuth(_MachinePrincipal):
    """A third-party app acting for a user, with an OAuth access token."""

    token_type: Literal["oauth_token"] = "oauth_token"
    client_id: str = Field("", description="The OAuth application's client id.")
    user_id: str = Field(description="The user who authorised the app.")
    aud: list[str] | None = Field(
        None,
        description="The resources (RFC 8707) the token was issued for, when Clerk set them.",
    )


class M2MAuth(_MachinePrincipal):
    """Another service (a Clerk machine), with an M2M token."""

    token_type: Literal["m2m_token"] = "m2m_token"
    machine_id: str = Field(description="The calling machine (`mch_...`).")
    scoped_to_receiver: bool | None = Field(
        None,
        description="Whether the token's scopes name this service's machine (`CLERK_MACHINE_ID`); "
        "`null` when this service does not know its machine id.",
    )


class APIKeyAuth(_MachinePrincipal):
    """A user's or an organisation's script, with an API key."""

    token_type: Literal["api_key"] = "api_key"
    name: str | None = None
    user_id: str | None = Field(None, description="The subject when it is a user.")
    org_id: str | None = Field(None, description="The subject when it is an organization.")


class Verified(NamedTuple):
    """A verified principal and how long the result may be reused (``None``: do not cache).

    ``cache_until`` is a time on the ``Clerk``'s clock and never later than the token's expiry.
    (A named tuple: immutable, and built on every new token at less than half a frozen
    dataclass's cost.)
    """

    principal: BaseModel
    cache_until: float | None = None
    # Whether Clerk's Backend API vouched for it (an opaque token) rather than a signature, and
    # the signing key's ``kid`` (a result stops being served when its key leaves the JWKS).
    opaque: bool = False
    kid: str | None = None
    # What the principal can be rebuilt from (its kind's ``from_compact``), kept by the result
    # cache instead of the object: for a session token, the payload's JSON bytes.
    compact: bytes | None = None
