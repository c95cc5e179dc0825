"""Regenerate ``docs/img/swagger-authorize.png``: the example app's Authorize dialog, rendered
offline in headless Chromium (Debian's ``chromium``), the whole dialog in one picture.

Run from the repository root: ``.venv/bin/python scripts/swagger_screenshot.py``.
"""

from __future__ import annotations

import base64
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from browser_support import chromium  # noqa: E402

from clerk_fastapi.testing import FakeClerk  # noqa: E402
from clerk_fastapi.testing.fake.server import serve_asgi  # noqa: E402
from example_app.app import create_app  # noqa: E402

MODAL = "document.querySelector('.modal-ux')"
# Unfold the dialog (it scrolls inside the viewport otherwise) and pin it to the top.
UNFOLD = """(() => {
  const style = document.createElement('style');
  style.textContent = '.modal-ux-content { max-height: none !important; }'
    + ' .modal-ux-content { overflow: visible !important; }'
    + ' .modal-ux { position: absolute !important; top: 0 !important; }'
    + ' .modal-ux-inner { margin-top: 0 !important; }';
  document.head.appendChild(style);
  document.activeElement.blur();
  window.scrollTo(0, 0);
})()"""
BOX = f"""(() => {{
  const r = {MODAL}.querySelector('.modal-ux-inner').getBoundingClientRect();
  return [r.x, r.y, r.width, r.height];
}})()"""


def main() -> None:
    app = create_app(FakeClerk().clerk())
    with (
        tempfile.TemporaryDirectory() as profile,
        serve_asgi(app, lifespan="on") as base,
        chromium(Path(profile)) as browser,
    ):
        browser.send(
            "Emulation.setDeviceMetricsOverride",
            {"width": 900, "height": 3200, "deviceScaleFactor": 1, "mobile": False},
        )
        browser.navigate(base + "/docs")
        if not browser.wait_for("!!document.querySelector('.btn.authorize')"):
            raise SystemExit("Swagger UI did not render")
        browser.evaluate("document.querySelector('.btn.authorize').click()")
        if not browser.wait_for(f"{MODAL} && {MODAL}.innerText"):
            raise SystemExit("the Authorize dialog did not open")
        browser.evaluate(UNFOLD)
        time.sleep(0.5)  # one layout pass after the style change
        x, y, width, height = browser.evaluate(BOX)
        clip = {"x": x, "y": y, "width": width, "height": height, "scale": 1}
        shot = browser.send(
            "Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True, "clip": clip}
        )
    target = ROOT / "docs" / "img" / "swagger-authorize.png"
    target.write_bytes(base64.b64decode(shot["data"]))
    print(f"wrote {target.relative_to(ROOT)} ({width:.0f} x {height:.0f})")


if __name__ == "__main__":
    main()
