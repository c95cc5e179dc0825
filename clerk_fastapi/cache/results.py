"""The in-process verified-result cache: least-recently-used, bounded in entries and bytes,
cheap for the garbage collector, never serving a result past its ``cache_until``.

Two tiers. Every result is kept as a compact entry: one ``bytes`` value (its expiry, ``kid`` and
token type packed in front of what its kind rebuilds the principal from: a session token's
payload JSON, else a pickle) in a plain dict of bytes, which the cyclic garbage collector does
not track at all, so 100,000 cached results cost no GC pause. The most recently used results are
also kept as live objects (``hot``), so a token in steady use costs a dict lookup; a result
joins them on its first reuse (one rebuild), so one-off tokens never do. A flood of one-off
tokens evicts the least recently used entries, never a token in steady use.
"""

from __future__ import annotations

import itertools
import pickle
import struct
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel

from clerk_fastapi.principals import Verified

# Live results kept for tokens in steady use. Each holds about ten objects the collector
# scans on every full collection (about 5 ms per 1,000 on the 2-core bench machine).
HOT_ENTRIES = 256
Rebuild = Callable[[str, bytes], "BaseModel | None"]
# Entry header: cache_until (double), kid length, token-type length (0: a pickle).
_HEAD = struct.Struct("<dBB")


def _pack(verified: Verified, cache_until: float) -> bytes | None:
    principal = verified.principal
    token_type = getattr(principal, "token_type", None)
    kid = (verified.kid or "").encode()
    if len(kid) > 255:
        return None
    if verified.compact is not None and isinstance(token_type, str) and len(token_type) < 256:
        kind = token_type.encode()
        return _HEAD.pack(cache_until, len(kid), len(kind)) + kid + kind + verified.compact
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
        return None
    return _HEAD.pack(cache_until, len(kid), 0) + kid + blob


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
        # Insertion-ordered; a hit on a compact entry moves it to the end, so the front is
        # least recent, except live results (their hits reorder ``_hot`` alone; eviction
        # passes over them, and one leaving ``_hot`` goes to the end).
        self._entries: dict[bytes, bytes] = {}
        self._hot: OrderedDict[bytes, Verified] = OrderedDict()
        self._hot_size = max(1, min(hot, self._max_entries))
        # Entries evicted together once the cache is full (1/64 of the bound).
        self._batch = max(1, self._max_entries // 64)
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
                # Its compact entry keeps its place: eviction passes over live results.
                self._hot.move_to_end(digest)
                return verified
            self.pop(digest)  # expired: never served past the token's expiry
            return None
        entry = self._entries.get(digest)
        if entry is None:
            return None
        cache_until, kid_len, kind_len = _HEAD.unpack_from(entry)
        if cache_until <= self._clock():
            self.pop(digest)
            return None
        verified = self._unpack(entry, cache_until, kid_len, kind_len)
        if verified is None:
            self.pop(digest)
            return None
        self._entries[digest] = self._entries.pop(digest)
        self._remember_hot(digest, verified)
        return verified

    def _unpack(
        self, entry: bytes, cache_until: float, kid_len: int, kind_len: int
    ) -> Verified | None:
        start = _HEAD.size
        kid = entry[start : start + kid_len].decode() or None
        start += kid_len
        if not kind_len:
            model, values, fields_set, opaque = pickle.loads(entry[start:])  # noqa: S301 (ours)
            principal = model.model_construct(_fields_set=fields_set, **values)
            return Verified(principal, cache_until, opaque=opaque, kid=kid)
        token_type = entry[start : start + kind_len].decode()
        compact = entry[start + kind_len :]
        rebuilt = self._rebuild(token_type, compact) if self._rebuild is not None else None
        if rebuilt is None:
            return None
        return Verified(rebuilt, cache_until, kid=kid, compact=compact)

    def put(self, digest: bytes, verified: Verified) -> None:
        cache_until = verified.cache_until
        if cache_until is None or cache_until <= self._clock():
            return
        self.pop(digest)
        entry = _pack(verified, cache_until)
        if entry is None:
            return  # nothing compact to keep it as: it is verified again next time
        self._entries[digest] = entry
        self._bytes += len(entry)
        # Not live yet: a result joins the hot tier when it is used again. A stream of one-off
        # tokens then leaves nothing behind that the collector must scan (its objects die
        # young), and the hot tier holds only tokens in steady use.
        if len(self._entries) > self._max_entries or self._bytes > self._max_bytes:
            self._evict()

    def _evict(self) -> None:
        """Drop the least recently used entries until both bounds hold, a batch at a time.

        A dict keeps removed entries' slots at its front until it next resizes, and every
        ``next(iter(...))`` walks past them: one at a time, eviction cost grew with the cache
        (4 µs per insert at 10,000 entries, 32 µs at 100,000). One walk per batch of
        ``_batch`` oldest entries keeps it constant.
        """
        entries = self._entries
        hot = self._hot
        spared = 0  # each live result once at most: the loop always ends
        while len(entries) > self._max_entries or self._bytes > self._max_bytes:
            batch = list(itertools.islice(entries, self._batch))
            for oldest in batch:
                if oldest in hot and spared < len(hot):
                    # A live result is in steady use (hits do not reorder compact entries):
                    # it goes to the back instead.
                    entries[oldest] = entries.pop(oldest)
                    spared += 1
                    continue
                self._bytes -= len(entries.pop(oldest))
                hot.pop(oldest, None)

    def _remember_hot(self, digest: bytes, verified: Verified) -> None:
        self._hot[digest] = verified
        self._hot.move_to_end(digest)
        if len(self._hot) > self._hot_size:
            cooled, _ = self._hot.popitem(last=False)
            # Its compact entry kept its place while it was live: it was used more recently
            # than that, so it goes to the back.
            entry = self._entries.pop(cooled, None)
            if entry is not None:
                self._entries[cooled] = entry

    def pop(self, digest: bytes) -> None:
        entry = self._entries.pop(digest, None)
        if entry is not None:
            self._bytes -= len(entry)
        self._hot.pop(digest, None)

    def forget_kids(self, kids: set[str]) -> None:
        encoded = {kid.encode() for kid in kids}
        doomed = []
        for digest, entry in self._entries.items():
            _, kid_len, _ = _HEAD.unpack_from(entry)
            if entry[_HEAD.size : _HEAD.size + kid_len] in encoded:
                doomed.append(digest)
        for digest in doomed:
            self.pop(digest)

    def clear(self) -> None:
        self._entries.clear()
        self._hot.clear()
        self._bytes = 0

    def __contains__(self, digest: Any) -> bool:
        return digest in self._entries
