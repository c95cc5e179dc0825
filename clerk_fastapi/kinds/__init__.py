"""One module per token type, and the registry that lists them.

- ``session``: session tokens (JWT; the fallback when no other kind claims a token)
- ``oauth``: OAuth access tokens (``oat_`` or ``typ: at+jwt``)
- ``m2m``: machine-to-machine tokens (``mt_`` or a JWT whose ``sub`` is ``mch_...``)
- ``api_key``: API keys (``ak_``)

Each module holds everything about its type: how it is recognised (its ``KIND``), how it is
verified (JWT and opaque), and how claims or a Backend API answer map to its resource and its
principal. ``_jwt`` and ``_opaque`` hold what several kinds share.

A built-in type is registered here, once: its module's ``BUILTIN`` in ``BUILTINS`` (every
``Clerk`` builds and registers each; the names, prefixes, ``accepts`` and OpenAPI follow), and
its principal in ``TokenType`` and ``AuthObject`` just below (written out: a type checker cannot
read a union built at run time; a test checks they agree with ``BUILTINS``).
"""

from typing import Annotated, Literal, Union

from pydantic import Field

from clerk_fastapi.kinds import api_key, m2m, oauth, session
from clerk_fastapi.kinds.base import Credential, TokenKind, TokenVerifier, token_digest
from clerk_fastapi.kinds.builtin import Builtin
from clerk_fastapi.kinds.registry import KindRegistry
from clerk_fastapi.principals import APIKeyAuth, M2MAuth, OAuthAuth, SessionAuth

# Clerk's token types, in display order (OpenAPI, "any"); classification order is the
# registry's (see TokenKind).
BUILTINS: tuple[Builtin, ...] = (session.BUILTIN, oauth.BUILTIN, m2m.BUILTIN, api_key.BUILTIN)
TokenType = Literal["session_token", "oauth_token", "m2m_token", "api_key"]
AuthObject = Annotated[
    Union[SessionAuth, OAuthAuth, M2MAuth, APIKeyAuth],  # noqa: UP007 (clear in OpenAPI)
    Field(discriminator="token_type"),
]
"""Any verified principal; returned from a route it documents the ``oneOf`` + discriminator."""

BUILTIN_KINDS: tuple[TokenKind, ...] = tuple(builtin.kind for builtin in BUILTINS)
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
    "BUILTINS",
    "BUILTIN_KINDS",
    "BUILTIN_TYPES",
    "CLERK_MACHINE_PREFIXES",
    "JWT_SHAPED_MACHINE_TYPE",
    "M2M_TOKEN",
    "OAUTH_TOKEN",
    "SESSION_TOKEN",
    "AuthObject",
    "Builtin",
    "Credential",
    "KindRegistry",
    "TokenKind",
    "TokenType",
    "TokenVerifier",
    "token_digest",
]
