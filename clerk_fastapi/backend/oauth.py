"""``clerk.oauth_tokens``: verify OAuth access tokens that Clerk issued as an OAuth provider."""

from __future__ import annotations

from clerk_fastapi.backend import _api
from clerk_fastapi.backend.resources import OAuthAccessToken
from clerk_fastapi.errors import Reason, TokenVerificationError
from clerk_fastapi.jose.compact import parse_compact
from clerk_fastapi.tokens import classify

NOT_FOUND = "OAuth token not found"


class OAuthTokens(_api.BackendAPI):
    """OAuth access tokens held by third-party apps."""

    async def verify(self, access_token: str) -> OAuthAccessToken:
        """Verify a JWT access token (``typ: at+jwt``) locally, an opaque ``oat_`` token with
        Clerk (``POST /oauth_applications/access_tokens/verify``, instance secret key).

        Raises ``TokenVerificationError`` when the token is not valid (unknown, revoked,
        expired, ``active: false``, bad signature, not an OAuth token).
        """
        credential = classify(access_token)
        if credential.jws is not None:
            if credential.token_type != "oauth_token":
                raise TokenVerificationError(Reason.TOKEN_INVALID, "Not an OAuth access token.")
            await self._verify_jwt(access_token, "oauth_token")
            return oauth_token_from_jwt(access_token)
        data = await self._verify_call(
            "/oauth_applications/access_tokens/verify",
            self._secret(),
            {"access_token": access_token},
            NOT_FOUND,
        )
        return _api.resource(OAuthAccessToken, data)


def oauth_token_from_jwt(token: str) -> OAuthAccessToken:
    """Clerk's ``IdPOAuthAccessToken.fromJwtPayload``; call it only after verification."""
    payload = parse_compact(token).payload
    scp, scope = payload.get("scp"), payload.get("scope")
    if isinstance(scp, list):  # the scp array wins over the space-separated scope string
        scopes = [s for s in scp if isinstance(s, str)]
    elif isinstance(scope, str):
        scopes = [s for s in scope.split(" ") if s]
    else:
        scopes = []
    return OAuthAccessToken(
        object="clerk_idp_oauth_access_token",
        id=_api.string(payload, "jti"),
        client_id=_api.string(payload, "client_id"),
        type="oauth_token",
        subject=_api.string(payload, "sub"),
        scopes=scopes,
        revoked=False,
        expired=False,
        **_api.jwt_times(payload),
    )
