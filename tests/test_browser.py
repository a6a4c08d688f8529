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
import time
import urllib.request

import pytest
from conftest import ROOT

from kdsupport.data import load_case_by_id
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


@pytest.fixture
def voila(tmp_path):
    if not shutil.which(CHROMIUM) and not os.path.exists(CHROMIUM):
        pytest.fail(
            f"Chromium not found at {CHROMIUM}: apt-get install -y chromium (or KDSUPPORT_SKIP_BROWSER=1)"
        )
    port = _free_port()
    db = tmp_path / "attempts.sqlite"
    env = {**os.environ, "KDSUPPORT_ATTEMPTS": str(db)}
    log = (tmp_path / "voila.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "kdsupport.app", f"--port={port}", "--attempts", str(db)],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 90
    while True:
        try:
            urllib.request.urlopen(base, timeout=2)
            break
        except OSError:
            if time.time() > deadline or proc.poll() is not None:
                proc.kill()
                pytest.fail("Voila did not start:\n" + (tmp_path / "voila.log").read_text())
            time.sleep(0.5)
    yield base, db
    proc.terminate()
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        proc.kill()


def test_walkthrough_in_a_real_browser(voila, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    base, db = voila
    record = load_case_by_id(CASE)
    q1, q2 = record.teaching.questions[:2]
    assert q1.kind == "single", "the test answers the first question by its option labels"
    wrong = next(o for o in q1.options if o.value != q1.answer)
    args = [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--headless=new",
    ]
    with sync_playwright() as p:
        browser = p.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"), executable_path=CHROMIUM, args=args, headless=True
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
        expect(page.locator(".kd-score")).to_have_text("Score: 0 of 1 answered correctly")

        # question 2, right, with the keyboard
        page.get_by_role("button", name="Next question").press("Enter")
        expect(page.get_by_text("Question 2 of")).to_be_visible(timeout=30_000)
        if q2.kind == "single":
            right = next(o for o in q2.options if o.value == q2.answer)
            radio = page.get_by_label(right.label, exact=True)
            radio.focus()
            page.keyboard.press("Space")
        elif q2.kind == "numeric":
            page.get_by_label("Answer", exact=False).last.fill(f"{q2.answer:g}")
        else:
            for o in q2.options:
                if o.value in q2.answer:
                    page.get_by_label(o.label, exact=True).check()
        check.focus()
        page.keyboard.press("Enter")
        expect(page.locator(".kd-feedback")).to_contain_text("Correct", timeout=30_000)
        expect(page.locator(".kd-score")).to_have_text("Score: 1 of 2 answered correctly")
        shot = tmp_path / "walkthrough.png"
        page.screenshot(path=str(shot), full_page=True)
        browser.close()
    assert shot.stat().st_size > 10_000
    log = SQLiteAttemptStore(db).attempts(trainee_id="e2e-trainee")
    assert [(a.question_id, a.correct) for a in log] == [(q1.id, False), (q2.id, True)]
