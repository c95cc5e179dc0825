"""Swagger UI and ReDoc of the example app, rendered offline in a real headless Chromium.

The example app serves the assets from the fastapi-offline package (``offline_docs=True``); the
machine has no internet access, so a page that needed a CDN would stay blank. Every request the
browser makes is recorded and must go to the app on 127.0.0.1.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from browser_support import Browser, chromium, require_chromium

from clerk_fastapi.testing import FakeClerk
from clerk_fastapi.testing.fake.server import serve_asgi
from example_app.app import create_app

SCHEMES = ["ClerkSession", "ClerkOAuth", "ClerkM2M", "ClerkAPIKey"]
MODAL = "document.querySelector('.modal-ux')"


@pytest.fixture(scope="module")
def docs() -> Iterator[tuple[str, Browser]]:
    require_chromium()
    fake = FakeClerk()
    app = create_app(fake.clerk())
    with (
        tempfile.TemporaryDirectory() as profile,
        serve_asgi(app, lifespan="on") as base,
        chromium(Path(profile)) as browser,
    ):
        yield base, browser


def _only_the_app(browser: Browser, base: str) -> None:
    # data: and blob: URLs (ReDoc's icons and worker) are made in the page, not fetched.
    urls = [url for url in browser.requested_urls() if not url.startswith(("data:", "blob:"))]
    assert urls, "the browser made no request"
    outside = [url for url in urls if not url.startswith(base + "/")]
    assert outside == []


def test_swagger_ui_renders_offline_with_the_four_schemes_and_pkce(
    docs: tuple[str, Browser],
) -> None:
    base, browser = docs
    browser.events.clear()
    browser.navigate(base + "/docs")
    assert browser.wait_for("!!document.querySelector('.btn.authorize')"), "Swagger UI is blank"
    browser.evaluate("document.querySelector('.btn.authorize').click()")
    dialog = browser.wait_for(f"{MODAL} && {MODAL}.innerText")
    assert dialog, "the Authorize dialog did not open"
    for scheme in SCHEMES:
        assert scheme in dialog
    assert "authorizationCode with PKCE" in dialog
    assert "Authorization URL: https://clerk.fake-clerk.test/oauth/authorize" in dialog
    assert "profile" in dialog and "Required by GET /profile" in dialog
    config = browser.evaluate("ui.authSelectors.getConfigs()")
    assert config == {"usePkceWithAuthorizationCodeGrant": True}
    _only_the_app(browser, base)


def test_the_oauth_login_sends_a_pkce_challenge_and_the_ticked_scope(
    docs: tuple[str, Browser],
) -> None:
    base, browser = docs
    browser.navigate(base + "/docs")
    assert browser.wait_for("!!document.querySelector('.btn.authorize')")
    browser.evaluate(
        """(() => {
        window.open = (url) => { window.__opened = url; return null; };
        document.querySelector('.btn.authorize').click();
    })()"""
    )
    assert browser.wait_for(
        f"!!({MODAL} && {MODAL}.querySelector('input#client_id_authorizationCode'))"
    )
    browser.evaluate(
        f"""(() => {{
        const input = {MODAL}.querySelector('input#client_id_authorizationCode');
        const setValue = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value').set;
        setValue.call(input, 'client_swagger');
        input.dispatchEvent(new Event('input', {{bubbles: true}}));
        {MODAL}.querySelector('input[type=checkbox][data-value="profile"]').click();
        {MODAL}.querySelector('button[aria-label="Apply given OAuth2 credentials"]').click();
    }})()"""
    )
    opened = browser.wait_for("window.__opened || ''")
    assert opened, "Swagger UI did not start the login"
    url = urlsplit(opened)
    query = parse_qs(url.query)
    assert (
        f"{url.scheme}://{url.netloc}{url.path}" == "https://clerk.fake-clerk.test/oauth/authorize"
    )
    assert query["response_type"] == ["code"]
    assert query["client_id"] == ["client_swagger"]
    assert query["scope"] == ["profile"]
    assert query["code_challenge_method"] == ["S256"]
    assert len(query["code_challenge"][0]) >= 43
    assert query["redirect_uri"] == [base + "/docs/oauth2-redirect"]


def test_redoc_renders_offline_with_the_schemes(docs: tuple[str, Browser]) -> None:
    base, browser = docs
    browser.events.clear()
    browser.navigate(base + "/redoc")
    text = browser.wait_for(
        "(document.body && document.body.innerText.includes('ClerkAPIKey'))"
        " ? document.body.innerText : ''"
    )
    assert text, "ReDoc is blank"
    for scheme in SCHEMES:
        assert scheme in text
    _only_the_app(browser, base)
