#!/usr/bin/env python
"""Draw the app icons and the default link preview from static/img/favicon.svg.

Chromium (through Playwright, a test dependency) renders the SVG at each size,
so the PNGs match the favicon exactly. Run it again after changing the logo:

    .venv/bin/python scripts/make_icons.py

Writes into static/img/: favicon-32.png, apple-touch-icon.png (180), icon-192.png,
icon-512.png, icon-maskable-512.png (the logo inside the safe zone on a full
bleed) and og-default.jpg (1200×630, the preview of pages without a photo).
"""

import base64
import os
import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
IMG = ROOT / "static" / "img"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
BRAND = "#0b5ed7"

ICONS = {
    "favicon-32.png": (32, 1.0, "transparent"),
    "apple-touch-icon.png": (180, 1.0, BRAND),
    "icon-192.png": (192, 1.0, "transparent"),
    "icon-512.png": (512, 1.0, "transparent"),
    # Android crops maskable icons to a circle: keep the logo inside the middle 80 %.
    "icon-maskable-512.png": (512, 0.72, BRAND),
}

OG = """<!doctype html><html><head><meta charset="utf-8"><style>
  html, body {{ margin: 0; width: 1200px; height: 630px; }}
  body {{ display: flex; align-items: center; gap: 56px; padding: 0 96px; box-sizing: border-box;
         background: linear-gradient(135deg, #0b5ed7 0%, #0a3f91 100%); color: #fff;
         font-family: "DejaVu Sans", "Noto Sans", Arial, sans-serif; }}
  img {{ width: 220px; height: 220px; border-radius: 48px; box-shadow: 0 12px 40px rgba(0,0,0,.25); }}
  h1 {{ font-size: 96px; margin: 0 0 12px; letter-spacing: -1px; }}
  p {{ font-size: 38px; margin: 0; opacity: .92; line-height: 1.3; white-space: nowrap; }}
</style></head><body><img src="{svg}" alt=""><div><h1>Citydesk</h1>
<p>Мастера и организации города:<br>цены, отзывы, онлайн-запись</p></div></body></html>"""


def main() -> int:
    svg = (IMG / "favicon.svg").read_bytes()
    data_url = "data:image/svg+xml;base64," + base64.b64encode(svg).decode()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        for name, (size, scale, background) in ICONS.items():
            page = browser.new_page(viewport={"width": size, "height": size})
            inner = round(size * scale)
            page.set_content(
                f'<html><body style="margin:0;background:{background};display:flex;align-items:center;'
                f'justify-content:center;width:{size}px;height:{size}px">'
                f'<img src="{data_url}" width="{inner}" height="{inner}"></body></html>'
            )
            page.screenshot(path=str(IMG / name), omit_background=background == "transparent")
            page.close()
            print(f"static/img/{name}")
        page = browser.new_page(viewport={"width": 1200, "height": 630})
        page.set_content(OG.format(svg=data_url))
        page.screenshot(path=str(IMG / "og-default.jpg"), type="jpeg", quality=88)
        print("static/img/og-default.jpg")
        browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
