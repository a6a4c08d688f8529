"""The session day: preparation, REMS requirements and the IV infusion's record.

Checks of one session beyond the monitoring checks of :mod:`kdsupport.rules.monitoring`
(docs/case-record.md §3.8), each met / not_met / unknown with a kind from the knowledge base:

* schedule (esketamine; :mod:`kdsupport.rules.dosing`): ``dose_fits_schedule``,
  ``frequency_fits_schedule``;
* preparation (esketamine label): ``fasting_food``, ``fasting_liquid``, ``nasal_spray_timing``,
  ``rest_between_devices``;
* REMS (esketamine): ``prescriber_on_site``, ``ride_home_arranged``, ``ready_before_discharge``,
  ``rems_form_submitted``; the finding ``concomitant_interacting``;
* IV ketamine: ``infusion_bp_response``: a reading during the infusion above the site threshold
  prompts a pause or a slower rate, and the record should show it.

A session that records none of the session-day fields (docs/case-record.md §2.9) is a
monitoring-only record: no session-day check is run (except ``infusion_bp_response``, which
its vitals trigger), and the assessment says so
(``session_day_recorded: false``); renderers show that as not recorded, never as passed.

A check that does not apply to a session (one device, an inpatient, no nasal spray taken, no
reading above the threshold) is reported as not applicable with the reason, never as met.
Checks of another modality are not reported at all.

Thresholds come from ``knowledge/session_day.yaml``. For training with synthetic patients; not a
medical device.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from kdsupport.knowledge.models.session_day import SESSION_DAY_CHECKS
from kdsupport.records.model import SESSION_DAY_FIELDS
from kdsupport.rules.dosing import SchedulePlace, evaluate_schedule
from kdsupport.rules.monitoring import bp_tier
from kdsupport.rules.result import CheckKind, Reason, RuleResult, Status, any_of, compare

if TYPE_CHECKING:
    from kdsupport.knowledge import KnowledgeBase
    from kdsupport.records.case import CaseRecord, Session, VitalReading

__all__ = [
    "DAY_CHECK_ORDER",
    "DayChecks",
    "NotApplicable",
    "evaluate_session_day",
    "session_day_recorded",
    "infusion_threshold",
]

DAY_CHECK_ORDER = SESSION_DAY_CHECKS


@dataclass(frozen=True)
class NotApplicable:
    """A check that does not apply to this session, and why."""

    reason: Reason


@dataclass(frozen=True)
class DayChecks:
    """The session-day checks of one session, with their kinds and what does not apply."""

    checks: dict[str, RuleResult] = field(default_factory=dict)
    kinds: dict[str, CheckKind] = field(default_factory=dict)
    not_applicable: dict[str, Reason] = field(default_factory=dict)
    schedule: SchedulePlace | None = None
    # False: the session records no session-day field, so no session-day check was run.
    recorded: bool = True


def session_day_recorded(session: Session) -> bool:
    """Whether the session records any session-day field (else it is monitoring-only)."""
    return any(getattr(session, f) is not None for f in SESSION_DAY_FIELDS)


def infusion_threshold(kb: KnowledgeBase, name: str | None) -> str:
    """The selected IV infusion threshold's name (the knowledge base's default when None)."""
    ib = kb.session_day.infusion_bp
    key = name or ib.default
    if key not in ib.definitions:
        raise KeyError(
            f"unknown infusion threshold {key!r}; choose one of {sorted(ib.definitions)}"
        )
    return key


@dataclass(frozen=True)
class _Ctx:
    record: CaseRecord
    index: int
    kb: KnowledgeBase
    severe: str | None
    infusion: str

    @property
    def session(self) -> Session:
        return (self.record.sessions or [])[self.index]

    @property
    def path(self) -> str:
        return f"sessions[{self.index}]"

    def src(self, name: str) -> tuple[str, ...]:
        chk = self.kb.session_day.checks[name]
        refs = list(chk.source or ())
        for v in (chk.min_hours, chk.min_minutes, chk.deadline_days):
            refs += v.source if v else []
        site = self.kb.vitals.session_monitoring.modality_sources.get(self.session.modality)
        if site is not None and name not in _OWN_MODALITY_CHECKS:
            refs.append(site)  # an esketamine rule applied to another modality: a site default
        return self.kb.source_ids(refs)

    def result(
        self,
        name: str,
        status: Status,
        message: str,
        fields: tuple[str, ...],
        extra_src: tuple[str, ...] = (),
        missing: tuple[str, ...] | None = None,
    ) -> RuleResult:
        if status is not Status.UNKNOWN:
            missing = ()
        elif missing is None:
            missing = self.unrecorded(fields)
        reason = Reason(
            f"session.{name}.{status.value}",
            message,
            fields,
            tuple(dict.fromkeys(self.src(name) + extra_src)),
            missing,
        )
        return RuleResult(f"session.{name}", status, status.value, reasons=(reason,))

    def unrecorded(self, fields: tuple[str, ...]) -> tuple[str, ...]:
        """The fields among ``fields`` that the session does not record (what to collect)."""
        out = []
        for f in fields:
            value: object = self.session
            for part in f.removeprefix(f"{self.path}.").split("."):
                value = getattr(value, part, None)
            if value is None or value == []:
                out.append(f)
        return tuple(out)

    def not_applicable(self, name: str, message: str, fields: tuple[str, ...]) -> NotApplicable:
        return NotApplicable(
            Reason(f"session.{name}.not_applicable", message, fields, self.src(name))
        )


_Check = Callable[[_Ctx], RuleResult | NotApplicable]
# Checks written for the modality they run on (not esketamine rules applied as site defaults).
_OWN_MODALITY_CHECKS = ("infusion_bp_response",)


def _g(x: float | None) -> str:
    return "not recorded" if x is None else f"{x:g}"


def _at_least(c: _Ctx, name: str, value: float | None, unit: str, what: str) -> RuleResult:
    chk = c.kb.session_day.checks[name]
    limit = chk.min_hours or chk.min_minutes
    assert limit is not None  # the knowledge-base model requires one for these checks
    st = compare(value, ">=", limit.value)
    fld = (f"{c.path}.{what}",)
    if st is Status.UNKNOWN:
        return c.result(
            name, st, f"not recorded; at least {limit.value:g} {unit} are required", fld
        )
    verdict = "at least" if st is Status.MET else "less than"
    return c.result(
        name, st, f"{value:g} {unit}: {verdict} the {limit.value:g} {unit} required", fld
    )


def _fasting_food(c: _Ctx) -> RuleResult:
    return _at_least(c, "fasting_food", c.session.fasting_food_hours, "h", "fasting_food_hours")


def _fasting_liquid(c: _Ctx) -> RuleResult:
    return _at_least(
        c, "fasting_liquid", c.session.fasting_liquid_minutes, "min", "fasting_liquid_minutes"
    )


def _nasal_spray_timing(c: _Ctx) -> RuleResult | NotApplicable:
    name, what = "nasal_spray_timing", "nasal_steroid_or_decongestant_minutes_before"
    v = c.session.nasal_steroid_or_decongestant_minutes_before
    if v == "not_used":
        return c.not_applicable(
            name,
            "no nasal corticosteroid or decongestant was taken that day",
            (f"{c.path}.{what}",),
        )
    return _at_least(c, name, v if isinstance(v, int | float) else None, "min", what)


def _devices(c: _Ctx) -> int | None:
    s = c.session
    if s.devices is not None:
        return s.devices
    per = c.kb.session_day.administration.mg_per_device.value
    if s.dose_mg is not None and (s.dose_mg / per).is_integer():
        return int(s.dose_mg / per)
    return None


def _rest_between_devices(c: _Ctx) -> RuleResult | NotApplicable:
    name = "rest_between_devices"
    n = _devices(c)
    fld = (f"{c.path}.devices", f"{c.path}.dose_mg")
    if n == 1:
        return c.not_applicable(name, "one device: there is no rest between devices", fld)
    if n is None:
        return c.result(name, Status.UNKNOWN, "the number of devices is not recorded", fld)
    return _at_least(c, name, c.session.minutes_between_devices, "min", "minutes_between_devices")


def _yes_no(c: _Ctx, name: str, value: bool | None, yes: str, no: str, unknown: str) -> RuleResult:
    st = Status.of(value)
    msg = {Status.MET: yes, Status.NOT_MET: no, Status.UNKNOWN: unknown}[st]
    return c.result(name, st, msg, (f"{c.path}.{name}",))


def _prescriber_on_site(c: _Ctx) -> RuleResult:
    return _yes_no(
        c,
        "prescriber_on_site",
        c.session.prescriber_on_site,
        "a prescriber was on site during administration and monitoring",
        "NO prescriber was on site: the REMS requires one during administration and monitoring",
        "not recorded whether a prescriber was on site",
    )


def _ride_home_arranged(c: _Ctx) -> RuleResult | NotApplicable:
    if c.session.setting == "inpatient":
        return c.not_applicable(
            "ride_home_arranged",
            "an inpatient session: the patient is not going home",
            (f"{c.path}.setting",),
        )
    return _yes_no(
        c,
        "ride_home_arranged",
        c.session.ride_home_arranged,
        "a ride home was arranged (no driving until the next day after a restful sleep)",
        "NO ride home was arranged: the patient must not drive until the next day after a "
        "restful sleep",
        "not recorded whether a ride home was arranged",
    )


def _ready_before_discharge(c: _Ctx) -> RuleResult:
    s = c.session
    fld = (f"{c.path}.observation_minutes", f"{c.path}.ready_to_leave_minute")
    st = (
        compare(s.observation_minutes, ">=", s.ready_to_leave_minute)
        if s.ready_to_leave_minute is not None
        else Status.UNKNOWN
    )
    said = (
        f"observed {_g(s.observation_minutes)} min; ready to leave at minute "
        f"{_g(s.ready_to_leave_minute)}"
    )
    tail = {
        Status.MET: ": monitoring lasted until the patient was ready",
        Status.NOT_MET: ": monitoring ended BEFORE the patient was ready to leave",
        Status.UNKNOWN: "",
    }[st]
    return c.result("ready_before_discharge", st, said + tail, fld)


def _rems_form_submitted(c: _Ctx) -> RuleResult | NotApplicable:
    name = "rems_form_submitted"
    s = c.session
    if s.setting == "inpatient":
        return c.not_applicable(
            name,
            "inpatient settings do not submit Patient Monitoring Forms",
            (f"{c.path}.setting",),
        )
    days = c.kb.session_day.checks[name].deadline_days
    assert days is not None  # the knowledge-base model requires it for this check
    fld = (f"{c.path}.date", f"{c.path}.rems_form_submitted_date", f"{c.path}.setting")
    if s.date is None or s.rems_form_submitted_date is None:
        said = (
            "the session date is not recorded"
            if s.date is None
            else "no submission date is recorded"
        )
        return c.result(
            name, Status.UNKNOWN, f"{said}; the form is due within {days.value:g} days", fld
        )
    late = (dt.date.fromisoformat(s.rems_form_submitted_date) - dt.date.fromisoformat(s.date)).days
    st = compare(late, "<=", days.value)
    verdict = "within" if st is Status.MET else "AFTER"
    return c.result(
        name,
        st,
        f"submitted {late} day(s) after the session: {verdict} the {days.value:g} days allowed",
        fld,
    )


def _concomitant_interacting(c: _Ctx) -> RuleResult:
    items = c.kb.session_day.concomitant
    con = c.session.concomitant
    values = {k: getattr(con, k) if con else None for k in items}
    taken = [k for k, v in values.items() if v is True]
    st = any_of([Status.of(v) for v in values.values()])
    fld = tuple(f"{c.path}.concomitant.{k}" for k in items)
    srcs = tuple(s for it in items.values() for s in c.kb.source_ids(it.source))
    if st is Status.MET:
        msg = "taking " + ", ".join(f"{items[k].label} ({items[k].effect})" for k in taken)
        msg += ": monitor more closely"
    elif st is Status.NOT_MET:
        msg = "none of the four medication groups the REMS form asks about"
    else:
        unknown = [items[k].label for k, v in values.items() if v is None]
        msg = "not recorded: " + ", ".join(unknown)
        fld = tuple(f"{c.path}.concomitant.{k}" for k, v in values.items() if v is None)
    return c.result("concomitant_interacting", st, msg, fld, srcs)


def _during(s: Session) -> list[VitalReading]:
    """The readings taken while the infusion ran (after minute 0, up to its last minute)."""
    end = s.infusion_minutes
    return [] if end is None else [r for r in s.vitals or () if 0 < r.minute <= end]


def _above(c: _Ctx, r: VitalReading) -> Status:
    """Whether a reading is above the selected infusion threshold (three-valued)."""
    uses = c.kb.session_day.infusion_bp.definitions[c.infusion].uses
    _, above, sev = bp_tier(r.systolic_mmhg, r.diastolic_mmhg, c.kb, severe=c.severe)
    return sev if uses == "severe_tier" else above


def _crossings(c: _Ctx) -> list[VitalReading]:
    """The readings during the infusion above the selected threshold."""
    return [r for r in _during(c.session) if _above(c, r) is Status.MET]


def _infusion_bp_response(c: _Ctx) -> RuleResult | NotApplicable:
    name = "infusion_bp_response"
    s = c.session
    label = c.kb.session_day.infusion_bp.definitions[c.infusion].label
    extra = c.kb.source_ids(c.kb.session_day.infusion_bp.definitions[c.infusion].source)
    adj = s.infusion_paused_or_slowed
    noted = f"; the record shows the infusion {adj.action} at minute {adj.minute:g}" if adj else ""
    fld = (f"{c.path}.vitals", f"{c.path}.infusion_minutes", f"{c.path}.infusion_paused_or_slowed")

    def unknown(why: str, missing: tuple[str, ...] | None = None) -> RuleResult:
        msg = f"{why}: cannot tell whether BP crossed {label}{noted}"
        return c.result(name, Status.UNKNOWN, msg, fld, extra, missing)

    if s.infusion_minutes is None or not s.vitals:
        return unknown("the infusion length is not recorded" if s.vitals else "no vitals recorded")
    during = _during(s)
    crossed = _crossings(c)
    if not crossed:
        if not during:
            return unknown("no reading during the infusion", (f"{c.path}.vitals",))
        unsure = [
            i for i, r in enumerate(s.vitals) if r in during and _above(c, r) is Status.UNKNOWN
        ]
        if unsure:
            paths = tuple(f"{c.path}.vitals[{i}]" for i in unsure)
            return unknown("a reading during the infusion lacks a BP value", paths)
        return c.not_applicable(name, f"no reading during the infusion crossed {label}{noted}", fld)
    first = crossed[0]
    bp = f"{_g(first.systolic_mmhg)}/{_g(first.diastolic_mmhg)}"
    said = f"BP {bp} at minute {first.minute:g} of the infusion crossed {label}"
    if adj is None:
        msg = f"{said}; not recorded whether the infusion was paused or slowed"
        return c.result(name, Status.UNKNOWN, msg, fld, extra)
    if adj is False:
        msg = f"{said}; the record says the infusion was NOT paused or slowed"
        return c.result(name, Status.NOT_MET, msg, fld, extra)
    if adj.minute < first.minute:
        msg = (
            f"{said}; the only adjustment recorded ({adj.action} at minute {adj.minute:g}) came "
            "BEFORE it, so no response to it is recorded"
        )
        return c.result(name, Status.NOT_MET, msg, fld, extra)
    why = f" ({adj.reason})" if adj.reason else ""
    later = f", {adj.minute - first.minute:g} min later" if adj.minute > first.minute else ""
    msg = f"{said}; the infusion was {adj.action} at minute {adj.minute:g}{later}{why}"
    return c.result(name, Status.MET, msg, fld, extra)


_CHECKS: dict[str, _Check] = {
    "fasting_food": _fasting_food,
    "fasting_liquid": _fasting_liquid,
    "nasal_spray_timing": _nasal_spray_timing,
    "rest_between_devices": _rest_between_devices,
    "prescriber_on_site": _prescriber_on_site,
    "ride_home_arranged": _ride_home_arranged,
    "ready_before_discharge": _ready_before_discharge,
    "rems_form_submitted": _rems_form_submitted,
    "concomitant_interacting": _concomitant_interacting,
    "infusion_bp_response": _infusion_bp_response,
}


def evaluate_session_day(
    record: CaseRecord,
    index: int,
    kb: KnowledgeBase,
    *,
    where: str | None = None,
    severe: str | None = None,
    infusion_bp: str | None = None,
) -> DayChecks:
    """The session-day checks of ``sessions[index]`` that belong to its modality."""
    c = _Ctx(record, index, kb, severe, infusion_threshold(kb, infusion_bp))
    modality = c.session.modality
    defs = kb.session_day.checks
    out: dict[str, RuleResult | NotApplicable] = {}
    place = None
    recorded = session_day_recorded(c.session)
    if not recorded:
        # A monitoring-only record: only the check its vitals can trigger is run (a BP climb
        # during an infusion asks whether the record shows a pause), never the rest.
        if modality in defs["infusion_bp_response"].modalities and _crossings(c):
            out["infusion_bp_response"] = _infusion_bp_response(c)
    elif modality in defs["dose_fits_schedule"].modalities:
        sched = evaluate_schedule(record, index, kb, where=where)
        out["dose_fits_schedule"], out["frequency_fits_schedule"] = sched.dose, sched.frequency
        place = sched.place
    for name, fn in _CHECKS.items() if recorded else ():
        if modality in defs[name].modalities:
            out[name] = fn(c)
    ordered = [n for n in DAY_CHECK_ORDER if n in out]
    return DayChecks(
        checks={n: r for n in ordered if isinstance(r := out[n], RuleResult)},
        kinds={n: CheckKind(defs[n].kind) for n in ordered if isinstance(out[n], RuleResult)},
        not_applicable={n: r.reason for n in ordered if isinstance(r := out[n], NotApplicable)},
        schedule=place,
        recorded=recorded,
    )
