"""Checks of a case's teaching section: source ids, answer rules and the shape of each answer.

For training with synthetic patients; not a medical device.
"""

from __future__ import annotations

import difflib
from typing import Any

from kdsupport.errors import Problem
from kdsupport.records.messages import show_value
from kdsupport.records.shapes import is_number, items_of

__all__ = ["teaching_problems"]


def teaching_problems(teaching: dict[str, Any], kb: Any) -> list[Problem]:
    """Source ids, answer rules and answer shapes of the teaching material."""
    from kdsupport.records.answers import RULE_OPTIONS, is_known_rule

    out: list[Problem] = []

    def check_sources(ids: Any, where: str) -> None:
        for j, sid in enumerate(ids if isinstance(ids, list) else []):
            if isinstance(sid, str) and sid not in kb.sources:
                close = difflib.get_close_matches(sid, list(kb.sources), n=2, cutoff=0.6)
                hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
                out.append(
                    Problem(f"{where}[{j}]", f"unknown knowledge-base source id {sid!r}{hint}")
                )

    for i, point in items_of(teaching, "teaching_points"):
        check_sources(point.get("sources"), f"teaching.teaching_points[{i}].sources")
    choices = {
        "definition": kb.trd.definitions,
        "madrs_remission": kb.scales.outcome.remission["madrs"].definitions,
        "jurisdiction": kb.session_day.schedule.jurisdictions,
        "infusion_bp": kb.session_day.infusion_bp.definitions,
    }
    for i, q in items_of(teaching, "questions"):
        where = f"teaching.questions[{i}]"
        check_sources(q.get("sources"), f"{where}.sources")
        rule = q.get("answer_rule")
        if isinstance(rule, str) and not is_known_rule(rule):
            out.append(Problem(f"{where}.answer_rule", f"unknown answer rule {rule!r}"))
        opts = q.get("rule_options") or {}
        if isinstance(opts, dict):
            for key, value in opts.items():
                allowed = choices.get(key) if key in RULE_OPTIONS else None
                if allowed is None:
                    out.append(
                        Problem(
                            f"{where}.rule_options.{key}",
                            f"unknown option; allowed: {', '.join(RULE_OPTIONS)}",
                        )
                    )
                elif value not in allowed:
                    out.append(
                        Problem(
                            f"{where}.rule_options.{key}",
                            f"must be one of {', '.join(sorted(allowed))}, got {show_value(value)}",
                        )
                    )
        kind = q.get("kind")
        answer: Any = q.get("answer")  # unvalidated case data: any YAML value, checked below
        values: list[Any] = [o.get("value") for o in q.get("options") or [] if isinstance(o, dict)]
        if kind in ("single", "multiple"):
            if not values:
                out.append(Problem(f"{where}.options", f"a {kind}-choice question needs options"))
            given = [answer] if kind == "single" else answer
            if kind == "single" and not isinstance(answer, str):
                out.append(
                    Problem(
                        f"{where}.answer", f"must be one option value, got {show_value(answer)}"
                    )
                )
            elif kind == "multiple" and not isinstance(answer, list):
                out.append(
                    Problem(
                        f"{where}.answer",
                        f"must be a list of option values, got {show_value(answer)}",
                    )
                )
            elif values:
                for a in given:
                    if a not in values:
                        out.append(
                            Problem(
                                f"{where}.answer",
                                f"{show_value(a)} is not one of the options ({', '.join(values)})",
                            )
                        )
        elif kind == "numeric" and not is_number(answer):
            out.append(
                Problem(
                    f"{where}.answer",
                    f"a numeric question needs a number, got {show_value(answer)}",
                )
            )
    return out
