"""Case records built from a cohort's tables: one ``kdsupport-case/1`` record per patient.

The tables are the single source of truth, so a table and its records can never disagree.

Synthetic data only; not a medical device.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, cast

import numpy as np
import pandas as pd

from kdsupport.cohort.schema import CSSRS_KEYS, TABLES

__all__ = ["RECORD_CHUNK", "records_from_tables"]


def _column(series: pd.Series) -> list[Any]:
    """Python values of a column: None for missing, int for whole-number floats."""
    if isinstance(series.dtype, pd.Float64Dtype):
        vals = series.to_numpy(dtype=np.float64, na_value=np.nan)
        out = vals.astype(object)
        whole = ~np.isnan(vals) & (vals == np.round(vals))
        out[whole] = np.array(vals[whole].astype(np.int64).tolist() + [None], dtype=object)[:-1]
        out[np.isnan(vals)] = None
        return out.tolist()
    # pandas takes na_value=None; pandas-stubs' Scalar leaves None out.
    return series.to_numpy(dtype=object, na_value=cast(Any, None)).tolist()


class _Grouped:
    """A child table's columns as Python lists, with each patient's row range."""

    def __init__(self, df: pd.DataFrame, order: dict[str, int]):
        self.cols = {c: _column(df[c]) for c in df.columns}
        codes = np.array([order[p] for p in self.cols["patient_id"]], dtype=np.int64)
        self.bounds = np.searchsorted(codes, np.arange(len(order) + 1)).tolist()

    def span(self, i: int) -> range:
        return range(self.bounds[i], self.bounds[i + 1])


#: Patients whose records are built at a time: the Python values of one chunk's rows are held
#: in memory, not the whole cohort's.
RECORD_CHUNK = 5000


def records_from_tables(
    tables: dict[str, pd.DataFrame], *, chunk: int = RECORD_CHUNK
) -> Iterator[dict[str, Any]]:
    """One ``kdsupport-case/1`` record per patient, built from the tidy tables.

    Every table lists its rows in patient order (as the generator writes them); the records
    are built ``chunk`` patients at a time, so memory does not grow with the cohort.
    """
    pats = tables["patients"]
    n = len(pats)
    if n <= chunk:
        yield from _records_of(tables)
        return
    ids = pd.Index(pats["patient_id"].astype(str))
    edges = np.arange(0, n + chunk, chunk).clip(max=n)
    spans = {}
    for name in TABLES:
        if name != "patients":
            codes = ids.get_indexer(pd.Index(tables[name]["patient_id"].astype(str)))
            spans[name] = np.searchsorted(codes, edges)
    for k in range(len(edges) - 1):
        part = {"patients": pats.iloc[edges[k] : edges[k + 1]]}
        for name, at in spans.items():
            part[name] = tables[name].iloc[at[k] : at[k + 1]]
        yield from _records_of(part)


def _records_of(tables: dict[str, pd.DataFrame]) -> Iterator[dict[str, Any]]:
    """The records of the patients of ``tables`` (every row of each table in patient order)."""
    p = {c: _column(tables["patients"][c]) for c in tables["patients"].columns}
    order = {pid: i for i, pid in enumerate(p["patient_id"])}
    g = {name: _Grouped(tables[name], order) for name in TABLES if name != "patients"}
    tr, ec, sc, it, cs = (
        g[k].cols for k in ("trials", "ect", "screening", "assessment_items", "cssrs")
    )
    ad, se, vi, mo = (g[k].cols for k in ("assessments", "sessions", "vitals", "moaas"))
    optional_trial = ("dose_mg_per_day", "serum_level_mmol_l", "dose_optimised")
    always_trial = ("weeks", "adherence", "improvement_percent")
    vital_keys = ("minute", "systolic_mmhg", "diastolic_mmhg", "heart_rate_bpm", "spo2_percent")

    for i, patient_id in enumerate(p["patient_id"]):
        patient: dict[str, Any] = {"age_years": p["age_years"][i]}
        for key in ("sex", "weight_kg", "pregnant", "breastfeeding"):
            if p[key][i] is not None:
                patient[key] = p[key][i]
        trials = []
        for r in g["trials"].span(i):
            trial = {"drug": tr["drug"][r], "role": tr["role"][r], "episode": tr["episode"][r]}
            for k in optional_trial:
                if tr[k][r] is not None:
                    trial[k] = tr[k][r]
            for k in always_trial:
                trial[k] = tr[k][r]
            trials.append(trial)
        ect = [
            {
                "episode": ec["episode"][r],
                "laterality": ec["laterality"][r],
                "sessions": ec["sessions"][r],
                "improvement_percent": ec["improvement_percent"][r],
            }
            for r in g["ect"].span(i)
        ]
        screening = {sc["item"][r]: sc["value"][r] for r in g["screening"].span(i)}
        items: dict[int, list[Any]] = {}
        for r in g["assessment_items"].span(i):
            items.setdefault(it["index"][r], []).append(it["score"][r])
        answers = {cs["index"][r]: {k: cs[k][r] for k in CSSRS_KEYS} for r in g["cssrs"].span(i)}
        assessments = []
        for r in g["assessments"].span(i):
            idx = ad["index"][r]
            adm: dict[str, Any] = {"instrument": ad["instrument"][r], "when": ad["when"][r]}
            if idx in items:
                adm["items"] = items[idx]
            elif idx in answers:
                adm["answers"] = answers[idx]
            else:
                adm["total"] = ad["total"][r]
            assessments.append(adm)
        vit: dict[int, list[dict[str, Any]]] = {}
        a, b = g["vitals"].bounds[i], g["vitals"].bounds[i + 1]
        for num, *row in zip(*(vi[k][a:b] for k in ("number", *vital_keys)), strict=True):
            vit.setdefault(num, []).append(dict(zip(vital_keys, row, strict=True)))
        moa: dict[int, list[dict[str, Any]]] = {}
        for r in g["moaas"].span(i):
            moa.setdefault(mo["number"][r], []).append(
                {"minute": mo["minute"][r], "score": mo["score"][r]}
            )
        sessions = []
        for r in g["sessions"].span(i):
            num = se["number"][r]
            sess: dict[str, Any] = {"number": num, "modality": se["modality"][r]}
            for k in ("dose_mg", "dose_mg_per_kg", "infusion_minutes"):
                if se[k][r] is not None:
                    sess[k] = se[k][r]
            sess["vitals"] = vit.get(num, [])
            sess["moaas"] = moa.get(num, [])
            sess["cadss_total"] = se["cadss_total"][r]
            sess["observation_minutes"] = se["observation_minutes"][r]
            sess["adverse_events"] = [e for e in (se["adverse_events"][r] or "").split(";") if e]
            sessions.append(sess)
        yield {
            "format": "kdsupport-case/1",
            "id": patient_id,
            "synthetic": True,
            "title": f"Synthetic cohort patient {patient_id}",
            "patient": patient,
            "diagnosis": {
                "primary": p["primary"][i],
                "current_episode_months": p["current_episode_months"][i],
                "severity": p["severity"][i],
                "psychotic_features": p["psychotic_features"][i],
            },
            "trials": trials,
            "ect": ect,
            "screening": screening,
            "vitals": {
                k: p[k][i]
                for k in ("systolic_mmhg", "diastolic_mmhg", "heart_rate_bpm", "spo2_percent")
            },
            "assessments": assessments,
            "sessions": sessions,
        }
