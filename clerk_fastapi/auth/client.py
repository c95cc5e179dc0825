"""The client's address: the connection's peer, or, behind proxies the settings trust, the
nearest address in ``X-Forwarded-For`` that is not one of them."""

from __future__ import annotations

import ipaddress

from clerk_fastapi.auth.credentials import Connection
from clerk_fastapi.settings import ClerkSettings


def _trusted(address: str, settings: ClerkSettings) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in settings.trusted_proxy_networks)


def client_address(conn: Connection, settings: ClerkSettings) -> str | None:
    """Whom the per-client budget counts. ``X-Forwarded-For`` is read only when the peer is a
    trusted proxy, and from the right: each trusted hop vouches for the one before it, the
    first untrusted address is the client (anything left of it is the client's own claim)."""
    peer = conn.scope.get("client")
    address = str(peer[0]) if isinstance(peer, (tuple, list)) and peer else None
    if address is None or not settings.trusted_proxies or not _trusted(address, settings):
        return address
    hops = [
        hop.strip() for value in conn.headers.getlist("x-forwarded-for") for hop in value.split(",")
    ]
    for hop in reversed(hops):
        if not hop:
            continue
        if not _trusted(hop, settings):
            return hop if _is_ip(hop) else address
        address = hop
    return address


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True
