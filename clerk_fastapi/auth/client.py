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
    first untrusted address is the client (anything left of it is the client's own claim).
    A hop may carry a port, as some gateways write it (``ip:port``, ``[ipv6]:port``)."""
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
        ip = hop_address(hop)
        if ip is None:
            return address  # garbage: the nearest trusted hop is all we know
        if not _trusted(ip, settings):
            return ip
        address = ip
    return address


def hop_address(hop: str) -> str | None:
    """The IP address of one ``X-Forwarded-For`` hop (``ip``, ``ip:port``, ``[ipv6]``,
    ``[ipv6]:port``), normalised; ``None`` when it is not an address."""
    text = hop
    if text.startswith("["):
        inside, bracket, rest = text[1:].partition("]")
        if not bracket or not (rest == "" or _is_port(rest)):
            return None
        text = inside
    elif text.count(":") == 1:
        host, _, port = text.partition(":")
        if not (port.isascii() and port.isdigit()):
            return None
        text = host
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        return None


def _is_port(text: str) -> bool:
    return text.startswith(":") and text[1:].isascii() and text[1:].isdigit()
