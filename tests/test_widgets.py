"""Widgets built headless: set values, click buttons, read the feedback and the attempt log."""

from __future__ import annotations

import csv

import ipywidgets as W
import pytest

from kdsupport.records.bundled import load_case_by_id
from kdsupport.training.attempts import SQLiteAttemptStore
from kdsupport.widgets import (
    build_instructor_dashboard,
    build_safety_explorer,
    build_session_monitor,
    build_staging_comparison,
    build_trial_history_builder,
)


@pytest.fixture
def store(tmp_path):
    return SQLiteAttemptStore(tmp_path / "attempts.sqlite")


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
