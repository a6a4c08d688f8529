"""The typed whole-case assessment: what :func:`kdsupport.rules.assess.assess` returns.

An :class:`Assessment` is frozen. Renderers, grading and batch screening read its attributes;
:meth:`Assessment.to_json` gives the ``kdsupport-assessment/2`` JSON (``docs/case-record.md``
§4), and the JSON Schema published in
``kdsupport/rules/assessment.schema.json`` describes that JSON (built by
:mod:`kdsupport.rules.schema`).

Statuses are enums: :class:`~kdsupport.rules.result.Status` (met / not met / unknown) for
three-valued conclusions and :class:`ModalityStatus`, :class:`BPTier`, :class:`CheckKind`,
:class:`Severity` for the contract's other vocabularies. Each is a ``str`` enum, so it is
written into JSON as its value.

For training and case conferences with synthetic patients; not a medical device.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from types import MappingProxyType
from typing import Any

from kdsupport.rules.dosing import SchedulePlace
from kdsupport.rules.rems_form import RemsFormStatus
from kdsupport.rules.result import BPTier, CheckKind, ModalityStatus, Reason, Severity, Status
from kdsupport.rules.scales import OutcomeResult as Outcome
from kdsupport.rules.scales import ScaleScore
from kdsupport.rules.screening import Finding
from kdsupport.rules.trd import TrialVerdict

__all__ = [
    "Assessment",
    "Alert",
    "BPTier",
    "CheckKind",
    "DefinitionSummary",
    "ModalityAssessment",
    "ModalityStatus",
    "Outcome",
    "PredoseBP",
    "ScaleScore",
    "SessionAssessment",
    "Severity",
    "StagingScore",
    "Staging",
    "SuicideRiskAssessment",
    "TrdAssessment",
    "Unknown",
    "published_schema",
    "tri",
]


def tri(s: Status) -> bool | None:
    """A three-valued status as JSON: true, false or null (unknown)."""
    return None if s is Status.UNKNOWN else s is Status.MET


def _reasons(rs: tuple[Reason, ...]) -> list[dict[str, Any]]:
    return [r.to_dict() for r in rs]


def _frozen(m: Mapping[str, Any]) -> Mapping[str, Any]:
    return MappingProxyType(dict(m))


@dataclass(frozen=True)
class DefinitionSummary:
    """The TRD definition the assessment used, with its parameters and their sources."""

    name: str
    title: str
    summary: str
    min_failed_antidepressants: float | int
    min_weeks: float | int
    failure: str
    dose_table: str
    sources: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        """The ``definition`` block of the JSON."""
        return {
            "name": self.name,
            "title": self.title,
            "summary": self.summary,
            "min_failed_antidepressants": self.min_failed_antidepressants,
            "min_weeks": self.min_weeks,
            "failure": self.failure,
            "dose_table": self.dose_table,
            "sources": list(self.sources),
        }


@dataclass(frozen=True)
class TrdAssessment:
    """TRD status under the chosen definition."""

    status: Status
    definition: str
    failed_drugs: tuple[str, ...]
    unknown_trials: int
    trials: tuple[TrialVerdict, ...]
    reasons: tuple[Reason, ...]

    @property
    def failed_adequate_antidepressants(self) -> int:
        """Distinct antidepressant drugs with a failed adequate trial."""
        return len(self.failed_drugs)

    def to_json(self) -> dict[str, Any]:
        """The ``trd`` block."""
        return {
            "status": self.status.value,
            "definition": self.definition,
            "failed_adequate_antidepressants": self.failed_adequate_antidepressants,
            "unknown_trials": self.unknown_trials,
            "failed_drugs": list(self.failed_drugs),
            "trials": [t.to_json() for t in self.trials],
            "reasons": _reasons(self.reasons),
        }


@dataclass(frozen=True)
class StagingScore:
    """A staging score (or stage) counted from what is confirmed, with its components.

    ``complete`` is False when an unknown input could still change it; ``value`` is then the
    confirmed part and ``possible_max`` the most the unknowns could make it. ``key`` is the
    JSON name of the value (``stage`` for Thase-Rush, ``score`` otherwise).
    """

    key: str
    value: float | int | None
    complete: bool
    band: str | None
    possible_max: float | int | None
    components: Mapping[str, Any]
    reasons: tuple[Reason, ...]
    has_band: bool = False

    def to_json(self) -> dict[str, Any]:
        """One staging block."""
        out: dict[str, Any] = {self.key: self.value, "complete": self.complete}
        if self.has_band:
            out["band"] = self.band
        out["possible_max"] = self.possible_max
        out["components"] = self.components
        out["reasons"] = _reasons(self.reasons)
        return out


@dataclass(frozen=True)
class Staging:
    """The three staging models."""

    thase_rush: StagingScore
    mgh_s: StagingScore
    msm: StagingScore

    def to_json(self) -> dict[str, Any]:
        """The ``staging`` block."""
        return {
            "thase_rush": self.thase_rush.to_json(),
            "mgh_s": self.mgh_s.to_json(),
            "msm": self.msm.to_json(),
        }


@dataclass(frozen=True)
class SuicideRiskAssessment:
    """C-SSRS screener triage: level, action and the answers' reasons."""

    level: str
    action: str
    at_least: str | None
    screener_index: int | None
    reasons: tuple[Reason, ...]

    def to_json(self) -> dict[str, Any]:
        """The ``suicide_risk`` block."""
        return {
            "level": self.level,
            "action": self.action,
            "at_least": self.at_least,
            "screener": None
            if self.screener_index is None
            else f"assessments[{self.screener_index}]",
            "reasons": [r.cited() for r in self.reasons],
            "details": _reasons(self.reasons),
        }


@dataclass(frozen=True)
class Alert:
    """What must be seen before anything else (contract 5.6, 5.8.2)."""

    code: str
    message: str
    sources: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        """One entry of ``alerts``."""
        return {"code": self.code, "message": self.message, "sources": list(self.sources)}


@dataclass(frozen=True)
class PredoseBP:
    """The pre-dose blood pressure's tier with the readings used."""

    status: BPTier
    systolic_mmhg: float | int | None
    diastolic_mmhg: float | int | None
    severe_definition: str
    reasons: tuple[Reason, ...]

    def to_json(self) -> dict[str, Any]:
        """The ``predose_bp`` block."""
        return {
            "status": self.status.value,
            "systolic_mmhg": self.systolic_mmhg,
            "diastolic_mmhg": self.diastolic_mmhg,
            "severe_definition": self.severe_definition,
            "reasons": _reasons(self.reasons),
        }


@dataclass(frozen=True)
class ModalityAssessment:
    """A modality's screening status with every finding behind it."""

    status: ModalityStatus
    title: str
    regulatory_status: str
    findings: tuple[Finding, ...]
    items_assessed: int
    reasons: tuple[Reason, ...]

    def to_json(self) -> dict[str, Any]:
        """One entry of ``modalities``."""
        return {
            "status": self.status.value,
            "title": self.title,
            "regulatory_status": self.regulatory_status,
            "findings": [f.to_json() for f in self.findings],
            "items_assessed": self.items_assessed,
            "reasons": _reasons(self.reasons),
        }


@dataclass(frozen=True)
class SessionAssessment:
    """Every monitoring check of one session, with its kind and its reasons."""

    number: int
    modality: str
    checks: Mapping[str, Status]
    check_kinds: Mapping[str, CheckKind]
    details: Mapping[str, tuple[Reason, ...]]
    # The session day (docs/case-record.md §3.8, §3.9): checks that do not apply and why, where
    # the session sits in the dosing schedule, and the REMS form's status (esketamine only).
    not_applicable: Mapping[str, Reason] = field(default_factory=dict)
    schedule: SchedulePlace | None = None
    rems_form: RemsFormStatus | None = None
    session_day_recorded: bool = True

    def to_json(self) -> dict[str, Any]:
        """One entry of ``sessions``."""
        return {
            "number": self.number,
            "modality": self.modality,
            "checks": {n: s.value for n, s in self.checks.items()},
            "check_kinds": {n: k.value for n, k in self.check_kinds.items()},
            "details": {n: _reasons(rs) for n, rs in self.details.items()},
            "session_day_recorded": self.session_day_recorded,
            "not_applicable": {n: r.to_dict() for n, r in self.not_applicable.items()},
            "schedule": None if self.schedule is None else self.schedule.to_json(),
            "rems_form": None if self.rems_form is None else self.rems_form.to_json(),
        }


@dataclass(frozen=True)
class Unknown:
    """A missing field and the conclusions it would settle."""

    field: str
    needed_for: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        """One entry of ``unknowns``."""
        return {"field": self.field, "needed_for": list(self.needed_for)}


@dataclass(frozen=True)
class Assessment:
    """The whole-case assessment (``kdsupport-assessment/2``), frozen.

    It supports a clinician's own judgement; it lists findings and options and never decides.
    """

    format: str
    case_id: str
    kb_version: str
    kdsupport_version: str
    definition: DefinitionSummary
    trd: TrdAssessment
    staging: Staging
    scales: tuple[ScaleScore, ...]
    outcome: Outcome | None
    suicide_risk: SuicideRiskAssessment
    alerts: tuple[Alert, ...]
    predose_bp: PredoseBP
    modalities: Mapping[str, ModalityAssessment]
    sessions: tuple[SessionAssessment, ...]
    unknowns: tuple[Unknown, ...]
    sources: Mapping[str, Mapping[str, Any]]
    disclaimer: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "modalities", _frozen(self.modalities))
        object.__setattr__(self, "sources", _frozen(self.sources))

    def to_json(self) -> dict[str, Any]:
        """The assessment as JSON-ready data, key for key as ``kdsupport assess`` prints it."""
        return {
            "format": self.format,
            "case_id": self.case_id,
            "kb_version": self.kb_version,
            "kdsupport_version": self.kdsupport_version,
            "definition": self.definition.to_json(),
            "trd": self.trd.to_json(),
            "staging": self.staging.to_json(),
            "scales": [s.to_json() for s in self.scales],
            "outcome": None if self.outcome is None else self.outcome.to_json(),
            "suicide_risk": self.suicide_risk.to_json(),
            "alerts": [a.to_json() for a in self.alerts],
            "predose_bp": self.predose_bp.to_json(),
            "modalities": {m: x.to_json() for m, x in self.modalities.items()},
            "sessions": [s.to_json() for s in self.sessions],
            "unknowns": [u.to_json() for u in self.unknowns],
            "sources": {sid: dict(entry) for sid, entry in self.sources.items()},
            "disclaimer": self.disclaimer,
        }

    def session(self, number: int) -> SessionAssessment:
        """The session with this number (raises ``KeyError`` naming the numbers there are)."""
        for s in self.sessions:
            if s.number == number:
                return s
        raise KeyError(f"no session {number}; sessions: {[s.number for s in self.sessions]}")


def published_schema() -> dict[str, Any]:
    """The JSON Schema shipped in the package (``kdsupport/rules/assessment.schema.json``)."""
    text = resources.files(__package__).joinpath("assessment.schema.json").read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema
