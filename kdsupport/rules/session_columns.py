"""Column-wise twins of the session monitoring checks, on a cohort's tables.

:func:`session_check_columns` gives every row of a cohort's ``sessions`` table the status that
:func:`kdsupport.rules.monitoring.evaluate_session` gives the same session as a record
(:func:`kdsupport.cohort.records.records_from_tables`), for each check in
:data:`COLUMN_CHECKS`: the compliance checks and the large BP rise that the cohort-outcomes page
counts. The thresholds and windows are the knowledge base's, as the scalar rules read them;
a reading is judged by the twins in :mod:`kdsupport.rules.monitoring` (``bp_tiers``,
``large_rise_columns``, ``is_post_dose``). tests/test_session_columns.py holds each check to
its scalar rule, edge by edge.

A session's readings are the rows of ``vitals`` and ``moaas`` with its ``patient_id`` and
``number``, in table order; a session without a row has no readings (an empty list, never a
missing one, as its record has). Every reading has its minute, as a record's must.

For training and audit with synthetic patients; not a medical device.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

    from kdsupport.knowledge import KnowledgeBase

__all__ = ["COLUMN_CHECKS", "session_check_columns"]

_KEYS = ("patient_id", "number")


def _session_of(sessions: pd.DataFrame, rows: pd.DataFrame) -> np.ndarray:
    """The row number in ``sessions`` of each row's session (-1 when it has none)."""
    import pandas as pd

    from kdsupport.rules.columns import flt

    def key(df: pd.DataFrame) -> pd.MultiIndex:
        ids = df["patient_id"].astype(str).to_numpy(dtype=object)
        return pd.MultiIndex.from_arrays([ids, flt(df["number"])])

    return np.asarray(key(sessions).get_indexer(key(rows)), dtype=np.int64)


@dataclass(frozen=True)
class _Tables:
    """What every check reads: the sessions and their readings, as arrays."""

    n: int  # sessions
    vs: np.ndarray  # each vitals row's session (-1: none)
    minute: np.ndarray
    systolic: np.ndarray
    diastolic: np.ndarray
    spo2: np.ndarray
    observation: np.ndarray  # each session's observation minutes
    vitals: pd.DataFrame
    moaas: pd.DataFrame
    ms: np.ndarray  # each MOAA/S row's session (-1: none)

    def has(self, mask: np.ndarray, of: np.ndarray | None = None) -> np.ndarray:
        """Whether each session has a row under ``mask`` (vitals rows, or those of ``of``)."""
        codes = self.vs if of is None else of
        hit = codes[mask & (codes >= 0)]
        return np.bincount(hit, minlength=self.n).astype(bool)

    def first(self, mask: np.ndarray, of: np.ndarray | None = None) -> np.ndarray:
        """Each session's first row under ``mask`` (-1: none)."""
        codes = self.vs if of is None else of
        rows = np.flatnonzero(mask & (codes >= 0))
        out = np.full(self.n, -1, dtype=np.int64)
        found, at = np.unique(codes[rows], return_index=True)
        out[found] = rows[at]
        return out

    def has_bp(self) -> np.ndarray:
        return ~np.isnan(self.systolic) | ~np.isnan(self.diastolic)


def _pick(values: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """``values`` at ``rows``, NaN where a row is -1 (none)."""
    return np.append(values.astype(float), np.nan)[rows]


def _recorded_in(t: _Tables, inside: np.ndarray) -> np.ndarray:
    """Met if a reading with a BP value is inside; unknown if only readings without; else not."""
    from kdsupport.rules.columns import MET, NOT, UNK

    return np.where(t.has(inside & t.has_bp()), MET, np.where(t.has(inside), UNK, NOT))


def _predose_bp(t: _Tables, kb: KnowledgeBase) -> np.ndarray:
    from kdsupport.rules.columns import MET, NOT, UNK
    from kdsupport.rules.monitoring import bp_tiers

    g = kb.vitals.predose_bp_guide
    zero = t.first(t.minute == 0)
    tiers = bp_tiers(_pick(t.systolic, zero), _pick(t.diastolic, zero), kb)
    above = (tiers == g.above_status) | (tiers == g.severe.status)
    return np.where(
        zero < 0, UNK, np.where(above, NOT, np.where(tiers == g.within_status, MET, UNK))
    )


def _bp_rechecked(t: _Tables, kb: KnowledgeBase) -> np.ndarray:
    w = kb.vitals.session_monitoring.checks["bp_rechecked"].window_minutes
    assert w is not None  # the knowledge-base checks require it
    return _recorded_in(t, (t.minute >= w.min) & (t.minute <= w.max))


def _bp_rise(t: _Tables, kb: KnowledgeBase) -> np.ndarray:
    from kdsupport.rules.columns import MET, NOT, UNK
    from kdsupport.rules.monitoring import is_post_dose, large_rise_columns

    post = np.asarray(is_post_dose(t.minute), dtype=bool)
    big = large_rise_columns(t.vitals, kb)
    unknown = big.isna().to_numpy()
    met = big.fillna(False).to_numpy(dtype=bool)
    judged = (t.first(t.minute == 0) >= 0) & t.has(post)
    st = np.where(t.has(post & met), MET, np.where(t.has(post & unknown), UNK, NOT))
    return np.where(judged, st, UNK)


def _observed_2h(t: _Tables, kb: KnowledgeBase) -> np.ndarray:
    from kdsupport.rules.columns import compare

    need = kb.vitals.session_monitoring.checks["observed_2h"].min_observation_minutes
    assert need is not None
    return compare(t.observation, ">=", need.value)


def _bp_predischarge(t: _Tables, kb: KnowledgeBase) -> np.ndarray:
    from kdsupport.rules.columns import UNK

    w = kb.vitals.session_monitoring.checks["bp_predischarge"].window_before_end_minutes
    assert w is not None
    end = _pick(t.observation, t.vs)
    with np.errstate(invalid="ignore"):
        inside = (t.minute >= end - w.value) & (t.minute <= end)
    return np.where(np.isnan(t.observation), UNK, _recorded_in(t, inside))


def _spo2_monitored(t: _Tables, kb: KnowledgeBase) -> np.ndarray:
    from kdsupport.rules.columns import MET, NOT, UNK
    from kdsupport.rules.monitoring import is_post_dose

    post = np.asarray(is_post_dose(t.minute), dtype=bool)
    return np.where(t.has(post & ~np.isnan(t.spo2)), MET, np.where(t.has(post), UNK, NOT))


def _sedation_resolved(t: _Tables, kb: KnowledgeBase) -> np.ndarray:
    from kdsupport.rules.columns import UNK, compare, flt

    alert = kb.vitals.session_monitoring.checks["sedation_resolved"].alert_score
    assert alert is not None
    minute, score = flt(t.moaas["minute"]), flt(t.moaas["score"])
    # each session's last reading by minute; of readings at one minute, the first in the table
    rows = np.flatnonzero(t.ms >= 0)
    order = rows[np.lexsort((rows, -minute[rows], t.ms[rows]))]
    last = np.full(t.n, -1, dtype=np.int64)
    found, at = np.unique(t.ms[order], return_index=True)
    last[found] = order[at]
    return np.where(last < 0, UNK, compare(_pick(score, last), ">=", alert.value))


_CHECKS: dict[str, Callable[[_Tables, KnowledgeBase], np.ndarray]] = {
    "predose_bp": _predose_bp,
    "bp_rechecked": _bp_rechecked,
    "bp_rise": _bp_rise,
    "observed_2h": _observed_2h,
    "bp_predischarge": _bp_predischarge,
    "spo2_monitored": _spo2_monitored,
    "sedation_resolved": _sedation_resolved,
}
#: The checks that have a column-wise twin here.
COLUMN_CHECKS = tuple(_CHECKS)


def session_check_columns(
    sessions: pd.DataFrame,
    vitals: pd.DataFrame,
    moaas: pd.DataFrame,
    kb: KnowledgeBase,
    *,
    checks: tuple[str, ...] = COLUMN_CHECKS,
) -> Any:
    """Each session's status on each of ``checks``: ``met``, ``not_met`` or ``unknown``.

    ``sessions``, ``vitals`` and ``moaas`` are a cohort's tables (the columns
    :mod:`kdsupport.cohort.schema` names; ``patient_id`` and ``number`` key a session). Returns
    a DataFrame on ``sessions``' index with one column per check, in the words of
    :class:`~kdsupport.rules.result.Status`. A check without a twin here raises KeyError.
    """
    import pandas as pd

    from kdsupport.rules.columns import WORDS, flt

    unknown = [c for c in checks if c not in _CHECKS]
    if unknown:
        raise KeyError(f"no column-wise twin for {unknown}; there is one for {COLUMN_CHECKS}")
    t = _Tables(
        n=len(sessions),
        vs=_session_of(sessions, vitals),
        minute=flt(vitals["minute"]),
        systolic=flt(vitals["systolic_mmhg"]),
        diastolic=flt(vitals["diastolic_mmhg"]),
        spo2=flt(vitals["spo2_percent"]),
        observation=flt(sessions["observation_minutes"]),
        vitals=vitals,
        moaas=moaas,
        ms=_session_of(sessions, moaas),
    )
    words = np.array([WORDS[k] for k in sorted(WORDS)], dtype=object)  # by code: -1, 0, 1
    low = min(WORDS)
    return pd.DataFrame(
        {c: words[np.asarray(_CHECKS[c](t, kb), dtype=np.int64) - low] for c in checks},
        index=sessions.index,
    )
