"""Blood pressure before dosing and the monitoring checks of each treatment session.

* **Pre-dose BP** (label general guide): systolic or diastolic above the guide ->
  ``consider_delay``; both known and at or below -> ``ok``; otherwise ``unknown``. It is a guide
  for a clinician's decision, not a stop rule.
* **Session checks** (label and REMS for esketamine; site defaults for IV and at-home
  ketamine), each met / not_met / unknown: ``predose_bp``, ``bp_rechecked``, ``bp_rise``
  (met = a large rise occurred: a prompt for review), ``observed_2h``, ``bp_predischarge``,
  ``spo2_monitored``, ``sedation_resolved``.

Thresholds and windows come from ``knowledge/vitals.yaml``. Missing data: no ``vitals`` list
makes the BP checks unknown; rows without a BP value make the checks that need them unknown;
rows without SpO2 make ``spo2_monitored`` unknown (case-record spec, clarifications 13, 19).

For training and case conferences with synthetic patients; not a medical device.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from kdsupport.knowledge import SESSION_CHECKS
from kdsupport.result import Reason, RuleResult, Status, any_of, compare

if TYPE_CHECKING:
    from kdsupport.case import CaseRecord, Session, VitalReading
    from kdsupport.knowledge import KnowledgeBase

__all__ = [
    "evaluate_predose_bp",
    "evaluate_session",
    "evaluate_sessions",
    "SessionChecks",
    "CHECK_ORDER",
]

CHECK_ORDER = SESSION_CHECKS


def _g(x: float | None) -> str:
    return "not recorded" if x is None else f"{x:g}"


def evaluate_predose_bp(
    systolic: float | None,
    diastolic: float | None,
    kb: KnowledgeBase,
    *,
    fields: tuple[str, str] = ("vitals.systolic_mmhg", "vitals.diastolic_mmhg"),
) -> RuleResult:
    """Pre-dose BP against the label's general guide.

    Returns a result labelled ``consider_delay``, ``ok`` or ``unknown``; its status is met
    when the BP is within the guide.
    """
    g = kb.vitals.predose_bp_guide
    s_lim, d_lim = g.systolic_above_mmhg.value, g.diastolic_above_mmhg.value
    above = any_of([compare(systolic, ">", s_lim), compare(diastolic, ">", d_lim)])
    src = tuple(
        dict.fromkeys(kb.source_ids(g.systolic_above_mmhg.source) + kb.source_ids(g.source))
    )
    reading = f"{_g(systolic)}/{_g(diastolic)} mmHg"
    guide = f"guide: consider a delay above {s_lim:g} systolic or {d_lim:g} diastolic"
    if above is Status.MET:
        label, status = g.above_status, Status.NOT_MET
        reason = Reason(
            "bp.predose.above_guide", f"BP {reading} is above the {guide}. {g.meaning}", fields, src
        )
    elif above is Status.NOT_MET:
        label, status = g.within_status, Status.MET
        reason = Reason(
            "bp.predose.within_guide", f"BP {reading} is within the {guide}", fields, src
        )
    else:
        label, status = "unknown", Status.UNKNOWN
        missing = tuple(f for f, v in zip(fields, (systolic, diastolic), strict=True) if v is None)
        reason = Reason(
            "bp.predose.unknown",
            f"BP {reading}: cannot judge against the {guide}",
            fields,
            src,
            missing,
        )
    return RuleResult(
        "bp.predose",
        status,
        label,
        (reason,),
        {"systolic_mmhg": systolic, "diastolic_mmhg": diastolic},
    )


@dataclass(frozen=True)
class SessionChecks:
    """Every monitoring check of one session."""

    index: int
    number: int
    modality: str
    checks: dict[str, RuleResult]


def _has_bp(r: VitalReading) -> bool:
    return r.systolic_mmhg is not None or r.diastolic_mmhg is not None


def evaluate_session(session: Session, index: int, kb: KnowledgeBase) -> SessionChecks:
    """Run the seven monitoring checks on one session."""
    sm = kb.vitals.session_monitoring
    chk = sm.checks
    path = f"sessions[{index}]"
    site = sm.modality_sources.get(session.modality)
    site_src = (site.id,) if site else ()
    vitals = session.vitals
    out: dict[str, RuleResult] = {}

    def result(
        name: str,
        status: Status,
        message: str,
        fields: tuple[str, ...],
        src: tuple[str, ...],
        missing: tuple[str, ...] = (),
    ) -> None:
        code = f"session.{name}.{status.value}"
        out[name] = RuleResult(
            f"session.{name}",
            status,
            status.value,
            (
                Reason(
                    code,
                    message,
                    fields,
                    tuple(dict.fromkeys(src + site_src)),
                    missing if status is Status.UNKNOWN else (),
                ),
            ),
        )

    vpath = f"{path}.vitals"
    # predose_bp
    zero = [r for r in vitals or () if r.minute == 0]
    src = kb.source_ids(chk["predose_bp"].source)
    if vitals is None:
        result(
            "predose_bp",
            Status.UNKNOWN,
            "no vitals recorded for this session",
            (vpath,),
            src,
            (vpath,),
        )
    elif not zero:
        result(
            "predose_bp",
            Status.UNKNOWN,
            "no minute-0 (pre-dose) reading",
            (vpath,),
            src,
            (f"{vpath}[minute 0]",),
        )
    else:
        j = vitals.index(zero[0])
        bp = evaluate_predose_bp(
            zero[0].systolic_mmhg,
            zero[0].diastolic_mmhg,
            kb,
            fields=(f"{vpath}[{j}].systolic_mmhg", f"{vpath}[{j}].diastolic_mmhg"),
        )
        r = bp.reasons[0]
        result("predose_bp", bp.status, r.message, r.fields, r.sources + src, r.missing)

    # bp_rechecked
    w = chk["bp_rechecked"].window_minutes
    src = kb.source_ids(w.source)
    if vitals is None:
        result("bp_rechecked", Status.UNKNOWN, "no vitals recorded", (vpath,), src, (vpath,))
    else:
        inwin = [r for r in vitals if w.min <= r.minute <= w.max]
        if any(_has_bp(r) for r in inwin):
            m = next(r.minute for r in inwin if _has_bp(r))
            result(
                "bp_rechecked",
                Status.MET,
                f"BP re-checked at minute {m:g} (window {w.min:g}-{w.max:g})",
                (vpath,),
                src,
            )
        elif inwin:
            result(
                "bp_rechecked",
                Status.UNKNOWN,
                f"a reading between minutes {w.min:g} and {w.max:g} has no BP value",
                (vpath,),
                src,
                (vpath,),
            )
        else:
            result(
                "bp_rechecked",
                Status.NOT_MET,
                f"no reading between minutes {w.min:g} and {w.max:g}",
                (vpath,),
                src,
            )

    # bp_rise
    c = chk["bp_rise"]
    s_rise, d_rise = c.systolic_rise_mmhg.value, c.diastolic_rise_mmhg.value
    src = kb.source_ids(c.systolic_rise_mmhg.source)
    post = [r for r in vitals or () if r.minute > 0]
    if vitals is None:
        result("bp_rise", Status.UNKNOWN, "no vitals recorded", (vpath,), src, (vpath,))
    elif not zero or not post:
        what = "no minute-0 reading to compare with" if not zero else "no post-dose reading"
        result("bp_rise", Status.UNKNOWN, what, (vpath,), src, (vpath,))
    else:
        base = zero[0]
        per_reading = []
        for r in post:
            ds = (
                None
                if r.systolic_mmhg is None or base.systolic_mmhg is None
                else r.systolic_mmhg - base.systolic_mmhg
            )
            dd = (
                None
                if r.diastolic_mmhg is None or base.diastolic_mmhg is None
                else r.diastolic_mmhg - base.diastolic_mmhg
            )
            per_reading.append(
                (r, any_of([compare(ds, ">=", s_rise), compare(dd, ">=", d_rise)]), ds, dd)
            )
        st = any_of(s for _, s, _, _ in per_reading)
        if st is Status.MET:
            r, _, ds, dd = next(x for x in per_reading if x[1] is Status.MET)
            msg = (
                f"rise of {_g(ds)}/{_g(dd)} mmHg at minute {r.minute:g} (label reports rises of "
                f">= {s_rise:g} systolic or >= {d_rise:g} diastolic): review the patient; not a "
                "stop rule"
            )
        elif st is Status.NOT_MET:
            top_s = max(ds for _, _, ds, _ in per_reading)
            top_d = max(dd for _, _, _, dd in per_reading)
            msg = f"largest rise {top_s:g}/{top_d:g} mmHg, below {s_rise:g}/{d_rise:g}"
        else:
            msg = "a post-dose reading lacks a BP value, so a large rise cannot be ruled out"
        result("bp_rise", st, msg, (vpath,), src, (vpath,))

    # observed_2h
    c = chk["observed_2h"]
    need = c.min_observation_minutes.value
    src = kb.source_ids(c.min_observation_minutes.source)
    st = compare(session.observation_minutes, ">=", need)
    fld = (f"{path}.observation_minutes",)
    msg = f"observation {_g(session.observation_minutes)} minutes; needs >= {need:g}"
    result("observed_2h", st, msg, fld, src, fld)

    # bp_predischarge
    c = chk["bp_predischarge"]
    win = c.window_before_end_minutes.value
    src = kb.source_ids(c.window_before_end_minutes.source)
    obs = session.observation_minutes
    if vitals is None or obs is None:
        missing = tuple(
            x for x, v in ((vpath, vitals), (f"{path}.observation_minutes", obs)) if v is None
        )
        result(
            "bp_predischarge",
            Status.UNKNOWN,
            "needs the vitals and the observation time",
            (vpath, *fld),
            src,
            missing,
        )
    else:
        inwin = [r for r in vitals if obs - win <= r.minute <= obs]
        if any(_has_bp(r) for r in inwin):
            m = max(r.minute for r in inwin if _has_bp(r))
            result(
                "bp_predischarge",
                Status.MET,
                f"BP at minute {m:g}, within the last {win:g} minutes of {obs:g}",
                (vpath, *fld),
                src,
            )
        elif inwin:
            result(
                "bp_predischarge",
                Status.UNKNOWN,
                "a reading before discharge has no BP value",
                (vpath, *fld),
                src,
                (vpath,),
            )
        else:
            result(
                "bp_predischarge",
                Status.NOT_MET,
                f"no reading between minutes {obs - win:g} and {obs:g}",
                (vpath, *fld),
                src,
            )

    # spo2_monitored
    src = kb.source_ids(chk["spo2_monitored"].source)
    if vitals is None:
        result("spo2_monitored", Status.UNKNOWN, "no vitals recorded", (vpath,), src, (vpath,))
    elif any(r.spo2_percent is not None for r in post):
        m = next(r.minute for r in post if r.spo2_percent is not None)
        result(
            "spo2_monitored",
            Status.MET,
            f"SpO2 recorded after dosing (minute {m:g})",
            (vpath,),
            src,
        )
    elif post:
        result(
            "spo2_monitored",
            Status.UNKNOWN,
            "post-dose readings have no SpO2 value",
            (vpath,),
            src,
            (vpath,),
        )
    else:
        result("spo2_monitored", Status.NOT_MET, "no reading after dosing", (vpath,), src)

    # sedation_resolved
    c = chk["sedation_resolved"]
    alert = c.alert_score.value
    src = kb.source_ids(c.alert_score.source)
    mpath = (f"{path}.moaas",)
    if not session.moaas:
        result("sedation_resolved", Status.UNKNOWN, "no MOAA/S recorded", mpath, src, mpath)
    else:
        last = max(session.moaas, key=lambda r: r.minute)
        st = compare(last.score, ">=", alert)
        msg = f"last MOAA/S {_g(last.score)} at minute {last.minute:g}; resolved means {alert:g}"
        result("sedation_resolved", st, msg, mpath, src, mpath)
    return SessionChecks(index, session.number, session.modality, out)


def evaluate_sessions(record: CaseRecord, kb: KnowledgeBase) -> list[SessionChecks]:
    """Monitoring checks for every session in record order."""
    return [evaluate_session(s, i, kb) for i, s in enumerate(record.sessions or ())]
