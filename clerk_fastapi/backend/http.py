"""One pooled ``httpx.AsyncClient`` per event loop, strict deadlines, at most one retry.

Errors come out as ``ClerkAPIError`` (Clerk answered non-2xx) or ``ClerkNetworkError`` (no answer).
Neither ever carries the secret or the request body (which holds the token).
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
from typing import TYPE_CHECKING, Any

import anyio
import httpx

from clerk_fastapi._version import __version__
from clerk_fastapi.errors import ClerkAPIError, ClerkNetworkError
from clerk_fastapi.settings import ClerkSettings

if TYPE_CHECKING:
    from clerk_fastapi.telemetry import Telemetry

CLERK_API_VERSION = "2026-05-12"
USER_AGENT = f"clerk-fastapi/{__version__}"


def parse_retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None
    return seconds if 0 <= seconds <= 86_400 else None


class BackendHTTP:
    """Sends requests to ``settings.api_url``.

    The client is created lazily in the running event loop and re-created if the loop changes
    (a client's pooled connections cannot cross loops, e.g. between two ``TestClient`` runs).
    """

    def __init__(
        self, settings: ClerkSettings, *, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        self._settings = settings
        self._transport = transport
        self._loop: asyncio.AbstractEventLoop | None = None
        # Loading the CA bundle is most of the cost of a client (tens of ms, seconds on a busy
        # machine): do it now, at construction, never inside the event loop on a request.
        self._ssl_context = httpx.create_ssl_context() if transport is None else None
        # Likewise anyio's asyncio backend, which its first deadline (``fail_after``) imports:
        # over 10 ms in the event loop on an app's first request to Clerk (bench row 8).
        with contextlib.suppress(ImportError):
            importlib.import_module("anyio._backends._asyncio")
        self._client: httpx.AsyncClient | None = self._new_client()
        self.telemetry: Telemetry | None = None  # set by telemetry.instrument

    def _new_client(self) -> httpx.AsyncClient:
        timeout = httpx.Timeout(
            self._settings.http_timeout, connect=self._settings.http_connect_timeout
        )
        return httpx.AsyncClient(
            base_url=self._settings.api_url,
            timeout=timeout,
            follow_redirects=False,
            transport=self._transport,
            verify=self._ssl_context if self._ssl_context is not None else True,
            headers={"User-Agent": USER_AGENT, "Clerk-API-Version": CLERK_API_VERSION},
            limits=httpx.Limits(max_connections=100, max_keepalive_connections=20),
            # Only the proxy configured in the settings (CLERK_HTTP_PROXY): HTTP(S)_PROXY and
            # the rest of the environment never redirect calls that carry the secret key.
            # A given transport (a fake, in tests) is used as is.
            proxy=self._settings.http_proxy if self._transport is None else None,
            trust_env=False,
        )

    def client(self) -> httpx.AsyncClient:
        loop = asyncio.get_running_loop()
        if self._client is None or self._client.is_closed:
            self._client, self._loop = self._new_client(), loop
        elif self._loop is None:
            self._loop = loop  # the client built at construction joins the first loop
        elif self._loop is not loop:
            self._client, self._loop = self._new_client(), loop
        return self._client

    async def aclose(self) -> None:
        client: httpx.AsyncClient | None = self._client
        self._client = None
        if client is not None and not client.is_closed:
            with contextlib.suppress(RuntimeError):  # created in another, now closed, loop
                await client.aclose()

    async def request(
        self,
        method: str,
        path: str,
        *,
        secret: str | None,
        json: Any = None,
        params: dict[str, Any] | None = None,
        deadline: float | None = None,
    ) -> Any:
        """Send one request; return the decoded JSON body of a 2xx answer.

        Retries once, and only on a connection error (never after an HTTP answer such as 429).
        """
        if self.telemetry is None:
            return await self._request(method, path, secret, json, params, deadline)
        with self.telemetry.backend_call(method, path) as result:
            try:
                body = await self._request(method, path, secret, json, params, deadline)
            except ClerkAPIError as exc:
                result["outcome"], result["status"] = "http_error", exc.status
                raise
            result["outcome"], result["status"] = "ok", 200
            return body

    async def _request(
        self,
        method: str,
        path: str,
        secret: str | None,
        json: Any,
        params: dict[str, Any] | None,
        deadline: float | None,
    ) -> Any:
        headers = {"Authorization": f"Bearer {secret}"} if secret else {}
        if json is not None:
            headers["Content-Type"] = "application/json"
        client = self.client()
        timeout = deadline if deadline is not None else self._settings.http_timeout
        response: httpx.Response | None = None
        try:
            with anyio.fail_after(timeout):
                for attempt in (1, 2):
                    try:
                        response = await client.request(
                            method, path, json=json, params=params, headers=headers
                        )
                        break
                    except httpx.TimeoutException:
                        raise
                    except httpx.TransportError:
                        if attempt == 2:
                            raise
        except (TimeoutError, httpx.TimeoutException):
            raise ClerkNetworkError("Clerk did not answer in time") from None
        except httpx.TransportError as exc:
            raise ClerkNetworkError(f"Clerk could not be reached ({type(exc).__name__})") from None
        assert response is not None
        return _decode(response)


def _decode(response: httpx.Response) -> Any:
    retry_after = parse_retry_after(response.headers.get("retry-after"))
    try:
        body = response.json() if response.content else None
    except ValueError:
        body = None
    if 200 <= response.status_code < 300:
        if body is None and response.content:
            raise ClerkAPIError(response.status_code, [{"code": "invalid_json_body"}])
        return body
    errors: list[dict[str, Any]] = []
    trace_id = response.headers.get("cf-ray")
    if isinstance(body, dict):
        raw_errors = body.get("errors")
        if isinstance(raw_errors, list):
            errors = [e for e in raw_errors if isinstance(e, dict)]
        if isinstance(body.get("clerk_trace_id"), str):
            trace_id = body["clerk_trace_id"]
    raise ClerkAPIError(
        response.status_code, errors, clerk_trace_id=trace_id, retry_after=retry_after
    )
