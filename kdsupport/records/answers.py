"""Correct answers of walkthrough questions, derived from an assessment.

A question names an ``answer_rule``: either a path into the assessment JSON
(``trd.status``, ``staging.msm.score``, ``sessions[1].checks.observed_2h``) or one of the
derived rules below (``trd.adequate_trials``, ``modalities.contraindicated`` ...). The answer is
always computed from :func:`kdsupport.rules.assess.assess`, so an answer key can never drift from
the rules. Yes/no results are given as ``"yes"`` / ``"no"`` / ``"unknown"``.

For training with synthetic patients; not a medical device.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

__all__ = ["answer_for", "DERIVED_RULES", "SESSION_RULE_CHECKS", "is_known_rule", "resolve"]

_TOKEN = re.compile(r"([^.\[\]]+)|\[(\*|\d+)\]")


def resolve(obj: Any, path: str) -> Any:
    """Follow a path such as ``a.b[0].c`` or ``a[*].c`` through nested JSON."""
    tokens = _TOKEN.findall(path)
    if not tokens:
        raise KeyError(f"{path!r} is not a path")
    return _walk(obj, tokens, path)


def _walk(obj: Any, tokens: list[tuple[str, str]], path: str) -> Any:
    if not tokens:
        return obj
    (name, idx), rest = tokens[0], tokens[1:]
    try:
        if name:
            return _walk(obj[name], rest, path)
        if idx == "*":
            return [_walk(x, rest, path) for x in obj]
        return _walk(obj[int(idx)], rest, path)
    except (KeyError, IndexError, TypeError):
        raise KeyError(f"{path!r} is not in the assessment") from None


def _drugs(a: dict[str, Any], adequacy: str | None = None, outcome: str | None = None) -> list[str]:
    out: dict[str, None] = {}
    for t in a["trd"]["trials"]:
        if (adequacy is None or t["adequacy"] == adequacy) and (
            outcome is None or t["outcome"] == outcome
        ):
            out.setdefault(t["drug"])
    return sorted(out)


def _modalities(a: dict[str, Any], status: str) -> list[str]:
    return sorted(m for m, v in a["modalities"].items() if v["status"] == status)


def _sessions_where(check: str, status: str) -> Callable[[dict[str, Any]], list[str]]:
    def rule(a: dict[str, Any]) -> list[str]:
        return [str(s["number"]) for s in a["sessions"] if s["checks"][check] == status]

    return rule


# The session check behind each derived session rule (its reasons are the feedback's basis).
SESSION_RULE_CHECKS: dict[str, str] = {
    "sessions.bp_rise": "bp_rise",
    "sessions.bp_severe": "bp_severe",
    "sessions.desaturation": "desaturation",
    "sessions.deep_sedation": "deep_sedation",
    "sessions.loss_of_consciousness": "loss_of_consciousness",
    "sessions.bp_not_acceptable_at_discharge": "bp_acceptable_at_discharge",
    "sessions.dissociation_not_resolved": "dissociation_resolved",
    "sessions.not_observed_2h": "observed_2h",
    "sessions.no_predischarge_bp": "bp_predischarge",
    "sessions.sedation_not_resolved": "sedation_resolved",
    "sessions.predose_above_guide": "predose_bp",
}

DERIVED_RULES: dict[str, Callable[[dict[str, Any]], Any]] = {
    "trd.adequate_trials": lambda a: _drugs(a, adequacy="adequate"),
    "trd.not_adequate_trials": lambda a: _drugs(a, adequacy="not_adequate"),
    # any drug with a failed adequate trial, augmentation agents included
    "trd.failed_adequate_trials": lambda a: _drugs(a, outcome="failed"),
    "trd.failed_antidepressants": lambda a: sorted(a["trd"]["failed_drugs"]),
    "modalities.contraindicated": lambda a: _modalities(a, "contraindicated"),
    "modalities.not_recommended": lambda a: _modalities(a, "not_recommended"),
    "modalities.caution": lambda a: _modalities(a, "caution"),
    "modalities.incomplete": lambda a: _modalities(a, "incomplete"),
    "modalities.clear": lambda a: _modalities(a, "clear"),
    "sessions.bp_rise": _sessions_where("bp_rise", "met"),
    "sessions.bp_severe": _sessions_where("bp_severe", "met"),
    "sessions.desaturation": _sessions_where("desaturation", "met"),
    "sessions.deep_sedation": _sessions_where("deep_sedation", "met"),
    "sessions.loss_of_consciousness": _sessions_where("loss_of_consciousness", "met"),
    "sessions.bp_not_acceptable_at_discharge": _sessions_where(
        "bp_acceptable_at_discharge", "not_met"
    ),
    "sessions.dissociation_not_resolved": _sessions_where("dissociation_resolved", "not_met"),
    "sessions.not_observed_2h": _sessions_where("observed_2h", "not_met"),
    "sessions.no_predischarge_bp": _sessions_where("bp_predischarge", "not_met"),
    "sessions.sedation_not_resolved": _sessions_where("sedation_resolved", "not_met"),
    "sessions.predose_above_guide": _sessions_where("predose_bp", "not_met"),
    "alerts.codes": lambda a: sorted(x["code"] for x in a["alerts"]),
    "predose_bp.reason_codes": lambda a: sorted(r["code"] for r in a["predose_bp"]["reasons"]),
    "unknowns.fields": lambda a: [u["field"] for u in a["unknowns"]],
}


def _normalise(value: Any) -> Any:
    if value is True:
        return "yes"
    if value is False:
        return "no"
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def answer_for(assessment: dict[str, Any], rule: str) -> Any:
    """The correct answer to a question with ``answer_rule`` ``rule``."""
    if rule in DERIVED_RULES:
        return _normalise(DERIVED_RULES[rule](assessment))
    value = resolve(assessment, rule)
    return "unknown" if value is None else _normalise(value)


def is_known_rule(rule: str, assessment: dict[str, Any] | None = None) -> bool:
    """Whether ``rule`` names a derived rule or a path present in ``assessment``."""
    if rule in DERIVED_RULES:
        return True
    if assessment is None:
        return bool(_TOKEN.findall(rule))
    try:
        resolve(assessment, rule)
    except KeyError:
        return False
    return True
