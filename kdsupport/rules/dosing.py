"""The esketamine dosing schedule: do a session's dose and its week's sessions fit the label.

Two compliance checks per esketamine session (docs/case-record.md §3.8):

* ``dose_fits_schedule``: the dose is one the table allows for the indication (``trd`` or
  ``mdsi``), the phase of the course and, under the EU selection, the patient's age (the EU
  table starts at 28 mg from 65);
* ``frequency_fits_schedule``: the session is not one more than its course week allows
  (twice weekly in weeks 1-4, once weekly after; MDSI use beyond 4 weeks was not evaluated).

The phase comes from the session dates: day 1 is the record's first esketamine session of the
indication, and the course week counts whole weeks since day 1 (an assumption the knowledge
base records). What is not known stays unknown: an unknown indication is checked against both
tables and is decided only when both agree; an unknown date leaves the week open.

Tables live in ``knowledge/session_day.yaml``. For training with synthetic patients; not a
medical device.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kdsupport.rules.result import Reason, RuleResult, Status

if TYPE_CHECKING:
    from kdsupport.knowledge import KnowledgeBase
    from kdsupport.knowledge.models.session_day import Phase, ScheduleTable
    from kdsupport.records.case import CaseRecord, Session

__all__ = ["SchedulePlace", "ScheduleChecks", "evaluate_schedule", "schedule_table", "jurisdiction"]

_WEEK = dt.timedelta(weeks=1)
_ESKETAMINE = "esketamine_nasal"


@dataclass(frozen=True)
class SchedulePlace:
    """Where a session sits in its course; ``None`` wherever it cannot be told."""

    indication: str | None
    jurisdiction: str
    course_week: int | None
    day_one: str | None
    phase: str | None
    doses_mg: tuple[float, ...] | None
    max_sessions_per_week: int | None
    note: str | None

    def to_json(self) -> dict[str, Any]:
        """The session's ``schedule`` entry of the assessment."""
        return {
            "indication": self.indication,
            "jurisdiction": self.jurisdiction,
            "course_week": self.course_week,
            "day_one": self.day_one,
            "phase": self.phase,
            "allowed_doses_mg": [_whole(d) for d in self.doses_mg]
            if self.doses_mg is not None
            else None,
            "max_sessions_per_week": self.max_sessions_per_week,
            "note": self.note,
        }


@dataclass(frozen=True)
class ScheduleChecks:
    """The two schedule checks of one esketamine session and where it sits in the course."""

    place: SchedulePlace
    dose: RuleResult
    frequency: RuleResult


def _whole(x: float) -> float | int:
    return int(x) if float(x).is_integer() else x


def _mg(doses: tuple[float, ...] | list[float]) -> str:
    return " or ".join(f"{_whole(d)} mg" for d in doses) if doses else "no dose"


def _date(s: Session) -> dt.date | None:
    return dt.date.fromisoformat(s.date) if s.date else None


def jurisdiction(kb: KnowledgeBase, name: str | None) -> str:
    """The selected jurisdiction (``us`` / ``eu``), the knowledge base's default when None."""
    sched = kb.session_day.schedule
    key = name or sched.default_jurisdiction
    if key not in sched.jurisdictions:
        raise KeyError(f"unknown jurisdiction {key!r}; choose one of {sorted(sched.jurisdictions)}")
    return key


def schedule_table(kb: KnowledgeBase, indication: str, where: str, age: int) -> ScheduleTable:
    """The table row for an indication, jurisdiction and age.

    Of the rows for the indication and jurisdiction, the one with the highest ``min_age_years``
    that the age reaches.
    """
    rows = [
        t
        for t in kb.session_day.schedule.tables
        if t.indication == indication and t.jurisdiction == where
    ]

    def floor(t: ScheduleTable) -> float:
        return t.min_age_years.value if t.min_age_years else float("-inf")

    return max((t for t in rows if floor(t) <= age), key=floor)


@dataclass(frozen=True)
class _Verdict:
    """One candidate reading (an indication) of a session: both checks and their basis."""

    place: SchedulePlace
    dose: Status
    dose_msg: str
    freq: Status
    freq_msg: str
    sources: tuple[str, ...]
    missing: tuple[str, ...]


@dataclass(frozen=True)
class _Course:
    """The sessions of one indication's course as far as the record tells."""

    index: int
    sessions: list[tuple[int, Session]]  # definitely in the course, this one included
    maybe: list[tuple[int, Session]]  # esketamine sessions whose indication is unknown

    @property
    def first(self) -> tuple[int, Session]:
        return min(self.sessions, key=lambda ks: ks[1].number)


def _course(record: CaseRecord, index: int, indication: str) -> _Course:
    sessions = list(enumerate(record.sessions or ()))
    esk = [(k, s) for k, s in sessions if s.modality == _ESKETAMINE]
    mine = [(k, s) for k, s in esk if k == index or s.indication == indication]
    maybe = [(k, s) for k, s in esk if k != index and s.indication is None]
    return _Course(index, mine, maybe)


def _week(day: dt.date | None, day_one: dt.date | None) -> int | None:
    if day is None or day_one is None:
        return None
    return (day - day_one) // _WEEK + 1


def _phases_for(table: ScheduleTable, first: bool, week: int | None) -> list[Phase]:
    if first:
        return [p for p in table.phases if p.phase == "day_1"]
    later = [p for p in table.phases if p.phase != "day_1"]
    if week is None:
        return later
    return [
        p for p in later if p.first_week <= week and (p.last_week is None or week <= p.last_week)
    ]


def _agree(statuses: list[Status]) -> Status:
    """Met or not met only when every candidate reading agrees; unknown otherwise."""
    first = statuses[0] if statuses else Status.UNKNOWN
    return first if all(s is first for s in statuses) else Status.UNKNOWN


def _count_in_week(course: _Course, this: Session, week: int, day_one: dt.date) -> tuple[int, int]:
    """How many sessions up to this one fall in its course week, and how many might.

    Known: sessions of the course in the week. Might: sessions whose date or indication is
    unknown.
    """
    known = unknown = 0
    for _, s in course.sessions + course.maybe:
        if s.number > this.number:
            continue
        w = _week(_date(s), day_one)
        definite = any(s is t for _, t in course.sessions)
        if w is None:
            unknown += 1
        elif w == week:
            known += definite
            unknown += not definite
    return known, unknown


def _frequency(
    phase: Phase, course: _Course, this: Session, week: int | None, day_one: dt.date | None
) -> tuple[Status, str]:
    if phase.phase == "day_1":
        return Status.MET, f"day 1 of the course; {phase.note}"
    if phase.max_sessions_per_week is None:
        return Status.NOT_MET, f"{phase.note}: no frequency is given this late"
    most = phase.max_sessions_per_week
    if week is None or day_one is None:
        return Status.UNKNOWN, "a session date is missing"
    known, unknown = _count_in_week(course, this, week, day_one)
    said = f"session {known} of course week {week}; {phase.note}"
    if known > most:
        return Status.NOT_MET, f"{said}: more than {most} in the week"
    if known + unknown <= most:
        return Status.MET, f"{said}: within {most} per week"
    return (
        Status.UNKNOWN,
        f"{said}: {unknown} other session(s) of unknown date or indication may fall in this week",
    )


def _dose(phase: Phase, dose: float | None, indication: str) -> tuple[Status, str]:
    allowed = tuple(phase.doses_mg)
    if not allowed:
        return Status.NOT_MET, f"{indication.upper()}: {phase.note}"
    if dose is None:
        return Status.UNKNOWN, f"the dose is not recorded; {phase.note}"
    if dose in allowed:
        return Status.MET, f"{_whole(dose)} mg; {phase.note}"
    return (
        Status.NOT_MET,
        f"{_whole(dose)} mg is not in the schedule ({_mg(allowed)}); {phase.note}",
    )


def _possible_day_ones(course: _Course) -> list[tuple[int, Session]]:
    """The sessions that may be day 1 of the course.

    The course's first session, and any earlier esketamine session whose indication is unknown
    (it may belong to this course).
    """
    k1, s1 = course.first
    return [(k1, s1)] + [(k, s) for k, s in course.maybe if s.number < s1.number]


@dataclass(frozen=True)
class _Reading:
    """Both checks if a given session is day 1 of the course."""

    phases: list[Phase]
    doses: list[tuple[Status, str]]
    freqs: list[tuple[Status, str]]
    week: int | None
    missing: list[str]


def _reading(
    course: _Course, index: int, day_one: tuple[int, Session], table: ScheduleTable, indication: str
) -> _Reading:
    """Both checks if ``day_one`` is day 1 of the course."""
    this = next(s for k, s in course.sessions if k == index)
    k1, s1 = day_one
    first = k1 == index
    d1 = _date(s1)
    week = 1 if first else _week(_date(this), d1)
    missing: list[str] = []
    if week is None:
        missing += [f"sessions[{index}].date"] if this.date is None else []
        missing += [f"sessions[{k1}].date"] if s1.date is None else []
    phases = _phases_for(table, first, week)
    doses = [_dose(p, this.dose_mg, indication) for p in phases]
    freqs = [_frequency(p, course, this, week, d1) for p in phases]
    return _Reading(phases, doses, freqs, week, missing)


def _weeks(p: Phase) -> str:
    if p.phase == "day_1":
        return "day 1"
    return f"weeks {p.first_week}-{p.last_week}" if p.last_week else f"week {p.first_week} on"


def _across(phases: list[Phase], doses: list[tuple[Status, str]], dose: float | None) -> str:
    """What a dose is in each phase the session could be in, in one short sentence."""
    if dose is None:
        return "the dose is not recorded"
    fits = [_weeks(p) for p, d in zip(phases, doses, strict=True) if d[0] is Status.MET]
    not_ = [_weeks(p) for p, d in zip(phases, doses, strict=True) if d[0] is Status.NOT_MET]
    given = f"{_whole(dose)} mg"
    if not not_:
        return f"{given} fits every phase the session could be in ({', '.join(fits)})"
    if not fits:
        return f"{given} fits none of the phases the session could be in ({', '.join(not_)})"
    return f"{given} fits {', '.join(fits)} but not {', '.join(not_)}"


def _under(
    record: CaseRecord, index: int, indication: str, where: str, kb: KnowledgeBase
) -> _Verdict:
    """Both checks if the session belongs to a course of ``indication``."""
    this = (record.sessions or [])[index]
    path = f"sessions[{index}]"
    course = _course(record, index, indication)
    k1, s1 = course.first
    table = schedule_table(kb, indication, where, record.patient.age_years)
    srcs = kb.source_ids(table.source) + (kb.session_day.schedule.day_one_source.id,)
    if table.not_found:
        place = SchedulePlace(indication, where, None, s1.date, None, None, None, table.not_found)
        return _Verdict(
            place, Status.UNKNOWN, table.not_found, Status.UNKNOWN, table.not_found, srcs, ()
        )
    day_ones = _possible_day_ones(course)
    readings = [_reading(course, index, d, table, indication) for d in day_ones]
    missing = [m for r in readings for m in r.missing]
    if len(day_ones) > 1:
        missing += [f"sessions[{k}].indication" for k, _ in day_ones[1:]]
    if this.dose_mg is None:
        missing.append(f"{path}.dose_mg")
    phases = [p for r in readings for p in r.phases]
    doses = [d for r in readings for d in r.doses]
    freqs = [f for r in readings for f in r.freqs]
    one = phases[0] if len({p.phase for p in phases}) == 1 and len(readings) == 1 else None
    week = readings[0].week if len(readings) == 1 else None
    place = SchedulePlace(
        indication,
        where,
        week,
        s1.date if len(readings) == 1 else None,
        one.phase if one else None,
        tuple(one.doses_mg) if one else None,
        one.max_sessions_per_week if one else None,
        one.note if one else None,
    )
    srcs += tuple(s for p in phases for s in kb.source_ids(p.source))
    dose_st = _agree([d[0] for d in doses])
    freq_st = _agree([f[0] for f in freqs])
    if one:
        dose_msg, freq_msg = doses[0][1], freqs[0][1]
    else:
        why = (
            "day 1 of the course is not certain"
            if len(readings) > 1
            else "the course week is not known"
        )
        dose_msg = f"{why}: {_across(phases, doses, this.dose_mg)}"
        freq_msg = f"{why}: " + "; ".join(dict.fromkeys(f[1] for f in freqs))
    return _Verdict(
        place, dose_st, dose_msg, freq_st, freq_msg, srcs, tuple(dict.fromkeys(missing))
    )


def evaluate_schedule(
    record: CaseRecord, index: int, kb: KnowledgeBase, *, where: str | None = None
) -> ScheduleChecks:
    """The schedule checks of the esketamine session ``sessions[index]``.

    ``where`` is the jurisdiction (``us`` or ``eu``; the knowledge base's default when None).
    """
    where = jurisdiction(kb, where)
    this = (record.sessions or [])[index]
    path = f"sessions[{index}]"
    known = this.indication is not None
    indications = (
        [this.indication] if this.indication else list(kb.session_day.schedule.indications)
    )
    verdicts = [_under(record, index, ind, where, kb) for ind in indications]
    checks = kb.session_day.checks
    fields = (f"{path}.dose_mg", f"{path}.date", f"{path}.indication", "patient.age_years")

    def result(
        name: str, st: Status, msgs: list[str], extra_missing: tuple[str, ...]
    ) -> RuleResult:
        src = kb.source_ids(checks[name].source) + tuple(s for v in verdicts for s in v.sources)
        if known:
            msg = msgs[0]
        else:
            msg = "the indication is not recorded; " + "; ".join(
                f"if {ind.upper()}: {m}" for ind, m in zip(indications, msgs, strict=True)
            )
        missing = extra_missing + (() if known else (f"{path}.indication",))
        reason = Reason(
            f"session.{name}.{st.value}",
            msg,
            fields,
            tuple(dict.fromkeys(src)),
            tuple(dict.fromkeys(missing)) if st is Status.UNKNOWN else (),
        )
        return RuleResult(f"session.{name}", st, st.value, reasons=(reason,))

    miss = tuple(m for v in verdicts for m in v.missing)
    dose = result(
        "dose_fits_schedule",
        _agree([v.dose for v in verdicts]),
        [v.dose_msg for v in verdicts],
        miss,
    )
    freq = result(
        "frequency_fits_schedule",
        _agree([v.freq for v in verdicts]),
        [v.freq_msg for v in verdicts],
        tuple(m for m in miss if not m.endswith(".dose_mg")),
    )
    place = (
        verdicts[0].place
        if known
        else SchedulePlace(None, where, None, None, None, None, None, None)
    )
    return ScheduleChecks(place, dose, freq)
