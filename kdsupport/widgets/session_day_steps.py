"""The session-day drill (notebook 09), steps 1-4: what each step asks.

What a step offers never depends on the case's answers: which checks a step asks about comes from
the session's way of giving ketamine and the knowledge base alone, and every check offers the
same choices (:mod:`kdsupport.widgets.session_day_fields`). The answers are worked out only at
*Check* (:mod:`kdsupport.widgets.session_day_grading`).

1. **Preparation and the pre-dose BP**: the pre-dose tier of the minute-0 reading, fasting, nasal
   sprays, a prescriber on site, concomitant drugs that interact;
2. **The dose for the day** (esketamine): the phase of the course, the doses the schedule
   allows, whether the dose given and the week's sessions fit, the rest between devices;
3. **During monitoring**: the re-check after the dose and the findings (a large or severe BP,
   deep sedation, desaturation; for IV ketamine, the infusion paused or slowed), and what to do;
4. **Discharge**: the discharge checks, the decision and, for esketamine, when the patient may
   drive.

The REMS form (step 5) is :mod:`kdsupport.widgets.session_day_form`.

For training with synthetic patients; not a medical device.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kdsupport.rules.result import CheckKind
from kdsupport.widgets.session_day_fields import (
    CANNOT_TELL,
    CHOICE,
    COMPLIANCE_CHOICES,
    CONCOMITANT_CHOICES,
    FINDING_CHOICES,
    MULTIPLE,
    Field,
    Step,
)

if TYPE_CHECKING:
    from kdsupport.knowledge import KnowledgeBase
    from kdsupport.records.case import CaseRecord

__all__ = ["steps_for", "check_field", "applies", "check_kind"]

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
_PHASE_NAMES = {
    "day_1": "Day 1 of the course",
    "induction": "Induction",
    "maintenance_weekly": "Maintenance, weekly",
    "maintenance": "Maintenance",
    "beyond_evaluated": "Suicidal-ideation course beyond its evaluated weeks",
}


def applies(kb: KnowledgeBase, name: str, modality: str) -> bool:
    """Whether a check belongs to a way of giving ketamine (monitoring checks: to every one)."""
    info = kb.session_day.checks.get(name)
    return info is None or modality in info.modalities


def check_kind(kb: KnowledgeBase, name: str) -> CheckKind:
    """A session check's kind (compliance or finding) from the knowledge base."""
    return CheckKind(kb.session_check_info()[name].kind)


def check_field(kb: KnowledgeBase, name: str) -> Field:
    """The field asking what the record shows for one check (its title from the knowledge base)."""
    info = kb.session_check_info()[name]
    options: tuple[tuple[str, str], ...]
    if name == "concomitant_interacting":
        options = CONCOMITANT_CHOICES
    else:
        options = (
            FINDING_CHOICES if check_kind(kb, name) is CheckKind.FINDING else COMPLIANCE_CHOICES
        )
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
            CANNOT_TELL,
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
        (*seen.items(), CANNOT_TELL),
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
            CANNOT_TELL,
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
            CANNOT_TELL,
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
        return [check_field(kb, n) for n in _STEP_CHECKS[step] if applies(kb, n, modality)]

    esketamine = applies(kb, "dose_fits_schedule", modality)
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
