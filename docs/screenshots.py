"""Screenshots of the trainee app for the docs (``make screenshots``).

Starts the trainee app on a free port with a scratch attempt log, opens the walkthrough for
tr-011 in Debian's Chromium at desktop width (1280 CSS px) and at 320 CSS px, and saves the
question state and the feedback state (a wrong answer to question 1) under docs/screenshots/.

    python docs/screenshots.py [--case tr-011]
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
WIDTHS = {"desktop": (1280, 1000), "320px": (320, 900)}


def main(argv: list[str] | None = None) -> int:
    """Take the screenshots; print where they went."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--case", default="tr-011")
    args = p.parse_args(argv)
    from playwright.sync_api import sync_playwright

    chromium = os.environ.get("KDSUPPORT_CHROMIUM", "/usr/bin/chromium")
    OUT.mkdir(parents=True, exist_ok=True)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with tempfile.TemporaryDirectory(prefix="kdsupport-shots-") as tmp:
        app = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "kdsupport.app",
                f"--port={port}",
                "--attempts",
                str(Path(tmp) / "a.sqlite"),
            ],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.time() + 60
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    if time.time() > deadline:
                        raise RuntimeError("the app did not start") from None
                    time.sleep(0.3)
            url = (
                f"http://127.0.0.1:{port}/voila/render/05_case_walkthrough.ipynb"
                f"?case_id={args.case}&trainee=demo-nurse-"
            )
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
                for name, (width, height) in WIDTHS.items():
                    page = browser.new_page(viewport={"width": width, "height": height})
                    page.goto(url + name, timeout=120_000)
                    page.get_by_role("button", name="Check answer").wait_for(timeout=120_000)
                    page.locator(".kd-figure img").first.wait_for(timeout=60_000)
                    page.locator(".kd-qcolumn").scroll_into_view_if_needed()
                    shot = OUT / f"walkthrough-{args.case}-question-{name}.png"
                    page.screenshot(path=str(shot), full_page=False)
                    print(shot)
                    first = page.locator(".kd-choices input").first
                    first.check()
                    page.get_by_role("button", name="Check answer").click()
                    page.locator(".kd-feedback").wait_for(timeout=30_000)
                    page.wait_for_timeout(500)
                    shot = OUT / f"walkthrough-{args.case}-feedback-{name}.png"
                    page.screenshot(path=str(shot), full_page=False)
                    print(shot)
                    page.close()
                browser.close()
        finally:
            app.terminate()
            app.wait(15)
    return 0


if __name__ == "__main__":
    sys.exit(main())
