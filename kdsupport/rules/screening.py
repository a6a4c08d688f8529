"""Screening for contraindications, not-recommended uses and warnings, per way of giving ketamine.

Modalities: ``esketamine_nasal`` (US label, REMS), ``iv_ketamine`` (off-label; ketamine
injection label) and ``at_home_ketamine`` (off-label, compounded; FDA 2023 warning). Each
screening item has a severity per modality in ``knowledge/screening.yaml``: ``contraindication``,
``not_recommended`` (the label's own words) or ``warning`` (``docs/case-record.md`` §3.6).

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
Pregnancy and breastfeeding do not apply when sex is male (``docs/case-record.md`` §3.6).

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
    import numpy as np
    import pandas as pd

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
    "modality_columns",
]

MODALITY_STATUSES = ("contraindicated", "incomplete", "not_recommended", "caution", "clear")
# Listed first, in this order, whatever their severity (docs/case-record.md §3.6).
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
    """Whether the record is within the modality's indication (Kleene; docs/case-record.md §3.6)."""
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


# ---------------------------------------------------------------- the column-wise twin
def _derived_present_columns(
    name: str,
    tables: dict[str, pd.DataFrame],
    kb: KnowledgeBase,
    level: np.ndarray,
    action: np.ndarray,
    tier: np.ndarray,
) -> np.ndarray:
    """Three-valued presence of a derived item that does not depend on the modality."""
    import numpy as np

    from kdsupport.rules.columns import UNK, compare, flt, from_bool

    item = kb.screening.items[name]
    if name == "suicide_risk_high":
        return np.where(level == "unknown", UNK, level == "high").astype(np.int8)
    if name == "urgent_suicide_evaluation":
        return from_bool(action == "urgent_evaluation")
    if name == "predose_bp_severe":
        return from_bool(tier == kb.vitals.predose_bp_guide.severe.status)
    assert item.threshold is not None
    age = flt(tables["patients"]["age_years"])
    op = "<" if name == "age_under_18" else ">="
    return compare(age, op, item.threshold.value)


def _indicated_columns(
    derivation: str, primary: np.ndarray, level: np.ndarray, trd: np.ndarray
) -> np.ndarray:
    """Column-wise twin of :func:`_indicated` (Kleene)."""
    import numpy as np

    from kdsupport.rules.columns import UNK, and_, or_

    mdd = np.where(primary == None, UNK, primary == "mdd").astype(np.int8)  # noqa: E711
    if derivation == "diagnosis_mdd":
        return mdd
    ideation = np.where(level == "unknown", UNK, np.isin(level, list(_IDEATION_LEVELS))).astype(
        np.int8
    )
    return and_(mdd, or_(trd.astype(np.int8), ideation))


def modality_columns(
    tables: dict[str, pd.DataFrame],
    codes: dict[str, np.ndarray],
    n: int,
    kb: KnowledgeBase,
    level: np.ndarray,
    *,
    action: np.ndarray,
    tier: np.ndarray,
    trd: np.ndarray,
) -> dict[str, np.ndarray]:
    """Each modality's status from the screening table, patients, risk, BP tier and TRD.

    The column-wise twin of :func:`screen_modality`: contraindicated, incomplete,
    not_recommended, caution, clear (docs/case-record.md §3.6).
    """
    import numpy as np

    from kdsupport.rules.columns import MET, NOT, UNK, category_codes, not_, tri, txt

    sc = tables["screening"]
    scodes = codes["screening"]
    fields = [
        i.field.split(".")[1]
        for i in kb.screening.items.values()
        if i.field.startswith("screening.")
    ]
    item_codes = category_codes(sc["item"], fields)
    values = tri(sc["value"])
    pats = tables["patients"]
    sex = txt(pats["sex"])
    primary = txt(pats["primary"])
    present: dict[str, np.ndarray] = {}
    for name, item in kb.screening.items.items():
        head, _, field = item.field.partition(".")
        col = np.full(n, UNK, np.int8)
        if item.derived == "outside_indication":
            continue  # depends on the modality: below
        if item.derived is not None:
            col = _derived_present_columns(name, tables, kb, level, action, tier)
        elif head == "screening":
            sel = item_codes == fields.index(field)
            v = values[sel]
            col[scodes[sel]] = np.where(v == UNK, UNK, (v == MET) == item.present_when).astype(
                np.int8
            )
        else:
            v = tri(pats[field])
            col = np.where(v == UNK, UNK, (v == MET) == item.present_when).astype(np.int8)
        if item.not_applicable_for_sex:
            col = np.where(np.isin(sex, list(item.not_applicable_for_sex)), NOT, col).astype(
                np.int8
            )
        present[name] = col
    out = {}
    for m, mod in kb.screening.modalities.items():
        by: dict[str, list[np.ndarray]] = {s: [] for s in SEVERITIES}
        for iname, spec in mod.items.items():
            if kb.screening.items[iname].derived == "outside_indication":
                how = spec.derivation or "diagnosis_mdd"
                col = not_(_indicated_columns(how, primary, level, trd))
            else:
                col = present[iname]
            by[spec.severity].append(col)
        everything = np.vstack([c for cols in by.values() for c in cols])

        def any_present(severity: str, by: dict[str, list[np.ndarray]] = by) -> np.ndarray:
            cols = by[severity]
            return np.vstack(cols).__eq__(MET).any(0) if cols else np.zeros(n, bool)

        out[m] = np.where(
            any_present(Severity.CONTRAINDICATION),
            ModalityStatus.CONTRAINDICATED.value,
            np.where(
                (everything == UNK).any(0),
                ModalityStatus.INCOMPLETE.value,
                np.where(
                    any_present(Severity.NOT_RECOMMENDED),
                    ModalityStatus.NOT_RECOMMENDED.value,
                    np.where(
                        any_present(Severity.WARNING),
                        ModalityStatus.CAUTION.value,
                        ModalityStatus.CLEAR.value,
                    ),
                ),
            ),
        )
    return out
