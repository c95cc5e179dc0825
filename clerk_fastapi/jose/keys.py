"""Verification keys: built once per JWKS fetch (or PEM), refused when unsafe."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from jwt.algorithms import RSAAlgorithm
from jwt.exceptions import InvalidKeyError

MIN_RSA_BITS = 2048
RSA_ALGORITHMS = ("RS256", "RS384", "RS512")

# PyJWT's RSASSA-PKCS1-v1_5 implementations, one per allowed ``alg``.
_ALGORITHMS: dict[str, RSAAlgorithm] = {
    "RS256": RSAAlgorithm(RSAAlgorithm.SHA256),
    "RS384": RSAAlgorithm(RSAAlgorithm.SHA384),
    "RS512": RSAAlgorithm(RSAAlgorithm.SHA512),
}


class UnsafeKeyError(ValueError):
    """A JWK that must not be used to verify signatures."""


@dataclass(frozen=True, slots=True)
class VerificationKey:
    """An RSA public key with the one algorithm it may verify."""

    kid: str | None
    algorithm: str
    key: RSAPublicKey

    def verify(self, signing_input: bytes, signature: bytes) -> bool:
        # The expected signature length is the modulus size; anything else cannot verify.
        if len(signature) != (self.key.key_size + 7) // 8:
            return False
        return _ALGORITHMS[self.algorithm].verify(signing_input, self.key, signature)


def check_rsa_key(key: RSAPublicKey) -> None:
    numbers = key.public_numbers()
    if key.key_size < MIN_RSA_BITS:
        raise UnsafeKeyError(f"RSA key of {key.key_size} bits (at least {MIN_RSA_BITS} needed)")
    if numbers.e < 3 or numbers.e % 2 == 0:
        raise UnsafeKeyError("RSA public exponent must be odd and at least 3")


def key_from_jwk(jwk: Any) -> VerificationKey:
    """Build a key from one JWKS member, or raise ``UnsafeKeyError``."""
    if not isinstance(jwk, dict):
        raise UnsafeKeyError("JWKS member is not an object")
    if jwk.get("kty") != "RSA":
        raise UnsafeKeyError("only RSA keys are accepted")
    if "d" in jwk or "p" in jwk:
        raise UnsafeKeyError("private key material in a public JWKS")
    use = jwk.get("use")
    if use is not None and use != "sig":
        raise UnsafeKeyError("key is not for signatures (use)")
    key_ops = jwk.get("key_ops")
    if key_ops is not None and (not isinstance(key_ops, list) or "verify" not in key_ops):
        raise UnsafeKeyError("key is not for verification (key_ops)")
    kid = jwk.get("kid")
    if not isinstance(kid, str) or not kid:
        raise UnsafeKeyError("key has no kid")
    alg = jwk.get("alg", "RS256")
    if alg not in _ALGORITHMS:
        raise UnsafeKeyError("key alg is not RS256/RS384/RS512")
    if not isinstance(jwk.get("n"), str) or not isinstance(jwk.get("e"), str):
        raise UnsafeKeyError("key has no n/e")
    try:
        key = RSAAlgorithm.from_jwk(jwk)
    except (InvalidKeyError, ValueError, TypeError, KeyError):
        raise UnsafeKeyError("key does not parse") from None
    if not isinstance(key, RSAPublicKey):
        raise UnsafeKeyError("not an RSA public key")
    check_rsa_key(key)
    return VerificationKey(kid=kid, algorithm=alg, key=key)


def keys_from_jwks(document: Any) -> tuple[dict[str, VerificationKey], list[str]]:
    """Index the safe keys of a JWKS by exact ``kid``; return them and the refusal reasons.

    A ``kid`` served twice with different keys is dropped entirely: we cannot tell which is real.
    """
    if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
        raise UnsafeKeyError("JWKS is not an object with a keys array")
    keys: dict[str, VerificationKey] = {}
    refused: list[str] = []
    conflicting: set[str] = set()
    for member in document["keys"]:
        try:
            built = key_from_jwk(member)
        except UnsafeKeyError as exc:
            refused.append(str(exc))
            continue
        assert built.kid is not None
        previous = keys.get(built.kid)
        if previous is not None and (
            previous.key.public_numbers() != built.key.public_numbers()
            or previous.algorithm != built.algorithm
        ):
            conflicting.add(built.kid)
        keys[built.kid] = built
    for kid in conflicting:
        del keys[kid]
        refused.append("duplicate kid with different keys")
    return keys, refused
