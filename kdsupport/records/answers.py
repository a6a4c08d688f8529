"""Correct answers of walkthrough questions, derived from an assessment.

A question names an ``answer_rule``: either a path into the assessment JSON
(``trd.status``, ``staging.msm.score``, ``sessions[1].checks.observed_2h``) or one of the
derived rules below (``trd.adequate_trials``, ``modalities.contraindicated`` ...). The answer is
always computed from :func:`kdsupport.rules.assess.assess`, so an answer key can never drift from
the rules. Yes/no results are given as ``"yes"`` / ``"no"`` / ``"unknown"``.

:func:`vocabulary_markdown` renders this vocabulary for authors (``docs/authoring.md``, rebuilt
by ``docs/build_docs.py``): each derived rule's docstring says what it answers, then, in a
paragraph starting ``Answer:``, the form of the answer.

For training with synthetic patients; not a medical device.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

__all__ = [
    "answer_for",
    "COMMON_PATHS",
    "DERIVED_RULES",
    "PATH_FORMS",
    "SESSION_RULE_CHECKS",
    "is_known_rule",
    "resolve",
    "vocabulary_markdown",
]

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


def _adequate_trials(a: dict[str, Any]) -> list[str]:
    """Drugs with at least one trial judged adequate, augmentation agents included.

    Adequacy follows the TRD definition the question selects (``rule_options``).

    Answer: a list of generic drug names as the record spells them (``sertraline``), sorted,
    each drug once; empty when there is none. Ask it as a ``multiple`` question whose option
    values are drug names.
    """
    return _drugs(a, adequacy="adequate")


def _not_adequate_trials(a: dict[str, Any]) -> list[str]:
    """Drugs with at least one trial judged not adequate, augmentation agents included.

    A trial is not adequate as soon as one criterion clearly fails: a previous episode, a dose
    or a duration below the definition's minimum, or adherence recorded as inadequate.

    Answer: a list of generic drug names (``sertraline``), sorted, each drug once; empty when
    there is none. Ask it as a ``multiple`` question whose option values are drug names.
    """
    return _drugs(a, adequacy="not_adequate")


def _failed_adequate_trials(a: dict[str, Any]) -> list[str]:
    """Drugs with at least one failed adequate trial, augmentation agents included.

    Unlike ``trd.failed_antidepressants``, this list also names augmentation agents and drugs
    given in the augmentation role, which never count toward TRD.

    Answer: a list of generic drug names (``sertraline``), sorted, each drug once; empty when
    there is none. Ask it as a ``multiple`` question whose option values are drug names.
    """
    return _drugs(a, outcome="failed")


def _failed_antidepressants(a: dict[str, Any]) -> list[str]:
    """The antidepressants that count toward TRD (the assessment's ``trd.failed_drugs``).

    Distinct antidepressant drugs with a failed adequate trial in the role ``monotherapy`` or
    ``combination``; their number is ``trd.failed_adequate_antidepressants``.

    Answer: a list of generic drug names (``sertraline``), sorted; empty when there is none.
    Ask it as a ``multiple`` question whose option values are drug names.
    """
    return sorted(a["trd"]["failed_drugs"])


def _contraindicated(a: dict[str, Any]) -> list[str]:
    """Ways of giving ketamine whose screening status is ``contraindicated``.

    Answer: a sorted list from ``at_home_ketamine``, ``esketamine_nasal`` and ``iv_ketamine``;
    empty when there is none. Ask it as a ``multiple`` question with one option per way.
    """
    return _modalities(a, "contraindicated")


def _not_recommended(a: dict[str, Any]) -> list[str]:
    """Ways of giving ketamine whose screening status is ``not_recommended``.

    Answer: a sorted list from ``at_home_ketamine``, ``esketamine_nasal`` and ``iv_ketamine``;
    empty when there is none. Ask it as a ``multiple`` question with one option per way.
    """
    return _modalities(a, "not_recommended")


def _caution(a: dict[str, Any]) -> list[str]:
    """Ways of giving ketamine whose screening status is ``caution`` (a warning item present).

    Answer: a sorted list from ``at_home_ketamine``, ``esketamine_nasal`` and ``iv_ketamine``;
    empty when there is none. Ask it as a ``multiple`` question with one option per way.
    """
    return _modalities(a, "caution")


def _incomplete(a: dict[str, Any]) -> list[str]:
    """Ways of giving ketamine whose screening status is ``incomplete`` (an item not assessed).

    Answer: a sorted list from ``at_home_ketamine``, ``esketamine_nasal`` and ``iv_ketamine``;
    empty when there is none. Ask it as a ``multiple`` question with one option per way.
    """
    return _modalities(a, "incomplete")


def _clear(a: dict[str, Any]) -> list[str]:
    """Ways of giving ketamine whose screening status is ``clear``.

    Answer: a sorted list from ``at_home_ketamine``, ``esketamine_nasal`` and ``iv_ketamine``;
    empty when there is none. Ask it as a ``multiple`` question with one option per way.
    """
    return _modalities(a, "clear")


_SESSION_ANSWER = (
    'Answer: a list of session numbers as text (``"1"``, ``"5"``), in record order; empty '
    "when there is none. A session where the check is unknown (a value it needs was not "
    "recorded) is not listed. Ask it as a ``multiple`` question with one option per session, "
    "whose values are the session numbers."
)


def _sessions_where(check: str, status: str, what: str) -> Callable[[dict[str, Any]], list[str]]:
    """A derived rule: the sessions whose ``check`` is ``status``; ``what`` says what it asks."""

    def rule(a: dict[str, Any]) -> list[str]:
        return [str(s["number"]) for s in a["sessions"] if s["checks"][check] == status]

    # The vocabulary (``vocabulary_markdown``) reads what a rule answers from its docstring.
    rule.__doc__ = f"{what}\n\nSession check: ``{check}`` is ``{status}``.\n\n{_SESSION_ANSWER}"
    rule.__name__ = rule.__qualname__ = f"sessions_where_{check}_{status}"
    return rule


def _alert_codes(a: dict[str, Any]) -> list[str]:
    """The alerts that every page shows before anything else.

    Answer: a sorted list of alert codes, from ``predose_bp_severe`` (a pre-dose reading in the
    severe range) and ``urgent_suicide_evaluation`` (the C-SSRS action is urgent evaluation);
    empty when there is no alert. Ask it as a ``multiple`` question.
    """
    return sorted(x["code"] for x in a["alerts"])


def _predose_reason_codes(a: dict[str, Any]) -> list[str]:
    """The reason codes of the pre-dose blood-pressure rule.

    Answer: a sorted list from ``bp.predose.within_guide``, ``bp.predose.above_guide``,
    ``bp.predose.severe``, ``bp.predose.unknown`` (one of these four, the tier) and
    ``predose_bp.screening_mismatch`` (a reading above the guide although screening recorded no
    uncontrolled hypertension). Ask it as a ``multiple`` question.
    """
    return sorted(r["code"] for r in a["predose_bp"]["reasons"])


def _unknown_fields(a: dict[str, Any]) -> list[str]:
    """The record fields whose absence leaves a conclusion unknown: what to collect next.

    Answer: a list of record field paths (``trials[1].weeks``, ``screening.cns_depressant_use``)
    in the order the rules first needed them; empty when nothing needed is missing. Ask it as a
    ``multiple`` question whose option values are field paths.
    """
    return [u["field"] for u in a["unknowns"]]


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
    "trd.adequate_trials": _adequate_trials,
    "trd.not_adequate_trials": _not_adequate_trials,
    # any drug with a failed adequate trial, augmentation agents included
    "trd.failed_adequate_trials": _failed_adequate_trials,
    "trd.failed_antidepressants": _failed_antidepressants,
    "modalities.contraindicated": _contraindicated,
    "modalities.not_recommended": _not_recommended,
    "modalities.caution": _caution,
    "modalities.incomplete": _incomplete,
    "modalities.clear": _clear,
    "sessions.bp_rise": _sessions_where(
        "bp_rise",
        "met",
        "Sessions in which blood pressure rose after dosing by the size the label reports, "
        "above the minute-0 reading (a finding: a hazard happened).",
    ),
    "sessions.bp_severe": _sessions_where(
        "bp_severe",
        "met",
        "Sessions with a reading in the severe range (a finding: a hazard happened).",
    ),
    "sessions.desaturation": _sessions_where(
        "desaturation",
        "met",
        "Sessions with an SpO2 value below the desaturation threshold (a finding: a hazard "
        "happened).",
    ),
    "sessions.deep_sedation": _sessions_where(
        "deep_sedation",
        "met",
        "Sessions with a MOAA/S score in the deep-sedation range (a finding: a hazard happened).",
    ),
    "sessions.loss_of_consciousness": _sessions_where(
        "loss_of_consciousness",
        "met",
        "Sessions with a MOAA/S score meaning loss of consciousness (a finding: a hazard "
        "happened).",
    ),
    "sessions.bp_not_acceptable_at_discharge": _sessions_where(
        "bp_acceptable_at_discharge",
        "not_met",
        "Sessions whose last blood-pressure reading before discharge was not acceptable.",
    ),
    "sessions.dissociation_not_resolved": _sessions_where(
        "dissociation_resolved",
        "not_met",
        "Sessions in which the clinician recorded that dissociation had not resolved at "
        "discharge (``dissociation_resolved: false``).",
    ),
    "sessions.not_observed_2h": _sessions_where(
        "observed_2h",
        "not_met",
        "Sessions whose observation time was shorter than the required minimum.",
    ),
    "sessions.no_predischarge_bp": _sessions_where(
        "bp_predischarge",
        "not_met",
        "Sessions with no blood-pressure reading in the window before discharge.",
    ),
    "sessions.sedation_not_resolved": _sessions_where(
        "sedation_resolved",
        "not_met",
        "Sessions whose last MOAA/S score was not the fully alert score.",
    ),
    "sessions.predose_above_guide": _sessions_where(
        "predose_bp",
        "not_met",
        "Sessions whose minute-0 blood pressure was above the pre-dose guide.",
    ),
    "alerts.codes": _alert_codes,
    "predose_bp.reason_codes": _predose_reason_codes,
    "unknowns.fields": _unknown_fields,
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


# ---------------------------------------------------------------- the vocabulary for authors
#: The forms of a path into the assessment JSON: (form, example, meaning).
PATH_FORMS: tuple[tuple[str, str, str], ...] = (
    ("name.name", "trd.status", "A key inside a key"),
    (
        "name[N]",
        "sessions[2].checks.predose_bp",
        "Entry N of a list, counted from 0 in record order: ``sessions[2]`` is the third session "
        "of the record, whatever its number, and ``trd.trials[0]`` the first trial",
    ),
    (
        "name[*].name",
        "modalities.esketamine_nasal.findings[*].item",
        "The value from every entry of a list, as a list (ask it as a ``multiple`` question)",
    ),
)

#: The paths authors use most: (path, what it is, the answers it can give). ``N`` stands for an
#: index, ``<way>`` for a way of giving ketamine, ``<model>`` for a staging model and ``<check>``
#: for a session check. A tuple of answers lists every answer the rules can give (a test checks
#: the curated cases against it); a text describes answers that are numbers or names.
COMMON_PATHS: tuple[tuple[str, str, tuple[str, ...] | str], ...] = (
    ("trd.status", "TRD under the selected definition", ("met", "not_met", "unknown")),
    (
        "trd.failed_adequate_antidepressants",
        "How many distinct antidepressants had a failed adequate trial",
        "A whole number",
    ),
    (
        "trd.unknown_trials",
        "How many current-episode antidepressant trials have an unknown outcome",
        "A whole number",
    ),
    (
        "trd.trials[N].adequacy",
        "Whether trial N (from 0, in record order) was adequate",
        ("adequate", "not_adequate", "unknown"),
    ),
    (
        "trd.trials[N].outcome",
        "Whether trial N failed",
        ("failed", "not_failed", "unknown"),
    ),
    (
        "trd.trials[N].counts_toward_trd",
        "Whether trial N can count toward TRD (an antidepressant, not in the augmentation role)",
        ("yes", "no"),
    ),
    ("staging.thase_rush.stage", "The Thase-Rush stage", "A whole number"),
    (
        "staging.mgh_s.score",
        "The MGH-S score",
        "A number, possibly with a half (ask it as a ``numeric`` question)",
    ),
    (
        "staging.msm.score",
        "The Maudsley Staging Method total",
        "A whole number, or ``unknown`` when a component is unknown or no antidepressant failed",
    ),
    (
        "staging.msm.band",
        "The Maudsley band",
        ("mild", "moderate", "severe", "not_applicable", "unknown"),
    ),
    (
        "staging.<model>.complete",
        "Whether the stage or score is final: ``no`` when an unknown trial could change it",
        ("yes", "no"),
    ),
    (
        "scales[N].total",
        "The total of administration N (from 0, in the order of ``assessments``)",
        "A whole number, or ``unknown`` (an item missing, or the C-SSRS screener)",
    ),
    (
        "scales[N].band",
        "The severity band of administration N",
        "The instrument's band name (``moderately_severe``), or ``unknown``",
    ),
    ("outcome.response", "Response from baseline to the latest score", ("yes", "no", "unknown")),
    ("outcome.remission", "Remission at the latest score", ("yes", "no", "unknown")),
    (
        "outcome.reduction_percent",
        "The reduction from baseline, in per cent",
        "A number (ask it as a ``numeric`` question with a ``tolerance``), or ``unknown``",
    ),
    (
        "suicide_risk.level",
        "The C-SSRS triage level",
        ("none", "low", "moderate", "high", "unknown"),
    ),
    (
        "suicide_risk.action",
        "The action that goes with the level",
        ("routine", "clinician_review", "urgent_evaluation", "complete_screening"),
    ),
    (
        "predose_bp.status",
        "The pre-dose blood-pressure tier",
        ("ok", "consider_delay", "severe", "unknown"),
    ),
    (
        "modalities.<way>.status",
        "The screening status of one way of giving ketamine",
        ("contraindicated", "incomplete", "not_recommended", "caution", "clear"),
    ),
    (
        "modalities.<way>.findings[*].item",
        "The screening items present or not assessed for that way",
        "A list of item names (``cns_depressant_use``)",
    ),
    (
        "sessions[N].checks.<check>",
        "One monitoring check of session N (from 0, in record order)",
        ("met", "not_met", "unknown"),
    ),
)


def _md(text: str) -> str:
    """Docstring text as one line of Markdown for a table cell."""
    text = " ".join(text.split()).replace("``", "`")
    return text.replace("|", "\\|")


def _rule_parts(name: str, rule: Callable[..., Any]) -> tuple[str, str]:
    """What a derived rule answers and the form of its answer, from its docstring."""
    import inspect

    doc = inspect.cleandoc(rule.__doc__ or "")
    paragraphs = [p for p in doc.split("\n\n") if p.strip()]
    answer = [p for p in paragraphs if p.startswith("Answer:")]
    what = [p for p in paragraphs if not p.startswith("Answer:")]
    if not what or len(answer) != 1:
        raise ValueError(
            f"derived rule {name!r} needs a docstring: what it answers, then one paragraph "
            "starting 'Answer:'"
        )
    form = answer[0].removeprefix("Answer:").strip()
    return _md(" ".join(what)), _md(form[:1].upper() + form[1:])


def vocabulary_markdown() -> str:
    """The answer-rule vocabulary as Markdown, for ``docs/authoring.md``.

    Every derived rule with what it answers and the form of its answer (from the rule's
    docstring), the forms of a path into the assessment JSON, the paths used most with their
    possible answers, how a value becomes an answer, and the ``rule_options`` a question may
    set (names and labels from the knowledge base).
    """
    from kdsupport.knowledge import SESSION_CHECKS, load

    kb = load()
    checks = ", ".join(f"`{c}`" for c in SESSION_CHECKS)
    out = [
        "### Derived rules",
        "",
        "A derived rule computes a list from the assessment. Its name is the whole `answer_rule`.",
        "",
        "| Rule | What it answers | Answer |",
        "|---|---|---|",
    ]
    for name, rule in DERIVED_RULES.items():
        what, answer = _rule_parts(name, rule)
        out.append(f"| `{name}` | {what} | {answer} |")
    out += [
        "",
        "### Paths into the assessment",
        "",
        "Any other `answer_rule` is a path into the assessment JSON that `kdsupport assess CASE` "
        "prints (docs/case-record.md §4). The path must exist in this case's assessment.",
        "",
        "| Form | Example | Meaning |",
        "|---|---|---|",
    ]
    out += [f"| `{f}` | `{e}` | {_md(m)} |" for f, e, m in PATH_FORMS]
    out += [
        "",
        "The value at the end of the path becomes the answer: `true` is `yes`, `false` is `no`, "
        "`null` is `unknown`, a whole number written as a decimal (`2.0`) is `2`; text and "
        "lists are used as they are.",
        "",
        "### Paths used most",
        "",
        "`N` stands for an index from 0, `<way>` for `esketamine_nasal`, `iv_ketamine` or "
        "`at_home_ketamine`, `<model>` for `thase_rush`, `mgh_s` or `msm`, and `<check>` for a "
        f"session check: {checks} (docs/case-record.md §4.11).",
        "",
        "| Path | What it is | Answers |",
        "|---|---|---|",
    ]
    for path, what, answers in COMMON_PATHS:
        shown = ", ".join(f"`{a}`" for a in answers) if isinstance(answers, tuple) else _md(answers)
        out.append(f"| `{path}` | {_md(what)} | {shown} |")
    definitions = ", ".join(
        f"`{n}` ({d.label}{', the default' if n == kb.trd.default else ''})"
        for n, d in kb.trd.definitions.items()
    )
    madrs = kb.scales.outcome.remission["madrs"]
    remissions = ", ".join(
        f"`{n}` ({d.label}{', the default' if n == madrs.default else ''})"
        for n, d in madrs.definitions.items()
    )
    out += [
        "",
        "### Rule options",
        "",
        "A question may set `rule_options`; the case is then assessed with them, for that "
        "question only.",
        "",
        "| Option | Values (from the knowledge base) |",
        "|---|---|",
        f"| `definition` (TRD definition) | {_md(definitions)} |",
        f"| `madrs_remission` (MADRS remission cut-off) | {_md(remissions)} |",
        "",
    ]
    return "\n".join(out)
