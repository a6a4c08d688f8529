"""Blood pressure before dosing and the monitoring checks of each treatment session.

* **Pre-dose BP**, in three tiers (docs/case-record.md §3.5): ``ok`` (both values known and within
  the label's general guide), ``consider_delay`` (above the guide: weigh benefit against the
  short-term rise and consider delaying), ``severe`` (the hypertensive-crisis range, a
  selectable site default: do not dose until a clinician has reassessed; the label sends
  symptoms of hypertensive crisis to emergency care), else ``unknown``. A half-known reading
  takes its tier from the known value and says the missing one could change it (5.8.7, 5.8.11).
  A reading above the guide while screening recorded no uncontrolled hypertension adds the
  reason ``predose_bp.screening_mismatch``.
* **Session checks** (label and REMS for esketamine; site defaults for IV and at-home ketamine),
  each met / not_met / unknown and each with a **kind** (docs/case-record.md §3.7): *compliance*
  checks (met = done as required) ``predose_bp``, ``bp_rechecked``, ``observed_2h``,
  ``bp_predischarge``, ``bp_acceptable_at_discharge``, ``spo2_monitored``,
  ``sedation_resolved``, ``dissociation_resolved``; *finding* checks (met = a hazard happened)
  ``bp_rise``, ``bp_severe``, ``desaturation``, ``deep_sedation``, ``loss_of_consciousness``.
  Renderers take colour and words from the kind, so a hazard is never shown as a check passed.

Thresholds and windows come from ``knowledge/vitals.yaml``. Missing data: no ``vitals`` list
makes the BP checks unknown; rows without a BP value make the checks that need them unknown;
rows without SpO2 make ``spo2_monitored`` unknown (docs/case-record.md §3.7).

For training and case conferences with synthetic patients; not a medical device.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kdsupport.knowledge import SESSION_CHECKS
from kdsupport.rules.result import CheckKind, Reason, RuleResult, Status, all_of, any_of, compare

if TYPE_CHECKING:
    from kdsupport.knowledge import KnowledgeBase
    from kdsupport.records.case import CaseRecord, Session, VitalReading

__all__ = [
    "evaluate_predose_bp",
    "bp_tier",
    "bp_tiers",
    "evaluate_session",
    "evaluate_sessions",
    "SessionChecks",
    "ReadingFlags",
    "reading_flags",
    "moaas_at_most",
    "large_rise_size",
    "is_post_dose",
    "bp_rise_columns",
    "large_rise_columns",
    "CHECK_ORDER",
    "PREDOSE_TIERS",
]

CHECK_ORDER = SESSION_CHECKS
PREDOSE_TIERS = ("ok", "consider_delay", "severe", "unknown")


# Record field names in the words a reason uses.
_FIELD_WORDS = {"systolic_mmhg": "systolic", "diastolic_mmhg": "diastolic"}


def _g(x: float | None) -> str:
    return "not recorded" if x is None else f"{x:g}"


def _severe(kb: KnowledgeBase, severe: str | None) -> tuple[float, float]:
    _, d = kb.vitals.predose_bp_guide.severe_definition(severe)
    return d.systolic_above_mmhg.value, d.diastolic_above_mmhg.value


def bp_tier(
    systolic: float | None, diastolic: float | None, kb: KnowledgeBase, *, severe: str | None = None
) -> tuple[str, Status, Status]:
    """The tier of one reading, with the Kleene statuses 'above the guide' and 'severe'.

    The tier is ``severe`` when a known value is in the severe range, ``consider_delay`` when a
    known value is above the guide (a missing value may still make it severe), ``ok`` when both
    are known and within the guide, otherwise ``unknown`` (docs/case-record.md §3.5).
    """
    g = kb.vitals.predose_bp_guide
    s_sev, d_sev = _severe(kb, severe)
    sev = any_of([compare(systolic, ">", s_sev), compare(diastolic, ">", d_sev)])
    above = any_of(
        [
            compare(systolic, ">", g.systolic_above_mmhg.value),
            compare(diastolic, ">", g.diastolic_above_mmhg.value),
        ]
    )
    if sev is Status.MET:
        tier = g.severe.status
    elif above is Status.MET:
        tier = g.above_status
    elif above is Status.NOT_MET:
        tier = g.within_status
    else:
        tier = "unknown"
    return tier, above, sev


def bp_tiers(systolic: Any, diastolic: Any, kb: KnowledgeBase, *, severe: str | None = None) -> Any:
    """The column-wise twin of :func:`bp_tier`: one tier per element of two float arrays.

    NaN is a missing value. Returns an object array of ``severe``, ``consider_delay``, ``ok`` or
    ``unknown`` (used by batch screening and the cohort generator).
    """
    import numpy as np

    g = kb.vitals.predose_bp_guide
    s_sev, d_sev = _severe(kb, severe)
    s, d = np.asarray(systolic, dtype=float), np.asarray(diastolic, dtype=float)
    known_s, known_d = ~np.isnan(s), ~np.isnan(d)
    with np.errstate(invalid="ignore"):
        sev = (known_s & (s > s_sev)) | (known_d & (d > d_sev))
        above = (known_s & (s > g.systolic_above_mmhg.value)) | (
            known_d & (d > g.diastolic_above_mmhg.value)
        )
    within = known_s & known_d & ~above
    return np.where(
        sev,
        g.severe.status,
        np.where(above, g.above_status, np.where(within, g.within_status, "unknown")),
    ).astype(object)


def evaluate_predose_bp(
    systolic: float | None,
    diastolic: float | None,
    kb: KnowledgeBase,
    *,
    fields: tuple[str, str] = ("vitals.systolic_mmhg", "vitals.diastolic_mmhg"),
    uncontrolled_hypertension: bool | None = None,
    severe: str | None = None,
) -> RuleResult:
    """Pre-dose BP in three tiers: ``ok``, ``consider_delay``, ``severe`` (else ``unknown``).

    The result's label is the tier; its status is met when the BP is within the guide, not met
    when it is above it (either tier above), unknown otherwise. ``uncontrolled_hypertension``
    is the record's screening answer: exactly ``False`` with a reading above the guide adds the
    ``predose_bp.screening_mismatch`` reason. ``severe`` names the severe-tier definition.
    """
    g = kb.vitals.predose_bp_guide
    sev_name, sev_def = g.severe_definition(severe)
    s_lim, d_lim = g.systolic_above_mmhg.value, g.diastolic_above_mmhg.value
    s_sev, d_sev = sev_def.systolic_above_mmhg.value, sev_def.diastolic_above_mmhg.value
    tier, above, sev = bp_tier(systolic, diastolic, kb, severe=severe)
    guide_src = tuple(
        dict.fromkeys(kb.source_ids(g.systolic_above_mmhg.source) + kb.source_ids(g.source))
    )
    sev_src = tuple(
        dict.fromkeys(
            kb.source_ids(sev_def.systolic_above_mmhg.source) + kb.source_ids(g.severe.source)
        )
    )
    reading = f"{_g(systolic)}/{_g(diastolic)} mmHg"
    guide = f"the label's guide (consider a delay above {s_lim:g} systolic or {d_lim:g} diastolic)"
    crisis = f"the severe range ({sev_def.title}; site default: {sev_def.label})"
    missing = tuple(f for f, v in zip(fields, (systolic, diastolic), strict=True) if v is None)
    could = (
        f" The missing {' and '.join(_FIELD_WORDS.get(f.rsplit('.', 1)[-1], f) for f in missing)}"
        " value could change the tier."
        if missing
        else ""
    )
    reasons: list[Reason] = []
    if tier == g.severe.status:
        status = Status.NOT_MET
        reasons.append(
            Reason(
                "bp.predose.severe",
                f"BP {reading} is in {crisis}. {g.severe.meaning}",
                fields,
                sev_src,
            )
        )
    elif tier == g.above_status:
        status = Status.NOT_MET
        maybe = (
            f" The missing value could put it in the severe range (above {s_sev:g}/{d_sev:g})."
            if sev is Status.UNKNOWN
            else ""
        )
        reasons.append(
            Reason(
                "bp.predose.above_guide",
                f"BP {reading} is above {guide}. {g.meaning}{maybe}",
                fields,
                guide_src,
                missing if sev is Status.UNKNOWN else (),
            )
        )
    elif tier == g.within_status:
        status = Status.MET
        reasons.append(
            Reason("bp.predose.within_guide", f"BP {reading} is within {guide}", fields, guide_src)
        )
    else:
        status = Status.UNKNOWN
        reasons.append(
            Reason(
                "bp.predose.unknown",
                f"BP {reading}: cannot place it against {guide}.{could}",
                fields,
                guide_src,
                missing,
            )
        )
    if tier in (g.above_status, g.severe.status) and uncontrolled_hypertension is False:
        reasons.append(
            Reason(
                "predose_bp.screening_mismatch",
                g.screening_mismatch.message,
                (*fields, "screening.uncontrolled_hypertension"),
                kb.source_ids(g.screening_mismatch.source),
            )
        )
    return RuleResult(
        "bp.predose",
        status,
        tier,
        reasons=tuple(reasons),
        inputs={
            "systolic_mmhg": systolic,
            "diastolic_mmhg": diastolic,
            "severe_definition": sev_name,
        },
    )


@dataclass(frozen=True)
class ReadingFlags:
    """What the rules find in one vitals reading of a session (for checks and figures)."""

    reading: VitalReading
    large_rise: Status  # at least the label's large-rise size above minute 0 (post-dose only)
    severe: Status  # in the severe tier
    desaturated: Status  # SpO2 below the desaturation threshold


def large_rise_size(kb: KnowledgeBase) -> tuple[float, float]:
    """The label's large BP rise above minute 0, ``(systolic, diastolic)`` mmHg: either is enough.

    The ``bp_rise`` check's thresholds, for the rule below and for anything that draws or words
    them (figures, summaries).
    """
    chk = kb.vitals.session_monitoring.checks["bp_rise"]
    assert chk.systolic_rise_mmhg is not None and chk.diastolic_rise_mmhg is not None
    return chk.systolic_rise_mmhg.value, chk.diastolic_rise_mmhg.value


def is_post_dose(minute: Any) -> Any:
    """Whether a reading is after dosing: minute 0 is the pre-dose baseline of the rise rules.

    Works on one minute or element-wise on an array or a pandas column.
    """
    return minute > 0


def reading_flags(
    session: Session, kb: KnowledgeBase, *, severe: str | None = None
) -> list[ReadingFlags]:
    """Each vitals reading of a session with the findings the rules see in it.

    The one place where a reading is judged: the ``bp_rise``, ``bp_severe`` and ``desaturation``
    checks and the session figures all use it (:func:`large_rise_columns` is its column-wise
    twin for the large rise).
    """
    checks = kb.vitals.session_monitoring.checks
    s_big, d_big = large_rise_size(kb)
    desat = checks["desaturation"].spo2_below_percent
    assert desat is not None
    vitals = list(session.vitals or ())
    base = next((r for r in vitals if r.minute == 0), None)
    out = []
    for r in vitals:
        if base is None or not is_post_dose(r.minute):
            big = Status.UNKNOWN if is_post_dose(r.minute) else Status.NOT_MET
        else:
            big = any_of(
                [
                    compare(_rise(r.systolic_mmhg, base.systolic_mmhg), ">=", s_big),
                    compare(_rise(r.diastolic_mmhg, base.diastolic_mmhg), ">=", d_big),
                ]
            )
        _, _, sev = bp_tier(r.systolic_mmhg, r.diastolic_mmhg, kb, severe=severe)
        out.append(ReadingFlags(r, big, sev, compare(r.spo2_percent, "<", desat.value)))
    return out


_SESSION = ("patient_id", "number")


def bp_rise_columns(vitals: Any, *, session: tuple[str, ...] = _SESSION) -> Any:
    """Column-wise: each reading's rise above the minute-0 reading of its session.

    ``vitals`` is a DataFrame with the ``session`` key columns, ``minute``, ``systolic_mmhg`` and
    ``diastolic_mmhg`` (one row per reading, as the cohort's ``vitals`` table). The baseline is
    the session's first minute-0 row, as in :func:`reading_flags`. Returns a DataFrame on
    ``vitals``' index with ``systolic_rise_mmhg`` and ``diastolic_rise_mmhg`` (float; NaN when
    the value or the baseline is missing) and ``has_baseline`` (whether the session has a
    minute-0 reading).
    """
    import pandas as pd

    from kdsupport.rules.columns import flt

    keys = list(session)
    cols = ["systolic_mmhg", "diastolic_mmhg"]
    base = vitals.loc[flt(vitals["minute"]) == 0, keys + cols].drop_duplicates(keys, keep="first")
    base = base.assign(has_baseline=True)
    joined = vitals[keys].merge(base, on=keys, how="left")
    out = pd.DataFrame(index=vitals.index)
    for c in cols:
        out[c.replace("_mmhg", "_rise_mmhg")] = flt(vitals[c]) - flt(joined[c])
    out["has_baseline"] = joined["has_baseline"].notna().to_numpy()
    return out


def large_rise_columns(
    vitals: Any, kb: KnowledgeBase, *, session: tuple[str, ...] = _SESSION
) -> Any:
    """The column-wise twin of :attr:`ReadingFlags.large_rise`: one status per vitals row.

    ``vitals`` as for :func:`bp_rise_columns`. Returns a pandas ``boolean`` Series on
    ``vitals``' index: True where the reading is a large rise (met), False where it is not
    (minute 0 and earlier are never one), NA where it cannot be judged (no minute-0 reading, or
    a missing value while the other is not a large rise).
    """
    import numpy as np
    import pandas as pd

    from kdsupport.rules.columns import MET, NOT, UNK, compare, flt, or_

    s_big, d_big = large_rise_size(kb)
    rise = bp_rise_columns(vitals, session=session)
    big = or_(
        compare(rise["systolic_rise_mmhg"].to_numpy(dtype=float), ">=", s_big),
        compare(rise["diastolic_rise_mmhg"].to_numpy(dtype=float), ">=", d_big),
    )
    codes = np.where(np.asarray(is_post_dose(flt(vitals["minute"]))), big, NOT)
    values = pd.arrays.BooleanArray(codes == MET, codes == UNK)
    return pd.Series(values, index=vitals.index, name="large_rise")


@dataclass(frozen=True)
class SessionChecks:
    """Every monitoring check of one session, with its kind (compliance or finding)."""

    index: int
    number: int
    modality: str
    checks: dict[str, RuleResult]
    kinds: dict[str, CheckKind]


def _has_bp(r: VitalReading) -> bool:
    return r.systolic_mmhg is not None or r.diastolic_mmhg is not None


@dataclass(frozen=True)
class _Ctx:
    """What every check of one session needs."""

    session: Session
    path: str
    kb: KnowledgeBase
    site_src: tuple[str, ...]
    severe: str | None

    @property
    def vpath(self) -> str:
        return f"{self.path}.vitals"

    @functools.cached_property
    def flags(self) -> list[ReadingFlags]:
        """Each reading's flags, worked out once for all the checks of the session."""
        return reading_flags(self.session, self.kb, severe=self.severe)

    @property
    def zero(self) -> VitalReading | None:
        return next((r for r in self.session.vitals or () if r.minute == 0), None)

    @property
    def post(self) -> list[VitalReading]:
        return [r for r in self.session.vitals or () if is_post_dose(r.minute)]

    def result(
        self,
        name: str,
        status: Status,
        message: str,
        fields: tuple[str, ...],
        src: tuple[str, ...],
        missing: tuple[str, ...] = (),
    ) -> RuleResult:
        reason = Reason(
            f"session.{name}.{status.value}",
            message,
            fields,
            tuple(dict.fromkeys(src + self.site_src)),
            missing if status is Status.UNKNOWN else (),
        )
        return RuleResult(f"session.{name}", status, status.value, reasons=(reason,))

    def no_vitals(self, name: str, src: tuple[str, ...]) -> RuleResult:
        return self.result(
            name,
            Status.UNKNOWN,
            "no vitals recorded for this session",
            (self.vpath,),
            src,
            (self.vpath,),
        )


def _predose_bp(c: _Ctx) -> RuleResult:
    src = c.kb.source_ids(c.kb.vitals.session_monitoring.checks["predose_bp"].source)
    if c.session.vitals is None:
        return c.no_vitals("predose_bp", src)
    zero = c.zero
    if zero is None:
        return c.result(
            "predose_bp",
            Status.UNKNOWN,
            "no minute-0 (pre-dose) reading",
            (c.vpath,),
            src,
            (f"{c.vpath}[minute 0]",),
        )
    j = c.session.vitals.index(zero)
    bp = evaluate_predose_bp(
        zero.systolic_mmhg,
        zero.diastolic_mmhg,
        c.kb,
        fields=(f"{c.vpath}[{j}].systolic_mmhg", f"{c.vpath}[{j}].diastolic_mmhg"),
        severe=c.severe,
    )
    r = bp.reasons[0]
    return c.result("predose_bp", bp.status, r.message, r.fields, r.sources + src, r.missing)


def _bp_rechecked(c: _Ctx) -> RuleResult:
    w = c.kb.vitals.session_monitoring.checks["bp_rechecked"].window_minutes
    assert w is not None  # the knowledge-base checks require it
    src = c.kb.source_ids(w.source)
    if c.session.vitals is None:
        return c.no_vitals("bp_rechecked", src)
    inwin = [r for r in c.session.vitals if w.min <= r.minute <= w.max]
    if any(_has_bp(r) for r in inwin):
        m = next(r.minute for r in inwin if _has_bp(r))
        msg = f"BP re-checked at minute {m:g} (window {w.min:g}-{w.max:g})"
        return c.result("bp_rechecked", Status.MET, msg, (c.vpath,), src)
    if inwin:
        msg = f"a reading between minutes {w.min:g} and {w.max:g} has no BP value"
        return c.result("bp_rechecked", Status.UNKNOWN, msg, (c.vpath,), src, (c.vpath,))
    msg = f"no reading between minutes {w.min:g} and {w.max:g}"
    return c.result("bp_rechecked", Status.NOT_MET, msg, (c.vpath,), src)


def _rise(x: float | None, base: float | None) -> float | None:
    return None if x is None or base is None else x - base


def _bp_rise(c: _Ctx) -> RuleResult:
    chk = c.kb.vitals.session_monitoring.checks["bp_rise"]
    assert chk.systolic_rise_mmhg is not None
    s_rise, d_rise = large_rise_size(c.kb)
    src = c.kb.source_ids(chk.systolic_rise_mmhg.source)
    if c.session.vitals is None:
        return c.no_vitals("bp_rise", src)
    base, post = c.zero, c.post
    if base is None or not post:
        what = "no minute-0 reading to compare with" if base is None else "no post-dose reading"
        return c.result("bp_rise", Status.UNKNOWN, what, (c.vpath,), src, (c.vpath,))
    rows = [f for f in c.flags if is_post_dose(f.reading.minute)]
    st = any_of(f.large_rise for f in rows)

    def rise(f: ReadingFlags) -> tuple[float | None, float | None]:
        return (
            _rise(f.reading.systolic_mmhg, base.systolic_mmhg),
            _rise(f.reading.diastolic_mmhg, base.diastolic_mmhg),
        )

    if st is Status.MET:
        f = next(x for x in rows if x.large_rise is Status.MET)
        ds, dd = rise(f)
        msg = (
            f"a rise of {_g(ds)}/{_g(dd)} mmHg at minute {f.reading.minute:g}, the size the label "
            f"reports (>= {s_rise:g} systolic or >= {d_rise:g} diastolic); the label advises "
            "re-checking until values are stable at a safe level"
        )
    elif st is Status.NOT_MET:
        top_s = max(v for v, _ in map(rise, rows) if v is not None)
        top_d = max(v for _, v in map(rise, rows) if v is not None)
        msg = f"no large rise: largest {top_s:g}/{top_d:g} mmHg, below {s_rise:g}/{d_rise:g}"
    else:
        msg = "a reading lacks a BP value, so a large rise cannot be ruled out"
    return c.result("bp_rise", st, msg, (c.vpath,), src, (c.vpath,))


def _bp_severe(c: _Ctx) -> RuleResult:
    chk = c.kb.vitals.session_monitoring.checks["bp_severe"]
    _, d = c.kb.vitals.predose_bp_guide.severe_definition(c.severe)
    src = c.kb.source_ids(chk.source) + c.kb.source_ids(d.systolic_above_mmhg.source)
    if c.session.vitals is None:
        return c.no_vitals("bp_severe", src)
    limit = f"{d.systolic_above_mmhg.value:g}/{d.diastolic_above_mmhg.value:g}"
    rows = c.flags
    st = any_of(f.severe for f in rows) if rows else Status.UNKNOWN
    if st is Status.MET:
        r = next(f.reading for f in rows if f.severe is Status.MET)
        msg = (
            f"{_g(r.systolic_mmhg)}/{_g(r.diastolic_mmhg)} mmHg at minute {r.minute:g} "
            f"is in the severe range (above {limit}, {d.label}): a clinician reassesses; the label "
            "sends symptoms of hypertensive crisis to emergency care"
        )
    elif st is Status.NOT_MET:
        msg = f"no reading in the severe range (above {limit}, {d.label})"
    else:
        msg = f"a reading lacks a BP value: a reading above {limit} cannot be ruled out"
    return c.result("bp_severe", st, msg, (c.vpath,), src, (c.vpath,))


def _observed_2h(c: _Ctx) -> RuleResult:
    chk = c.kb.vitals.session_monitoring.checks["observed_2h"]
    assert chk.min_observation_minutes is not None
    need = chk.min_observation_minutes.value
    src = c.kb.source_ids(chk.min_observation_minutes.source)
    obs = c.session.observation_minutes
    fld = (f"{c.path}.observation_minutes",)
    msg = f"observation {_g(obs)} minutes; needs >= {need:g}"
    return c.result("observed_2h", compare(obs, ">=", need), msg, fld, src, fld)


def _predischarge_window(c: _Ctx) -> tuple[float, float] | None:
    chk = c.kb.vitals.session_monitoring.checks["bp_predischarge"]
    assert chk.window_before_end_minutes is not None
    obs = c.session.observation_minutes
    return None if obs is None else (obs - chk.window_before_end_minutes.value, obs)


def _window_missing(c: _Ctx) -> tuple[str, ...]:
    pairs = (
        (c.vpath, c.session.vitals),
        (f"{c.path}.observation_minutes", c.session.observation_minutes),
    )
    return tuple(x for x, v in pairs if v is None)


def _bp_predischarge(c: _Ctx) -> RuleResult:
    chk = c.kb.vitals.session_monitoring.checks["bp_predischarge"]
    assert chk.window_before_end_minutes is not None
    src = c.kb.source_ids(chk.window_before_end_minutes.source)
    fields = (c.vpath, f"{c.path}.observation_minutes")
    win = _predischarge_window(c)
    if c.session.vitals is None or win is None:
        msg = "needs the vitals and the observation time"
        return c.result("bp_predischarge", Status.UNKNOWN, msg, fields, src, _window_missing(c))
    lo, hi = win
    inwin = [r for r in c.session.vitals if lo <= r.minute <= hi]
    if any(_has_bp(r) for r in inwin):
        m = max(r.minute for r in inwin if _has_bp(r))
        msg = f"BP at minute {m:g}, within the last {hi - lo:g} minutes of {hi:g}"
        return c.result("bp_predischarge", Status.MET, msg, fields, src)
    if inwin:
        msg = "a reading before discharge has no BP value"
        return c.result("bp_predischarge", Status.UNKNOWN, msg, fields, src, (c.vpath,))
    msg = f"no reading between minutes {lo:g} and {hi:g}"
    return c.result("bp_predischarge", Status.NOT_MET, msg, fields, src)


def _bp_acceptable_at_discharge(c: _Ctx) -> RuleResult:
    chk = c.kb.vitals.session_monitoring.checks["bp_acceptable_at_discharge"]
    g = c.kb.vitals.predose_bp_guide
    src = c.kb.source_ids(chk.source)
    fields = (c.vpath, f"{c.path}.observation_minutes")
    win = _predischarge_window(c)
    name = "bp_acceptable_at_discharge"
    if c.session.vitals is None or win is None:
        msg = "needs the vitals and the observation time"
        return c.result(name, Status.UNKNOWN, msg, fields, src, _window_missing(c))
    lo, hi = win
    inwin = [r for r in c.session.vitals if lo <= r.minute <= hi]
    if not any(_has_bp(r) for r in inwin):
        msg = f"no BP reading between minutes {lo:g} and {hi:g} to judge"
        return c.result(name, Status.UNKNOWN, msg, fields, src, (c.vpath,))
    # The window's last reading decides (5.8.1). A later row without a BP value is still the
    # last reading, and its missing values make the check unknown: the protective reading, so that
    # an earlier, better value never stands in for a later one that was not recorded.
    last = max(inwin, key=lambda r: r.minute)
    s, d = last.systolic_mmhg, last.diastolic_mmhg
    _, above, severe = bp_tier(s, d, c.kb, severe=c.severe)
    base = c.zero
    not_above_base = (
        Status.UNKNOWN
        if base is None
        else all_of(
            [
                compare(_rise(s, base.systolic_mmhg), "<=", 0),
                compare(_rise(d, base.diastolic_mmhg), "<=", 0),
            ]
        )
    )
    st = all_of([~severe, any_of([~above, not_above_base])])
    reading = f"{_g(s)}/{_g(d)} mmHg at minute {last.minute:g}"
    guide = f"{g.systolic_above_mmhg.value:g}/{g.diastolic_above_mmhg.value:g}"
    start = (
        "no minute-0 reading"
        if base is None
        else (f"{_g(base.systolic_mmhg)}/{_g(base.diastolic_mmhg)} at minute 0")
    )
    if st is Status.MET:
        msg = f"last reading {reading}: within {guide} or not above the pre-dose {start}"
    elif st is Status.NOT_MET:
        what = (
            "in the severe range"
            if severe is Status.MET
            else (f"above {guide} and above the pre-dose {start}")
        )
        msg = f"NOT acceptable: last reading {reading} is {what}"
    else:
        msg = f"last reading {reading}: a value needed to judge it is missing ({start})"
    return c.result(name, st, msg, fields, src, (c.vpath,))


def _spo2_monitored(c: _Ctx) -> RuleResult:
    src = c.kb.source_ids(c.kb.vitals.session_monitoring.checks["spo2_monitored"].source)
    if c.session.vitals is None:
        return c.no_vitals("spo2_monitored", src)
    post = c.post
    if any(r.spo2_percent is not None for r in post):
        m = next(r.minute for r in post if r.spo2_percent is not None)
        msg = f"SpO2 recorded after dosing (minute {m:g})"
        return c.result("spo2_monitored", Status.MET, msg, (c.vpath,), src)
    if post:
        msg = "post-dose readings have no SpO2 value"
        return c.result("spo2_monitored", Status.UNKNOWN, msg, (c.vpath,), src, (c.vpath,))
    return c.result("spo2_monitored", Status.NOT_MET, "no reading after dosing", (c.vpath,), src)


def _desaturation(c: _Ctx) -> RuleResult:
    chk = c.kb.vitals.session_monitoring.checks["desaturation"]
    assert chk.spo2_below_percent is not None
    below = chk.spo2_below_percent.value
    src = c.kb.source_ids(chk.spo2_below_percent.source)
    values = [r for r in c.session.vitals or () if r.spo2_percent is not None]
    if not values:  # unknown only when the session has no SpO2 value at all (5.8.5)
        msg = "no SpO2 value recorded in the session"
        return c.result("desaturation", Status.UNKNOWN, msg, (c.vpath,), src, (c.vpath,))
    low = min(values, key=lambda r: r.spo2_percent or 0)
    if (low.spo2_percent or 0) < below:
        msg = (
            f"SpO2 {low.spo2_percent:g} % at minute {low.minute:g}, below {below:g} % "
            "(respiratory depression is in the boxed warning)"
        )
        return c.result("desaturation", Status.MET, msg, (c.vpath,), src)
    gaps = len(c.session.vitals or ()) - len(values)
    gap = f"; {gaps} reading(s) have no SpO2 value" if gaps else ""
    msg = (
        f"lowest recorded SpO2 {low.spo2_percent:g} % at minute {low.minute:g}; none below "
        f"{below:g} %{gap}"
    )
    return c.result("desaturation", Status.NOT_MET, msg, (c.vpath,), src)


def moaas_at_most(score: float | None, check: str, kb: KnowledgeBase) -> Status:
    """Whether one MOAA/S score is at or below a check's ``max_score`` (unknown when missing).

    ``check`` is ``deep_sedation`` or ``loss_of_consciousness``: the one place a MOAA/S reading
    is judged, for those checks and for the figures that mark it.
    """
    chk = kb.vitals.session_monitoring.checks[check]
    assert chk.max_score is not None
    return compare(score, "<=", chk.max_score.value)


def _moaas_any(c: _Ctx, name: str, at_most: float, what: str) -> RuleResult:
    chk = c.kb.vitals.session_monitoring.checks[name]
    assert chk.max_score is not None
    src = c.kb.source_ids(chk.max_score.source)
    mpath = (f"{c.path}.moaas",)
    if not c.session.moaas:
        return c.result(name, Status.UNKNOWN, "no MOAA/S recorded", mpath, src, mpath)
    st = any_of(moaas_at_most(r.score, name, c.kb) for r in c.session.moaas)
    if st is Status.MET:
        r = next(r for r in c.session.moaas if moaas_at_most(r.score, name, c.kb) is Status.MET)
        msg = f"MOAA/S {r.score} at minute {r.minute:g}: {what}"
    elif st is Status.NOT_MET:
        low = min(r.score for r in c.session.moaas if r.score is not None)
        msg = f"lowest MOAA/S {low}; none at or below {at_most:g}"
    else:
        msg = f"a MOAA/S value is missing: a score at or below {at_most:g} cannot be ruled out"
    return c.result(name, st, msg, mpath, src, mpath)


def _deep_sedation(c: _Ctx) -> RuleResult:
    chk = c.kb.vitals.session_monitoring.checks["deep_sedation"]
    assert chk.max_score is not None
    return _moaas_any(
        c,
        "deep_sedation",
        chk.max_score.value,
        "responds only to prodding or pain (deep sedation)",
    )


def _loss_of_consciousness(c: _Ctx) -> RuleResult:
    chk = c.kb.vitals.session_monitoring.checks["loss_of_consciousness"]
    assert chk.max_score is not None
    return _moaas_any(
        c,
        "loss_of_consciousness",
        chk.max_score.value,
        "no response to pain: the label's loss of consciousness",
    )


def _sedation_resolved(c: _Ctx) -> RuleResult:
    chk = c.kb.vitals.session_monitoring.checks["sedation_resolved"]
    assert chk.alert_score is not None
    alert = chk.alert_score.value
    src = c.kb.source_ids(chk.alert_score.source)
    mpath = (f"{c.path}.moaas",)
    if not c.session.moaas:
        return c.result(
            "sedation_resolved", Status.UNKNOWN, "no MOAA/S recorded", mpath, src, mpath
        )
    last = max(c.session.moaas, key=lambda r: r.minute)
    msg = f"last MOAA/S {_g(last.score)} at minute {last.minute:g}; resolved means {alert:g}"
    return c.result("sedation_resolved", compare(last.score, ">=", alert), msg, mpath, src, mpath)


def _dissociation_resolved(c: _Ctx) -> RuleResult:
    src = c.kb.source_ids(c.kb.vitals.session_monitoring.checks["dissociation_resolved"].source)
    fld = (f"{c.path}.dissociation_resolved",)
    value = c.session.dissociation_resolved
    st = Status.of(value)
    msg = {
        Status.MET: "the clinician recorded that dissociation had resolved before discharge",
        Status.NOT_MET: "the clinician recorded that dissociation had NOT resolved at discharge "
        "(the REMS requires monitoring until it resolves)",
        Status.UNKNOWN: "not recorded whether dissociation had resolved before discharge",
    }[st]
    return c.result("dissociation_resolved", st, msg, fld, src, fld)


_CHECKS: dict[str, Callable[[_Ctx], RuleResult]] = {
    "predose_bp": _predose_bp,
    "bp_rechecked": _bp_rechecked,
    "bp_rise": _bp_rise,
    "bp_severe": _bp_severe,
    "observed_2h": _observed_2h,
    "bp_predischarge": _bp_predischarge,
    "bp_acceptable_at_discharge": _bp_acceptable_at_discharge,
    "spo2_monitored": _spo2_monitored,
    "desaturation": _desaturation,
    "sedation_resolved": _sedation_resolved,
    "deep_sedation": _deep_sedation,
    "loss_of_consciousness": _loss_of_consciousness,
    "dissociation_resolved": _dissociation_resolved,
}


def evaluate_session(
    session: Session, index: int, kb: KnowledgeBase, *, severe: str | None = None
) -> SessionChecks:
    """Run every monitoring check on one session."""
    sm = kb.vitals.session_monitoring
    site = sm.modality_sources.get(session.modality)
    ctx = _Ctx(session, f"sessions[{index}]", kb, (site.id,) if site else (), severe)
    checks = {name: _CHECKS[name](ctx) for name in CHECK_ORDER}
    kinds = {name: CheckKind(sm.checks[name].kind) for name in CHECK_ORDER}
    return SessionChecks(index, session.number, session.modality, checks, kinds)


def evaluate_sessions(
    record: CaseRecord, kb: KnowledgeBase, *, severe: str | None = None
) -> list[SessionChecks]:
    """Monitoring checks for every session in record order."""
    return [evaluate_session(s, i, kb, severe=severe) for i, s in enumerate(record.sessions or ())]
