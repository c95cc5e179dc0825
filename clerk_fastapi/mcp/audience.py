"""The canonical resource URL (RFC 8707 / MCP) and the audience rule for OAuth tokens.

URLs are compared the way the MCP SDK's bearer middleware compares a token's resource with its
``resource_server_url``: parsed as an http(s) URL (scheme and host case and the default port do
not matter), one trailing slash aside. No prefix matching: a token for ``https://a/`` is not a
token for ``https://a/mcp``.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

from pydantic import AnyHttpUrl, TypeAdapter, ValidationError

_URL: TypeAdapter[AnyHttpUrl] = TypeAdapter(AnyHttpUrl)


def normalize(url: str) -> str | None:
    """The comparable form of ``url``; ``None`` when it is not an http(s) URL."""
    if not isinstance(url, str) or not url or len(url) > 2048:
        return None
    try:
        parsed = _URL.validate_python(url)
    except ValidationError:
        return None
    return str(parsed).removesuffix("/")


def check_resource_url(url: str) -> str:
    """Validate the URL an MCP server is reached at; returns it unchanged.

    The canonical URI of an MCP server is absolute, http(s), with no query or fragment.
    """
    if normalize(url) is None:
        raise ValueError(f"url must be an absolute http(s) URL, got {url!r}")
    parts = urlsplit(url)
    if parts.query or parts.fragment or url.endswith(("?", "#")):
        raise ValueError("url must have no query or fragment (it is the canonical resource URI)")
    if parts.username is not None or parts.password is not None:
        raise ValueError("url must not carry credentials")
    return url


def audience_contains(aud: Iterable[str] | None, url: str) -> bool:
    """Whether ``aud`` names ``url`` (normalised on both sides)."""
    target = normalize(url)
    if target is None or not aud:
        return False
    return any(normalize(entry) == target for entry in aud if isinstance(entry, str))
