"""Thase-Rush, MGH-S and Maudsley staging: every stage, band boundary and unknown path."""

from __future__ import annotations

import pytest
from conftest import make_record, run, trial


def staging(rec, **kw):
    return run(rec, **kw)["staging"]


def ect(**kw):
    base = {
        "episode": "current",
        "laterality": "bilateral",
        "sessions": 12,
        "improvement_percent": 5,
    }
    base.update(kw)
    return base


# ---------------------------------------------------------------- Thase-Rush
@pytest.mark.parametrize(
    ("trials", "courses", "stage"),
    [
        ([], [], 0),
        ([trial("sertraline")], [], 1),
        ([trial("sertraline"), trial("escitalopram")], [], 1),  # same class
        ([trial("sertraline"), trial("venlafaxine")], [], 2),
        (
            [trial("sertraline"), trial("nortriptyline")],
            [],
            3,
        ),  # a TCA may be one of the two classes
        ([trial("sertraline"), trial("nortriptyline"), trial("phenelzine")], [], 4),
        ([trial("sertraline"), trial("phenelzine")], [], 2),  # MAOI without TCA stays II
        ([trial("sertraline"), trial("nortriptyline"), trial("phenelzine")], [ect()], 5),
        (
            [trial("sertraline"), trial("nortriptyline"), trial("phenelzine")],
            [ect(laterality="unilateral")],
            4,
        ),
        (
            [trial("sertraline"), trial("nortriptyline"), trial("phenelzine")],
            [ect(episode="previous")],
            4,
        ),
        (
            [trial("sertraline"), trial("nortriptyline"), trial("phenelzine")],
            [ect(improvement_percent=60)],
            4,
        ),
        (
            [trial("sertraline"), trial("aripiprazole"), trial("bupropion", role="augmentation")],
            [],
            1,
        ),
    ],
)
def test_thase_rush_stages(trials, courses, stage):
    tr = staging(make_record(trials=trials, ect=courses))["thase_rush"]
    assert (tr["stage"], tr["complete"]) == (stage, True)


def test_thase_rush_reference_worked_example():
    """REFERENCE 2.1: SSRI, SSRI, SNRI, other, aripiprazole augmentation -> stage II."""
    trials = [
        trial("sertraline"),
        trial("escitalopram"),
        trial("venlafaxine"),
        trial("bupropion"),
        trial("aripiprazole"),
    ]
    assert staging(make_record(trials=trials))["thase_rush"]["stage"] == 2


def test_thase_rush_incomplete_when_unknown_trial_could_raise_it():
    tr = staging(make_record(trials=[trial("sertraline"), trial("nortriptyline", weeks=None)]))[
        "thase_rush"
    ]
    assert (tr["stage"], tr["complete"], tr["possible_max"]) == (1, False, 3)
    assert any(r["code"] == "staging.thase_rush.incomplete" for r in tr["reasons"])


def test_thase_rush_unknown_ect_history_only_matters_at_stage_iv():
    rec = make_record(trials=[trial("sertraline"), trial("venlafaxine")])
    del rec["ect"]
    assert staging(rec)["thase_rush"]["complete"] is True
    rec["trials"] += [trial("nortriptyline"), trial("phenelzine")]
    tr = staging(rec)["thase_rush"]
    assert (tr["stage"], tr["complete"], tr["possible_max"]) == (4, False, 5)


# ---------------------------------------------------------------- MGH-S
def test_mgh_s_reference_worked_example():
    """REFERENCE 2.2: 4 failed trials + 0.5 optimised + 0.5 augmentation = 5.0."""
    trials = [
        trial("sertraline"),
        trial("escitalopram"),
        trial("venlafaxine", dose_optimised=True),
        trial("bupropion"),
        trial("aripiprazole"),
    ]
    m = staging(make_record(trials=trials))["mgh_s"]
    assert (m["score"], m["complete"]) == (5, True)
    assert m["components"] == {
        "failed_trials": 4,
        "dose_optimised": 1,
        "failed_augmentation_trials": 1,
        "ect": 0,
    }


def test_mgh_s_counts_trials_not_drugs_and_ect_once():
    trials = [trial("sertraline"), trial("sertraline", dose_mg_per_day=150, dose_optimised=True)]
    m = staging(make_record(trials=trials, ect=[ect(), ect(laterality="unilateral")]))["mgh_s"]
    assert m["score"] == 1 + 1 + 0.5 + 3


def test_mgh_s_failed_augmentation_only_when_adequate_and_failed():
    trials = [
        trial("sertraline"),
        trial("aripiprazole", weeks=2),
        trial("lithium", improvement_percent=60),
    ]
    assert staging(make_record(trials=trials))["mgh_s"]["score"] == 1


def test_mgh_s_incomplete_with_unknowns():
    trials = [
        trial("sertraline", dose_optimised=None),
        trial("venlafaxine", improvement_percent=None),
    ]
    m = staging(make_record(trials=trials, ect=[ect(improvement_percent=None)]))["mgh_s"]
    assert (m["score"], m["complete"]) == (1, False)
    assert m["possible_max"] == 1 + 0.5 + 1 + 3  # venlafaxine was not dose-optimised
    missing = {x for r in m["reasons"] for x in r.get("missing", [])}
    assert {
        "trials[0].dose_optimised",
        "trials[1].improvement_percent",
        "ect[0].improvement_percent",
    } <= missing


def test_mgh_s_history_unknown():
    rec = make_record()
    del rec["trials"]
    m = staging(rec)["mgh_s"]
    assert (m["score"], m["complete"], m["possible_max"]) == (0, False, None)


# ---------------------------------------------------------------- Maudsley
def msm_of(
    months=18, severity="moderate", psychotic=False, n_failed=2, aug=False, ect_used=False, **kw
):
    drugs = [
        "sertraline",
        "venlafaxine",
        "bupropion",
        "mirtazapine",
        "nortriptyline",
        "phenelzine",
        "duloxetine",
        "citalopram",
        "fluoxetine",
        "vortioxetine",
        "trazodone",
        "imipramine",
    ]
    trials = [trial(d) for d in drugs[:n_failed]]
    if aug:
        trials.append(trial("lithium", serum_level_mmol_l=0.2))  # used, even though not adequate
    rec = make_record(trials=trials, ect=[ect(improvement_percent=80)] if ect_used else [])
    rec["diagnosis"].update(
        current_episode_months=months, severity=severity, psychotic_features=psychotic
    )
    return staging(rec, **kw)["msm"]


@pytest.mark.parametrize(
    ("months", "points"), [(0, 1), (12, 1), (12.5, 2), (13, 2), (24, 2), (24.1, 3), (120, 3)]
)
def test_msm_duration_boundaries(months, points):
    assert msm_of(months=months)["components"]["duration"] == points


@pytest.mark.parametrize(
    ("severity", "psychotic", "points"),
    [
        ("subsyndromal", None, 1),
        ("mild", False, 2),
        ("moderate", None, 3),
        ("severe", False, 4),
        ("severe", True, 5),
    ],
)
def test_msm_severity(severity, psychotic, points):
    assert msm_of(severity=severity, psychotic=psychotic)["components"]["severity"] == points


def test_msm_severe_with_unknown_psychosis_is_unknown_component():
    m = msm_of(severity="severe", psychotic=None)
    assert (m["score"], m["band"], m["components"]["severity"]) == (None, None, None)
    assert m["components"]["duration"] == 2  # known components still listed


@pytest.mark.parametrize(
    ("n", "points"), [(1, 1), (2, 1), (3, 2), (4, 2), (5, 3), (6, 3), (7, 4), (10, 4), (11, 5)]
)
def test_msm_failure_levels(n, points):
    assert msm_of(n_failed=n)["components"]["failures"] == points


@pytest.mark.parametrize(
    ("kw", "score", "band"),
    [
        ({"months": 6, "severity": "subsyndromal", "n_failed": 1}, 3, "mild"),
        ({"months": 6, "severity": "moderate", "n_failed": 3}, 6, "mild"),
        ({"months": 6, "severity": "severe", "n_failed": 3}, 7, "moderate"),
        ({"months": 30, "severity": "severe", "n_failed": 3, "aug": True}, 10, "moderate"),
        (
            {"months": 30, "severity": "severe", "n_failed": 3, "aug": True, "ect_used": True},
            11,
            "severe",
        ),
        (
            {
                "months": 30,
                "severity": "severe",
                "psychotic": True,
                "n_failed": 11,
                "aug": True,
                "ect_used": True,
            },
            15,
            "severe",
        ),
    ],
)
def test_msm_total_bands(kw, score, band):
    m = msm_of(**kw)
    assert (m["score"], m["band"], m["complete"]) == (score, band, True)


def test_msm_reference_worked_example():
    """REFERENCE 2.3: 18 months 2 + severe 4 + four failures 2 + augmentation 1 + no ECT = 9."""
    m = msm_of(months=18, severity="severe", n_failed=4, aug=True)
    assert (m["score"], m["band"]) == (9, "moderate")


def test_msm_not_applicable_without_failed_antidepressant():
    m = staging(make_record(trials=[trial("sertraline", weeks=2)]))["msm"]
    assert (m["score"], m["band"], m["complete"]) == (None, "not_applicable", True)
    m = staging(make_record(trials=[trial("sertraline", weeks=None)]))["msm"]
    assert (m["score"], m["band"], m["complete"]) == (None, "not_applicable", False)


def test_msm_unknown_components():
    rec = make_record()
    del rec["ect"]
    rec["diagnosis"]["current_episode_months"] = None
    m = staging(rec)["msm"]
    assert (
        m["score"] is None
        and m["components"]["ect"] is None
        and m["components"]["duration"] is None
    )
    missing = {x for r in m["reasons"] for x in r.get("missing", [])}
    assert {"ect", "diagnosis.current_episode_months"} <= missing


def test_msm_incomplete_when_unknown_trials_could_raise_failures():
    rec = make_record(
        trials=[trial("sertraline"), trial("venlafaxine"), trial("bupropion", weeks=None)]
    )
    m = staging(rec)["msm"]
    assert (m["score"], m["complete"], m["possible_max"]) == (2 + 3 + 1 + 0 + 0, False, 2 + 3 + 2)


def test_msm_augmentation_used_counts_antidepressant_as_augmentation():
    rec = make_record(
        trials=[trial("sertraline"), trial("bupropion", role="augmentation", weeks=1)]
    )
    assert staging(rec)["msm"]["components"]["augmentation"] == 1
