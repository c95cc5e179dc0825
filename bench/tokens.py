"""The benchmark's signing key and its pool of distinct Clerk-shaped RS256 session tokens.

Minting 20,000 RSA-2048 signatures costs 30-60 s, so the key and the tokens are kept under
``bench/.cache`` (ignored by git): the key once, the tokens in a file named by the key's
fingerprint, the pool size and the tokens' expiry, reused while they stay valid for at least
two more hours. Signing uses ``cryptography`` directly (one key, several processes).
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from clerk_fastapi.jose.compact import b64url_encode
from clerk_fastapi.kinds._jwt import CATEGORY_SESSION
from clerk_fastapi.testing import FakeClerk, SigningKey

CACHE = Path(__file__).resolve().parent / ".cache"
KID = "ins_bench"
LIFETIME = 6 * 3600  # tokens minted now stay valid this long
MIN_LEFT = 2 * 3600  # a cached pool is reused while every token has this much life left


def cache_dir() -> Path:
    """``bench/.cache``, which ignores itself in git."""
    CACHE.mkdir(exist_ok=True)
    ignore = CACHE / ".gitignore"
    if not ignore.exists():
        ignore.write_text("*\n")
    return CACHE


def signing_key() -> SigningKey:
    """The benchmark's RSA-2048 key, generated once and kept in ``bench/.cache/key.pem``."""
    cache_dir()
    path = CACHE / "key.pem"
    if not path.exists():
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        path.write_bytes(pem)
    return SigningKey.from_pem(KID, path.read_text())


def fingerprint(key: SigningKey) -> str:
    return hashlib.sha256(key.public_pem().encode()).hexdigest()[:16]


def _json(value: dict[str, Any]) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def _sign_chunk(args: tuple[str, list[bytes]]) -> list[str]:
    """Sign ``header.payload`` inputs with the PEM key (runs in a worker process)."""
    pem, inputs = args
    key = serialization.load_pem_private_key(pem.encode(), password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    out = []
    for signing_input in inputs:
        signature = key.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
        out.append(f"{signing_input.decode()}.{b64url_encode(signature)}")
    return out


def mint(fake: FakeClerk, count: int, expires_in: float, *, prefix: str = "user_b") -> list[str]:
    """``count`` distinct session tokens with the fake's exact claims, signed in parallel."""
    header = b64url_encode(
        _json({"alg": "RS256", "cat": CATEGORY_SESSION, "kid": fake.signing_key.kid, "typ": "JWT"})
    )
    inputs = [
        f"{header}.{b64url_encode(_json(fake.session_claims(f'{prefix}{i:06d}', expires_in=expires_in)))}".encode()
        for i in range(count)
    ]
    pem = fake.signing_key.private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    workers = max(1, os.cpu_count() or 1)
    size = max(1, -(-count // (workers * 4)))
    chunks = [(pem, inputs[i : i + size]) for i in range(0, count, size)]
    if count < 200:
        return [t for chunk in chunks for t in _sign_chunk(chunk)]
    with ProcessPoolExecutor(workers) as pool:
        return [t for part in pool.map(_sign_chunk, chunks) for t in part]


@dataclass
class Pool:
    tokens: list[str]
    path: Path
    minted_seconds: float  # 0 when read from the cache


def token_pool(fake: FakeClerk, count: int) -> Pool:
    """``count`` distinct valid tokens signed by ``fake.signing_key``: cached or minted now."""
    cache_dir()
    stem = f"tokens-{fingerprint(fake.signing_key)}-{count}-"
    now = time.time()
    for path in sorted(CACHE.glob(f"tokens-*-{count}-*.txt")):
        expires = int(path.stem.rsplit("-", 1)[1])
        if path.name.startswith(stem) and expires - now >= MIN_LEFT:
            tokens = path.read_text().split()
            if len(tokens) == count:
                return Pool(tokens, path, 0.0)
        path.unlink()  # another key, expiring soon, or truncated
    started = time.perf_counter()
    tokens = mint(fake, count, LIFETIME)
    minted = time.perf_counter() - started
    path = CACHE / f"{stem}{int(now) + LIFETIME}.txt"
    tmp = path.with_suffix(".tmp")
    tmp.write_text("\n".join(tokens) + "\n")
    tmp.replace(path)
    return Pool(tokens, path, minted)
