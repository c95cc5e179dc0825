"""``Authenticator``: the entry points of a decision. It reads the request once (its
``RequestContext``), refuses a token over the length cap, answers from the result cache when it
can (``auth/cached.py``), else takes the cookie path (``auth/cookie_path.py``) or the pipeline
(``auth/pipeline.py``), and emits one event per decision (``auth/events.py``)."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from clerk_fastapi.auth.accepts import Accepts, normalize_accepts
from clerk_fastapi.auth.cached import CachedAnswers
from clerk_fastapi.auth.cookie_path import CookiePath
from clerk_fastapi.auth.credentials import Connection, RequestContext
from clerk_fastapi.auth.events import Observer
from clerk_fastapi.auth.pipeline import Pipeline
from clerk_fastapi.auth.state import Outcomes, RequestState
from clerk_fastapi.cache.base import VerificationStore
from clerk_fastapi.errors import Reason
from clerk_fastapi.kinds.base import Carrier, token_digest
from clerk_fastapi.kinds.registry import SESSION_TOKEN, KindRegistry
from clerk_fastapi.settings import ClerkSettings

AcceptsArg = str | Iterable[str] | Accepts


class Authenticator:
    """Holds what a decision needs; ``Clerk`` owns one."""

    def __init__(
        self,
        settings: ClerkSettings,
        registry: KindRegistry,
        clock: Callable[[], float],
        store: VerificationStore,
        observer: Observer,
    ) -> None:
        self.settings = settings
        self.registry = registry
        self.store = store
        self.observer = observer
        self._max_length = settings.max_token_length
        self._normalized: dict[tuple[str, tuple[str, ...]], Accepts] = {}
        self._checked: dict[int, Accepts] = {}
        self.outcomes = Outcomes(settings, registry)
        self.cached = CachedAnswers(store, self.outcomes)
        self.cookie_path = CookiePath(settings, clock, self.outcomes)
        self.pipeline = Pipeline(
            settings, registry, clock, store, self.outcomes, lambda: self.cookie_path.instance
        )

    @property
    def verifications(self) -> int:
        """How many tokens were handed to a verifier (neither cached nor refused before)."""
        return self.pipeline.verifications

    def clear(self) -> None:
        self.cached.clear()
        self.registry.parsed_headers.clear()
        self._normalized.clear()
        self._checked.clear()

    def forget(self, token: str) -> None:
        """Drop any cached result for ``token`` (for example from a revocation webhook)."""
        self.cached.forget(token)

    def normalize(self, accepts: AcceptsArg) -> Accepts:
        """``accepts`` against this instance's registry (an ``Accepts`` is checked once)."""
        if isinstance(accepts, Accepts):
            # By identity (an Auth keeps its Accepts): cheaper than hashing it on every request.
            if self._checked.get(id(accepts)) is not accepts:
                self.registry.check_known(accepts.custom)
                self._checked[id(accepts)] = accepts
            return accepts
        # Keyed with the registered types too: registering a kind changes what "any" means.
        key = (accepts, self.registry.token_types) if isinstance(accepts, str) else None
        if key is not None and key in self._normalized:
            return self._normalized[key]
        spec = normalize_accepts(accepts, known=self.registry.token_types)
        if key is not None and len(self._normalized) < 64:
            self._normalized[key] = spec
        return spec

    # -- entry points ---------------------------------------------------------------------------

    async def authenticate_request(
        self,
        conn: Connection,
        accepts: AcceptsArg = SESSION_TOKEN,
        *,
        machine_secret_key: str | None = None,
    ) -> RequestState:
        spec = self.normalize(accepts)
        context = RequestContext.of(conn)
        token = context.token
        carrier: Carrier = "header"
        check = None
        if token is None:
            found = self.cookie_path.find(conn, context, spec)
            if isinstance(found, RequestState):
                token = None
                state: RequestState | None = found
            else:
                token, check = found
                carrier = "cookie"
        if token is not None:
            state, key, digest = self._before_verifying(
                context, token, spec, carrier, machine_secret_key
            )
            if state is None:
                state = await self.pipeline.run(
                    token, key, digest, spec, carrier, context, conn, machine_secret_key, check
                )
        assert state is not None
        # One event per request, however many Auth dependencies; nothing when nobody listens.
        if state.source != "memo" and self.observer.wants(state):
            await self.observer.emit(state, context.started, spec)
        return state

    async def authenticate_token(
        self,
        token: str,
        accepts: AcceptsArg = SESSION_TOKEN,
        *,
        carrier: Carrier = "header",
        machine_secret_key: str | None = None,
        client: str | None = None,
    ) -> RequestState:
        """Authenticate a bare token (no request), with the same rules; a Backend API call is
        counted against ``client``'s budget (``None``: the shared no-client bucket)."""
        spec = self.normalize(accepts)
        context = RequestContext.for_token(token, carrier)
        state, key, digest = self._before_verifying(
            context, token, spec, carrier, machine_secret_key
        )
        if state is None:
            check = self.cookie_path.checks(0) if carrier == "cookie" else None
            state = await self.pipeline.run(
                token, key, digest, spec, carrier, context, None, machine_secret_key, check, client
            )
        if self.observer.wants(state):
            await self.observer.emit(state, context.started, spec)
        return state

    def _before_verifying(
        self,
        context: RequestContext,
        token: str,
        spec: Accepts,
        carrier: Carrier,
        machine_secret_key: str | None,
    ) -> tuple[RequestState | None, bytes, bytes]:
        """The length cap, then the result cache (header tokens: a token verified before costs
        a lookup): a state, or ``None`` and the token's cache key and digest for the pipeline."""
        digest = context.digest if carrier == "header" else None
        if digest is None:
            digest = token_digest(token)
        if len(token) > self._max_length:
            state = self.outcomes.signed_out(
                spec.single, Reason.TOKEN_INVALID, "The token is too long.", "invalid_token"
            )
            return state, digest, digest
        key = (
            digest
            if machine_secret_key is None
            else self.cached.key(token, digest, machine_secret_key)
        )
        if carrier == "header":
            return self.cached.answer(context, key, spec, digest), key, digest
        return None, key, digest
