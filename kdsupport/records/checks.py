"""Checks that need the knowledge base or several fields of a record at once.

Diastolic below systolic, known drugs in their roles, scale items and totals against the
instrument, the teaching section. Tolerant of wrong types: the model reports those.

For training and case conferences with synthetic patients; not a medical device.
"""

from __future__ import annotations

import difflib
from typing import Any

from kdsupport.errors import Problem
from kdsupport.records.messages import show_value
from kdsupport.records.session_day import session_day_problems
from kdsupport.records.shapes import is_number, items_of
from kdsupport.records.teaching import teaching_problems

__all__ = ["semantic_problems"]


def _bp_order(entry: dict[str, Any], path: str) -> list[Problem]:
    sys_, dia = entry.get("systolic_mmhg"), entry.get("diastolic_mmhg")
    if is_number(sys_) and is_number(dia) and dia >= sys_:
        return [
            Problem(f"{path}diastolic_mmhg", f"must be below systolic_mmhg ({sys_}), got {dia}")
        ]
    return []


def semantic_problems(data: dict[str, Any]) -> list[Problem]:
    """Checks that need the knowledge base or several fields; tolerant of wrong types."""
    from kdsupport.knowledge import load

    kb = load()
    problems: list[Problem] = []
    drugs = kb.drugs.drugs

    for i, trial in items_of(data, "trials"):
        where = f"trials[{i}]"
        name = trial.get("drug")
        if not isinstance(name, str):
            continue
        key = name.strip().lower()
        drug = drugs.get(key)
        if drug is None:
            close = difflib.get_close_matches(key, list(drugs), n=3, cutoff=0.7)
            if close:
                hint = f"did you mean {', '.join(repr(c) for c in close)}?"
            else:
                hint = f"use a generic name, one of: {', '.join(sorted(drugs))}"
            problems.append(Problem(f"{where}.drug", f"unknown drug {name!r}; {hint}"))
            continue
        cls = kb.drugs.classes[drug.drug_class]
        role = trial.get("role", "monotherapy")
        if not cls.antidepressant and role != "augmentation":
            problems.append(
                Problem(
                    f"{where}.role",
                    f"{key} is an augmentation agent ({cls.label}), so role must be "
                    f"'augmentation', got {show_value(role)}",
                )
            )
        serum_judged = any(m.serum_level_mmol_l is not None for m in drug.min_adequate.values())
        if trial.get("serum_level_mmol_l") is not None and not serum_judged:
            problems.append(
                Problem(
                    f"{where}.serum_level_mmol_l",
                    f"only lithium is judged on a serum level; give dose_mg_per_day for {key}",
                )
            )

    patient = data.get("patient")
    if isinstance(patient, dict) and patient.get("sex") == "male":
        for key in ("pregnant", "breastfeeding"):
            if patient.get(key) is True:
                problems.append(Problem(f"patient.{key}", "cannot be true when sex is 'male'"))

    if isinstance(data.get("vitals"), dict):
        problems += _bp_order(data["vitals"], "vitals.")

    instruments = kb.scales.instruments
    for i, adm in items_of(data, "assessments"):
        problems += _administration_problems(adm, f"assessments[{i}]", instruments)

    if isinstance(data.get("teaching"), dict):
        problems += teaching_problems(data["teaching"], kb)

    numbers: dict[Any, int] = {}
    moaas_spec = instruments["moaas"].items
    cadss_total = instruments["cadss"].total
    for i, sess in items_of(data, "sessions"):
        where = f"sessions[{i}]"
        num = sess.get("number")
        if isinstance(num, int) and not isinstance(num, bool):
            if num in numbers:
                problems.append(
                    Problem(
                        f"{where}.number",
                        f"duplicate session number {num} (also sessions[{numbers[num]}])",
                    )
                )
            numbers.setdefault(num, i)
        for j, reading in items_of(sess, "vitals"):
            problems += _bp_order(reading, f"{where}.vitals[{j}].")
        for j, reading in items_of(sess, "moaas"):
            score = reading.get("score")
            if isinstance(score, int) and not isinstance(score, bool) and moaas_spec:
                if not moaas_spec.min <= score <= moaas_spec.max:
                    problems.append(
                        Problem(
                            f"{where}.moaas[{j}].score",
                            f"MOAA/S scores are {moaas_spec.min}-{moaas_spec.max}, got {score}",
                        )
                    )
        total = sess.get("cadss_total")
        if isinstance(total, int) and not isinstance(total, bool) and cadss_total:
            if not cadss_total.min <= total <= cadss_total.max:
                problems.append(
                    Problem(
                        f"{where}.cadss_total",
                        f"CADSS totals are {cadss_total.min}-{cadss_total.max}, got {total}",
                    )
                )
    return problems + session_day_problems(data, kb)


def _administration_problems(adm: dict[str, Any], where: str, instruments: Any) -> list[Problem]:
    name = adm.get("instrument")
    spec = instruments.get(name) if isinstance(name, str) else None
    if spec is None:
        return []  # the schema already reports an unknown instrument
    out: list[Problem] = []
    items, total, answers = adm.get("items"), adm.get("total"), adm.get("answers")
    if spec.scoring == "none":
        for key, value in (("items", items), ("total", total)):
            if value is not None:
                out.append(Problem(f"{where}.{key}", f"{name} has no {key}; give its answers"))
        return out
    if answers is not None:
        out.append(Problem(f"{where}.answers", f"answers belong to cssrs_screener, not {name}"))
    ispec, tspec = spec.items, spec.total
    all_known = False
    if isinstance(items, list):
        if len(items) != ispec.count:
            out.append(
                Problem(f"{where}.items", f"{name} has {ispec.count} items, got {len(items)}")
            )
        for j, score in enumerate(items):
            if isinstance(score, int) and not isinstance(score, bool):
                if not ispec.min <= score <= ispec.max:
                    out.append(
                        Problem(
                            f"{where}.items[{j}]",
                            f"{name} item scores are {ispec.min}-{ispec.max}, got {score}",
                        )
                    )
        all_known = len(items) == ispec.count and all(
            isinstance(s, int) and not isinstance(s, bool) and ispec.min <= s <= ispec.max
            for s in items
        )
        if total is not None and any(s is None for s in items):
            out.append(
                Problem(
                    f"{where}.total",
                    "cannot be combined with items that contain null (no proration): "
                    "give all items, or the total alone",
                )
            )
    if isinstance(total, int) and not isinstance(total, bool):
        if not tspec.min <= total <= tspec.max:
            out.append(
                Problem(f"{where}.total", f"{name} totals are {tspec.min}-{tspec.max}, got {total}")
            )
        elif all_known:
            computed = spec.total_from_items(items)
            if computed != total:
                out.append(
                    Problem(
                        f"{where}.total",
                        f"{total} does not match the total of the items ({computed})",
                    )
                )
    return out
