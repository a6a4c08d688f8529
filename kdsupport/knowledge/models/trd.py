"""Antidepressant drugs with their minimum adequate doses, and the TRD definitions.

For training with synthetic patients; not a medical device.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from kdsupport.knowledge.models.common import Code, KBModel, Refs, Value

__all__ = [
    "DrugClass",
    "LabelledSource",
    "OtherValue",
    "MinAdequate",
    "Range",
    "Drug",
    "DoseTable",
    "DrugsFile",
    "Failure",
    "Definition",
    "DefinitionsFile",
]


# ------------------------------------------------------------------ drugs
class DrugClass(KBModel):
    label: str
    antidepressant: bool
    thase_rush_class: str | None
    source: Refs


class LabelledSource(KBModel):
    label: str
    source: Refs


class OtherValue(KBModel):
    """Another source's different value for the same fact (docs/case-record.md §3.10)."""

    mg_per_day: float
    source: Refs


class MinAdequate(KBModel):
    mg_per_day: float | None = None
    serum_level_mmol_l: float | None = None
    source: Refs
    disputed_by: list[OtherValue] = []


class Range(KBModel):
    low: float
    high: float
    source: Refs


class Drug(KBModel):
    drug_class: str = Field(alias="class")
    min_adequate: dict[str, MinAdequate]
    usual_mg_per_day: Range | None = None
    usual_serum_level_mmol_l: Range | None = None
    other_usual_ranges: list[Range] = []
    codes: list[Code] = []
    note: str | None = None
    note_source: Refs | None = None


class DoseTable(KBModel):
    title: str
    source: Refs


class DrugsFile(KBModel):
    classes: dict[str, DrugClass]
    thase_rush_classes: dict[str, LabelledSource]
    dose_tables: dict[str, DoseTable]
    drugs: dict[str, Drug]


# ------------------------------------------------------------------ TRD definitions
class Failure(KBModel):
    comparison: Literal["<=", "<"]
    percent: float
    source: Refs


class Definition(KBModel):
    label: Annotated[str, StringConstraints(min_length=2, max_length=32)]  # a few words, for pages
    title: str
    summary: str
    dose_table: str
    current_episode_only: bool
    min_failed_antidepressants: Value
    min_weeks: Value
    failure: Failure
    see_also_source: Refs | None = None


class DefinitionsFile(KBModel):
    default: str
    definitions: dict[str, Definition]
