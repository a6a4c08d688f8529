"""The session-day drill's building blocks (notebook 09): fields, steps, entries and results.

A :class:`Field` is one question of a step (a choice, tick boxes or a text box) and never holds
its answer; :class:`Step` groups fields under a heading; :func:`validate` turns what the page sent
into a :class:`Given` (with the fields left empty); grading (at *Check* only) gives one
:class:`FieldResult` per question, reading a :class:`Grading` (the record, the session and its
assessment). The choices every check offers are here, the same for every session:
done / NOT done / not recorded / does not apply, or, for a finding, happened / not observed /
cannot tell. A value the record does not give is *not recorded*, never *no*.

For training with synthetic patients; not a medical device.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kdsupport.knowledge import KnowledgeBase
    from kdsupport.records.case import CaseRecord, Session
    from kdsupport.rules.assessment import Assessment, SessionAssessment

__all__ = [
    "CHOICE",
    "MULTIPLE",
    "TEXT",
    "NOT_RECORDED",
    "NOT_APPLICABLE",
    "COMPLIANCE_CHOICES",
    "FINDING_CHOICES",
    "CONCOMITANT_CHOICES",
    "CANNOT_TELL",
    "Field",
    "Step",
    "Given",
    "FieldResult",
    "Grading",
    "validate",
]

CHOICE, MULTIPLE, TEXT = "choice", "multiple", "text"
NOT_RECORDED = "not recorded"
NOT_APPLICABLE = "not_applicable"

COMPLIANCE_CHOICES = (
    ("met", "Done as required"),
    ("not_met", "NOT done as required"),
    ("unknown", "Not recorded"),
    (NOT_APPLICABLE, "Does not apply to this session"),
)
FINDING_CHOICES = (
    ("met", "Happened: a finding for review"),
    ("not_met", "Not observed"),
    ("unknown", "Cannot tell from the record"),
)
CONCOMITANT_CHOICES = (
    ("met", "Taken: monitor more closely"),
    ("not_met", "None of them taken"),
    ("unknown", "Cannot tell from the record"),
)
CANNOT_TELL = ("unknown", "Cannot tell from the record")


@dataclass(frozen=True)
class Field:
    """One question of a step: a choice, tick boxes or a text box (never its answer)."""

    id: str
    kind: str
    label: str
    options: tuple[tuple[str, str], ...] = ()
    hint: str = ""
    section: str = ""
    optional: bool = False  # may stay empty
    exclusive: tuple[str, ...] = ()  # tick boxes that clear the others

    def to_json(self) -> dict[str, Any]:
        """What the page draws."""
        return {
            "id": self.id,
            "kind": self.kind,
            "label": self.label,
            "options": [{"value": v, "label": w} for v, w in self.options],
            "hint": self.hint,
            "section": self.section,
            "optional": self.optional,
            "exclusive": list(self.exclusive),
        }

    def words(self, value: Any) -> str:
        """A value of this field as the trainee reads it."""
        labels = dict(self.options)
        if isinstance(value, list):
            return ", ".join(labels.get(v, str(v)) for v in value) or "(none)"
        if value is None or value == "":
            return "(empty)"
        return labels.get(value, str(value))


@dataclass(frozen=True)
class Step:
    """One step of the drill: its heading, what it asks and how much of the session it shows."""

    id: str
    title: str
    intro: str
    fields: tuple[Field, ...]


@dataclass(frozen=True)
class Given:
    """The trainee's entries of one step, checked for completeness (:func:`validate`)."""

    values: dict[str, Any]
    missing: tuple[str, ...]  # field ids left empty
    invalid: tuple[tuple[str, str], ...] = ()  # (field id, what is wrong)


@dataclass(frozen=True)
class FieldResult:
    """One graded field: both answers in words, right or not, why, and the sources."""

    id: str
    label: str
    given: Any
    given_words: str
    expected_words: str
    expected_html: str
    correct: bool
    why: tuple[str, ...]
    sources: tuple[str, ...]
    hazard: bool = False  # the expected answer records a hazard: shown as a warning


@dataclass(frozen=True)
class Grading:
    """What grading reads, worked out at Check: the record, the session and its assessment."""

    record: CaseRecord
    index: int
    assessment: Assessment
    kb: KnowledgeBase
    jurisdiction: str

    @property
    def session(self) -> Session:
        """The session being worked."""
        return (self.record.sessions or [])[self.index]

    @property
    def checks(self) -> SessionAssessment:
        """The session's part of the assessment."""
        return self.assessment.sessions[self.index]


def validate(fields: tuple[Field, ...], raw: Any) -> Given:
    """The entries of a step in grading form; which fields are empty or not a valid choice."""
    raw = raw if isinstance(raw, dict) else {}
    values: dict[str, Any] = {}
    missing: list[str] = []
    for f in fields:
        v = raw.get(f.id)
        allowed = {o for o, _ in f.options}
        if f.kind == CHOICE:
            ok = isinstance(v, str) and v in allowed
            values[f.id] = v if ok else None
        elif f.kind == MULTIPLE:
            items = v if isinstance(v, list) else []
            ok = bool(items) and all(isinstance(x, str) and x in allowed for x in items)
            values[f.id] = sorted(set(items)) if ok else None
        else:
            text = " ".join(v.split()) if isinstance(v, str) else ""
            ok = bool(text) or f.optional
            values[f.id] = text
        if not ok:
            missing.append(f.id)
    return Given(values, tuple(missing))
