"""The decision pipeline: classify, check ``accepts`` before any I/O, cache tiers, per-request
memo, the kind's verifier, then a ``RequestState`` (and one event per decision)."""

from __future__ import annotations

import dataclasses
import logging
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from clerk_fastapi.auth import cookies
from clerk_fastapi.auth.accepts import Accepts, normalize_accepts
from clerk_fastapi.auth.client import client_address
from clerk_fastapi.auth.credentials import (
    Connection,
    Presented,
    header_values,
    read_authorization,
    request_method,
)
from clerk_fastapi.auth.events import Observer
from clerk_fastapi.auth.origin import origin_allowed
from clerk_fastapi.auth.state import ErrorKind, RequestState, Source
from clerk_fastapi.cache.base import VerificationStore
from clerk_fastapi.cache.results import HOT_ENTRIES
from clerk_fastapi.errors import (
    ClerkError,
    ConfigurationError,
    Reason,
    TokenVerificationError,
    UpstreamError,
)
from clerk_fastapi.jose.claims import is_number
from clerk_fastapi.kinds._jwt import SESSION_CATEGORIES
from clerk_fastapi.kinds.base import Carrier, Credential, token_digest
from clerk_fastapi.kinds.registry import SESSION_TOKEN, KindRegistry
from clerk_fastapi.principals import Verified
from clerk_fastapi.settings import ClerkSettings

logger = logging.getLogger("clerk_fastapi")

MEMO_KEY = "clerk_fastapi.memo"
HEADER_KEY = "clerk_fastapi.header"
# The header token's digest once ``answer_from_cache`` found no result for it in this request.
MISSED_KEY = "clerk_fastapi.missed"
# Signed-in states kept for results in steady use (as many as the result cache keeps live).
CACHED_STATES = HOT_ENTRIES
# Tokens (and machine secret keys per token) whose per-key results ``forget`` can reach; past
# these bounds a per-key result lives until its own expiry (at most the opaque cache's TTL).
KEYED_TOKENS = 4096
KEYS_PER_TOKEN = 16
AcceptsArg = str | Iterable[str] | Accepts
# Clerk's ``isJwtFormat``: a prefixed machine token of this shape is decoded as a JWT and fails.
_JWT_FORMAT = re.compile(r"[a-zA-Z0-9_-]+\.[a-zA-Z0-9_-]+\.[a-zA-Z0-9_-]+")
_CLERK_MACHINE_PREFIXES = ("mt_", "oat_", "ak_")
# Messages say in plain words what failed (Clerk's are empty for these two).
_NO_HEADER_TOKEN = "This route takes machine tokens only from the Authorization header; none came."
_NOT_ACCEPTED = "This route does not accept this kind of token."
_TIME_REASONS = {
    Reason.TOKEN_NOT_ACTIVE_YET: Reason.SESSION_TOKEN_NBF,
    Reason.TOKEN_IAT_IN_THE_FUTURE: Reason.SESSION_TOKEN_IAT_IN_THE_FUTURE,
}


class _Request:
    """What Clerk's session error handling looks at besides the token. Read from the
    connection only when asked: a valid header token needs none of it."""

    __slots__ = (
        "_conn",
        "_settings",
        "client_uat",
        "given_client",
        "includes_session",
        "instance",
        "machine_secret_key",
    )

    def __init__(
        self,
        conn: Connection | None = None,
        settings: ClerkSettings | None = None,
        *,
        includes_session: bool = True,
        instance: cookies.Instance = cookies.NO_INSTANCE,
        client_uat: float = 0,
        machine_secret_key: str | None = None,
        given_client: str | None = None,
    ) -> None:
        self.given_client = given_client
        self._conn = conn
        self._settings = settings
        self.includes_session = includes_session
        self.instance = instance
        self.client_uat = client_uat
        self.machine_secret_key = machine_secret_key

    @property
    def method(self) -> str:
        return request_method(self._conn) if self._conn is not None else "GET"

    @property
    def cookie_headers(self) -> tuple[str, ...]:
        """The raw Cookie header values (on routes that accept session tokens)."""
        if self._conn is None or not self.includes_session:
            return ()
        return tuple(header_values(self._conn, "cookie"))

    @property
    def client(self) -> str | None:
        """The client's address (for the per-client budget of never-seen opaque tokens)."""
        if self._conn is None or self._settings is None:
            return self.given_client
        return client_address(self._conn, self._settings)

    @property
    def refresh_cookie(self) -> bool:
        values = self.cookie_headers
        if not values:
            return False
        return cookies.has_refresh_cookie(cookies.parse_cookie_header(list(values)), self.instance)

    def with_client_uat(self, client_uat: float) -> _Request:
        return _Request(
            self._conn,
            self._settings,
            includes_session=self.includes_session,
            instance=self.instance,
            client_uat=client_uat,
            machine_secret_key=self.machine_secret_key,
            given_client=self.given_client,
        )


def session_reason(reason: str, request: _Request) -> str:
    """Clerk's ``handleSessionTokenError``: the time-claim reasons of a session token, on every
    path. We never refresh (an API backend holds no refresh flow): with a refresh cookie on a
    GET we report Clerk's own reason for an SDK without a Backend API client."""
    if reason == Reason.TOKEN_EXPIRED:
        if request.method != "GET":
            refresh = "non-eligible-non-get"
        elif not request.refresh_cookie:
            refresh = "non-eligible-no-refresh-cookie"
        else:
            refresh = "missing-api-client"
        return Reason.SESSION_TOKEN_EXPIRED + refresh
    return _TIME_REASONS.get(reason, reason)


@dataclass(slots=True)
class _Outcome:
    verified: Verified | None = None
    error: ClerkError | None = None


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
        self._clock = clock
        self.store = store
        self.observer = observer
        self._normalized: dict[tuple[str, tuple[str, ...]], Accepts] = {}
        self._checked: dict[int, Accepts] = {}
        self._cookie_instance: cookies.Instance | None = None
        self._cache_states: dict[bytes, RequestState] = {}
        # The cache keys of a token's results under per-call machine secret keys, by the
        # token's own digest: ``forget`` reaches them too.
        self._keyed: dict[bytes, set[bytes]] = {}
        self.verifications = 0

    def clear(self) -> None:
        self.store.clear()
        self._cache_states.clear()
        self._keyed.clear()
        self.registry.parsed_headers.clear()
        self._normalized.clear()
        self._checked.clear()

    def forget(self, token: str) -> None:
        """Drop any cached result for ``token`` (for example from a revocation webhook)."""
        digest = token_digest(token)
        for key in (digest, *self._keyed.pop(digest, ())):
            self.store.forget(key)
            self._cache_states.pop(key, None)

    # -- accepts --------------------------------------------------------------------------------

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
        started = time.perf_counter()
        spec = self.normalize(accepts)
        presented, digest = self._read(conn)
        state = None
        peeked = False
        if digest is not None and machine_secret_key is None:
            peeked = True
            if conn.scope.get(MISSED_KEY) is not digest:
                state = self._cached(digest, len(presented.token or ""), spec)
        if state is None:
            token = presented.token
            if token is not None:
                # A header token (malformed headers carry none): straight to the token.
                state = await self._authenticate_token(
                    token,
                    spec,
                    presented.carrier,
                    conn.scope.setdefault(MEMO_KEY, {}),
                    self._request_for(conn, spec, machine_secret_key),
                    digest,
                    peeked,
                )
            else:
                state = await self._without_header_token(conn, spec, presented, machine_secret_key)
        # One event per request, however many Auth dependencies; nothing when nobody listens.
        if state.source != "memo" and self.observer.wants(state):
            await self.observer.emit(state, started, spec)
        return state

    def answer_from_cache(self, conn: Connection, spec: Accepts) -> RequestState | None:
        """``authenticate_request``'s answer when it needs no I/O: a header token this instance
        verified before and still holds, and nobody listening for the event (else ``None``:
        call ``authenticate_request``). What a cached request through ``Auth()`` costs."""
        presented, digest = self._read(conn)
        if digest is None or len(presented.token or "") > self.settings.max_token_length:
            return None
        cached = self.store.peek(digest)
        if cached is None:
            conn.scope[MISSED_KEY] = digest  # authenticate_request need not look again
            return None
        state = self._state_for(digest, cached)
        if not self.normalize(spec).allows(state.token_type or "") or self.observer.wants(state):
            return None
        return state

    def _read(self, conn: Connection) -> tuple[Presented, bytes | None]:
        """The header's token and its digest, read once per request: ``answer_from_cache``,
        ``authenticate_request`` and every ``Auth`` of the request share them."""
        scope = conn.scope
        read: tuple[Presented, bytes | None] | None = scope.get(HEADER_KEY)
        if read is None:
            read = scope[HEADER_KEY] = read_authorization(conn)
        return read

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
        request = _Request(machine_secret_key=machine_secret_key, given_client=client)
        state = await self._authenticate_token(
            token, self.normalize(accepts), carrier, None, request
        )
        if self.observer.wants(state):
            await self.observer.emit(state, started, self.normalize(accepts))
        return state

    # -- the pipeline ---------------------------------------------------------------------------

    def _instance(self) -> cookies.Instance:
        if self._cookie_instance is None:
            settings = self.settings
            self._cookie_instance = cookies.Instance.from_publishable_key(
                settings.publishable_key, settings.frontend_api, settings.max_token_length
            )
        return self._cookie_instance

    def _remember_keyed(self, digest: bytes, keyed: bytes) -> None:
        keys = self._keyed.get(digest)
        if keys is None:
            if len(self._keyed) >= KEYED_TOKENS:
                del self._keyed[next(iter(self._keyed))]
            keys = self._keyed[digest] = set()
        if len(keys) < KEYS_PER_TOKEN:
            keys.add(keyed)

    def _cached(self, digest: bytes, length: int, spec: Accepts) -> RequestState | None:
        """The fast path: a header token verified before costs a hash and a lookup."""
        if length > self.settings.max_token_length:
            return None
        cached = self.store.peek(digest)
        if cached is None:
            return None
        state = self._state_for(digest, cached)
        return state if spec.allows(state.token_type or "") else None

    def _state_for(self, digest: bytes, cached: Verified) -> RequestState:
        """The signed-in state of a cached result. The state of a result in steady use is kept
        and served only while the cache still holds that very result (checked by identity), so
        a result the cache dropped, forgot or rebuilt is never answered from here."""
        state = self._cache_states.get(digest)
        if state is not None and state.auth is cached.principal:
            return state
        token_type = str(getattr(cached.principal, "token_type", ""))
        state = self._signed_in(token_type, cached, digest.hex()[:12], "cache")
        states = self._cache_states
        if len(states) >= CACHED_STATES:
            del states[next(iter(states))]
        states[digest] = state
        return state

    def _request_for(
        self, conn: Connection, spec: Accepts, machine_secret_key: str | None
    ) -> _Request:
        return _Request(
            conn,
            self.settings,
            includes_session=spec.includes_session,
            instance=self._instance(),
            machine_secret_key=machine_secret_key,
        )

    async def _without_header_token(
        self,
        conn: Connection,
        spec: Accepts,
        presented: Presented,
        machine_secret_key: str | None,
    ) -> RequestState:
        """A malformed ``Authorization`` header, or none: the cookie path, or Clerk's answer
        for a request without a token."""
        if presented.malformed:
            return self._signed_out(
                spec.single,
                Reason.INVALID_REQUEST,
                "The Authorization header is malformed.",
                "invalid_request",
            )
        if not spec.includes_session:
            # A machine-only route and no header token: Clerk's "No token in header" for one
            # type; a list without session_token fails its pre-check first (tokenType null).
            if spec.single is not None:
                return self._signed_out(
                    spec.single, Reason.NO_TOKEN_IN_HEADER, _NO_HEADER_TOKEN, "missing"
                )
            return self._signed_out(None, Reason.TOKEN_TYPE_MISMATCH, _NO_HEADER_TOKEN, "missing")
        if not self.settings.session_cookie:
            return self._signed_out(
                SESSION_TOKEN, Reason.SESSION_TOKEN_MISSING, "No session token was sent.", "missing"
            )
        request = self._request_for(conn, spec, machine_secret_key)
        jar = cookies.parse_cookie_header(list(request.cookie_headers))
        found = cookies.session_cookies(jar, request.instance, self._clock())
        if found.token is None:
            return self._signed_out(
                SESSION_TOKEN,
                found.reason or Reason.SESSION_TOKEN_MISSING,
                found.message,
                "missing" if found.missing else "invalid_token",
            )
        if not origin_allowed(conn, self.settings):
            return self._signed_out(
                SESSION_TOKEN,
                Reason.ORIGIN_NOT_ALLOWED,
                "The session cookie is not accepted from this request's Origin.",
                "invalid_token",
            )
        request = request.with_client_uat(found.client_uat)
        memo: dict[Any, Any] = conn.scope.setdefault(MEMO_KEY, {})
        return await self._authenticate_token(found.token, spec, "cookie", memo, request)

    def _cookie_checks(self, credential: Credential, request: _Request) -> RequestState | None:
        """Steps 7 to 9 of Clerk's cookie path, before the signature is checked."""
        fingerprint = credential.fingerprint
        jws = credential.jws
        if jws is None:
            # Not a JWT (opaque machine tokens included): Clerk's decode error.
            return self._signed_out(
                SESSION_TOKEN,
                Reason.TOKEN_INVALID,
                "The session cookie is not a JWT.",
                "invalid_token",
                fingerprint=fingerprint,
            )
        category = jws.header.get("cat")
        non_session = category is not None and category not in SESSION_CATEGORIES
        if credential.token_type != SESSION_TOKEN or non_session:
            # Machine tokens are accepted only from the Authorization header.
            return self._signed_out(
                SESSION_TOKEN,
                Reason.TOKEN_TYPE_MISMATCH,
                "The session cookie does not hold a session token.",
                "invalid_token",
                fingerprint=fingerprint,
            )
        iat: Any = jws.payload.get("iat")
        if is_number(iat) and iat < request.client_uat:
            return self._signed_out(
                SESSION_TOKEN,
                Reason.SESSION_TOKEN_IAT_BEFORE_CLIENT_UAT,
                "The session token was issued before the client's last sign-in change.",
                "invalid_token",
                fingerprint=fingerprint,
            )
        return None

    async def _authenticate_token(
        self,
        token: str,
        spec: Accepts,
        carrier: Carrier,
        memo: dict[Any, Any] | None,
        request: _Request,
        digest: bytes | None = None,
        peeked: bool = False,
    ) -> RequestState:
        if len(token) > self.settings.max_token_length:
            return self._signed_out(
                spec.single, Reason.TOKEN_INVALID, "The token is too long.", "invalid_token"
            )
        if digest is None:
            digest = token_digest(token)
        fingerprint = digest.hex()[:12]
        msk = request.machine_secret_key
        if msk is not None:
            # A per-call machine key: results are cached per key (Clerk answers per machine).
            keyed = token_digest(f"{token}\x00{token_digest(msk).hex()}")
            self._remember_keyed(digest, keyed)
            digest = keyed
        # Fast path: a token verified before (never past its expiry) costs one hash and a lookup
        # (``peeked``: the request path has just looked, and found nothing it could answer).
        cached = None if peeked else self.store.peek(digest)
        if cached is not None and carrier == "header":
            token_type = str(getattr(cached.principal, "token_type", ""))
            if not spec.allows(token_type):
                return self._mismatch(spec, token, fingerprint, token_type)
            return self._signed_in(token_type, cached, fingerprint, "cache")

        credential = self.registry.classify(token, digest)
        credential.machine_secret_key = msk
        if credential.jws is None:
            # Only opaque tokens reach the Backend API and its per-client budget.
            credential.client = request.client
        if carrier == "cookie":
            credential.carrier = "cookie"
            refused = self._cookie_checks(credential, request)
            if refused is not None:
                return refused
        if not spec.allows(credential.token_type):
            return self._mismatch(spec, token, fingerprint, credential.token_type)
        if (
            credential.jws is None
            and token.startswith(_CLERK_MACHINE_PREFIXES)
            and _JWT_FORMAT.fullmatch(token)
        ):
            # Clerk decodes a prefixed token of JWT shape as a JWT, fails, and calls it m2m_token.
            return self._signed_out(
                "m2m_token",
                Reason.TOKEN_INVALID,
                "The token is not a valid JWT.",
                "invalid_token",
                fingerprint=fingerprint,
            )
        if carrier == "header" and self.store.shared:
            # A shared tier (Redis) may know it; asked only once the type is one we accept.
            shared = await self.store.get_verified(digest)
            if shared is not None:
                return self._signed_in(credential.token_type, shared, fingerprint, "cache")

        memo_key = (id(self), digest)
        outcome = memo.get(memo_key) if memo is not None else None
        source: Source = "memo"
        if outcome is None:
            source = "verified"
            outcome = await self._verify(credential)
            if memo is not None:
                memo[memo_key] = outcome
        if outcome.verified is not None:
            return self._signed_in(credential.token_type, outcome.verified, fingerprint, source)
        error = outcome.error
        if isinstance(error, UpstreamError):
            return self._signed_out(
                credential.token_type,
                error.reason,
                error.message,
                "unavailable",
                fingerprint=fingerprint,
                retry_after=error.retry_after,
                source=source,
            )
        assert isinstance(error, TokenVerificationError)
        reason = error.reason
        if credential.token_type == SESSION_TOKEN:
            reason = session_reason(reason, request)
        return self._signed_out(
            spec.single or credential.token_type,
            reason,
            error.message,
            "invalid_token",
            fingerprint=fingerprint,
            source=source,
        )

    async def _verify(self, credential: Credential) -> _Outcome:
        verifier = self.registry.get(credential.token_type)
        if verifier is None:
            return _Outcome(
                error=TokenVerificationError(Reason.TOKEN_INVALID, "Unsupported token type.")
            )
        self.verifications += 1
        try:
            result = await verifier.verify(credential)
        except (TokenVerificationError, UpstreamError) as exc:
            return _Outcome(error=exc)
        except ConfigurationError as exc:
            logger.error("Clerk configuration error: %s", exc.message)
            return _Outcome(error=UpstreamError(Reason.UNEXPECTED_ERROR, "Configuration error."))
        except Exception:
            # A bug must not become a 500 on attacker input; never log the token itself.
            logger.exception(
                "unexpected error verifying a %s token fp=%s",
                credential.token_type,
                credential.fingerprint,
            )
            return _Outcome(
                error=TokenVerificationError(Reason.UNEXPECTED_ERROR, "Unexpected error.")
            )
        verified = result if isinstance(result, Verified) else Verified(result)
        if verified.cache_until is not None and verified.cache_until > self._clock():
            await self.store.put_verified(credential.digest, verified)
        return _Outcome(verified=verified)

    # -- states ---------------------------------------------------------------------------------

    def _mismatch(
        self, spec: Accepts, token: str, fingerprint: str, presented: str
    ) -> RequestState:
        return dataclasses.replace(
            self._mismatch_state(spec, token, fingerprint), presented_type=presented
        )

    def _mismatch_state(self, spec: Accepts, token: str, fingerprint: str) -> RequestState:
        if spec.single is not None:
            reason = Reason.TOKEN_TYPE_MISMATCH
            # Parity: an opaque machine token on a session-only route fails to decode as a JWT.
            if spec.single == SESSION_TOKEN and token.startswith(self.registry.opaque_prefixes()):
                reason = Reason.TOKEN_INVALID
            return self._signed_out(
                spec.single, reason, _NOT_ACCEPTED, "invalid_token", fingerprint=fingerprint
            )
        return self._signed_out(
            None,
            Reason.TOKEN_TYPE_MISMATCH,
            _NOT_ACCEPTED,
            "invalid_token",
            fingerprint=fingerprint,
        )

    def _signed_out(
        self,
        token_type: str | None,
        reason: str,
        message: str,
        error: ErrorKind,
        *,
        fingerprint: str | None = None,
        retry_after: float | None = None,
        source: Source | None = None,
    ) -> RequestState:
        return RequestState(
            status="signed-out",
            token_type=token_type,
            reason=reason,
            message=message,
            error=error,
            fingerprint=fingerprint,
            retry_after=retry_after,
            treat_pending_as_signed_out=self.settings.treat_pending_as_signed_out,
            source=source,
        )

    def _signed_in(
        self, token_type: str, verified: Verified, fingerprint: str, source: Source
    ) -> RequestState:
        return RequestState(
            status="signed-in",
            token_type=token_type,
            auth=verified.principal,
            fingerprint=fingerprint,
            treat_pending_as_signed_out=self.settings.treat_pending_as_signed_out,
            source=source,
        )
