"""Widgets built headless: set values, click buttons, read the feedback and the attempt log."""

from __future__ import annotations

import csv

import ipywidgets as W
import pytest

from kdsupport.data import load_case_by_id
from kdsupport.training.attempts import SQLiteAttemptStore
from kdsupport.widgets import (
    build_case_walkthrough,
    build_claim_quiz,
    build_course_home,
    build_instructor_dashboard,
    build_safety_explorer,
    build_session_monitor,
    build_staging_comparison,
    build_trial_history_builder,
)


@pytest.fixture
def store(tmp_path):
    return SQLiteAttemptStore(tmp_path / "attempts.sqlite")


def answer(w, value):
    q = w.question
    if q.kind == "single":
        w.answer_widget.value = value
    elif q.kind == "multiple":
        for o, box in zip(q.options, w.answer_widget, strict=True):
            box.value = o.value in value
    else:
        w.answer_widget.value = str(value)


def wrong_answer(q):
    if q.kind == "single":
        return next(o.value for o in q.options if o.value != q.answer)
    if q.kind == "multiple":
        return [o.value for o in q.options if o.value not in q.answer][:1] or []
    return q.answer + 1


def test_walkthrough_wrong_then_right_is_graded_logged_and_scored(store):
    w = build_case_walkthrough("tr-001", trainee_id="nurse-01", store=store)
    assert w.progress.value.startswith("<b>Question 1 of")
    q1 = w.question
    answer(w, wrong_answer(q1))
    w.check_button.click()
    assert "Not quite" in w.feedback.value and "Answer from the rules" in w.feedback.value
    assert "Sources" in w.feedback.value and w.next_button.disabled is False
    assert w.check_button.disabled is True
    w.next_button.click()
    q2 = w.question
    answer(w, q2.answer)
    w.check_button.click()
    assert "Correct" in w.feedback.value
    assert "Score: 1 of 2 answered correctly" in w.score.value
    log = store.attempts(trainee_id="nurse-01")
    assert [(a.question_id, a.correct) for a in log] == [(q1.id, False), (q2.id, True)]
    assert all(a.case_id == "tr-001" and a.kb_version for a in log)


def test_no_answer_and_no_trainee_are_not_logged(store):
    w = build_case_walkthrough("tr-002", trainee_id="", store=store)
    w.check_button.click()
    assert (
        "Choose an answer first" in w.feedback.value or "Enter a number first" in w.feedback.value
    )
    answer(w, w.question.answer)
    w.check_button.click()
    assert "trainee ID" in w.feedback.value
    assert store.attempts() == []


@pytest.mark.parametrize("case_id", ["tr-004", "tr-011", "tr-019"])
def test_walkthrough_to_the_summary(store, case_id):
    w = build_case_walkthrough(case_id, trainee_id="res-02", store=store)
    n = len(w.questions)
    for _ in range(n):
        answer(w, w.question.answer)
        w.check_button.click()
        assert "Correct" in w.feedback.value, w.question.id
        w.next_button.click()
    assert f"Summary: {n} of {n} correct" in w.summary.value
    assert "The assessment at a glance" in w.summary.value
    assert len(store.attempts(case_id=case_id)) == n


def test_answer_key_is_not_in_the_page_before_answering():
    w = build_case_walkthrough("tr-001", store=None)
    q = w.question
    visible = w.prompt.value + w.feedback.value + w.summary.value
    assert q.rationale not in visible


def test_switching_case_resets_the_walkthrough(store):
    w = build_case_walkthrough("tr-001", trainee_id="x", store=store)
    answer(w, w.question.answer)
    w.check_button.click()
    w.case_picker.value = "tr-005"
    assert w.record.id == "tr-005" and w.index == 0 and w.answered == [] and w.feedback.value == ""


def test_every_control_has_a_label():
    w = build_case_walkthrough("tr-001", store=None)
    for widget in (w.case_picker, w.trainee, w.check_button, w.next_button):
        assert getattr(widget, "description", "")
    assert w.answer_widget.description == "Answer"


def test_course_home_shows_progress(store):
    w = build_case_walkthrough("tr-001", trainee_id="t9", store=store)
    answer(w, w.question.answer)
    w.check_button.click()
    home = build_course_home(trainee_id="t9", store=store)
    assert "05_case_walkthrough.ipynb?case_id=tr-001" in home.progress.value
    assert "in progress" in home.progress.value
    home.trainee.value = ""
    home.show_button.click()
    assert "Enter your trainee ID" in home.progress.value


def test_trial_builder_verdict_follows_edits():
    b = build_trial_history_builder("tr-002")
    assert "not met" in b.verdict.value
    b.definition.value = "eupearl2022"
    assert ">met</span>" in b.verdict.value
    b.definition.value = "label_atrq"
    b.rows[1].weeks.value = ""  # citalopram weeks not recorded -> unknown
    assert ">unknown</span>" in b.verdict.value
    b.rows[0].dose.value = "abc"
    assert "is not a number" in b.verdict.value
    n = len(b.rows)
    b.add_button.click()
    assert len(b.rows) == n + 1
    b.rows[-1].remove.click()
    assert len(b.rows) == n


def test_staging_comparison():
    s = build_staging_comparison("tr-005")
    assert "Stage V" in s.result.value and "Maudsley" in s.result.value


def test_safety_explorer_recomputes_statuses():
    x = build_safety_explorer("tr-006")
    assert "contraindicated" in x.screening_result.value
    x.items["aneurysmal_vascular_disease"].value = False
    assert "contraindicated" not in x.screening_result.value
    x.items["cns_depressant_use"].value = None
    assert "incomplete" in x.screening_result.value
    x.systolic.value = "150"
    assert "consider delay" in x.bp_result.value
    x.answers["active_thoughts"].value = True
    x.answers["plan"].value = True
    assert "urgent evaluation" in x.cssrs_result.value


def test_session_monitor_plots_and_checks():
    m = build_session_monitor("tr-011", session=2)
    assert m.figure.value.count("data:image/png;base64,") == 1
    assert "Session 2" in m.checks.value and "NOT done" in m.checks.value
    assert "Observed for at least 2 hours" in m.checks.value  # titles from the knowledge base
    m.session_picker.value = 3
    assert "no vitals recorded" in m.checks.value


def test_claim_quiz_logs_and_explains(store):
    quiz = build_claim_quiz(trainee_id="t1", store=store)
    claim_id, choice, button, feedback = quiz.claims[0]
    choice.value = "accurate"
    button.click()
    assert "Not quite" in feedback.value and "Zarate" in feedback.value
    assert store.attempts()[0].question_id == claim_id and store.attempts()[0].case_id == "claims"


def test_dashboard_tables_figures_and_export(store, tmp_path):
    from kdsupport.training.demo import add_demo_attempts

    assert add_demo_attempts(store, 0) == 0
    added = add_demo_attempts(store, 3, seed=1)
    d = build_instructor_dashboard(store=store, export_dir=str(tmp_path / "exports"))
    assert f"<b>{added}</b> answers from <b>3</b> trainee(s)" in d.summary.value
    assert "Hardest questions" in d.summary.value
    d.export_button.click()
    (written,) = (tmp_path / "exports").glob("attempts-*.csv")
    rows = list(csv.DictReader(written.open()))
    assert len(rows) == added and "Exported" in d.status.value
    assert "download=" in d.status.value and "data:text/csv" in d.status.value
    d.export_button.click()  # a second export is a new file, never an overwrite
    assert len(list((tmp_path / "exports").glob("attempts-*.csv"))) == 2


def test_builders_return_widgets_and_do_not_display():
    for widget in (build_staging_comparison("tr-001"), build_trial_history_builder(None)):
        assert isinstance(widget, W.Widget)
    assert load_case_by_id("tr-001").teaching is not None


def test_the_support_person_control_reads_as_the_record_does():
    # tr-024 records support_person_available: true. The control must say "available" and show
    # "yes"; choosing "no" (no support person) is what makes at-home ketamine contraindicated.
    x = build_safety_explorer("tr-024")
    control = x.items["support_person_available"]
    assert control.description == "Support person available for at-home dosing"
    assert control.value is True and dict((v, k) for k, v in control.options)[True] == "yes"
    assert "at_home_ketamine" not in _contraindicated(x)
    control.value = False
    assert "No support person available for at-home dosing" in x.screening_result.value
    assert "contraindicated" in x.screening_result.value


def _contraindicated(x):
    html = x.screening_result.value
    return {m for m in ("at_home_ketamine",) if "At-home" in html and "kd-contraindicated" in html}


def test_every_screening_control_is_labelled_by_its_record_field(kb):
    x = build_safety_explorer("tr-001")
    for item in kb.screening.items.values():
        head, _, field = item.field.partition(".")
        if head != "screening":
            continue
        want = item.field_label or item.label
        assert x.items[field].description == want
        if item.present_when is False:  # the item is the negation of the field
            assert x.items[field].description != item.label
