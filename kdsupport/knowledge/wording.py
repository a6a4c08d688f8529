"""Plain words for pages: labels from the knowledge base instead of code names.

A nurse reading a page should see "esketamine nasal spray", "US label (MGH-ATRQ)" and
"Spravato US label 2021 BP warning, Warnings 5.3 (verified)", never ``esketamine_nasal``,
``label_atrq`` or a source id. Every label comes from the knowledge base (modality titles,
definition labels, check titles, screening labels, staging component labels, short citations);
this module only looks them up and turns values into words (yes / no / unknown, lists joined).
Source ids stay available for tooltips and the bibliography.

For training with synthetic patients; not a medical device.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

__all__ = [
    "Citation",
    "citation",
    "citations",
    "citation_text",
    "definition_label",
    "modality_label",
    "modality_title",
    "check_title",
    "screening_label",
    "component_label",
    "class_label",
    "status_words",
    "plain_value",
    "VERIFICATION_WORDS",
]

# How a source's verification status reads next to it (shared/clinical/REFERENCE.md section 0).
VERIFICATION_WORDS = {
    "verified": "verified",
    "secondary": "secondary source",
    "unverified": "UNVERIFIED",
    "project_contract": "project contract",
}


def _kb() -> Any:
    from kdsupport.knowledge.loader import load

    return load()


@dataclass(frozen=True)
class Citation:
    """A source as a reader sees it: short citation, section, verification; the id for tooltips."""

    id: str
    short: str
    section: str | None
    verification: str
    assumption: bool

    @property
    def status_words(self) -> str:
        """'verified', 'secondary source', 'UNVERIFIED', 'project contract' or 'assumption ...'."""
        if self.assumption:
            return "assumption, UNVERIFIED"
        return VERIFICATION_WORDS.get(self.verification, self.verification)

    @property
    def text(self) -> str:
        """``Short, section (status)``."""
        where = f", {self.section}" if self.section else ""
        return f"{self.short}{where} ({self.status_words})"


def citation(source_id: str) -> Citation:
    """The short citation of one source id (an unknown id is shown as itself, unverified)."""
    s = _kb().sources.get(source_id)
    if s is None:
        return Citation(source_id, source_id, None, "unverified", False)
    return Citation(s.id, s.short, s.section, s.verification, s.kind == "assumption")


def citations(source_ids: Iterable[str]) -> list[Citation]:
    """Short citations of several ids, without duplicates, in order."""
    return [citation(i) for i in dict.fromkeys(source_ids)]


def citation_text(source_ids: Iterable[str]) -> str:
    """Short citations joined by semicolons (plain text, for plot captions and worksheets)."""
    return "; ".join(c.text for c in citations(source_ids))


def definition_label(name: str) -> str:
    """A TRD definition's label (``label_atrq`` -> ``US label (MGH-ATRQ)``)."""
    d = _kb().trd.definitions.get(name)
    return d.label if d is not None else status_words(name)


def modality_label(name: str) -> str:
    """A way of giving ketamine in a few words (``iv_ketamine`` -> ``IV ketamine``)."""
    m = _kb().screening.modalities.get(name)
    return m.label if m is not None else status_words(name)


def modality_title(name: str) -> str:
    """A way of giving ketamine by its full title (``Racemic ketamine by intravenous ...``)."""
    m = _kb().screening.modalities.get(name)
    return m.title if m is not None else status_words(name)


def check_title(name: str) -> str:
    """A session check (monitoring or session day) by its title."""
    c = _kb().session_check_info().get(name)
    return c.title if c is not None else status_words(name)


def screening_label(name: str) -> str:
    """A screening item by its label."""
    item = _kb().screening.items.get(name)
    return item.label if item is not None else status_words(name)


def component_label(model: str, name: str) -> str:
    """A staging component by its label (``thase_rush``, ``mgh_s`` or ``msm``)."""
    labels = getattr(_kb().staging, model).component_labels
    return labels.get(name, status_words(name).capitalize())


def class_label(code: str) -> str:
    """A Thase-Rush antidepressant class (``snri`` -> ``SNRI``)."""
    c = _kb().drugs.thase_rush_classes.get(code)
    return c.label if c is not None else status_words(code)


def status_words(code: str) -> str:
    """A status or action code in words (``not_recommended`` -> ``not recommended``)."""
    return str(code).replace("_", " ")


def plain_value(value: Any, *, unknown: str = "unknown") -> str:
    """Any result value in words: yes / no, ``unknown`` for None, lists joined, ``none``."""
    if value is None:
        return unknown
    if value is True:
        return "yes"
    if value is False:
        return "no"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, list | tuple | set | frozenset):
        items = [plain_value(v, unknown=unknown) for v in value]
        return ", ".join(items) if items else "none"
    return str(value)
