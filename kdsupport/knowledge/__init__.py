"""The knowledge base: versioned YAML inside the package, validated as a whole.

Every clinical number the rules use lives here with the id of its source (``sources.yaml``):
citation, section, year, URL and verification status (verified / secondary / unverified, as
in ``shared/clinical/REFERENCE.md``). Rule code reads thresholds from the loaded
:class:`KnowledgeBase`; it never writes a clinical number as a literal.

:func:`find_problems` checks the whole knowledge base and returns every problem at once
(unknown keys, unresolved source ids, numbers without a source, overlapping or gapped bands,
unordered ranges, dangling references). :func:`load` raises :class:`KnowledgeBaseError`
listing them all if any exist.

For training and case conferences with synthetic patients; not a medical device.
"""

from __future__ import annotations

import functools
from importlib import resources
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
)

from kdsupport.errors import KnowledgeBaseError, Problem

__all__ = ["KnowledgeBase", "load", "load_raw", "find_problems", "KB_FILES"]

KB_FILES = (
    "manifest.yaml",
    "sources.yaml",
    "drugs.yaml",
    "trd_definitions.yaml",
    "staging.yaml",
    "scales.yaml",
    "suicide_risk.yaml",
    "screening.yaml",
    "vitals.yaml",
    "synthetic.yaml",
    "evidence.yaml",
)

Verification = Literal["verified", "secondary", "unverified", "project_contract"]


class _KB(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


def _as_list(v: Any) -> Any:
    return [v] if isinstance(v, dict) else v


class SourceRef(_KB):
    """A citation of a source id, with where in the source (section, table, row)."""

    id: str
    locator: str | None = None


Refs = Annotated[list[SourceRef], BeforeValidator(_as_list)]


class Source(_KB):
    """One bibliography entry."""

    id: str
    kind: Literal[
        "label",
        "regulatory",
        "guideline",
        "consensus",
        "trial",
        "paper",
        "review",
        "instrument",
        "coding",
        "secondary_summary",
        "compilation",
        "specification",
        "assumption",
    ]
    citation: str
    # The short citation shown beside a conclusion: author or body, year (the section follows).
    short: Annotated[str, StringConstraints(min_length=2, max_length=48)]
    section: str | None
    year: int | None
    url: str | None
    verification: Verification
    reference: str | None
    revision_date: str | None = None
    note: str | None = None
    rationale: str | None = None


class Value(_KB):
    """A single sourced number."""

    value: float
    source: Refs


class Code(_KB):
    """A code in a coding system (ATC, RxNorm, ICD-10-CM, LOINC)."""

    system: str
    code: str
    display: str | None = None
    source: Refs


# ------------------------------------------------------------------ drugs
class DrugClass(_KB):
    label: str
    antidepressant: bool
    thase_rush_class: str | None
    source: Refs


class LabelledSource(_KB):
    label: str
    source: Refs


class OtherValue(_KB):
    """Another source's different value for the same fact (case-record spec 5.7)."""

    mg_per_day: float
    source: Refs


class MinAdequate(_KB):
    mg_per_day: float | None = None
    serum_level_mmol_l: float | None = None
    source: Refs
    disputed_by: list[OtherValue] = []


class Range(_KB):
    low: float
    high: float
    source: Refs


class Drug(_KB):
    drug_class: str = Field(alias="class")
    min_adequate: dict[str, MinAdequate]
    usual_mg_per_day: Range | None = None
    usual_serum_level_mmol_l: Range | None = None
    other_usual_ranges: list[Range] = []
    codes: list[Code] = []
    note: str | None = None
    note_source: Refs | None = None


class DoseTable(_KB):
    title: str
    source: Refs


class DrugsFile(_KB):
    classes: dict[str, DrugClass]
    thase_rush_classes: dict[str, LabelledSource]
    dose_tables: dict[str, DoseTable]
    drugs: dict[str, Drug]


# ------------------------------------------------------------------ TRD definitions
class Failure(_KB):
    comparison: Literal["<=", "<"]
    percent: float
    source: Refs


class Definition(_KB):
    label: Annotated[str, StringConstraints(min_length=2, max_length=32)]  # a few words, for pages
    title: str
    summary: str
    dose_table: str
    current_episode_only: bool
    min_failed_antidepressants: Value
    min_weeks: Value
    failure: Failure
    see_also_source: Refs | None = None


class DefinitionsFile(_KB):
    default: str
    definitions: dict[str, Definition]


# ------------------------------------------------------------------ staging
class Band(_KB):
    label: str
    points: float | None = None
    min: float | None
    max: float | None
    min_inclusive: bool = True
    max_inclusive: bool = True


class BandTable(_KB):
    domain: Literal["integer", "real"]
    bands: list[Band]
    min: float | None = None
    max: float | None = None
    source: Refs | None = None


class TRRequires(_KB):
    min_distinct_failed_classes: int | None = None
    failed_class: str | None = None
    failed_ect_laterality: Literal["bilateral", "unilateral"] | None = None


class TRStage(_KB):
    stage: int
    label: str
    requires: TRRequires
    source: Refs


class ThaseRush(_KB):
    title: str
    component_labels: dict[str, str]
    source: Refs
    stages: list[TRStage]


class MGHSPoints(_KB):
    failed_antidepressant_trial: Value
    dose_optimised: Value
    failed_augmentation_trial: Value
    failed_ect: Value


class MGHS(_KB):
    title: str
    component_labels: dict[str, str]
    source: Refs
    points: MGHSPoints
    register_trd_threshold: Value


class SeverityPoints(_KB):
    points: dict[
        Literal[
            "subsyndromal", "mild", "moderate", "severe_without_psychosis", "severe_with_psychosis"
        ],
        int,
    ]
    source: Refs


class Points(_KB):
    points: float
    source: Refs


class MSM(_KB):
    title: str
    component_labels: dict[str, str]
    source: Refs
    duration_months: BandTable
    severity: SeverityPoints
    failed_antidepressants: BandTable
    augmentation_used: Points
    ect_used: Points
    total: BandTable
    register_trd_threshold: Value


class StagingFile(_KB):
    thase_rush: ThaseRush
    mgh_s: MGHS
    msm: MSM


# ------------------------------------------------------------------ scales
class ItemSpec(_KB):
    count: int
    min: int
    max: int
    source: Refs


class TotalSpec(_KB):
    min: int
    max: int
    source: Refs


class Flag(_KB):
    code: str
    item: int
    min: int
    max: int
    message: str
    source: Refs


class Domain(_KB):
    name: str
    items: list[int]


class Instrument(_KB):
    title: str
    rater: Literal["self-report", "clinician"]
    scoring: Literal["sum", "domain_max_sum", "none"]
    items: ItemSpec | None
    total: TotalSpec | None
    domains: list[Domain] | None = None
    domains_source: Refs | None = None
    bands: BandTable | None
    bands_note: str | None = None
    flags: list[Flag] = []
    codes: list[Code] = []
    source: Refs


class Cutoff(_KB):
    label: str | None = None  # for a named remission definition: whose definition, in words
    comparison: Literal["<=", "<"]
    value: float
    source: Refs


class RemissionSet(_KB):
    default: str
    definitions: dict[str, Cutoff]


class Response(_KB):
    min_reduction_percent: float
    source: Refs


class Outcome(_KB):
    instrument_priority: list[str]
    instrument_priority_source: Refs
    response: Response
    remission: dict[str, RemissionSet]


class ScalesFile(_KB):
    instruments: dict[str, Instrument]
    outcome: Outcome


# ------------------------------------------------------------------ suicide risk
class Question(_KB):
    key: str
    number: int
    text: str


class SkipRule(_KB):
    when_no: str
    skipped: list[str]
    source: Refs


class Tier(_KB):
    level: str
    any_of: list[str]
    source: Refs


class Escalation(_KB):
    from_level: str
    instrument: str
    flag: str
    to_action: str
    unknown_item_counts_positive: bool
    source: Refs


class CSSRS(_KB):
    questions: list[Question]
    questions_source: Refs
    skip_rule: SkipRule
    behavior_rule: SkipRule
    tiers: list[Tier]
    none_level: str
    actions: dict[str, str]
    actions_source: Refs
    action_descriptions: dict[str, str]
    phq9_item9_escalation: Escalation


class SuicideFile(_KB):
    cssrs_screener: CSSRS


# ------------------------------------------------------------------ screening
DERIVED_ITEMS = (
    "suicide_risk_high",
    "urgent_suicide_evaluation",
    "predose_bp_severe",
    "age_under_18",
    "age_65_or_over",
    "outside_indication",
)
# Severities from the strictest down (case-record spec 5.1).
SEVERITIES = ("contraindication", "not_recommended", "warning")
Severity = Literal["contraindication", "not_recommended", "warning"]


class ScreeningItem(_KB):
    label: str
    field_label: str | None = None  # how a control that edits the record field reads
    field: str
    present_when: bool | None = None
    derived: Literal[DERIVED_ITEMS] | None = None  # type: ignore[valid-type]
    threshold: Value | None = None
    not_applicable_for_sex: list[str] = []
    related_codes: list[Code] = []


class ModalityItem(_KB):
    severity: Severity
    source: Refs
    note: str | None = None
    label: str | None = None
    derivation: Literal["labelled_indications", "diagnosis_mdd"] | None = None


class Modality(_KB):
    label: Annotated[str, StringConstraints(min_length=2, max_length=32)]
    title: str
    regulatory_status: str
    regulatory_status_source: Refs
    source: Refs
    inherits: str | None = None
    items: dict[str, ModalityItem]


class ScreeningFile(_KB):
    items: dict[str, ScreeningItem]
    modalities: dict[str, Modality]

    def resolved(self) -> ScreeningFile:
        """Each modality with the items it inherits merged in (spec 5.8.10).

        An item given in both keeps the stricter severity and the sources of both; it is listed
        once, in the parent's place. The result no longer inherits from anything.
        """
        mods: dict[str, Modality] = {}
        for name, mod in self.modalities.items():
            if mod.inherits is None or mod.inherits not in self.modalities:
                mods[name] = mod
                continue
            merged = dict(self.modalities[mod.inherits].items)
            for iname, own in mod.items.items():
                base = merged.get(iname)
                if base is None:
                    merged[iname] = own
                    continue
                strict = min(base.severity, own.severity, key=SEVERITIES.index)
                refs = list({(r.id, r.locator): r for r in [*base.source, *own.source]}.values())
                merged[iname] = own.model_copy(
                    update={
                        "severity": strict,
                        "source": refs,
                        "note": own.note or base.note,
                        "label": own.label or base.label,
                        "derivation": own.derivation or base.derivation,
                    }
                )
            mods[name] = mod.model_copy(update={"items": merged, "inherits": None})
        return self.model_copy(update={"modalities": mods})


# ------------------------------------------------------------------ vitals
class SevereDefinition(_KB):
    label: Annotated[str, StringConstraints(min_length=2, max_length=32)]  # a few words, for pages
    title: str
    systolic_above_mmhg: Value
    diastolic_above_mmhg: Value


class SevereTier(_KB):
    status: str
    default: str
    definitions: dict[str, SevereDefinition]
    meaning: str
    source: Refs


class Message(_KB):
    message: str
    source: Refs


class BPGuide(_KB):
    title: str
    systolic_above_mmhg: Value
    diastolic_above_mmhg: Value
    above_status: str
    within_status: str
    meaning: str
    source: Refs
    modality_sources: dict[str, SourceRef]
    severe: SevereTier
    screening_mismatch: Message

    def severe_definition(self, name: str | None = None) -> tuple[str, SevereDefinition]:
        """The severe-tier definition by name (the default when ``name`` is None)."""
        key = name or self.severe.default
        return key, self.severe.definitions[key]


class Window(_KB):
    min: float
    max: float
    source: Refs


class Check(_KB):
    kind: Literal["compliance", "finding"]
    title: str
    description: str
    source: Refs | None = None
    window_minutes: Window | None = None
    systolic_rise_mmhg: Value | None = None
    diastolic_rise_mmhg: Value | None = None
    min_observation_minutes: Value | None = None
    window_before_end_minutes: Value | None = None
    alert_score: Value | None = None
    spo2_below_percent: Value | None = None
    max_score: Value | None = None


# The session checks of the case-record spec (sections 2 and 5.5), in the order they are
# reported: blood pressure, observation and discharge, oxygen, sedation and dissociation.
SESSION_CHECKS = (
    "predose_bp",
    "bp_rechecked",
    "bp_rise",
    "bp_severe",
    "observed_2h",
    "bp_predischarge",
    "bp_acceptable_at_discharge",
    "spo2_monitored",
    "desaturation",
    "sedation_resolved",
    "deep_sedation",
    "loss_of_consciousness",
    "dissociation_resolved",
)


class SessionMonitoring(_KB):
    title: str
    source: Refs
    modality_sources: dict[str, SourceRef]
    checks: dict[Literal[SESSION_CHECKS], Check]  # type: ignore[valid-type]


class PlotRanges(_KB):
    source: Refs
    spo2_percent: Uniform


class VitalsFile(_KB):
    predose_bp_guide: BPGuide
    session_monitoring: SessionMonitoring
    plot_ranges: PlotRanges


# ------------------------------------------------------------------ synthetic cohort model
class Normal(_KB):
    mean: float
    sd: float
    min: float
    max: float


class Uniform(_KB):
    min: float
    max: float


class LogNormal(_KB):
    median: float
    sigma: float
    min: float
    max: float


class SynPatients(_KB):
    source: Refs
    age_years: Normal
    sex: dict[str, float]
    weight_kg: Normal
    childbearing_age: Uniform
    pregnant_if_childbearing: float
    breastfeeding_if_childbearing: float
    field_not_recorded: float


class SynDiagnosis(_KB):
    source: Refs
    primary: dict[str, float]
    episode_months: LogNormal
    severity: dict[str, float]
    psychotic_if_severe: float
    field_not_recorded: float


class SynHistory(_KB):
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


class SynScreening(_KB):
    source: Refs
    prevalence: dict[str, float]
    item_not_assessed: float


class SynVitals(_KB):
    source: Refs
    systolic_mmhg: Normal
    diastolic_mmhg: Normal
    min_pulse_pressure_mmhg: float
    heart_rate_bpm: Normal
    spo2_percent: Normal
    field_not_recorded: float


class SynAssessments(_KB):
    source: Refs
    madrs_baseline: Normal
    phq9_item_probabilities: list[float]
    phq9_item9_positive: float
    cssrs_level: dict[str, float]


class SynOutcome(_KB):
    source: Refs
    remission: dict[str, float]
    response_without_remission: dict[str, float]


class SynTreatment(_KB):
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


class SynSessionVitals(_KB):
    source: Refs
    peak_rise_systolic_mmhg: dict[str, list[float]]
    peak_rise_diastolic_mmhg: dict[str, list[float]]
    large_rise_per_session: float
    large_rise_systolic_mmhg: Uniform
    fraction_of_peak_by_minute: dict[str, float]
    reading_noise_mmhg: float
    heart_rate_rise_bpm: list[float]


class SynSedation(_KB):
    source: Refs
    moaas_at_40: dict[str, float]
    alert_by_120: float


class SynDissociation(_KB):
    source: Refs
    cadss_first_session: Normal
    decay_per_session: float


class SynExpected(_KB):
    source: Refs
    response_rate: dict[str, list[float]]
    remission_rate: dict[str, list[float]]
    esketamine_patients_with_large_rise: list[float]
    sessions_with_large_rise: list[float]
    treated_fraction: list[float]
    cadss_last_over_first: list[float]


class DoseStep(_KB):
    at_least_mg: float
    step_mg: float


class SynDetails(_KB):
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


class SyntheticFile(_KB):
    generator_version: str
    source: Refs
    details: SynDetails
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


# ------------------------------------------------------------------ evidence
class SourcedText(_KB):
    text: str
    source: Refs


class TrialEvidence(_KB):
    id: str
    name: str
    design: str
    intervention: str
    results: list[SourcedText]


class Claim(_KB):
    id: str
    claim: str
    verdict: Literal["accurate", "inaccurate", "misleading"]
    explanation: str
    source: Refs


class EvidenceFile(_KB):
    trials: list[TrialEvidence]
    claims: list[Claim]
    at_home_requirements: list[SourcedText]
    fda_2023_warning_points: list[SourcedText]


class Manifest(_KB):
    kb_version: str
    compiled_from: str
    caveat: str
    files: list[str]


class SourcesFile(_KB):
    sources: list[Source]


_FILE_MODELS: dict[str, type[_KB]] = {
    "manifest.yaml": Manifest,
    "sources.yaml": SourcesFile,
    "drugs.yaml": DrugsFile,
    "trd_definitions.yaml": DefinitionsFile,
    "staging.yaml": StagingFile,
    "scales.yaml": ScalesFile,
    "suicide_risk.yaml": SuicideFile,
    "screening.yaml": ScreeningFile,
    "vitals.yaml": VitalsFile,
    "synthetic.yaml": SyntheticFile,
    "evidence.yaml": EvidenceFile,
}


class KnowledgeBase:
    """The validated knowledge base, with typed access to each file.

    Obtain it with :func:`load`; never construct it from unvalidated data.
    """

    def __init__(self, models: dict[str, Any]):
        self.manifest: Manifest = models["manifest.yaml"]
        self.sources: dict[str, Source] = {s.id: s for s in models["sources.yaml"].sources}
        self.drugs: DrugsFile = models["drugs.yaml"]
        self.trd: DefinitionsFile = models["trd_definitions.yaml"]
        self.staging: StagingFile = models["staging.yaml"]
        self.scales: ScalesFile = models["scales.yaml"]
        self.suicide: SuicideFile = models["suicide_risk.yaml"]
        self.screening: ScreeningFile = models["screening.yaml"].resolved()
        self.vitals: VitalsFile = models["vitals.yaml"]
        self.synthetic: SyntheticFile = models["synthetic.yaml"]
        self.evidence: EvidenceFile = models["evidence.yaml"]

    @property
    def version(self) -> str:
        """The ``kb_version`` printed in every assessment."""
        return self.manifest.kb_version

    def definition(self, name: str | None = None) -> tuple[str, Definition]:
        """A TRD definition by name (the default when ``name`` is None)."""
        key = name or self.trd.default
        try:
            return key, self.trd.definitions[key]
        except KeyError:
            raise KeyError(
                f"unknown TRD definition {key!r}; choose one of {sorted(self.trd.definitions)}"
            ) from None

    def source_ids(self, refs: list[SourceRef] | None) -> list[str]:
        """The ids of a tuple of source references, without duplicates, in order."""
        out: dict[str, None] = {}
        for r in refs or ():
            out.setdefault(r.id)
        return tuple(out)

    def source_entry(self, source_id: str) -> dict[str, Any]:
        """A source as shown to people: citation, section, year, URL, kind, verification."""
        s = self.sources[source_id]
        entry: dict[str, Any] = {
            "citation": s.citation,
            "short": s.short,
            "section": s.section,
            "year": s.year,
            "url": s.url,
            "kind": s.kind,
            "verification": s.verification,
        }
        if s.rationale:
            entry["rationale"] = s.rationale
        return entry

    def verification_of(self, source_id: str) -> str:
        """Verified / secondary / unverified for a source id."""
        return self.sources[source_id].verification


def source_refs_in(model: Any) -> list[SourceRef]:
    """Every source reference inside a knowledge-base model (its own and its values'), in order."""
    out: list[SourceRef] = []
    if isinstance(model, SourceRef):
        return [model]
    if isinstance(model, BaseModel):
        for field in type(model).model_fields:
            out += source_refs_in(getattr(model, field))
    elif isinstance(model, list | tuple):
        for x in model:
            out += source_refs_in(x)
    elif isinstance(model, dict):
        for x in model.values():
            out += source_refs_in(x)
    return out


# ------------------------------------------------------------------ loading
def parse_yaml(text: str) -> Any:
    """Parse knowledge-base YAML with the strict resolver of :mod:`kdsupport.files.input_gate`."""
    from kdsupport.files.input_gate import parse_yaml as strict

    return strict(text)


def load_raw() -> dict[str, Any]:
    """The parsed YAML of every knowledge-base file, by file name."""
    pkg = resources.files(__name__)
    return {name: parse_yaml(pkg.joinpath(name).read_text(encoding="utf-8")) for name in KB_FILES}


def _path(loc: list[Any]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def find_problems(raw: dict[str, Any]) -> list[Problem]:
    """Every problem in a parsed knowledge base (empty list when valid).

    Checks file structure (unknown or missing keys, wrong types), source ids that do not
    resolve, numbers without a source, bands with gaps or overlaps, unordered ranges and
    dangling references between files. All problems are collected before returning.
    """
    return _check(raw)[0]


def _check(raw: dict[str, Any]) -> tuple[list[Problem], dict[str, Any]]:
    from kdsupport.knowledge import checks

    problems: list[Problem] = []
    models: dict[str, Any] = {}
    for name in KB_FILES:
        if name not in raw:
            problems.append(Problem(name, "file missing"))
            continue
        try:
            models[name] = _FILE_MODELS[name].model_validate(raw[name])
        except ValidationError as exc:
            for err in exc.errors():
                problems.append(Problem(f"{name}: {_path(err['loc'])}", err["msg"]))
    problems += checks.raw_checks(raw)
    problems += checks.model_checks(models)
    return problems, models


@functools.lru_cache(maxsize=1)
def load() -> KnowledgeBase:
    """Load and validate the packaged knowledge base (cached per process).

    Raises
    ------
    KnowledgeBaseError
        Listing every problem, if the knowledge base is invalid.
    """
    problems, models = _check(load_raw())
    if problems:
        raise KnowledgeBaseError(problems)
    return KnowledgeBase(models)
