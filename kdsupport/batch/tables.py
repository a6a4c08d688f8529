"""Cohort tables for batch screening: built from case records, and checked before screening.

:func:`tables_from_records` turns valid case-record mappings into the generator's tidy tables;
:func:`validate_tables` yields (patient id, field path, message) for every value the rules
cannot accept, so that invalid patients are reported and left out, never guessed.

For training and audit with synthetic patients; not a medical device.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any, SupportsInt, cast

import numpy as np

from kdsupport.rules.columns import MET, category_codes, flt, tri, txt

if TYPE_CHECKING:
    import pandas as pd

    from kdsupport.knowledge import KnowledgeBase

__all__ = ["tables_from_records", "validate_tables"]


def tables_from_records(records: Iterable[dict[str, Any]]) -> dict[str, pd.DataFrame]:
    """Tidy tables (the generator's schema) from valid case-record mappings.

    Lists that are absent in a record become empty tables: tables cannot say "not recorded"
    about a whole list. Session tables are left empty (screening does not use them).
    """
    from kdsupport.cohort.schema import TABLES, frame

    rows: dict[str, dict[str, list[Any]]] = {t: {c: [] for c in TABLES[t]} for t in TABLES}

    def add(table: str, **values: Any) -> None:
        for c in TABLES[table]:
            rows[table][c].append(values.get(c))

    for rec in records:
        pid = rec["id"]
        p, dx, v = rec["patient"], rec.get("diagnosis") or {}, rec.get("vitals") or {}
        add(
            "patients",
            patient_id=pid,
            **{k: p.get(k) for k in ("age_years", "sex", "weight_kg", "pregnant", "breastfeeding")},
            **{
                k: dx.get(k)
                for k in ("primary", "current_episode_months", "severity", "psychotic_features")
            },
            **{
                k: v.get(k)
                for k in ("systolic_mmhg", "diastolic_mmhg", "heart_rate_bpm", "spo2_percent")
            },
            treatment_modality=None,
        )
        for i, t in enumerate(rec.get("trials") or ()):
            add(
                "trials",
                patient_id=pid,
                trial=i,
                drug=t["drug"].strip().lower(),
                role=t.get("role", "monotherapy"),
                episode=t.get("episode", "current"),
                **{
                    k: t.get(k)
                    for k in (
                        "dose_mg_per_day",
                        "serum_level_mmol_l",
                        "weeks",
                        "adherence",
                        "improvement_percent",
                        "dose_optimised",
                    )
                },
            )
        for i, e in enumerate(rec.get("ect") or ()):
            add(
                "ect",
                patient_id=pid,
                course=i,
                episode=e.get("episode", "current"),
                laterality=e.get("laterality"),
                sessions=e.get("sessions"),
                improvement_percent=e.get("improvement_percent"),
            )
        for item, value in (rec.get("screening") or {}).items():
            add("screening", patient_id=pid, item=item, value=value)
        for i, a in enumerate(rec.get("assessments") or ()):
            add(
                "assessments",
                patient_id=pid,
                index=i,
                instrument=a["instrument"],
                when=a["when"],
                total=a.get("total"),
            )
            for j, score in enumerate(a.get("items") or ()):
                add("assessment_items", patient_id=pid, index=i, item=j + 1, score=score)
            if a.get("answers") is not None or a["instrument"] == "cssrs_screener":
                add("cssrs", patient_id=pid, index=i, **(a.get("answers") or {}))
    return {t: frame(t, {c: np.array(v, dtype=object) for c, v in rows[t].items()}) for t in TABLES}


def validate_tables(
    tables: dict[str, pd.DataFrame], kb: KnowledgeBase | None = None
) -> Iterator[tuple[str, str, str]]:
    """Yield (patient id, field path, message) for every value the rules cannot accept.

    The checks mirror the case-record contract for what tables can hold: categories, ranges,
    known drugs and their roles, diastolic below systolic, scale items in range.
    """
    from kdsupport.files.input_gate import quote_key
    from kdsupport.records.case import Diagnosis, ECTCourse, Patient, Screening, Trial, Vitals

    if kb is None:
        from kdsupport.knowledge import load

        kb = load()

    def bounds(model: Any, field: str) -> tuple[float | None, float | None, bool, bool]:
        lo = hi = None
        lo_inc = hi_inc = True
        for m in model.model_fields[field].metadata:
            if getattr(m, "ge", None) is not None:
                lo = m.ge
            if getattr(m, "gt", None) is not None:
                lo, lo_inc = m.gt, False
            if getattr(m, "le", None) is not None:
                hi = m.le
            if getattr(m, "lt", None) is not None:
                hi, hi_inc = m.lt, False
        return lo, hi, lo_inc, hi_inc

    def check_range(
        df: pd.DataFrame, col: str, model: Any, path: Any
    ) -> Iterator[tuple[str, str, str]]:
        lo, hi, lo_inc, hi_inc = bounds(model, col)
        vals = flt(df[col])
        bad = np.zeros(len(vals), bool)
        with np.errstate(invalid="ignore"):
            if lo is not None:
                bad |= (vals < lo) if lo_inc else (vals <= lo)
            if hi is not None:
                bad |= (vals > hi) if hi_inc else (vals >= hi)
        for i in _rows(bad):
            yield str(df["patient_id"].iat[i]), path(i), f"{col} out of range, got {vals[i]:g}"

    def check_choice(
        df: pd.DataFrame, col: str, allowed: set[Any], path: Any
    ) -> Iterator[tuple[str, str, str]]:
        col_values = df[col].astype(object)
        bad = (col_values.notna() & ~col_values.isin(list(allowed))).to_numpy()
        for i in _rows(bad):
            got = col_values.iat[i]
            yield (
                str(df["patient_id"].iat[i]),
                path(i),
                f"must be one of {sorted(allowed)}, got {got!r}",
            )

    p = tables["patients"]
    yield from check_range(p, "age_years", Patient, lambda i: "patient.age_years")
    for col, model, prefix in (
        ("weight_kg", Patient, "patient"),
        ("current_episode_months", Diagnosis, "diagnosis"),
        ("systolic_mmhg", Vitals, "vitals"),
        ("diastolic_mmhg", Vitals, "vitals"),
        ("heart_rate_bpm", Vitals, "vitals"),
        ("spo2_percent", Vitals, "vitals"),
    ):
        yield from check_range(p, col, model, lambda i, c=col, pre=prefix: f"{pre}.{c}")
    yield from check_choice(
        p, "sex", {"female", "male", "intersex", "unknown"}, lambda i: "patient.sex"
    )
    yield from check_choice(
        p, "primary", {"mdd", "bipolar_depression", "other"}, lambda i: "diagnosis.primary"
    )
    yield from check_choice(
        p,
        "severity",
        {"subsyndromal", "mild", "moderate", "severe"},
        lambda i: "diagnosis.severity",
    )
    s, d = flt(p["systolic_mmhg"]), flt(p["diastolic_mmhg"])
    with np.errstate(invalid="ignore"):
        for i in _rows(d >= s):
            yield (
                str(p["patient_id"].iat[i]),
                "vitals.diastolic_mmhg",
                "must be below systolic_mmhg",
            )
    male = txt(p["sex"]) == "male"
    for col in ("pregnant", "breastfeeding"):
        for i in _rows(male & (tri(p[col]) == MET)):
            yield str(p["patient_id"].iat[i]), f"patient.{col}", "cannot be true when sex is 'male'"

    t = tables["trials"]
    tpath = lambda i, c: f"trials[{_int_at(t['trial'], i)}].{c}"  # noqa: E731
    drugs = txt(t["drug"])
    known = t["drug"].astype(object).isin(list(kb.drugs.drugs)).to_numpy()
    for i in _rows(~known):
        yield str(t["patient_id"].iat[i]), tpath(i, "drug"), f"unknown drug {drugs[i]!r}"
    for col in ("dose_mg_per_day", "serum_level_mmol_l", "weeks", "improvement_percent"):
        yield from check_range(t, col, Trial, lambda i, c=col: tpath(i, c))
    yield from check_choice(
        t, "role", {"monotherapy", "combination", "augmentation"}, lambda i: tpath(i, "role")
    )
    yield from check_choice(t, "episode", {"current", "previous"}, lambda i: tpath(i, "episode"))
    yield from check_choice(
        t, "adherence", {"adequate", "inadequate"}, lambda i: tpath(i, "adherence")
    )
    role = txt(t["role"])
    serum = ~np.isnan(flt(t["serum_level_mmol_l"]))
    names = sorted(kb.drugs.drugs)
    dcode = category_codes(t["drug"], names)
    augmentation_agent = np.array(
        [not kb.drugs.classes[kb.drugs.drugs[d].drug_class].antidepressant for d in names] + [False]
    )[dcode]
    serum_drug = np.array(
        [
            any(m.serum_level_mmol_l is not None for m in kb.drugs.drugs[d].min_adequate.values())
            for d in names
        ]
        + [True]
    )[dcode]
    for i in _rows(known & augmentation_agent & (role != "augmentation")):
        yield str(t["patient_id"].iat[i]), tpath(i, "role"), f"{drugs[i]} is an augmentation agent"
    for i in _rows(known & serum & ~serum_drug):
        yield (
            str(t["patient_id"].iat[i]),
            tpath(i, "serum_level_mmol_l"),
            "only lithium is judged on a serum level",
        )

    ec = tables["ect"]
    for col in ("episode", "laterality"):
        yield from check_choice(
            ec,
            col,
            _choices(ECTCourse, col),
            lambda i, c=col: f"ect[{_int_at(ec['course'], i)}].{c}",
        )

    sc = tables["screening"]
    known_items = sorted(Screening.model_fields)
    unknown = (sc["item"].notna() & ~sc["item"].astype(object).isin(known_items)).to_numpy(bool)
    for i in _rows(unknown):
        yield (
            str(sc["patient_id"].iat[i]),
            "screening.item",
            f"unknown screening item {quote_key(str(sc['item'].iat[i]))}; the items are: "
            + ", ".join(known_items),
        )

    ad = tables["assessments"]
    yield from check_choice(
        ad,
        "instrument",
        set(kb.scales.instruments),
        lambda i: f"assessments[{_int_at(ad['index'], i)}].instrument",
    )
    items = tables["assessment_items"]
    if len(items):
        joined = items.merge(
            ad[["patient_id", "index", "instrument"]], on=["patient_id", "index"], how="left"
        )
        inst = txt(joined["instrument"])
        item_no = joined["item"].to_numpy(dtype=np.int64)
        score = flt(joined["score"])
        bad = np.zeros(len(joined), bool)
        for name, spec in kb.scales.instruments.items():
            if spec.items is None:
                continue
            sel = inst == name
            with np.errstate(invalid="ignore"):
                bad |= sel & (
                    (item_no < 1)
                    | (item_no > spec.items.count)
                    | (score < spec.items.min)
                    | (score > spec.items.max)
                )
        for i in _rows(bad):
            yield (
                str(joined["patient_id"].iat[i]),
                f"assessments[{_int_at(joined['index'], i)}].items[{item_no[i] - 1}]",
                f"out of range for {inst[i]}",
            )


def _rows(mask: np.ndarray) -> list[int]:
    """Positions of the true values of a boolean mask, as Python ints (for ``.iat``)."""
    return [int(i) for i in np.flatnonzero(mask)]


def _int_at(series: pd.Series, i: int) -> int:
    """The value at position ``i`` of an integer column, as a Python int."""
    # the stubs type .iat as any scalar; these columns hold integers (int() raises otherwise)
    return int(cast(SupportsInt, series.iat[i]))


def _choices(model: Any, field: str) -> set[str]:
    """The values a case record allows in a ``Literal`` field (None aside)."""
    import typing

    annotation = model.model_fields[field].annotation
    out: set[str] = set()
    for part in (annotation, *typing.get_args(annotation)):
        if typing.get_origin(part) is typing.Literal:
            out.update(typing.get_args(part))
    return out
