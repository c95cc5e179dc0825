"""The signature step, in Clerk's order (``verifyToken``): key, ``typ``, ``alg``, forbidden
headers, signature.

The key is resolved first, as in Clerk: in JWKS mode an unknown or missing ``kid`` reports
``jwk-kid-mismatch`` whatever else is wrong with the header.

Nothing from the payload is looked at here; claim checks run only after this succeeds.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection

from clerk_fastapi.errors import Reason, TokenVerificationError
from clerk_fastapi.jose.compact import CompactJWS
from clerk_fastapi.jose.keys import RSA_ALGORITHMS, VerificationKey

# Headers whose meaning we do not implement; a token that needs them is refused (RFC 7515 4.1.11).
FORBIDDEN_HEADERS = ("crit", "b64", "zip")

KeyResolver = Callable[[object], Awaitable[VerificationKey]]


async def verify_signature(
    jws: CompactJWS,
    resolve_key: KeyResolver,
    *,
    allowed_typ: Collection[str],
    typ_optional: bool,
) -> None:
    header = jws.header
    key = await resolve_key(header.get("kid"))
    typ = header.get("typ")
    if typ is None:
        if not typ_optional:
            raise TokenVerificationError(Reason.TOKEN_INVALID, "The token has no typ header.")
    elif typ not in allowed_typ:
        raise TokenVerificationError(
            Reason.TOKEN_INVALID, "The token's typ header is not accepted."
        )
    alg = header.get("alg")
    if not isinstance(alg, str) or alg not in RSA_ALGORITHMS:
        raise TokenVerificationError(
            Reason.TOKEN_INVALID_ALGORITHM, "The token's alg is not RS256, RS384 or RS512."
        )
    for name in FORBIDDEN_HEADERS:
        if name in header:
            raise TokenVerificationError(
                Reason.TOKEN_INVALID, "The token uses an unsupported header."
            )
    # The key's declared algorithm wins; the header may not choose another. Clerk's WebCrypto
    # import fails the same way ("Error verifying JWT signature": token-verification-failed).
    if alg != key.algorithm:
        raise TokenVerificationError(
            Reason.TOKEN_VERIFICATION_FAILED, "The token's alg does not match its key."
        )
    if not key.verify(jws.signing_input, jws.signature):
        raise TokenVerificationError(Reason.TOKEN_INVALID_SIGNATURE, "JWT signature is invalid.")
    if not jws.canonical:
        # Padded base64url in a signed segment: Clerk never signs such a token.
        raise TokenVerificationError(Reason.TOKEN_INVALID, "The token is not canonical base64url.")
