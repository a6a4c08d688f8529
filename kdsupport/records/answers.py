"""Correct answers of walkthrough questions, derived from an assessment.

A question names an ``answer_rule``: either a path into the assessment JSON
(``trd.status``, ``staging.msm.score``, ``sessions[1].checks.observed_2h``), one of the
derived rules below (``trd.adequate_trials``, ``modalities.contraindicated`` ...) or one of the
derived rules of one session (``sessions[N].check_status.<check>``,
``sessions[N].allowed_doses`` ...: :data:`SESSION_INDEX_RULES`). The answer is
always computed from :func:`kdsupport.rules.assess.assess`, so an answer key can never drift from
the rules. Yes/no results are given as ``"yes"`` / ``"no"`` / ``"unknown"``.

:func:`vocabulary_markdown` renders this vocabulary for authors (``docs/authoring.md``, rebuilt
by ``docs/build_docs.py``): each derived rule's docstring says what it answers, then, in a
paragraph starting ``Answer:``, the form of the answer.

For training with synthetic patients; not a medical device.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any, TypedDict

__all__ = [
    "RULE_OPTIONS",
    "AssessOptions",
    "answer_for",
    "assess_kwargs",
    "COMMON_PATHS",
    "DERIVED_RULES",
    "PATH_FORMS",
    "SESSION_INDEX_RULES",
    "SESSION_RULE_CHECKS",
    "is_known_rule",
    "resolve",
    "session_rule_checks",
    "vocabulary_markdown",
]

_TOKEN = re.compile(r"([^.\[\]]+)|\[(\*|\d+)\]")

#: The options a question may set in ``rule_options``: the case is assessed with them for that
#: question only (:func:`assess_kwargs`). Each takes a name from the knowledge base.
RULE_OPTIONS = ("definition", "madrs_remission", "jurisdiction", "infusion_bp")


class AssessOptions(TypedDict):
    """The keyword arguments of :func:`kdsupport.rules.assess.assess` a question may set."""

    definition: str | None
    madrs_remission: str | None
    jurisdiction: str | None
    infusion_bp: str | None


def assess_kwargs(rule_options: Mapping[str, str] | None) -> AssessOptions:
    """A question's ``rule_options`` as keyword arguments of :func:`kdsupport.rules.assess.assess`.

    Every option of :data:`RULE_OPTIONS`, ``None`` (the knowledge base's default) when unset.
    """
    opts = rule_options or {}
    return AssessOptions(
        definition=opts.get("definition"),
        madrs_remission=opts.get("madrs_remission"),
        jurisdiction=opts.get("jurisdiction"),
        infusion_bp=opts.get("infusion_bp"),
    )


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
        # .get: a check of another modality (or not applicable) is not in the session's checks
        return [str(s["number"]) for s in a["sessions"] if s["checks"].get(check) == status]

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


def _sessions_whose_form(a: dict[str, Any], key: str, value: str) -> list[str]:
    """The sessions whose REMS form entry has ``key`` equal to ``value``."""
    return [str(s["number"]) for s in a["sessions"] if (s.get("rems_form") or {}).get(key) == value]


def _rems_form_required(a: dict[str, Any]) -> list[str]:
    """Sessions whose SPRAVATO REMS Patient Monitoring Form must be completed and submitted.

    Outpatient esketamine sessions (the form's ``required`` is ``yes``). Inpatient sessions and
    IV or at-home ketamine sessions submit none; a session whose setting is not recorded
    (``required`` is ``unknown``) is not listed.

    Answer: a list of session numbers as text (``"1"``, ``"5"``), in record order; empty when
    there is none. Ask it as a ``multiple`` question with one option per session.
    """
    return _sessions_whose_form(a, "required", "yes")


def _rems_form_incomplete(a: dict[str, Any]) -> list[str]:
    """Sessions whose REMS Patient Monitoring Form cannot be submitted yet.

    A field the form requires is not recorded (the form's ``status`` is ``incomplete``; the
    fields are in ``sessions[N].rems_form.missing_fields``). Forms that are not required
    (inpatient settings, IV or at-home ketamine) are not listed.

    Answer: a list of session numbers as text (``"1"``, ``"5"``), in record order; empty when
    every required form is complete. Ask it as a ``multiple`` question with one option per
    session.
    """
    return _sessions_whose_form(a, "status", "incomplete")


# ---------------------------------------------------------------- rules of one session
_SESSION_RULE = re.compile(r"sessions\[(?P<n>\d+)\]\.(?P<name>[a-z_]+)(?:\.(?P<check>[a-z_0-9]+))?")


def _check_status(s: dict[str, Any], check: str | None) -> str:
    """The outcome of one check of session N, session-day checks included.

    ``not_applicable`` when the check does not apply to that session (one device, an
    inpatient, no nasal spray taken that day, no reading during the infusion above the
    threshold). A check of another modality, or a session-day check of a session that records
    no session-day field, is not run: the rule is refused for that session.

    Answer: ``met``, ``not_met``, ``unknown`` or ``not_applicable``. Ask it as a ``single``
    question with those four options (``not_applicable`` labelled "Does not apply").
    """
    if check in s["checks"]:
        return str(s["checks"][check])
    if check in (s.get("not_applicable") or {}):
        return "not_applicable"
    raise KeyError(check)


def _allowed_doses(s: dict[str, Any], _: str | None) -> list[str] | str:
    """The doses the label's schedule allows for esketamine session N.

    From the session's indication, its phase of the course (from the session dates) and,
    under the EU table, the patient's age; under the jurisdiction the question selects
    (``rule_options``).

    Answer: a list of doses in mg as text (``"56"``, ``"84"``), smallest first; empty when the
    schedule gives none (MDSI use beyond 4 weeks); ``["unknown"]`` when the session's place in
    the schedule cannot be told (a date or the indication not recorded). Ask it as a
    ``multiple`` question whose option values are doses (``"28"``, ``"56"``, ``"84"``,
    ``"112"``), with an option ``unknown`` where the place may not be known.
    """
    sched = s.get("schedule")
    if sched is None:
        raise KeyError("schedule")  # not an esketamine session with session-day fields
    doses = sched["allowed_doses_mg"]
    if doses is None:
        return ["unknown"]
    return [str(_normalise(float(d))) for d in sorted(doses)]


def _not_applicable_checks(s: dict[str, Any], _: str | None) -> list[str]:
    """The checks that do not apply to session N, each with its reason in the assessment.

    A check that does not apply (one device, an inpatient, no nasal spray taken, no reading
    during the infusion above the threshold) is never reported as met.

    Answer: a sorted list of check names (``nasal_spray_timing``, ``ride_home_arranged``);
    empty when every check applies. Ask it as a ``multiple`` question whose option values are
    check names.
    """
    return sorted(s.get("not_applicable") or {})


def _problem_checks(s: dict[str, Any], _: str | None) -> list[str]:
    """The checks of session N that found a problem, monitoring and session-day checks alike.

    A compliance check that is not met (a step not done as required) or a finding that is met
    (a hazard happened), as each check's kind says. Checks that are unknown or do not apply are
    not listed: ask about those with ``sessions[N].check_status.<check>``.

    Answer: a sorted list of check names (``fasting_liquid``, ``bp_rise``); empty when no check
    found a problem. Ask it as a ``multiple`` question whose option values are check names.
    """
    kinds = s.get("check_kinds") or {}
    bad = {"compliance": "not_met", "finding": "met"}
    return sorted(n for n, st in s["checks"].items() if bad.get(kinds.get(n, "")) == st)


#: Derived rules of one session: ``sessions[N].NAME`` or ``sessions[N].NAME.<check>``, each
#: computed from the assessment's entry for the session (N from 0, in record order).
SESSION_INDEX_RULES: dict[str, Callable[[dict[str, Any], str | None], Any]] = {
    "check_status": _check_status,
    "allowed_doses": _allowed_doses,
    "not_applicable_checks": _not_applicable_checks,
    "problem_checks": _problem_checks,
}
# the form of each, as the vocabulary shows it
_SESSION_INDEX_FORMS = {
    "check_status": "sessions[N].check_status.<check>",
    "allowed_doses": "sessions[N].allowed_doses",
    "not_applicable_checks": "sessions[N].not_applicable_checks",
    "problem_checks": "sessions[N].problem_checks",
}


def _session_index_rule(rule: str) -> tuple[int, str, str | None] | None:
    """``(N, name, check)`` when ``rule`` names a derived rule of one session, else None."""
    m = _SESSION_RULE.fullmatch(rule)
    if m is None or m["name"] not in SESSION_INDEX_RULES:
        return None
    if (m["name"] == "check_status") != (m["check"] is not None):
        return None
    return int(m["n"]), m["name"], m["check"]


def _answer_one_session(a: dict[str, Any], n: int, name: str, check: str | None) -> Any:
    try:
        session = a["sessions"][n]
        return SESSION_INDEX_RULES[name](session, check)
    except (KeyError, IndexError, TypeError):
        raise KeyError(f"sessions[{n}].{name} is not in the assessment") from None


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
    "sessions.dose_off_schedule": "dose_fits_schedule",
    "sessions.too_many_in_week": "frequency_fits_schedule",
    "sessions.fasting_food_short": "fasting_food",
    "sessions.fasting_liquid_short": "fasting_liquid",
    "sessions.nasal_spray_too_close": "nasal_spray_timing",
    "sessions.rest_between_devices_short": "rest_between_devices",
    "sessions.no_prescriber_on_site": "prescriber_on_site",
    "sessions.no_ride_home": "ride_home_arranged",
    "sessions.discharged_before_ready": "ready_before_discharge",
    "sessions.rems_form_late": "rems_form_submitted",
    "sessions.interacting_medication": "concomitant_interacting",
    "sessions.infusion_not_paused": "infusion_bp_response",
    "sessions.rems_form_required": "rems_form_submitted",
    "sessions.rems_form_incomplete": "rems_form_submitted",
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
    "sessions.dose_off_schedule": _sessions_where(
        "dose_fits_schedule",
        "not_met",
        "Esketamine sessions whose dose is not one the label's schedule allows for the "
        "indication, the phase of the course and (EU table) the patient's age; under the "
        "jurisdiction the question selects (``rule_options``).",
    ),
    "sessions.too_many_in_week": _sessions_where(
        "frequency_fits_schedule",
        "not_met",
        "Esketamine sessions that are one more than their course week allows (twice weekly in "
        "induction, once weekly after; none once the suicidal-ideation indication's course has "
        "ended).",
    ),
    "sessions.fasting_food_short": _sessions_where(
        "fasting_food",
        "not_met",
        "Esketamine sessions in which the patient had eaten less than the label's minimum time "
        "before dosing.",
    ),
    "sessions.fasting_liquid_short": _sessions_where(
        "fasting_liquid",
        "not_met",
        "Esketamine sessions in which the patient had drunk less than the label's minimum time "
        "before dosing.",
    ),
    "sessions.nasal_spray_too_close": _sessions_where(
        "nasal_spray_timing",
        "not_met",
        "Esketamine sessions in which a nasal corticosteroid or decongestant was taken less "
        "than the minimum time before dosing (sessions where none was taken are not listed: "
        "the check does not apply).",
    ),
    "sessions.rest_between_devices_short": _sessions_where(
        "rest_between_devices",
        "not_met",
        "Esketamine sessions with two or more devices whose rest between devices was shorter "
        "than the label's.",
    ),
    "sessions.no_prescriber_on_site": _sessions_where(
        "prescriber_on_site",
        "not_met",
        "Esketamine sessions recorded with no prescriber on site during administration and "
        "monitoring.",
    ),
    "sessions.no_ride_home": _sessions_where(
        "ride_home_arranged",
        "not_met",
        "Outpatient esketamine sessions recorded with no ride home arranged (no driving until "
        "the next day after a restful sleep).",
    ),
    "sessions.discharged_before_ready": _sessions_where(
        "ready_before_discharge",
        "not_met",
        "Esketamine sessions whose observation ended before the minute the patient was ready "
        "to leave (the REMS evaluation question).",
    ),
    "sessions.rems_form_late": _sessions_where(
        "rems_form_submitted",
        "not_met",
        "Outpatient esketamine sessions whose REMS Patient Monitoring Form was submitted after "
        "the deadline.",
    ),
    "sessions.interacting_medication": _sessions_where(
        "concomitant_interacting",
        "met",
        "Esketamine sessions in which the patient took a drug the REMS form asks about "
        "(benzodiazepine, non-benzodiazepine hypnotic, psychostimulant, MAOI) (a finding: "
        "monitor more closely).",
    ),
    "sessions.infusion_not_paused": _sessions_where(
        "infusion_bp_response",
        "not_met",
        "IV ketamine sessions with a reading during the infusion above the site threshold and "
        "a record that the infusion was neither paused nor slowed; under the threshold the "
        "question selects (``rule_options``).",
    ),
    "sessions.rems_form_required": _rems_form_required,
    "sessions.rems_form_incomplete": _rems_form_incomplete,
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
    one = _session_index_rule(rule)
    if one is not None:
        return _normalise(_answer_one_session(assessment, *one))
    value = resolve(assessment, rule)
    return "unknown" if value is None else _normalise(value)


def is_known_rule(rule: str, assessment: dict[str, Any] | None = None) -> bool:
    """Whether ``rule`` names a derived rule or a path present in ``assessment``."""
    if rule in DERIVED_RULES:
        return True
    if assessment is None:
        return bool(_TOKEN.findall(rule))
    try:
        answer_for(assessment, rule)
    except KeyError:
        return False
    return True


def session_rule_checks(rule: str) -> tuple[str, ...]:
    """The session checks whose reasons explain the answer to a ``sessions`` rule.

    A derived rule's own check (:data:`SESSION_RULE_CHECKS`), the check a
    ``sessions[N].check_status.<check>`` or ``sessions[N].checks.<check>`` names, the schedule
    checks behind ``sessions[N].allowed_doses`` and ``sessions[N].schedule...``, the REMS form
    check behind ``sessions[N].rems_form...``; otherwise the rule's last name.
    """
    if rule in SESSION_RULE_CHECKS:
        return (SESSION_RULE_CHECKS[rule],)
    one = _session_index_rule(rule)
    if one is not None:
        _, name, check = one
        if name == "allowed_doses":
            return ("dose_fits_schedule",)
        if check is None:  # a list over the session's checks: every check's reasons
            from kdsupport.knowledge import SESSION_CHECKS
            from kdsupport.knowledge.models.session_day import SESSION_DAY_CHECKS

            return (*SESSION_CHECKS, *SESSION_DAY_CHECKS)
        return (check,)
    m = re.match(r"sessions\[\d+\]\.(?P<name>[a-z_]+)\.", rule)
    part = m["name"] if m else None
    if part == "schedule":
        return ("dose_fits_schedule", "frequency_fits_schedule")
    if part == "rems_form":
        return ("rems_form_submitted",)
    return (rule.rsplit(".", 1)[-1],)


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
        "One check of session N (from 0, in record order): a monitoring check, or a session-day "
        "check of a session that records session-day fields; a check that does not apply is "
        "not here (ask ``sessions[N].check_status.<check>``)",
        ("met", "not_met", "unknown"),
    ),
    (
        "sessions[N].schedule.course_week",
        "The course week of esketamine session N, counted from day 1 (the record's first "
        "session of the indication)",
        "A whole number (ask it as a ``numeric`` question), or ``unknown`` when a date or the "
        "indication is not recorded",
    ),
    (
        "sessions[N].schedule.phase",
        "The phase of the label's schedule esketamine session N falls in",
        ("day_1", "induction", "maintenance_weekly", "maintenance", "beyond_evaluated", "unknown"),
    ),
    (
        "sessions[N].rems_form.required",
        "Whether session N needs a REMS Patient Monitoring Form (outpatient esketamine sessions)",
        ("yes", "no", "unknown"),
    ),
    (
        "sessions[N].rems_form.status",
        "Whether session N's REMS Patient Monitoring Form can be submitted",
        ("complete", "incomplete", "not_required", "not_applicable"),
    ),
    (
        "sessions[N].rems_form.missing_fields",
        "The required fields of session N's REMS Patient Monitoring Form that the record does not "
        "answer",
        "A list of form field ids in the form's order (``device_lot``, ``ready_to_leave``); "
        "empty when the form is complete (ask it as a ``multiple`` question)",
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
    from kdsupport.knowledge.models.session_day import SESSION_DAY_CHECKS

    kb = load()
    checks = ", ".join(f"`{c}`" for c in SESSION_CHECKS)
    day_checks = ", ".join(f"`{c}`" for c in SESSION_DAY_CHECKS)
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
        "### Derived rules of one session",
        "",
        "A rule of one session names the session by its index `N` (from 0, in record order) and "
        "is computed from that session's entry in the assessment.",
        "",
        "| Rule | What it answers | Answer |",
        "|---|---|---|",
    ]
    for name, one_rule in SESSION_INDEX_RULES.items():
        what, answer = _rule_parts(name, one_rule)
        out.append(f"| `{_SESSION_INDEX_FORMS[name]}` | {what} | {answer} |")
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
        f"session check: a monitoring check ({checks}) or a session-day check ({day_checks}) "
        "(docs/case-record.md §4.11; docs/case-record.md §3.8).",
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
    sched = kb.session_day.schedule
    jurisdictions = ", ".join(
        f"`{n}` ({j.label}{', the default' if n == sched.default_jurisdiction else ''})"
        for n, j in sched.jurisdictions.items()
    )
    ib = kb.session_day.infusion_bp
    infusions = ", ".join(
        f"`{n}` ({d.label}{', the default' if n == ib.default else ''})"
        for n, d in ib.definitions.items()
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
        f"| `jurisdiction` (esketamine dosing table) | {_md(jurisdictions)} |",
        f"| `infusion_bp` (IV infusion BP threshold) | {_md(infusions)} |",
        "",
    ]
    return "\n".join(out)
