"""Rating scales: totals, severity bands and item flags; response and remission.

Instruments: PHQ-9, MADRS, QIDS-SR16, GAD-7, C-SSRS screener (no total), MOAA/S and CADSS.
Item counts, ranges, scoring rules, bands, flags and the response and remission thresholds
all come from ``knowledge/scales.yaml``.

Missing data: a null item makes the total null (no proration); a total given without items
is used as is, and item-level flags are then skipped (except for single-item instruments,
where the total is the item). A baseline total of 0 gives ``response: None``.

For training and case conferences with synthetic patients; not a medical device.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kdsupport.rules.result import Reason, Result, Status, compare

if TYPE_CHECKING:
    from kdsupport.knowledge import BandTable, Cutoff, Instrument, KnowledgeBase
    from kdsupport.records.case import Administration, CaseRecord

__all__ = [
    "ScaleScore",
    "OutcomeResult",
    "total_from_items",
    "band_of",
    "score_administration",
    "score_all",
    "evaluate_outcome",
    "outcome_totals",
    "remission_cutoff",
    "response_boundary",
    "response_columns",
    "remission_columns",
]


@dataclass(frozen=True)
class ScaleScore(Result):
    """The scored administration of one instrument."""

    index: int
    instrument: str
    when: str
    total: int | None
    band: str | None
    flags: tuple[str, ...]
    scored_from: str  # "items", "total" or "answers"
    items: tuple[int | None, ...] | None

    def to_json(self) -> dict[str, Any]:
        """One entry of the assessment's ``scales`` (the items stay in the record)."""
        return {
            "index": self.index,
            "instrument": self.instrument,
            "when": self.when,
            "total": self.total,
            "band": self.band,
            "flags": list(self.flags),
            "scored_from": self.scored_from,
            "reasons": [r.to_dict() for r in self.reasons],
        }


@dataclass(frozen=True)
class OutcomeResult(Result):
    """Response and remission on one instrument, baseline against latest."""

    instrument: str
    baseline: int | None
    latest: int | None
    baseline_when: str
    latest_when: str
    reduction_percent: float | None
    response: Status
    remission: Status
    remission_definition: str

    def to_json(self) -> dict[str, Any]:
        """The assessment's ``outcome`` block (response and remission as true/false/null)."""
        tri = {Status.MET: True, Status.NOT_MET: False, Status.UNKNOWN: None}
        return {
            "instrument": self.instrument,
            "baseline": self.baseline,
            "latest": self.latest,
            "baseline_when": self.baseline_when,
            "latest_when": self.latest_when,
            "reduction_percent": self.reduction_percent,
            "response": tri[self.response],
            "remission": tri[self.remission],
            "remission_definition": self.remission_definition,
            "reasons": [r.to_dict() for r in self.reasons],
        }


def total_from_items(
    spec: Instrument, items: list[int | None] | tuple[int | None, ...]
) -> int | None:
    """Total of an instrument's items; None if any item is null (no proration).

    The one implementation is :meth:`kdsupport.knowledge.Instrument.total_from_items`.
    """
    return spec.total_from_items(items)


def band_of(table: BandTable | None, value: float | None) -> Any:
    """The band of a value in a band table (None when the value or the table is missing)."""
    if table is None or value is None:
        return None
    for band in table.bands:
        above = band.min is None or (value >= band.min if band.min_inclusive else value > band.min)
        below = band.max is None or (value <= band.max if band.max_inclusive else value < band.max)
        if above and below:
            return band
    return None


def _refs(*parts: Any) -> list[Any]:
    """The source references of the knowledge-base parts an instrument has (None is skipped)."""
    return [p.source for p in parts if p is not None]


def _sources(kb: KnowledgeBase, *refs: Any) -> tuple[str, ...]:
    out: dict[str, None] = {}
    for r in refs:
        for sid in kb.source_ids(r):
            out.setdefault(sid)
    return tuple(out)


def score_administration(adm: Administration, index: int, kb: KnowledgeBase) -> ScaleScore:
    """Score one administration: total (from items or as given), band and flags."""
    spec = kb.scales.instruments[adm.instrument]
    path = f"assessments[{index}]"
    reasons: list[Reason] = []
    flags: list[str] = []
    if spec.scoring == "none":
        reasons.append(
            Reason(
                "scales.no_total",
                f"{spec.title}: no total; the answers are triaged under suicide risk",
                (f"{path}.answers",),
                _sources(kb, spec.source),
            )
        )
        return ScaleScore(
            index, adm.instrument, adm.when, None, None, (), "answers", None, reasons=tuple(reasons)
        )

    items = tuple(adm.items) if adm.items is not None else None
    if items is not None:
        total = total_from_items(spec, items)
        scored_from = "items"
        if total is None:
            missing = tuple(f"{path}.items[{i}]" for i, v in enumerate(items) if v is None)
            reasons.append(
                Reason(
                    "scales.item_missing",
                    f"{spec.title}: {len(missing)} item(s) not recorded, so no total "
                    "(kdsupport never prorates)",
                    (f"{path}.items",),
                    ("case_record_spec_v1",),
                    missing,
                )
            )
    else:
        total = adm.total
        scored_from = "total"
        if total is None:
            reasons.append(
                Reason(
                    "scales.total_missing",
                    f"{spec.title}: neither items nor a total recorded",
                    (f"{path}.items", f"{path}.total"),
                    _sources(kb, spec.source),
                    (f"{path}.items",),
                )
            )
    band = band_of(spec.bands, total)
    if total is not None:
        how = "sum of the items" if scored_from == "items" else "total as recorded"
        if spec.scoring == "domain_max_sum" and scored_from == "items":
            how = "sum of the 9 domain scores (highest item per domain)"
        if band is not None:
            msg = (
                f"{spec.title} total {total} ({how}): band {band.label} ({band.min:g}-{band.max:g})"
            )
            srcs = _sources(kb, *_refs(spec.total, spec.bands))
        else:
            msg = f"{spec.title} total {total} ({how}); no severity bands are encoded"
            if spec.bands_note:
                msg += f": {spec.bands_note}"
            srcs = _sources(kb, *_refs(spec.total))
        reasons.append(Reason("scales.total", msg, (f"{path}.{scored_from}",), srcs))

    # Item flags: from items; for a one-item instrument the total is the item.
    item_values = items
    if item_values is None and spec.items and spec.items.count == 1 and total is not None:
        item_values = (total,)
    if item_values is not None:
        for flag in spec.flags:
            value = item_values[flag.item - 1] if flag.item - 1 < len(item_values) else None
            if value is None:
                flags.append(f"{flag.code}_unknown")
                reasons.append(
                    Reason(
                        f"scales.flag_unknown.{flag.code}",
                        f"{spec.title} item {flag.item} not recorded: cannot rule out "
                        f"'{flag.code}'",
                        (f"{path}.items[{flag.item - 1}]",),
                        _sources(kb, flag.source),
                        (f"{path}.items[{flag.item - 1}]",),
                    )
                )
            elif flag.min <= value <= flag.max:
                flags.append(flag.code)
                reasons.append(
                    Reason(
                        f"scales.flag.{flag.code}",
                        f"{flag.message} (item {flag.item} = {value})",
                        (f"{path}.items[{flag.item - 1}]",),
                        _sources(kb, flag.source),
                    )
                )
    elif spec.flags:
        reasons.append(
            Reason(
                "scales.flags_skipped",
                f"{spec.title}: only a total was recorded, so item-level checks "
                f"({', '.join(f.code for f in spec.flags)}) were skipped",
                (f"{path}.total",),
                ("case_record_spec_v1",),
            )
        )
    scoring_sources = _sources(kb, *_refs(spec.items, spec.total))
    if any(kb.verification_of(s) == "unverified" for s in scoring_sources):
        reasons.append(
            Reason(
                "scales.scoring_unverified",
                f"{spec.title}: item scoring and total range are UNVERIFIED in the clinical "
                "reference; read the total with that in mind",
                (path,),
                scoring_sources,
            )
        )
    return ScaleScore(
        index,
        adm.instrument,
        adm.when,
        total,
        band.label if band is not None else None,
        tuple(flags),
        scored_from,
        items,
        reasons=tuple(reasons),
    )


def score_all(record: CaseRecord, kb: KnowledgeBase) -> list[ScaleScore]:
    """Every administration in record order, scored."""
    return [score_administration(a, i, kb) for i, a in enumerate(record.assessments or ())]


def evaluate_outcome(
    scores: list[ScaleScore], kb: KnowledgeBase, *, remission: dict[str, str] | None = None
) -> OutcomeResult | None:
    """Response and remission, baseline against the latest administration.

    The instrument is the first in the knowledge base's priority order (madrs, qids_sr16,
    phq9) that has both a baseline and a later administration; None when none has.

    Parameters
    ----------
    remission
        Optional choice of remission definition per instrument, e.g.
        ``{"madrs": "madrs_le10_escape_trd"}``; defaults come from the knowledge base.
    """
    out = kb.scales.outcome
    chosen = remission or {}
    for name in out.instrument_priority:
        mine = [s for s in scores if s.instrument == name]
        baseline = next((s for s in mine if s.when == "baseline"), None)
        later = [s for s in mine if s.when != "baseline"]
        if baseline is None or not later:
            continue
        latest = later[-1]
        rem_name, cutoff = remission_cutoff(kb, name, chosen.get(name))
        spec = kb.scales.instruments[name]
        b, last = baseline.total, latest.total
        reasons: list[Reason] = []
        fields = (f"assessments[{baseline.index}]", f"assessments[{latest.index}]")
        resp_src = kb.source_ids(out.response.source)
        threshold = out.response.min_reduction_percent
        if b is None or last is None:
            reduction = None
            response = Status.UNKNOWN
            missing = tuple(
                f"assessments[{s.index}]" for s in (baseline, latest) if s.total is None
            )
            reasons.append(
                Reason(
                    "outcome.total_missing",
                    f"{spec.title}: a total is missing, so response cannot be judged",
                    fields,
                    resp_src,
                    missing,
                )
            )
        elif b == 0:
            reduction = None
            response = Status.UNKNOWN
            reasons.append(
                Reason(
                    "outcome.baseline_zero",
                    f"{spec.title} baseline is 0: a percentage reduction is undefined",
                    fields,
                    resp_src,
                )
            )
        else:
            reduction = (b - last) * 100.0 / b
            # compare (b - last) * 100 against threshold * b to avoid rounding at the boundary
            response = compare((b - last) * 100.0, ">=", threshold * b)
            verdict = "response" if response is Status.MET else "no response"
            reasons.append(
                Reason(
                    "outcome.response" if response is Status.MET else "outcome.no_response",
                    f"{spec.title} {b} at baseline -> {last} at {latest.when}: "
                    f"{reduction:.1f} % reduction; response needs >= {threshold:g} % -> {verdict}",
                    fields,
                    resp_src,
                )
            )
        remission_status = compare(last, cutoff.comparison, cutoff.value)
        if last is not None:
            word = "remission" if remission_status is Status.MET else "no remission"
            reasons.append(
                Reason(
                    "outcome.remission"
                    if remission_status is Status.MET
                    else "outcome.no_remission",
                    f"{spec.title} latest {last}; remission ({cutoff.label or rem_name} "
                    "definition) needs "
                    f"{cutoff.comparison} {cutoff.value:g} -> {word}",
                    (f"assessments[{latest.index}]",),
                    kb.source_ids(cutoff.source),
                )
            )
        return OutcomeResult(
            name,
            b,
            last,
            baseline.when,
            latest.when,
            None if reduction is None else round(reduction, 1),
            response,
            remission_status,
            rem_name,
            reasons=tuple(reasons),
        )
    return None


def outcome_totals(assessments: Any, instrument: str) -> Any:
    """Column-wise: each patient's baseline and latest total as :func:`evaluate_outcome` pairs them.

    ``assessments`` is a table with ``patient_id``, ``instrument``, ``when`` and ``total``, each
    patient's administrations in record order (the cohort's ``assessments`` table). The baseline
    is a patient's first ``baseline`` administration of ``instrument``, the latest the last one
    that is not a baseline, whether or not its total was recorded. Returns a DataFrame indexed
    by ``patient_id`` (sorted) with ``baseline`` and ``latest`` (NA where not recorded), one row
    per patient with both administrations.
    """
    import pandas as pd

    a = assessments[assessments["instrument"] == instrument]
    is_base = (a["when"] == "baseline").to_numpy(dtype=bool, na_value=False)
    base = a[is_base].drop_duplicates("patient_id", keep="first").set_index("patient_id")
    later = a[~is_base].drop_duplicates("patient_id", keep="last").set_index("patient_id")
    both = later.index[later.index.isin(base.index)].sort_values()
    return pd.DataFrame(
        {"baseline": base["total"].reindex(both), "latest": later["total"].reindex(both)}
    )


def remission_cutoff(
    kb: KnowledgeBase, instrument: str, definition: str | None = None
) -> tuple[str, Cutoff]:
    """The remission definition of an instrument (its name and cut-off); the default if None."""
    rs = kb.scales.outcome.remission[instrument]
    name = definition or rs.default
    return name, rs.definitions[name]


def response_boundary(baseline: float, kb: KnowledgeBase) -> float:
    """The latest total that is exactly the response reduction from ``baseline`` (for drawing).

    A latest total at or below it is a response (:func:`evaluate_outcome` decides, comparing
    without division so that the boundary itself is not lost to rounding).
    """
    return baseline * (1 - kb.scales.outcome.response.min_reduction_percent / 100)


def _floats(values: Any) -> Any:
    """A float array of totals, NaN where missing (None, NA or NaN)."""
    import numpy as np
    import pandas as pd

    return pd.array(values, dtype="Float64").to_numpy(dtype=float, na_value=np.nan)


def _statuses(codes: Any, like: Any) -> Any:
    """Three-valued codes as a pandas ``boolean`` Series (NA = unknown), on ``like``'s index."""
    import pandas as pd

    from kdsupport.rules.columns import MET, UNK

    values = pd.arrays.BooleanArray(codes == MET, codes == UNK)
    return pd.Series(values, index=like.index if isinstance(like, pd.Series) else None)


def response_columns(baseline: Any, latest: Any, kb: KnowledgeBase) -> Any:
    """The column-wise twin of :func:`evaluate_outcome`'s response, element by element.

    ``baseline`` and ``latest`` are totals of one instrument (array-likes of equal length,
    missing as None, NA or NaN). Returns a pandas ``boolean`` Series (on ``latest``'s index when
    it has one): True for a response, False for none, NA when a total is missing or the
    baseline is 0.
    """
    import numpy as np

    from kdsupport.rules.columns import UNK, compare

    b, last = _floats(baseline), _floats(latest)
    threshold = kb.scales.outcome.response.min_reduction_percent
    # as evaluate_outcome: (b - last) * 100 against threshold * b, no division
    codes = compare((b - last) * 100.0, ">=", threshold * b)
    return _statuses(np.where(b == 0, UNK, codes), latest)


def remission_columns(
    latest: Any, kb: KnowledgeBase, *, instrument: str, definition: str | None = None
) -> Any:
    """The column-wise twin of :func:`evaluate_outcome`'s remission, element by element.

    ``latest`` are totals of ``instrument``; ``definition`` names the remission definition (the
    knowledge base's default if None). Returns a pandas ``boolean`` Series (on ``latest``'s
    index when it has one): True for remission, False for none, NA when the total is missing.
    """
    from kdsupport.rules.columns import compare

    _, cutoff = remission_cutoff(kb, instrument, definition)
    return _statuses(compare(_floats(latest), cutoff.comparison, cutoff.value), latest)
