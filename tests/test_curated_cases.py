"""Curated teaching cases: valid, taught from the knowledge base, answers equal the rules."""

from __future__ import annotations

import pytest
from conftest import CASES

from kdsupport.errors import InvalidInputError
from kdsupport.records.answers import answer_for, assess_kwargs
from kdsupport.records.bundled import list_cases, load_case_by_id
from kdsupport.records.case import load_case
from kdsupport.rules.assess import assess
from kdsupport.training.coverage import branches_of, required_branches

CASE_FILES = sorted(CASES.glob("*.yaml"))
IDS = [p.stem for p in CASE_FILES]


def test_at_least_24_curated_cases():
    assert len(CASE_FILES) >= 24


@pytest.mark.parametrize("path", CASE_FILES, ids=IDS)
def test_case_is_complete_teaching_material(path):
    record = load_case(path)  # validates, including teaching sources and answer shapes
    assert record.id == path.stem
    assert record.title and record.vignette and len(record.vignette) > 200
    t = record.teaching
    assert t is not None, "curated cases carry teaching material"
    assert t.learning_objectives and t.teaching_points
    assert all(p.sources for p in t.teaching_points)
    assert 3 <= len(t.questions) <= 6
    assert len({q.id for q in t.questions}) == len(t.questions)
    for q in t.questions:
        assert q.rationale and len(q.rationale) > 40, q.id


@pytest.mark.parametrize("path", CASE_FILES, ids=IDS)
def test_every_answer_equals_the_rules(path):
    record = load_case(path)
    wrong = []
    for q in record.teaching.questions:
        a = assess(record, **assess_kwargs(q.rule_options))
        want = answer_for(a.to_json(), q.answer_rule)
        got = sorted(q.answer) if isinstance(q.answer, list) else q.answer
        if isinstance(want, list):
            want = sorted(want)
        if q.kind == "numeric":
            ok = isinstance(want, (int, float)) and abs(float(got) - float(want)) <= (
                q.tolerance or 0
            )
        else:
            ok = got == want
        if not ok:
            wrong.append(f"{q.id} ({q.answer_rule}): case says {got!r}, rules say {want!r}")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("path", CASE_FILES, ids=IDS)
def test_treated_cases_have_a_course(path):
    record = load_case(path)
    if not record.sessions:
        return
    assert 4 <= len(record.sessions) <= 12
    for s in record.sessions:
        minutes = {v.minute for v in s.vitals or ()}
        assert {0, 40} <= minutes or s.vitals is None or record.id in _GAPS_ON_PURPOSE, (
            record.id,
            s.number,
        )
        assert s.observation_minutes is not None or record.id in _GAPS_ON_PURPOSE
    later = [
        a
        for a in record.assessments or ()
        if a.instrument in ("madrs", "phq9") and a.when != "baseline"
    ]
    assert len(later) >= 2, "a symptom trajectory over the course"


# cases whose monitoring gaps are the teaching point
_GAPS_ON_PURPOSE = {"tr-011"}


def test_cases_cover_every_rule_branch(kb):
    covered: set[str] = set()
    for path in CASE_FILES:
        covered |= branches_of(assess(load_case(path)))
    missing = sorted(required_branches(kb) - covered)
    assert not missing, f"branches no curated case covers: {missing}"


# The session-day checks whose rule can find that they do not apply to a session
# (kdsupport/rules/session_day.py): no nasal spray taken, one device, an inpatient (no ride home,
# no form), no reading during the infusion above the threshold.
_MAY_NOT_APPLY = {
    "nasal_spray_timing",
    "rest_between_devices",
    "ride_home_arranged",
    "rems_form_submitted",
    "infusion_bp_response",
}


def _assessments(record):
    """The case assessed with the default options and with each of its questions' rule options."""
    chosen = {()} | {
        tuple(sorted((q.rule_options or {}).items()))
        for q in (record.teaching.questions if record.teaching else ())
    }
    return [assess(record, **assess_kwargs(dict(opts))) for opts in sorted(chosen)]


def test_cases_cover_every_session_day_outcome(kb):
    """Together the curated cases reach every outcome of every session-day check (§3.8).

    Met, not met and unknown for each check, and not applicable for each check that can find
    it does not apply; the cases are assessed as their questions are (``rule_options``).
    """
    covered: set[str] = set()
    for path in CASE_FILES:
        for a in _assessments(load_case(path)):
            for s in a.sessions:
                covered |= {f"{n}.{st.value}" for n, st in s.checks.items()}
                covered |= {f"{n}.not_applicable" for n in s.not_applicable}
    outcomes = ("met", "not_met", "unknown")
    required = {f"{n}.{st}" for n in kb.session_day.checks for st in outcomes}
    required |= {f"{n}.not_applicable" for n in _MAY_NOT_APPLY}
    missing = sorted(required - covered)
    assert not missing, f"session-day outcomes no curated case reaches: {missing}"
    # and no check is found not applicable that the list above does not name
    seen = {b.removesuffix(".not_applicable") for b in covered if b.endswith(".not_applicable")}
    assert seen <= _MAY_NOT_APPLY, seen - _MAY_NOT_APPLY


def test_loader_lists_and_loads_cases():
    cases = list_cases()
    assert [c.id for c in cases] == sorted(IDS)
    assert all(c.n_questions >= 3 for c in cases)
    assert load_case_by_id(IDS[0]).id == IDS[0]
    with pytest.raises(InvalidInputError, match="available: tr-001"):
        load_case_by_id("no-such-case")
