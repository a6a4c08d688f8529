"""One rule, one implementation: each column-wise twin answers as its scalar rule does.

The cohort's summaries, outcome tables and figures call the column-wise twins in the rule
modules (``large_rise_columns``, ``response_columns``, ``remission_columns``); these tests hold
the twins to the scalar rules on the curated cases, on exhaustive grids (missing values
included) and on a generated cohort, with and without gaps punched into it.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from kdsupport.cohort.courses import _outcome_bounds
from kdsupport.cohort.generator import generate_cohort, summarise
from kdsupport.cohort.outcomes import bp_rise_by_minute, outcomes
from kdsupport.cohort.records import records_from_tables
from kdsupport.records.bundled import list_cases, load_case_by_id
from kdsupport.records.case import validate_case
from kdsupport.rules.monitoring import (
    bp_rise_columns,
    is_post_dose,
    large_rise_columns,
    large_rise_size,
    reading_flags,
)
from kdsupport.rules.result import Status
from kdsupport.rules.scales import (
    ScaleScore,
    evaluate_outcome,
    remission_columns,
    remission_cutoff,
    response_boundary,
    response_columns,
    score_all,
)

_WORD = {True: Status.MET, False: Status.NOT_MET}


def _statuses(column: pd.Series) -> list[Status]:
    """A ``boolean`` column as statuses (NA = unknown)."""
    return [Status.UNKNOWN if pd.isna(x) else _WORD[bool(x)] for x in column]


def _vitals_table(sessions: list[tuple[str, int, object]]) -> pd.DataFrame:
    """The vitals of record sessions as one table, as the cohort's ``vitals`` table has them."""
    rows = [
        {
            "patient_id": pid,
            "number": number,
            "minute": r.minute,
            "systolic_mmhg": r.systolic_mmhg,
            "diastolic_mmhg": r.diastolic_mmhg,
        }
        for pid, number, session in sessions
        for r in session.vitals or ()
    ]
    return pd.DataFrame(
        rows, columns=["patient_id", "number", "minute", "systolic_mmhg", "diastolic_mmhg"]
    )


def _scalar_large_rise(sessions: list[tuple[str, int, object]], kb) -> list[Status]:
    return [f.large_rise for _, _, s in sessions for f in reading_flags(s, kb)]


@pytest.fixture(scope="module")
def cohort():
    return generate_cohort(300, np.random.default_rng(5))


def _gappy(tables: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """The cohort with missing BP values, missing minute-0 readings and missing MADRS totals."""
    rng = np.random.default_rng(7)
    out = dict(tables)
    v = tables["vitals"].copy()
    for col in ("systolic_mmhg", "diastolic_mmhg"):
        v.loc[rng.random(len(v)) < 0.05, col] = pd.NA
    v = v[~((v["minute"] == 0) & (rng.random(len(v)) < 0.05))].reset_index(drop=True)
    out["vitals"] = v
    a = tables["assessments"].copy()
    madrs = (a["instrument"] == "madrs").to_numpy()
    a.loc[madrs & (rng.random(len(a)) < 0.05), "total"] = pd.NA
    out["assessments"] = a
    return out


# ---------------------------------------------------------------- the large BP rise
def test_large_rise_columns_match_reading_flags_on_the_curated_cases(kb):
    sessions = [
        (c.id, i, s)
        for c in list_cases()
        for i, s in enumerate(load_case_by_id(c.id).sessions or ())
    ]
    table = _vitals_table(sessions)
    expected = _scalar_large_rise(sessions, kb)
    assert _statuses(large_rise_columns(table, kb)) == expected
    # the curated cases have large rises and readings without one (unknowns: the next test)
    assert {Status.MET, Status.NOT_MET} <= set(expected)


def test_large_rise_columns_match_reading_flags_on_every_edge(kb, cohort):
    s_big, d_big = large_rise_size(kb)
    values = [None, 0.0, s_big - 1, s_big, d_big - 1, d_big]
    rows = []
    for k, (ds, dd) in enumerate((a, b) for a in values for b in values):
        base = {"minute": 0, "systolic_mmhg": 140, "diastolic_mmhg": 80}
        later = {
            "minute": 40,
            "systolic_mmhg": None if ds is None else 140 + ds,
            "diastolic_mmhg": None if dd is None else 80 + dd,
        }
        rows.append((f"with-base-{k}", [base, later]))
        rows.append((f"no-base-{k}", [later]))
    rows.append(("unknown-base", [{"minute": 0, "systolic_mmhg": None}, {"minute": 40}]))
    rows.append(
        (
            "two-bases",
            [
                {"minute": 0, "systolic_mmhg": 100},
                {"minute": 0},
                {"minute": 40, "systolic_mmhg": 100 + s_big},
            ],
        )
    )
    template = next(records_from_tables(cohort))
    session = {"number": 1, "modality": "esketamine_nasal"}
    records = [
        validate_case({**template, "id": pid, "sessions": [{**session, "vitals": vitals}]})
        for pid, vitals in rows
    ]
    sessions = [(r.id, 1, r.sessions[0]) for r in records]
    expected = _scalar_large_rise(sessions, kb)
    assert _statuses(large_rise_columns(_vitals_table(sessions), kb)) == expected
    assert set(expected) == {Status.MET, Status.NOT_MET, Status.UNKNOWN}


@pytest.mark.parametrize("gaps", [False, True])
def test_large_rise_columns_match_reading_flags_on_a_generated_cohort(kb, cohort, gaps):
    tables = _gappy(cohort) if gaps else cohort
    v = tables["vitals"]
    expected = []
    for rec in records_from_tables(tables):
        record = validate_case(rec)
        for s in record.sessions or ():
            expected += [f.large_rise for f in reading_flags(s, kb)]
    got = _statuses(large_rise_columns(v, kb))
    assert got == expected
    if gaps:
        assert Status.UNKNOWN in got
    assert Status.MET in got


def test_summary_counts_the_sessions_the_rule_finds_a_large_rise_in(kb, cohort):
    met, esk = [], {}
    for rec in records_from_tables(cohort):
        record = validate_case(rec)
        for s in record.sessions or ():
            found = any(f.large_rise is Status.MET for f in reading_flags(s, kb))
            met.append(found)
            if s.modality == "esketamine_nasal":
                esk[record.id] = esk.get(record.id, False) or found
    stats = summarise(cohort, kb)
    assert stats["sessions_with_large_rise"] == np.mean(met)
    assert stats["esketamine_patients_with_large_rise"] == np.mean(list(esk.values()))


def test_bp_rise_by_minute_is_the_rules_rise(cohort):
    rises = bp_rise_by_minute(cohort)
    v = cohort["vitals"]
    rise = bp_rise_columns(v)
    assert len(rises) == int(rise["has_baseline"].sum())
    np.testing.assert_array_equal(
        rises["systolic_rise_mmhg"].to_numpy(), rise["systolic_rise_mmhg"].to_numpy()
    )
    assert list(is_post_dose(np.array([-5.0, 0.0, 40.0]))) == [False, False, True]


def test_a_moaas_reading_is_judged_as_the_sedation_checks_judge_it(kb, cohort):
    from kdsupport.rules.monitoring import evaluate_session, moaas_at_most

    template = next(records_from_tables(cohort))
    scale = kb.scales.instruments["moaas"].total
    for score in [None, *range(int(scale.min), int(scale.max) + 1)]:
        session = {"number": 1, "modality": "esketamine_nasal"}
        session["moaas"] = [{"minute": 40, "score": score}]
        record = validate_case({**template, "sessions": [session]})
        checks = evaluate_session(record.sessions[0], 0, kb).checks
        for name in ("deep_sedation", "loss_of_consciousness"):
            assert checks[name].status is moaas_at_most(score, name, kb), (score, name)


# ---------------------------------------------------------------- response and remission
def _score(index: int, instrument: str, when: str, total: int | None) -> ScaleScore:
    return ScaleScore(index, instrument, when, total, None, (), "total", None)


def test_response_and_remission_columns_match_evaluate_outcome_on_a_grid(kb):
    for instrument in kb.scales.outcome.instrument_priority:
        spec = kb.scales.instruments[instrument].total
        totals = [None, *range(int(spec.min), int(spec.max) + 1)]
        pairs = [(b, last) for b in totals for last in totals]
        for definition in kb.scales.outcome.remission[instrument].definitions:
            results = [
                evaluate_outcome(
                    [_score(0, instrument, "baseline", b), _score(1, instrument, "week-4", last)],
                    kb,
                    remission={instrument: definition},
                )
                for b, last in pairs
            ]
            base = [b for b, _ in pairs]
            latest = [last for _, last in pairs]
            assert _statuses(response_columns(base, latest, kb)) == [r.response for r in results]
            got = remission_columns(latest, kb, instrument=instrument, definition=definition)
            assert _statuses(got) == [r.remission for r in results]


def test_the_response_line_and_the_generators_bounds_are_the_rule(kb):
    madrs = kb.scales.instruments["madrs"].total
    lo, hi = int(madrs.min), int(madrs.max)
    remit_max, respond_max = _outcome_bounds(kb, lo, hi)
    _, cut = remission_cutoff(kb, "madrs")
    assert remit_max == max(x for x in range(lo, hi + 1) if _remits(kb, x))
    for b in range(lo, hi + 1):
        responses = [
            x
            for x in range(lo, hi + 1)
            if evaluate_outcome(
                [_score(0, "madrs", "baseline", b), _score(1, "madrs", "week-4", x)], kb
            ).response
            is Status.MET
        ]
        assert respond_max[b] == max(responses, default=lo - 1)
        if b:  # the line drawn is the boundary: at or below it is a response
            assert all((x <= response_boundary(b, kb)) == (x in responses) for x in range(hi + 1))


def _remits(kb, x: int) -> bool:
    out = evaluate_outcome([_score(0, "madrs", "baseline", 30), _score(1, "madrs", "w", x)], kb)
    return out.remission is Status.MET


def test_response_and_remission_columns_match_on_the_curated_cases(kb):
    checked = 0
    for c in list_cases():
        o = evaluate_outcome(score_all(load_case_by_id(c.id), kb), kb)
        if o is None:
            continue
        checked += 1
        assert _statuses(response_columns([o.baseline], [o.latest], kb)) == [o.response]
        got = remission_columns(
            [o.latest], kb, instrument=o.instrument, definition=o.remission_definition
        )
        assert _statuses(got) == [o.remission]
    assert checked


@pytest.mark.parametrize("gaps", [False, True])
def test_cohort_outcomes_match_evaluate_outcome(kb, cohort, gaps):
    tables = _gappy(cohort) if gaps else cohort
    expected = {}
    for rec in records_from_tables(tables):
        o = evaluate_outcome(score_all(validate_case(rec), kb), kb)
        if o is not None and o.instrument == "madrs":
            expected[rec["id"]] = (o.response, o.remission)
    df = outcomes(tables, kb)
    got = dict(
        zip(
            df["patient_id"],
            zip(_statuses(df["response"]), _statuses(df["remission"]), strict=True),
            strict=True,
        )
    )
    assert got == expected
    if gaps:
        assert any(Status.UNKNOWN in pair for pair in got.values())
    stats = summarise(cohort, kb)
    if not gaps:
        for m, g in df.groupby("modality", observed=True):
            assert stats["response_rate"][m] == g["response"].astype(bool).mean()
            assert stats["remission_rate"][m] == g["remission"].astype(bool).mean()


# ---------------------------------------------------------------- cheap to import
def test_rule_modules_import_neither_numpy_nor_pandas():
    code = (
        "import sys, kdsupport.rules.monitoring, kdsupport.rules.scales; "
        "print(sorted(m for m in ('numpy', 'pandas') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"


def test_the_dissociation_figure_is_the_same_on_every_drawing():
    """Its 95 % interval is closed-form (mean ± t·SE): one cohort always draws one figure."""
    import io

    import numpy as np

    from kdsupport.cohort.generator import generate_cohort
    from kdsupport.cohort.outcomes import cadss_by_session, means_with_ci
    from kdsupport.render.plots import cadss_course_figure

    tables = generate_cohort(120, np.random.default_rng(3))

    def png() -> bytes:
        import matplotlib.pyplot as plt

        means = means_with_ci(cadss_by_session(tables), ["modality", "number"], "cadss_total")
        fig = cadss_course_figure(means)
        buf = io.BytesIO()
        fig.savefig(buf, format="png")
        plt.close(fig)
        return buf.getvalue()

    assert png() == png()
