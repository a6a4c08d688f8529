"""Answer rules of the session day (kdsupport/records/answers.py), on the curated cases.

The expected answers are read off the case records by hand (data/synthetic/cases/tr-033 ...
tr-037), not from the code; docs/authoring.md §5 documents the rules.
"""

from __future__ import annotations

import copy

import pytest
import yaml
from conftest import CASES

from kdsupport.errors import InvalidInputError
from kdsupport.records.answers import (
    RULE_OPTIONS,
    answer_for,
    assess_kwargs,
    is_known_rule,
    session_rule_checks,
)
from kdsupport.records.case import load_case, validate_case
from kdsupport.rules.assess import assess
from kdsupport.training.grading import grade, reasons_for_rule


def _json(case_id: str, **opts):
    return assess(load_case(CASES / f"{case_id}.yaml"), **opts).to_json()


@pytest.fixture(scope="module")
def tr033():
    return _json("tr-033")


@pytest.fixture(scope="module")
def tr036():
    return _json("tr-036")


@pytest.fixture(scope="module")
def tr037():
    return _json("tr-037")


def test_check_status_gives_every_outcome_not_applicable_included(tr033, tr037):
    # session 1: no nasal spray taken; session 6: a decongestant 90 minutes before
    assert answer_for(tr033, "sessions[0].check_status.nasal_spray_timing") == "not_applicable"
    assert answer_for(tr033, "sessions[5].check_status.nasal_spray_timing") == "met"
    # session 9: 112 mg; session 4 of tr-037: no date and no indication
    assert answer_for(tr033, "sessions[8].check_status.dose_fits_schedule") == "not_met"
    assert answer_for(tr037, "sessions[3].check_status.dose_fits_schedule") == "unknown"
    # monitoring checks too
    assert answer_for(tr033, "sessions[8].check_status.bp_rise") == "met"


def test_a_check_the_session_does_not_run_is_refused(tr036):
    # an IV session has no dosing schedule and no nasal-spray preparation
    for rule in (
        "sessions[0].check_status.dose_fits_schedule",
        "sessions[0].allowed_doses",
        "sessions[9].check_status.predose_bp",
        "sessions[0].check_status.no_such_check",
    ):
        with pytest.raises(KeyError):
            answer_for(tr036, rule)
        assert not is_known_rule(rule, tr036)
    assert is_known_rule("sessions[2].check_status.infusion_bp_response", tr036)


def test_allowed_doses_are_text_smallest_first(tr033, tr037):
    assert answer_for(tr033, "sessions[0].allowed_doses") == ["56"]
    assert answer_for(tr033, "sessions[8].allowed_doses") == ["56", "84"]
    # no date, no indication: the place in the schedule cannot be told
    assert answer_for(tr037, "sessions[3].allowed_doses") == ["unknown"]
    # the EU table from 65 (tr-035: age 70), day 1 and after
    eu = _json("tr-035", jurisdiction="eu")
    assert answer_for(eu, "sessions[0].allowed_doses") == ["28"]
    assert answer_for(eu, "sessions[1].allowed_doses") == ["28", "56", "84"]


def test_not_applicable_and_problem_checks(tr033, tr037):
    assert answer_for(tr033, "sessions[0].not_applicable_checks") == ["nasal_spray_timing"]
    assert answer_for(tr033, "sessions[5].not_applicable_checks") == []
    # tr-037 session 3: coffee 15 min, decongestant 30 min, devices 3 min apart
    assert answer_for(tr037, "sessions[2].problem_checks") == [
        "fasting_liquid",
        "nasal_spray_timing",
        "rest_between_devices",
    ]
    # a finding that happened is a problem; unknown checks are not listed
    assert answer_for(tr033, "sessions[8].problem_checks") == [
        "bp_rise",
        "dose_fits_schedule",
        "rems_form_submitted",
    ]
    assert answer_for(tr037, "sessions[3].problem_checks") == []


def test_sessions_where_rules_skip_sessions_without_the_check(tr036):
    # IV sessions have no esketamine checks: not listed, no KeyError
    assert answer_for(tr036, "sessions.dose_off_schedule") == []
    assert answer_for(tr036, "sessions.rems_form_required") == []
    assert answer_for(tr036, "sessions.rems_form_incomplete") == []


def test_rems_form_rules():
    tr034 = _json("tr-034")
    assert answer_for(tr034, "sessions.rems_form_required") == ["4", "5", "6", "7", "8"]
    assert answer_for(tr034, "sessions[0].rems_form.required") == "no"
    tr037 = _json("tr-037")
    assert answer_for(tr037, "sessions.rems_form_incomplete") == ["4"]


def test_session_rule_checks_name_the_check_behind_the_answer():
    assert session_rule_checks("sessions.no_ride_home") == ("ride_home_arranged",)
    assert session_rule_checks("sessions[3].check_status.fasting_food") == ("fasting_food",)
    assert session_rule_checks("sessions[3].allowed_doses") == ("dose_fits_schedule",)
    assert "frequency_fits_schedule" in session_rule_checks("sessions[3].schedule.course_week")
    assert session_rule_checks("sessions[3].rems_form.missing_fields") == ("rems_form_submitted",)
    assert session_rule_checks("sessions[3].checks.observed_2h") == ("observed_2h",)
    assert "fasting_liquid" in session_rule_checks("sessions[2].problem_checks")


def test_rule_options_reach_the_assessment_and_are_validated():
    assert set(assess_kwargs({"jurisdiction": "eu"})) == set(RULE_OPTIONS)
    record = load_case(CASES / "tr-035.yaml")
    q1 = next(q for q in record.teaching.questions if q.id == "q1")
    assert q1.rule_options == {"jurisdiction": "eu"}
    assert grade(record, q1, "met").correct  # EU: 28 mg on day 1 at 70
    assert not grade(record, q1, "not_met").correct
    # without the option the same question is graded against the US table
    us = q1.model_copy(update={"rule_options": None})
    assert grade(record, us, "not_met").correct
    data = yaml.safe_load((CASES / "tr-035.yaml").read_text())
    for key, value, ok in (
        ("jurisdiction", "uk", False),
        ("infusion_bp", "predose_guide", True),
        ("infusion_bp", "whatever", False),
        ("severe", "acc_aha_2017", False),
    ):
        bad = copy.deepcopy(data)
        bad["teaching"]["questions"][0]["rule_options"] = {key: value}
        if ok:
            validate_case(bad)
            continue
        with pytest.raises(InvalidInputError, match="rule_options"):
            validate_case(bad)


def test_feedback_gives_the_reason_a_check_does_not_apply():
    record = load_case(CASES / "tr-033.yaml")
    a = assess(record)
    reasons = reasons_for_rule(a, "sessions[0].check_status.nasal_spray_timing")
    assert [r.code for r in reasons] == ["session.nasal_spray_timing.not_applicable"]
    reasons = reasons_for_rule(a, "sessions[8].allowed_doses")
    assert [r.code for r in reasons] == ["session.dose_fits_schedule.not_met"]
