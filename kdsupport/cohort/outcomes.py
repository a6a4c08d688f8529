"""Outcomes of a generated cohort, for teaching and audit (notebook 11).

Every function takes the tidy tables of :mod:`kdsupport.cohort.generator` and returns a DataFrame.
Nothing here restates a rule: response, remission, the BP rise and the monitoring checks are
the rule modules' column-wise twins (:mod:`kdsupport.rules.scales`,
:mod:`kdsupport.rules.monitoring`, :mod:`kdsupport.rules.session_columns`), each held to the
scalar rule that ``kdsupport assess`` runs. Rates carry 95 % Wilson score intervals; means
carry the 95 % interval of the mean (mean ± t·SE).

Synthetic data only: these numbers describe the generator's assumptions, not real patients.
Not a medical device.
"""

from __future__ import annotations

import functools
import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

    from kdsupport.knowledge import KnowledgeBase

__all__ = [
    "outcomes",
    "rates_with_ci",
    "wilson_interval",
    "t_quantile",
    "means_with_ci",
    "bp_rise_by_minute",
    "cadss_by_session",
    "session_checks",
    "threshold_crossings",
]

# the normal quantile for a two-sided 95 % interval (statistics, not a clinical number)
_Z95 = 1.959963984540054
# the coverage of every interval here (statistics, not a clinical number)
_LEVEL = 0.95


def _kb(kb: KnowledgeBase | None) -> KnowledgeBase:
    if kb is not None:
        return kb
    from kdsupport.knowledge import load

    return load()


def wilson_interval(k: int, n: int) -> tuple[float, float]:
    """The 95 % Wilson score interval of a proportion k/n (NaN, NaN when n is 0)."""
    if n == 0:
        return float("nan"), float("nan")
    p = k / n
    denom = 1 + _Z95**2 / n
    centre = (p + _Z95**2 / (2 * n)) / denom
    half = _Z95 * math.sqrt(p * (1 - p) / n + _Z95**2 / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def _t_central_mass(theta: float, df: int) -> float:
    """P(|T| <= sqrt(df)·tan(theta)) for Student's t with whole ``df`` (A&S 26.7.3, 26.7.4)."""
    s, c = math.sin(theta), math.cos(theta)
    total = 0.0
    if df % 2:
        term = c
        for k in range((df - 1) // 2):
            total += term
            term *= c * c * (2 * k + 2) / (2 * k + 3)
        return 2 / math.pi * (theta + s * total)
    term = 1.0
    for k in range(df // 2):
        total += term
        term *= c * c * (2 * k + 1) / (2 * k + 2)
    return s * total


@functools.lru_cache(maxsize=256)
def t_quantile(df: int) -> float:
    """The two-sided 95 % quantile of Student's t with ``df`` degrees of freedom (1 or more).

    12.706 for 1, 2.131 for 15, tending to 1.960. The closed-form distribution function for
    whole degrees of freedom, inverted by bisection on the angle ``atan(t / sqrt(df))``: good
    to about ten significant digits.
    """
    if df < 1:
        raise ValueError(f"degrees of freedom must be 1 or more, not {df}")
    lo, hi = 0.0, math.pi / 2
    for _ in range(64):
        mid = (lo + hi) / 2
        if _t_central_mass(mid, df) < _LEVEL:
            lo = mid
        else:
            hi = mid
    return math.sqrt(df) * math.tan((lo + hi) / 2)


def outcomes(tables: dict[str, pd.DataFrame], kb: KnowledgeBase | None = None) -> pd.DataFrame:
    """One row per treated patient: modality, subgroups, MADRS at baseline and latest, outcome."""
    import pandas as pd

    from kdsupport.rules.scales import outcome_totals, remission_columns, response_columns

    kb = _kb(kb)
    pats = tables["patients"].set_index("patient_id")
    df = outcome_totals(tables["assessments"], "madrs")
    df = df.join(pats[["treatment_modality", "sex", "age_years", "severity"]])
    df = df.rename(columns={"treatment_modality": "modality"})
    df["response"] = response_columns(df["baseline"], df["latest"], kb)
    df["remission"] = remission_columns(df["latest"], kb, instrument="madrs")
    age = df["age_years"].astype("float")
    df["age_group"] = pd.cut(
        age, bins=[0, 34, 49, 64, 200], labels=["18-34", "35-49", "50-64", "65+"]
    )
    return df.reset_index()


def rates_with_ci(df: pd.DataFrame, by: str | list[str], outcome: str) -> pd.DataFrame:
    """Rate of a boolean outcome per group with n, k and the 95 % Wilson interval."""
    import pandas as pd

    keys = [by] if isinstance(by, str) else list(by)
    rows = []
    for group, g in df.groupby(keys, observed=True):
        vals = g[outcome].dropna()
        n, k = int(len(vals)), int(vals.sum())
        lo, hi = wilson_interval(k, n)
        label = group if isinstance(group, tuple) else (group,)
        rows.append(
            {
                **dict(zip(keys, label, strict=True)),
                "n": n,
                "k": k,
                "rate": k / n if n else float("nan"),
                "ci_low": lo,
                "ci_high": hi,
            }
        )
    return pd.DataFrame(rows)


def means_with_ci(df: pd.DataFrame, by: str | list[str], value: str) -> pd.DataFrame:
    """Mean of a numeric column per group with n, SD and the 95 % interval of the mean.

    The interval is mean ± t·SE: SE the sample standard deviation over sqrt(n), t the two-sided
    95 % quantile of Student's t with n - 1 degrees of freedom (:func:`t_quantile`). Missing
    values are left out; a group of one value has no interval (NaN).
    """
    import numpy as np

    keys = [by] if isinstance(by, str) else list(by)
    stats = (
        df.astype({value: float})
        .groupby(keys, observed=True)[value]
        .agg(n="count", mean="mean", sd="std")
        .reset_index()
    )
    stats = stats[stats["n"] > 0].reset_index(drop=True)
    n = stats["n"].to_numpy(dtype=np.int64)
    t = np.array([t_quantile(int(k) - 1) if k > 1 else np.nan for k in n])
    half = t * stats["sd"].to_numpy(dtype=float) / np.sqrt(n)
    return stats.assign(ci_low=stats["mean"] - half, ci_high=stats["mean"] + half)


def bp_rise_by_minute(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Each reading's rise from minute 0 of its session (mmHg), with the session's modality.

    Readings of a session without a minute-0 reading are left out. The rise is the rules' own
    (:func:`kdsupport.rules.monitoring.bp_rise_columns`).
    """
    from kdsupport.rules.monitoring import bp_rise_columns

    v = tables["vitals"]
    rise = bp_rise_columns(v)
    out = v.assign(
        systolic_rise_mmhg=rise["systolic_rise_mmhg"],
        diastolic_rise_mmhg=rise["diastolic_rise_mmhg"],
    )[rise["has_baseline"]]
    out = out.merge(
        tables["sessions"][["patient_id", "number", "modality"]], on=["patient_id", "number"]
    )
    return out[
        ["patient_id", "number", "modality", "minute", "systolic_rise_mmhg", "diastolic_rise_mmhg"]
    ]


def cadss_by_session(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """CADSS total per session number and modality."""
    s = tables["sessions"]
    return s[["patient_id", "number", "modality", "cadss_total"]].astype({"cadss_total": float})


def session_checks(
    tables: dict[str, pd.DataFrame], kb: KnowledgeBase | None = None
) -> pd.DataFrame:
    """Every session's status on the monitoring checks that :func:`threshold_crossings` counts.

    One row per row of the ``sessions`` table: ``patient_id``, ``number``, ``modality`` and one
    column per check (``met``, ``not_met`` or ``unknown``), worked out on the tables by the
    rules' column-wise twins (:mod:`kdsupport.rules.session_columns`): the statuses that
    ``kdsupport assess`` gives the same sessions.
    """
    import pandas as pd

    from kdsupport.rules.session_columns import session_check_columns

    s = tables["sessions"]
    statuses = session_check_columns(
        s, tables["vitals"], tables["moaas"], _kb(kb), checks=tuple(_ATTENTION)
    )
    return pd.concat(
        [
            pd.DataFrame(
                {
                    "patient_id": s["patient_id"].astype(str).to_numpy(dtype=object),
                    "number": s["number"].to_numpy(dtype="int64"),
                    "modality": s["modality"].astype(str).to_numpy(dtype=object),
                },
                index=s.index,
            ),
            statuses,
        ],
        axis=1,
    ).reset_index(drop=True)


# the result that needs attention for each check
_ATTENTION = {
    "predose_bp": "not_met",
    "bp_rechecked": "not_met",
    "bp_rise": "met",
    "observed_2h": "not_met",
    "bp_predischarge": "not_met",
    "spo2_monitored": "not_met",
    "sedation_resolved": "not_met",
}


def threshold_crossings(checks: pd.DataFrame) -> pd.DataFrame:
    """How many sessions per modality crossed each monitoring threshold or missed a check."""
    import pandas as pd

    rows = []
    for modality, g in checks.groupby("modality", observed=True):
        for check, flag in _ATTENTION.items():
            k = int((g[check] == flag).sum())
            unknown = int((g[check] == "unknown").sum())
            rows.append(
                {
                    "modality": modality,
                    "check": check,
                    "attention_when": flag,
                    "sessions": len(g),
                    "count": k,
                    "unknown": unknown,
                    "percent": round(100 * k / len(g), 1) if len(g) else float("nan"),
                }
            )
    return pd.DataFrame(rows)
