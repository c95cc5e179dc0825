"""``Builtin``: one of Clerk's own token types as a ``Clerk`` builds it.

A built-in kind module ends with its ``BUILTIN``: the kind record and how to make the type's
verifier (and the Backend API client that verifies through it, such as ``clerk.m2m``) from the
``Clerk``'s ``KindContext`` and HTTP client. ``kinds.BUILTINS`` lists them, in display order;
``Clerk`` registers each one, so a new built-in type is its module, its Backend API module and
one entry there.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TypeVar

from clerk_fastapi.backend.http import BackendHTTP
from clerk_fastapi.kinds.base import TokenKind, TokenVerifier
from clerk_fastapi.kinds.context import KindContext

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Built:
    """What a ``Clerk`` gets from a built-in kind: the verifier it registers and, when the type
    has one, its Backend API client."""

    verifier: TokenVerifier
    client: object | None = None


@dataclass(frozen=True, slots=True)
class Builtin:
    kind: TokenKind
    build: Callable[[KindContext, BackendHTTP], Built]


def client_of(clients: Iterable[object], cls: type[T]) -> T:
    """The one built client of class ``cls`` (the ``Clerk``'s typed attributes read them so)."""
    for client in clients:
        if isinstance(client, cls):
            return client
    raise LookupError(f"no built-in kind built a {cls.__name__}")
