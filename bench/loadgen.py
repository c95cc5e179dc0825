"""The load generator used when ``wrk`` is missing: one process, asyncio, raw sockets, HTTP/1.1
keep-alive, ``connections`` concurrent connections, each sending its next request as soon as the
previous answer is read (as wrk does).

``python -m bench.loadgen URL SECONDS CONNECTIONS (--token T | --tokens FILE --offset N)``
prints one JSON line: requests, rps, p50_ms, p99_ms, non_2xx.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from urllib.parse import urlsplit


def _requests(host: str, tokens: list[str]) -> list[bytes]:
    return [
        f"GET /s HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {t}\r\n\r\n".encode()
        for t in tokens
    ]


async def _connection(
    host: str,
    port: int,
    requests: list[bytes],
    cursor: list[int],
    deadline: float,
    latencies: list[float],
    failures: list[int],
) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    count = len(requests)
    try:
        while time.perf_counter() < deadline:
            request = requests[cursor[0] % count]
            cursor[0] += 1
            started = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            if length:
                await reader.readexactly(length)
            latencies.append(time.perf_counter() - started)
            if not head.startswith((b"HTTP/1.1 2", b"HTTP/1.0 2")):
                failures[0] += 1
    finally:
        writer.close()


async def run(
    url: str, seconds: float, connections: int, tokens: list[str], offset: int
) -> dict[str, float]:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    requests = _requests(f"{host}:{port}", tokens)
    cursor, failures = [offset], [0]
    latencies: list[float] = []
    started = time.perf_counter()
    deadline = started + seconds
    await asyncio.gather(
        *(
            _connection(host, port, requests, cursor, deadline, latencies, failures)
            for _ in range(connections)
        )
    )
    elapsed = time.perf_counter() - started
    latencies.sort()

    def pct(q: float) -> float:
        return round(float(latencies[min(len(latencies) - 1, int(q * len(latencies)))]) * 1000, 2)

    return {
        "requests": len(latencies),
        "rps": round(len(latencies) / elapsed),
        "p50_ms": pct(0.50),
        "p99_ms": pct(0.99),
        "non_2xx": failures[0],
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("seconds", type=float)
    parser.add_argument("connections", type=int)
    parser.add_argument("--token")
    parser.add_argument("--tokens")
    parser.add_argument("--offset", type=int, default=0)
    args = parser.parse_args()
    if args.tokens:
        with open(args.tokens) as handle:
            tokens = handle.read().split()
    else:
        tokens = [args.token]
    result = asyncio.run(run(args.url, args.seconds, args.connections, tokens, args.offset))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
