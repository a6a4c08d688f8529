"""Three-valued logic: Kleene semantics and no silent truthiness."""

import itertools

import pytest

from kdsupport.rules.result import (
    Reason,
    RuleResult,
    ScoreResult,
    Status,
    all_of,
    any_of,
    at_least,
    compare,
)

M, N, U = Status.MET, Status.NOT_MET, Status.UNKNOWN


def test_bool_of_status_raises():
    for s in Status:
        with pytest.raises(TypeError, match="no truth value"):
            bool(s)
        with pytest.raises(TypeError):
            if s:  # noqa: SIM108 - the point of the test
                pass


def test_bool_of_results_raises():
    with pytest.raises(TypeError):
        bool(RuleResult("x", U, "unknown"))
    with pytest.raises(TypeError):
        bool(ScoreResult("x", None, False))


@pytest.mark.parametrize(
    ("a", "b", "and_", "or_"),
    [
        (M, M, M, M),
        (M, N, N, M),
        (M, U, U, M),
        (N, N, N, N),
        (N, U, N, U),
        (U, U, U, U),
    ],
)
def test_kleene_truth_tables(a, b, and_, or_):
    assert all_of([a, b]) is and_ and all_of([b, a]) is and_
    assert any_of([a, b]) is or_ and any_of([b, a]) is or_
    assert (a & b) is and_ and (a | b) is or_


def test_negation():
    assert ~M is N and ~N is M and ~U is U


def test_empty_combinations():
    assert all_of([]) is M
    assert any_of([]) is N


@pytest.mark.parametrize("statuses", list(itertools.product([M, N, U], repeat=3)))
@pytest.mark.parametrize("k", [0, 1, 2, 3])
def test_at_least_matches_definition(statuses, k):
    met = statuses.count(M)
    unknown = statuses.count(U)
    want = M if met >= k else (N if met + unknown < k else U)
    assert at_least(k, statuses) is want


def test_status_of():
    assert Status.of(True) is M and Status.of(False) is N and Status.of(None) is U
    with pytest.raises(TypeError):
        Status.of(0)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("value", "op", "thr", "want"),
    [
        (25, "<=", 25, M),
        (25, "<", 25, N),
        (24.9, "<", 25, M),
        (None, "<", 25, U),
        (141, ">", 140, M),
        (140, ">", 140, N),
        (50, ">=", 50, M),
    ],
)
def test_compare(value, op, thr, want):
    assert compare(value, op, thr) is want


def test_compare_rejects_unknown_operator():
    with pytest.raises(ValueError):
        compare(1, "=~", 2)


def test_reason_cited_and_missing():
    r = Reason("x.y", "msg", ("a",), ("s1", "s2"), ("a",))
    assert r.cited() == "msg [s1, s2]"
    assert r.to_dict()["missing"] == ["a"]
    assert RuleResult("r", U, "unknown", reasons=(r, r)).missing == ("a",)


def test_every_rule_result_shares_the_common_base():
    from kdsupport.rules import scales, screening, suicide_risk, trd
    from kdsupport.rules.result import Result, ScoreResult

    for cls in (
        RuleResult,
        ScoreResult,
        trd.TrialVerdict,
        trd.ECTVerdict,
        trd.TRDResult,
        scales.ScaleScore,
        scales.OutcomeResult,
        suicide_risk.SuicideRisk,
        screening.ModalityScreen,
    ):
        assert issubclass(cls, Result), cls
    with pytest.raises(TypeError):
        bool(RuleResult("r", U, "unknown"))
