"""``RequestState``: the outcome of authenticating one request, as in Clerk's JS SDK, and
``Outcomes``, which builds the state of each decision."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel

from clerk_fastapi.auth.accepts import Accepts
from clerk_fastapi.errors import Reason
from clerk_fastapi.kinds.registry import SESSION_TOKEN, KindRegistry
from clerk_fastapi.principals import SessionAuth, Verified
from clerk_fastapi.settings import ClerkSettings

ErrorKind = Literal["missing", "invalid_request", "invalid_token", "unavailable"]
Source = Literal["verified", "cache", "memo"]

# The level a decision is logged at (auth/events.py), by ``RequestState.error``.
LOG_LEVELS = {
    None: logging.DEBUG,
    "missing": logging.DEBUG,
    "invalid_request": logging.INFO,
    "invalid_token": logging.INFO,
    "unavailable": logging.WARNING,
}


@dataclass(frozen=True, init=False)
class RequestState:
    """The outcome of ``authenticate_request``, as in Clerk's JS SDK.

    ``status`` is ``signed-in`` or ``signed-out``; ``reason`` is Clerk's reason code (``None`` when
    signed in); ``error`` says how an HTTP layer should answer (``missing``: 401 with no error,
    ``invalid_request``: 400, ``invalid_token``: 401, ``unavailable``: 503).
    """

    status: Literal["signed-in", "signed-out"]
    token_type: str | None
    reason: str | None
    message: str
    error: ErrorKind | None
    auth: BaseModel | None
    retry_after: float | None
    fingerprint: str | None
    treat_pending_as_signed_out: bool
    # Where the answer came from: "verified" now, the result "cache", or this request's "memo".
    source: Source | None
    # The type of the token that was presented, when it is not ``token_type`` (a type mismatch:
    # ``token_type`` is then the route's, as in Clerk). Logs name both.
    presented_type: str | None
    # Worked out once, when the state is made (a cached state answers many requests):
    # ``to_auth()`` with the state's own pending rule, and the level its decision is logged at.
    principal: Any = field(init=False, repr=False, compare=False)
    log_level: int = field(init=False, repr=False, compare=False)

    def __init__(
        self,
        status: Literal["signed-in", "signed-out"],
        token_type: str | None,
        reason: str | None = None,
        message: str = "",
        error: ErrorKind | None = None,
        auth: BaseModel | None = None,
        retry_after: float | None = None,
        fingerprint: str | None = None,
        treat_pending_as_signed_out: bool = True,
        source: Source | None = None,
        presented_type: str | None = None,
    ) -> None:
        # Written into the instance's dict at once: a frozen dataclass's own __init__ pays one
        # object.__setattr__ per field, a microsecond on every new token.
        values = self.__dict__
        values.update(
            status=status,
            token_type=token_type,
            reason=reason,
            message=message,
            error=error,
            auth=auth,
            retry_after=retry_after,
            fingerprint=fingerprint,
            treat_pending_as_signed_out=treat_pending_as_signed_out,
            source=source,
            presented_type=presented_type,
        )
        values["principal"] = self.to_auth(treat_pending_as_signed_out=treat_pending_as_signed_out)
        values["log_level"] = LOG_LEVELS.get(error, logging.INFO)

    @property
    def is_authenticated(self) -> bool:
        return self.to_auth() is not None

    @property
    def is_pending(self) -> bool:
        return isinstance(self.auth, SessionAuth) and self.auth.session_status == "pending"

    def to_auth(self, *, treat_pending_as_signed_out: bool | None = None) -> Any:
        """The verified principal, or ``None`` (signed out, or a pending session by default)."""
        if treat_pending_as_signed_out is None:
            return self.principal
        if self.status != "signed-in" or (treat_pending_as_signed_out and self.is_pending):
            return None
        return self.auth


# Messages say in plain words what failed (Clerk's are empty for these).
NOT_ACCEPTED = "This route does not accept this kind of token."


class Outcomes:
    """Builds the states of one ``Clerk``'s decisions (its settings say how a pending session
    counts; its registry which prefixes are opaque)."""

    def __init__(self, settings: ClerkSettings, registry: KindRegistry) -> None:
        self._pending_signed_out = settings.treat_pending_as_signed_out
        self._registry = registry

    def signed_in(
        self, token_type: str, verified: Verified, fingerprint: str, source: Source
    ) -> RequestState:
        return RequestState(
            status="signed-in",
            token_type=token_type,
            auth=verified.principal,
            fingerprint=fingerprint,
            treat_pending_as_signed_out=self._pending_signed_out,
            source=source,
        )

    def signed_out(
        self,
        token_type: str | None,
        reason: str,
        message: str,
        error: ErrorKind,
        *,
        fingerprint: str | None = None,
        retry_after: float | None = None,
        source: Source | None = None,
        presented_type: str | None = None,
    ) -> RequestState:
        return RequestState(
            status="signed-out",
            presented_type=presented_type,
            token_type=token_type,
            reason=reason,
            message=message,
            error=error,
            fingerprint=fingerprint,
            retry_after=retry_after,
            treat_pending_as_signed_out=self._pending_signed_out,
            source=source,
        )

    def mismatch(self, spec: Accepts, token: str, fingerprint: str, presented: str) -> RequestState:
        """A token of a type the route does not accept (decided before any I/O);
        ``presented``: the type it is (for the event, never for the answer)."""
        if spec.single is not None:
            reason = Reason.TOKEN_TYPE_MISMATCH
            # Parity: an opaque machine token on a session-only route fails to decode as a JWT.
            if spec.single == SESSION_TOKEN and token.startswith(self._registry.opaque_prefixes()):
                reason = Reason.TOKEN_INVALID
            return self.signed_out(
                spec.single,
                reason,
                NOT_ACCEPTED,
                "invalid_token",
                fingerprint=fingerprint,
                presented_type=presented,
            )
        return self.signed_out(
            None,
            Reason.TOKEN_TYPE_MISMATCH,
            NOT_ACCEPTED,
            "invalid_token",
            fingerprint=fingerprint,
            presented_type=presented,
        )
