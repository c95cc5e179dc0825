"""``Authenticator``: the entry points of a decision. It reads the request once (its
``RequestContext``), refuses a token over the length cap, answers from the result cache when it
can (``auth/cached.py``), else takes the cookie path (``auth/cookie_path.py``) or the pipeline
(``auth/pipeline.py``), and emits one event per decision (``auth/events.py``)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable

from clerk_fastapi.auth.accepts import Accepts, normalize_accepts
from clerk_fastapi.auth.cached import CachedAnswers
from clerk_fastapi.auth.cookie_path import CookieCheck, CookiePath
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

logger = logging.getLogger("clerk_fastapi")


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
        self._checked: dict[int, tuple[Accepts, tuple[str, ...], Accepts]] = {}
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
        """``accepts`` resolved against this instance's registry: its ``types`` are every type
        it lets through (``any``: every registered type), so a request asks ``in spec.types``."""
        types = self.registry.token_types
        if isinstance(accepts, Accepts):
            # By identity (an Auth keeps its Accepts): cheaper than hashing it on every request;
            # resolved again when a registration changed the registry.
            entry = self._checked.get(id(accepts))
            if entry is not None and entry[0] is accepts and entry[1] is types:
                return entry[2]
            self.registry.check_known(accepts.custom)
            resolved = Accepts(frozenset(types), any=True) if accepts.any else accepts
            self._checked[id(accepts)] = (accepts, types, resolved)
            return resolved
        # Keyed with the registered types too: registering a kind changes what "any" means.
        key = (accepts, types) if isinstance(accepts, str) else None
        if key is not None:
            spec = self._normalized.get(key)
            if spec is not None:
                return spec
        spec = normalize_accepts(accepts, known=types)
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
        state: RequestState | None = None
        if token is None:
            found = self.cookie_path.find(conn, context, spec)
            if isinstance(found, RequestState):
                state = found
            else:
                cookie, check = found
                state = await self._decide(
                    cookie,
                    token_digest(cookie),
                    spec,
                    "cookie",
                    context,
                    conn,
                    machine_secret_key,
                    check,
                )
        elif machine_secret_key is None and len(token) <= self._max_length:
            # The usual request: a header token, verified before (a hash, done with the header
            # read, and one lookup) or not.
            digest = context.digest
            assert digest is not None
            state = self.cached.answer(token, digest, spec, digest, context)
            if state is None:
                state = await self.pipeline.run(
                    token, digest, digest, spec, "header", context.memo, conn
                )
        else:
            assert context.digest is not None
            state = await self._decide(
                token, context.digest, spec, "header", context, conn, machine_secret_key
            )
        # One event per request, however many Auth dependencies; nothing when nobody listens
        # (a hook, telemetry, or the logger at the decision's level).
        observer = self.observer
        if state.source != "memo" and (observer.hooked or logger.isEnabledFor(state.log_level)):
            await observer.emit(state, context.started, spec)
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
        started = time.perf_counter()
        spec = self.normalize(accepts)
        check = self.cookie_path.checks(0) if carrier == "cookie" else None
        # No request: no context to share, no memo (one token, verified once).
        state = await self._decide(
            token, token_digest(token), spec, carrier, None, None, machine_secret_key, check, client
        )
        observer = self.observer
        if observer.hooked or logger.isEnabledFor(state.log_level):
            await observer.emit(state, started, spec)
        return state

    async def _decide(
        self,
        token: str,
        digest: bytes,
        spec: Accepts,
        carrier: Carrier,
        context: RequestContext | None,
        conn: Connection | None,
        machine_secret_key: str | None,
        check: CookieCheck | None = None,
        client: str | None = None,
    ) -> RequestState:
        """The rest: the length cap, the result cache (header tokens; under the per-call
        machine secret key when one is given), then the pipeline."""
        if len(token) > self._max_length:
            return self.outcomes.signed_out(
                spec.single, Reason.TOKEN_INVALID, "The token is too long.", "invalid_token"
            )
        key = (
            digest
            if machine_secret_key is None
            else self.cached.key(token, digest, machine_secret_key)
        )
        if carrier == "header":
            state = self.cached.answer(token, key, spec, digest, context)
            if state is not None:
                return state
        return await self.pipeline.run(
            token,
            key,
            digest,
            spec,
            carrier,
            context.memo if context is not None else None,
            conn,
            machine_secret_key,
            check,
            client,
        )
