"""The case record's model: every field, its type and its plausibility range (pydantic).

Missing or ``null`` always means *not known*; it never means "no" or "normal". The numeric
limits are plausibility ranges for input (e.g. age 12-110, and :data:`LIMITS`, which bound
magnitudes, list lengths and text sizes so that one record can never cause unbounded work);
they are not clinical thresholds: every clinical threshold lives in the knowledge base.
Patterns are anchored at both ends, so a trailing newline cannot slip through. The format is
documented in ``docs/case-record.md`` §2.

For training and case conferences with synthetic patients; not a medical device.
"""

from __future__ import annotations

import datetime as _dt
import re
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

__all__ = [
    "FORMAT",
    "ID_PATTERN",
    "WHEN_PATTERN",
    "LIMITS",
    "Patient",
    "Diagnosis",
    "Trial",
    "ECTCourse",
    "Screening",
    "Vitals",
    "CSSRSAnswers",
    "Administration",
    "VitalReading",
    "MOAASReading",
    "Concomitant",
    "InfusionAdjustment",
    "Session",
    "SESSION_DAY_FIELDS",
    "Option",
    "Question",
    "TeachingPoint",
    "Teaching",
    "CaseRecord",
]

FORMAT = "kdsupport-case/1"
ID_PATTERN = r"^[a-z0-9-]{1,64}$"
WHEN_PATTERN = re.compile(r"baseline|session-[0-9]{1,4}|day-[0-9]{1,5}|[0-9]{4}-[0-9]{2}-[0-9]{2}")

#: Plausibility limits of the input (not clinical thresholds). A value beyond one is a slip of
#: the keyboard or an attack; refusing it bounds the work a record can cause.
LIMITS: dict[str, int] = {
    "weeks": 520,  # ten years at one dose
    "dose_mg_per_day": 5000,
    "serum_level_mmol_l": 10,
    "months": 1200,  # a hundred years
    "minute": 1440,  # a day after the start of the dose
    "session_number": 1000,
    "devices": 10,  # nasal-spray devices in one session
    "fasting_hours": 168,  # a week without food is already implausible
    "ect_sessions": 500,
    "session_dose_mg": 1000,
    "dose_mg_per_kg": 10,
    "tolerance": 1000,
    "list": 1000,  # entries in any list of a record
    "short_text": 500,  # characters: titles, labels, names, codes
    "long_text": 20000,  # characters: vignettes, rationales, teaching points
}
_LIST = LIMITS["list"]
ShortText = Annotated[str, Field(max_length=LIMITS["short_text"])]
LongText = Annotated[str, Field(max_length=LIMITS["long_text"])]

Instrument = Literal["phq9", "madrs", "qids_sr16", "gad7", "cssrs_screener", "moaas", "cadss"]
Modality = Literal["esketamine_nasal", "iv_ketamine", "at_home_ketamine"]


class _Record(BaseModel):
    # strict: "true" is not a boolean and 3.0 is not an item score; extra keys are errors.
    # allow_inf_nan=False: .inf or .nan is never a plausible value.
    model_config = ConfigDict(
        extra="forbid", strict=True, frozen=True, populate_by_name=True, allow_inf_nan=False
    )


class Patient(_Record):
    """Who the patient is (synthetic)."""

    age_years: int = Field(ge=12, le=110)
    sex: Literal["female", "male", "intersex", "unknown"] | None = None
    weight_kg: float | None = Field(default=None, ge=25, le=300)
    pregnant: bool | None = None
    breastfeeding: bool | None = None


class Diagnosis(_Record):
    """The working diagnosis and the current episode."""

    primary: Literal["mdd", "bipolar_depression", "other"] | None = None
    icd10: ShortText | None = None
    current_episode_months: float | None = Field(default=None, ge=0, le=LIMITS["months"])
    severity: Literal["subsyndromal", "mild", "moderate", "severe"] | None = None
    psychotic_features: bool | None = None


class Trial(_Record):
    """One medication trial; list order is chronological."""

    drug: ShortText
    role: Literal["monotherapy", "combination", "augmentation"] = "monotherapy"
    episode: Literal["current", "previous"] | None = "current"
    dose_mg_per_day: float | None = Field(default=None, gt=0, le=LIMITS["dose_mg_per_day"])
    serum_level_mmol_l: float | None = Field(default=None, gt=0, le=LIMITS["serum_level_mmol_l"])
    weeks: float | None = Field(default=None, gt=0, le=LIMITS["weeks"])
    adherence: Literal["adequate", "inadequate"] | None = None
    improvement_percent: float | None = Field(default=None, ge=-100, le=100)
    dose_optimised: bool | None = None
    stopped_early_for: Literal["intolerance", "patient_choice", "other"] | None = None

    @field_validator("drug")
    @classmethod
    def _lower(cls, v: str) -> str:
        return v.strip().lower()


class ECTCourse(_Record):
    """One course of electroconvulsive therapy."""

    episode: Literal["current", "previous"] | None = "current"
    laterality: Literal["bilateral", "unilateral"] | None = None
    sessions: int | None = Field(default=None, gt=0, le=LIMITS["ect_sessions"])
    improvement_percent: float | None = Field(default=None, ge=-100, le=100)


class Screening(_Record):
    """Screening items: true present, false absent, null or missing not assessed."""

    aneurysmal_vascular_disease: bool | None = None
    arteriovenous_malformation: bool | None = None
    intracerebral_hemorrhage_history: bool | None = None
    ketamine_hypersensitivity: bool | None = None
    uncontrolled_hypertension: bool | None = None
    unstable_cardiovascular_disease: bool | None = None
    raised_intracranial_pressure: bool | None = None
    psychosis_history: bool | None = None
    current_psychosis_or_mania: bool | None = None
    substance_use_disorder_active: bool | None = None
    ketamine_misuse_history: bool | None = None
    severe_hepatic_impairment: bool | None = None
    moderate_hepatic_impairment: bool | None = None
    interstitial_cystitis: bool | None = None
    cns_depressant_use: bool | None = None
    maoi_or_psychostimulant_use: bool | None = None
    support_person_available: bool | None = None


class Vitals(_Record):
    """The most recent reading before treatment."""

    systolic_mmhg: float | None = Field(default=None, ge=50, le=300)
    diastolic_mmhg: float | None = Field(default=None, ge=20, le=200)
    heart_rate_bpm: float | None = Field(default=None, ge=20, le=250)
    spo2_percent: float | None = Field(default=None, ge=50, le=100)


class CSSRSAnswers(_Record):
    """The six C-SSRS screener questions (question 6 in two parts); null = not asked."""

    wish_to_be_dead: bool | None = None
    active_thoughts: bool | None = None
    method: bool | None = None
    intent: bool | None = None
    plan: bool | None = None
    behavior: bool | None = None
    behavior_past_3_months: bool | None = None


class Administration(_Record):
    """One administration of a rating scale."""

    instrument: Instrument
    when: ShortText
    items: Annotated[list[int | None], Field(max_length=_LIST)] | None = None
    total: int | None = None
    answers: CSSRSAnswers | None = None

    @field_validator("when")
    @classmethod
    def _when(cls, v: str) -> str:
        if not WHEN_PATTERN.fullmatch(v):
            raise ValueError(
                f"must be 'baseline', 'session-N', 'day-N' or an ISO date (YYYY-MM-DD), got {v!r}"
            )
        if v[0].isdigit():
            try:
                _dt.date.fromisoformat(v)
            except ValueError:
                raise ValueError(f"{v!r} is not a real calendar date") from None
        return v


class VitalReading(_Record):
    """Vital signs at a minute after the start of the dose."""

    minute: float = Field(ge=0, le=LIMITS["minute"])
    systolic_mmhg: float | None = Field(default=None, ge=50, le=300)
    diastolic_mmhg: float | None = Field(default=None, ge=20, le=200)
    heart_rate_bpm: float | None = Field(default=None, ge=20, le=250)
    spo2_percent: float | None = Field(default=None, ge=50, le=100)


class MOAASReading(_Record):
    """A MOAA/S sedation score at a minute after the start of the dose."""

    minute: float = Field(ge=0, le=LIMITS["minute"])
    score: int | None = None


def _iso_date(v: str) -> str:
    """A real calendar date written YYYY-MM-DD."""
    if not ISO_DATE.fullmatch(v):
        raise ValueError(f"must be an ISO date (YYYY-MM-DD), got {v!r}")
    try:
        _dt.date.fromisoformat(v)
    except ValueError:
        raise ValueError(f"{v!r} is not a real calendar date") from None
    return v


ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
IsoDate = Annotated[str, AfterValidator(_iso_date)]


class Concomitant(_Record):
    """The concomitant medications the REMS monitoring form asks about (yes / no each)."""

    benzodiazepine: bool | None = None
    non_benzodiazepine_hypnotic: bool | None = None
    psychostimulant: bool | None = None
    maoi: bool | None = None


class InfusionAdjustment(_Record):
    """What was done to an IV infusion when blood pressure climbed: when, what and why."""

    minute: float = Field(ge=0, le=LIMITS["minute"])
    action: Literal["paused", "slowed"]
    reason: ShortText | None = None


class Session(_Record):
    """One treatment session with its monitoring record (docs/case-record.md §2.9).

    The session-day fields mirror the REMS Patient Monitoring Form and the label; each is
    optional and missing means not known.
    """

    number: int = Field(ge=1, le=LIMITS["session_number"])
    modality: Modality
    dose_mg: float | None = Field(default=None, gt=0, le=LIMITS["session_dose_mg"])
    dose_mg_per_kg: float | None = Field(default=None, gt=0, le=LIMITS["dose_mg_per_kg"])
    infusion_minutes: float | None = Field(default=None, gt=0, le=LIMITS["minute"])
    vitals: Annotated[list[VitalReading], Field(max_length=_LIST)] | None = None
    moaas: Annotated[list[MOAASReading], Field(max_length=_LIST)] | None = None
    cadss_total: int | None = None
    observation_minutes: float | None = Field(default=None, ge=0, le=LIMITS["minute"])
    adverse_events: Annotated[list[ShortText], Field(max_length=_LIST)] | None = None
    # The clinician's judgement at discharge (docs/case-record.md §2.9, §3.7); null = not recorded.
    dissociation_resolved: bool | None = None
    # The session day (docs/case-record.md §2.9): schedule, preparation, REMS, IV infusion.
    date: IsoDate | None = None
    setting: Literal["outpatient", "inpatient"] | None = None
    indication: Literal["trd", "mdsi"] | None = None
    devices: int | None = Field(default=None, ge=1, le=LIMITS["devices"])
    device_lot: ShortText | None = None
    minutes_between_devices: float | None = Field(default=None, ge=0, le=LIMITS["minute"])
    concomitant: Concomitant | None = None
    fasting_food_hours: float | None = Field(default=None, ge=0, le=LIMITS["fasting_hours"])
    fasting_liquid_minutes: float | None = Field(default=None, ge=0, le=LIMITS["minute"])
    # minutes before dosing, or "not_used" when no nasal corticosteroid or decongestant was taken
    nasal_steroid_or_decongestant_minutes_before: (
        Annotated[float, Field(ge=0, le=LIMITS["minute"])] | Literal["not_used"] | None
    ) = None
    prescriber_on_site: bool | None = None
    monitored_by: ShortText | None = None
    ride_home_arranged: bool | None = None
    ready_to_leave_minute: float | None = Field(default=None, ge=0, le=LIMITS["minute"])
    rems_form_submitted_date: IsoDate | None = None
    # false: recorded as neither paused nor slowed
    infusion_paused_or_slowed: Literal[False] | InfusionAdjustment | None = None


#: The session-day fields (docs/case-record.md §2.9). A session that records none of them is a
#: monitoring-only record: its session-day checks are not run, and it says so.
SESSION_DAY_FIELDS = (
    "date",
    "setting",
    "indication",
    "devices",
    "device_lot",
    "minutes_between_devices",
    "concomitant",
    "fasting_food_hours",
    "fasting_liquid_minutes",
    "nasal_steroid_or_decongestant_minutes_before",
    "prescriber_on_site",
    "monitored_by",
    "ride_home_arranged",
    "ready_to_leave_minute",
    "rems_form_submitted_date",
    "infusion_paused_or_slowed",
)


class Option(_Record):
    """One answer option of a question: the value graded and the label a trainee reads."""

    value: ShortText
    label: ShortText


class Question(_Record):
    """A walkthrough question whose correct answer is derived from the rules.

    ``answer_rule`` names what the rules compute (see :mod:`kdsupport.records.answers`);
    ``answer`` records the expected answer for authors and is checked against the rules by
    the test suite. Trainees are graded against the rules at check time.
    """

    id: Annotated[str, Field(pattern=ID_PATTERN)]
    kind: Literal["single", "multiple", "numeric"]
    prompt: LongText
    options: Annotated[list[Option], Field(max_length=_LIST)] | None = None
    answer_rule: ShortText
    rule_options: dict[ShortText, ShortText] | None = None
    answer: ShortText | Annotated[list[ShortText], Field(max_length=_LIST)] | float
    tolerance: float | None = Field(default=None, ge=0, le=LIMITS["tolerance"])
    unit: ShortText | None = None
    rationale: LongText
    sources: Annotated[list[ShortText], Field(max_length=_LIST)] = []


class TeachingPoint(_Record):
    """A teaching point with the knowledge-base sources behind it."""

    text: LongText
    sources: Annotated[list[ShortText], Field(max_length=_LIST)]


class Teaching(_Record):
    """Teaching material of a curated case (an extension of the case-record format)."""

    learning_objectives: Annotated[list[LongText], Field(max_length=_LIST)]
    teaching_points: Annotated[list[TeachingPoint], Field(max_length=_LIST)]
    questions: Annotated[list[Question], Field(max_length=_LIST)]


class CaseRecord(_Record):
    """A synthetic case record (format ``kdsupport-case/1``)."""

    format: Literal["kdsupport-case/1"]
    id: Annotated[str, Field(pattern=ID_PATTERN)]
    synthetic: Literal[True]
    title: ShortText | None = None
    vignette: LongText | None = None
    patient: Patient
    diagnosis: Diagnosis | None = None
    trials: Annotated[list[Trial], Field(max_length=_LIST)] | None = None
    ect: Annotated[list[ECTCourse], Field(max_length=_LIST)] | None = None
    screening: Screening | None = None
    vitals: Vitals | None = None
    assessments: Annotated[list[Administration], Field(max_length=_LIST)] | None = None
    sessions: Annotated[list[Session], Field(max_length=_LIST)] | None = None
    teaching: Teaching | None = None
