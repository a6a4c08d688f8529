"""Suicide-risk triage, modality screening, pre-dose BP and session monitoring."""

from __future__ import annotations

import pytest
from conftest import ALL_SCREENING_FALSE, NO_RISK, make_record, run


# ---------------------------------------------------------------- suicide risk
def risk(answers=None, extra=None, drop_screener=False):
    adms = (
        []
        if drop_screener
        else [
            {
                "instrument": "cssrs_screener",
                "when": "baseline",
                "answers": {**NO_RISK, **(answers or {})},
            }
        ]
    )
    rec = make_record(assessments=adms + (extra or []))
    return run(rec)["suicide_risk"]


@pytest.mark.parametrize(
    ("answers", "level", "action"),
    [
        ({}, "none", "routine"),
        ({"wish_to_be_dead": True}, "low", "clinician_review"),
        ({"active_thoughts": True}, "low", "clinician_review"),
        ({"active_thoughts": True, "method": True}, "moderate", "clinician_review"),
        ({"behavior": True, "behavior_past_3_months": False}, "moderate", "clinician_review"),
        ({"active_thoughts": True, "intent": True}, "high", "urgent_evaluation"),
        ({"active_thoughts": True, "plan": True}, "high", "urgent_evaluation"),
        ({"behavior": True, "behavior_past_3_months": True}, "high", "urgent_evaluation"),
    ],
)
def test_levels(answers, level, action):
    r = risk(answers)
    assert (r["level"], r["action"]) == (level, action)
    assert all("[" in x for x in r["reasons"])  # every reason names its sources


def test_skip_rule_reads_unasked_questions_as_no():
    r = risk(
        {
            "wish_to_be_dead": True,
            "active_thoughts": False,
            "method": None,
            "intent": None,
            "plan": None,
            "behavior": False,
            "behavior_past_3_months": None,
        }
    )
    assert (r["level"], r["action"]) == ("low", "clinician_review")


def test_unasked_questions_after_active_thoughts_make_level_unknown():
    r = risk({"active_thoughts": True, "method": None, "intent": False, "plan": False})
    assert (r["level"], r["action"]) == ("unknown", "complete_screening")
    r = risk({"active_thoughts": True, "intent": None, "plan": None})
    assert (r["level"], r["action"], r["at_least"]) == ("unknown", "complete_screening", "low")


def test_unknown_behaviour_is_unknown():
    r = risk({"behavior": None, "behavior_past_3_months": None})
    assert r["level"] == "unknown"
    missing = {m for d in r["details"] for m in d.get("missing", [])}
    assert "assessments[0].answers.behavior" in missing


def test_null_that_cannot_raise_the_level_does_not_matter():
    r = risk({"wish_to_be_dead": None, "active_thoughts": True})
    assert r["level"] == "low"


def test_no_screener():
    r = risk(drop_screener=True)
    assert (r["level"], r["action"]) == ("unknown", "complete_screening")


def test_latest_screener_counts():
    later = {
        "instrument": "cssrs_screener",
        "when": "session-4",
        "answers": {**NO_RISK, "wish_to_be_dead": True},
    }
    assert risk({"active_thoughts": True, "plan": True}, extra=[later])["level"] == "low"


@pytest.mark.parametrize(
    ("item9", "action"), [(0, "routine"), (1, "clinician_review"), (None, "clinician_review")]
)
def test_phq9_item9_raises_action_when_level_none(item9, action):
    phq = {"instrument": "phq9", "when": "baseline", "items": [1] * 8 + [item9]}
    r = risk(extra=[phq])
    assert (r["level"], r["action"]) == ("none", action)


def test_phq9_total_only_is_not_used_for_item9():
    r = risk(extra=[{"instrument": "phq9", "when": "baseline", "total": 14}])
    assert r["action"] == "routine"


def test_latest_phq9_with_items_counts():
    early = {"instrument": "phq9", "when": "baseline", "items": [1] * 8 + [2]}
    late = {"instrument": "phq9", "when": "day-28", "items": [1] * 8 + [0]}
    assert risk(extra=[early, late])["action"] == "routine"
    assert risk(extra=[late, early])["action"] == "clinician_review"


# ---------------------------------------------------------------- modality screening
def modalities(screening=None, patient=None, answers=None, drop_screening=False):
    rec = make_record()
    if drop_screening:
        del rec["screening"]
    else:
        rec["screening"] = {**ALL_SCREENING_FALSE, **(screening or {})}
    rec["patient"].update(patient or {})
    if answers is not None:
        rec["assessments"][0]["answers"] = {**NO_RISK, **answers}
    out = run(rec)["modalities"]
    return {m: v["status"] for m, v in out.items()}, out


def test_all_clear():
    status, _ = modalities()
    assert status == {
        "esketamine_nasal": "clear",
        "iv_ketamine": "clear",
        "at_home_ketamine": "clear",
    }


@pytest.mark.parametrize(
    "item",
    [
        "aneurysmal_vascular_disease",
        "arteriovenous_malformation",
        "intracerebral_hemorrhage_history",
        "ketamine_hypersensitivity",
    ],
)
def test_label_contraindications_contraindicate_every_modality(item):
    status, out = modalities({item: True})
    assert set(status.values()) == {"contraindicated"}
    finding = next(f for f in out["esketamine_nasal"]["findings"] if f["item"] == item)
    assert (
        finding["severity"] == "contraindication"
        and finding["present"] is True
        and finding["sources"]
    )


@pytest.mark.parametrize(
    "item",
    [
        "uncontrolled_hypertension",
        "unstable_cardiovascular_disease",
        "raised_intracranial_pressure",
    ],
)
def test_bp_hazards_contraindicate_every_modality(item):
    # spec 5.2: the label's BP warning says esketamine "is contraindicated in patients for whom an
    # increase in BP or intracranial pressure poses a serious risk"
    status, out = modalities({item: True})
    assert set(status.values()) == {"contraindicated"}
    reason = next(
        r for r in out["esketamine_nasal"]["reasons"] if r["code"].endswith(".contraindication")
    )
    assert "is contraindicated in patients for whom an increase in BP" in reason["message"]
    assert "the clinician confirms" in reason["message"]
    assert "spravato_label_bp_2021" in reason["sources"]


@pytest.mark.parametrize("item", ["substance_use_disorder_active", "ketamine_misuse_history"])
def test_misuse_contraindicates_at_home_only(item):
    status, _ = modalities({item: True})
    assert status == {
        "esketamine_nasal": "caution",
        "iv_ketamine": "caution",
        "at_home_ketamine": "contraindicated",
    }


@pytest.mark.parametrize(
    "item",
    [
        "psychosis_history",
        "current_psychosis_or_mania",
        "moderate_hepatic_impairment",
        "interstitial_cystitis",
        "cns_depressant_use",
        "maoi_or_psychostimulant_use",
    ],
)
def test_warnings_give_caution_everywhere(item):
    status, _ = modalities({item: True})
    assert set(status.values()) == {"caution"}


def test_no_support_person_contraindicates_at_home():
    status, _ = modalities({"support_person_available": False})
    assert status == {
        "esketamine_nasal": "clear",
        "iv_ketamine": "clear",
        "at_home_ketamine": "contraindicated",
    }


def test_support_person_unknown_makes_only_at_home_incomplete():
    status, _ = modalities({"support_person_available": None})
    assert status == {
        "esketamine_nasal": "clear",
        "iv_ketamine": "clear",
        "at_home_ketamine": "incomplete",
    }


def test_not_assessed_item_is_incomplete_not_clear():
    status, out = modalities({"interstitial_cystitis": None})
    assert set(status.values()) == {"incomplete"}
    assert any(
        "screening.interstitial_cystitis" in r.get("missing", [])
        for r in out["iv_ketamine"]["reasons"]
    )


def test_contraindication_beats_incomplete_and_incomplete_beats_caution():
    status, _ = modalities({"ketamine_hypersensitivity": True, "psychosis_history": None})
    assert set(status.values()) == {"contraindicated"}
    status, _ = modalities({"cns_depressant_use": True, "psychosis_history": None})
    assert set(status.values()) == {"incomplete"}


def test_no_screening_section_is_incomplete():
    status, _ = modalities(drop_screening=True)
    assert set(status.values()) == {"incomplete"}


def test_severe_hepatic_impairment_is_not_recommended_everywhere():
    status, out = modalities({"severe_hepatic_impairment": True})
    assert set(status.values()) == {"not_recommended"}
    assert out["esketamine_nasal"]["findings"][0]["severity"] == "not_recommended"


def test_pregnancy():
    status, _ = modalities(patient={"pregnant": True})
    assert set(status.values()) == {"not_recommended"}
    status, _ = modalities(patient={"pregnant": None})
    assert set(status.values()) == {"incomplete"}
    status, _ = modalities(patient={"sex": "male", "pregnant": None, "breastfeeding": None})
    assert set(status.values()) == {"clear"}
    status, _ = modalities(patient={"sex": None, "breastfeeding": None})
    assert set(status.values()) == {"incomplete"}


def test_suicide_risk_and_at_home():
    # spec 5.6: urgent evaluation is a warning for esketamine and IV, a contraindication at home
    status, out = modalities(answers={"active_thoughts": True, "plan": True})
    assert status == {
        "esketamine_nasal": "caution",
        "iv_ketamine": "caution",
        "at_home_ketamine": "contraindicated",
    }
    assert out["esketamine_nasal"]["findings"][0]["item"] == "urgent_suicide_evaluation"
    assert [f["item"] for f in out["at_home_ketamine"]["findings"][:2]] == [
        "urgent_suicide_evaluation",
        "suicide_risk_high",
    ]
    status, _ = modalities(answers={"active_thoughts": None})
    assert status["at_home_ketamine"] == "incomplete" and status["esketamine_nasal"] == "clear"


# ---------------------------------------------------------------- pre-dose BP
@pytest.mark.parametrize(
    ("sys_", "dia", "status"),
    [
        (140, 90, "ok"),
        (141, 80, "consider_delay"),
        (120, 91, "consider_delay"),
        (None, 95, "consider_delay"),
        (150, None, "consider_delay"),
        (None, 80, "unknown"),
        (130, None, "unknown"),
        (None, None, "unknown"),
    ],
)
def test_predose_bp(sys_, dia, status):
    rec = make_record(vitals={"systolic_mmhg": sys_, "diastolic_mmhg": dia})
    bp = run(rec)["predose_bp"]
    assert bp["status"] == status
    assert bp["reasons"][0]["sources"]


def test_predose_bp_without_vitals():
    rec = make_record()
    del rec["vitals"]
    assert run(rec)["predose_bp"]["status"] == "unknown"


# ---------------------------------------------------------------- session monitoring
GOOD_SESSION = {
    "number": 1,
    "modality": "esketamine_nasal",
    "dose_mg": 56,
    "vitals": [
        {
            "minute": 0,
            "systolic_mmhg": 126,
            "diastolic_mmhg": 80,
            "heart_rate_bpm": 72,
            "spo2_percent": 98,
        },
        {
            "minute": 40,
            "systolic_mmhg": 150,
            "diastolic_mmhg": 92,
            "heart_rate_bpm": 80,
            "spo2_percent": 97,
        },
        {
            "minute": 115,
            "systolic_mmhg": 130,
            "diastolic_mmhg": 82,
            "heart_rate_bpm": 74,
            "spo2_percent": 98,
        },
    ],
    "moaas": [{"minute": 40, "score": 4}, {"minute": 120, "score": 5}],
    "cadss_total": 14,
    "observation_minutes": 120,
    "dissociation_resolved": True,
}


def checks(**change):
    session = {**GOOD_SESSION, **change}
    return run(make_record(sessions=[session]))["sessions"][0]["checks"]


def test_good_session():
    assert checks() == {
        "predose_bp": "met",
        "bp_rechecked": "met",
        "bp_rise": "not_met",
        "bp_severe": "not_met",
        "observed_2h": "met",
        "bp_predischarge": "met",
        "bp_acceptable_at_discharge": "met",
        "spo2_monitored": "met",
        "desaturation": "not_met",
        "sedation_resolved": "met",
        "deep_sedation": "not_met",
        "loss_of_consciousness": "not_met",
        "dissociation_resolved": "met",
    }


def test_no_vitals_makes_bp_checks_unknown():
    c = checks(vitals=None)
    assert [
        c[k] for k in ("predose_bp", "bp_rechecked", "bp_rise", "bp_predischarge", "spo2_monitored")
    ] == ["unknown"] * 5


def test_predose_reading_above_guide():
    v = [dict(GOOD_SESSION["vitals"][0], systolic_mmhg=145)] + GOOD_SESSION["vitals"][1:]
    assert checks(vitals=v)["predose_bp"] == "not_met"


@pytest.mark.parametrize(
    ("minute", "want"), [(30, "met"), (60, "met"), (29, "not_met"), (61, "not_met")]
)
def test_recheck_window(minute, want):
    v = [
        GOOD_SESSION["vitals"][0],
        dict(GOOD_SESSION["vitals"][1], minute=minute),
        GOOD_SESSION["vitals"][2],
    ]
    assert checks(vitals=v)["bp_rechecked"] == want


def test_recheck_without_bp_value_is_unknown():
    v = [
        GOOD_SESSION["vitals"][0],
        {"minute": 40, "heart_rate_bpm": 80, "spo2_percent": 97},
        GOOD_SESSION["vitals"][2],
    ]
    c = checks(vitals=v)
    # a row without a BP value leaves both checks that need it unknown (clarification 19)
    assert c["bp_rechecked"] == "unknown" and c["bp_rise"] == "unknown"


@pytest.mark.parametrize(
    ("sys_", "dia", "want"),
    [
        (166, 80, "met"),
        (165, 80, "not_met"),
        (126, 105, "met"),
        (126, 104, "not_met"),
        (None, 104, "unknown"),
    ],
)
def test_bp_rise_boundaries(sys_, dia, want):
    v = [GOOD_SESSION["vitals"][0], {"minute": 40, "systolic_mmhg": sys_, "diastolic_mmhg": dia}]
    assert checks(vitals=v)["bp_rise"] == want


def test_bp_rise_met_even_if_another_reading_unknown():
    v = [
        GOOD_SESSION["vitals"][0],
        {"minute": 20, "heart_rate_bpm": 80},
        {"minute": 40, "systolic_mmhg": 170, "diastolic_mmhg": 90},
    ]
    assert checks(vitals=v)["bp_rise"] == "met"


@pytest.mark.parametrize(("obs", "want"), [(120, "met"), (119, "not_met"), (None, "unknown")])
def test_observed_two_hours(obs, want):
    assert checks(observation_minutes=obs)["observed_2h"] == want


@pytest.mark.parametrize(("minute", "want"), [(90, "met"), (120, "met"), (89, "not_met")])
def test_predischarge_window(minute, want):
    v = GOOD_SESSION["vitals"][:2] + [dict(GOOD_SESSION["vitals"][2], minute=minute)]
    assert checks(vitals=v)["bp_predischarge"] == want


def test_predischarge_needs_observation_time():
    assert checks(observation_minutes=None)["bp_predischarge"] == "unknown"


def test_spo2():
    no_spo2 = [{k: v for k, v in r.items() if k != "spo2_percent"} for r in GOOD_SESSION["vitals"]]
    assert checks(vitals=no_spo2)["spo2_monitored"] == "unknown"
    assert checks(vitals=GOOD_SESSION["vitals"][:1])["spo2_monitored"] == "not_met"


@pytest.mark.parametrize(
    ("moaas", "want"),
    [
        ([{"minute": 40, "score": 3}, {"minute": 120, "score": 5}], "met"),
        ([{"minute": 120, "score": 4}, {"minute": 40, "score": 5}], "not_met"),
        ([{"minute": 120, "score": None}], "unknown"),
        (None, "unknown"),
    ],
)
def test_sedation_resolved_uses_the_last_reading(moaas, want):
    assert checks(moaas=moaas)["sedation_resolved"] == want


def test_iv_sessions_cite_the_site_default_assumption():
    s = run(
        make_record(
            sessions=[
                {
                    **GOOD_SESSION,
                    "modality": "iv_ketamine",
                    "dose_mg": None,
                    "dose_mg_per_kg": 0.5,
                    "infusion_minutes": 40,
                }
            ]
        )
    )["sessions"][0]
    assert "assumption_session_monitoring_site_default" in s["details"]["observed_2h"][0]["sources"]
