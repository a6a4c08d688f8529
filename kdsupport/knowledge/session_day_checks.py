"""Consistency checks of ``session_day.yaml`` beyond its schema.

Every session-day check is defined with the threshold its rule reads; every dosing table covers
the weeks without gaps or overlaps from week 1, with a day-1 row, and allows only whole devices;
the default jurisdiction and infusion threshold exist; the REMS form lists each field the filler
answers exactly once.

For training with synthetic patients; not a medical device.
"""

from __future__ import annotations

from typing import Any

from kdsupport.errors import Problem
from kdsupport.knowledge.models.session_day import REMS_FORM_FIELDS, SESSION_DAY_CHECKS

__all__ = ["session_day_checks"]

_WHERE = "session_day.yaml"
# The value each rule reads from its check's definition.
_NEEDS = {
    "fasting_food": "min_hours",
    "fasting_liquid": "min_minutes",
    "nasal_spray_timing": "min_minutes",
    "rest_between_devices": "min_minutes",
    "rems_form_submitted": "deadline_days",
}


def _check_defs(sd: Any) -> list[Problem]:
    p = []
    for name in SESSION_DAY_CHECKS:
        if name not in sd.checks:
            p.append(Problem(f"{_WHERE}: checks", f"missing check {name!r}"))
        elif name in _NEEDS and getattr(sd.checks[name], _NEEDS[name]) is None:
            p.append(Problem(f"{_WHERE}: checks.{name}", f"needs {_NEEDS[name]}"))
    return p


def _table_problems(i: int, t: Any, per_device: float) -> list[Problem]:
    where = f"{_WHERE}: schedule.tables[{i}]"
    if t.not_found:
        return [Problem(where, "a table not found has no phases")] if t.phases else []
    p = []
    if [ph.phase for ph in t.phases].count("day_1") != 1:
        p.append(Problem(where, "needs exactly one day_1 phase"))
    later = sorted((ph for ph in t.phases if ph.phase != "day_1"), key=lambda ph: ph.first_week)
    expect = 1
    for ph in later:
        if ph.first_week != expect:
            p.append(
                Problem(where, f"phase {ph.phase} starts at week {ph.first_week}, not {expect}")
            )
        if ph.last_week is None:
            expect = -1
            continue
        expect = ph.last_week + 1
    if later and later[-1].last_week is not None:
        p.append(Problem(where, "the last phase must run on (last_week: null)"))
    for ph in t.phases:
        odd = [d for d in ph.doses_mg if not (d / per_device).is_integer()]
        if odd:
            p.append(Problem(where, f"phase {ph.phase}: doses {odd} are not whole devices"))
    return p


def session_day_checks(sd: Any) -> list[Problem]:
    """Problems of a parsed ``session_day.yaml``."""
    p = _check_defs(sd)
    sched = sd.schedule
    if sched.default_jurisdiction not in sched.jurisdictions:
        p.append(Problem(f"{_WHERE}: schedule.default_jurisdiction", "unknown jurisdiction"))
    per_device = sd.administration.mg_per_device.value
    for i, t in enumerate(sched.tables):
        p += _table_problems(i, t, per_device)
    for ind in sched.indications:
        for where in sched.jurisdictions:
            rows = [t for t in sched.tables if (t.indication, t.jurisdiction) == (ind, where)]
            if not any(t.min_age_years is None for t in rows):
                p.append(Problem(f"{_WHERE}: schedule.tables", f"no adult table for {ind}/{where}"))
    if sd.infusion_bp.default not in sd.infusion_bp.definitions:
        p.append(Problem(f"{_WHERE}: infusion_bp.default", "unknown definition"))
    ids = [f.id for f in sd.rems_form.fields]
    if sorted(ids) != sorted(REMS_FORM_FIELDS):
        extra = sorted(set(ids) - set(REMS_FORM_FIELDS))
        lost = sorted(set(REMS_FORM_FIELDS) - set(ids))
        twice = sorted({x for x in ids if ids.count(x) > 1})
        p.append(
            Problem(
                f"{_WHERE}: rems_form.fields",
                f"unknown {extra}, missing {lost}, repeated {twice}",
            )
        )
    return p
