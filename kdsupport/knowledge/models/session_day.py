"""The session day (``session_day.yaml``): dosing schedule, preparation, REMS and IV infusion.

For training with synthetic patients; not a medical device.
"""

from __future__ import annotations

from typing import Literal

from kdsupport.knowledge.models.common import KBModel, Refs, SourceRef, Value

__all__ = [
    "INDICATIONS",
    "JURISDICTIONS",
    "SESSION_DAY_CHECKS",
    "REMS_FORM_FIELDS",
    "Administration",
    "Jurisdiction",
    "Phase",
    "ScheduleTable",
    "Schedule",
    "DayCheck",
    "InfusionThreshold",
    "InfusionBP",
    "ConcomitantItem",
    "FormField",
    "RemsForm",
    "CounsellingPoint",
    "SessionDayFile",
]

INDICATIONS = ("trd", "mdsi")
JURISDICTIONS = ("us", "eu")

# The session-day checks of docs/case-record.md §3.8, in the order they are reported after the
# monitoring checks: the dose, preparation, REMS, then the IV infusion.
SESSION_DAY_CHECKS = (
    "dose_fits_schedule",
    "frequency_fits_schedule",
    "fasting_food",
    "fasting_liquid",
    "nasal_spray_timing",
    "rest_between_devices",
    "prescriber_on_site",
    "ride_home_arranged",
    "ready_before_discharge",
    "rems_form_submitted",
    "concomitant_interacting",
    "infusion_bp_response",
)


# The REMS form's fields that :mod:`kdsupport.rules.rems_form` answers from a record; the
# knowledge base lists each once, in the form's printed order.
REMS_FORM_FIELDS = (
    "patient",
    "concomitant_benzodiazepine",
    "concomitant_non_benzodiazepine_hypnotic",
    "concomitant_psychostimulant",
    "concomitant_maoi",
    "monitored_by",
    "setting",
    "treatment_date",
    "dose",
    "device_lot",
    "monitoring_minutes",
    "ready_to_leave",
    "vitals_acceptable_before",
    "vitals_acceptable_before_completion",
    "bp_before",
    "bp_40_minutes",
    "bp_before_completion",
    "sedation",
    "dissociation",
    "respiratory_depression",
    "adverse_events",
)


class Administration(KBModel):
    title: str
    mg_per_device: Value
    source: Refs


class Jurisdiction(KBModel):
    label: str
    source: Refs


class Phase(KBModel):
    """One row of a dosing table: the weeks it covers and the doses it allows."""

    phase: Literal["day_1", "induction", "maintenance_weekly", "maintenance", "beyond_evaluated"]
    first_week: int
    last_week: int | None
    doses_mg: list[float]
    # null: the label gives no frequency because use this late was not evaluated.
    max_sessions_per_week: int | None
    note: str
    source: Refs


class ScheduleTable(KBModel):
    indication: Literal["trd", "mdsi"]
    jurisdiction: Literal["us", "eu"]
    min_age_years: Value | None
    source: Refs
    # Set when the source's table for these patients was not found: the dose cannot be checked.
    not_found: str | None = None
    phases: list[Phase]


class Schedule(KBModel):
    title: str
    default_jurisdiction: Literal["us", "eu"]
    jurisdictions: dict[Literal["us", "eu"], Jurisdiction]
    indications: dict[Literal["trd", "mdsi"], str]
    day_one_source: SourceRef
    tables: list[ScheduleTable]


class DayCheck(KBModel):
    kind: Literal["compliance", "finding"]
    title: str
    description: str
    modalities: list[Literal["esketamine_nasal", "iv_ketamine", "at_home_ketamine"]]
    source: Refs | None = None
    min_hours: Value | None = None
    min_minutes: Value | None = None
    deadline_days: Value | None = None


class InfusionThreshold(KBModel):
    label: str
    uses: Literal["severe_tier", "predose_guide"]
    source: Refs


class InfusionBP(KBModel):
    default: str
    definitions: dict[str, InfusionThreshold]


class ConcomitantItem(KBModel):
    label: str
    effect: str
    source: Refs


class FormField(KBModel):
    """One field of the REMS Patient Monitoring Form, in the form's order."""

    id: str
    section: str
    label: str
    reads: list[str]
    required: bool
    source: Refs
    boxes_mg: list[float] | None = None  # the doses the form prints as boxes; others are "other"


class RemsForm(KBModel):
    title: str
    caveat: str
    source: Refs
    fields: list[FormField]


class CounsellingPoint(KBModel):
    id: str
    title: str
    text: str
    source: Refs


class SessionDayFile(KBModel):
    administration: Administration
    schedule: Schedule
    checks: dict[Literal[SESSION_DAY_CHECKS], DayCheck]  # type: ignore[valid-type]  # Literal of a tuple constant: pydantic reads it, mypy cannot
    infusion_bp: InfusionBP
    concomitant: dict[
        Literal["benzodiazepine", "non_benzodiazepine_hypnotic", "psychostimulant", "maoi"],
        ConcomitantItem,
    ]
    rems_form: RemsForm
    counselling: list[CounsellingPoint]
