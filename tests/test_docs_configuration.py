"""The configuration page documents every setting, with its environment variable."""

from __future__ import annotations

from pathlib import Path

from clerk_fastapi import ClerkSettings

PAGE = Path(__file__).resolve().parents[1] / "docs" / "configuration.md"


def test_every_setting_is_documented() -> None:
    text = PAGE.read_text()
    for name in ClerkSettings.model_fields:
        assert f"`{name}`" in text, name
        assert f"`CLERK_{name.upper()}`" in text, name
