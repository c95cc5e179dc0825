"""A request without a header token: a malformed ``Authorization`` header, the ``__session``
cookie (Clerk's cookie path, production flows), or Clerk's answer for a request with no token."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from clerk_fastapi.auth import cookies
from clerk_fastapi.auth.accepts import Accepts
from clerk_fastapi.auth.credentials import Connection, RequestContext, header_values
from clerk_fastapi.auth.origin import origin_allowed
from clerk_fastapi.auth.state import Outcomes, RequestState
from clerk_fastapi.errors import Reason
from clerk_fastapi.jose.claims import is_number
from clerk_fastapi.kinds._jwt import SESSION_CATEGORIES
from clerk_fastapi.kinds.base import Credential
from clerk_fastapi.kinds.registry import SESSION_TOKEN
from clerk_fastapi.settings import ClerkSettings

_NO_HEADER_TOKEN = "This route takes machine tokens only from the Authorization header; none came."
CookieCheck = Callable[[Credential], "RequestState | None"]


class CookiePath:
    def __init__(
        self, settings: ClerkSettings, clock: Callable[[], float], outcomes: Outcomes
    ) -> None:
        self._settings = settings
        self._clock = clock
        self._outcomes = outcomes
        self._instance: cookies.Instance | None = None

    @property
    def instance(self) -> cookies.Instance:
        """The Clerk instance's cookie names (from the publishable key), worked out once."""
        if self._instance is None:
            settings = self._settings
            self._instance = cookies.Instance.from_publishable_key(
                settings.publishable_key, settings.frontend_api, settings.max_token_length
            )
        return self._instance

    def find(
        self, conn: Connection, context: RequestContext, spec: Accepts
    ) -> RequestState | tuple[str, CookieCheck]:
        """Clerk's answer when the request carries no usable token, else the session cookie's
        token and the checks Clerk makes of it before its signature."""
        refuse = self._outcomes.signed_out
        if context.malformed:
            return refuse(
                spec.single,
                Reason.INVALID_REQUEST,
                "The Authorization header is malformed.",
                "invalid_request",
            )
        if not spec.includes_session:
            # A machine-only route and no header token: Clerk's "No token in header" for one
            # type; a list without session_token fails its pre-check first (tokenType null).
            if spec.single is not None:
                return refuse(spec.single, Reason.NO_TOKEN_IN_HEADER, _NO_HEADER_TOKEN, "missing")
            return refuse(None, Reason.TOKEN_TYPE_MISMATCH, _NO_HEADER_TOKEN, "missing")
        if not self._settings.session_cookie:
            return refuse(
                SESSION_TOKEN, Reason.SESSION_TOKEN_MISSING, "No session token was sent.", "missing"
            )
        instance = self.instance
        jar = cookies.parse_cookie_header(header_values(conn, "cookie"))
        found = cookies.session_cookies(jar, instance, self._clock())
        if found.token is None:
            return refuse(
                SESSION_TOKEN,
                found.reason or Reason.SESSION_TOKEN_MISSING,
                found.message,
                "missing" if found.missing else "invalid_token",
            )
        if not origin_allowed(conn, self._settings):
            return refuse(
                SESSION_TOKEN,
                Reason.ORIGIN_NOT_ALLOWED,
                "The session cookie is not accepted from this request's Origin.",
                "invalid_token",
            )
        return found.token, self.checks(found.client_uat)

    def checks(self, client_uat: float) -> CookieCheck:
        """Steps 7 to 9 of Clerk's cookie path, before the signature is checked."""
        refuse = self._outcomes.signed_out

        def check(credential: Credential) -> RequestState | None:
            fingerprint = credential.fingerprint
            jws = credential.jws
            if jws is None:
                # Not a JWT (opaque machine tokens included): Clerk's decode error.
                return refuse(
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
                return refuse(
                    SESSION_TOKEN,
                    Reason.TOKEN_TYPE_MISMATCH,
                    "The session cookie does not hold a session token.",
                    "invalid_token",
                    fingerprint=fingerprint,
                )
            iat: Any = jws.payload.get("iat")
            if is_number(iat) and iat < client_uat:
                return refuse(
                    SESSION_TOKEN,
                    Reason.SESSION_TOKEN_IAT_BEFORE_CLIENT_UAT,
                    "The session token was issued before the client's last sign-in change.",
                    "invalid_token",
                    fingerprint=fingerprint,
                )
            return None

        return check
