"""One verifier per token type, behind a small protocol, held in a registry."""

from clerk_fastapi.verifiers.base import TokenVerifier, Verified
from clerk_fastapi.verifiers.registry import VerifierRegistry

__all__ = ["TokenVerifier", "Verified", "VerifierRegistry"]
