"""Trial evidence, teaching claims, the manifest and the source list.

For training with synthetic patients; not a medical device.
"""

from __future__ import annotations

from typing import Literal

from kdsupport.knowledge.models.common import KBModel, Refs, Source

__all__ = ["SourcedText", "TrialEvidence", "Claim", "EvidenceFile", "Manifest", "SourcesFile"]


# ------------------------------------------------------------------ evidence
class SourcedText(KBModel):
    text: str
    source: Refs


class TrialEvidence(KBModel):
    id: str
    name: str
    design: str
    intervention: str
    results: list[SourcedText]


class Claim(KBModel):
    id: str
    claim: str
    verdict: Literal["accurate", "inaccurate", "misleading"]
    explanation: str
    source: Refs


class EvidenceFile(KBModel):
    trials: list[TrialEvidence]
    claims: list[Claim]
    at_home_requirements: list[SourcedText]
    fda_2023_warning_points: list[SourcedText]


class Manifest(KBModel):
    kb_version: str
    compiled_from: str
    caveat: str
    files: list[str]


class SourcesFile(KBModel):
    sources: list[Source]
