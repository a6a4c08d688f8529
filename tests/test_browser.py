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


# ---------------------------------------------------------------- the session day (notebook 09)
SD_CASE, SD_SESSION = "tr-033", 9
# Session 9 of tr-033 worked by hand from the case file. An answer is the option's place in its
# group (radios), a tick per box (tick boxes) or the text typed. The dose is judged wrongly on
# purpose; every other answer is right.
SD_STEPS = [
    (
        [
            ("predose_tier", 1),  # 130/82: within the guide
            ("fasting_food", 1),  # 4 h
            ("fasting_liquid", 1),  # 60 min
            ("nasal_spray_timing", 4),  # none taken: does not apply
            ("prescriber_on_site", 1),
            ("concomitant_interacting", 2),  # none of the four taken
        ],
        "All 6 correct",
    ),
    (
        [
            ("phase", 3),  # 2026-03-30 is day 28 of a course that began 2026-03-02: week 5
            ("allowed_doses", [False, True, True, False, False]),  # 56 and 84 mg
            ("dose_fits_schedule", 1),  # WRONG on purpose: 112 mg does not fit
            ("frequency_fits_schedule", 1),  # the only session of week 5
            ("rest_between_devices", 1),  # 5 min
        ],
        "4 of 5 correct",
    ),
    (
        [
            ("bp_rechecked", 1),  # minute 40
            ("bp_rise", 1),  # 172 - 130 = 42 mmHg systolic
            ("bp_severe", 2),  # 172/102 is not above 180/120
            ("deep_sedation", 2),  # lowest MOAA/S 3
            ("desaturation", 2),  # lowest SpO2 96 %
            ("action", 2),  # a finding happened: review
        ],
        "All 6 correct",
    ),
    (
        [
            ("observed_2h", 1),  # 160 min
            ("bp_acceptable_at_discharge", 1),  # 134/84 at minute 150
            ("sedation_resolved", 1),  # last MOAA/S 5
            ("dissociation_resolved", 1),
            ("ready_before_discharge", 1),  # ready at 150, observed 160
            ("ride_home_arranged", 1),
            ("discharge", 1),
            ("driving", 2),  # not until the next day after a restful sleep
        ],
        "All 8 correct",
    ),
    (
        [
            ("concomitant_benzodiazepine", 2),
            ("concomitant_non_benzodiazepine_hypnotic", 2),
            ("concomitant_psychostimulant", 2),
            ("concomitant_maoi", 2),
            ("monitored_by", "RN M. Lindqvist"),
            ("setting", 1),
            ("treatment_date", "2026-03-30"),
            ("dose", 3),  # Other
            ("dose_other", "112"),
            ("device_lot", "SYN-2603B"),
            ("monitoring_minutes", "160"),
            ("ready_to_leave", "150"),
            ("vitals_acceptable_before", 1),
            ("vitals_acceptable_before_completion", 1),
            ("bp_before", "130/82"),
            ("bp_40_minutes", "172/102"),
            ("bp_before_completion", "134/84"),  # the last reading of the last 30 minutes
            ("sedation_lowest", "3"),
            ("sedation_last", "5"),
            ("dissociation_cadss", "31"),
            ("dissociation_resolved", 1),
            ("respiratory_depression", "96"),
            ("adverse_events", "nausea, vomiting, dizziness"),
            ("form_status", 1),  # every required field is recorded
        ],
        "All 21 correct",
    ),
]


def _focused_field(page) -> str | None:
    return page.evaluate(
        "(() => { const f = document.activeElement.closest('[data-field]');"
        " return f ? f.dataset.field : null; })()"
    )


def _key_in(page, field: str, answer) -> None:
    """Answer the focused field with the keyboard, then Tab to the next one."""
    assert _focused_field(page) == field
    if isinstance(answer, int):  # a radio group is one Tab stop; arrows move and choose
        page.keyboard.press("Space")
        for _ in range(answer - 1):
            page.keyboard.press("ArrowDown")
        page.keyboard.press("Tab")
    elif isinstance(answer, list):  # each tick box is a Tab stop
        for tick in answer:
            if tick:
                page.keyboard.press("Space")
            page.keyboard.press("Tab")
    else:
        page.keyboard.type(answer)
        page.keyboard.press("Tab")


def _tab_until(page, predicate: str, limit: int = 80) -> None:
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(f"(e => {predicate})(document.activeElement)"):
            return
    raise AssertionError(f"focus never reached {predicate}")


def test_session_day_worked_with_the_keyboard_only(voila, tmp_path):
    from playwright.sync_api import sync_playwright

    base, db = voila
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(
            f"{base}/voila/render/09_session_day.ipynb?case_id={SD_CASE}&session={SD_SESSION}"
            "&trainee=kbd-nurse",
            timeout=120_000,
        )
        page.get_by_role("button", name="Check this step").wait_for(timeout=120_000)
        assert "Step 1 of 5" in page.locator(".kd-stepcard .kd-q-heading").inner_text()
        # the chart shows the preparation and the pre-dose reading, nothing of the later session
        chart = page.locator("#kd-session-day-chart").inner_text()
        assert "130" in chart and "172" not in chart
        _tab_until(page, "e.closest('.kd-stepcard form') && e.tagName === 'INPUT'")
        for number, (answers, verdict) in enumerate(SD_STEPS, start=1):
            for field, answer in answers:
                _key_in(page, field, answer)
            assert page.evaluate("document.activeElement.textContent") == "Check this step"
            page.keyboard.press("Enter")
            page.wait_for_function(
                "document.activeElement.classList.contains('kd-feedback-box')", timeout=30_000
            )
            feedback = page.locator(".kd-stepcard .kd-feedback-box").inner_text()
            assert verdict in feedback, (number, feedback)
            if number == 2:  # the wrong dose: marked at the field, with the reason and its source
                assert page.locator(".kd-wrong[data-field='dose_fits_schedule']").count() == 1
                assert "112 mg is not in the schedule (56 mg or 84 mg)" in feedback
                assert "Spravato US label dosing" in feedback and "(verified)" in feedback
            if number == 3:  # a finding that happened reads as a warning
                assert "HAPPENED" in feedback
            _tab_until(
                page,
                "e.tagName === 'BUTTON' && /^(Go to step|See the summary)/.test(e.textContent)",
            )
            page.keyboard.press("Enter")
            if number < len(SD_STEPS):
                page.wait_for_function(
                    "document.activeElement.classList.contains('kd-q-heading') && document"
                    f".activeElement.textContent.includes('Step {number + 1} of 5')",
                    timeout=30_000,
                )
                page.keyboard.press("Tab")
        page.wait_for_function(
            "document.activeElement.closest('.kd-summary-box') !== null", timeout=30_000
        )
        summary = page.locator(".kd-stepcard .kd-summary-box").inner_text()
        assert "45 of 46 correct" in summary
        assert "45 of 46 first answers correct" in page.locator(".kd-score").inner_text()
        browser.close()
    log = SQLiteAttemptStore(db).attempts(trainee_id="kbd-nurse")
    assert len(log) == 46 and {a.case_id for a in log} == {f"session-day:{SD_CASE}"}
    assert [a.question_id for a in log if not a.correct] == [
        f"session-{SD_SESSION}.dose-us.dose_fits_schedule"
    ]


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
