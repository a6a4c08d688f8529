"""The session-day drill (notebook 09), steps 1-4: what each step asks and how it is graded.

A step is a list of fields (a choice, a set of tick boxes or a text box). What a field offers
never depends on the case's answers: which checks a step asks about comes from the session's
way of giving ketamine and the knowledge base alone, and every check offers the same choices
(done / NOT done / not recorded / does not apply; a finding: happened / not observed / cannot
tell). The expected answers are worked out only by :func:`grade_step`, at *Check*, from the
assessment of :func:`kdsupport.rules.assess.assess`: the session's checks, what does not apply,
and where the session sits in the dosing schedule. Where the record does not say, the expected
answer is *not recorded* / *cannot tell*, never *no*.

1. **Preparation and the pre-dose BP**: the pre-dose tier of the minute-0 reading, fasting, nasal
   sprays, a prescriber on site, concomitant drugs that interact;
2. **The dose for the day** (esketamine): the phase of the course, the doses the schedule
   allows, whether the dose given and the week's sessions fit, the rest between devices;
3. **During monitoring**: the re-check at about 40 minutes and the findings (a large or severe
   BP, deep sedation, desaturation; for IV ketamine, the infusion paused or slowed), and what to
   do: any finding that happened is for review;
4. **Discharge**: the discharge checks, the decision (every condition met, one not met, or one
   not recorded) and, for esketamine, when the patient may drive.

The REMS form (step 5) is :mod:`kdsupport.widgets.session_day_form`.

For training with synthetic patients; not a medical device.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kdsupport.render import html as H
from kdsupport.rules.result import CheckKind, Status, all_of, any_of

if TYPE_CHECKING:
    from kdsupport.knowledge import KnowledgeBase
    from kdsupport.records.case import CaseRecord, Session
    from kdsupport.rules.assessment import Assessment, SessionAssessment
    from kdsupport.rules.result import Reason

__all__ = [
    "CHOICE",
    "MULTIPLE",
    "TEXT",
    "NOT_RECORDED",
    "Field",
    "Step",
    "Given",
    "FieldResult",
    "Grading",
    "steps_for",
    "grade_step",
    "check_field",
    "validate",
]

CHOICE, MULTIPLE, TEXT = "choice", "multiple", "text"
NOT_RECORDED = "not recorded"
NOT_APPLICABLE = "not_applicable"

_COMPLIANCE = (
    ("met", "Done as required"),
    ("not_met", "NOT done as required"),
    ("unknown", "Not recorded"),
    (NOT_APPLICABLE, "Does not apply to this session"),
)
_FINDING = (
    ("met", "Happened: a finding for review"),
    ("not_met", "Not observed"),
    ("unknown", "Cannot tell from the record"),
)
_CONCOMITANT = (
    ("met", "Taken: monitor more closely"),
    ("not_met", "None of them taken"),
    ("unknown", "Cannot tell from the record"),
)
_CANNOT_TELL = ("unknown", "Cannot tell from the record")

# The checks each step asks about, in order; a check is asked when its modality list (knowledge
# base) holds the session's way of giving ketamine.
_STEP_CHECKS = {
    "preparation": (
        "fasting_food",
        "fasting_liquid",
        "nasal_spray_timing",
        "prescriber_on_site",
        "concomitant_interacting",
    ),
    "dose": ("dose_fits_schedule", "frequency_fits_schedule", "rest_between_devices"),
    "monitoring": (
        "bp_rechecked",
        "bp_rise",
        "bp_severe",
        "deep_sedation",
        "desaturation",
        "infusion_bp_response",
    ),
    "discharge": (
        "observed_2h",
        "bp_acceptable_at_discharge",
        "sedation_resolved",
        "dissociation_resolved",
        "ready_before_discharge",
        "ride_home_arranged",
    ),
}
# The findings behind step 3's "what do you do": any that happened is for review.
_ACTION_FINDINGS = (
    "bp_rise",
    "bp_severe",
    "deep_sedation",
    "desaturation",
    "loss_of_consciousness",
)
_PHASE_NAMES = {
    "day_1": "Day 1 of the course",
    "induction": "Induction",
    "maintenance_weekly": "Maintenance, weekly",
    "maintenance": "Maintenance",
    "beyond_evaluated": "Suicidal-ideation course beyond its evaluated weeks",
}


@dataclass(frozen=True)
class Field:
    """One question of a step: a choice, tick boxes or a text box (never its answer)."""

    id: str
    kind: str
    label: str
    options: tuple[tuple[str, str], ...] = ()
    hint: str = ""
    section: str = ""
    optional: bool = False  # may stay empty
    exclusive: tuple[str, ...] = ()  # tick boxes that clear the others

    def to_json(self) -> dict[str, Any]:
        """What the page draws."""
        return {
            "id": self.id,
            "kind": self.kind,
            "label": self.label,
            "options": [{"value": v, "label": w} for v, w in self.options],
            "hint": self.hint,
            "section": self.section,
            "optional": self.optional,
            "exclusive": list(self.exclusive),
        }

    def words(self, value: Any) -> str:
        """A value of this field as the trainee reads it."""
        labels = dict(self.options)
        if isinstance(value, list):
            return ", ".join(labels.get(v, str(v)) for v in value) or "(none)"
        if value is None or value == "":
            return "(empty)"
        return labels.get(value, str(value))


@dataclass(frozen=True)
class Step:
    """One step of the drill: its heading, what it asks and how much of the session it shows."""

    id: str
    title: str
    intro: str
    fields: tuple[Field, ...]


@dataclass(frozen=True)
class Given:
    """The trainee's entries of one step, checked for completeness (:func:`validate`)."""

    values: dict[str, Any]
    missing: tuple[str, ...]  # field ids left empty
    invalid: tuple[tuple[str, str], ...] = ()  # (field id, what is wrong)


@dataclass(frozen=True)
class FieldResult:
    """One graded field: both answers in words, right or not, why, and the sources."""

    id: str
    label: str
    given: Any
    given_words: str
    expected_words: str
    expected_html: str
    correct: bool
    why: tuple[str, ...]
    sources: tuple[str, ...]
    hazard: bool = False  # the expected answer records a hazard: shown as a warning


@dataclass(frozen=True)
class Grading:
    """What grading reads, worked out at Check: the record, the session and its assessment."""

    record: CaseRecord
    index: int
    assessment: Assessment
    kb: KnowledgeBase
    jurisdiction: str

    @property
    def session(self) -> Session:
        """The session being worked."""
        return (self.record.sessions or [])[self.index]

    @property
    def checks(self) -> SessionAssessment:
        """The session's part of the assessment."""
        return self.assessment.sessions[self.index]


# ---------------------------------------------------------------- what the steps ask
def _applies(kb: KnowledgeBase, name: str, modality: str) -> bool:
    info = kb.session_day.checks.get(name)
    return info is None or modality in info.modalities


def _kind(kb: KnowledgeBase, name: str) -> CheckKind:
    return CheckKind(kb.session_check_info()[name].kind)


def check_field(kb: KnowledgeBase, name: str) -> Field:
    """The field asking what the record shows for one check (its title from the knowledge base)."""
    info = kb.session_check_info()[name]
    options: tuple[tuple[str, str], ...]
    if name == "concomitant_interacting":
        options = _CONCOMITANT
    else:
        options = _FINDING if _kind(kb, name) is CheckKind.FINDING else _COMPLIANCE
    return Field(name, CHOICE, info.title, options, hint=info.description)


def _predose_field(kb: KnowledgeBase) -> Field:
    g = kb.vitals.predose_bp_guide
    _, severe = g.severe_definition(None)
    guide = f"{g.systolic_above_mmhg.value:g}/{g.diastolic_above_mmhg.value:g} mmHg"
    return Field(
        "predose_tier",
        CHOICE,
        "The pre-dose blood pressure (minute 0): what does it call for?",
        (
            (g.within_status, f"Within the guide (not above {guide}): dose as planned"),
            (g.above_status, f"Above the guide ({guide}): weigh the benefit; consider delaying"),
            (g.severe.status, f"In the severe range ({severe.label}): do not dose yet"),
            _CANNOT_TELL,
        ),
        hint=g.title,
    )


def _phase_field(kb: KnowledgeBase) -> Field:
    seen: dict[str, str] = {}
    for t in kb.session_day.schedule.tables:
        for p in t.phases:
            if p.phase in seen:
                continue
            if p.phase == "day_1":
                seen[p.phase] = _PHASE_NAMES[p.phase]
            elif p.last_week is None:
                seen[p.phase] = f"{_PHASE_NAMES[p.phase]}: week {p.first_week} onward"
            else:
                seen[p.phase] = f"{_PHASE_NAMES[p.phase]}: weeks {p.first_week}-{p.last_week}"
    return Field(
        "phase",
        CHOICE,
        "Where is this session in the course?",
        (*seen.items(), _CANNOT_TELL),
        hint="Count the weeks from day 1, the first session of the course.",
    )


def _doses_field(kb: KnowledgeBase) -> Field:
    doses = sorted(
        {d for t in kb.session_day.schedule.tables for p in t.phases for d in p.doses_mg}
    )
    return Field(
        "allowed_doses",
        MULTIPLE,
        "Which doses does the schedule allow for this session?",
        (
            *((f"{d:g}", f"{d:g} mg") for d in doses),
            ("none", "None: the schedule gives no dose for this phase"),
            _CANNOT_TELL,
        ),
        hint="Tick every dose the schedule allows, or one of the last two.",
        exclusive=("none", "unknown"),
    )


def _action_field() -> Field:
    return Field(
        "action",
        CHOICE,
        "What do you do now?",
        (
            ("continue", "None of these findings happened: keep monitoring as planned"),
            ("review", "A finding happened: tell the prescriber on site and keep re-checking"),
            _CANNOT_TELL,
        ),
    )


def _discharge_field() -> Field:
    return Field(
        "discharge",
        CHOICE,
        "Your decision on discharge",
        (
            ("home", "Every discharge condition is met: the patient may leave"),
            ("not_yet", "Not yet: a discharge condition is not met"),
            ("unknown", "Cannot decide: a discharge condition is not recorded"),
        ),
    )


def _driving_field() -> Field:
    return Field(
        "driving",
        CHOICE,
        "When may the patient drive again?",
        (
            ("when_alert", "Once discharged, if they feel alert"),
            ("next_day", "Not until the next day, after a restful sleep"),
            ("own_judgement", "When they judge themselves fit, if driving is their job"),
        ),
    )


def steps_for(record: CaseRecord, index: int, kb: KnowledgeBase) -> list[Step]:
    """Steps 1-4 for ``sessions[index]``: the same fields for every session of its modality."""
    modality = (record.sessions or [])[index].modality

    def checks(step: str) -> list[Field]:
        return [check_field(kb, n) for n in _STEP_CHECKS[step] if _applies(kb, n, modality)]

    esketamine = _applies(kb, "dose_fits_schedule", modality)
    steps = [
        Step(
            "preparation",
            "Before the first device: preparation and the pre-dose blood pressure",
            "Read the chart: the preparation recorded and the reading at minute 0. For each "
            "requirement, say what the record shows.",
            (_predose_field(kb), *checks("preparation")),
        )
    ]
    if esketamine:
        steps.append(
            Step(
                "dose",
                "The dose for the day, from the schedule",
                "Find the session in the course from the dates, pick the doses the schedule "
                "allows (the tables are further down the page), then judge the dose given.",
                (_phase_field(kb), _doses_field(kb), *checks("dose")),
            )
        )
    steps += [
        Step(
            "monitoring",
            "During monitoring: the re-check of blood pressure, sedation and dissociation",
            "Read the readings with the re-check after the dose, the MOAA/S and the CADSS. Say "
            "what happened, then what you do.",
            (*checks("monitoring"), _action_field()),
        ),
        Step(
            "discharge",
            "Discharge",
            "Decide whether the patient may leave, and say what they must know about driving.",
            (
                *checks("discharge"),
                _discharge_field(),
                *((_driving_field(),) if esketamine else ()),
            ),
        ),
    ]
    return steps


# ---------------------------------------------------------------- the trainee's entries
def validate(fields: tuple[Field, ...], raw: Any) -> Given:
    """The entries of a step in grading form; which fields are empty or not a valid choice."""
    raw = raw if isinstance(raw, dict) else {}
    values: dict[str, Any] = {}
    missing: list[str] = []
    for f in fields:
        v = raw.get(f.id)
        allowed = {o for o, _ in f.options}
        if f.kind == CHOICE:
            ok = isinstance(v, str) and v in allowed
            values[f.id] = v if ok else None
        elif f.kind == MULTIPLE:
            items = v if isinstance(v, list) else []
            ok = bool(items) and all(isinstance(x, str) and x in allowed for x in items)
            values[f.id] = sorted(set(items)) if ok else None
        else:
            text = " ".join(v.split()) if isinstance(v, str) else ""
            ok = bool(text) or f.optional
            values[f.id] = text
        if not ok:
            missing.append(f.id)
    return Given(values, tuple(missing))


# ---------------------------------------------------------------- grading
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
    kind = _kind(g.kb, f.id)
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
    if f.options == _CONCOMITANT:  # the badge's words are not the choice's: show both
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
