"""Screening for contraindications and warnings, per way of giving ketamine.

Modalities: ``esketamine_nasal`` (US label, REMS), ``iv_ketamine`` (off-label; ketamine
injection label) and ``at_home_ketamine`` (off-label, compounded; FDA 2023 warning). Each
screening item has a severity per modality in ``knowledge/screening.yaml``.

Status, in this order: ``contraindicated`` if a contraindication item is present;
``incomplete`` if a contraindication or warning item is not assessed; ``caution`` if a warning
item is present; else ``clear``. Findings are information for a clinician's benefit-risk
judgement, not a decision to treat or not.

Missing data: a null or missing screening item is *not assessed* (never "absent").
Pregnancy and breastfeeding do not apply when sex is male (clarification 11). The derived item
``suicide_risk_high`` is unknown when the suicide-risk level is unknown.

For training and case conferences with synthetic patients; not a medical device.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kdsupport.result import Reason

if TYPE_CHECKING:
    from kdsupport.case import CaseRecord
    from kdsupport.knowledge import KnowledgeBase

__all__ = ["Finding", "ModalityScreen", "screen_modality", "screen_all", "MODALITY_STATUSES"]

MODALITY_STATUSES = ("contraindicated", "incomplete", "caution", "clear")


@dataclass(frozen=True)
class Finding:
    """One screening item judged for one modality."""

    item: str
    label: str
    field: str
    value: Any
    severity: str
    present: bool | None  # None = not assessed
    applicable: bool
    sources: tuple[str, ...]


@dataclass(frozen=True)
class ModalityScreen:
    """Screening status of one modality, with every finding."""

    modality: str
    status: str
    findings: tuple[Finding, ...]
    reasons: tuple[Reason, ...]


def _value(record: CaseRecord, field: str, suicide_level: str) -> Any:
    head, _, name = field.partition(".")
    if head == "suicide_risk":
        return suicide_level
    holder = record.screening if head == "screening" else record.patient
    return getattr(holder, name) if holder is not None else None


def screen_modality(
    record: CaseRecord, kb: KnowledgeBase, modality: str, *, suicide_level: str
) -> ModalityScreen:
    """Judge every screening item of one modality and give its status."""
    mod = kb.screening.modalities[modality]
    findings: list[Finding] = []
    for name, mi in mod.items.items():
        item = kb.screening.items[name]
        value = _value(record, item.field, suicide_level)
        applicable = record.patient.sex not in item.not_applicable_for_sex
        if not applicable:
            present: bool | None = False
        elif item.derived == "suicide_risk_high":
            present = None if value == "unknown" else value == "high"
        else:
            present = None if value is None else value == item.present_when
        findings.append(
            Finding(
                name,
                item.label,
                item.field,
                value,
                mi.severity,
                present,
                applicable,
                kb.source_ids(mi.source),
            )
        )

    ci = [f for f in findings if f.severity == "contraindication"]
    warn = [f for f in findings if f.severity == "warning"]
    gaps = [f for f in findings if f.present is None]
    reasons: list[Reason] = []
    if any(f.present for f in ci):
        status = "contraindicated"
        for f in ci:
            if f.present:
                reasons.append(
                    Reason(
                        f"screening.{modality}.contraindication",
                        f"{f.label}: contraindication",
                        (f.field,),
                        f.sources,
                    )
                )
    elif gaps:
        status = "incomplete"
    elif any(f.present for f in warn):
        status = "caution"
    else:
        status = "clear"
    for f in warn:
        if f.present:
            reasons.append(
                Reason(
                    f"screening.{modality}.warning",
                    f"{f.label}: warning (weigh benefit and risk)",
                    (f.field,),
                    f.sources,
                )
            )
    for f in gaps:
        fld = f.field if f.item != "suicide_risk_high" else "assessments[] (cssrs_screener)"
        reasons.append(
            Reason(
                f"screening.{modality}.not_assessed",
                f"{f.label}: not assessed ({f.severity} item)",
                (f.field,),
                f.sources,
                (fld,),
            )
        )
    if status == "clear":
        reasons.append(
            Reason(
                f"screening.{modality}.clear",
                f"all {len(findings)} items assessed; no contraindication or warning present",
                ("screening",),
                kb.source_ids(mod.source),
            )
        )
    return ModalityScreen(modality, status, tuple(findings), tuple(reasons))


def screen_all(
    record: CaseRecord, kb: KnowledgeBase, *, suicide_level: str
) -> dict[str, ModalityScreen]:
    """Every modality in the knowledge base, screened."""
    return {
        m: screen_modality(record, kb, m, suicide_level=suicide_level)
        for m in kb.screening.modalities
    }
