"""Trial adequacy and TRD, every boundary and every unknown path."""

from __future__ import annotations

import pytest
from conftest import make_record, run, trial

from kdsupport.records.case import validate_case
from kdsupport.rules.trd import evaluate_trd


def trd(rec, definition=None):
    return run(rec, definition=definition)["trd"]


def one(t, definition=None):
    return trd(make_record(trials=[t]), definition)["trials"][0]


# ---------------------------------------------------------------- adequacy criteria
@pytest.mark.parametrize(
    ("dose", "want"),
    [(50, "adequate"), (49.9, "not_adequate"), (None, "unknown"), (200, "adequate")],
)
def test_dose_boundary_sertraline(dose, want):
    assert one(trial("sertraline", dose_mg_per_day=dose))["adequacy"] == want


def test_venlafaxine_75_is_too_low_as_in_the_atrq_worked_example():
    t = one(trial("venlafaxine", dose_mg_per_day=75, weeks=7, improvement_percent=30))
    assert (t["adequacy"], t["outcome"]) == ("not_adequate", "not_failed")
    assert any(d["code"] == "trd.trial.dose_low" for d in t["details"])


@pytest.mark.parametrize(
    ("definition", "weeks", "want"),
    [
        ("label_atrq", 6, "adequate"),
        ("label_atrq", 5.9, "not_adequate"),
        ("eupearl2022", 4, "adequate"),
        ("eupearl2022", 3.9, "not_adequate"),
        ("fava2020", 6, "adequate"),
        ("fava2020", 5, "not_adequate"),
        ("label_atrq", None, "unknown"),
    ],
)
def test_duration_boundaries(definition, weeks, want):
    assert one(trial("sertraline", weeks=weeks), definition)["adequacy"] == want


@pytest.mark.parametrize(
    ("adherence", "want"),
    [("adequate", "adequate"), ("inadequate", "not_adequate"), (None, "unknown")],
)
def test_adherence(adherence, want):
    assert one(trial("sertraline", adherence=adherence))["adequacy"] == want


@pytest.mark.parametrize(
    ("episode", "want"), [("current", "adequate"), ("previous", "not_adequate"), (None, "unknown")]
)
def test_episode(episode, want):
    assert one(trial("sertraline", episode=episode))["adequacy"] == want


def test_one_clear_failure_beats_unknowns():
    t = one(
        trial("sertraline", weeks=3, dose_mg_per_day=None, adherence=None, improvement_percent=None)
    )
    assert (t["adequacy"], t["outcome"]) == ("not_adequate", "not_failed")
    # the unknowns no longer matter, so they are not asked for
    assert all("missing" not in d for d in t["details"])


def test_lithium_is_judged_on_serum_level():
    assert one(trial("lithium", serum_level_mmol_l=0.5))["adequacy"] == "adequate"
    assert one(trial("lithium", serum_level_mmol_l=0.4))["adequacy"] == "not_adequate"
    t = one(trial("lithium", serum_level_mmol_l=None, dose_mg_per_day=900))
    assert t["adequacy"] == "unknown"
    assert any("serum level not recorded" in r for r in t["reasons"])


def test_liothyronine_dose_in_mg():
    assert one(trial("liothyronine", dose_mg_per_day=0.025))["adequacy"] == "adequate"
    assert one(trial("liothyronine", dose_mg_per_day=0.0125))["adequacy"] == "not_adequate"


# ---------------------------------------------------------------- outcome thresholds
@pytest.mark.parametrize(
    ("definition", "improvement", "want"),
    [
        ("label_atrq", 25, "failed"),
        ("label_atrq", 25.1, "not_failed"),
        ("label_atrq", -40, "failed"),
        ("eupearl2022", 25, "not_failed"),
        ("eupearl2022", 24.9, "failed"),
        ("fava2020", 49.9, "failed"),
        ("fava2020", 50, "not_failed"),
        ("label_atrq", None, "unknown"),
    ],
)
def test_nonresponse_thresholds(definition, improvement, want):
    assert one(trial("sertraline", improvement_percent=improvement), definition)["outcome"] == want


def test_improvement_above_threshold_is_not_failed_even_if_adequacy_unknown():
    t = one(trial("sertraline", weeks=None, improvement_percent=60))
    assert (t["adequacy"], t["outcome"]) == ("unknown", "not_failed")


def test_unknown_adequacy_with_nonresponse_is_unknown_outcome():
    t = one(trial("sertraline", weeks=None, improvement_percent=0))
    assert (t["adequacy"], t["outcome"]) == ("unknown", "unknown")
    assert "trials[0].weeks" in [m for d in t["details"] for m in d.get("missing", [])]


# ---------------------------------------------------------------- TRD status
def test_two_distinct_failed_antidepressants_meet_trd():
    t = trd(make_record(trials=[trial("sertraline"), trial("venlafaxine")]))
    assert (t["status"], t["failed_adequate_antidepressants"], t["unknown_trials"]) == ("met", 2, 0)


def test_same_drug_twice_counts_once():
    t = trd(make_record(trials=[trial("sertraline"), trial("sertraline", dose_mg_per_day=200)]))
    assert (t["status"], t["failed_adequate_antidepressants"]) == ("not_met", 1)


def test_same_class_counts_under_label_usage():
    t = trd(make_record(trials=[trial("sertraline"), trial("escitalopram")]))
    assert t["status"] == "met"


def test_unknown_when_an_unknown_trial_could_reach_the_threshold():
    t = trd(make_record(trials=[trial("sertraline"), trial("venlafaxine", weeks=None)]))
    assert (t["status"], t["failed_adequate_antidepressants"], t["unknown_trials"]) == (
        "unknown",
        1,
        1,
    )


def test_not_met_when_even_every_unknown_trial_failing_is_not_enough():
    t = trd(
        make_record(trials=[trial("sertraline", weeks=None), trial("sertraline", adherence=None)])
    )
    assert (t["status"], t["unknown_trials"]) == ("not_met", 2)


def test_augmentation_never_counts():
    rec = make_record(
        trials=[trial("sertraline"), trial("aripiprazole"), trial("bupropion", role="augmentation")]
    )
    t = trd(rec)
    assert (t["status"], t["failed_adequate_antidepressants"]) == ("not_met", 1)
    assert [x["counts_toward_trd"] for x in t["trials"]] == [True, False, False]


def test_combination_counts():
    t = trd(make_record(trials=[trial("sertraline"), trial("mirtazapine", role="combination")]))
    assert t["status"] == "met"


def test_previous_episode_trials_do_not_count():
    t = trd(make_record(trials=[trial("sertraline"), trial("venlafaxine", episode="previous")]))
    assert t["status"] == "not_met"


def test_no_trials_recorded_is_unknown_but_empty_history_is_not_met():
    rec = make_record()
    del rec["trials"]
    t = trd(rec)
    assert t["status"] == "unknown" and t["reasons"][0]["code"] == "trd.history_unknown"
    assert trd(make_record(trials=[]))["status"] == "not_met"


@pytest.mark.parametrize("primary", ["bipolar_depression", "other"])
def test_not_mdd_is_not_met(primary):
    rec = make_record()
    rec["diagnosis"]["primary"] = primary
    t = trd(rec)
    assert t["status"] == "not_met" and t["reasons"][0]["code"] == "trd.not_mdd"


def test_unknown_diagnosis_unless_trials_already_not_met():
    rec = make_record()
    del rec["diagnosis"]
    assert trd(rec)["status"] == "unknown"
    rec["trials"] = [trial("sertraline")]
    assert trd(rec)["status"] == "not_met"
    rec = make_record()
    rec["diagnosis"]["primary"] = None
    assert trd(rec)["status"] == "unknown"


def test_definition_changes_the_verdict():
    rec = make_record(
        trials=[
            trial("sertraline", improvement_percent=40),
            trial("venlafaxine", improvement_percent=35),
        ]
    )
    assert trd(rec, "label_atrq")["status"] == "not_met"
    assert trd(rec, "fava2020")["status"] == "met"
    short = make_record(trials=[trial("sertraline", weeks=4), trial("venlafaxine", weeks=5)])
    assert trd(short, "label_atrq")["status"] == "not_met"
    assert trd(short, "eupearl2022")["status"] == "met"


def test_reasons_cite_sources_and_definition_is_named():
    out = run(make_record())
    assert out["trd"]["definition"] == "label_atrq"
    for r in out["trd"]["reasons"]:
        assert r["sources"]
    for t in out["trd"]["trials"]:
        assert all(r.endswith("]") for r in t["reasons"])
        assert all(d["sources"] for d in t["details"])


def test_evaluate_trd_api_counts(kb):
    result = evaluate_trd(validate_case(make_record()), kb)
    assert result.failed_adequate_antidepressants == 2
    with pytest.raises(TypeError):
        bool(result.status)
