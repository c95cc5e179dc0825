"""Settings from a .env file, named explicitly; the environment wins over the file."""

import os
import tempfile
from pathlib import Path

from clerk_fastapi import Clerk

with tempfile.TemporaryDirectory() as folder:
    env_file = Path(folder) / ".env"
    env_file.write_text(
        'CLERK_SECRET_KEY="sk_test_0123456789abcdefghijklmnopqrstuv"\n'  # quotes are fine
        "CLERK_AUTHORIZED_PARTIES=https://app.example.com\n"
    )
    os.environ["CLERK_AUTHORIZED_PARTIES"] = "https://admin.example.com"  # set in the environment

    clerk = Clerk(env_file=env_file)

    assert clerk.settings.secret() == "sk_test_0123456789abcdefghijklmnopqrstuv"
    assert clerk.settings.authorized_parties == ["https://admin.example.com"]
