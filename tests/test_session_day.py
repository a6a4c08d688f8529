"""The session day (docs/case-record.md §2.9, §3.8, §3.9): dosing schedule, preparation, REMS,
IV infusion, and the REMS form. Expectations are derived by hand from the label's table
(knowledge/session_day.yaml), not from the code."""

from __future__ import annotations

import copy
import datetime as dt

import pytest

from kdsupport.errors import InvalidInputError
from kdsupport.knowledge import load
from kdsupport.records.case import validate_case
from kdsupport.rules.assess import assess
from kdsupport.rules.rems_form import fill_rems_form

KB = load()

BASE = {
    "format": "kdsupport-case/1",
    "id": "sd-test",
    "synthetic": True,
    "title": "session-day test",
    "patient": {"age_years": 45},
}
DAY1 = dt.date(2026, 1, 5)  # a Monday


def esk(number, day, dose, **extra):
    """An esketamine session ``day`` days after day 1."""
    return {
        "number": number,
        "modality": "esketamine_nasal",
        "dose_mg": dose,
        "date": (DAY1 + dt.timedelta(days=day)).isoformat(),
        **extra,
    }


def record(sessions, age=45, **top):
    data = copy.deepcopy(BASE)
    data["patient"]["age_years"] = age
    data["sessions"] = sessions
    data.update(top)
    return validate_case(data)


def session(rec, n, **opts):
    return assess(rec, **opts).to_json()["sessions"][n]


def check(rec, n, name, **opts):
    return session(rec, n, **opts)["checks"].get(name)


# An 8-week TRD course by the US table: day 1 56 mg, twice weekly to week 4 (days 0,3,7,10,
# 14,17,21,24), then weekly in weeks 5-8 (days 28,35,42,49).
TRD_DAYS = [0, 3, 7, 10, 14, 17, 21, 24, 28, 35, 42, 49]


def trd_course(doses, days=TRD_DAYS, **extra):
    return [
        esk(i + 1, d, dose, indication="trd", **extra)
        for i, (d, dose) in enumerate(zip(days, doses, strict=False))
    ]


def test_a_course_by_the_us_table_fits_every_session():
    rec = record(trd_course([56] + [84] * 11))
    out = assess(rec).to_json()["sessions"]
    assert [s["checks"]["dose_fits_schedule"] for s in out] == ["met"] * 12
    assert [s["checks"]["frequency_fits_schedule"] for s in out] == ["met"] * 12
    weeks = [s["schedule"]["course_week"] for s in out]
    assert weeks == [1, 1, 2, 2, 3, 3, 4, 4, 5, 6, 7, 8]
    phases = [s["schedule"]["phase"] for s in out]
    assert phases == ["day_1"] + ["induction"] * 7 + ["maintenance_weekly"] * 4


def test_day_one_must_be_56_mg_under_the_us_table():
    rec = record(trd_course([84, 84]))
    assert check(rec, 0, "dose_fits_schedule") == "not_met"
    assert check(rec, 1, "dose_fits_schedule") == "met"


@pytest.mark.parametrize(
    "dose, want", [(28, "not_met"), (56, "met"), (84, "met"), (112, "not_met")]
)
def test_doses_in_maintenance(dose, want):
    rec = record(trd_course([56] * 8 + [dose], days=TRD_DAYS[:9]))
    assert check(rec, 8, "dose_fits_schedule") == want


def test_two_sessions_in_a_maintenance_week_are_too_many():
    # week 5 is days 28-34: sessions on day 28 and day 31
    rec = record(trd_course([56] * 10, days=TRD_DAYS[:9] + [31]))
    assert check(rec, 8, "frequency_fits_schedule") == "met"
    assert check(rec, 9, "frequency_fits_schedule") == "not_met"


def test_three_sessions_in_an_induction_week_are_too_many():
    rec = record(trd_course([56] * 3, days=[0, 2, 4]))
    assert [check(rec, i, "frequency_fits_schedule") for i in range(3)] == ["met", "met", "not_met"]


def test_week_boundaries():
    # day 27 is week 4 (induction: twice weekly), day 28 is week 5
    rec = record(trd_course([56, 84, 84], days=[0, 27, 28]))
    out = assess(rec).to_json()["sessions"]
    assert [s["schedule"]["course_week"] for s in out] == [1, 4, 5]
    assert out[2]["schedule"]["phase"] == "maintenance_weekly"
    # week 9 onward: every 2 weeks or weekly
    rec = record(trd_course([56, 84, 84], days=[0, 55, 56]))
    assert assess(rec).to_json()["sessions"][2]["schedule"]["phase"] == "maintenance"


def test_eu_table_starts_at_28_mg_from_65():
    rec = record(trd_course([28, 28, 56]), age=70)
    assert [check(rec, i, "dose_fits_schedule", jurisdiction="eu") for i in range(3)] == ["met"] * 3
    # the US table has no 28 mg start
    assert check(rec, 0, "dose_fits_schedule", jurisdiction="us") == "not_met"
    assert check(rec, 0, "dose_fits_schedule") == "not_met"  # us is the default
    # under 65 the EU table starts at 56 mg as the US one does
    young = record(trd_course([28, 56]), age=64)
    assert check(young, 0, "dose_fits_schedule", jurisdiction="eu") == "not_met"


def test_mdsi_84_twice_weekly_56_for_tolerability_nothing_beyond_4_weeks():
    days = [0, 3, 7, 10, 28]
    rec = record(
        [
            esk(i + 1, d, dose, indication="mdsi")
            for i, (d, dose) in enumerate(zip(days, [84, 56, 84, 84, 84], strict=False))
        ]
    )
    out = assess(rec).to_json()["sessions"]
    assert [s["checks"]["dose_fits_schedule"] for s in out] == [
        "met",
        "met",
        "met",
        "met",
        "not_met",
    ]
    assert out[4]["checks"]["frequency_fits_schedule"] == "not_met"
    assert (
        "not been systematically evaluated" in out[4]["details"]["dose_fits_schedule"][0]["message"]
    )
    # day 1 is 84 mg
    assert check(record([esk(1, 0, 56, indication="mdsi")]), 0, "dose_fits_schedule") == "not_met"


def test_eu_emergency_posology_for_65_and_over_was_not_found():
    rec = record([esk(1, 0, 84, indication="mdsi")], age=70)
    s = session(rec, 0, jurisdiction="eu")
    assert s["checks"]["dose_fits_schedule"] == "unknown"
    assert "not found" in s["details"]["dose_fits_schedule"][0]["message"]


def test_unknowns_stay_unknown():
    # no dose
    assert check(record(trd_course([None, None])), 1, "dose_fits_schedule") == "unknown"
    # no date: the week is open; 84 mg fits every later TRD phase, so the dose is still met
    s = trd_course([56, 84])
    del s[1]["date"]
    rec = record(s)
    assert check(rec, 1, "dose_fits_schedule") == "met"
    assert check(rec, 1, "frequency_fits_schedule") == "unknown"
    # unknown indication: 56 mg on day 1 fits TRD but not MDSI
    rec = record([esk(1, 0, 56)])
    s = session(rec, 0)
    assert s["checks"]["dose_fits_schedule"] == "unknown"
    assert "sessions[0].indication" in s["details"]["dose_fits_schedule"][0]["missing"]
    # ...84 mg in week 2 after a TRD day 1 fits either reading of the second session (TRD week
    # 2, or day 1 of an MDSI course)
    rec = record([esk(1, 0, 56, indication="trd"), esk(2, 7, 84)])
    assert check(rec, 1, "dose_fits_schedule") == "met"
    # ...but with both indications unknown, 84 mg could be a TRD day 1 (56 mg expected)
    rec = record([esk(1, 0, 84), esk(2, 7, 84)])
    assert check(rec, 1, "dose_fits_schedule") == "unknown"


@pytest.mark.parametrize(
    "field, value, check_name, want",
    [
        ("fasting_food_hours", 2, "fasting_food", "met"),
        ("fasting_food_hours", 1.5, "fasting_food", "not_met"),
        ("fasting_liquid_minutes", 30, "fasting_liquid", "met"),
        ("fasting_liquid_minutes", 29, "fasting_liquid", "not_met"),
        ("nasal_steroid_or_decongestant_minutes_before", 60, "nasal_spray_timing", "met"),
        ("nasal_steroid_or_decongestant_minutes_before", 45, "nasal_spray_timing", "not_met"),
        ("minutes_between_devices", 5, "rest_between_devices", "met"),
        ("minutes_between_devices", 3, "rest_between_devices", "not_met"),
        ("prescriber_on_site", True, "prescriber_on_site", "met"),
        ("prescriber_on_site", False, "prescriber_on_site", "not_met"),
        ("ride_home_arranged", False, "ride_home_arranged", "not_met"),
    ],
)
def test_preparation_and_rems_boundaries(field, value, check_name, want):
    rec = record([esk(1, 0, 56, **{field: value})])
    assert check(rec, 0, check_name) == want


@pytest.mark.parametrize(
    "check_name",
    [
        "fasting_food",
        "fasting_liquid",
        "nasal_spray_timing",
        "rest_between_devices",
        "prescriber_on_site",
        "ride_home_arranged",
        "ready_before_discharge",
        "rems_form_submitted",
        "concomitant_interacting",
    ],
)
def test_each_check_is_unknown_when_its_fields_are_missing(check_name):
    rec = record([esk(1, 0, 56)])
    s = session(rec, 0)
    assert s["checks"][check_name] == "unknown"
    assert s["details"][check_name][0].get("missing"), check_name


def test_not_applicable_is_never_met():
    rec = record(
        [
            esk(
                1,
                0,
                28,
                devices=1,
                setting="inpatient",
                nasal_steroid_or_decongestant_minutes_before="not_used",
            ),
        ]
    )
    s = session(rec, 0)
    for name in (
        "rest_between_devices",
        "ride_home_arranged",
        "rems_form_submitted",
        "nasal_spray_timing",
    ):
        assert name not in s["checks"], name
        assert s["not_applicable"][name]["message"], name
    assert s["rems_form"]["status"] == "not_required"


@pytest.mark.parametrize("sent_after, want", [(0, "met"), (7, "met"), (8, "not_met")])
def test_rems_form_within_7_days(sent_after, want):
    sent = (DAY1 + dt.timedelta(days=sent_after)).isoformat()
    rec = record([esk(1, 0, 56, setting="outpatient", rems_form_submitted_date=sent)])
    s = session(rec, 0)
    assert s["checks"]["rems_form_submitted"] == want
    assert s["rems_form"]["deadline"] == "2026-01-12"


@pytest.mark.parametrize(
    "observed, ready, want", [(120, 90, "met"), (120, 120, "met"), (120, 150, "not_met")]
)
def test_monitoring_until_ready(observed, ready, want):
    rec = record([esk(1, 0, 56, observation_minutes=observed, ready_to_leave_minute=ready)])
    assert check(rec, 0, "ready_before_discharge") == want


def test_concomitant_is_a_finding():
    yes = record(
        [
            esk(
                1,
                0,
                56,
                concomitant={
                    "benzodiazepine": False,
                    "non_benzodiazepine_hypnotic": False,
                    "psychostimulant": True,
                    "maoi": None,
                },
            )
        ]
    )
    s = session(yes, 0)
    assert s["checks"]["concomitant_interacting"] == "met"
    assert s["check_kinds"]["concomitant_interacting"] == "finding"
    none = {
        "benzodiazepine": False,
        "non_benzodiazepine_hypnotic": False,
        "psychostimulant": False,
        "maoi": False,
    }
    assert (
        check(record([esk(1, 0, 56, concomitant=none)]), 0, "concomitant_interacting") == "not_met"
    )
    part = dict(none, maoi=None)
    assert (
        check(record([esk(1, 0, 56, concomitant=part)]), 0, "concomitant_interacting") == "unknown"
    )


def iv(vitals, adjustment=None, minutes=40):
    s = {
        "number": 1,
        "modality": "iv_ketamine",
        "dose_mg_per_kg": 0.5,
        "infusion_minutes": minutes,
        "vitals": [{"minute": m, "systolic_mmhg": a, "diastolic_mmhg": b} for m, a, b in vitals],
    }
    if adjustment is not None:
        s["infusion_paused_or_slowed"] = adjustment
    return record([s])


def test_iv_infusion_bp_response():
    calm = [(0, 128, 80), (20, 140, 88), (40, 142, 88)]
    s = session(iv(calm, adjustment=False), 0)
    assert "infusion_bp_response" in s["not_applicable"]
    # 186/104 crosses the severe tier (above 180 systolic)
    climb = [(0, 150, 90), (30, 186, 104), (40, 170, 96)]
    assert check(iv(climb), 0, "infusion_bp_response") == "unknown"
    assert check(iv(climb, adjustment=False), 0, "infusion_bp_response") == "not_met"
    adj = {"minute": 30, "action": "paused", "reason": "BP 186/104"}
    assert check(iv(climb, adjustment=adj), 0, "infusion_bp_response") == "met"
    # after the infusion ended the reading does not count
    late = [(0, 150, 90), (20, 150, 92), (50, 186, 104)]
    assert "infusion_bp_response" in session(iv(late, adjustment=False), 0)["not_applicable"]
    # the stricter threshold (the esketamine 140/90 guide) catches 142/88
    assert (
        check(iv(calm, adjustment=False), 0, "infusion_bp_response", infusion_bp="predose_guide")
        == "not_met"
    )
    # esketamine checks are not run on an IV session
    assert "fasting_food" not in s["checks"] and "fasting_food" not in s["not_applicable"]


def test_a_monitoring_only_session_runs_no_session_day_check_and_says_so():
    rec = record([{"number": 1, "modality": "esketamine_nasal", "dose_mg": 56}])
    s = session(rec, 0)
    assert s["session_day_recorded"] is False
    assert "dose_fits_schedule" not in s["checks"]
    assert s["rems_form"]["status"] == "incomplete"  # never shown as complete


def test_rems_form_answers_every_field_or_says_not_recorded():
    full = esk(
        1,
        0,
        84,
        indication="trd",
        setting="outpatient",
        devices=3,
        device_lot="LOT-1",
        monitored_by="R. Nurse",
        observation_minutes=120,
        ready_to_leave_minute=95,
        concomitant={
            "benzodiazepine": False,
            "non_benzodiazepine_hypnotic": False,
            "psychostimulant": False,
            "maoi": False,
        },
        vitals=[
            {"minute": 0, "systolic_mmhg": 128, "diastolic_mmhg": 80, "spo2_percent": 98},
            {"minute": 40, "systolic_mmhg": 150, "diastolic_mmhg": 90, "spo2_percent": 97},
            {"minute": 110, "systolic_mmhg": 130, "diastolic_mmhg": 82, "spo2_percent": 98},
        ],
        moaas=[{"minute": 40, "score": 4}, {"minute": 110, "score": 5}],
        cadss_total=10,
        dissociation_resolved=True,
        adverse_events=[],
    )
    rec = record([full])
    a = assess(rec).to_json()["sessions"][0]
    form = fill_rems_form(rec, 0, {k: _status(v) for k, v in a["checks"].items()}, KB)
    assert [x.id for x in form.answers] == [f.id for f in KB.session_day.rems_form.fields]
    assert all(x.recorded for x in form.answers), [x.id for x in form.answers if not x.recorded]
    answers = {x.id: x.answer for x in form.answers}
    assert answers["dose"] == "84 mg" and answers["bp_40_minutes"].startswith("150/90")
    assert answers["adverse_events"] == "none"
    assert form.status.status == "complete" and form.status.deadline == "2026-01-12"
    # 28 mg is not a box on the form: it goes under "other"
    small = record([esk(1, 0, 28)])
    f2 = fill_rems_form(small, 0, {}, KB)
    assert {x.id: x.answer for x in f2.answers}["dose"] == "Other: 28 mg"
    assert "device_lot" in f2.status.missing_fields and f2.status.status == "incomplete"


def _status(v):
    from kdsupport.rules.result import Status

    return Status(v)


@pytest.mark.parametrize(
    "change, path",
    [
        ({"devices": 3, "dose_mg": 56}, "sessions[0].devices"),
        ({"rems_form_submitted_date": "2026-01-01"}, "sessions[0].rems_form_submitted_date"),
        ({"date": "2026-02-30"}, "sessions[0].date"),
        (
            {"nasal_steroid_or_decongestant_minutes_before": "none"},
            "sessions[0].nasal_steroid_or_decongestant_minutes_before",
        ),
        ({"setting": "home"}, "sessions[0].setting"),
        ({"infusion_paused_or_slowed": False}, "sessions[0].infusion_paused_or_slowed"),
    ],
)
def test_bad_session_day_fields_are_refused_with_their_path(change, path):
    with pytest.raises(InvalidInputError) as exc:
        record([esk(1, 0, 56, **change)])
    assert path in [p.path for p in exc.value.problems]


def test_dates_must_follow_session_numbers():
    with pytest.raises(InvalidInputError) as exc:
        record([esk(1, 7, 56), esk(2, 0, 56)])
    assert "sessions[1].date" in [p.path for p in exc.value.problems]


# ---------------------------------------------------------------- the knowledge base's checks
def _kb_problems(mutate):
    from kdsupport import knowledge

    raw = copy.deepcopy(knowledge.load_raw())
    mutate(raw["session_day.yaml"])
    return [str(p) for p in knowledge.find_problems(raw)]


def test_the_knowledge_base_refuses_a_gap_in_a_dosing_table():
    def gap(sd):
        sd["schedule"]["tables"][0]["phases"][2]["first_week"] = 6

    assert any("starts at week 6, not 5" in p for p in _kb_problems(gap))


def test_the_knowledge_base_refuses_a_dose_that_is_not_whole_devices():
    def odd(sd):
        sd["schedule"]["tables"][0]["phases"][1]["doses_mg"] = [56, 70]

    assert any("not whole devices" in p for p in _kb_problems(odd))


def test_the_knowledge_base_refuses_a_rems_form_field_the_filler_does_not_answer():
    def extra(sd):
        sd["rems_form"]["fields"].append(dict(sd["rems_form"]["fields"][0], id="signature"))

    assert any("unknown ['signature']" in p for p in _kb_problems(extra))


def test_the_knowledge_base_refuses_a_check_without_its_threshold():
    def drop(sd):
        del sd["checks"]["fasting_food"]["min_hours"]

    assert any("needs min_hours" in p for p in _kb_problems(drop))


def test_show_answers_names_a_path_the_assessment_lacks(tmp_path):
    import subprocess
    import sys

    import yaml

    data = yaml.safe_load(open("data/synthetic/cases/tr-036.yaml", encoding="utf-8"))
    q = dict(data["teaching"]["questions"][0])
    for k in ("tolerance", "unit", "rule_options"):
        q.pop(k, None)
    q.update(
        answer_rule="sessions[2].rems_form.required",  # an IV session has no REMS form
        kind="single",
        options=[{"value": "yes", "label": "yes"}, {"value": "no", "label": "no"}],
        answer="yes",
    )
    data["teaching"]["questions"] = [q]
    f = tmp_path / "case.yaml"
    f.write_text(yaml.safe_dump(data), encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "kdsupport", "validate", str(f), "--show-answers"],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2
    assert "teaching.questions[q1].answer_rule" in proc.stderr
    assert "is not in the assessment" in proc.stderr and "Traceback" not in proc.stderr


def test_an_iv_pause_before_the_crossing_is_no_response_to_it():
    climb = [(0, 150, 90), (30, 186, 104), (40, 170, 96)]
    early = {"minute": 10, "action": "slowed", "reason": "nausea"}
    s = session(iv(climb, adjustment=early), 0)
    assert s["checks"]["infusion_bp_response"] == "not_met"
    assert "BEFORE" in s["details"]["infusion_bp_response"][0]["message"]
    # a pause with no crossing is not a check passed: the check does not apply
    calm = [(0, 128, 80), (20, 140, 88), (40, 142, 88)]
    s = session(iv(calm, adjustment=early), 0)
    assert "infusion_bp_response" in s["not_applicable"]


def test_unknown_lists_only_what_is_not_recorded():
    rec = record([esk(1, 0, 56, setting="outpatient", observation_minutes=120)])
    s = session(rec, 0)
    assert s["details"]["rems_form_submitted"][0]["missing"] == [
        "sessions[0].rems_form_submitted_date"
    ]
    assert s["details"]["ready_before_discharge"][0]["missing"] == [
        "sessions[0].ready_to_leave_minute"
    ]


def test_ride_home_and_monitoring_until_ready_are_site_defaults_for_iv():
    rec = iv([(0, 128, 80), (20, 130, 82)])
    data = rec.model_dump(exclude_none=True)
    data["sessions"][0].update(
        ride_home_arranged=False, observation_minutes=90, ready_to_leave_minute=60
    )
    s = session(validate_case(data), 0)
    assert s["checks"]["ride_home_arranged"] == "not_met"
    assert (
        "assumption_session_monitoring_site_default"
        in s["details"]["ride_home_arranged"][0]["sources"]
    )
    assert s["checks"]["ready_before_discharge"] == "met"
    assert "fasting_food" not in s["checks"] and "prescriber_on_site" not in s["checks"]
