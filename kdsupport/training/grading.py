"""Grade a trainee's answer against the rules, at check time.

The correct answer is never read from the case file when grading: :func:`grade` assesses the
record (with the question's ``rule_options``) and derives the answer with
:func:`kdsupport.records.answers.answer_for`, so the answer key cannot leak before the
trainee answers and cannot drift from the rules. Feedback carries the case author's rationale,
the rule's own reasons and the sources behind them with their verification status.

For training with synthetic patients; not a medical device.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from kdsupport.records.answers import answer_for, assess_kwargs
from kdsupport.rules.result import Reason

if TYPE_CHECKING:
    from kdsupport.records.case import CaseRecord, Question
    from kdsupport.rules.assessment import Assessment

#: The staging models an answer rule may name (``staging.<model>...``).
STAGING_MODELS = ("thase_rush", "mgh_s", "msm")

__all__ = ["Feedback", "grade", "normalise_answer", "reasons_for_rule", "option_label"]


@dataclass(frozen=True)
class Feedback:
    """The result of checking one answer."""

    question_id: str
    correct: bool
    given: Any
    expected: Any
    rationale: str
    reasons: tuple[Reason, ...] = ()
    sources: list[dict[str, Any]] = field(default_factory=list)
    kb_version: str = ""


def normalise_answer(question: Question, given: Any) -> Any:
    """The form answers are compared in: a string, a sorted list, or a float."""
    if question.kind == "multiple":
        items = [] if given is None else ([given] if isinstance(given, str) else list(given))
        return sorted(str(x) for x in items)
    if question.kind == "numeric":
        if given is None or given == "":
            return None
        try:
            value = float(given)
        except (TypeError, ValueError):
            return None
        return value if math.isfinite(value) else None
    return None if given is None else str(given)


def _matches(question: Question, given: Any, expected: Any) -> bool:
    if given is None:
        return False
    if question.kind == "numeric":
        if not isinstance(expected, (int, float)):
            return False
        return abs(given - float(expected)) <= (question.tolerance or 0) + 1e-9
    if question.kind == "multiple":
        return given == sorted(str(x) for x in expected)
    return given == expected


def _prefixed(prefix: str, reasons: Iterable[Reason]) -> list[Reason]:
    return [replace(r, message=f"{prefix}: {r.message}") for r in reasons]


def reasons_for_rule(assessment: Assessment, rule: str) -> list[Reason]:
    """The rule's own reasons behind the value a question asks about."""
    from kdsupport.knowledge.wording import check_title, modality_label

    a = assessment
    head = rule.split(".")[0].split("[")[0]
    if head == "trd":
        out = list(a.trd.reasons)
        for t in a.trd.trials:
            out += _prefixed(f"trial {t.index + 1} ({t.drug})", t.reasons)
        return out
    if head == "staging":
        model = rule.split(".")[1] if "." in rule else "thase_rush"
        score = getattr(a.staging, model, None) if model in STAGING_MODELS else None
        return list(score.reasons) if score is not None else []
    if head == "modalities":
        out = []
        for name, mod in a.modalities.items():
            if rule.startswith(f"modalities.{name}") or rule.count(".") == 1:
                out += _prefixed(modality_label(name), mod.reasons)
        return out
    if head == "suicide_risk":
        return list(a.suicide_risk.reasons)
    if head == "predose_bp":
        return list(a.predose_bp.reasons)
    if head == "outcome":
        return list(a.outcome.reasons) if a.outcome is not None else []
    if head == "sessions":
        from kdsupport.records.answers import session_rule_checks

        wanted = session_rule_checks(rule)
        one = re.match(r"sessions\[(\d+)\]", rule)
        sessions = a.sessions if one is None else a.sessions[int(one.group(1)) :][:1]
        out = []
        for s in sessions:
            # a check that does not apply has one reason, saying why
            given = [*s.details.items(), *((n, (r,)) for n, r in s.not_applicable.items())]
            for check, rs in given:
                if check in wanted:
                    out += _prefixed(f"session {s.number}, {check_title(check)}", rs)
        return out
    if head == "scales":
        return [r for sc in a.scales for r in sc.reasons]
    return []


def option_label(question: Question, value: Any) -> str:
    """What a trainee reads for an answer value."""
    if isinstance(value, list):
        return ", ".join(option_label(question, v) for v in value) or "(none)"
    for o in question.options or ():
        if o.value == value:
            return o.label
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return (
        "no answer" if value is None else f"{value}{(' ' + question.unit) if question.unit else ''}"
    )


def grade(
    record: CaseRecord, question: Question, given: Any, *, assessment: Assessment | None = None
) -> Feedback:
    """Check ``given`` against the rules' answer to ``question`` on ``record``."""
    from kdsupport.rules.assess import assess

    a = (
        assessment
        if assessment is not None
        else assess(record, **assess_kwargs(question.rule_options))
    )
    # answer rules are paths into the assessment's JSON (docs/authoring.md)
    expected = answer_for(a.to_json(), question.answer_rule)
    norm = normalise_answer(question, given)
    reasons = reasons_for_rule(a, question.answer_rule)
    cited: dict[str, None] = dict.fromkeys(question.sources)
    for r in reasons:
        for sid in r.sources:
            cited.setdefault(sid)
    sources = [{"id": sid, **a.sources.get(sid, _source_entry(sid))} for sid in cited]
    return Feedback(
        question_id=question.id,
        correct=_matches(question, norm, expected),
        given=norm,
        expected=expected,
        rationale=question.rationale,
        reasons=tuple(reasons),
        sources=sources,
        kb_version=a.kb_version,
    )


def _source_entry(sid: str) -> dict[str, Any]:
    from kdsupport.knowledge import load

    kb = load()
    if sid not in kb.sources:
        return {"citation": sid, "verification": "unverified", "kind": "unknown"}
    return kb.source_entry(sid)
