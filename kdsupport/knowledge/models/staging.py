"""The staging models: Thase-Rush, MGH-S and the Maudsley Staging Method.

For training with synthetic patients; not a medical device.
"""

from __future__ import annotations

from typing import Literal

from kdsupport.knowledge.models.common import KBModel, Refs, Value

__all__ = [
    "Band",
    "BandTable",
    "TRRequires",
    "TRStage",
    "ThaseRush",
    "MGHSPoints",
    "MGHS",
    "SeverityPoints",
    "Points",
    "MSM",
    "StagingFile",
]


# ------------------------------------------------------------------ staging
class Band(KBModel):
    label: str
    points: float | None = None
    min: float | None
    max: float | None
    min_inclusive: bool = True
    max_inclusive: bool = True


class BandTable(KBModel):
    domain: Literal["integer", "real"]
    bands: list[Band]
    min: float | None = None
    max: float | None = None
    source: Refs | None = None


class TRRequires(KBModel):
    min_distinct_failed_classes: int | None = None
    failed_class: str | None = None
    failed_ect_laterality: Literal["bilateral", "unilateral"] | None = None


class TRStage(KBModel):
    stage: int
    label: str
    requires: TRRequires
    source: Refs


class ThaseRush(KBModel):
    title: str
    component_labels: dict[str, str]
    source: Refs
    stages: list[TRStage]


class MGHSPoints(KBModel):
    failed_antidepressant_trial: Value
    dose_optimised: Value
    failed_augmentation_trial: Value
    failed_ect: Value


class MGHS(KBModel):
    title: str
    component_labels: dict[str, str]
    source: Refs
    points: MGHSPoints
    register_trd_threshold: Value


class SeverityPoints(KBModel):
    points: dict[
        Literal[
            "subsyndromal", "mild", "moderate", "severe_without_psychosis", "severe_with_psychosis"
        ],
        int,
    ]
    source: Refs


class Points(KBModel):
    points: float
    source: Refs


class MSM(KBModel):
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


class StagingFile(KBModel):
    thase_rush: ThaseRush
    mgh_s: MGHS
    msm: MSM
