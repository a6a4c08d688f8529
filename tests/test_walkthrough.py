"""The walkthrough, built headless: the case chart, the question card, scoring and the log.

The browser half (focus, keyboard, axe, reflow) is in tests/test_browser.py.
"""

from __future__ import annotations

import re
from html import unescape

import pytest
from conftest import CASES

from kdsupport.records.bundled import list_cases, load_case_by_id
from kdsupport.render.case_chart import SECTIONS, section_html, section_of_field, sections_for_rule
from kdsupport.rules.assess import assess
from kdsupport.training.attempts import SQLiteAttemptStore
from kdsupport.training.grading import reasons_for_rule
from kdsupport.widgets import build_case_walkthrough, build_claim_quiz, build_course_home
from kdsupport.widgets.feedback import feedback_html

CURATED = sorted(p.stem for p in CASES.glob("*.yaml"))


@pytest.fixture
def store(tmp_path):
    return SQLiteAttemptStore(tmp_path / "attempts.sqlite")


def walkthrough(case_id, **kw):
    kw.setdefault("figures", "none")
    return build_case_walkthrough(case_id, **kw)


def wrong_answer(q):
    if q.kind == "single":
        return next(o.value for o in q.options if o.value != q.answer)
    if q.kind == "multiple":
        return [o.value for o in q.options if o.value not in q.answer][:1] or []
    return str(q.answer + 1)


def right_answer(q):
    return str(q.answer) if q.kind == "numeric" else q.answer


def text(html: str) -> str:
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


# ---------------------------------------------------------------- grading, logging, focus
def test_wrong_then_right_is_graded_logged_scored_and_focus_moves(store):
    w = walkthrough("tr-001", trainee_id="nurse-01", store=store)
    card = w.card
    assert card.phase == "question" and card.question["number"] == 1
    q1 = w.question
    w.submit(wrong_answer(q1))
    assert card.phase == "answered" and "Not quite" in card.feedback_html
    assert "Answer from the rules" in card.feedback_html and "Sources" in card.feedback_html
    assert card.focus["target"] == "feedback"
    card.next_request = {"n": 1}  # what the page's Next button sends
    assert card.focus["target"] == "heading" and card.question["number"] == 2
    assert card.feedback_html == "" and card.phase == "question"
    q2 = w.question
    w.submit(right_answer(q2))
    assert "Correct" in card.feedback_html
    assert "1 of 2 first answers correct (50 %)" in w.score.value
    log = store.attempts(trainee_id="nurse-01")
    assert [(a.question_id, a.correct) for a in log] == [(q1.id, False), (q2.id, True)]
    assert all(a.case_id == "tr-001" and a.kb_version for a in log)


@pytest.mark.parametrize(
    "given", [None, "", "not-an-option", ["not-an-option"], 3, {"a": 1}], ids=repr
)
def test_an_empty_or_foreign_answer_is_never_graded_or_logged(store, given):
    w = walkthrough("tr-011", trainee_id="t1", store=store)  # q1 is a tick-box question
    w.submit(given)
    assert w.card.phase == "question" and w.card.feedback_html == ""
    assert "Nothing was checked or recorded" in w.card.notice
    assert w.card.focus["target"] == "input"
    assert store.attempts() == []


def test_a_number_question_refuses_text_and_takes_a_number(store):
    case = next(
        c.id
        for c in list_cases()
        if any(q.kind == "numeric" for q in load_case_by_id(c.id).teaching.questions)
    )
    w = walkthrough(case, trainee_id="t1", store=store)
    while w.question.kind != "numeric":
        w.submit(right_answer(w.question))
        w.card.next_request = {"n": w.index + 1}
    w.submit("twelve")
    assert "Enter a number first" in w.card.notice and w.card.phase == "question"
    n_before = len(store.attempts())
    w.submit("1e999")  # not a finite number
    assert len(store.attempts()) == n_before and w.card.phase == "question"
    w.submit(right_answer(w.question))
    assert w.card.phase == "answered" and "Correct" in w.card.feedback_html


def test_none_of_these_is_an_answer_to_a_tick_box_question(store):
    w = walkthrough("tr-011", trainee_id="t1", store=store)
    assert w.question.kind == "multiple"
    w.submit([])  # the page sends [] only when "None of these" is ticked
    assert w.card.phase == "answered" and "Not quite" in w.card.feedback_html
    assert store.attempts()[0].answer == []


def test_without_a_trainee_id_nothing_is_graded_and_focus_goes_to_the_id_box(store):
    w = walkthrough("tr-002", trainee_id="", store=store)
    w.submit(right_answer(w.question))
    assert "Enter your trainee ID" in w.card.notice and w.card.phase == "question"
    assert w.card.focus["target"] == "trainee"
    assert store.attempts() == []
    w.trainee.value = "t2"
    w.submit(right_answer(w.question))
    assert w.card.phase == "answered" and len(store.attempts()) == 1


@pytest.mark.parametrize("case_id", ["tr-004", "tr-011", "tr-019", "tr-029"])
def test_every_question_to_the_summary(store, case_id):
    w = walkthrough(case_id, trainee_id="res-02", store=store)
    n = len(w.questions)
    for i in range(n):
        w.submit(right_answer(w.question))
        assert "Correct" in w.card.feedback_html, w.question.id
        assert w.card.next_label == ("See the summary" if i == n - 1 else "Next question")
        w.card.next_request = {"n": i + 1}
    assert w.card.phase == "summary" and w.card.focus["target"] == "summary"
    assert f"Summary: {n} of {n} correct" in w.card.summary_html
    assert "The assessment at a glance" in w.card.summary_html
    assert len(store.attempts(case_id=case_id)) == n
    assert not any("kd-current" in p._dom_classes for p in w.parts.values())


def test_working_a_case_again_is_practice(store):
    w = walkthrough("tr-003", trainee_id="t3", store=store)
    for i in range(len(w.questions)):
        w.submit(wrong_answer(w.question))
        w.card.next_request = {"n": i + 1}
    score = w.score.value
    assert "0 of 5 first answers correct" in score
    w.card.restart_request = {"n": 1}
    assert w.card.phase == "question" and w.card.question["number"] == 1
    w.submit(right_answer(w.question))
    assert "practice and does not change your score" in w.card.feedback_html
    assert w.score.value == score  # the first answer still counts
    assert len(store.attempts()) == 6  # every answer is logged for the instructor


def test_switching_case_resets_the_walkthrough(store):
    w = walkthrough("tr-001", trainee_id="x", store=store)
    w.submit(right_answer(w.question))
    w.case_picker.value = "tr-005"
    assert w.record.id == "tr-005" and w.index == 0 and w.answered == []
    assert w.card.feedback_html == "" and w.card.phase == "question"
    assert "tr-005" in w.contents["presentation"].value


@pytest.mark.parametrize("bad", ["nope", "../../etc/passwd", "<script>alert(1)</script>", ""])
def test_an_unknown_case_id_shows_the_cases_not_an_error(bad):
    w = walkthrough(bad, store=None)
    assert "There is no case" in w.unknown.value and w.body.layout.display == "none"
    assert "<script>" not in w.unknown.value
    for c in list_cases():
        assert f"case_id={c.id}" in w.unknown.value
    w.case_picker.value = "tr-001"  # and the trainee can pick one
    assert w.unknown.value == "" and w.record.id == "tr-001"


def test_every_control_has_a_label():
    w = walkthrough("tr-001", store=None)
    for widget in (w.case_picker, w.trainee):
        assert widget.description
    assert "kd-trainee-id" in w.trainee._dom_classes


# ---------------------------------------------------------------- the chart
@pytest.mark.parametrize("case_id", CURATED)
def test_each_question_points_to_the_chart_parts_its_answer_reads(case_id):
    """Every record field the rules cite for a question's answer is in a part it points to."""
    record = load_case_by_id(case_id)
    for q in record.teaching.questions:
        opts = q.rule_options or {}
        a = assess(
            record, definition=opts.get("definition"), madrs_remission=opts.get("madrs_remission")
        )
        parts = sections_for_rule(q.answer_rule)
        assert parts and set(parts) <= set(SECTIONS)
        for reason in reasons_for_rule(a, q.answer_rule):
            for field in reason.fields:
                where = section_of_field(field)
                assert where is None or where in parts, (q.id, q.answer_rule, field, parts)


def _leaves(obj, path=""):
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _leaves(v, f"{path}.{k}" if path else k)
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from _leaves(v, f"{path}[{i}]")
    else:
        yield path, obj


@pytest.mark.parametrize("case_id", CURATED)
def test_the_chart_shows_every_recorded_number_and_word(case_id):
    record = load_case_by_id(case_id)
    html = {s: text(section_html(record, s)) for s in SECTIONS}
    data = record.model_dump(exclude={"teaching", "title", "vignette", "format", "id", "synthetic"})
    for path, value in _leaves(data):
        if value is None or isinstance(value, bool):
            continue
        part = section_of_field(path)
        assert part is not None, path
        shown = f"{value:g}" if isinstance(value, float) else str(value)
        if path.endswith(".primary"):
            shown = {
                "mdd": "major depressive disorder",
                "bipolar_depression": "bipolar depression",
            }.get(value, value)
        if value == "not_used":
            shown = "none taken that day"
        if path.endswith(("instrument", "modality", "stopped_early_for", ".when")):
            continue  # shown by title or in words (checked below)
        assert shown in html[part], (case_id, path, value)


def test_screening_answers_read_present_absent_and_not_assessed():
    record = load_case_by_id("tr-004")  # a referral letter with gaps
    html = section_html(record, "screening")
    assert "not assessed" in html and "absent" in html
    record = load_case_by_id("tr-006")  # an aneurysm
    assert "<b>present</b>" in section_html(record, "screening")


def test_cssrs_answers_are_words_and_unasked_questions_say_so():
    record = load_case_by_id("tr-012")  # an incomplete screener
    html = text(section_html(record, "scales"))
    assert "Question 1, Wish to be dead" in html
    assert "not asked" in html
    assert "Columbia Suicide Severity Rating Scale" in html


def test_tr_011_chart_shows_the_session_vitals_its_questions_ask_about():
    w = walkthrough("tr-011", store=None, figures="now")
    sessions = w.contents["sessions"].value
    for s in w.record.sessions:
        assert (
            f"Session {s.number}: vital signs" in sessions
            or "Vital signs during session" in sessions
        )
    assert "170" in text(sessions) and "96" in text(sessions)  # session 1, minute 40
    assert "Vital signs during session 3: not recorded" in text(sessions)
    assert sessions.count("data:image/png;base64,") == len(w.record.sessions)
    # question 1 is about the sessions: that part is highlighted and named
    assert "kd-current" in w.parts["sessions"]._dom_classes
    assert "Question 1 is about this part" in w.markers["sessions"].value
    assert w.card.question["about"] == [
        {"anchor": "kd-chart-sessions", "title": "Treatment sessions"}
    ]
    assert "kd-current" not in w.parts["trials"]._dom_classes


def test_figures_are_drawn_once_the_page_is_up():
    w = walkthrough("tr-011", store=None, figures="background")
    assert "being drawn" in w.contents["sessions"].value and not w.figures_ready.is_set()
    w.card.rendered = 1  # what the page sends once the card is on screen
    assert w.figures_ready.wait(60)
    assert w.contents["sessions"].value.count("data:image/png;base64,") == 4


@pytest.mark.parametrize("case_id", CURATED)
def test_the_chart_gives_no_conclusion_away(case_id):
    """Nothing in the chart is a rule's output: no badge, no status, no reason text."""
    w = walkthrough(case_id, store=None)
    chart = "".join(c.value for c in w.contents.values()) + w.chart_head.value
    assert "kd-badge" not in chart and "kd-check" not in chart
    a = assess(w.record)
    messages = [r.message for r in a.trd.reasons]
    for mod in a.modalities.values():
        messages += [r.message for r in mod.reasons]
    for s in a.sessions:
        for rs in s.details.values():
            messages += [r.message for r in rs]
    plain = text(chart)
    for m in messages:
        assert m not in plain
    for q in w.questions:
        assert q.rationale not in plain
    # the recorded data and the case title name no conclusion (the vignette is the author's prose)
    data = text(
        "".join(c.value for k, c in w.contents.items() if k != "presentation")
        + (w.record.title or "")
    )
    for word in (
        "contraindicat",
        "not recommended",
        "HAPPENED",
        "not met",
        "FINDING",
        "adequate trial",
    ):
        assert word not in data, word


def test_the_session_figure_in_the_chart_has_no_thresholds_or_findings():
    from matplotlib.text import Text

    from kdsupport.render.plots import session_vitals_figure

    record = load_case_by_id("tr-029")  # SpO2 88 and MOAA/S 0
    s = record.sessions[-1]
    marked = session_vitals_figure(record, s)
    plain = session_vitals_figure(record, s, marked=False)
    words = lambda fig: " ".join(t.get_text() for t in fig.findobj(Text))  # noqa: E731
    assert "FINDING" in words(marked) and "desaturation" in words(marked)
    assert "FINDING" not in words(plain) and "desaturation" not in words(plain)
    assert "guide" not in words(plain) and "severe" not in words(plain)


# ---------------------------------------------------------------- scoring, home, claims
def test_home_page_and_walkthrough_count_the_same_first_answers(store):
    w = walkthrough("tr-001", trainee_id="t9", store=store)
    w.submit(wrong_answer(w.question))
    w.card.next_request = {"n": 1}
    w.card.restart_request = {"n": 1}
    w.submit(right_answer(w.question))  # practice: the first (wrong) answer counts
    home = build_course_home(trainee_id="t9", store=store)
    row = re.search(
        r"tr-001</a></th><td>[^<]*</td><td>(\d+) of (\d+)</td><td>(\d+)</td>", home.progress.value
    )
    assert row and row.group(1) == "1" and row.group(3) == "0"
    assert "0 of 1 first answers correct" in w.score.value
    assert "first answer to each question is your score" in home.progress.value
    home.trainee.value = ""
    home.show_button.click()
    assert "Enter your trainee ID" in home.progress.value


@pytest.mark.parametrize("trainee", ["a&b", "x#1", "t?=1", "ü ñ", "<b>"])
def test_the_trainee_id_travels_url_encoded_in_every_course_link(store, trainee):
    from urllib.parse import parse_qs, urlsplit

    from kdsupport.widgets.course import COURSE, course_nav_html

    w = walkthrough("tr-001", trainee_id=trainee, store=store)
    w.submit(right_answer(w.question))
    home = build_course_home(trainee_id=trainee, store=store)
    nav = course_nav_html("01_trd_and_adequate_trials", trainee)
    for html in (home.course.value, home.progress.value, nav):
        hrefs = [unescape(h) for h in re.findall(r"href='([^']*)'", html)]
        assert hrefs
        for href in hrefs:
            assert parse_qs(urlsplit(href).query)["trainee"] == [trainee], href
    assert nav.count("href=") == len(COURSE) - 1 and "aria-current='page'" in nav
    home.trainee.value = "new one"
    assert "trainee=new+one" in home.course.value


def test_claims_need_a_trainee_id_and_an_answer(store):
    quiz = build_claim_quiz(trainee_id="", store=store)
    claim_id, card = next(iter(quiz.cards.items()))
    quiz.submit(claim_id, "accurate")
    assert "Enter your trainee ID" in card.notice and card.phase == "question"
    assert store.attempts() == []
    quiz.trainee.value = "t1"
    quiz.submit(claim_id, None)
    assert "Choose a verdict first" in card.notice and store.attempts() == []
    quiz.submit(claim_id, "accurate")
    assert card.phase == "answered" and "Not quite" in card.feedback_html
    assert "Zarate" in card.feedback_html and card.focus["target"] == "feedback"
    (a,) = store.attempts()
    assert a.question_id == claim_id and a.case_id == "claims" and a.trainee_id == "t1"
    assert card.question["counter"].startswith("Claim 1 of") and card.show_next is False


def test_dashboard_tables_and_figures_use_first_answers(store, tmp_path):
    from kdsupport.training.attempts import Attempt
    from kdsupport.widgets import build_instructor_dashboard
    from kdsupport.widgets.dashboard import dashboard_tables

    def att(trainee, q, correct, t):
        return Attempt(trainee, "tr-001", q, "x", correct, t, "kb", "0")

    store.record(att("a", "q1", False, "2026-01-01T00:00:00+00:00"))
    store.record(att("a", "q1", True, "2026-01-01T00:01:00+00:00"))  # practice
    store.record(att("b", "q1", True, "2026-01-01T00:00:30+00:00"))
    t = dashboard_tables(store.attempts())
    row = t["by_question"].iloc[0]
    assert (row["trainees"], row["first answers correct"], row["percent correct"]) == (2, 1, 50.0)
    a_row = t["by_trainee"].set_index("trainee").loc["a"]
    assert (a_row["questions answered"], a_row["first answers correct"]) == (1, 0)
    d = build_instructor_dashboard(store=store, export_dir=str(tmp_path / "exports"))
    assert "1 of 2 first answers correct (50 %)" in d.summary.value
    assert "First answers by trainee" in d.summary.value
    assert "first answer to each question is your score" in d.summary.value


def test_default_attempt_log_is_shared_by_the_app_and_lab(monkeypatch):
    from kdsupport.app import ROOT
    from kdsupport.training.attempts import default_store_path

    monkeypatch.delenv("KDSUPPORT_ATTEMPTS", raising=False)
    assert default_store_path() == ROOT / "var" / "attempts.sqlite"
    monkeypatch.setenv("KDSUPPORT_ATTEMPTS", "/tmp/x.sqlite")
    assert str(default_store_path()) == "/tmp/x.sqlite"


# ---------------------------------------------------------------- plain words
_CODE = re.compile(r"\b[a-z][a-z0-9]*_[a-z0-9_]+\b|\[[a-z0-9_, ']+\]|\b(?:True|False)\b")


@pytest.mark.parametrize("case_id", CURATED)
def test_pages_show_words_not_code_names(case_id):
    """No snake_case code, Python repr or bare source id in anything a trainee reads."""
    from kdsupport.render import html as H
    from kdsupport.training.grading import grade

    record = load_case_by_id(case_id)
    a = assess(record)
    parts = [
        H.glance_html(a),
        H.trd_html(a),
        H.staging_html(a),
        H.modalities_html(a),
        H.predose_html(a),
        H.suicide_html(a),
        *(H.session_checks_html(a, i) for i in range(len(a.sessions))),
        *(section_html(record, s) for s in SECTIONS),
    ]
    for q in record.teaching.questions:
        parts.append(feedback_html(q, grade(record, q, q.answer)))
    for html in parts:
        words = text(html)  # tags and their attributes (tooltips hold the ids) are dropped
        found = _CODE.findall(words)
        assert not found, (case_id, found[:5], words[:300])


def test_the_case_list_cache_follows_the_files(tmp_path, monkeypatch):
    """Listing cases reads a cache keyed by each file's size and time; an edit is seen."""
    import shutil

    from kdsupport.records.bundled import list_cases

    data = tmp_path / "data"
    (data / "cases").mkdir(parents=True)
    shutil.copy(CASES / "tr-001.yaml", data / "cases" / "tr-001.yaml")
    monkeypatch.setenv("KDSUPPORT_CACHE_DIR", str(tmp_path / "cache"))
    (first,) = list_cases(data)
    assert (tmp_path / "cache" / "case-index.json").is_file()
    assert list_cases(data) == [first]
    path = data / "cases" / "tr-001.yaml"
    path.write_text(path.read_text().replace(f"title: {first.title}", "title: Edited title"))
    (second,) = list_cases(data)
    assert second.title == "Edited title"
    (tmp_path / "cache" / "case-index.json").write_text("{not json")  # a damaged cache is ignored
    assert list_cases(data)[0].title == "Edited title"
    monkeypatch.setenv("KDSUPPORT_CACHE_DIR", "")  # off
    assert list_cases(data)[0].id == "tr-001"
