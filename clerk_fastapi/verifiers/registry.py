"""Token type -> verifier, plus prefixes for token types a user adds."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from clerk_fastapi.verifiers.base import TokenVerifier


class VerifierRegistry:
    def __init__(self) -> None:
        self._verifiers: dict[str, TokenVerifier] = {}
        self._prefixes: dict[str, str] = {}

    def register(
        self, token_type: str, verifier: TokenVerifier, *, prefixes: Iterable[str] = ()
    ) -> None:
        """Register (or replace) the verifier for ``token_type``.

        ``prefixes`` route opaque tokens of a new type (for example ``"pat_"``) to it; they are
        matched before Clerk's own prefixes.
        """
        if not isinstance(verifier, TokenVerifier):
            raise TypeError("a verifier needs an async verify(credential) method")
        self._verifiers[token_type] = verifier
        for prefix in prefixes:
            if not prefix:
                raise ValueError("an empty prefix would match every token")
            self._prefixes[prefix] = token_type

    def get(self, token_type: str) -> TokenVerifier | None:
        return self._verifiers.get(token_type)

    def __getitem__(self, token_type: str) -> TokenVerifier:
        return self._verifiers[token_type]

    def __contains__(self, token_type: object) -> bool:
        return token_type in self._verifiers

    @property
    def token_types(self) -> tuple[str, ...]:
        return tuple(self._verifiers)

    @property
    def custom_prefixes(self) -> Mapping[str, str]:
        return self._prefixes
