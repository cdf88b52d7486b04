"""What the real-browser tests share: the platform under uvicorn on a free loopback port, and a chromium page
that blocks (and records) every request leaving the loopback interface and records console errors.

Debian's chromium at ``/usr/bin/chromium`` is driven by Playwright's sync API; no browser is downloaded.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlparse

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def platform_server(home: Path, *, warm: bool = True) -> Iterator[str]:
    """``citycarbon``'s app (API + cockpit) on ``home`` (already seeded) under uvicorn; yields its base URL."""
    port = free_port()
    env = {**os.environ, "CITYCARBON_HOME": str(home), "CITYCARBON_COOKIE_SECURE": "0"}
    code = ("import uvicorn; from citycarbon.api.app import create_app; "
            f"uvicorn.run(create_app(prepare=False, warm={warm}), host='127.0.0.1', port={port}, "
            "log_level='warning')")
    log = (home / "server.log").open("w")
    process = subprocess.Popen([sys.executable, "-c", code], env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("server did not start: " + (home / "server.log").read_text()[-2000:]) from None
                time.sleep(0.2)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


def guarded_page(playwright, blocked: list[str], problems: list[str], *,
                 expected_console: Callable[[object], bool] = lambda message: False):
    """(browser, context, page) in chromium: requests off the loopback interface are aborted and appended to
    ``blocked``; console errors (unless ``expected_console``) and page errors are appended to ``problems``."""
    browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN")

    def guard(route) -> None:
        host = urlparse(route.request.url).hostname or ""
        if route.request.url.startswith(("data:", "blob:")) or host in LOOPBACK:
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    context.route("**/*", guard)
    page = context.new_page()
    page.on("console", lambda m: problems.append(f"{m.location.get('url')}: {m.text}")
            if m.type == "error" and not expected_console(m) else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.set_default_timeout(30_000)
    return browser, context, page


def canvas_pixels(page, selector: str) -> int:
    """How many non-transparent pixels the first canvas under ``selector`` has (-1: no canvas)."""
    return page.evaluate("""(selector) => {
        const canvas = document.querySelector(selector + ' canvas');
        if (!canvas) { return -1; }
        const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
        let count = 0;
        for (let i = 3; i < data.length; i += 4) { if (data[i] > 0) { count++; } }
        return count;
    }""", selector)


def login_with_totp(page, url: str, password: str, secret: str, username: str = "office") -> None:
    """Open ``url`` (the login form comes first) and log in with password and the TOTP of ``secret``: the two
    steps of the cockpit's login."""
    import pyotp

    page.goto(url)
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_selector("#totp")
    page.fill("#password", password)
    page.fill("#totp", pyotp.TOTP(secret).now())
    page.click("button[type=submit]")
