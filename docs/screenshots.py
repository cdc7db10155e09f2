"""Take the README's screenshots from the demo, as a new user sees it: `make screenshots`.

Seeds a throwaway demo database, serves it on a free loopback port and drives Debian's
chromium through the landing page (desktop), the marketer's console (desktop) and a rep's
follow-up list (phone), writing PNGs to docs/screenshots/.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def flask(env: dict[str, str], *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def wait_for(url: str, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(url) as answer:
                if answer.status == 200:
                    return
        except OSError:
            if time.monotonic() > deadline:
                raise
        time.sleep(0.2)


def log_in(page: Page, base: str, email: str, password: str) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state("networkidle")


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as folder:
        env = {
            **os.environ,
            "DATABASE_URL": f"sqlite:///{folder}/demo.db",
            "INSTANCE_PATH": folder,
            "SECRET_KEY": "screenshots",
            "MAIL_SERVER": "",
        }
        for step in (("db", "upgrade"), ("demo", "seed")):
            if flask(env, *step).wait() != 0:
                raise SystemExit(f"flask {' '.join(step)} failed")
        port = free_port()
        server = flask(env, "serve", "--host", "127.0.0.1", "--port", str(port))
        base = f"http://127.0.0.1:{port}"
        try:
            wait_for(f"{base}/healthz")
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path=CHROMIUM, headless=True, args=["--no-sandbox"]
                )
                page = browser.new_page(viewport=DESKTOP)
                page.goto(f"{base}/e/demo-webinar")
                page.screenshot(path=str(OUT / "landing.png"))
                log_in(page, base, "mia.marketer@example.com", "demo-marketer-2026")
                page.goto(f"{base}/admin/events/demo-past-webinar")
                page.screenshot(path=str(OUT / "console.png"))
                phone = browser.new_page(viewport=PHONE, device_scale_factor=2, is_mobile=True)
                log_in(phone, base, "rita.rep@example.com", "demo-rep-2026")
                phone.goto(f"{base}/followups")
                phone.screenshot(path=str(OUT / "rep-list-phone.png"))
                browser.close()
        finally:
            server.terminate()
            server.wait(10)
    for name in ("landing.png", "console.png", "rep-list-phone.png"):
        print(OUT / name)


if __name__ == "__main__":
    main()
