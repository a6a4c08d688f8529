"""The synthetic cohort's distributions (each a documented assumption).

For training with synthetic patients; not a medical device.
"""

from __future__ import annotations

from kdsupport.knowledge.models.common import KBModel, Refs

__all__ = [
    "Normal",
    "Uniform",
    "LogNormal",
    "SynPatients",
    "SynDiagnosis",
    "SynHistory",
    "SynScreening",
    "SynVitals",
    "SynAssessments",
    "SynOutcome",
    "SynTreatment",
    "SynSessionVitals",
    "SynSedation",
    "SynDissociation",
    "SynExpected",
    "DoseStep",
    "SynDetails",
    "SynRecordedDecimals",
    "SyntheticFile",
]


# ------------------------------------------------------------------ synthetic cohort model
class Normal(KBModel):
    mean: float
    sd: float
    min: float
    max: float


class Uniform(KBModel):
    min: float
    max: float


class LogNormal(KBModel):
    median: float
    sigma: float
    min: float
    max: float


class SynPatients(KBModel):
    source: Refs
    age_years: Normal
    sex: dict[str, float]
    weight_kg: Normal
    childbearing_age: Uniform
    pregnant_if_childbearing: float
    breastfeeding_if_childbearing: float
    field_not_recorded: float


class SynDiagnosis(KBModel):
    source: Refs
    primary: dict[str, float]
    episode_months: LogNormal
    severity: dict[str, float]
    psychotic_if_severe: float
    field_not_recorded: float


class SynHistory(KBModel):
    source: Refs
    antidepressant_trials: dict[str, float]
    previous_episode: float
    adequate_dose: float
    dose_multiplier_adequate: Uniform
    dose_multiplier_low: Uniform
    adequate_duration: float
    weeks_adequate: Uniform
    weeks_short: Uniform
    adherence_adequate: float
    improvement_percent: Normal
    dose_optimised: float
    combination_role: float
    augmentation_trial: float
    lithium_serum_mmol_l: Uniform
    ect_course: float
    ect_bilateral: float
    ect_sessions: Uniform
    ect_improvement_percent: Normal
    field_not_recorded: float


class SynScreening(KBModel):
    source: Refs
    prevalence: dict[str, float]
    item_not_assessed: float


class SynVitals(KBModel):
    source: Refs
    systolic_mmhg: Normal
    diastolic_mmhg: Normal
    min_pulse_pressure_mmhg: float
    heart_rate_bpm: Normal
    spo2_percent: Normal
    field_not_recorded: float


class SynAssessments(KBModel):
    source: Refs
    madrs_baseline: Normal
    phq9_item_probabilities: list[float]
    phq9_item9_positive: float
    cssrs_level: dict[str, float]


class SynOutcome(KBModel):
    source: Refs
    remission: dict[str, float]
    response_without_remission: dict[str, float]


class SynTreatment(KBModel):
    source: Refs
    treated: float
    modality: dict[str, float]
    sessions: dict[str, int]
    esketamine_doses_mg: list[float]
    iv_dose_mg_per_kg: float
    iv_infusion_minutes: float
    at_home_doses_mg: list[float]
    vitals_minutes: dict[str, list[float]]
    observation_minutes: float
    short_observation_minutes: float
    short_observation: float
    missed_recheck: float
    spo2_not_recorded: float
    adverse_events: dict[str, float]
    outcome: SynOutcome


class SynSessionVitals(KBModel):
    source: Refs
    peak_rise_systolic_mmhg: dict[str, list[float]]
    peak_rise_diastolic_mmhg: dict[str, list[float]]
    large_rise_per_session: float
    large_rise_systolic_mmhg: Uniform
    fraction_of_peak_by_minute: dict[str, float]
    reading_noise_mmhg: float
    heart_rate_rise_bpm: list[float]


class SynSedation(KBModel):
    source: Refs
    moaas_at_40: dict[str, float]
    alert_by_120: float


class SynDissociation(KBModel):
    source: Refs
    cadss_first_session: Normal
    decay_per_session: float


class SynExpected(KBModel):
    source: Refs
    response_rate: dict[str, list[float]]
    remission_rate: dict[str, list[float]]
    esketamine_patients_with_large_rise: list[float]
    sessions_with_large_rise: list[float]
    treated_fraction: list[float]
    cadss_last_over_first: list[float]


class DoseStep(KBModel):
    at_least_mg: float
    step_mg: float


class SynDetails(KBModel):
    """The generator's remaining modelling constants (noise, rounding, trajectory shape)."""

    source: Refs
    dose_rounding: list[DoseStep]
    session_baseline_noise_mmhg: dict[str, float]
    session_min_pulse_pressure_mmhg: float
    large_rise_diastolic_fraction: float
    session_spo2_noise_percent: float
    session_spo2_percent: Uniform
    cadss_noise: float
    moaas_minute: float
    moaas_end_if_not_alert: int
    phq9_item9_positive_scores: Uniform
    cssrs_split: float
    madrs_final_min: int
    madrs_trajectory_exponent: float
    madrs_trajectory_noise: float
    madrs_worsening_up_to: int
    madrs_every_nth_session: int


class SynRecordedDecimals(KBModel):
    """The decimal places a generated value is recorded to (others are whole numbers)."""

    source: Refs
    weight_kg: int
    current_episode_months: int
    serum_level_mmol_l: int


class SyntheticFile(KBModel):
    generator_version: str
    source: Refs
    details: SynDetails
    recorded_decimals: SynRecordedDecimals
    patients: SynPatients
    diagnosis: SynDiagnosis
    history: SynHistory
    screening: SynScreening
    vitals: SynVitals
    assessments: SynAssessments
    treatment: SynTreatment
    session_vitals: SynSessionVitals
    sedation: SynSedation
    dissociation: SynDissociation
    expected_ranges: SynExpected
