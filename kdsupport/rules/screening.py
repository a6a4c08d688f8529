"""Screening for contraindications, not-recommended uses and warnings, per way of giving ketamine.

Modalities: ``esketamine_nasal`` (US label, REMS), ``iv_ketamine`` (off-label; ketamine
injection label) and ``at_home_ketamine`` (off-label, compounded; FDA 2023 warning). Each
screening item has a severity per modality in ``knowledge/screening.yaml``: ``contraindication``,
``not_recommended`` (the label's own words) or ``warning`` (case-record spec 5.1-5.3).

Status, in this order: ``contraindicated`` if a contraindication item is present;
``incomplete`` if an item of any severity is not assessed; ``not_recommended`` if a
not-recommended item is present; ``caution`` if a warning item is present; else ``clear``.
The findings list every present and every unassessed item whatever the status
(``predose_bp_severe`` first, then ``urgent_suicide_evaluation``, then by severity), so a known
not-recommended item still shows while the status is ``incomplete``. Findings are information
for a clinician's benefit-risk judgement, not a decision to treat or not.

Derived items: ``suicide_risk_high`` (C-SSRS level), ``urgent_suicide_evaluation`` (C-SSRS
action; exists only then), ``predose_bp_severe`` (pre-dose tier; exists only then),
``age_under_18`` and ``age_65_or_over`` (age against sourced thresholds) and
``outside_indication`` (esketamine: indicated = MDD and (TRD met or any suicidal ideation or
behaviour on the C-SSRS), in Kleene logic; IV and at-home: a diagnosis other than MDD).

Missing data: a null or missing screening item is *not assessed* (never "absent").
Pregnancy and breastfeeding do not apply when sex is male (clarification 11).

For training and case conferences with synthetic patients; not a medical device.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kdsupport.knowledge import SEVERITIES
from kdsupport.rules.result import (
    ModalityStatus,
    Reason,
    Result,
    Severity,
    Status,
    all_of,
    any_of,
    compare,
)

if TYPE_CHECKING:
    from kdsupport.knowledge import KnowledgeBase, ModalityItem, ScreeningItem
    from kdsupport.records.case import CaseRecord

__all__ = [
    "Finding",
    "ModalityScreen",
    "ScreeningContext",
    "screen_modality",
    "screen_all",
    "MODALITY_STATUSES",
    "FIRST_FINDINGS",
]

MODALITY_STATUSES = ("contraindicated", "incomplete", "not_recommended", "caution", "clear")
# Listed first, in this order, whatever their severity (spec 5.8.12).
FIRST_FINDINGS = ("predose_bp_severe", "urgent_suicide_evaluation")
_STATUS_OF_SEVERITY = {
    "contraindication": "contraindicated",
    "not_recommended": "not_recommended",
    "warning": "caution",
}
_IDEATION_LEVELS = ("low", "moderate", "high")


@dataclass(frozen=True)
class ScreeningContext:
    """What the derived items need from the rest of the assessment."""

    suicide_level: str
    suicide_action: str = "routine"
    predose_tier: str = "unknown"
    trd_status: Status = Status.UNKNOWN


@dataclass(frozen=True)
class Finding:
    """One screening item judged for one modality."""

    item: str
    label: str
    field: str
    value: Any
    severity: Severity
    present: bool | None  # None = not assessed
    applicable: bool
    sources: tuple[str, ...]
    note: str | None = None

    def to_json(self) -> dict[str, Any]:
        """One entry of a modality's ``findings`` in the assessment JSON."""
        return {
            "item": self.item,
            "label": self.label,
            "field": self.field,
            "severity": self.severity.value,
            "present": self.present,
            "applicable": self.applicable,
            "note": self.note,
            "sources": list(self.sources),
        }


@dataclass(frozen=True)
class ModalityScreen(Result):
    """Screening status of one modality, with its findings (present or not assessed)."""

    modality: str
    status: ModalityStatus
    findings: tuple[Finding, ...]
    assessed: int = 0  # items judged, present or not


def _value(record: CaseRecord, field: str) -> Any:
    head, _, name = field.partition(".")
    holder = {
        "screening": record.screening,
        "patient": record.patient,
        "diagnosis": record.diagnosis,
    }.get(head)
    return getattr(holder, name) if holder is not None and name else None


def _indicated(record: CaseRecord, ctx: ScreeningContext, derivation: str) -> Status:
    """Whether the record is within the modality's indication (Kleene; spec 5.8.3)."""
    primary = record.diagnosis.primary if record.diagnosis else None
    mdd = Status.UNKNOWN if primary is None else Status.of(primary == "mdd")
    if derivation == "diagnosis_mdd":
        return mdd
    ideation = (
        Status.UNKNOWN
        if ctx.suicide_level == "unknown"
        else Status.of(ctx.suicide_level in _IDEATION_LEVELS)
    )
    return all_of([mdd, any_of([ctx.trd_status, ideation])])


def _present(
    record: CaseRecord, item: ScreeningItem, mi: ModalityItem, ctx: ScreeningContext
) -> bool | None:
    """Present (True), absent (False) or not assessed (None)."""
    derived = item.derived
    if derived == "suicide_risk_high":
        return None if ctx.suicide_level == "unknown" else ctx.suicide_level == "high"
    if derived == "urgent_suicide_evaluation":
        return ctx.suicide_action == "urgent_evaluation"
    if derived == "predose_bp_severe":
        return ctx.predose_tier == "severe"
    if derived in ("age_under_18", "age_65_or_over"):
        assert item.threshold is not None  # the knowledge-base checks require it
        op = "<" if derived == "age_under_18" else ">="
        st = compare(record.patient.age_years, op, item.threshold.value)
        return None if st is Status.UNKNOWN else st is Status.MET
    if derived == "outside_indication":
        indicated = _indicated(record, ctx, mi.derivation or "diagnosis_mdd")
        return None if indicated is Status.UNKNOWN else indicated is Status.NOT_MET
    value = _value(record, item.field)
    return None if value is None else value == item.present_when


def _order(f: Finding) -> tuple[int, int]:
    if f.item in FIRST_FINDINGS:
        return (FIRST_FINDINGS.index(f.item), 0)
    return (len(FIRST_FINDINGS), SEVERITIES.index(f.severity))


def _judge(
    record: CaseRecord, kb: KnowledgeBase, modality: str, ctx: ScreeningContext
) -> list[Finding]:
    mod = kb.screening.modalities[modality]
    findings = []
    for name, mi in mod.items.items():
        item = kb.screening.items[name]
        applicable = record.patient.sex not in item.not_applicable_for_sex
        present = _present(record, item, mi, ctx) if applicable else False
        value = {
            "suicide_risk.level": ctx.suicide_level,
            "suicide_risk.action": ctx.suicide_action,
            "vitals": ctx.predose_tier,
        }.get(item.field, _value(record, item.field))
        findings.append(
            Finding(
                name,
                mi.label or item.label,
                item.field,
                value,
                Severity(mi.severity),
                present,
                applicable,
                kb.source_ids(mi.source),
                mi.note,
            )
        )
    return findings


def _gap_field(f: Finding) -> str:
    return {
        "suicide_risk_high": "assessments[] (cssrs_screener)",
        "outside_indication": "diagnosis.primary, trials, assessments[] (cssrs_screener)",
    }.get(f.item, f.field)


def screen_modality(
    record: CaseRecord, kb: KnowledgeBase, modality: str, *, context: ScreeningContext
) -> ModalityScreen:
    """Judge every screening item of one modality and give its status with its findings."""
    judged = _judge(record, kb, modality, context)
    shown = sorted((f for f in judged if f.present is not False), key=_order)
    present = [f for f in shown if f.present]
    gaps = [f for f in shown if f.present is None]
    severities = {f.severity for f in present}
    if "contraindication" in severities:
        status = ModalityStatus.CONTRAINDICATED
    elif gaps:
        status = ModalityStatus.INCOMPLETE
    elif "not_recommended" in severities:
        status = ModalityStatus.NOT_RECOMMENDED
    elif "warning" in severities:
        status = ModalityStatus.CAUTION
    else:
        status = ModalityStatus.CLEAR
    reasons: list[Reason] = []
    for f in present:
        word = f.severity.replace("_", " ")
        note = f": {f.note}" if f.note else ""
        reasons.append(
            Reason(
                f"screening.{modality}.{f.severity}",
                f"{f.label}: {word}{note}",
                (f.field,),
                f.sources,
            )
        )
    for f in gaps:
        reasons.append(
            Reason(
                f"screening.{modality}.not_assessed",
                f"{f.label}: not assessed ({f.severity.replace('_', ' ')} item)",
                (f.field,),
                f.sources,
                (_gap_field(f),),
            )
        )
    if status == "clear":
        mod = kb.screening.modalities[modality]
        reasons.append(
            Reason(
                f"screening.{modality}.clear",
                f"all {len(judged)} items assessed; no contraindication, not-recommended item "
                "or warning present",
                ("screening",),
                kb.source_ids(mod.source),
            )
        )
    return ModalityScreen(
        modality, status, tuple(shown), assessed=len(judged), reasons=tuple(reasons)
    )


def screen_all(
    record: CaseRecord, kb: KnowledgeBase, *, context: ScreeningContext
) -> dict[str, ModalityScreen]:
    """Every modality in the knowledge base, screened."""
    return {m: screen_modality(record, kb, m, context=context) for m in kb.screening.modalities}
