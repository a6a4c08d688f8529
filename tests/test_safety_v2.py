"""Case-record spec section 5 (version 2): every new branch, derived by hand from the spec text.

Each test names the clause it checks. Records are built from the complete record of
conftest.make_record (adult woman, MDD, TRD met, every screening item false, BP 120/80, no
suicide risk) with one change at a time, so each expectation can be derived by reading 5.x.
"""

from __future__ import annotations

import pytest
from conftest import NO_RISK, make_record, run

from kdsupport.records.case import validate_case
from kdsupport.rules.assess import assess


def status(rec, **kw):
    a = run(rec, **kw)
    return {m: v["status"] for m, v in a["modalities"].items()}, a


# ---------------------------------------------------------------- 5.4 pre-dose tiers
@pytest.mark.parametrize(
    ("sys_", "dia", "tier"),
    [
        (212, 128, "severe"),  # the review's probe
        (181, 80, "severe"),
        (180, 120, "consider_delay"),  # "above" 180/120 only
        (150, 121, "severe"),
        (141, 90, "consider_delay"),
        (140, 90, "ok"),
        (150, None, "consider_delay"),  # 5.8.7
        (190, None, "severe"),
        (130, None, "unknown"),  # 5.8.11
        (None, 125, "severe"),
    ],
)
def test_predose_tiers(sys_, dia, tier):
    bp = run(make_record(vitals={"systolic_mmhg": sys_, "diastolic_mmhg": dia}))["predose_bp"]
    assert bp["status"] == tier


def test_a_severe_reading_says_do_not_dose_and_never_not_a_stop_rule():
    a = run(make_record(vitals={"systolic_mmhg": 212, "diastolic_mmhg": 128}))
    text = " ".join(r["message"] for r in a["predose_bp"]["reasons"])
    assert "Do not dose until a clinician has reassessed" in text
    assert "hypertensive crisis" in text and "emergency care" in text
    assert "not a stop rule" not in text.lower()
    # 5.8.2: every modality carries predose_bp_severe, a contraindication, listed first
    for mod in a["modalities"].values():
        assert mod["status"] == "contraindicated"
        assert mod["findings"][0]["item"] == "predose_bp_severe"
        assert mod["findings"][0]["severity"] == "contraindication"
    assert [x["code"] for x in a["alerts"]] == ["predose_bp_severe"]


def test_half_known_readings_say_the_missing_value_could_change_the_tier():
    a = run(make_record(vitals={"systolic_mmhg": 150, "diastolic_mmhg": None}))
    assert "could put it in the severe range" in a["predose_bp"]["reasons"][0]["message"]
    a = run(make_record(vitals={"systolic_mmhg": 130, "diastolic_mmhg": None}))
    assert "could change the tier" in a["predose_bp"]["reasons"][0]["message"]


@pytest.mark.parametrize(
    ("uncontrolled", "reading", "mismatch"),
    [
        (False, (150, 95), True),
        (False, (212, 128), True),
        (None, (150, 95), False),  # 5.8.8: only exactly false
        (True, (150, 95), False),
        (False, (120, 80), False),
    ],
)
def test_screening_mismatch(uncontrolled, reading, mismatch):
    rec = make_record(vitals={"systolic_mmhg": reading[0], "diastolic_mmhg": reading[1]})
    rec["screening"]["uncontrolled_hypertension"] = uncontrolled
    codes = [r["code"] for r in run(rec)["predose_bp"]["reasons"]]
    assert ("predose_bp.screening_mismatch" in codes) is mismatch


def test_other_tiers_add_nothing_to_the_modalities():
    s, a = status(make_record(vitals={"systolic_mmhg": 150, "diastolic_mmhg": 95}))
    assert set(s.values()) == {"clear"} and a["alerts"] == []


def test_the_severe_tier_is_a_selectable_definition():
    rec = make_record(vitals={"systolic_mmhg": 150, "diastolic_mmhg": 115})
    assert run(rec)["predose_bp"]["status"] == "consider_delay"  # default: above 180/120
    a = assess(validate_case(rec), severe_bp="urgency_180_110").to_json()
    assert a["predose_bp"]["status"] == "severe" and a["predose_bp"]["severe_definition"] == (
        "urgency_180_110"
    )


# ---------------------------------------------------------------- 5.1-5.3 severities
def test_not_recommended_sits_between_incomplete_and_caution():
    # pregnant (not recommended) and CNS depressants (warning): not_recommended
    rec = make_record()
    rec["patient"]["pregnant"] = True
    rec["screening"]["cns_depressant_use"] = True
    s, a = status(rec)
    assert set(s.values()) == {"not_recommended"}
    # an unassessed item of any severity makes it incomplete, but the known item still shows
    rec["screening"]["interstitial_cystitis"] = None
    s, a = status(rec)
    assert set(s.values()) == {"incomplete"}
    items = [(f["item"], f["present"]) for f in a["modalities"]["esketamine_nasal"]["findings"]]
    # by severity (5.8.12), then in the knowledge base's order within a severity
    assert items == [
        ("pregnant", True),
        ("interstitial_cystitis", None),
        ("cns_depressant_use", True),
    ]


@pytest.mark.parametrize("age", [12, 15, 17])
def test_under_18(age):
    rec = make_record()
    rec["patient"]["age_years"] = age
    s, _ = status(rec)
    assert s == {
        "esketamine_nasal": "not_recommended",
        "iv_ketamine": "not_recommended",
        "at_home_ketamine": "contraindicated",  # 5.3: stricter severity, listed once (5.8.10)
    }


@pytest.mark.parametrize(("age", "esk"), [(64, "clear"), (65, "caution"), (80, "caution")])
def test_65_or_over_is_an_esketamine_warning_only(age, esk):
    rec = make_record()
    rec["patient"]["age_years"] = age
    s, a = status(rec)
    assert s == {"esketamine_nasal": esk, "iv_ketamine": "clear", "at_home_ketamine": "clear"}


def _indication_record(primary, trd_met, level):
    rec = make_record()
    rec["diagnosis"]["primary"] = primary
    if not trd_met:
        rec["trials"] = rec["trials"][:1]  # one failed antidepressant: TRD not met
    answers = dict(NO_RISK)
    if level == "low":
        answers["wish_to_be_dead"] = True
    elif level == "unknown":
        answers["behavior"] = None
    rec["assessments"][0]["answers"] = answers
    return rec


@pytest.mark.parametrize(
    ("primary", "trd_met", "level", "esk", "iv"),
    [
        ("mdd", True, "none", "clear", "clear"),  # indicated: TRD
        ("mdd", False, "low", "clear", "clear"),  # indicated: MDD with suicidal ideation
        ("mdd", False, "none", "not_recommended", "clear"),  # outside the indications
        # 5.8.3: unknown -> not assessed for esketamine; IV looks at the diagnosis alone
        ("mdd", False, "unknown", "incomplete", "clear"),
        ("bipolar_depression", True, "low", "not_recommended", "caution"),
        ("other", True, "none", "not_recommended", "caution"),
        (None, True, "none", "incomplete", "incomplete"),
    ],
)
def test_outside_indication_in_kleene_logic(primary, trd_met, level, esk, iv):
    s, _ = status(_indication_record(primary, trd_met, level))
    assert (s["esketamine_nasal"], s["iv_ketamine"]) == (esk, iv)


# ---------------------------------------------------------------- 5.6 urgent evaluation
def test_urgent_evaluation_is_a_finding_above_the_statuses():
    rec = make_record()
    rec["assessments"][0]["answers"] = {**NO_RISK, "active_thoughts": True, "intent": True}
    s, a = status(rec)
    assert s == {
        "esketamine_nasal": "caution",
        "iv_ketamine": "caution",
        "at_home_ketamine": "contraindicated",
    }
    assert [x["code"] for x in a["alerts"]] == ["urgent_suicide_evaluation"]
    for mod in a["modalities"].values():
        assert mod["findings"][0]["item"] == "urgent_suicide_evaluation"


def test_urgent_evaluation_exists_only_when_the_action_is_urgent():
    rec = make_record()
    rec["assessments"][0]["answers"] = {**NO_RISK, "wish_to_be_dead": True}
    a = run(rec)
    assert a["alerts"] == []
    assert all(
        f["item"] != "urgent_suicide_evaluation"
        for mod in a["modalities"].values()
        for f in mod["findings"]
    )


def test_findings_order_severe_bp_then_urgent_then_by_severity():
    rec = make_record(vitals={"systolic_mmhg": 200, "diastolic_mmhg": 100})
    rec["assessments"][0]["answers"] = {**NO_RISK, "active_thoughts": True, "plan": True}
    rec["patient"]["pregnant"] = True
    rec["screening"]["cns_depressant_use"] = True
    rec["screening"]["ketamine_hypersensitivity"] = True
    a = run(rec)
    got = [f["item"] for f in a["modalities"]["esketamine_nasal"]["findings"]]
    assert got == [
        "predose_bp_severe",
        "urgent_suicide_evaluation",
        "ketamine_hypersensitivity",
        "pregnant",
        "cns_depressant_use",
    ]


# ---------------------------------------------------------------- 5.5 session checks
SESSION = {
    "number": 1,
    "modality": "esketamine_nasal",
    "vitals": [
        {"minute": 0, "systolic_mmhg": 130, "diastolic_mmhg": 80, "spo2_percent": 98},
        {"minute": 40, "systolic_mmhg": 150, "diastolic_mmhg": 92, "spo2_percent": 97},
        {"minute": 110, "systolic_mmhg": 132, "diastolic_mmhg": 82, "spo2_percent": 98},
    ],
    "moaas": [{"minute": 40, "score": 4}, {"minute": 120, "score": 5}],
    "observation_minutes": 120,
    "dissociation_resolved": True,
}


def checks(**change):
    session = {**SESSION, **change}
    s = run(make_record(sessions=[session]))["sessions"][0]
    return s["checks"], s


def with_reading(minute, **values):
    rows = [dict(r) for r in SESSION["vitals"]]
    rows.append({"minute": minute, **values})
    return sorted(rows, key=lambda r: r["minute"])


def test_every_check_has_a_kind():
    _, s = checks()
    assert {k for k, v in s["check_kinds"].items() if v == "finding"} == {
        "bp_rise",
        "bp_severe",
        "desaturation",
        "deep_sedation",
        "loss_of_consciousness",
    }


@pytest.mark.parametrize(
    ("last", "want"),
    [
        ({"systolic_mmhg": 140, "diastolic_mmhg": 90}, "met"),  # within the guide
        ({"systolic_mmhg": 150, "diastolic_mmhg": 85}, "not_met"),  # above guide and minute 0
        ({"systolic_mmhg": 182, "diastolic_mmhg": 114}, "not_met"),  # the review's probe
        ({"systolic_mmhg": 130, "diastolic_mmhg": 80}, "met"),  # back to minute 0
        # Kleene (5.8.1): 150 alone is above the guide and above minute 0's 130: decided
        ({"systolic_mmhg": 150, "diastolic_mmhg": None}, "not_met"),
        ({"systolic_mmhg": 135, "diastolic_mmhg": None}, "unknown"),  # the diastolic decides
        ({"systolic_mmhg": 190, "diastolic_mmhg": None}, "not_met"),  # severe decides (5.8.1)
        ({"heart_rate_bpm": 80}, "unknown"),  # the last reading has no BP value
    ],
)
def test_bp_acceptable_at_discharge(last, want):
    c, _ = checks(vitals=with_reading(118, **last))
    assert c["bp_acceptable_at_discharge"] == want


def test_acceptable_at_discharge_compares_with_that_sessions_minute_0():
    # 145/88 is above the guide but not above a 150/90 minute-0 reading: acceptable (5.8.1)
    rows = [
        {"minute": 0, "systolic_mmhg": 150, "diastolic_mmhg": 90},
        {"minute": 40, "systolic_mmhg": 160, "diastolic_mmhg": 96},
        {"minute": 115, "systolic_mmhg": 145, "diastolic_mmhg": 88},
    ]
    assert checks(vitals=rows)[0]["bp_acceptable_at_discharge"] == "met"
    rows[-1] = {"minute": 115, "systolic_mmhg": 145, "diastolic_mmhg": 92}
    assert checks(vitals=rows)[0]["bp_acceptable_at_discharge"] == "not_met"


def test_bp_severe_any_reading_minute_0_included():
    assert checks()[0]["bp_severe"] == "not_met"
    assert (
        checks(vitals=with_reading(60, systolic_mmhg=185, diastolic_mmhg=100))[0]["bp_severe"]
        == "met"
    )
    rows = [dict(r) for r in SESSION["vitals"]]
    rows[0].update(systolic_mmhg=200)
    assert checks(vitals=rows)[0]["bp_severe"] == "met"


@pytest.mark.parametrize(
    ("spo2_values", "want"),
    [
        ((98, 97, 98), "not_met"),
        ((98, 88, 98), "met"),  # the review's probe
        ((89, 97, 98), "met"),  # minute 0 counts (5.8.5)
        ((90, 97, 98), "not_met"),  # below 90 only
        ((None, None, None), "unknown"),
        ((98, None, None), "not_met"),  # some SpO2 value exists (5.8.5)
    ],
)
def test_desaturation(spo2_values, want):
    rows = [dict(r, spo2_percent=v) for r, v in zip(SESSION["vitals"], spo2_values, strict=True)]
    assert checks(vitals=rows)[0]["desaturation"] == want


@pytest.mark.parametrize(
    ("scores", "deep", "loc"),
    [
        ((4, 5), "not_met", "not_met"),
        ((3, 5), "not_met", "not_met"),
        ((2, 5), "met", "not_met"),
        ((0, 5), "met", "met"),  # the review's probe: MOAA/S 0
        ((None, 5), "unknown", "unknown"),
    ],
)
def test_deep_sedation_and_loss_of_consciousness(scores, deep, loc):
    moaas = [{"minute": 40, "score": scores[0]}, {"minute": 120, "score": scores[1]}]
    c, _ = checks(moaas=moaas)
    assert (c["deep_sedation"], c["loss_of_consciousness"]) == (deep, loc)
    assert checks(moaas=None)[0]["deep_sedation"] == "unknown"


@pytest.mark.parametrize(("value", "want"), [(True, "met"), (False, "not_met"), (None, "unknown")])
def test_dissociation_resolved(value, want):
    assert checks(dissociation_resolved=value)[0]["dissociation_resolved"] == want
