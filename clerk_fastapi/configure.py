"""Building ``ClerkSettings`` for ``Clerk(...)``: every configuration mistake becomes one
``ConfigurationError`` whose one-line message names the cause and the fix.

Pydantic's ``ValidationError`` (tens of lines, with a link to pydantic's site) never reaches the
user: its messages are joined into one line under the environment variables' names. Unknown
keyword arguments (a typo such as ``cache_clustr=``) are refused with the closest setting's name,
and a missing key says what it saw that explains it: a ``.env`` file in the working directory
that ``Clerk()`` does not read, or a test run in which the fake was not attached to the app.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from clerk_fastapi.errors import ConfigurationError
from clerk_fastapi.settings import ClerkSettings

# The keys whose absence leaves an instance unable to verify anything.
_KEY_VARIABLES = ("CLERK_SECRET_KEY", "CLERK_JWT_KEY")


def check_setting_names(names: Iterable[str], where: str = "Clerk()") -> None:
    """Refuse keyword arguments that are not settings (they would be ignored silently)."""
    known = list(ClerkSettings.model_fields)
    for name in names:
        if name in known:
            continue
        close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ConfigurationError(
            f"{where} got an unknown setting {name!r}{hint}: the settings are listed in "
            "docs/configuration.md"
        )


def _one_line(error: ValidationError) -> str:
    problems = []
    for item in error.errors():
        message = str(item.get("msg", "invalid value")).removeprefix("Value error, ")
        field = ".".join(str(part) for part in item.get("loc", ()) if not isinstance(part, int))
        variable = f"CLERK_{field.upper()}" if field else ""
        if variable and not message.startswith(variable):
            message = f"{variable}: {message}"
        problems.append(message)
    return "; ".join(problems)


def settings_from(
    settings: ClerkSettings | None,
    env_file: str | os.PathLike[str] | None,
    overrides: Mapping[str, Any],
    *,
    where: str = "Clerk()",
) -> ClerkSettings:
    """The settings ``Clerk(settings, env_file=..., **overrides)`` means, or a
    ``ConfigurationError`` with one line per mistake (never echoing a value)."""
    check_setting_names(overrides, where)
    try:
        if env_file is not None:
            if settings is not None:
                raise ConfigurationError("pass either settings or env_file to Clerk(), not both")
            if not os.path.isfile(env_file):
                raise ConfigurationError(f"env_file {os.fspath(env_file)!r} is not a file")
            return ClerkSettings(_env_file=env_file, **overrides)  # type: ignore[call-arg]
        if settings is None:
            return ClerkSettings(**overrides)
        if overrides:
            updated = settings.model_copy(update=dict(overrides))
            return ClerkSettings.model_validate(updated.model_dump())
        return settings
    except ValidationError as exc:
        # ``from None``: the pydantic report is what this message replaces.
        raise ConfigurationError(f"Invalid Clerk settings: {_one_line(exc)}") from None


def _dotenv_with_keys(folder: Path) -> Path | None:
    """``folder/.env`` when it sets a key variable (names only are read, never values)."""
    path = folder / ".env"
    try:
        text = path.read_text(errors="replace") if path.is_file() else ""
    except OSError:
        return None
    for line in text.splitlines():
        name = line.strip().removeprefix("export ").split("=", 1)[0].strip()
        if name in _KEY_VARIABLES:
            return path
    return None


def missing_key_error(settings: ClerkSettings) -> ConfigurationError | None:
    """The error an instance without a key raises when it must verify, or ``None``."""
    if settings.secret_key is not None or settings.jwt_key is not None:
        return None
    message = (
        "Set CLERK_SECRET_KEY (from the Clerk dashboard), or CLERK_JWT_KEY (the PEM public key) "
        "for networkless session verification."
    )
    dotenv = _dotenv_with_keys(Path.cwd())
    if dotenv is not None:
        message += (
            f" {dotenv} sets it, but Clerk() reads only the process environment: use "
            'Clerk(env_file=".env"), or export the variables.'
        )
    if "PYTEST_CURRENT_TEST" in os.environ:
        message += (
            " In a test, attach the fake Clerk before the app starts: use_fake_clerk(app) "
            "(the fake_clerk fixture alone does not replace the app's Clerk), or "
            "override_auth(app, ...)."
        )
    return ConfigurationError(message)
