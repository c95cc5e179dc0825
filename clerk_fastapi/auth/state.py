"""``RequestState``: the outcome of authenticating one request, as in Clerk's JS SDK."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel

from clerk_fastapi.principals import SessionAuth

ErrorKind = Literal["missing", "invalid_request", "invalid_token", "unavailable"]
Source = Literal["verified", "cache", "memo"]


@dataclass(frozen=True, slots=True)
class RequestState:
    """The outcome of ``authenticate_request``, as in Clerk's JS SDK.

    ``status`` is ``signed-in`` or ``signed-out``; ``reason`` is Clerk's reason code (``None`` when
    signed in); ``error`` says how an HTTP layer should answer (``missing``: 401 with no error,
    ``invalid_request``: 400, ``invalid_token``: 401, ``unavailable``: 503).
    """

    status: Literal["signed-in", "signed-out"]
    token_type: str | None
    reason: str | None = None
    message: str = ""
    error: ErrorKind | None = None
    auth: BaseModel | None = None
    retry_after: float | None = None
    fingerprint: str | None = None
    treat_pending_as_signed_out: bool = True
    # Where the answer came from: "verified" now, the result "cache", or this request's "memo".
    source: Source | None = None
    # The type of the token that was presented, when it is not ``token_type`` (a type mismatch:
    # ``token_type`` is then the route's, as in Clerk). Logs name both.
    presented_type: str | None = None

    @property
    def is_authenticated(self) -> bool:
        return self.to_auth() is not None

    @property
    def is_pending(self) -> bool:
        return isinstance(self.auth, SessionAuth) and self.auth.session_status == "pending"

    def to_auth(self, *, treat_pending_as_signed_out: bool | None = None) -> Any:
        """The verified principal, or ``None`` (signed out, or a pending session by default)."""
        if self.status != "signed-in":
            return None
        treat = (
            self.treat_pending_as_signed_out
            if treat_pending_as_signed_out is None
            else treat_pending_as_signed_out
        )
        auth = self.auth
        if treat and isinstance(auth, SessionAuth) and auth.session_status == "pending":
            return None
        return auth
