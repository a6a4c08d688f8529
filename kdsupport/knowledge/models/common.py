"""Shared building blocks: sources, source references, sourced values and codes.

For training with synthetic patients; not a medical device.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, StringConstraints

__all__ = ["KB_FILES", "Verification", "KBModel", "SourceRef", "Refs", "Source", "Value", "Code"]

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
    "session_day.yaml",
    "synthetic.yaml",
    "evidence.yaml",
)

Verification = Literal["verified", "secondary", "unverified", "project_contract"]


class KBModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


def _as_list(v: Any) -> Any:
    return [v] if isinstance(v, dict) else v


class SourceRef(KBModel):
    """A citation of a source id, with where in the source (section, table, row)."""

    id: str
    locator: str | None = None


Refs = Annotated[list[SourceRef], BeforeValidator(_as_list)]


class Source(KBModel):
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


class Value(KBModel):
    """A single sourced number."""

    value: float
    source: Refs


class Code(KBModel):
    """A code in a coding system (ATC, RxNorm, ICD-10-CM, LOINC)."""

    system: str
    code: str
    display: str | None = None
    source: Refs
