"""One module per token type, and the registry that lists them.

- ``session``: session tokens (JWT; the fallback when no other kind claims a token)
- ``oauth``: OAuth access tokens (``oat_`` or ``typ: at+jwt``)
- ``m2m``: machine-to-machine tokens (``mt_`` or a JWT whose ``sub`` is ``mch_...``)
- ``api_key``: API keys (``ak_``)

Each module holds everything about its type: how it is recognised (its ``KIND``), how it is
verified (JWT and opaque), and how claims or a Backend API answer map to its resource and its
principal. ``_jwt`` and ``_opaque`` hold what several kinds share.
"""

from clerk_fastapi.kinds import api_key, m2m, oauth, session
from clerk_fastapi.kinds.base import Credential, TokenKind, TokenVerifier, token_digest
from clerk_fastapi.kinds.registry import KindRegistry

# Display order (OpenAPI, "any"); classification order is the registry's (see TokenKind).
BUILTIN_KINDS: tuple[TokenKind, ...] = (session.KIND, oauth.KIND, m2m.KIND, api_key.KIND)
BUILTIN_TYPES: tuple[str, ...] = tuple(kind.name for kind in BUILTIN_KINDS)
# Clerk's opaque machine-token prefixes: a token with one of them and the shape of a JWT is
# decoded by Clerk as a JWT, fails, and is reported as this type (Clerk's ``isJwtFormat``).
CLERK_MACHINE_PREFIXES: tuple[str, ...] = tuple(
    prefix for kind in BUILTIN_KINDS for prefix in kind.prefixes
)
JWT_SHAPED_MACHINE_TYPE = m2m.KIND.name
# Clerk's built-in type names, for code outside kinds/ (which names no type itself).
SESSION_TOKEN = session.KIND.name
OAUTH_TOKEN = oauth.KIND.name
M2M_TOKEN = m2m.KIND.name
API_KEY = api_key.KIND.name
# Other names ``accepts`` takes for a type (Clerk's older name for M2M tokens).
ALIASES = {"machine_token": m2m.KIND.name}

__all__ = [
    "ALIASES",
    "API_KEY",
    "BUILTIN_KINDS",
    "BUILTIN_TYPES",
    "CLERK_MACHINE_PREFIXES",
    "JWT_SHAPED_MACHINE_TYPE",
    "M2M_TOKEN",
    "OAUTH_TOKEN",
    "SESSION_TOKEN",
    "Credential",
    "KindRegistry",
    "TokenKind",
    "TokenVerifier",
    "token_digest",
]
