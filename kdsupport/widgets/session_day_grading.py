"""The session-day drill (notebook 09), steps 1-4 graded, at *Check* only.

Every expected answer comes from the assessment of :func:`kdsupport.rules.assess.assess`: the
session's checks, what does not apply and why, and where the session sits in the dosing
schedule. A check the record cannot settle expects *not recorded* / *cannot tell*, never *no*.
Two answers combine checks without adding a rule of their own: *what do you do* during
monitoring (a finding that happened is for review: Kleene OR of the findings) and the discharge
decision (every discharge condition met: Kleene AND of the step's checks). When the patient may
drive is the knowledge base's counselling point.

For training with synthetic patients; not a medical device.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kdsupport.render import html as H
from kdsupport.rules.result import CheckKind, Status, all_of, any_of
from kdsupport.widgets.session_day_fields import (
    NOT_APPLICABLE,
    Field,
    FieldResult,
    Given,
    Grading,
    Step,
)
from kdsupport.widgets.session_day_steps import check_kind

if TYPE_CHECKING:
    from kdsupport.rules.result import Reason

__all__ = ["grade_step"]

# The findings behind step 3's "what do you do": any that happened is for review.
_ACTION_FINDINGS = (
    "bp_rise",
    "bp_severe",
    "deep_sedation",
    "desaturation",
    "loss_of_consciousness",
)


def _status_of(g: Grading, name: str) -> tuple[str, tuple[Reason, ...]]:
    """A check's result for the session: met / not_met / unknown / not_applicable, with why."""
    s = g.checks
    if name in s.not_applicable:
        return NOT_APPLICABLE, (s.not_applicable[name],)
    if name in s.checks:
        return s.checks[name].value, tuple(s.details.get(name, ()))
    # not run: the session records no session-day field, so nothing is known of it
    return Status.UNKNOWN.value, ()


def _expected_html(kind: CheckKind, value: str) -> str:
    if value == NOT_APPLICABLE:
        return H.badge("does_not_apply")
    return H.check_badge(Status(value), kind)


def _result(
    f: Field,
    given: Any,
    expected: Any,
    why: tuple[str, ...],
    sources: tuple[str, ...],
    *,
    expected_html: str | None = None,
    hazard: bool = False,
) -> FieldResult:
    words = f.words(expected)
    return FieldResult(
        f.id,
        f.label,
        given,
        f.words(given),
        words,
        expected_html if expected_html is not None else H.esc(words),
        given == expected,
        why,
        tuple(dict.fromkeys(sources)),
        hazard,
    )


def _grade_check(g: Grading, f: Field, given: Any) -> FieldResult:
    kind = check_kind(g.kb, f.id)
    value, reasons = _status_of(g, f.id)
    if not reasons:
        why: tuple[str, ...] = ("no session-day field is recorded for this session",)
    else:
        why = tuple(r.message for r in reasons)
    src = tuple(s for r in reasons for s in r.sources)
    hazard = (kind is CheckKind.FINDING and value == "met") or (
        kind is CheckKind.COMPLIANCE and value == "not_met"
    )
    html = _expected_html(kind, value)
    if f.id == "concomitant_interacting":  # the badge's words are not the choice's: show both
        html += " " + H.esc(f.words(value))
    return _result(f, given, value, why, src, expected_html=html, hazard=hazard)


def _grade_predose(g: Grading, f: Field, given: Any) -> FieldResult:
    from kdsupport.rules.monitoring import bp_tier

    guide = g.kb.vitals.predose_bp_guide
    zero = next((r for r in g.session.vitals or () if r.minute == 0), None)
    if zero is None:
        tier = "unknown"
    else:
        tier, _, _ = bp_tier(zero.systolic_mmhg, zero.diastolic_mmhg, g.kb)
    _, reasons = _status_of(g, "predose_bp")
    meaning = {guide.above_status: guide.meaning, guide.severe.status: guide.severe.meaning}
    why = tuple(r.message for r in reasons) + ((meaning[tier],) if tier in meaning else ())
    src = tuple(s for r in reasons for s in r.sources)
    src += g.kb.source_ids(guide.source) if tier == guide.above_status else ()
    src += g.kb.source_ids(guide.severe.source) if tier == guide.severe.status else ()
    return _result(f, given, tier, why, src, hazard=tier in meaning)


def _grade_phase(g: Grading, f: Field, given: Any) -> FieldResult:
    place = g.checks.schedule
    value = place.phase if place is not None and place.phase else "unknown"
    why: list[str] = []
    if place is not None and place.course_week is not None:
        why.append(f"course week {place.course_week}, counted from day 1 ({place.day_one})")
    if place is not None and place.note:
        why.append(place.note)
    _, reasons = _status_of(g, "frequency_fits_schedule")
    why += [r.message for r in reasons if value == "unknown"]
    src = (g.kb.session_day.schedule.day_one_source.id,) + tuple(
        s for r in reasons for s in r.sources
    )
    return _result(f, given, value, tuple(why), src)


def _grade_doses(g: Grading, f: Field, given: Any) -> FieldResult:
    place = g.checks.schedule
    doses = None if place is None else place.doses_mg
    if doses is None:
        value = ["unknown"]
    else:
        value = sorted({f"{d:g}" for d in doses}) or ["none"]
    _, reasons = _status_of(g, "dose_fits_schedule")
    why = tuple(r.message for r in reasons)
    tables = g.kb.session_day.schedule.jurisdictions
    label = next(j.label for k, j in tables.items() if k == g.jurisdiction)
    why = (f"the table used: {label}, patient aged {g.record.patient.age_years}",) + why
    src = tuple(s for r in reasons for s in r.sources)
    return _result(f, sorted(given or []), value, why, src)


def _grade_action(g: Grading, f: Field, given: Any) -> FieldResult:
    statuses = {n: _status_of(g, n) for n in _ACTION_FINDINGS}
    any_found = any_of(Status(v) for v, _ in statuses.values() if v != NOT_APPLICABLE)
    value = {Status.MET: "review", Status.NOT_MET: "continue", Status.UNKNOWN: "unknown"}[any_found]
    titles = g.kb.session_check_info()
    happened = [titles[n].title for n, (v, _) in statuses.items() if v == "met"]
    unsure = [titles[n].title for n, (v, _) in statuses.items() if v == "unknown"]
    why = [
        f"happened: {', '.join(happened)}" if happened else "no finding happened",
        *([f"cannot tell: {', '.join(unsure)}"] if unsure else []),
    ]
    if statuses["bp_severe"][0] == "met":
        why.append(g.kb.vitals.predose_bp_guide.severe.meaning)
    src = tuple(s for _, rs in statuses.values() for r in rs for s in r.sources)
    return _result(f, given, value, tuple(why), src, hazard=value == "review")


def _grade_discharge(g: Grading, f: Field, given: Any, step: Step) -> FieldResult:
    names = [x.id for x in step.fields if x.id in g.kb.session_check_info()]
    statuses = {n: _status_of(g, n) for n in names}
    decided = all_of(Status(v) for v, _ in statuses.values() if v != NOT_APPLICABLE)
    value = {Status.MET: "home", Status.NOT_MET: "not_yet", Status.UNKNOWN: "unknown"}[decided]
    titles = g.kb.session_check_info()
    unmet = [titles[n].title for n, (v, _) in statuses.items() if v == "not_met"]
    unsure = [titles[n].title for n, (v, _) in statuses.items() if v == "unknown"]
    why = []
    if unmet:
        why.append(f"not met: {', '.join(unmet)}")
    if unsure:
        why.append(f"not recorded: {', '.join(unsure)}")
    if not why:
        why.append("every discharge condition on this step is met")
    src = tuple(s for _, rs in statuses.values() for r in rs for s in r.sources)
    return _result(f, given, value, tuple(why), src, hazard=value != "home")


def _grade_driving(g: Grading, f: Field, given: Any) -> FieldResult:
    point = next(c for c in g.kb.session_day.counselling if c.id == "driving")
    return _result(f, given, "next_day", (point.text,), g.kb.source_ids(point.source))


def grade_step(step: Step, given: Given, g: Grading) -> list[FieldResult]:
    """Every field of a step against the record and the rules (at Check time only)."""
    info = g.kb.session_check_info()
    out = []
    for f in step.fields:
        v = given.values.get(f.id)
        if f.id in info:
            out.append(_grade_check(g, f, v))
        elif f.id == "predose_tier":
            out.append(_grade_predose(g, f, v))
        elif f.id == "phase":
            out.append(_grade_phase(g, f, v))
        elif f.id == "allowed_doses":
            out.append(_grade_doses(g, f, v))
        elif f.id == "action":
            out.append(_grade_action(g, f, v))
        elif f.id == "discharge":
            out.append(_grade_discharge(g, f, v, step))
        elif f.id == "driving":
            out.append(_grade_driving(g, f, v))
        else:
            raise KeyError(f"no grading for field {f.id!r}")
    return out
