"""RSA test keys: generation, JWK/JWKS/PEM forms, and RS256 signing of arbitrary JSON."""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from jwt.algorithms import RSAAlgorithm

from clerk_fastapi.jose.compact import b64url_encode

_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "RS256": hashes.SHA256,
    "RS384": hashes.SHA384,
    "RS512": hashes.SHA512,
}


@functools.lru_cache(maxsize=16)
def _pooled_key(index: int, bits: int) -> rsa.RSAPrivateKey:
    # Key generation costs ~50 ms; tests draw from a small per-process pool.
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


@dataclass(frozen=True)
class SigningKey:
    """A private RSA key with its ``kid``; signs compact JWS for tests."""

    kid: str
    private_key: rsa.RSAPrivateKey
    alg: str = "RS256"

    @classmethod
    def generate(cls, kid: str, *, bits: int = 2048, pool_index: int | None = None) -> SigningKey:
        if pool_index is not None:
            return cls(kid, _pooled_key(pool_index, bits))
        return cls(kid, rsa.generate_private_key(public_exponent=65537, key_size=bits))

    @classmethod
    def from_pem(cls, kid: str, pem: str) -> SigningKey:
        key = serialization.load_pem_private_key(pem.encode(), password=None)
        assert isinstance(key, rsa.RSAPrivateKey)
        return cls(kid, key)

    def public_jwk(self) -> dict[str, Any]:
        jwk: dict[str, Any] = json.loads(RSAAlgorithm.to_jwk(self.private_key.public_key()))
        jwk.update({"use": "sig", "kid": self.kid, "alg": self.alg})
        return jwk

    def public_pem(self) -> str:
        return (
            self.private_key.public_key()
            .public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            .decode()
        )

    def sign(self, payload: dict[str, Any] | bytes, header: dict[str, Any] | None = None) -> str:
        """Sign with RS256 (or ``header['alg']`` among RS256/384/512) over the exact JSON given."""
        full_header = {"alg": self.alg, "kid": self.kid, "typ": "JWT"}
        if header is not None:
            full_header = dict(header)
        return sign_compact(self.private_key, full_header, payload)


def sign_compact(
    key: rsa.RSAPrivateKey,
    header: dict[str, Any] | bytes,
    payload: dict[str, Any] | bytes,
    *,
    alg: str | None = None,
) -> str:
    """RS* signature over ``b64(header).b64(payload)``; bytes are used verbatim (for odd JSON)."""
    header_bytes = header if isinstance(header, bytes) else _json(header)
    payload_bytes = payload if isinstance(payload, bytes) else _json(payload)
    if alg is None:
        wanted = header.get("alg", "RS256") if isinstance(header, dict) else "RS256"
        # Odd or foreign algs (for negative tests) are still signed with RS256.
        alg = wanted if isinstance(wanted, str) and wanted in _HASHES else "RS256"
    signing_input = f"{b64url_encode(header_bytes)}.{b64url_encode(payload_bytes)}".encode()
    signature = key.sign(signing_input, padding.PKCS1v15(), _HASHES[alg]())
    return f"{signing_input.decode()}.{b64url_encode(signature)}"


def _json(value: dict[str, Any]) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()
