"""The validated knowledge base with typed access to each file.

For training with synthetic patients; not a medical device.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from kdsupport.knowledge.models.common import KBModel, Source, SourceRef
from kdsupport.knowledge.models.evidence import EvidenceFile, Manifest, SourcesFile
from kdsupport.knowledge.models.safety import ScreeningFile, VitalsFile
from kdsupport.knowledge.models.scales import ScalesFile, SuicideFile
from kdsupport.knowledge.models.session_day import SessionDayFile
from kdsupport.knowledge.models.staging import StagingFile
from kdsupport.knowledge.models.synthetic import SyntheticFile
from kdsupport.knowledge.models.trd import Definition, DefinitionsFile, DrugsFile

__all__ = ["FILE_MODELS", "KnowledgeBase", "source_refs_in"]

FILE_MODELS: dict[str, type[KBModel]] = {
    "manifest.yaml": Manifest,
    "sources.yaml": SourcesFile,
    "drugs.yaml": DrugsFile,
    "trd_definitions.yaml": DefinitionsFile,
    "staging.yaml": StagingFile,
    "scales.yaml": ScalesFile,
    "suicide_risk.yaml": SuicideFile,
    "screening.yaml": ScreeningFile,
    "vitals.yaml": VitalsFile,
    "session_day.yaml": SessionDayFile,
    "synthetic.yaml": SyntheticFile,
    "evidence.yaml": EvidenceFile,
}


class KnowledgeBase:
    """The validated knowledge base, with typed access to each file.

    Obtain it with :func:`load`; never construct it from unvalidated data.
    """

    def __init__(self, models: dict[str, Any]):
        self.manifest: Manifest = models["manifest.yaml"]
        self.sources: dict[str, Source] = {s.id: s for s in models["sources.yaml"].sources}
        self.drugs: DrugsFile = models["drugs.yaml"]
        self.trd: DefinitionsFile = models["trd_definitions.yaml"]
        self.staging: StagingFile = models["staging.yaml"]
        self.scales: ScalesFile = models["scales.yaml"]
        self.suicide: SuicideFile = models["suicide_risk.yaml"]
        self.screening: ScreeningFile = models["screening.yaml"].resolved()
        self.vitals: VitalsFile = models["vitals.yaml"]
        self.session_day: SessionDayFile = models["session_day.yaml"]
        self.synthetic: SyntheticFile = models["synthetic.yaml"]
        self.evidence: EvidenceFile = models["evidence.yaml"]

    @property
    def version(self) -> str:
        """The ``kb_version`` printed in every assessment."""
        return self.manifest.kb_version

    def definition(self, name: str | None = None) -> tuple[str, Definition]:
        """A TRD definition by name (the default when ``name`` is None)."""
        key = name or self.trd.default
        try:
            return key, self.trd.definitions[key]
        except KeyError:
            raise KeyError(
                f"unknown TRD definition {key!r}; choose one of {sorted(self.trd.definitions)}"
            ) from None

    def session_check_info(self) -> dict[str, Any]:
        """Every session check by name, each with its ``title``, ``description`` and ``kind``.

        The monitoring checks (``vitals.yaml``) first, then the session-day checks
        (``session_day.yaml``).
        """
        return {**self.vitals.session_monitoring.checks, **self.session_day.checks}

    def source_ids(self, refs: list[SourceRef] | None) -> tuple[str, ...]:
        """The ids of a tuple of source references, without duplicates, in order."""
        out: dict[str, None] = {}
        for r in refs or ():
            out.setdefault(r.id)
        return tuple(out)

    def source_entry(self, source_id: str) -> dict[str, Any]:
        """A source as shown to people: citation, section, year, URL, kind, verification."""
        s = self.sources[source_id]
        entry: dict[str, Any] = {
            "citation": s.citation,
            "short": s.short,
            "section": s.section,
            "year": s.year,
            "url": s.url,
            "kind": s.kind,
            "verification": s.verification,
        }
        if s.rationale:
            entry["rationale"] = s.rationale
        return entry

    def verification_of(self, source_id: str) -> str:
        """Verified / secondary / unverified for a source id."""
        return self.sources[source_id].verification


def source_refs_in(model: Any) -> list[SourceRef]:
    """Every source reference inside a knowledge-base model (its own and its values'), in order."""
    out: list[SourceRef] = []
    if isinstance(model, SourceRef):
        return [model]
    if isinstance(model, BaseModel):
        for field in type(model).model_fields:
            out += source_refs_in(getattr(model, field))
    elif isinstance(model, list | tuple):
        for x in model:
            out += source_refs_in(x)
    elif isinstance(model, dict):
        for x in model.values():
            out += source_refs_in(x)
    return out
