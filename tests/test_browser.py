"""End to end in a real browser: Voila serves the walkthrough, headless Chromium answers.

Needs Debian's Chromium at /usr/bin/chromium (`.ci/run` installs it). Set
KDSUPPORT_SKIP_BROWSER=1 to skip on a machine without it; otherwise a missing browser fails.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from conftest import ROOT

from kdsupport.records.bundled import load_case_by_id
from kdsupport.training.attempts import SQLiteAttemptStore

CHROMIUM = os.environ.get("KDSUPPORT_CHROMIUM", "/usr/bin/chromium")
CASE = "tr-003"
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        os.environ.get("KDSUPPORT_SKIP_BROWSER") == "1", reason="KDSUPPORT_SKIP_BROWSER=1"
    ),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--headless=new",
]


class App:
    """A running app (trainee or instructor) started by a test, stopped at the end."""

    def __init__(self, tmp_path, *args: str, role: str = "trainee", env: dict | None = None):
        if not shutil.which(CHROMIUM) and not os.path.exists(CHROMIUM):
            pytest.fail(
                f"Chromium not found at {CHROMIUM}: apt-get install -y chromium "
                "(or KDSUPPORT_SKIP_BROWSER=1)"
            )
        self.port = _free_port()
        self.db = tmp_path / "attempts.sqlite"
        self.log_path = tmp_path / f"{role}-{self.port}.log"
        env = {**os.environ, "KDSUPPORT_ATTEMPTS": str(self.db), **(env or {})}
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "kdsupport.app",
                f"--role={role}",
                f"--port={self.port}",
                "--attempts",
                str(self.db),
                *args,
            ],
            cwd=ROOT,
            env=env,
            stdout=self.log_path.open("w"),
            stderr=subprocess.STDOUT,
        )
        self.base = f"http://127.0.0.1:{self.port}"
        deadline = time.time() + 90
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=2):
                    break
            except OSError:
                if time.time() > deadline or self.proc.poll() is not None:
                    self.stop()
                    pytest.fail("the app did not start:\n" + self.log_path.read_text())
                time.sleep(0.3)

    def kernels(self) -> int:
        """Live kernel processes started by this app."""
        n = 0
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
                cmd = (stat.parent / "cmdline").read_bytes()
            except OSError:
                continue
            if int(fields[1]) == self.proc.pid and b"ipykernel" in cmd:
                n += 1
        return n

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()


@pytest.fixture
def voila(tmp_path):
    app = App(tmp_path)
    yield app.base, app.db
    app.stop()


@pytest.fixture
def chromium(tmp_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"),
            executable_path=CHROMIUM,
            args=[*CHROMIUM_ARGS, "--host-resolver-rules=MAP evil.example 127.0.0.1"],
            headless=True,
        )
        yield browser
        browser.close()


def test_walkthrough_in_a_real_browser(voila, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    base, db = voila
    record = load_case_by_id(CASE)
    q1, q2 = record.teaching.questions[:2]
    assert q1.kind == "single", "the test answers the first question by its option labels"
    wrong = next(o for o in q1.options if o.value != q1.answer)
    with sync_playwright() as p:
        browser = p.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"),
            executable_path=CHROMIUM,
            args=CHROMIUM_ARGS,
            headless=True,
        )
        page = browser.new_page()
        # the app opens at the course home
        page.goto(base + "/", timeout=120_000)
        expect(page.get_by_text("Course map")).to_be_visible(timeout=120_000)
        assert page.url.endswith("/voila/render/00_start_here.ipynb")
        page.goto(
            f"{base}/voila/render/05_case_walkthrough.ipynb?case_id={CASE}&trainee=e2e-trainee",
            timeout=120_000,
        )
        check = page.get_by_role("button", name="Check answer")
        check.wait_for(timeout=120_000)
        expect(page.get_by_text("Question 1 of")).to_be_visible()

        # question 1, wrong, with the mouse
        page.get_by_label(wrong.label, exact=True).check()
        check.click()
        feedback = page.locator(".kd-feedback")
        expect(feedback).to_contain_text("Not quite", timeout=30_000)
        expect(feedback).to_contain_text("Answer from the rules")
        expect(page.locator(".kd-score")).to_contain_text("0 of 1 first answers correct")

        # question 2, right, with the keyboard
        page.get_by_role("button", name="Next question").press("Enter")
        expect(page.get_by_text("Question 2 of")).to_be_visible(timeout=30_000)
        if q2.kind == "single":
            right = next(o for o in q2.options if o.value == q2.answer)
            radio = page.get_by_label(right.label, exact=True)
            radio.focus()
            page.keyboard.press("Space")
        elif q2.kind == "numeric":
            page.get_by_label("Your answer", exact=False).last.fill(f"{q2.answer:g}")
        else:
            for o in q2.options:
                if o.value in q2.answer:
                    page.get_by_label(o.label, exact=True).check()
        check.focus()
        page.keyboard.press("Enter")
        expect(page.locator(".kd-feedback")).to_contain_text("Correct", timeout=30_000)
        expect(page.locator(".kd-score")).to_contain_text("1 of 2 first answers correct")
        shot = tmp_path / "walkthrough.png"
        page.screenshot(path=str(shot), full_page=True)
        browser.close()
    assert shot.stat().st_size > 10_000
    log = SQLiteAttemptStore(db).attempts(trainee_id="e2e-trainee")
    assert [(a.question_id, a.correct) for a in log] == [(q1.id, False), (q2.id, True)]


# ---------------------------------------------------------------- security, in the browser
def test_a_dns_rebinding_host_is_refused_in_the_browser(chromium, tmp_path):
    app = App(tmp_path)
    try:
        page = chromium.new_page()
        response = page.goto(f"http://evil.example:{app.port}/voila/render/00_start_here.ipynb")
        assert response.status == 403 and "host not allowed" in page.inner_text("body")
        assert app.kernels() == 0  # refused before any kernel started
        response = page.goto(f"{app.base}/voila/render/08_instructor_dashboard.ipynb")
        assert response.status == 404  # the dashboard is not part of the trainee app
        response = page.goto(f"{app.base}/voila/tree")
        assert response.status == 404
    finally:
        app.stop()


def test_a_page_on_another_origin_cannot_open_a_kernel_websocket(chromium, tmp_path):
    app = App(tmp_path)
    html = urllib.request.urlopen(f"{app.base}/voila/render/00_start_here.ipynb").read().decode()
    import re

    kernel = re.search(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", html)
    assert kernel, "the page names its kernel"
    attack = tmp_path / "attack"
    attack.mkdir()
    (attack / "index.html").write_text(
        "<!doctype html><title>waiting</title><script>"
        f"const ws = new WebSocket('ws://127.0.0.1:{app.port}/api/kernels/{kernel.group()}"
        "/channels?session_id=x');"
        "ws.onopen = () => document.title = 'OPEN';"
        "ws.onerror = () => document.title = 'REFUSED';"
        "</script>"
    )
    server = ThreadingHTTPServer(
        ("127.0.0.1", 0), lambda *a: SimpleHTTPRequestHandler(*a, directory=str(attack))
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        page = chromium.new_page()
        page.goto(f"http://127.0.0.1:{server.server_address[1]}/index.html")
        page.wait_for_function("document.title !== 'waiting'", timeout=30_000)
        assert page.title() == "REFUSED"
    finally:
        server.shutdown()
        app.stop()
    assert "403 GET /api/kernels/" in app.log_path.read_text()


def test_twenty_page_loads_leave_no_more_than_the_cap_of_live_kernels(chromium, tmp_path):
    app = App(tmp_path, "--max-kernels", "4", "--unconnected-seconds", "10")
    try:
        statuses = []
        for _ in range(20):  # plain GETs, as any web page could make
            try:
                statuses.append(
                    urllib.request.urlopen(
                        f"{app.base}/voila/render/00_start_here.ipynb", timeout=60
                    ).status
                )
            except urllib.error.HTTPError as exc:
                statuses.append(exc.code)
            assert app.kernels() <= 4
        assert statuses.count(200) >= 1 and set(statuses) <= {200, 503}
        page = chromium.new_page()  # a busy server says so in words
        response = page.goto(f"{app.base}/voila/render/00_start_here.ipynb")
        assert response.status in (200, 503)
        if response.status == 503:
            assert "busy" in page.inner_text("body")
        deadline = time.time() + 60  # unconnected kernels are culled
        while app.kernels() > 1 and time.time() < deadline:
            time.sleep(1)
        assert app.kernels() <= 1
        page.goto(f"{app.base}/voila/render/00_start_here.ipynb")  # room again
        page.get_by_text("Course map").wait_for(timeout=60_000)
        assert app.kernels() <= 4
    finally:
        app.stop()


def test_the_instructor_app_needs_its_token_and_exports_to_its_own_folder(chromium, tmp_path):
    exports = tmp_path / "exports"
    app = App(
        tmp_path,
        "--export-dir",
        str(exports),
        role="instructor",
        env={"KDSUPPORT_INSTRUCTOR_TOKEN": "test-token-1234"},
    )
    try:
        from kdsupport.training.demo import add_demo_attempts

        add_demo_attempts(str(app.db), 2)
        page = chromium.new_page()
        page.goto(f"{app.base}/voila/render/08_instructor_dashboard.ipynb")
        assert "/login" in page.url  # no token, no dashboard
        assert "Instructor dashboard" not in page.inner_text("body")
        page.goto(f"{app.base}/voila/render/08_instructor_dashboard.ipynb?token=test-token-1234")
        page.get_by_role("button", name="Export CSV").click(timeout=120_000)
        link = page.get_by_role("link", name="Download attempts-")
        link.wait_for(timeout=30_000)
        with page.expect_download() as info:
            link.click()
        assert info.value.suggested_filename.startswith("attempts-")
        (written,) = exports.glob("attempts-*.csv")
        assert written.read_text().startswith("trainee_id,case_id")
        assert "kdsupport instructor app" in app.log_path.read_text()
        response = page.goto(f"{app.base}/voila/render/05_case_walkthrough.ipynb")
        assert response.status == 404
    finally:
        app.stop()


def test_leaving_a_page_shuts_its_kernel_down(chromium, tmp_path):
    """The page's unload beacon needs Voila's _xsrf cookie; without it every kernel lingered."""
    app = App(tmp_path)
    try:
        page = chromium.new_page()
        for _ in range(3):
            page.goto(f"{app.base}/voila/render/00_start_here.ipynb")
            # a widget drawn means the widget manager is up, and with it the unload handler
            page.get_by_role("button", name="Show my progress").wait_for(timeout=120_000)
            assert app.kernels() == 1
            page.goto("about:blank")  # leaving fires beforeunload, as closing a tab does
            deadline = time.time() + 15
            while app.kernels() and time.time() < deadline:
                time.sleep(0.3)
            assert app.kernels() == 0
        assert "403 POST /voila/api/shutdown" not in app.log_path.read_text()
    finally:
        app.stop()
