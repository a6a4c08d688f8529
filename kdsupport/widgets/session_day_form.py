"""The session-day drill (notebook 09), step 5: the REMS Patient Monitoring Form, field by field.

The trainee fills in widgets that mirror the form (``knowledge/session_day.yaml``, in the form's
order and sections): yes / no / not recorded choices, the dose boxes with *Other*, text boxes for
the lot number, dates, minutes, blood pressures and scores. Then whether the form can be
submitted.

The answer key is :func:`kdsupport.rules.rems_form.fill_rems_form`, called only by
:func:`grade_form`, at *Check*, in the kernel: it never reaches a widget or the page before. Each
field is compared with the key's answer in the form the trainee entered it (a blood pressure by
its two values, minutes and scores as numbers, adverse events as a set, text ignoring case and
spacing); a field the record does not answer expects *not recorded*. A key answer that records a
hazard (the form's ``flagged``) is shown as a warning.

For training with synthetic patients; not a medical device.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from kdsupport.render import html as H
from kdsupport.widgets.session_day_fields import (
    CHOICE,
    NOT_RECORDED,
    TEXT,
    Field,
    FieldResult,
    Given,
    Grading,
    Step,
)

if TYPE_CHECKING:
    from kdsupport.knowledge import KnowledgeBase
    from kdsupport.knowledge.models.session_day import FormField
    from kdsupport.rules.rems_form import FilledForm, FormAnswer

__all__ = ["form_step", "grade_form", "parse_entry", "key_parts", "NUMBER"]

NUMBER = re.compile(r"(?<![\w.])[-+]?\d+(?:[.,]\d+)?")
_BP = re.compile(r"^\s*(\d+(?:[.,]\d+)?)\s*/\s*(\d+(?:[.,]\d+)?)\s*(?:mm\s*hg)?\s*$", re.I)
_NOT_RECORDED_WORDS = {"not recorded", "unknown", "not known", "nr"}
_YES_NO = (("Yes", "Yes"), ("No", "No"), (NOT_RECORDED, "Not recorded"))
_NR_HINT = "or type: not recorded"

# How each form field is entered: its controls (id, kind, label, hint, optional) and how the key's
# answer and the entries are compared (_PARTS).
_SINGLE_TEXT = {
    "monitored_by": ("text", "As on the chart, " + _NR_HINT),
    "device_lot": ("text", "As on the chart, " + _NR_HINT),
    "treatment_date": ("text", "YYYY-MM-DD, " + _NR_HINT),
    "monitoring_minutes": ("number", "In minutes, " + _NR_HINT),
    "ready_to_leave": ("number", "In minutes from the start of administration, " + _NR_HINT),
    "bp_before": ("bp", "Systolic/diastolic in mmHg, for example 120/80, " + _NR_HINT),
    "bp_40_minutes": ("bp", "Systolic/diastolic in mmHg, " + _NR_HINT),
    "bp_before_completion": ("bp", "Systolic/diastolic in mmHg, " + _NR_HINT),
    "respiratory_depression": ("number", "The lowest SpO2 in per cent, " + _NR_HINT),
    "adverse_events": ("events", "Separated by commas; none if there were none; " + _NR_HINT),
}


def _controls(kb: KnowledgeBase, f: FormField) -> list[Field]:
    """The widgets of one form field."""
    sec = f.section
    if f.id.startswith("concomitant_") or f.id.startswith("vitals_acceptable"):
        return [Field(f.id, CHOICE, f.label, _YES_NO, section=sec)]
    if f.id == "setting":
        opts = (("outpatient", "Outpatient"), ("inpatient", "Inpatient"), _YES_NO[2])
        return [Field(f.id, CHOICE, f.label, opts, section=sec)]
    if f.id == "dose":
        boxes = tuple((f"{b:g}", f"{b:g} mg") for b in f.boxes_mg or ())
        return [
            Field(f.id, CHOICE, f.label, (*boxes, ("other", "Other"), _YES_NO[2]), section=sec),
            Field(
                "dose_other",
                TEXT,
                "If Other: the dose in mg",
                hint="Leave empty unless you chose Other.",
                section=sec,
                optional=True,
            ),
        ]
    if f.id == "sedation":
        return [
            Field("sedation_lowest", TEXT, "Lowest MOAA/S score", hint=_NR_HINT, section=sec),
            Field("sedation_last", TEXT, "Last MOAA/S score", hint=_NR_HINT, section=sec),
        ]
    if f.id == "dissociation":
        return [
            Field("dissociation_cadss", TEXT, "CADSS total", hint=_NR_HINT, section=sec),
            Field(
                "dissociation_resolved",
                CHOICE,
                "Dissociation resolved before discharge",
                _YES_NO,
                section=sec,
            ),
        ]
    if f.id == "patient":
        return []  # printed on the form already: not asked
    _, hint = _SINGLE_TEXT[f.id]
    return [Field(f.id, TEXT, f.label, hint=hint, section=sec)]


def _status_field(kb: KnowledgeBase) -> Field:
    days = kb.session_day.checks["rems_form_submitted"].deadline_days
    within = f" within {days.value:g} days of the session" if days else ""
    return Field(
        "form_status",
        CHOICE,
        "Can this form be submitted?",
        (
            ("complete", f"Yes: every required field is answered; submit it{within}"),
            ("incomplete", "Not yet: required fields are not recorded"),
            ("not_required", "It is not required: an inpatient session"),
        ),
        section="Submitting the form",
    )


def form_step(kb: KnowledgeBase) -> Step:
    """Step 5: the form's fields in its order and sections, then whether it can be submitted."""
    spec = kb.session_day.rems_form
    fields = [c for f in spec.fields for c in _controls(kb, f)]
    return Step(
        "rems_form",
        "The REMS Patient Monitoring Form",
        f"{spec.title}. Fill it in from the chart, field by field: type not recorded where the "
        "chart does not say. Nothing is submitted anywhere: it is a training copy.",
        (*fields, _status_field(kb)),
    )


# ---------------------------------------------------------------- comparing entries and the key
def _norm(text: str) -> str:
    return " ".join(text.casefold().split())


def _num(text: str) -> float | None:
    m = NUMBER.fullmatch(text.strip()) if text else None
    return float(m.group().replace(",", ".")) if m else None


def _nums(text: str) -> list[float]:
    return [float(x.replace(",", ".")) for x in NUMBER.findall(text)]


def parse_entry(kind: str, text: str) -> Any:
    """A text entry in comparable form; ``NOT_RECORDED``; or ``ValueError`` saying what is wrong."""
    if _norm(text) in _NOT_RECORDED_WORDS:
        return NOT_RECORDED
    if kind == "number":
        n = _num(text)
        if n is None:
            raise ValueError("enter a number, or not recorded")
        return n
    if kind == "bp":
        m = _BP.match(text)
        if not m:
            raise ValueError("enter systolic/diastolic, for example 120/80, or not recorded")
        return (float(m.group(1).replace(",", ".")), float(m.group(2).replace(",", ".")))
    if kind == "events":
        items = {_norm(x) for x in re.split(r"[,;]", text) if x.strip()}
        return frozenset() if items <= {"none"} else frozenset(items - {"none"})
    return _norm(text)


def key_parts(field_id: str, answer: str | None) -> dict[str, Any]:
    """The key's answer of one form field split into the values its controls take."""
    if answer is None:
        none = {
            "dose": {"dose": NOT_RECORDED, "dose_other": ""},
            "sedation": {"sedation_lowest": NOT_RECORDED, "sedation_last": NOT_RECORDED},
            "dissociation": {
                "dissociation_cadss": NOT_RECORDED,
                "dissociation_resolved": NOT_RECORDED,
            },
        }
        return none.get(field_id, {field_id: NOT_RECORDED})
    nums = _nums(answer)
    if field_id == "dose":
        other = answer.startswith("Other")
        return {
            "dose": "other" if other else f"{nums[0]:g}",
            "dose_other": nums[0] if other else "",
        }
    if field_id == "sedation":  # lowest score (minute); last score (minute)
        return {"sedation_lowest": nums[0], "sedation_last": nums[2]}
    if field_id == "dissociation":
        cadss = re.search(r"CADSS (\d+)", answer)
        tail = answer.split(";")[-1].casefold()
        resolved = (
            NOT_RECORDED if "not recorded" in tail else "No" if "not resolved" in tail else "Yes"
        )
        return {
            "dissociation_cadss": float(cadss.group(1)) if cadss else NOT_RECORDED,
            "dissociation_resolved": resolved,
        }
    kind = _SINGLE_TEXT.get(field_id, ("choice", ""))[0]
    if kind == "bp":
        return {field_id: (nums[0], nums[1])}
    if kind == "number":
        return {field_id: nums[0]}
    if kind == "events":
        return {field_id: parse_entry("events", answer.replace(";", ","))}
    if kind == "text":
        return {field_id: _norm(answer)}
    return {field_id: answer}


def _entry(step: Step, field_id: str, raw: Any) -> Any:
    """One control's entry in comparable form (text parsed, choices as they are)."""
    f = next(x for x in step.fields if x.id == field_id)
    if f.kind != TEXT:
        return raw
    if field_id == "dose_other":
        return _num(raw) if raw else ""
    if field_id in ("sedation_lowest", "sedation_last", "dissociation_cadss"):
        return parse_entry("number", raw)
    return parse_entry(_SINGLE_TEXT[field_id][0], raw)


def check_entries(step: Step, given: Given) -> Given:
    """The entries of step 5 with the ones that cannot be read (a BP that is not S/D ...)."""
    bad = []
    for f in step.fields:
        v = given.values.get(f.id)
        if f.kind != TEXT or not v or f.id in given.missing:
            continue
        if f.id == "dose_other":
            if _num(v) is None:
                bad.append((f.id, "enter the dose as a number"))
            continue
        try:
            _entry(step, f.id, v)
        except ValueError as exc:
            bad.append((f.id, str(exc)))
    return Given(given.values, given.missing, tuple(bad))


def _shown(value: Any) -> str:
    if isinstance(value, tuple):
        return "/".join(f"{x:g}" for x in value)
    if isinstance(value, frozenset):
        return ", ".join(sorted(value)) or "none"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


# The checks whose reasons explain a form answer besides the ones that flag it (``flagged_by``):
# the answer is read from the same readings or judgements.
_FORM_CHECKS = {
    "dose": ("dose_fits_schedule",),
    "monitoring_minutes": ("observed_2h",),
    "ready_to_leave": ("ready_before_discharge",),
    "vitals_acceptable_before": ("predose_bp",),
    "bp_before": ("predose_bp",),
    "bp_40_minutes": ("bp_rechecked", "bp_rise", "bp_severe"),
    "vitals_acceptable_before_completion": ("bp_acceptable_at_discharge",),
    "bp_before_completion": ("bp_predischarge", "bp_acceptable_at_discharge"),
    "sedation": ("deep_sedation", "loss_of_consciousness", "sedation_resolved"),
    "dissociation": ("dissociation_resolved",),
    "respiratory_depression": ("desaturation",),
}


def _why(a: FormAnswer, g: Grading) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Why the key answers a field as it does, in words, with the sources of those reasons."""
    if a.answer is None:
        said = "not recorded on the chart" + (
            ": the form cannot be submitted without it" if a.required else ""
        )
    else:
        said = "as recorded on the chart" + ("; it records a hazard" if a.flagged else "")
    details = g.checks.details
    names = dict.fromkeys(_FORM_CHECKS.get(a.id, ()) + a.flagged_by)
    reasons = [r for n in names for r in details.get(n, ())]
    return (said, *(r.message for r in reasons)), tuple(s for r in reasons for s in r.sources)


def _one(step: Step, a: FormAnswer, given: dict[str, Any], g: Grading) -> FieldResult | None:
    parts = key_parts(a.id, a.answer)
    if a.id == "patient":
        return None
    fields = {f.id: f for f in step.fields}
    ok = True
    entered: list[str] = []
    for cid, want in parts.items():
        raw = given.get(cid)
        got = _entry(step, cid, raw)
        if cid == "dose_other" and want == "":
            got = ""  # a number typed without choosing Other is not graded
        ok = ok and got == want
        f = fields[cid]
        shown = f.words(raw) if f.kind == CHOICE else (raw or "(empty)")
        entered.append(shown if not entered else f"{f.label}: {shown}")
    why, srcs = _why(a, g)
    words = a.answer if a.answer is not None else NOT_RECORDED
    html = H.esc(words) if a.answer is not None else "<span class='kd-missing'>not recorded</span>"
    if a.flagged:
        html = f"<b style='color:{H.HAZARD}'>&#9888; {html}</b> (records a hazard)"
    return FieldResult(
        a.id,
        a.label,
        {cid: given.get(cid) for cid in parts},
        "; ".join(entered),
        words,
        html,
        ok,
        why,
        a.sources + srcs,
        a.flagged or (a.answer is None and a.required),
    )


def _status(step: Step, form: FilledForm, given: dict[str, Any], kb: KnowledgeBase) -> FieldResult:
    f = next(x for x in step.fields if x.id == "form_status")
    st = form.status
    labels = {x.id: x.label for x in kb.session_day.rems_form.fields}
    why = []
    if st.missing_fields:
        why.append("not recorded: " + "; ".join(labels.get(m, m) for m in st.missing_fields))
    if st.deadline:
        why.append(f"due by {st.deadline}")
    if st.required == "unknown":
        why.append("the setting is not recorded: the form is required for outpatient sessions")
    if st.status == "not_required":
        why.append("inpatient settings do not submit the form")
    days = kb.session_day.checks["rems_form_submitted"].deadline_days
    srcs = kb.source_ids(days.source) if days else ()
    v = given.get("form_status")
    return FieldResult(
        f.id,
        f.label,
        v,
        f.words(v),
        f.words(st.status),
        H.esc(f.words(st.status)),
        v == st.status,
        tuple(why),
        form.sources + srcs,
        st.status == "incomplete",
    )


def grade_form(step: Step, given: Given, g: Grading) -> list[FieldResult]:
    """Every field of the form against the key, then whether it can be submitted (at Check)."""
    from kdsupport.rules.rems_form import fill_rems_form

    form = fill_rems_form(g.record, g.index, g.checks.checks, g.kb)
    out = [r for a in form.answers if (r := _one(step, a, given.values, g)) is not None]
    return [*out, _status(step, form, given.values, g.kb)]
