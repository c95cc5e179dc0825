"""Answering from the result cache: the one place a request's token is looked up in it.

A header token verified before costs a hash (done once, with the header read) and a lookup.
The signed-in state of a result in steady use is kept and served only while the cache still
holds that very result (checked by identity), so a result the cache dropped, forgot or rebuilt
is never answered from here.
"""

from __future__ import annotations

from clerk_fastapi.auth.accepts import Accepts
from clerk_fastapi.auth.credentials import RequestContext
from clerk_fastapi.auth.state import Outcomes, RequestState
from clerk_fastapi.cache.base import VerificationStore
from clerk_fastapi.cache.results import HOT_ENTRIES
from clerk_fastapi.kinds.base import token_digest

# Signed-in states kept for results in steady use (as many as the result cache keeps live).
KEPT_STATES = HOT_ENTRIES
# Tokens (and machine secret keys per token) whose per-key results ``forget`` can reach; past
# these bounds a per-key result lives until its own expiry (at most the opaque cache's TTL).
KEYED_TOKENS = 4096
KEYS_PER_TOKEN = 16


class CachedAnswers:
    """The cache lookup of the request path, the states kept for it, and the cache keys of
    results verified with a per-call machine secret key (so that ``forget`` reaches them)."""

    def __init__(self, store: VerificationStore, outcomes: Outcomes) -> None:
        self.store = store
        self._outcomes = outcomes
        self._states: dict[bytes, RequestState] = {}
        self._keyed: dict[bytes, set[bytes]] = {}

    def key(self, token: str, digest: bytes, machine_secret_key: str) -> bytes:
        """The cache key of a token's result under a per-call machine secret key (Clerk answers
        per machine): a digest of both, which ``forget`` of the token reaches too."""
        keyed = token_digest(f"{token}\x00{token_digest(machine_secret_key).hex()}")
        keys = self._keyed.get(digest)
        if keys is None:
            if len(self._keyed) >= KEYED_TOKENS:
                del self._keyed[next(iter(self._keyed))]
            keys = self._keyed[digest] = set()
        if len(keys) < KEYS_PER_TOKEN:
            keys.add(keyed)
        return keyed

    def answer(
        self,
        token: str,
        key: bytes,
        spec: Accepts,
        digest: bytes,
        context: RequestContext | None = None,
    ) -> RequestState | None:
        """The state for a result this instance holds (or a mismatch, when the route does not
        accept its type), else ``None``. A request (``context``) looks once per key: a second
        ``Auth`` of the same request gets the first one's answer, or its memo."""
        if context is None:
            cached = self.store.peek(key)
        elif (looked := context.looked) is not None and looked[0] is self and looked[1] == key:
            cached = context.found
        else:
            cached = context.found = self.store.peek(key)
            context.looked = (self, key)
        if cached is None:
            return None
        state = self._states.get(key)
        if state is None or state.auth is not cached.principal:
            token_type = str(getattr(cached.principal, "token_type", ""))
            state = self._outcomes.signed_in(token_type, cached, digest.hex()[:12], "cache")
            states = self._states
            if len(states) >= KEPT_STATES:
                del states[next(iter(states))]
            states[key] = state
        if state.token_type not in spec.types:  # spec: resolved by Authenticator.normalize
            return self._outcomes.mismatch(spec, token, digest.hex()[:12], state.token_type or "")
        return state

    def forget(self, token: str) -> None:
        """Drop a token's results (its own and every per-key one) and their kept states."""
        digest = token_digest(token)
        for key in (digest, *self._keyed.pop(digest, ())):
            self.store.forget(key)
            self._states.pop(key, None)

    def clear(self) -> None:
        self.store.clear()
        self._states.clear()
        self._keyed.clear()
