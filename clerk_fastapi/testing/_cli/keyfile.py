"""The signing key ``serve --key-file`` and ``mint --key-file`` share."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

from clerk_fastapi.testing._cli.args import CLIError


def key_id(pem: str) -> str:
    """The ``kid`` a key file signs under: derived from the key, so both commands agree."""
    from clerk_fastapi.testing.keys import SigningKey

    public = SigningKey.from_pem("k", pem).public_pem().encode()
    return "ins_" + hashlib.sha256(public).hexdigest()[:27]


def load_key(path: str | None, *, create: bool) -> Any:
    """The ``SigningKey`` in ``path`` (PEM, PKCS#8); ``serve`` creates the file if missing."""
    from cryptography.hazmat.primitives import serialization

    from clerk_fastapi.testing.keys import SigningKey

    if path is None:
        return None
    file = Path(path)
    if not file.exists():
        if not create:
            raise CLIError(f"{path}: no such key file (start `serve --key-file {path}` first)")
        key = SigningKey.generate("new")
        pem = key.private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()
        fd = os.open(file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(pem)
    pem = file.read_text()
    try:
        return SigningKey.from_pem(key_id(pem), pem)
    except (ValueError, TypeError, AssertionError) as exc:
        raise CLIError(f"{path}: not an unencrypted RSA private key in PEM form") from exc
