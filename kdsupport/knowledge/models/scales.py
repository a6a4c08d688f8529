"""Rating scales, response and remission, and the C-SSRS with its escalation.

For training with synthetic patients; not a medical device.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from kdsupport.knowledge.models.common import Code, KBModel, Refs
from kdsupport.knowledge.models.staging import BandTable

__all__ = [
    "ItemSpec",
    "TotalSpec",
    "Flag",
    "Domain",
    "Instrument",
    "Cutoff",
    "RemissionSet",
    "Response",
    "Outcome",
    "ScalesFile",
    "Question",
    "SkipRule",
    "Tier",
    "Escalation",
    "CSSRS",
    "SuicideFile",
]


# ------------------------------------------------------------------ scales
class ItemSpec(KBModel):
    count: int
    min: int
    max: int
    source: Refs


class TotalSpec(KBModel):
    min: int
    max: int
    source: Refs


class Flag(KBModel):
    code: str
    item: int
    min: int
    max: int
    message: str
    source: Refs


class Domain(KBModel):
    name: str
    items: list[int]


class Instrument(KBModel):
    title: str
    rater: Literal["self-report", "clinician"]
    scoring: Literal["sum", "domain_max_sum", "none"]
    items: ItemSpec | None
    total: TotalSpec | None
    domains: list[Domain] | None = None
    domains_source: Refs | None = None
    bands: BandTable | None
    bands_note: str | None = None
    flags: list[Flag] = []
    codes: list[Code] = []
    source: Refs

    def total_from_items(self, items: Sequence[int | None]) -> int | None:
        """The total of this instrument's item scores; None if any item is null (no proration).

        ``domain_max_sum`` instruments (for example the MSM's domains) add the highest item of
        each domain; ``none`` instruments have no total.
        """
        if self.scoring == "none" or any(v is None for v in items):
            return None
        values = [int(v) for v in items if v is not None]
        if self.scoring == "domain_max_sum":
            return sum(max(values[i - 1] for i in dom.items) for dom in self.domains or ())
        return sum(values)


class Cutoff(KBModel):
    label: str | None = None  # for a named remission definition: whose definition, in words
    comparison: Literal["<=", "<"]
    value: float
    source: Refs


class RemissionSet(KBModel):
    default: str
    definitions: dict[str, Cutoff]


class Response(KBModel):
    min_reduction_percent: float
    source: Refs


class Outcome(KBModel):
    instrument_priority: list[str]
    instrument_priority_source: Refs
    response: Response
    remission: dict[str, RemissionSet]


class ScalesFile(KBModel):
    instruments: dict[str, Instrument]
    outcome: Outcome


# ------------------------------------------------------------------ suicide risk
class Question(KBModel):
    key: str
    number: int
    text: str


class SkipRule(KBModel):
    when_no: str
    skipped: list[str]
    source: Refs


class Tier(KBModel):
    level: str
    any_of: list[str]
    source: Refs


class Escalation(KBModel):
    from_level: str
    instrument: str
    flag: str
    to_action: str
    unknown_item_counts_positive: bool
    source: Refs


class CSSRS(KBModel):
    questions: list[Question]
    questions_source: Refs
    skip_rule: SkipRule
    behavior_rule: SkipRule
    tiers: list[Tier]
    none_level: str
    actions: dict[str, str]
    actions_source: Refs
    action_descriptions: dict[str, str]
    phq9_item9_escalation: Escalation


class SuicideFile(KBModel):
    cssrs_screener: CSSRS
