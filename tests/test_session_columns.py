"""The session checks' column-wise twins give the statuses the scalar rules give, edge by edge.

:func:`kdsupport.rules.session_columns.session_check_columns` works on a cohort's tables; the
scalar rules (:func:`kdsupport.rules.monitoring.evaluate_sessions`) on the records built from
the same tables. They must agree on every session and every check.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kdsupport.cohort.generator import generate_cohort
from kdsupport.cohort.records import records_from_tables
from kdsupport.cohort.storage import load_cohort
from kdsupport.records.case import validate_case
from kdsupport.render.cohort_page import cohort_directory
from kdsupport.rules.monitoring import evaluate_sessions
from kdsupport.rules.result import Status
from kdsupport.rules.session_columns import COLUMN_CHECKS, session_check_columns


def _scalar(records, kb) -> pd.DataFrame:
    """Each session's statuses by the scalar rules."""
    rows = []
    for rec in records:
        if not rec["sessions"]:
            continue
        for s in evaluate_sessions(validate_case(rec), kb):
            rows.append({c: s.checks[c].status.value for c in COLUMN_CHECKS})
    return pd.DataFrame(rows, columns=list(COLUMN_CHECKS))


def _columns(tables: dict[str, pd.DataFrame], kb) -> pd.DataFrame:
    got = session_check_columns(tables["sessions"], tables["vitals"], tables["moaas"], kb)
    return got.reset_index(drop=True).astype(object)


def _agree(tables: dict[str, pd.DataFrame], kb, records=None) -> pd.DataFrame:
    """The twins' statuses, checked against the rules' on the records (built from the tables)."""
    expected = _scalar(records or records_from_tables(tables), kb).astype(object)
    got = _columns(tables, kb)
    for check in COLUMN_CHECKS:
        differ = np.flatnonzero(got[check].to_numpy() != expected[check].to_numpy())
        assert not len(differ), (check, tables["sessions"].iloc[differ[:5]].to_dict("records"))
    return got


@pytest.fixture(scope="module")
def cohort():
    return generate_cohort(300, np.random.default_rng(5))


def _drop(df: pd.DataFrame, mask: np.ndarray) -> pd.DataFrame:
    return df[~mask].reset_index(drop=True)


def _gappy(tables: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """The cohort with readings, values, observation times and MOAA/S scores missing, and ties."""
    rng = np.random.default_rng(11)
    out = dict(tables)
    s = tables["sessions"].copy()
    s.loc[rng.random(len(s)) < 0.05, "observation_minutes"] = pd.NA
    out["sessions"] = s
    v = tables["vitals"].copy()
    for col, share in (("systolic_mmhg", 0.05), ("diastolic_mmhg", 0.05), ("spo2_percent", 0.3)):
        v.loc[rng.random(len(v)) < share, col] = pd.NA
    v = _drop(v, ((v["minute"] == 0) & (rng.random(len(v)) < 0.05)).to_numpy())
    v = _drop(v, rng.random(len(v)) < 0.1)
    # every reading of some sessions gone
    gone = set(zip(s["patient_id"], s["number"], strict=True))
    gone = {k for k in gone if rng.random() < 0.03}
    v = _drop(v, np.array([k in gone for k in zip(v["patient_id"], v["number"], strict=True)]))
    out["vitals"] = v
    m = tables["moaas"].copy()
    m.loc[rng.random(len(m)) < 0.05, "score"] = pd.NA
    m = _drop(m, rng.random(len(m)) < 0.1)
    # a second reading at the same minute as some readings, just after it, with another score
    twin = rng.random(len(m)) < 0.1
    extra = m[twin].assign(score=pd.array(rng.integers(0, 6, twin.sum()), dtype="Int64"))
    extra.loc[rng.random(len(extra)) < 0.3, "score"] = pd.NA
    order = np.r_[np.arange(len(m)), np.flatnonzero(twin) + 0.5]
    m = pd.concat([m, extra]).iloc[np.argsort(order, kind="stable")].reset_index(drop=True)
    out["moaas"] = m
    return out


def test_the_twins_agree_with_the_rules_on_the_committed_cohort(kb):
    tables = load_cohort(cohort_directory(None))
    got = _agree(tables, kb)
    assert len(got) == len(tables["sessions"])


@pytest.mark.parametrize("gaps", [False, True])
def test_the_twins_agree_with_the_rules_on_a_generated_cohort(kb, cohort, gaps):
    tables = _gappy(cohort) if gaps else cohort
    got = _agree(tables, kb)
    if gaps:  # the gaps reach every check
        for check in COLUMN_CHECKS:
            assert Status.UNKNOWN.value in set(got[check]), check


def _tables_of(records: list[dict]) -> dict[str, pd.DataFrame]:
    """The sessions, vitals and MOAA/S tables of records (as a cohort's tables hold them)."""
    sessions, vitals, moaas = [], [], []
    for rec in records:
        for s in rec["sessions"]:
            key = {"patient_id": rec["id"], "number": s["number"]}
            sessions.append(
                {
                    **key,
                    "modality": s["modality"],
                    "observation_minutes": s.get("observation_minutes"),
                }
            )
            vitals += [{**key, **r} for r in s.get("vitals") or ()]
            moaas += [{**key, **r} for r in s.get("moaas") or ()]
    vital_cols = ["minute", "systolic_mmhg", "diastolic_mmhg", "heart_rate_bpm", "spo2_percent"]
    return {
        "sessions": pd.DataFrame(sessions),
        "vitals": pd.DataFrame(vitals, columns=["patient_id", "number", *vital_cols]),
        "moaas": pd.DataFrame(moaas, columns=["patient_id", "number", "minute", "score"]),
    }


def test_the_twins_agree_with_the_rules_on_every_edge(kb, cohort):
    checks = kb.vitals.session_monitoring.checks
    w = checks["bp_rechecked"].window_minutes
    end_window = checks["bp_predischarge"].window_before_end_minutes.value
    alert = checks["sedation_resolved"].alert_score.value
    obs = checks["observed_2h"].min_observation_minutes.value

    def bp(minute, s=130.0, d=80.0, spo2=None):
        return {"minute": minute, "systolic_mmhg": s, "diastolic_mmhg": d, "spo2_percent": spo2}

    guide = kb.vitals.predose_bp_guide
    high = guide.systolic_above_mmhg.value + 1
    sessions = {
        "empty": {"observation_minutes": None},
        "only-minute-0": {"vitals": [bp(0)], "observation_minutes": obs},
        "minute-0-no-bp": {"vitals": [bp(0, None, None), bp(w.min)]},
        "minute-0-half-bp": {"vitals": [bp(0, high, None), bp(w.max, None, None)]},
        "two-minute-0": {"vitals": [bp(0, None, None), bp(0, high, 80.0), bp(w.max + 1)]},
        "window-start": {"vitals": [bp(0), bp(w.min)], "observation_minutes": obs - 1},
        "window-end-no-bp": {"vitals": [bp(0), bp(w.max, None, None)]},
        "after-window": {"vitals": [bp(0), bp(w.max + 1, spo2=None)]},
        "before-window": {"vitals": [bp(0), bp(w.min - 1, spo2=97.0)]},
        "discharge-edge": {
            "vitals": [bp(0), bp(obs - end_window)],
            "observation_minutes": obs,
        },
        "discharge-end-no-bp": {
            "vitals": [bp(0), bp(obs, None, None)],
            "observation_minutes": obs,
        },
        "before-discharge": {
            "vitals": [bp(0), bp(obs - end_window - 1)],
            "observation_minutes": obs,
        },
        "spo2-only-at-0": {"vitals": [bp(0, spo2=98.0), bp(w.min)]},
        "large-rise-unknown": {"vitals": [bp(0), bp(w.min, None, 81.0)]},
        "moaas-tie-missing-first": {
            "moaas": [{"minute": 30, "score": 2}, {"minute": 60, "score": None}]
            + [{"minute": 60, "score": int(alert)}]
        },
        "moaas-tie-alert-first": {
            "moaas": [{"minute": 60, "score": int(alert)}, {"minute": 60, "score": None}]
        },
        "moaas-out-of-order": {
            "moaas": [{"minute": 90, "score": int(alert) - 1}, {"minute": 30, "score": int(alert)}]
        },
    }
    template = next(records_from_tables(cohort))
    records = [
        {
            **template,
            "id": f"edge-{k:02d}",
            "sessions": [
                {"number": 1, "modality": "esketamine_nasal", "vitals": [], "moaas": [], **s}
            ],
        }
        for k, s in enumerate(sessions.values())
    ]
    got = _agree(_tables_of(records), kb, records)
    for check in COLUMN_CHECKS:  # every check meets more than one outcome here
        assert len(set(got[check])) > 1, check


def test_a_check_without_a_twin_is_refused(kb, cohort):
    with pytest.raises(KeyError):
        session_check_columns(
            cohort["sessions"], cohort["vitals"], cohort["moaas"], kb, checks=("bp_severe",)
        )
