"""``python -m clerk_fastapi.testing``: a fake Clerk on a port, and tokens for it.

``serve`` runs a fake Clerk instance; ``mint`` prints a token that instance accepts: it asks the
running fake over HTTP (``--state`` or ``--url``/``--secret-key``), which is the only way to make
opaque tokens and API keys it knows, or signs a JWT locally with a key file the fake shares
(``--key-file`` on both). The command lives in ``clerk_fastapi.testing._cli``.
"""

from __future__ import annotations

from clerk_fastapi.testing._cli.main import main

if __name__ == "__main__":
    raise SystemExit(main())
