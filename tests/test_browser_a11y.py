"""The trainee app in a real browser, as a keyboard-only and a screen-reader user meets it.

- a whole case worked with the keyboard only, asserting where focus is after each Check and Next;
- the walkthrough for tr-011 shows the session vitals its questions ask about;
- axe-core (vendored from the npm package, tests/vendor/axe-core) on every page in the question,
  feedback and summary states: 0 critical and 0 serious violations;
- reflow at 320 CSS px and at 200 % zoom (640 CSS px): no horizontal scrolling.

Needs Debian's Chromium (see tests/test_browser.py).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from test_browser import CHROMIUM, CHROMIUM_ARGS, App

from kdsupport.records.bundled import load_case_by_id

AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
COURSE = [
    "00_start_here",
    "01_trd_and_adequate_trials",
    "02_staging",
    "03_safety_screening",
    "04_session_monitoring",
    "05_case_walkthrough",
    "06_evidence_and_claims",
    "07_at_home_ketamine",
    "09_session_day",
]
INSTRUCTOR = ["08_instructor_dashboard", "10_case_conference", "11_cohort_outcomes"]
TOKEN = "a11y-token-5678"
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def apps(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("a11y")
    trainee = App(tmp)
    instructor = App(tmp, role="instructor", env={"KDSUPPORT_INSTRUCTOR_TOKEN": TOKEN})
    from kdsupport.training.demo import add_demo_attempts

    add_demo_attempts(str(instructor.db), 3)
    yield trainee, instructor
    trainee.stop()
    instructor.stop()


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


def open_page(browser, url, *, width=1280, height=900, ready="#rendered_cells"):
    page = browser.new_page(viewport={"width": width, "height": height})
    page.goto(url, timeout=120_000)
    page.wait_for_selector(ready, state="visible", timeout=120_000)
    page.wait_for_timeout(1500)  # widgets finish drawing
    return page


def axe_violations(page) -> list[dict]:
    """Serious and critical axe-core violations on the page as it is now."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(content=AXE.read_text())
    found = page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
        ".map(v => ({id: v.id, impact: v.impact, help: v.help,"
        " nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}))"
    )
    return [v for v in found if v["impact"] in ("serious", "critical")]


def active(page) -> dict:
    return page.evaluate(
        "(() => { const e = document.activeElement; return {tag: e.tagName, id: e.id,"
        " cls: String(e.className || ''), text: (e.textContent || '').trim().slice(0, 200),"
        " type: e.type || ''}; })()"
    )


def tab_until(page, predicate: str, limit: int = 80) -> int:
    """Press Tab until ``predicate`` (JS, on document.activeElement) holds; return the presses."""
    for n in range(1, limit + 1):
        page.keyboard.press("Tab")
        if page.evaluate(f"(e => {predicate})(document.activeElement)"):
            return n
    raise AssertionError(f"focus never reached {predicate}; it is on {active(page)}")


# ---------------------------------------------------------------- keyboard only
def test_a_whole_case_with_the_keyboard_only(apps, browser):
    trainee, _ = apps
    record = load_case_by_id("tr-001")  # single, number and tick-box questions
    page = open_page(
        browser,
        f"{trainee.base}/voila/render/05_case_walkthrough.ipynb?case_id=tr-001&trainee=kbd%26%231",
        ready="text=Check answer",
    )
    assert page.locator(".kd-trainee-id input").input_value() == "kbd&#1"
    questions = record.teaching.questions
    for i, q in enumerate(questions):
        prompt = q.prompt
        # the question's heading names it, and the choices are a group labelled by the question
        heading = page.locator(".kd-q-heading")
        assert f"Question {i + 1} of {len(questions)}" in heading.inner_text()
        assert prompt in heading.inner_text()
        tab_until(page, "e.closest('.kd-q-form') && e.tagName === 'INPUT'")
        if q.kind in ("single", "multiple"):
            group = page.get_by_role("group", name=re.compile(re.escape(prompt[:40])))
            assert group.count() == 1
        if q.kind == "single":
            values = [o.value for o in q.options]
            target = values.index(q.answer)
            # the group is one Tab stop: arrows move between the choices (and choose)
            page.keyboard.press("ArrowDown")
            page.keyboard.press("ArrowUp")
            for _ in range(target):
                page.keyboard.press("ArrowDown")
            page.keyboard.press("Space")
            chosen = page.evaluate("document.activeElement.value")
            assert chosen == q.answer
            page.keyboard.press("Tab")
            assert active(page)["text"] == "Check answer", "each radio is not a Tab stop"
            page.keyboard.press("Enter")
        elif q.kind == "multiple":
            for o in q.options:  # each tick box is a Tab stop, in order
                assert page.evaluate("document.activeElement.value") == o.value
                if o.value in q.answer:
                    page.keyboard.press("Space")
                page.keyboard.press("Tab")
            assert active(page)["id"].endswith("-none")  # "None of these" comes last
            if not q.answer:
                page.keyboard.press("Space")
            page.keyboard.press("Tab")
            assert active(page)["text"] == "Check answer"
            page.keyboard.press("Enter")
        else:
            page.keyboard.type(f"{q.answer:g}")
            page.keyboard.press("Enter")  # Enter submits a number
        page.wait_for_function(
            "document.activeElement.classList.contains('kd-feedback-box')", timeout=30_000
        )
        feedback = active(page)["text"]
        assert "Correct" in feedback, (q.id, feedback)
        # Next follows the feedback in Tab order
        tab_until(
            page,
            "e.tagName === 'BUTTON' && /^(Next question|See the summary)$/.test(e.textContent.trim())",
        )
        page.keyboard.press("Enter")
        if i + 1 < len(questions):
            page.wait_for_function(
                f"document.activeElement.classList.contains('kd-q-heading') && "
                f"document.activeElement.textContent.includes('Question {i + 2} of')",
                timeout=30_000,
            )
    page.wait_for_function(
        "document.activeElement.closest('.kd-summary-box') !== null", timeout=60_000
    )
    summary = page.locator(".kd-summary-box").inner_text()
    assert f"Summary: {len(questions)} of {len(questions)} correct" in summary
    assert "first answers correct" in page.locator(".kd-score").inner_text()
    page.close()
    from kdsupport.training.attempts import SQLiteAttemptStore

    log = SQLiteAttemptStore(trainee.db).attempts(trainee_id="kbd&#1")
    assert [a.question_id for a in log] == [q.id for q in questions] and all(a.correct for a in log)


def test_an_empty_answer_is_announced_not_graded(apps, browser):
    trainee, _ = apps
    page = open_page(
        browser,
        f"{trainee.base}/voila/render/05_case_walkthrough.ipynb?case_id=tr-011&trainee=empty-1",
        ready="text=Check answer",
    )
    page.get_by_role("button", name="Check answer").click()
    notice = page.locator(".kd-notice")
    assert "Nothing was checked or recorded" in notice.inner_text()
    assert notice.get_attribute("aria-live") == "polite"
    assert page.locator(".kd-feedback-box").is_hidden()
    page.close()
    from kdsupport.training.attempts import SQLiteAttemptStore

    assert SQLiteAttemptStore(trainee.db).attempts(trainee_id="empty-1") == []


# ---------------------------------------------------------------- the case in view
def test_tr_011_shows_the_session_vitals_its_questions_ask_about(apps, browser):
    trainee, _ = apps
    page = open_page(
        browser,
        f"{trainee.base}/voila/render/05_case_walkthrough.ipynb?case_id=tr-011",
        ready="text=Check answer",
    )
    about = page.locator(".kd-about")
    assert "Treatment sessions" in about.inner_text()
    sessions = page.locator("#kd-chart-sessions")
    assert sessions.is_visible()
    text = sessions.inner_text()
    for n in (1, 2, 3, 4):
        assert f"Session {n}" in text
    assert "170" in text and "Vital signs during session 3: not recorded" in text
    assert page.locator(".kd-current #kd-chart-sessions").count() == 1
    page.locator(".kd-figure img").first.wait_for(timeout=60_000)
    assert page.locator(".kd-figure img").count() == 4
    alt = page.locator(".kd-figure img").first.get_attribute("alt")
    assert "session 1" in alt
    # the link in the question takes the reader to that part of the chart
    about.get_by_role("link", name="Treatment sessions").click()
    assert page.evaluate("location.hash") == "#kd-chart-sessions"
    page.close()


# ---------------------------------------------------------------- axe on every page and state
def _answer_step(page):
    """Answer every field of the session-day step on screen (first choice, "not recorded")."""
    card = page.locator(".kd-stepcard")
    for group in card.locator("fieldset.kd-choices").all():
        group.locator("input").first.check()
    for box in card.locator(".kd-text").all():
        if "(optional)" not in box.locator("label").inner_text():
            box.locator("input").fill("not recorded")
    card.get_by_role("button", name="Check this step").click()
    card.locator(".kd-feedback").wait_for(timeout=30_000)


def _course_url(app, page_name, **query):
    q = "&".join(f"{k}={v}" for k, v in query.items())
    return f"{app.base}/voila/render/{page_name}.ipynb" + (f"?{q}" if q else "")


@pytest.mark.parametrize("width", [1280, 320])
def test_axe_finds_nothing_serious_on_any_page_in_any_state(apps, browser, width):
    trainee, instructor = apps
    report = {}
    for name in COURSE:
        query = {"trainee": "axe-1"} if name in ("00_start_here", "06_evidence_and_claims") else {}
        if name == "05_case_walkthrough":
            query = {"case_id": "tr-003", "trainee": "axe-1"}
        if name == "09_session_day":
            query = {"case_id": "tr-033", "session": "9", "trainee": "axe-1"}
        page = open_page(browser, _course_url(trainee, name, **query), width=width)
        report[f"{name} (initial)"] = axe_violations(page)
        if name == "00_start_here":
            page.get_by_role("button", name="Show my progress").click()
            page.wait_for_timeout(800)
            report[f"{name} (progress)"] = axe_violations(page)
        if name == "05_case_walkthrough":
            record = load_case_by_id("tr-003")
            for i, q in enumerate(record.teaching.questions):
                wrong = next(o for o in q.options if o.value != q.answer)
                page.get_by_label(wrong.label, exact=True).check()
                page.get_by_role("button", name="Check answer").click()
                page.locator(".kd-feedback").wait_for(timeout=30_000)
                if i == 0:
                    report[f"{name} (feedback)"] = axe_violations(page)
                page.get_by_role("button", name=re.compile("Next question|See the summary")).click()
                if i + 1 < len(record.teaching.questions):
                    page.get_by_text(f"Question {i + 2} of").wait_for(timeout=30_000)
                    if i == 0:
                        report[f"{name} (question 2)"] = axe_violations(page)
            page.locator(".kd-summary-box h2").wait_for(timeout=60_000)
            report[f"{name} (summary)"] = axe_violations(page)
        if name == "09_session_day":
            for step in range(1, 6):
                if step == 5:
                    report[f"{name} (the REMS form)"] = axe_violations(page)
                _answer_step(page)
                if step in (1, 5):
                    report[f"{name} (feedback on step {step})"] = axe_violations(page)
                page.get_by_role("button", name=re.compile("Go to step|See the summary")).click()
                if step < 5:
                    page.get_by_text(f"Step {step + 1} of 5").wait_for(timeout=30_000)
            page.locator(".kd-stepcard .kd-summary-box h2").wait_for(timeout=30_000)
            report[f"{name} (summary)"] = axe_violations(page)
        if name == "06_evidence_and_claims":
            first = page.locator(".kd-qcard").first
            first.get_by_label("Accurate", exact=True).check()
            first.get_by_role("button", name="Check answer").click()
            first.locator(".kd-feedback").wait_for(timeout=30_000)
            report[f"{name} (feedback)"] = axe_violations(page)
        page.close()
    for name in INSTRUCTOR:
        page = open_page(browser, _course_url(instructor, name, token=TOKEN), width=width)
        report[f"{name} (initial)"] = axe_violations(page)
        if name == "08_instructor_dashboard":
            page.get_by_role("button", name="Export CSV").click()
            page.get_by_role("link", name=re.compile("Download attempts-")).wait_for(timeout=30_000)
            report[f"{name} (exported)"] = axe_violations(page)
        page.close()
    bad = {k: v for k, v in report.items() if v}
    assert not bad, json.dumps(bad, indent=1)
    assert len(report) >= 22


# ---------------------------------------------------------------- reflow
@pytest.mark.parametrize("width", [320, 640])  # 640 CSS px = a 1280 px window at 200 % zoom
def test_every_page_reflows_without_horizontal_scrolling(apps, browser, width):
    trainee, instructor = apps
    pages = [_course_url(trainee, n) for n in COURSE]
    pages[5] = _course_url(trainee, "05_case_walkthrough", case_id="tr-011", trainee="reflow")
    pages += [_course_url(instructor, n, token=TOKEN) for n in INSTRUCTOR]
    wide = {}
    for url in pages:
        page = open_page(browser, url, width=width, height=800)
        page.wait_for_timeout(1500)
        scroll = page.evaluate(
            "Math.max(document.documentElement.scrollWidth, document.body.scrollWidth,"
            " document.getElementById('rendered_cells').scrollWidth)"
        )
        if scroll > width + 1:
            wide[url] = scroll
        # and the content uses the width it has (it once collapsed to 100 px)
        used = page.evaluate(
            "document.getElementById('rendered_cells').getBoundingClientRect().width"
        )
        assert used >= width - 40, (url, used)
        # the trainee id box is on screen, whole
        box = page.locator(".kd-trainee-id input")
        if box.count():
            b = box.first.bounding_box()
            assert b and b["x"] >= 0 and b["x"] + b["width"] <= width + 1, (url, b)
        page.close()
    assert not wide, wide
