"""Three-valued results with their basis.

Missing data is *unknown*, never "no" and never "normal". A :class:`Status` is ``met``,
``not_met`` or ``unknown``; combining statuses follows Kleene's strong three-valued logic
(:func:`all_of`, :func:`any_of`, :func:`at_least`). ``bool()`` of a status or a result raises
``TypeError`` so that unknown can never silently become false.

Every result carries :class:`Reason` objects naming the inputs used and the knowledge-base
source ids behind the conclusion.

For training and case conferences with synthetic patients; not a medical device.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "Status",
    "ModalityStatus",
    "BPTier",
    "CheckKind",
    "Severity",
    "Result",
    "Reason",
    "RuleResult",
    "ScoreResult",
    "all_of",
    "any_of",
    "at_least",
    "compare",
]

_NO_TRUTH = (
    "a three-valued result has no truth value: compare it with Status.MET, Status.NOT_MET or "
    "Status.UNKNOWN instead, so that 'unknown' is never read as 'no'"
)


class Status(enum.Enum):
    """Three-valued status: met, not met, or unknown (not enough data to decide)."""

    MET = "met"
    NOT_MET = "not_met"
    UNKNOWN = "unknown"

    def __bool__(self) -> bool:
        raise TypeError(_NO_TRUTH)

    @classmethod
    def of(cls, value: bool | None) -> Status:
        """Map ``True``/``False``/``None`` to met / not met / unknown."""
        if value is None:
            return cls.UNKNOWN
        if not isinstance(value, bool):
            raise TypeError(f"Status.of expects True, False or None, got {value!r}")
        return cls.MET if value else cls.NOT_MET

    @property
    def known(self) -> bool:
        """Whether the status is decided (met or not met)."""
        return self is not Status.UNKNOWN

    def __and__(self, other: Status) -> Status:
        return all_of([self, other])

    def __or__(self, other: Status) -> Status:
        return any_of([self, other])

    def __invert__(self) -> Status:
        return {Status.MET: Status.NOT_MET, Status.NOT_MET: Status.MET}.get(self, Status.UNKNOWN)

    def __str__(self) -> str:
        return self.value


class ModalityStatus(enum.StrEnum):
    """A modality's screening status, strictest first (docs/case-record.md §3.6)."""

    CONTRAINDICATED = "contraindicated"
    INCOMPLETE = "incomplete"
    NOT_RECOMMENDED = "not_recommended"
    CAUTION = "caution"
    CLEAR = "clear"


class BPTier(enum.StrEnum):
    """The pre-dose blood-pressure tier (docs/case-record.md §3.5)."""

    OK = "ok"
    CONSIDER_DELAY = "consider_delay"
    SEVERE = "severe"
    UNKNOWN = "unknown"


class CheckKind(enum.StrEnum):
    """A session check's kind: compliance (met = done) or finding (met = a hazard happened)."""

    COMPLIANCE = "compliance"
    FINDING = "finding"


class Severity(enum.StrEnum):
    """How much a screening item weighs for a modality (docs/case-record.md §3.6)."""

    CONTRAINDICATION = "contraindication"
    NOT_RECOMMENDED = "not_recommended"
    WARNING = "warning"


def all_of(statuses: Iterable[Status]) -> Status:
    """Kleene AND: not met if any is not met; else unknown if any is unknown; else met."""
    items = list(statuses)
    if any(s is Status.NOT_MET for s in items):
        return Status.NOT_MET
    if any(s is Status.UNKNOWN for s in items):
        return Status.UNKNOWN
    return Status.MET


def any_of(statuses: Iterable[Status]) -> Status:
    """Kleene OR: met if any is met; else unknown if any is unknown; else not met."""
    items = list(statuses)
    if any(s is Status.MET for s in items):
        return Status.MET
    if any(s is Status.UNKNOWN for s in items):
        return Status.UNKNOWN
    return Status.NOT_MET


def at_least(k: int, statuses: Iterable[Status]) -> Status:
    """Met if at least ``k`` are met; not met if even all unknowns could not reach ``k``."""
    items = list(statuses)
    met = sum(s is Status.MET for s in items)
    unknown = sum(s is Status.UNKNOWN for s in items)
    if met >= k:
        return Status.MET
    if met + unknown < k:
        return Status.NOT_MET
    return Status.UNKNOWN


_COMPARATORS = {
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}


def compare(value: float | None, comparison: str, threshold: float) -> Status:
    """Compare a possibly-missing value with a knowledge-base threshold.

    Returns unknown when ``value`` is None. ``comparison`` is one of ``<``, ``<=``, ``>``,
    ``>=`` as written in the knowledge base.
    """
    if value is None:
        return Status.UNKNOWN
    try:
        op = _COMPARATORS[comparison]
    except KeyError:
        raise ValueError(
            f"unknown comparison {comparison!r}; use one of {sorted(_COMPARATORS)}"
        ) from None
    return Status.MET if op(value, threshold) else Status.NOT_MET


@dataclass(frozen=True)
class Reason:
    """Why a rule reached its conclusion.

    Attributes
    ----------
    code
        Stable dotted code, e.g. ``trd.trial.duration_short``; messages may change, codes not.
    message
        Plain-language explanation with the values and threshold used.
    fields
        Case-record field paths the reason used (or found missing).
    sources
        Knowledge-base source ids behind the threshold or rule.
    missing
        Field paths whose absence made the result unknown: what to collect next.
    """

    code: str
    message: str
    fields: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready mapping."""
        out: dict[str, Any] = {
            "code": self.code,
            "message": self.message,
            "fields": list(self.fields),
            "sources": list(self.sources),
        }
        if self.missing:
            out["missing"] = list(self.missing)
        return out

    def cited(self) -> str:
        """The message followed by its source ids, for places that want one string."""
        return f"{self.message} [{', '.join(self.sources)}]" if self.sources else self.message


@dataclass(frozen=True, kw_only=True)
class Result:
    """What every rule returns: a conclusion with the reasons behind it.

    Each rule's result type adds its own fields (a status, a score, a level ...) to these.
    ``bool()`` raises, so that no result can be read as yes or no by accident.
    """

    reasons: tuple[Reason, ...] = ()

    def __bool__(self) -> bool:
        raise TypeError(_NO_TRUTH)

    @property
    def missing(self) -> tuple[str, ...]:
        """Every field path whose absence left this result (or part of it) unknown."""
        seen: dict[str, None] = {}
        for r in self.reasons:
            for f in r.missing:
                seen.setdefault(f)
        return tuple(seen)


@dataclass(frozen=True)
class RuleResult(Result):
    """A three-valued rule outcome with its basis.

    ``label`` is the rule's own word for the status (``adequate``, ``failed``, ``ok`` ...).
    """

    rule: str
    status: Status
    label: str
    inputs: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ScoreResult(Result):
    """A score (or stage) counted from what is confirmed, with its components.

    ``complete`` is False when an unknown input could still change the score; ``score`` is
    then the confirmed part and ``possible_max`` the most the unknowns could make it.
    """

    rule: str
    score: float | None
    complete: bool
    components: dict[str, Any] = field(default_factory=dict)
    band: str | None = None
    possible_max: float | None = None
