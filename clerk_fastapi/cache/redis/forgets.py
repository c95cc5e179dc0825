"""The fleet's forget log: a forget is never lost.

``clerk.forget_token`` applies in this worker at once (the caller does it). The fleet-wide part
(delete the shared entries, append the digest to a Redis stream every worker reads) is queued in
order and retried until Redis takes it; the queue is bounded, and a forget that falls off it
still reaches the fleet as a reset (below). No worker serves a result that may predate a forget
it missed:

- every worker reads the stream at least every ``SYNC_INTERVAL`` before it serves a result from
  its own memory, and drops its results when it cannot read it;
- Redis keeps a trust epoch (a time): shared results created before it are ignored and a worker
  that sees it move drops its in-process results. A worker that finds Redis answering again after
  a failure moves it to that moment, and so does a worker whose queue overflowed once it
  delivers the rest. So the entries Redis brings back from before an outage (persistence, a
  replica) are not trusted once any worker has met the outage, and the worker that met it
  trusts nothing older itself.

The bound: a forget made while Redis answers reaches every worker within ``SYNC_INTERVAL``;
one made while it does not reaches every worker within ``SYNC_INTERVAL`` of Redis answering the
forgetting worker again (it retries every ``RETRY_INTERVAL``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from clerk_fastapi.cache.local import LocalStore
from clerk_fastapi.cache.redis.codec import MAX_RESULT_SECONDS, epoch_value
from clerk_fastapi.cache.redis.connection import FAILED, Failed, RedisConnection, any_reply

logger = logging.getLogger("clerk_fastapi")

SYNC_INTERVAL = 1.0
RETRY_INTERVAL = 0.25
MAX_PENDING = 10_000
# Forgets delivered to Redis per round trip.
BATCH = 100
LOG_LENGTH = 100_000
KINDS = ("r", "n", "p")
# A tombstone outlives every shared result it may void.
TOMBSTONE_MS = int((MAX_RESULT_SECONDS + 60) * 1000)

# Move the epoch forward only (a late or slow worker never moves it back).
RAISE_EPOCH = """
local current = tonumber(redis.call('GET', KEYS[1]) or '0') or 0
if tonumber(ARGV[1]) > current then redis.call('SET', KEYS[1], ARGV[1]) end
return 1
"""


def stream_entries(reply: Any) -> list[tuple[bytes, bytes]] | Failed:
    """``XRANGE`` reply -> [(id, digest)]; anything else is a malformed reply."""
    if not isinstance(reply, list):
        return FAILED
    entries: list[tuple[bytes, bytes]] = []
    for item in reply:
        if not (isinstance(item, list | tuple) and len(item) == 2):
            return FAILED
        entry_id, fields = item
        if not isinstance(entry_id, bytes) or not isinstance(fields, dict):
            return FAILED
        digest = fields.get(b"d")
        if isinstance(digest, bytes):
            entries.append((entry_id, digest))
    return entries


def _entries_and_epoch(reply: Any) -> tuple[list[tuple[bytes, bytes]], float] | Failed:
    if isinstance(reply, list) and len(reply) == 2:
        entries = stream_entries(reply[0])
        if not isinstance(entries, Failed) and (reply[1] is None or isinstance(reply[1], bytes)):
            return entries, epoch_value(reply[1])
    return FAILED


class ForgetLog:
    def __init__(
        self,
        conn: RedisConnection,
        near: LocalStore,
        prefix: str,
        key: Callable[[str, bytes], str],
        clock: Callable[[], float],
        *,
        tombstone: Callable[[bytes], str],
    ) -> None:
        self._conn = conn
        self._near = near
        self._key = key
        self._tombstone = tombstone
        self._clock = clock
        # One hash slot for the stream and the epoch (Redis Cluster): every worker reads both.
        self.stream = f"{prefix}{{fleet}}:forgets"
        self.epoch_key = f"{prefix}{{fleet}}:epoch"
        self.pending: deque[bytes] = deque()
        self.dropped = 0  # forgets that fell off a full queue (they become an epoch move)
        self._raise_epoch_to: float | None = None
        # Shared results created before this are not trusted (Redis's epoch, or our own).
        self.trusted_from = 0.0
        self._seen: bytes | None = None
        self._next_sync = -1.0
        self._retrying: asyncio.Task[None] | None = None
        conn.on_recovered = self._recovered

    # -- this worker's forgets --------------------------------------------------------------

    def add(self, digest: bytes) -> None:
        """Queue the fleet-wide part of a forget (the caller applied it here already)."""
        if len(self.pending) >= MAX_PENDING:
            self.pending.popleft()
            self.dropped += 1
            # Its place is taken by an epoch move: every result of now or before is distrusted.
            self._raise_epoch_to = self._clock()
        self.pending.append(digest)

    def start_retrying(self) -> None:
        """Deliver the queue in the running loop, retrying until Redis takes all of it."""
        if self._retrying is None or self._retrying.done():
            self._retrying = asyncio.get_running_loop().create_task(self._retry())

    async def _retry(self) -> None:
        while not await self.flush():
            await asyncio.sleep(RETRY_INTERVAL)

    async def flush(self) -> bool:
        """Deliver queued forgets in order; ``True`` once none is left."""
        while self.pending or self._raise_epoch_to is not None:
            batch = list(self.pending)[:BATCH]
            raise_to = self._raise_epoch_to

            async def run(
                r: Any, batch: list[bytes] = batch, raise_to: float | None = raise_to
            ) -> Any:
                pipe = r.pipeline(transaction=False)
                for digest in batch:
                    self._deliver(pipe, digest)
                if raise_to is not None:
                    pipe.eval(RAISE_EPOCH, 1, self.epoch_key, repr(raise_to))
                return await pipe.execute()

            if isinstance(await self._conn.do(run, any_reply), Failed):
                return False
            for _ in batch:
                self.pending.popleft()
            if raise_to is not None and self._raise_epoch_to == raise_to:
                self._raise_epoch_to = None
        return True

    def flush_blocking(self, client: Any) -> None:
        """The same with a blocking client (no event loop in this thread); raises on failure."""
        pipe = client.pipeline(transaction=False)
        batch = list(self.pending)
        for digest in batch:
            self._deliver(pipe, digest)
        pipe.execute()
        for _ in batch:
            self.pending.popleft()

    def _deliver(self, pipe: Any, digest: bytes) -> None:
        """One forget, fleet-wide: this namespace's entries go, the tombstone tells every other
        service of the instance that its shared results made until now are void, and the log
        tells every worker to drop its in-process result."""
        pipe.delete(*[self._key(kind, digest) for kind in KINDS])
        pipe.set(self._tombstone(digest), repr(self._clock()), px=TOMBSTONE_MS)
        pipe.xadd(self.stream, {"d": digest.hex()}, maxlen=LOG_LENGTH)

    # -- the fleet's forgets ----------------------------------------------------------------

    def due(self) -> bool:
        """Whether the log must be read before a result from memory is served."""
        return time.monotonic() >= self._next_sync

    async def sync(self) -> None:
        """Apply the fleet's forget log and epoch to this worker (at most once a second)."""
        if time.monotonic() < self._next_sync:
            return
        self._next_sync = time.monotonic() + SYNC_INTERVAL
        if self.pending or self._raise_epoch_to is not None:
            self.start_retrying()
        stream, epoch_key = self.stream, self.epoch_key
        if self._seen is None:
            # Start from the log's end: this worker remembers nothing older yet.
            async def first(r: Any) -> Any:
                pipe = r.pipeline(transaction=False)
                pipe.xrevrange(stream, count=1)
                pipe.get(epoch_key)
                return await pipe.execute()

            reply = await self._conn.do(first, _entries_and_epoch)
            if isinstance(reply, Failed):
                self._next_sync = -1.0
                return
            last, epoch = reply
            self._seen = last[0][0] if last else b"0-0"
            self._trust_from(epoch)
            return
        start = b"(" + self._seen

        async def read(r: Any) -> Any:
            pipe = r.pipeline(transaction=False)
            pipe.xrange(stream, min=start)
            pipe.get(epoch_key)
            return await pipe.execute()

        reply = await self._conn.do(read, _entries_and_epoch)
        if isinstance(reply, Failed):
            self._near.clear_results()  # cannot tell what was forgotten: forget it all
            return
        entries, epoch = reply
        self._trust_from(epoch)
        for entry_id, digest_hex in entries:
            self._seen = entry_id
            with contextlib.suppress(ValueError):
                self._near.forget(bytes.fromhex(digest_hex.decode("ascii", "replace")))

    def _trust_from(self, epoch: float) -> None:
        if epoch > self.trusted_from:
            self.trusted_from = epoch
            self._near.clear_results()

    def _recovered(self) -> None:
        """Redis answers again after a failure: forgets may have been missed meanwhile (ours
        are queued; others' may sit in a worker that has not delivered them yet)."""
        now = self._clock()
        self._trust_from(now)
        if self._raise_epoch_to is None or self._raise_epoch_to < now:
            self._raise_epoch_to = now
        self._next_sync = -1.0
        with contextlib.suppress(RuntimeError):  # no running loop: the next sync delivers it
            self.start_retrying()

    async def aclose(self) -> None:
        task, self._retrying = self._retrying, None
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
