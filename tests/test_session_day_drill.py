"""Notebook 09's session-day drill built headless: the steps, the grading against the record and
the rules, "not recorded" answers, the REMS form field by field, the attempt log, and the answer
key kept out of every widget's state until Check.

The records are written here (expectations derived by hand from them and the label's table in
knowledge/session_day.yaml); the curated cases are worked end to end at the bottom.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import re

import pytest
import yaml
from ipywidgets.embed import dependency_state

from kdsupport.knowledge import load
from kdsupport.records.bundled import load_case_by_id
from kdsupport.render.escaping import find_active_markup
from kdsupport.rules.assess import assess
from kdsupport.rules.rems_form import fill_rems_form
from kdsupport.training.attempts import SQLiteAttemptStore
from kdsupport.widgets.session_day import build_session_day_drill, session_day_cases
from kdsupport.widgets.session_day_chart import (
    STAGES,
    counselling_html,
    schedule_tables_html,
    session_sheet_html,
)
from kdsupport.widgets.session_day_fields import NOT_RECORDED
from kdsupport.widgets.session_day_form import key_parts

KB = load()
DAY1 = dt.date(2026, 3, 2)  # a Monday
NO_DRUGS = {
    "benzodiazepine": False,
    "non_benzodiazepine_hypnotic": False,
    "psychostimulant": False,
    "maoi": False,
}


def _iso(day: int) -> str:
    return (DAY1 + dt.timedelta(days=day)).isoformat()


def esk(number, day, dose, **extra):
    """An outpatient esketamine session with every session-day field recorded, unless changed."""
    s = {
        "number": number,
        "modality": "esketamine_nasal",
        "dose_mg": dose,
        "devices": int(dose // 28),
        "date": _iso(day),
        "setting": "outpatient",
        "indication": "trd",
        "device_lot": "LOT-1",
        "minutes_between_devices": 5,
        "concomitant": dict(NO_DRUGS),
        "fasting_food_hours": 3,
        "fasting_liquid_minutes": 45,
        "nasal_steroid_or_decongestant_minutes_before": "not_used",
        "prescriber_on_site": True,
        "monitored_by": "RN Example",
        "ride_home_arranged": True,
        "ready_to_leave_minute": 100,
        "rems_form_submitted_date": _iso(day + 2),
        "vitals": [
            {"minute": 0, "systolic_mmhg": 124, "diastolic_mmhg": 78, "spo2_percent": 98},
            {"minute": 40, "systolic_mmhg": 150, "diastolic_mmhg": 88, "spo2_percent": 97},
            {"minute": 110, "systolic_mmhg": 128, "diastolic_mmhg": 80, "spo2_percent": 98},
        ],
        "moaas": [{"minute": 40, "score": 4}, {"minute": 120, "score": 5}],
        "cadss_total": 12,
        "observation_minutes": 120,
        "dissociation_resolved": True,
        "adverse_events": ["nausea"],
    }
    s.update(extra)
    return {k: v for k, v in s.items() if v is not None}


def record(case_id, sessions, age=46, title=None):
    return {
        "format": "kdsupport-case/1",
        "id": case_id,
        "synthetic": True,
        "title": title or f"drill test {case_id}",
        "patient": {"age_years": age, "sex": "male"},
        "sessions": sessions,
    }


# Twice weekly for four weeks, then session 9 on day 28 (week 5): 112 mg, four devices. A drink
# 20 minutes before, no lot number and no ride home recorded; BP 172/98 at 40 minutes.
WRONG_DOSE = [esk(1, 0, 56)] + [esk(i + 2, d, 84) for i, d in enumerate([3, 7, 10, 14, 17, 21, 24])]
WRONG_DOSE.append(
    esk(
        9,
        28,
        112,
        fasting_liquid_minutes=20,
        device_lot=None,
        ride_home_arranged=None,
        adverse_events=["nausea", "vomiting"],
        vitals=[
            {"minute": 0, "systolic_mmhg": 124, "diastolic_mmhg": 78, "spo2_percent": 98},
            {"minute": 40, "systolic_mmhg": 172, "diastolic_mmhg": 98, "spo2_percent": 97},
            {"minute": 110, "systolic_mmhg": 128, "diastolic_mmhg": 80, "spo2_percent": 98},
        ],
    )
)
IV = [
    {
        "number": 1,
        "modality": "iv_ketamine",
        "dose_mg_per_kg": 0.5,
        "infusion_minutes": 40,
        "date": _iso(0),
        "setting": "outpatient",
        "vitals": [
            {"minute": 0, "systolic_mmhg": 128, "diastolic_mmhg": 80, "spo2_percent": 98},
            {"minute": 30, "systolic_mmhg": 186, "diastolic_mmhg": 104, "spo2_percent": 97},
            {"minute": 110, "systolic_mmhg": 130, "diastolic_mmhg": 82, "spo2_percent": 98},
        ],
        "moaas": [{"minute": 30, "score": 4}, {"minute": 120, "score": 5}],
        "cadss_total": 10,
        "observation_minutes": 120,
        "dissociation_resolved": True,
        "adverse_events": [],
        "infusion_paused_or_slowed": {"minute": 30, "action": "paused", "reason": "BP climbed"},
    }
]
AGED_70 = [esk(1, 0, 28), esk(2, 3, 28)]

# The right answers to session 9 of WRONG_DOSE, derived by hand.
RIGHT = {
    "preparation": {
        "predose_tier": "ok",  # 124/78
        "fasting_food": "met",  # 3 h >= 2 h
        "fasting_liquid": "not_met",  # 20 min < 30 min
        "nasal_spray_timing": "not_applicable",  # none taken
        "prescriber_on_site": "met",
        "concomitant_interacting": "not_met",  # all four recorded as not taken
    },
    "dose": {
        "phase": "maintenance_weekly",  # day 28 = week 5
        "allowed_doses": ["56", "84"],
        "dose_fits_schedule": "not_met",  # 112 mg
        "frequency_fits_schedule": "met",  # the only session of week 5
        "rest_between_devices": "met",  # 5 min
    },
    "monitoring": {
        "bp_rechecked": "met",  # minute 40
        "bp_rise": "met",  # 172 - 124 = 48 >= 40
        "bp_severe": "not_met",  # 172/98 is not above 180/120
        "deep_sedation": "not_met",  # lowest MOAA/S 4
        "desaturation": "not_met",  # lowest SpO2 97
        "action": "review",
    },
    "discharge": {
        "observed_2h": "met",
        "bp_acceptable_at_discharge": "met",  # 128/80 at minute 110
        "sedation_resolved": "met",  # last MOAA/S 5
        "dissociation_resolved": "met",
        "ready_before_discharge": "met",  # 120 >= 100
        "ride_home_arranged": "unknown",  # not recorded
        "discharge": "unknown",  # so the decision cannot be made
        "driving": "next_day",
    },
    "rems_form": {
        "concomitant_benzodiazepine": "No",
        "concomitant_non_benzodiazepine_hypnotic": "No",
        "concomitant_psychostimulant": "No",
        "concomitant_maoi": "No",
        "monitored_by": "rn example",
        "setting": "outpatient",
        "treatment_date": "2026-03-30",
        "dose": "other",
        "dose_other": "112",
        "device_lot": "not recorded",
        "monitoring_minutes": "120",
        "ready_to_leave": "100",
        "vitals_acceptable_before": "Yes",
        "vitals_acceptable_before_completion": "Yes",
        "bp_before": "124/78",
        "bp_40_minutes": "172 / 98",
        "bp_before_completion": "128/80",
        "sedation_lowest": "4",
        "sedation_last": "5",
        "dissociation_cadss": "12",
        "dissociation_resolved": "Yes",
        "respiratory_depression": "97",
        "adverse_events": "Vomiting, nausea",
        "form_status": "incomplete",  # the lot number is required
    },
}


@pytest.fixture
def data(tmp_path):
    cases = tmp_path / "cases"
    cases.mkdir()
    for rec in (
        record("sd-course", WRONG_DOSE, title="An induction course and a wrong dose"),
        record("sd-iv", IV, age=40),
        record("sd-aged", AGED_70, age=70),
        record("sd-plain", [{"number": 1, "modality": "esketamine_nasal", "dose_mg": 56}]),
    ):
        (cases / f"{rec['id']}.yaml").write_text(yaml.safe_dump(rec, sort_keys=False))
    return tmp_path


@pytest.fixture
def store(tmp_path):
    return SQLiteAttemptStore(tmp_path / "attempts.sqlite")


def drill(data, case="sd-course", session=9, store=None, trainee="t-1", **kw):
    return build_session_day_drill(
        case, session=session, trainee_id=trainee, store=store, data_dir=data, **kw
    )


def text(markup: str) -> str:
    """The words of some HTML, as a reader gets them."""
    words = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", markup)).split())
    return re.sub(r" ([:;,.)])", r"\1", words)


def go_to(d, step_id):
    """Answer every step before ``step_id`` rightly and move on."""
    while d.step.id != step_id:
        d.submit(RIGHT[d.step.id])
        assert d.card.phase == "answered", d.card.notice
        d.card.next_request = {"n": d.step_index + 1}


def state_of(widget) -> str:
    """Every widget's synced state as the page receives it (serialized)."""
    return json.dumps(dependency_state(widget))


# ---------------------------------------------------------------- the case list and the steps
def test_the_picker_lists_only_cases_with_session_day_data(data):
    assert [c for c, _ in session_day_cases(data)] == ["sd-aged", "sd-course", "sd-iv"]
    d = drill(data)
    assert [v for _, v in d.case_picker.options] == ["sd-aged", "sd-course", "sd-iv"]
    assert d.session_picker.value == 9 and len(d.session_picker.options) == 9


def test_a_case_without_session_day_data_lists_the_cases_there_are(data):
    d = drill(data, case="sd-plain")
    assert "There is no session-day record for" in d.unknown.value
    assert "sd-course" in d.unknown.value and d.body.layout.display == "none"


def test_an_esketamine_session_has_five_steps_an_iv_session_three(data):
    assert [s.id for s in drill(data).steps] == [
        "preparation",
        "dose",
        "monitoring",
        "discharge",
        "rems_form",
    ]
    iv = drill(data, case="sd-iv", session="1")  # a URL gives the session as text
    assert [s.id for s in iv.steps] == ["preparation", "monitoring", "discharge"]
    assert [f["id"] for f in iv.card.step["fields"]] == ["predose_tier"]


def test_every_field_has_a_label_and_every_choice_options(data):
    d = drill(data)
    for step in d.steps:
        for f in step.fields:
            assert f.label.strip()
            if f.kind != "text":
                assert len(f.options) >= 2 and all(w.strip() for _, w in f.options)


def test_the_fields_never_depend_on_the_answers(data):
    """Two sessions whose answers differ are asked the same questions with the same choices."""
    a, b = drill(data, session=1).steps, drill(data, session=9).steps
    assert [[f.to_json() for f in s.fields] for s in a] == [
        [f.to_json() for f in s.fields] for s in b
    ]


# ---------------------------------------------------------------- grading
def test_the_right_answers_are_all_correct_and_reach_the_summary(data, store):
    d = drill(data, store=store)
    for k in range(5):
        d.submit(RIGHT[d.step.id])
        assert d.card.phase == "answered", d.card.notice
        assert all(d.card.results.values()), (d.step.id, text(d.card.feedback_html))
        assert "All " in d.card.feedback_html
        assert d.card.focus["target"] == "feedback"
        d.card.next_request = {"n": k + 1}
    assert d.card.phase == "summary" and d.card.focus["target"] == "summary"
    # 6 + 5 + 6 + 8 questions, then the form's 20 fields (dose, sedation and dissociation have
    # two controls each) and whether it can be submitted
    n = 46
    assert f"{n} of {n} correct" in d.card.summary_html
    log = store.attempts(trainee_id="t-1", case_id="session-day:sd-course")
    assert len(log) == n and all(a.correct for a in log)
    assert f"{n} of {n} first answers correct" in d.score.value


def test_a_wrong_dose_is_marked_wrong_with_the_reason_and_its_source(data):
    d = drill(data)
    go_to(d, "dose")
    d.submit({**RIGHT["dose"], "dose_fits_schedule": "met", "allowed_doses": ["28", "56", "84"]})
    assert d.card.results["dose_fits_schedule"] is False
    assert d.card.results["allowed_doses"] is False and d.card.results["phase"] is True
    fb = text(d.card.feedback_html)
    assert "Dose fits the label's schedule: ✗ not quite" in fb
    assert "112 mg is not in the schedule (56 mg or 84 mg); weeks 5-8" in fb
    assert "Spravato US label dosing" in fb and "(verified)" in fb
    assert "NOT done" in fb  # the check's result in its kind's words


def test_not_recorded_is_the_answer_where_the_record_does_not_say(data):
    d = drill(data)
    go_to(d, "discharge")
    d.submit({**RIGHT["discharge"], "ride_home_arranged": "not_met", "discharge": "not_yet"})
    assert d.card.results["ride_home_arranged"] is False and d.card.results["discharge"] is False
    fb = text(d.card.feedback_html)
    assert "not recorded whether a ride home was arranged" in fb
    assert "Cannot decide: a discharge condition is not recorded" in fb
    assert "No, " not in fb


def test_a_met_finding_is_shown_as_a_warning_never_as_a_pass(data):
    from kdsupport.render.html import SUCCESS

    d = drill(data)
    go_to(d, "monitoring")
    d.submit(RIGHT["monitoring"])
    html = d.card.feedback_html
    rise = html.split("Large BP rise after dosing")[1].split("</li>")[0]
    assert "HAPPENED" in rise and "&#9888;" in rise
    assert f"border:1px solid {SUCCESS}" not in rise


def test_the_jurisdiction_changes_the_dose_expected(data):
    d = drill(data, case="sd-aged", session=1)
    d.submit({f.id: _any(f) for f in d.step.fields})
    d.card.next_request = {"n": 1}
    d.submit(
        {**RIGHT["dose"], "phase": "day_1", "allowed_doses": ["28"], "dose_fits_schedule": "met"}
    )
    assert d.card.results["dose_fits_schedule"] is False  # the US table starts at 56 mg
    d.jurisdiction.value = "eu"  # starts the session again
    assert d.step.id == "preparation" and d.card.phase == "question"
    d.submit({f.id: _any(f) for f in d.step.fields})
    d.card.next_request = {"n": 2}
    d.submit(
        {**RIGHT["dose"], "phase": "day_1", "allowed_doses": ["28"], "dose_fits_schedule": "met"}
    )
    assert d.card.results["dose_fits_schedule"] is True
    assert d.card.results["allowed_doses"] is True
    assert "aged 70" in text(d.card.feedback_html)


def test_a_case_asked_under_the_eu_table_opens_with_it(data):
    rec = record("sd-eu", AGED_70, age=70)
    rec["teaching"] = {
        "learning_objectives": ["the EU table"],
        "teaching_points": [],
        "questions": [
            {
                "id": "q1",
                "kind": "single",
                "prompt": "Does the first dose fit?",
                "options": [{"value": "met", "label": "Yes"}, {"value": "not_met", "label": "No"}],
                "answer_rule": "sessions[0].check_status.dose_fits_schedule",
                "rule_options": {"jurisdiction": "eu"},
                "answer": "met",
                "rationale": "28 mg from 65 under the EU table.",
            }
        ],
    }
    (data / "cases" / "sd-eu.yaml").write_text(yaml.safe_dump(rec))
    assert drill(data, case="sd-eu", session=1).jurisdiction.value == "eu"
    assert drill(data, case="sd-eu", session=1, jurisdiction="us").jurisdiction.value == "us"
    d = drill(data, case="sd-aged", session=1, jurisdiction="")
    assert d.jurisdiction.value == "us"  # no question names a table: the label default
    d.case_picker.value = "sd-eu"
    assert d.jurisdiction.value == "eu" and d.step.id == "preparation"


def test_an_iv_infusion_paused_for_bp_is_graded(data):
    d = drill(data, case="sd-iv", session=1)
    d.submit({"predose_tier": "ok"})
    assert d.card.results == {"predose_tier": True}
    d.card.next_request = {"n": 1}
    assert "infusion_bp_response" in [f.id for f in d.step.fields]
    d.submit(
        {
            "bp_rechecked": "met",
            "bp_rise": "met",
            "bp_severe": "met",
            "deep_sedation": "not_met",
            "desaturation": "not_met",
            "infusion_bp_response": "met",
            "action": "review",
        }
    )
    assert all(d.card.results.values()), text(d.card.feedback_html)
    assert "paused at minute 30 (BP climbed)" in text(d.card.feedback_html)


def _any(f):
    if f.optional:
        return ""
    if f.kind == "text":
        return "not recorded"
    return [f.options[0][0]] if f.kind == "multiple" else f.options[0][0]


# ---------------------------------------------------------------- the REMS form
def test_the_rems_form_is_graded_field_by_field(data):
    d = drill(data)
    go_to(d, "rems_form")
    wrong = {**RIGHT["rems_form"], "bp_40_minutes": "150/88", "device_lot": "LOT-1"}
    d.submit(wrong)
    res = d.card.results
    assert res["bp_40_minutes"] is False and res["device_lot"] is False
    assert [k for k, v in res.items() if not v] == ["device_lot", "bp_40_minutes"]
    fb = text(d.card.feedback_html)
    assert "172/98 mmHg at minute 40" in fb and "records a hazard" in fb
    assert "Lot number: ✗" in fb
    assert "not recorded on the chart: the form cannot be submitted without it" in fb
    assert "Not yet: required fields are not recorded" in fb and "due by 2026-04-06" in fb


@pytest.mark.parametrize(
    "field, entry, ok",
    [
        ("dose", {"dose": "84", "dose_other": ""}, False),
        ("dose", {"dose": "other", "dose_other": "84"}, False),
        ("adverse_events", {"adverse_events": "nausea"}, False),
        ("adverse_events", {"adverse_events": "nausea; vomiting"}, True),
        ("monitored_by", {"monitored_by": "  rn   EXAMPLE "}, True),
        ("sedation", {"sedation_lowest": "5"}, False),
        ("respiratory_depression", {"respiratory_depression": "not recorded"}, False),
    ],
)
def test_form_entries_are_compared_by_their_meaning(data, field, entry, ok):
    d = drill(data)
    go_to(d, "rems_form")
    d.submit({**RIGHT["rems_form"], **entry})
    marks = {k: v for k, v in d.card.results.items() if k in entry}
    assert all(v is ok for v in marks.values()), (marks, text(d.card.feedback_html))


@pytest.mark.parametrize(
    "change, field, want",
    [
        ({"cadss_total": None}, "dissociation", {"dissociation_cadss": NOT_RECORDED}),
        ({"dissociation_resolved": False}, "dissociation", {"dissociation_resolved": "No"}),
        ({"dissociation_resolved": None}, "dissociation", {"dissociation_resolved": NOT_RECORDED}),
        ({"dose_mg": 84, "devices": 3}, "dose", {"dose": "84", "dose_other": ""}),
        ({"adverse_events": []}, "adverse_events", {"adverse_events": frozenset()}),
        ({"moaas": None}, "sedation", {"sedation_lowest": NOT_RECORDED}),
        ({"vitals": None}, "bp_40_minutes", {"bp_40_minutes": NOT_RECORDED}),
    ],
)
def test_the_keys_answers_are_read_in_the_form_the_trainee_enters(change, field, want):
    from kdsupport.records.case import validate_case

    rec = validate_case(record("k", [esk(1, 0, 56, **change)]))
    form = fill_rems_form(rec, 0, assess(rec).sessions[0].checks, KB)
    answer = next(a.answer for a in form.answers if a.id == field)
    parts = key_parts(field, answer)
    assert {k: parts[k] for k in want} == want, answer


def test_an_unreadable_entry_is_refused_not_graded(data, store):
    d = drill(data, store=store)
    go_to(d, "rems_form")
    n = len(store.attempts())
    d.submit({**RIGHT["rems_form"], "bp_before": "high"})
    assert d.card.phase == "question" and d.card.feedback_html == ""
    assert "Before administration: enter systolic/diastolic" in d.card.notice
    assert d.card.focus == {"target": "field", "field": "bp_before", "n": d.card.focus["n"]}
    assert len(store.attempts()) == n


# ---------------------------------------------------------------- the key never reaches the page
def test_the_answer_key_is_absent_from_the_widget_state_before_check(data):
    d = drill(data)
    rec = load_case_by_id("sd-course", data)
    a = assess(rec)
    form = fill_rems_form(rec, 8, a.sessions[8].checks, KB)
    # the answers the form derives (the dose's box, readings picked from a window, summaries of
    # the scores): a recorded value on its own, like a lot number, is on the chart by design
    derived_ids = {"dose", "bp_before", "bp_40_minutes", "bp_before_completion", "sedation"}
    derived_ids |= {"dissociation", "respiratory_depression"}
    derived = [x.answer for x in form.answers if x.answer and x.id in derived_ids]
    assert "Other: 112 mg" in derived and len(derived) == 7
    for _ in range(5):
        state = state_of(d)
        assert d.card.feedback_html == "" and d.card.results == {}
        for key in derived:
            assert key not in state, key
        # the choices are the same for every session; nothing else names an answer
        for word in ("expected", "answer_key", "HAPPENED", "records a hazard"):
            assert word not in state, word
        d.submit(RIGHT[d.step.id])
        if d.step.id == "rems_form":
            after = state_of(d)
            assert "Other: 112 mg" in after and "172/98 mmHg at minute 40" in after
        d.card.next_request = {"n": d.step_index + 1}


def test_the_chart_reveals_the_session_step_by_step_and_concludes_nothing(data):
    rec = load_case_by_id("sd-course", data)
    stages = [text(session_sheet_html(rec, 8, k, KB)) for k in STAGES]
    assert "124" in stages[0] and "172" not in stages[0]  # only the pre-dose reading at first
    assert "112 mg" not in stages[0] and "112 mg" in stages[1]
    assert "172" in stages[2] and "Observation time" not in stages[2]
    assert "Observation time" in stages[3] and "Device lot number" not in stages[3]
    assert "Device lot number not recorded" in stages[4]
    for s in stages:
        for word in ("not met", "NOT done", "HAPPENED", "hazard", "within the guide"):
            assert word not in s


def test_every_text_is_escaped(data, tmp_path):
    hostile = "<script>alert(1)</script><img src=x onerror=alert(2)>"
    rec = record("sd-hostile", [esk(1, 0, 56, monitored_by=hostile, adverse_events=[hostile])])
    rec["title"] = hostile
    (data / "cases" / "sd-hostile.yaml").write_text(yaml.safe_dump(rec))
    d = drill(data, case="sd-hostile", session=1)
    assert not find_active_markup(d.chart.value)
    go_to(d, "rems_form")
    assert not find_active_markup(d.chart.value)
    d.submit({**RIGHT["rems_form"], "monitored_by": hostile, "adverse_events": hostile})
    assert d.card.phase == "answered"
    assert not find_active_markup(d.card.feedback_html)
    assert "&lt;script&gt;" in d.card.feedback_html


# ---------------------------------------------------------------- the attempt log
def test_an_incomplete_step_is_never_graded_or_logged(data, store):
    d = drill(data, store=store)
    d.submit({"predose_tier": "ok"})
    assert d.card.phase == "question" and d.card.feedback_html == ""
    assert "5 not answered" in d.card.notice and "Nothing was checked or recorded" in d.card.notice
    assert d.card.focus["target"] == "field" and d.card.focus["field"] == "fasting_food"
    d.submit({**RIGHT["preparation"], "predose_tier": "made up"})
    assert d.card.phase == "question"
    assert store.attempts() == []


def test_without_a_trainee_id_nothing_is_graded(data, store):
    d = drill(data, store=store, trainee="")
    d.submit(RIGHT["preparation"])
    assert d.card.phase == "question" and d.card.focus["target"] == "trainee"
    assert "Your trainee ID" in d.card.notice and store.attempts() == []


def test_working_a_session_again_is_practice(data, store):
    d = drill(data, store=store)
    d.submit({**RIGHT["preparation"], "fasting_liquid": "met"})
    assert "5 of 6 first answers correct" in d.score.value
    d.card.restart_request = {"n": 1}
    assert d.step.id == "preparation" and d.card.focus["target"] == "heading"
    d.submit(RIGHT["preparation"])
    assert "practice" in d.card.feedback_html
    assert "5 of 6 first answers correct" in d.score.value  # the first answer counts
    log = store.attempts(trainee_id="t-1")
    assert len(log) == 12
    assert {a.question_id for a in log} == {
        f"session-9.preparation.{k}" for k in RIGHT["preparation"]
    }
    # another session of the same case is scored on its own
    d.session_picker.value = 8
    assert "no answers yet" in d.score.value


def test_the_schedule_and_the_counselling_cite_their_sources():
    sched = text(schedule_tables_html(KB))
    assert "weeks 5-8: 56 or 84 mg once weekly" in sched and "28, 56 or 84 mg" in sched
    assert "verified" in sched
    counsel = text(counselling_html(KB))
    for c in KB.session_day.counselling:
        assert c.title in counsel
    assert "next day after a restful sleep" in counsel and "(verified)" in counsel
    assert "assumption, UNVERIFIED" in counsel  # the IV threshold is a site assumption


# ---------------------------------------------------------------- the curated cases
def test_every_recorded_form_answer_of_the_curated_cases_can_be_graded():
    from kdsupport.rules.session_day import session_day_recorded

    checked = 0
    for case, _ in session_day_cases():
        rec = load_case_by_id(case)
        a = assess(rec)
        for i, s in enumerate(rec.sessions or ()):
            if s.modality != "esketamine_nasal" or not session_day_recorded(s):
                continue
            for ans in fill_rems_form(rec, i, a.sessions[i].checks, KB).answers:
                if ans.id == "patient":
                    continue
                parts = key_parts(ans.id, ans.answer)
                if ans.answer is not None and ans.id != "dissociation":
                    assert NOT_RECORDED not in parts.values(), (case, s.number, ans)
                checked += 1
    assert checked or not session_day_cases()


def test_every_session_of_every_curated_session_day_case_reaches_the_summary():
    cases = session_day_cases()
    assert all(c != "tr-001" for c, _ in cases)
    for case, _ in cases:
        rec = load_case_by_id(case)
        d = build_session_day_drill(case, trainee_id="t", store=None)
        for number, _ in [(v, w) for w, v in d.session_picker.options]:
            d.session_picker.value = number
            for k in range(len(d.steps)):
                d.submit({f.id: _any(f) for f in d.step.fields})
                assert d.card.phase == "answered", (case, number, d.card.notice)
                d.card.next_request = {"n": k + 1}
            assert d.card.phase == "summary", (case, number)
        assert rec.id == case
