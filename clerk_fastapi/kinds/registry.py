"""The registry of token kinds: the one source for ``accepts`` validation, classification order,
OpenAPI schemes, the shared cache's principal models and the fake Clerk's endpoints."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping

from pydantic import BaseModel

from clerk_fastapi.errors import ConfigurationError, TokenVerificationError
from clerk_fastapi.jose.compact import HeaderMemo, parse_compact
from clerk_fastapi.kinds.base import Credential, TokenKind, TokenVerifier, token_digest

SESSION_TOKEN = "session_token"


class KindRegistry:
    """Token kinds in classification order, each with the verifier a ``Clerk`` built for it."""

    def __init__(self) -> None:
        self._kinds: dict[str, TokenKind] = {}
        self._verifiers: dict[str, TokenVerifier] = {}
        self._builtin: set[str] = set()
        self._models: dict[str, type[BaseModel]] = {}
        self._prefixed: tuple[tuple[tuple[str, ...], str], ...] = ()
        self._jwt_kinds: tuple[TokenKind, ...] = ()
        # The registered type names, in classification order: a new tuple on each registration
        # (so a memo keyed on it sees the change).
        self.token_types: tuple[str, ...] = ()
        self.parsed_headers = HeaderMemo()

    def add(self, kind: TokenKind, verifier: TokenVerifier, *, builtin: bool = False) -> None:
        """Register (or replace) ``kind`` and its verifier."""
        if not isinstance(verifier, TokenVerifier):
            raise TypeError("a verifier needs an async verify(credential) method")
        self._kinds[kind.name] = kind
        self._verifiers[kind.name] = verifier
        if builtin:
            self._builtin.add(kind.name)
        self._index()

    def _index(self) -> None:
        """Classification tables, rebuilt on registration (classify runs on every new token)."""
        kinds = list(self._kinds.values())
        # A kind registered without its own principal model is not shared across processes.
        self._models = {k.name: k.principal for k in kinds if k.principal is not BaseModel}
        self._prefixed = tuple((k.prefixes, k.name) for k in kinds if k.prefixes)
        self._jwt_kinds = tuple(
            k for k in sorted(kinds, key=lambda k: k.jwt_rank) if k.recognises_jwts
        )
        self.token_types = tuple(self._kinds)

    def register(
        self,
        token_type: str | TokenKind,
        verifier: TokenVerifier,
        *,
        prefixes: Iterable[str] = (),
        principal: type[BaseModel] | None = None,
    ) -> TokenKind:
        """Register a token type: a ``TokenKind`` (or its name) and its verifier.

        A new name needs ``prefixes`` (matched before Clerk's own) and may give the
        ``principal`` model (it lets the shared cache keep its results). Registering an existing
        name replaces its verifier and keeps what the kind already says.
        """
        if isinstance(token_type, TokenKind):
            kind = token_type
        elif token_type in self._kinds and not prefixes and principal is None:
            kind = self._kinds[token_type]
        else:
            old = self._kinds.get(token_type)
            kind = TokenKind(
                name=token_type,
                principal=principal or (old.principal if old else BaseModel),
                prefixes=tuple(prefixes) or (old.prefixes if old else ()),
                jwt_types=old.jwt_types if old else (),
                jwt_subject_prefix=old.jwt_subject_prefix if old else "",
                matches_jwt=old.matches_jwt if old else None,
                jwt_rank=old.jwt_rank if old else 100,
            )
        if kind.name not in self._kinds and not kind.prefixes and not kind.recognises_jwts:
            raise ValueError(f"token type {kind.name!r} needs prefixes to be recognised")
        # A user's kind is tried before Clerk's: it is added at the front.
        builtin = kind.name in self._builtin
        if kind.name not in self._kinds and not builtin:
            self._kinds = {kind.name: kind, **self._kinds}
        self.add(kind, verifier, builtin=builtin)
        return kind

    # -- lookups ------------------------------------------------------------------------------

    def __contains__(self, token_type: object) -> bool:
        return token_type in self._kinds

    def __iter__(self) -> Iterator[TokenKind]:
        return iter(self._kinds.values())

    def kind(self, token_type: str) -> TokenKind:
        return self._kinds[token_type]

    def get(self, token_type: str) -> TokenVerifier | None:
        return self._verifiers.get(token_type)

    def __getitem__(self, token_type: str) -> TokenVerifier:
        return self._verifiers[token_type]

    @property
    def principal_models(self) -> Mapping[str, type[BaseModel]]:
        return self._models

    def rebuild(self, token_type: str, compact: bytes) -> BaseModel | None:
        """A principal from its compact form (``None``: this kind has none)."""
        kind = self._kinds.get(token_type)
        if kind is None or kind.from_compact is None:
            return None
        return kind.from_compact(compact)

    def check_known(self, names: Iterable[str]) -> None:
        unknown = sorted(set(names) - set(self._kinds))
        if unknown:
            raise ConfigurationError(
                f"unknown token type(s) {unknown}: register them with clerk.registry.register() "
                f"before use; registered: {sorted(self._kinds)}"
            )

    # -- classification -----------------------------------------------------------------------

    def classify(self, token: str, digest: bytes | None = None) -> Credential:
        """Clerk's ``getMachineTokenType`` order: prefixes first (a user's kinds before Clerk's),
        then the kinds that recognise JWTs (M2M before OAuth); anything else is a session
        token."""
        digest = digest or token_digest(token)
        for prefixes, name in self._prefixed:
            if token.startswith(prefixes):
                return Credential(token, name, digest=digest)
        jws = None
        if token.count(".") == 2:  # parse_compact refuses anything else that is not a JWS
            try:
                jws = parse_compact(token, headers=self.parsed_headers)
            except TokenVerificationError:
                jws = None
        if jws is not None:
            for kind in self._jwt_kinds:
                if kind.recognises_jwt(jws):
                    return Credential(token, kind.name, jws, digest=digest)
        return Credential(token, SESSION_TOKEN, jws, digest=digest)

    def opaque_prefixes(self) -> tuple[str, ...]:
        return tuple(p for kind in self._kinds.values() for p in kind.prefixes)
