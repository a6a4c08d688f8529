"""The SPRAVATO REMS Patient Monitoring Form of one session, filled in from the record.

Every field of the form (``knowledge/session_day.yaml``, in the form's printed order) is
answered from the session record or marked *not recorded*; never left silently blank. An
answer that records a hazard (vital signs not in acceptable range, a desaturation, monitoring
shorter than required, a dose off the schedule) is flagged so that renderers show it as a
warning. The form's status says whether it is required (outpatient settings only), which
required fields are still missing, and its deadline (docs/case-record.md §3.9).

For training with synthetic patients; not a medical device. The form is a training copy: it is
never submitted anywhere.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kdsupport.rules.result import Status

if TYPE_CHECKING:
    from kdsupport.knowledge import KnowledgeBase
    from kdsupport.records.case import CaseRecord, Session, VitalReading

__all__ = ["FormAnswer", "RemsFormStatus", "FilledForm", "fill_rems_form", "form_status"]

_ESKETAMINE = "esketamine_nasal"


@dataclass(frozen=True)
class FormAnswer:
    """One field of the form: its answer from the record, or ``None`` when not recorded."""

    id: str
    section: str
    label: str
    answer: str | None
    required: bool
    # The checks whose result makes this answer a hazard (a compliance check not met or a
    # finding that happened), or ``adverse_events`` when the answer itself is one.
    flagged_by: tuple[str, ...]
    fields: tuple[str, ...]
    sources: tuple[str, ...]

    @property
    def flagged(self) -> bool:
        """Whether the answer records a hazard (renderers show it as a warning)."""
        return bool(self.flagged_by)

    @property
    def recorded(self) -> bool:
        """Whether the record answers the field."""
        return self.answer is not None


@dataclass(frozen=True)
class RemsFormStatus:
    """Whether the form is required, what it still needs, and its deadline."""

    required: str  # yes | no | unknown (outpatient / inpatient / setting not recorded)
    status: str  # not_required | complete | incomplete | not_applicable
    missing_fields: tuple[str, ...]
    deadline: str | None
    submitted: str | None

    def to_json(self) -> dict[str, Any]:
        """The session's ``rems_form`` entry of the assessment."""
        return {
            "required": self.required,
            "status": self.status,
            "missing_fields": list(self.missing_fields),
            "deadline": self.deadline,
            "submitted": self.submitted,
        }


@dataclass(frozen=True)
class FilledForm:
    """The whole form of one session."""

    case_id: str
    session_number: int
    title: str
    caveat: str
    answers: tuple[FormAnswer, ...]
    status: RemsFormStatus
    sources: tuple[str, ...]


def _g(x: float) -> str:
    return f"{x:g}"


def _yes_no(v: bool | None) -> str | None:
    return None if v is None else ("Yes" if v else "No")


def _bp(r: VitalReading | None) -> str | None:
    if r is None or r.systolic_mmhg is None or r.diastolic_mmhg is None:
        return None
    return f"{_g(r.systolic_mmhg)}/{_g(r.diastolic_mmhg)} mmHg at minute {_g(r.minute)}"


def _with_bp(readings: list[VitalReading]) -> list[VitalReading]:
    return [r for r in readings if r.systolic_mmhg is not None and r.diastolic_mmhg is not None]


def _bp_answers(s: Session, kb: KnowledgeBase) -> dict[str, str | None]:
    sm = kb.vitals.session_monitoring.checks
    vit = list(s.vitals or ())
    zero = _with_bp([r for r in vit if r.minute == 0])
    win = sm["bp_rechecked"].window_minutes
    assert win is not None  # the knowledge-base checks require it
    forty = _with_bp([r for r in vit if win.min <= r.minute <= win.max])
    end = sm["bp_predischarge"].window_before_end_minutes
    assert end is not None
    last: list[VitalReading] = []
    if s.observation_minutes is not None:
        lo = s.observation_minutes - end.value
        last = _with_bp([r for r in vit if lo <= r.minute <= s.observation_minutes])
    return {
        "bp_before": _bp(zero[0] if zero else None),
        "bp_40_minutes": _bp(forty[0] if forty else None),
        "bp_before_completion": _bp(max(last, key=lambda r: r.minute) if last else None),
    }


def _dose(s: Session, boxes: list[float]) -> str | None:
    if s.dose_mg is None:
        return None
    return f"{_g(s.dose_mg)} mg" if s.dose_mg in boxes else f"Other: {_g(s.dose_mg)} mg"


def _sedation(s: Session) -> str | None:
    scored = [m for m in s.moaas or () if m.score is not None]
    if not scored:
        return None
    low = min(scored, key=lambda m: (m.score, m.minute))
    last = max(scored, key=lambda m: m.minute)
    return (
        f"lowest MOAA/S {low.score} (minute {_g(low.minute)}); "
        f"last {last.score} (minute {_g(last.minute)})"
    )


def _dissociation(s: Session) -> str | None:
    if s.cadss_total is None and s.dissociation_resolved is None:
        return None
    cadss = "CADSS not recorded" if s.cadss_total is None else f"CADSS {s.cadss_total}"
    res = {
        True: "resolved before discharge",
        False: "NOT resolved at discharge",
        None: "resolution not recorded",
    }
    return f"{cadss}; {res[s.dissociation_resolved]}"


def _spo2(s: Session) -> str | None:
    vals = [r for r in s.vitals or () if r.spo2_percent is not None]
    if not vals:
        return None
    low = min(vals, key=lambda r: (r.spo2_percent, r.minute))
    lowest = _g(low.spo2_percent or 0)
    return f"lowest SpO2 {lowest} % (minute {_g(low.minute)}), {len(vals)} reading(s)"


def _from_check(st: Status | None) -> str | None:
    if st is None or st is Status.UNKNOWN:
        return None
    return "Yes" if st is Status.MET else "No"


_Flags = tuple[str, ...]


def _text(v: str | None) -> str | None:
    """Free text as an answer: blank text is not an answer."""
    return v if v is not None and v.strip() else None


def _answers(
    record: CaseRecord, s: Session, checks: Mapping[str, Status], kb: KnowledgeBase
) -> dict[str, tuple[str | None, _Flags]]:
    """Each form field's answer and the checks that make it a hazard."""
    con = s.concomitant
    p = record.patient

    def check(*pairs: tuple[str, Status]) -> _Flags:
        return tuple(name for name, hazard in pairs if checks.get(name) is hazard)

    met, not_met = Status.MET, Status.NOT_MET

    bp = _bp_answers(s, kb)
    dose_field = next(f for f in kb.session_day.rems_form.fields if f.id == "dose")
    boxes = dose_field.boxes_mg or []
    mins = None if s.observation_minutes is None else f"{_g(s.observation_minutes)} minutes"
    ready = None if s.ready_to_leave_minute is None else f"{_g(s.ready_to_leave_minute)} minutes"
    taken = {k: bool(con and getattr(con, k)) for k in kb.session_day.concomitant}
    events = [e for e in s.adverse_events or () if e.strip()]
    return {
        "patient": (
            f"synthetic case {record.id}, age {p.age_years}, sex {p.sex or 'not recorded'}",
            (),
        ),
        **{
            f"concomitant_{k}": (
                _yes_no(getattr(con, k) if con else None),
                ("concomitant_interacting",) if taken[k] else (),
            )
            for k in kb.session_day.concomitant
        },
        "monitored_by": (_text(s.monitored_by), ()),
        "setting": (s.setting, ()),
        "treatment_date": (s.date, ()),
        "dose": (_dose(s, boxes), check(("dose_fits_schedule", not_met))),
        "device_lot": (_text(s.device_lot), ()),
        "monitoring_minutes": (mins, check(("observed_2h", not_met))),
        "ready_to_leave": (ready, check(("ready_before_discharge", not_met))),
        "vitals_acceptable_before": (
            _from_check(checks.get("predose_bp")),
            check(("predose_bp", not_met)),
        ),
        "vitals_acceptable_before_completion": (
            _from_check(checks.get("bp_acceptable_at_discharge")),
            check(("bp_acceptable_at_discharge", not_met)),
        ),
        "bp_before": (bp["bp_before"], check(("predose_bp", not_met))),
        "bp_40_minutes": (bp["bp_40_minutes"], check(("bp_rise", met), ("bp_severe", met))),
        "bp_before_completion": (
            bp["bp_before_completion"],
            check(("bp_acceptable_at_discharge", not_met)),
        ),
        "sedation": (_sedation(s), check(("deep_sedation", met), ("loss_of_consciousness", met))),
        "dissociation": (_dissociation(s), check(("dissociation_resolved", not_met))),
        "respiratory_depression": (_spo2(s), check(("desaturation", met))),
        "adverse_events": (
            None if s.adverse_events is None else ("; ".join(events) or "none"),
            ("adverse_events",) if events else (),
        ),
    }


def form_status(s: Session, answers: tuple[FormAnswer, ...], kb: KnowledgeBase) -> RemsFormStatus:
    """Whether the form is required, the required fields not recorded, and the deadline."""
    if s.modality != _ESKETAMINE:
        return RemsFormStatus("no", "not_applicable", (), None, None)
    if s.setting == "inpatient":
        return RemsFormStatus("no", "not_required", (), None, None)
    days = kb.session_day.checks["rems_form_submitted"].deadline_days
    assert days is not None  # the knowledge-base model requires it
    deadline = (
        (dt.date.fromisoformat(s.date) + dt.timedelta(days=days.value)).isoformat()
        if s.date
        else None
    )
    missing = tuple(a.id for a in answers if a.required and not a.recorded)
    return RemsFormStatus(
        "yes" if s.setting == "outpatient" else "unknown",
        "incomplete" if missing else "complete",
        missing,
        deadline,
        s.rems_form_submitted_date,
    )


def fill_rems_form(
    record: CaseRecord, index: int, checks: Mapping[str, Status], kb: KnowledgeBase
) -> FilledForm:
    """The form of ``sessions[index]``; ``checks`` are the session's check statuses."""
    s = (record.sessions or [])[index]
    spec = kb.session_day.rems_form
    given = _answers(record, s, checks, kb)
    answers = tuple(
        FormAnswer(
            f.id,
            f.section,
            f.label,
            given[f.id][0],
            f.required,
            given[f.id][1],
            tuple(
                r if r == "id" or r.startswith("patient.") else f"sessions[{index}].{r}"
                for r in f.reads
            ),
            kb.source_ids(f.source),
        )
        for f in spec.fields
    )
    return FilledForm(
        record.id,
        s.number,
        spec.title,
        spec.caveat,
        answers,
        form_status(s, answers, kb),
        kb.source_ids(spec.source),
    )
