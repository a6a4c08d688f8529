"""Safety screening (items, modalities, severities) and vital-sign monitoring.

For training with synthetic patients; not a medical device.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import StringConstraints

from kdsupport.knowledge.models.common import Code, KBModel, Refs, SourceRef, Value
from kdsupport.knowledge.models.synthetic import Uniform

__all__ = [
    "DERIVED_ITEMS",
    "SEVERITIES",
    "Severity",
    "ScreeningItem",
    "ModalityItem",
    "Modality",
    "ScreeningFile",
    "SevereDefinition",
    "SevereTier",
    "Message",
    "BPGuide",
    "Window",
    "Check",
    "SESSION_CHECKS",
    "SessionMonitoring",
    "PlotRanges",
    "VitalsFile",
]

# ------------------------------------------------------------------ screening
DERIVED_ITEMS = (
    "suicide_risk_high",
    "urgent_suicide_evaluation",
    "predose_bp_severe",
    "age_under_18",
    "age_65_or_over",
    "outside_indication",
)
# Severities from the strictest down (docs/case-record.md §3.6).
SEVERITIES = ("contraindication", "not_recommended", "warning")
Severity = Literal["contraindication", "not_recommended", "warning"]


class ScreeningItem(KBModel):
    label: str
    field_label: str | None = None  # how a control that edits the record field reads
    field: str
    present_when: bool | None = None
    derived: Literal[DERIVED_ITEMS] | None = None  # type: ignore[valid-type]  # Literal of a tuple constant: pydantic reads it, mypy cannot
    threshold: Value | None = None
    not_applicable_for_sex: list[str] = []
    related_codes: list[Code] = []


class ModalityItem(KBModel):
    severity: Severity
    source: Refs
    note: str | None = None
    label: str | None = None
    derivation: Literal["labelled_indications", "diagnosis_mdd"] | None = None


class Modality(KBModel):
    label: Annotated[str, StringConstraints(min_length=2, max_length=32)]
    title: str
    regulatory_status: str
    regulatory_status_source: Refs
    source: Refs
    inherits: str | None = None
    items: dict[str, ModalityItem]


class ScreeningFile(KBModel):
    items: dict[str, ScreeningItem]
    modalities: dict[str, Modality]

    def resolved(self) -> ScreeningFile:
        """Each modality with the items it inherits merged in (docs/case-record.md §3.6).

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
class SevereDefinition(KBModel):
    label: Annotated[str, StringConstraints(min_length=2, max_length=32)]  # a few words, for pages
    title: str
    systolic_above_mmhg: Value
    diastolic_above_mmhg: Value


class SevereTier(KBModel):
    status: str
    default: str
    definitions: dict[str, SevereDefinition]
    meaning: str
    source: Refs


class Message(KBModel):
    message: str
    source: Refs


class BPGuide(KBModel):
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


class Window(KBModel):
    min: float
    max: float
    source: Refs


class Check(KBModel):
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


# The session checks of docs/case-record.md §3.7, in the order they are
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


class SessionMonitoring(KBModel):
    title: str
    source: Refs
    modality_sources: dict[str, SourceRef]
    checks: dict[Literal[SESSION_CHECKS], Check]  # type: ignore[valid-type]  # Literal of a tuple constant: pydantic reads it, mypy cannot


class PlotRanges(KBModel):
    source: Refs
    spo2_percent: Uniform


class VitalsFile(KBModel):
    predose_bp_guide: BPGuide
    session_monitoring: SessionMonitoring
    plot_ranges: PlotRanges
