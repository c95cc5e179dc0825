"""The in-process verified-result cache: least-recently-used, bounded in entries and bytes,
cheap for the garbage collector, never serving a result past its ``cache_until``.

Two tiers. Every result is kept as a compact entry (an immutable tuple of atoms holding the bytes
its kind rebuilds the principal from: a session token's payload JSON, else a pickle), which the
cyclic garbage collector does not have to traverse, so 100,000 cached results cost no long GC
pause. The most recently used results are also kept as live objects
(``hot``), so a token in steady use costs a dict lookup. A flood of one-off tokens evicts the
least recently used entries, never a token in steady use.
"""

from __future__ import annotations

import pickle
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel

from clerk_fastapi.principals import Verified

HOT_ENTRIES = 1024
# (cache_until, kid, compact form / pickle / the live Verified when neither exists, size,
#  token type whose kind rebuilds the compact form, or "" for a pickle)
_Entry = tuple[float, "str | None", "bytes | Verified", int, str]
Rebuild = Callable[[str, bytes], "BaseModel | None"]


def _pack(verified: Verified) -> tuple[bytes | Verified, int, str]:
    principal = verified.principal
    token_type = getattr(principal, "token_type", None)
    if verified.compact is not None and isinstance(token_type, str):
        return verified.compact, len(verified.compact) + 64, token_type
    try:
        blob = pickle.dumps(
            (
                type(principal),
                principal.__dict__,
                principal.__pydantic_fields_set__,
                verified.opaque,
            ),
            protocol=pickle.HIGHEST_PROTOCOL,
        )
    except Exception:  # a principal class that cannot be pickled (defined in a function)
        return verified, 1024, ""
    return blob, len(blob), ""


def _unpickle(blob: bytes, cache_until: float, kid: str | None) -> Verified:
    model, values, fields_set, opaque = pickle.loads(blob)  # noqa: S301 (our own bytes)
    principal = model.model_construct(_fields_set=fields_set, **values)
    return Verified(principal, cache_until, opaque=opaque, kid=kid)


class ResultCache:
    def __init__(
        self,
        max_entries: int,
        max_bytes: int,
        clock: Callable[[], float],
        rebuild: Rebuild | None = None,
        hot: int = HOT_ENTRIES,
    ) -> None:
        self._clock = clock
        self._rebuild = rebuild
        self._max_entries = max(max_entries, 1)
        self._max_bytes = max(max_bytes, 1)
        self._entries: OrderedDict[bytes, _Entry] = OrderedDict()
        self._hot: OrderedDict[bytes, Verified] = OrderedDict()
        self._hot_size = max(1, min(hot, self._max_entries))
        self._bytes = 0

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def size_in_bytes(self) -> int:
        return self._bytes

    def get(self, digest: bytes) -> Verified | None:
        verified = self._hot.get(digest)
        if verified is not None:
            if verified.cache_until is not None and verified.cache_until > self._clock():
                self._hot.move_to_end(digest)
                self._entries.move_to_end(digest)
                return verified
            self.pop(digest)  # expired: never served past the token's expiry
            return None
        entry = self._entries.get(digest)
        if entry is None:
            return None
        cache_until, kid, blob, _, token_type = entry
        if cache_until <= self._clock():
            self.pop(digest)
            return None
        verified = self._unpack(blob, cache_until, kid, token_type)
        if verified is None:
            self.pop(digest)
            return None
        self._entries.move_to_end(digest)
        self._remember_hot(digest, verified)
        return verified

    def _unpack(
        self, blob: bytes | Verified, cache_until: float, kid: str | None, token_type: str
    ) -> Verified | None:
        if isinstance(blob, Verified):
            return blob
        if not token_type:
            return _unpickle(blob, cache_until, kid)
        principal = self._rebuild(token_type, blob) if self._rebuild is not None else None
        if principal is None:
            return None
        return Verified(principal, cache_until, kid=kid, compact=blob)

    def put(self, digest: bytes, verified: Verified) -> None:
        if verified.cache_until is None or verified.cache_until <= self._clock():
            return
        self.pop(digest)
        blob, size, token_type = _pack(verified)
        self._entries[digest] = (verified.cache_until, verified.kid, blob, size, token_type)
        self._bytes += size
        self._remember_hot(digest, verified)
        while len(self._entries) > self._max_entries or self._bytes > self._max_bytes:
            oldest, entry = self._entries.popitem(last=False)
            self._bytes -= entry[3]
            self._hot.pop(oldest, None)

    def _remember_hot(self, digest: bytes, verified: Verified) -> None:
        self._hot[digest] = verified
        self._hot.move_to_end(digest)
        if len(self._hot) > self._hot_size:
            self._hot.popitem(last=False)

    def pop(self, digest: bytes) -> None:
        entry = self._entries.pop(digest, None)
        if entry is not None:
            self._bytes -= entry[3]
        self._hot.pop(digest, None)

    def forget_kids(self, kids: set[str]) -> None:
        for digest in [d for d, entry in self._entries.items() if entry[1] in kids]:
            self.pop(digest)

    def clear(self) -> None:
        self._entries.clear()
        self._hot.clear()
        self._bytes = 0

    def __contains__(self, digest: Any) -> bool:
        return digest in self._entries
