"""Hypothesis strategies for kdsupport case records (property tests only).

* :func:`valid_records` draws random *valid* case-record dicts (as parsed from YAML) that cover
  every section of ``shared/specs/case-record.md`` section 1.
* :func:`null_some` takes a valid record and returns a copy with a random subset of its
  nullable leaves set to null (or a nullable optional section removed); the copy stays valid.
* :func:`failed_adequate_trial` draws a medication trial that is a failed adequate
  antidepressant trial under every TRD definition of the knowledge base.
* :func:`corrupt` returns a copy of a valid record with one corruption that the spec makes
  invalid input, and a label naming it.

Every clinical threshold (minimum doses, weeks, failure thresholds, item counts and ranges,
monitoring windows) is read from the knowledge base; only format enumerations of the spec
(sex, roles, adherence words ...) are written here.
"""

from __future__ import annotations

import copy
import datetime as dt
import difflib
import functools
import operator
import re
import string
from typing import Any

from hypothesis import strategies as st

from kdsupport.knowledge import load
from kdsupport.records.case import FORMAT

KB = load()
DRUGS = KB.drugs.drugs
DRUG_NAMES = sorted(DRUGS)
DEFINITIONS = sorted(KB.trd.definitions)
INSTRUMENTS = KB.scales.instruments
MODALITIES = sorted(KB.screening.modalities)


def is_antidepressant(drug: str) -> bool:
    """Whether the knowledge base classes ``drug`` as an antidepressant."""
    return KB.drugs.classes[DRUGS[drug].drug_class].antidepressant


def judged_on_serum(drug: str) -> bool:
    """Whether the drug's adequacy is judged on a serum level (lithium) in some dose table."""
    return any(m.serum_level_mmol_l is not None for m in DRUGS[drug].min_adequate.values())


ANTIDEPRESSANTS = [d for d in DRUG_NAMES if is_antidepressant(d)]
AUGMENTATION_AGENTS = [d for d in DRUG_NAMES if not is_antidepressant(d)]
SERUM_DRUGS = [d for d in DRUG_NAMES if judged_on_serum(d)]
NON_SERUM_DRUGS = [d for d in DRUG_NAMES if not judged_on_serum(d)]
DOSE_TABLES = sorted({d.dose_table for d in KB.trd.definitions.values()})

# thresholds of the TRD definitions (for boundary values and the added failed trial)
WEEK_THRESHOLDS = sorted({d.min_weeks.value for d in KB.trd.definitions.values()})
MAX_MIN_WEEKS = max(WEEK_THRESHOLDS)
FAILURE_PERCENTS = sorted({d.failure.percent for d in KB.trd.definitions.values()})


def _within_every_failure(pct: float) -> bool:
    """Whether an improvement of ``pct`` is a non-response under every definition."""
    ops = {"<": lambda a, b: a < b, "<=": lambda a, b: a <= b}
    return all(
        ops[d.failure.comparison](pct, d.failure.percent) for d in KB.trd.definitions.values()
    )


def minimum_needed(drug: str) -> tuple[str, float]:
    """(field, value): the largest minimum over the dose tables the definitions use."""
    field = "serum_level_mmol_l" if judged_on_serum(drug) else "dose_mg_per_day"
    key = "serum_level_mmol_l" if field == "serum_level_mmol_l" else "mg_per_day"
    values = [getattr(DRUGS[drug].min_adequate[t], key) for t in DOSE_TABLES]
    return field, max(v for v in values if v is not None)


# instruments, scales and monitoring
SCORED_INSTRUMENTS = sorted(n for n, s in INSTRUMENTS.items() if s.scoring != "none" and s.items)
ANSWER_INSTRUMENTS = sorted(n for n, s in INSTRUMENTS.items() if s.scoring == "none")
MOAAS = INSTRUMENTS["moaas"].items
CADSS_TOTAL = INSTRUMENTS["cadss"].total
CSSRS = KB.suicide.cssrs_screener
CSSRS_KEYS = [q.key for q in CSSRS.questions]
SKIP_RULES = [(r.when_no, list(r.skipped)) for r in (CSSRS.skip_rule, CSSRS.behavior_rule)]
# screening field -> the value that means "present" (support_person_available: false)
SCREENING_PRESENT_WHEN = {
    item.field.split(".", 1)[1]: item.present_when
    for item in KB.screening.items.values()
    if item.field.startswith("screening.")
}
SCREENING_FIELDS = list(SCREENING_PRESENT_WHEN)
_CHECKS = KB.vitals.session_monitoring.checks
RECHECK_WINDOW = _CHECKS["bp_rechecked"].window_minutes
MIN_OBSERVATION = _CHECKS["observed_2h"].min_observation_minutes.value
PREDISCHARGE_WINDOW = _CHECKS["bp_predischarge"].window_before_end_minutes.value
BP_GUIDE = KB.vitals.predose_bp_guide
MSM_DURATION_EDGES = sorted(
    {b.min for b in KB.staging.msm.duration_months.bands if b.min is not None}
    | {b.max for b in KB.staging.msm.duration_months.bands if b.max is not None}
)

# format enumerations of the spec (section 1), not clinical thresholds
SEXES = ["female", "male", "intersex", "unknown"]
ROLES = ["monotherapy", "combination", "augmentation"]
TRD_ROLES = ["monotherapy", "combination"]
EPISODES = ["current", "previous"]
ADHERENCE = ["adequate", "inadequate"]
STOPPED = ["intolerance", "patient_choice", "other"]
PRIMARY = ["mdd", "bipolar_depression", "other"]
SEVERITY = ["subsyndromal", "mild", "moderate", "severe"]
LATERALITY = ["bilateral", "unilateral"]
SECTIONS = ("diagnosis", "trials", "ect", "screening", "vitals", "assessments", "sessions")

# plausibility ranges of the input contract (section 1)
SYSTOLIC = (50, 300)
DIASTOLIC = (20, 200)
HEART_RATE = (20, 250)
SPO2 = (50, 100)
AGE = (12, 110)
WEIGHT = (25, 300)
IMPROVEMENT = (-100, 100)

_OMIT = object()  # marker: leave the key out of the mapping


def _put(d: dict[str, Any], key: str, value: Any) -> None:
    if value is not _OMIT:
        d[key] = value


def _weighted(*pairs: tuple[int, st.SearchStrategy[Any]]) -> st.SearchStrategy[Any]:
    """Choose a strategy with the given integer weights, then draw from it.

    (``st.one_of(s, s, t)`` does not weight ``s`` twice: it drops repeated branches.)
    """
    total = sum(w for w, _ in pairs)
    index = st.integers(0, total - 1)

    @st.composite
    def pick(draw: st.DrawFn) -> Any:
        k = draw(index)
        for w, strategy in pairs:
            if k < w:
                return draw(strategy)
            k -= w
        raise AssertionError("unreachable")  # pragma: no cover

    return pick()


_NONE = st.none()
_OMITTED = st.just(_OMIT)


def _maybe(
    strategy: st.SearchStrategy[Any], *, omit: bool = True, null: bool = True, weight: int = 4
) -> st.SearchStrategy[Any]:
    """``strategy`` most of the time, sometimes null, sometimes the key left out."""
    pairs = [(weight, strategy)]
    if null:
        pairs.append((1, _NONE))
    if omit:
        pairs.append((1, _OMITTED))
    return _weighted(*pairs)


def _num(lo: float, hi: float) -> st.SearchStrategy[float | int]:
    """Integers and decimals in [lo, hi]."""
    return st.one_of(
        st.integers(int(lo) if float(lo).is_integer() else int(lo) + 1, int(hi)),
        st.floats(lo, hi, allow_nan=False, allow_infinity=False),
    )


_printable = st.characters(codec="utf-8", exclude_categories=("Cs", "Cc"))
texts = st.text(alphabet=_printable, max_size=30)


_LATER_WHENS = st.one_of(
    st.integers(0, 60).map(lambda n: f"session-{n}"),
    st.integers(0, 400).map(lambda n: f"day-{n}"),
    st.dates(dt.date(2000, 1, 1), dt.date(2099, 12, 31)).map(dt.date.isoformat),
)
_ALL_WHENS = st.one_of(st.just("baseline"), _LATER_WHENS)


def whens() -> st.SearchStrategy[str]:
    """Valid ``when`` values: baseline, session-N, day-N or an ISO date."""
    return _ALL_WHENS


# ---------------------------------------------------------------- sections
# Strategies are built once at import time: building them inside draws is slow.
_SEX = _maybe(st.sampled_from(SEXES))
_WEIGHT = _maybe(_num(*WEIGHT))
_FLAG = _maybe(st.booleans())
_MOSTLY_FALSE = _maybe(st.sampled_from([False] * 5 + [True]), weight=8)
_FLAG_MALE = _maybe(st.just(False))  # pregnant / breastfeeding cannot be true for sex male
_AGE = st.integers(*AGE)


@st.composite
def patients(draw: st.DrawFn) -> dict[str, Any]:
    p: dict[str, Any] = {"age_years": draw(_AGE)}
    sex = draw(_SEX)
    _put(p, "sex", sex)
    _put(p, "weight_kg", draw(_WEIGHT))
    flag = _FLAG_MALE if sex == "male" else _MOSTLY_FALSE
    _put(p, "pregnant", draw(flag))
    _put(p, "breastfeeding", draw(flag))
    return p


_PRIMARY = _maybe(st.sampled_from(["mdd"] * 6 + PRIMARY), weight=8)
_ICD10 = _maybe(st.sampled_from(["F32.2", "F33.1", "F33.2", "F31.4"]))
_MONTHS = _maybe(st.one_of(st.sampled_from(MSM_DURATION_EDGES), _num(0, 240)), weight=8)
_SEVERITY = _maybe(st.sampled_from(SEVERITY), weight=8)
_PSYCHOTIC = _maybe(st.booleans(), weight=8)


@st.composite
def _diagnosis(draw: st.DrawFn) -> dict[str, Any]:
    d: dict[str, Any] = {}
    for key, strategy in (
        ("primary", _PRIMARY),
        ("icd10", _ICD10),
        ("current_episode_months", _MONTHS),
        ("severity", _SEVERITY),
        ("psychotic_features", _PSYCHOTIC),
    ):
        _put(d, key, draw(strategy))
    return d


_DIAGNOSES = _diagnosis()


def diagnoses() -> st.SearchStrategy[dict[str, Any]]:
    return _DIAGNOSES


# improvement percentages, often exactly at a definition's failure threshold
_IMPROVEMENT = _weighted(
    (1, st.sampled_from(FAILURE_PERCENTS)),
    (3, _num(IMPROVEMENT[0], min(FAILURE_PERCENTS))),  # mostly a non-response
    (2, _num(*IMPROVEMENT)),
)
_IMPROVEMENT_MAYBE = _maybe(_IMPROVEMENT)
_ROLE_AD = st.sampled_from(ROLES + TRD_ROLES)  # mostly roles that count toward TRD
_EPISODE = st.sampled_from(["current", "current", "current", "previous", None, _OMIT])


def _times(minimum: float, lo: float, hi: float) -> st.SearchStrategy[float]:
    """The minimum itself or the minimum times a factor in [lo, hi]."""
    return st.one_of(
        st.just(minimum), st.floats(lo, hi).map(functools.partial(operator.mul, minimum))
    )


# dose (or lithium serum level) around the knowledge-base minimum: below, at or above it
_AMOUNT = {drug: _maybe(_times(minimum_needed(drug)[1], 0.1, 3.0)) for drug in DRUG_NAMES}
_LITHIUM_DOSE = st.one_of(st.none(), _num(1, 2000))
_WEEKS = _maybe(st.one_of(st.sampled_from(WEEK_THRESHOLDS), _num(0.5, 30)))
_ADHERENCE = _maybe(st.sampled_from(ADHERENCE + ["adequate"]))
_STOPPED = st.one_of(st.just(_OMIT), st.none(), st.sampled_from(STOPPED))
_DRUG = st.sampled_from(DRUG_NAMES)
_CASE_VARIANT = st.integers(0, 9)


_PROFILE = st.sampled_from(["adequate", "adequate", "random"])
_GOOD_AMOUNT = {drug: _times(minimum_needed(drug)[1], 1.0, 3.0) for drug in DRUG_NAMES}
_GOOD_WEEKS = st.one_of(
    st.just(MAX_MIN_WEEKS), st.floats(MAX_MIN_WEEKS, 52), st.sampled_from(WEEK_THRESHOLDS)
)
_GOOD_EPISODE = st.sampled_from(["current", "current", _OMIT])
_ONE_IN_3 = st.integers(0, 2)


@st.composite
def trials(draw: st.DrawFn) -> dict[str, Any]:
    """One valid medication trial of any knowledge-base drug (often an adequate one)."""
    drug = draw(_DRUG)
    name = drug
    if draw(_CASE_VARIANT) == 0:  # names match case-insensitively (clarification 3)
        name = draw(st.sampled_from([drug.upper(), drug.capitalize(), f" {drug} "]))
    t: dict[str, Any] = {"drug": name}
    if is_antidepressant(drug):
        role = draw(_ROLE_AD)
        if role != "monotherapy" or draw(st.booleans()):
            t["role"] = role  # monotherapy is the default: sometimes left out
    else:
        t["role"] = "augmentation"
    field, _ = minimum_needed(drug)
    if draw(_PROFILE) == "adequate":
        _put(t, "episode", draw(_GOOD_EPISODE))
        t[field] = draw(_GOOD_AMOUNT[drug])
        t["weeks"] = draw(_GOOD_WEEKS)
        t["adherence"] = "adequate"
        if draw(_ONE_IN_3) == 0:  # one fact not known
            key = draw(st.sampled_from(["episode", field, "weeks", "adherence"]))
            t[key] = None
    else:
        _put(t, "episode", draw(_EPISODE))
        _put(t, field, draw(_AMOUNT[drug]))
        _put(t, "weeks", draw(_WEEKS))
        _put(t, "adherence", draw(_ADHERENCE))
    if field == "serum_level_mmol_l" and draw(st.booleans()):
        t["dose_mg_per_day"] = draw(_LITHIUM_DOSE)  # shown, never judged
    _put(t, "improvement_percent", draw(_IMPROVEMENT_MAYBE))
    _put(t, "dose_optimised", draw(_FLAG))
    _put(t, "stopped_early_for", draw(_STOPPED))
    return t


_ECT_EPISODE = st.sampled_from(["current", "current", "previous", None, _OMIT])
_LATERALITY = _maybe(st.sampled_from(LATERALITY))
_ECT_SESSIONS = _maybe(st.integers(1, 30))


@st.composite
def ect_courses(draw: st.DrawFn) -> dict[str, Any]:
    c: dict[str, Any] = {}
    _put(c, "episode", draw(_ECT_EPISODE))
    _put(c, "laterality", draw(_LATERALITY))
    _put(c, "sessions", draw(_ECT_SESSIONS))
    _put(c, "improvement_percent", draw(_IMPROVEMENT_MAYBE))
    return c


_SCREEN_MODE = st.sampled_from(["all_known", "all_known", "partial"])
_ONE_IN_25 = st.integers(0, 24)
_SCREEN_PARTIAL = {
    f: st.sampled_from([not pw] * 8 + [pw, None, None, _OMIT])
    for f, pw in SCREENING_PRESENT_WHEN.items()
}


@st.composite
def screenings(draw: st.DrawFn) -> dict[str, Any]:
    """Screening items; mostly absent (so that "clear" happens), sometimes not assessed."""
    mode = draw(_SCREEN_MODE)
    out: dict[str, Any] = {}
    for f, present_when in SCREENING_PRESENT_WHEN.items():
        if mode == "all_known":
            _put(out, f, (not present_when) if draw(_ONE_IN_25) else present_when)
        else:
            _put(out, f, draw(_SCREEN_PARTIAL[f]))
    return out


_GUIDE_S = BP_GUIDE.systolic_above_mmhg.value
_GUIDE_D = BP_GUIDE.diastolic_above_mmhg.value
# typical values, the whole range, and the pre-dose guide's edges
_SYSTOLIC = st.one_of(
    st.integers(90, 190), st.integers(*SYSTOLIC), st.sampled_from([_GUIDE_S, _GUIDE_S + 1])
)
_SYSTOLIC_MAYBE = _weighted((6, _SYSTOLIC), (1, _NONE))
_ONE_IN_5 = st.integers(0, 4)


@functools.cache
def _diastolic(hi: int, null: bool) -> st.SearchStrategy[Any]:
    edges = [v for v in (_GUIDE_D, _GUIDE_D + 1) if DIASTOLIC[0] <= v <= hi] or [hi]
    typical = st.one_of(
        st.integers(max(DIASTOLIC[0], min(50, hi)), min(110, hi)),
        st.integers(DIASTOLIC[0], hi),
        st.sampled_from(edges),
    )
    return _weighted((6, typical), (1, _NONE)) if null else typical


@st.composite
def bp_pairs(draw: st.DrawFn, *, null: bool = True) -> tuple[Any, Any]:
    """(systolic, diastolic) with diastolic strictly below systolic when both are known."""
    sys_ = draw(_SYSTOLIC_MAYBE if null else _SYSTOLIC)
    if sys_ is not None and draw(_ONE_IN_5) == 0:
        sys_ = sys_ - 0.5 if sys_ > SYSTOLIC[0] else sys_ + 0.5  # decimals are allowed
    hi = DIASTOLIC[1] if sys_ is None else int(min(DIASTOLIC[1], sys_ - 1))
    return sys_, draw(_diastolic(hi, null))


_BP = bp_pairs()
_NULL_OR_OMIT = st.sampled_from([None, _OMIT])
_HR = _maybe(_num(*HEART_RATE))
_SPO2_MAYBE = _maybe(_num(*SPO2))


def _vitals_into(draw: st.DrawFn, v: dict[str, Any]) -> dict[str, Any]:
    sys_, dia = draw(_BP)
    _put(v, "systolic_mmhg", sys_ if sys_ is not None else draw(_NULL_OR_OMIT))
    _put(v, "diastolic_mmhg", dia if dia is not None else draw(_NULL_OR_OMIT))
    _put(v, "heart_rate_bpm", draw(_HR))
    _put(v, "spo2_percent", draw(_SPO2_MAYBE))
    return v


@st.composite
def pretreatment_vitals(draw: st.DrawFn) -> dict[str, Any]:
    return _vitals_into(draw, {})


_ANSWER_DEFAULT = st.sampled_from([False, False, None, True])
_ANSWER_PROFILE = st.sampled_from(["complete", "complete", "complete", "random"])
_MOSTLY_NO = st.sampled_from([False] * 6 + [True])
_ANSWER_MODE = st.integers(0, 5)
_ANSWER = st.sampled_from([True, False, None])
_NOT_TRUE = st.sampled_from([False, None])


@st.composite
def cssrs_answers(draw: st.DrawFn) -> dict[str, Any]:
    """Screener answers consistent with the skip rules of the knowledge base: when the gate
    question is false, the questions it skips are false or null, never true."""
    profile = draw(_ANSWER_PROFILE)
    default = draw(_ANSWER_DEFAULT)
    answers: dict[str, Any] = {}
    for key in CSSRS_KEYS:
        if profile == "complete":  # every question answered, mostly no
            answers[key] = draw(_MOSTLY_NO)
            continue
        mode = draw(_ANSWER_MODE)  # 0-3 the default, 4 random, 5 left out
        if mode == 5:
            continue
        answers[key] = default if mode < 4 else draw(_ANSWER)
    for when_no, skipped in SKIP_RULES:
        if answers.get(when_no) is False:
            for key in skipped:
                if answers.get(key) is True:
                    answers[key] = draw(_NOT_TRUE)
    return answers


_WHENS = whens()
_ANSWERS = cssrs_answers()
_ANSWERS_MODE = st.integers(0, 9)
_ADM_MODE = st.sampled_from(["items", "items", "total", "total", "none"])
_ONE_IN_4 = st.integers(0, 3)
_ITEMS_OR_TOTAL = st.sampled_from(["items", "total"])


def _administration_strategy(instrument: str) -> st.SearchStrategy[dict[str, Any]]:
    spec = INSTRUMENTS[instrument]
    if spec.scoring == "none":

        @st.composite
        def answered(draw: st.DrawFn) -> dict[str, Any]:
            adm: dict[str, Any] = {"instrument": instrument, "when": draw(_WHENS)}
            mode = draw(_ANSWERS_MODE)
            if mode == 0:
                adm["answers"] = None
            elif mode > 1:  # mostly answered
                adm["answers"] = draw(_ANSWERS)
            return adm

        return answered()

    ispec, tspec = spec.items, spec.total
    score = st.integers(ispec.min, ispec.max)
    # tuples, not fixed-size lists: fewer choices per example
    full = st.tuples(*[score] * ispec.count).map(list)
    holey = st.tuples(*[st.one_of(score, _NONE)] * ispec.count).map(list)
    total = st.integers(tspec.min, tspec.max)

    @st.composite
    def scored(draw: st.DrawFn) -> dict[str, Any]:
        # EITHER items OR a total, never both
        adm: dict[str, Any] = {"instrument": instrument, "when": draw(_WHENS)}
        mode = draw(_ADM_MODE)
        if mode == "items":
            adm["items"] = draw(holey if draw(_ONE_IN_4) == 0 else full)
        elif mode == "total":
            adm["total"] = draw(total)
        else:
            _put(adm, draw(_ITEMS_OR_TOTAL), draw(_NULL_OR_OMIT))
        return adm

    return scored()


ADMINISTRATIONS = {name: _administration_strategy(name) for name in sorted(INSTRUMENTS)}


def administrations(instrument: str) -> st.SearchStrategy[dict[str, Any]]:
    """One valid administration of ``instrument`` (item counts and ranges from the KB)."""
    return ADMINISTRATIONS[instrument]


_PER_INSTRUMENT = st.integers(0, 2)
_SERIES = st.sampled_from(["none", "random", "series", "series"])
_SCREENER_SERIES = st.sampled_from(["none", "series", "series", "series", "series"])
_BOOL = st.booleans()


@st.composite
def assessment_lists(draw: st.DrawFn) -> list[dict[str, Any]]:
    """Administrations of every instrument; often a baseline followed by later ones."""
    out = []
    for name in sorted(INSTRUMENTS):
        mode = draw(_SERIES if name not in ANSWER_INSTRUMENTS else _SCREENER_SERIES)
        if mode == "random":
            out += [draw(ADMINISTRATIONS[name]) for _ in range(draw(_PER_INSTRUMENT))]
        elif mode == "series":
            series = [draw(ADMINISTRATIONS[name]) for _ in range(1 + draw(_PER_INSTRUMENT))]
            series[0]["when"] = "baseline"
            for adm in series[1:]:
                adm["when"] = draw(_LATER_WHENS)
            out += series
    return draw(st.permutations(out)) if out and draw(_BOOL) else out


_MINUTE_EDGES = sorted(
    {
        0,
        RECHECK_WINDOW.min,
        RECHECK_WINDOW.max,
        (RECHECK_WINDOW.min + RECHECK_WINDOW.max) / 2,
        MIN_OBSERVATION - PREDISCHARGE_WINDOW,
        MIN_OBSERVATION,
    }
)
_MINUTES = st.one_of(
    st.just(0), st.sampled_from(_MINUTE_EDGES), st.integers(0, 300), st.floats(0, 300)
)


def minutes() -> st.SearchStrategy[float | int]:
    """Minutes from the start of the dose (>= 0), often at a monitoring window's edge."""
    return _MINUTES


@st.composite
def vital_readings(draw: st.DrawFn) -> dict[str, Any]:
    return _vitals_into(draw, {"minute": draw(_MINUTES)})


_MOAAS_READING = st.fixed_dictionaries(
    {"minute": _MINUTES},
    optional={"score": st.one_of(st.integers(MOAAS.min, MOAAS.max), st.none())},
)


def _positive(lo: float, hi: float) -> st.SearchStrategy[Any]:
    return _maybe(_num(lo, hi).filter(lambda v: v > 0))


_MODALITY = st.sampled_from(MODALITIES)
_DOSE_MG = _positive(1, 112)
_DOSE_KG = _positive(0.05, 2)
_INFUSION = _positive(1, 120)
_READINGS = _maybe(st.lists(vital_readings(), max_size=5))
_MOAAS_LIST = _maybe(st.lists(_MOAAS_READING, max_size=4))
_CADSS = _maybe(st.integers(CADSS_TOTAL.min, CADSS_TOTAL.max))
_OBSERVATION = _maybe(
    st.one_of(
        st.sampled_from([MIN_OBSERVATION, MIN_OBSERVATION - PREDISCHARGE_WINDOW]), _num(0, 300)
    )
)
_EVENTS = _maybe(
    st.lists(
        st.sampled_from(["nausea", "dizziness", "dissociation", "sedation", "vertigo"]), max_size=3
    )
)


_IN_RECHECK = st.one_of(
    st.sampled_from([RECHECK_WINDOW.min, RECHECK_WINDOW.max]),
    st.integers(int(RECHECK_WINDOW.min), int(RECHECK_WINDOW.max)),
)
_GOOD_OBSERVATION = st.one_of(
    st.just(MIN_OBSERVATION),
    st.integers(int(MIN_OBSERVATION), 240),
    st.integers(0, int(MIN_OBSERVATION)),
)
_BEFORE_END = st.integers(0, int(PREDISCHARGE_WINDOW))
_SCORE = st.integers(MOAAS.min, MOAAS.max)
_MOSTLY_ALERT = st.sampled_from([MOAAS.max] * 4 + list(range(MOAAS.min, MOAAS.max)))
_SESSION_PROFILE = st.sampled_from(["protocol", "protocol", "random"])


@st.composite
def _protocol_monitoring(draw: st.DrawFn) -> dict[str, Any]:
    """Readings at minute 0, in the re-check window and before discharge (BP values may be
    missing or large rises), MOAA/S ending mostly alert, an observation time."""
    obs = draw(_GOOD_OBSERVATION)
    plan = [0, draw(_IN_RECHECK), max(0, obs - draw(_BEFORE_END))]
    readings = []
    for minute in plan:
        if draw(_ONE_IN_5) == 0:
            continue  # a reading not taken
        readings.append(_vitals_into(draw, {"minute": minute}))
    scores = [{"minute": m, "score": draw(_SCORE)} for m in plan[1:]]
    scores[-1]["score"] = draw(_MOSTLY_ALERT)
    return {"vitals": readings, "moaas": scores, "observation_minutes": obs}


_PROTOCOL = _protocol_monitoring()


@st.composite
def sessions(draw: st.DrawFn, number: int | None = None) -> dict[str, Any]:
    s: dict[str, Any] = {
        "number": number if number is not None else draw(st.integers(1, 60)),
        "modality": draw(_MODALITY),
    }
    _put(s, "dose_mg", draw(_DOSE_MG))
    _put(s, "dose_mg_per_kg", draw(_DOSE_KG))
    _put(s, "infusion_minutes", draw(_INFUSION))
    if draw(_SESSION_PROFILE) == "protocol":
        s.update(draw(_PROTOCOL))
    else:
        _put(s, "vitals", draw(_READINGS))
        _put(s, "moaas", draw(_MOAAS_LIST))
        _put(s, "observation_minutes", draw(_OBSERVATION))
    _put(s, "cadss_total", draw(_CADSS))
    _put(s, "adverse_events", draw(_EVENTS))
    return s


_SESSION_NUMBERS = st.lists(st.integers(1, 60), unique=True, max_size=3)
_SESSION = sessions(1)


@st.composite
def session_lists(draw: st.DrawFn) -> list[dict[str, Any]]:
    """Sessions with unique numbers."""
    out = []
    for n in draw(_SESSION_NUMBERS):
        s = draw(_SESSION)
        s["number"] = n
        out.append(s)
    return out


def _section(value: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """An optional section: present (usually), null or left out."""
    return _weighted((6, value), (1, _NONE), (1, _OMITTED))


_ID = st.text(alphabet=string.ascii_lowercase + string.digits + "-", min_size=1, max_size=16)
_TEXT_MAYBE = st.one_of(st.just(_OMIT), st.none(), texts)
_TRIAL = trials()
_FAILED_TRIAL = st.deferred(lambda: failed_adequate_trial())
_N_TRIALS = st.integers(0, 5)


_HISTORY = st.sampled_from(["random", "random", "resistant"])
_N_FAILED = st.integers(1, 4)


@st.composite
def trial_lists(draw: st.DrawFn) -> list[dict[str, Any]]:
    """Random trials; often a history with several failed adequate antidepressant trials."""
    out = [draw(_TRIAL) for _ in range(draw(_N_TRIALS))]
    if draw(_HISTORY) == "resistant":
        failed = [draw(_FAILED_TRIAL) for _ in range(draw(_N_FAILED))]
        out = draw(st.permutations(out + failed))
    return out


_TRIAL_LIST = trial_lists()
_TRIAL_SECTION = _section(_TRIAL_LIST)
_DIAGNOSIS_SECTION = _section(_DIAGNOSES)
_ECT_SECTION = _section(st.lists(ect_courses(), max_size=2))
_SCREENING_SECTION = _section(screenings())
_VITALS_SECTION = _section(pretreatment_vitals())
_ASSESSMENT_SECTION = _section(assessment_lists())
_SESSION_SECTION = _section(session_lists())
_PATIENT = patients()


@st.composite
def valid_records(draw: st.DrawFn, *, trials_list: bool = False) -> dict[str, Any]:
    """A random valid case record (a plain dict as parsed from YAML).

    Parameters
    ----------
    trials_list
        Always give ``trials`` as a list (possibly empty), never null or absent.
    """
    rec: dict[str, Any] = {"format": FORMAT, "id": draw(_ID), "synthetic": True}
    _put(rec, "title", draw(_TEXT_MAYBE))
    _put(rec, "vignette", draw(_TEXT_MAYBE))
    rec["patient"] = draw(_PATIENT)
    _put(rec, "diagnosis", draw(_DIAGNOSIS_SECTION))
    _put(rec, "trials", draw(_TRIAL_LIST if trials_list else _TRIAL_SECTION))
    _put(rec, "ect", draw(_ECT_SECTION))
    _put(rec, "screening", draw(_SCREENING_SECTION))
    _put(rec, "vitals", draw(_VITALS_SECTION))
    _put(rec, "assessments", draw(_ASSESSMENT_SECTION))
    _put(rec, "sessions", draw(_SESSION_SECTION))
    return rec


# ---------------------------------------------------------------- nulling
Path = tuple[Any, ...]


def nullable_leaves(rec: dict[str, Any]) -> list[tuple[Path, bool]]:
    """Every (path, may_delete) that can be nulled in ``rec`` keeping it valid.

    ``may_delete`` is False where leaving the key out would mean a default rather than
    unknown (trial and ECT ``episode`` default to current) or where the leaf is a list element.
    """
    ops: list[tuple[Path, bool]] = []

    def keys(path: Path, mapping: Any, names: list[str], no_delete: tuple[str, ...] = ()) -> None:
        if not isinstance(mapping, dict):
            return
        for k in names:
            if mapping.get(k) is not None:
                ops.append((path + (k,), k not in no_delete))

    keys(("patient",), rec["patient"], ["sex", "weight_kg", "pregnant", "breastfeeding"])
    for section in SECTIONS:
        if rec.get(section) is not None:
            ops.append(((section,), True))
    keys(
        ("diagnosis",),
        rec.get("diagnosis"),
        ["primary", "icd10", "current_episode_months", "severity", "psychotic_features"],
    )
    for i, t in enumerate(rec.get("trials") or ()):
        keys(
            ("trials", i),
            t,
            [
                "episode",
                "dose_mg_per_day",
                "serum_level_mmol_l",
                "weeks",
                "adherence",
                "improvement_percent",
                "dose_optimised",
                "stopped_early_for",
            ],
            no_delete=("episode",),
        )
    for i, c in enumerate(rec.get("ect") or ()):
        keys(
            ("ect", i),
            c,
            ["episode", "laterality", "sessions", "improvement_percent"],
            no_delete=("episode",),
        )
    keys(("screening",), rec.get("screening"), SCREENING_FIELDS)
    keys(
        ("vitals",),
        rec.get("vitals"),
        ["systolic_mmhg", "diastolic_mmhg", "heart_rate_bpm", "spo2_percent"],
    )
    for i, a in enumerate(rec.get("assessments") or ()):
        keys(("assessments", i), a, ["items", "total", "answers"])
        if isinstance(a.get("items"), list) and a.get("total") is None:
            ops += [
                (("assessments", i, "items", j), False)
                for j, v in enumerate(a["items"])
                if v is not None
            ]
        keys(("assessments", i, "answers"), a.get("answers"), CSSRS_KEYS)
    for i, s in enumerate(rec.get("sessions") or ()):
        keys(
            ("sessions", i),
            s,
            [
                "dose_mg",
                "dose_mg_per_kg",
                "infusion_minutes",
                "vitals",
                "moaas",
                "cadss_total",
                "observation_minutes",
                "adverse_events",
            ],
        )
        for j, r in enumerate(s.get("vitals") or ()):
            keys(
                ("sessions", i, "vitals", j),
                r,
                ["systolic_mmhg", "diastolic_mmhg", "heart_rate_bpm", "spo2_percent"],
            )
        for j, r in enumerate(s.get("moaas") or ()):
            keys(("sessions", i, "moaas", j), r, ["score"])
    return ops


_NULL_MODE = st.sampled_from(["few", "few", "rate"])
_NULL_RATE = st.sampled_from([1, 3, 6, 10])
_TENTHS = st.integers(0, 9)


def null_some(rec: dict[str, Any], data: Any) -> dict[str, Any]:
    """A copy of ``rec`` with a random subset of nullable leaves (or sections) made unknown.

    ``data`` is a hypothesis ``st.data()`` object. Leaves are set to null or, where leaving the
    key out also means unknown, removed. Required fields are never touched, and an item is only
    nulled when the administration gives no total, so the copy is still valid.
    """
    out = copy.deepcopy(rec)
    ops = nullable_leaves(out)
    if not ops:
        return out
    n = len(ops)
    mode = data.draw(_NULL_MODE, label="how many to null")
    if mode == "few":  # one to a few leaves: small, focused differences
        chosen = data.draw(
            st.lists(st.integers(0, n - 1), min_size=1, max_size=min(n, 4), unique=True),
            label="nulled leaves",
        )
    else:  # each leaf with some probability (in tenths)
        rate = data.draw(_NULL_RATE, label="rate (tenths)")
        chosen = [k for k in range(n) if data.draw(_TENTHS) < rate]
    # deepest paths first, so that nulling a parent later wins over its children
    for idx in sorted(chosen, key=lambda k: -len(ops[k][0])):
        path, may_delete = ops[idx]
        parent: Any = out
        for part in path[:-1]:
            parent = parent[part] if isinstance(parent, (dict, list)) else None
            if parent is None:
                break
        if parent is None:
            continue
        last = path[-1]
        if isinstance(parent, dict) and last not in parent:
            continue
        if (
            may_delete
            and isinstance(parent, dict)
            and data.draw(st.booleans(), label=f"delete {path}")
        ):
            del parent[last]
        else:
            parent[last] = None
    return out


# ---------------------------------------------------------------- added failed trial
# The improvement of the added failed trial: <= 0 and a non-response under every definition.
_FAIL_MAX = min(0.0, *FAILURE_PERCENTS)


@st.composite
def failed_adequate_trial(draw: st.DrawFn) -> dict[str, Any]:
    """A current-episode antidepressant trial that is adequate and failed under every
    definition: dose >= the minimum, weeks >= the largest min_weeks, adherence adequate,
    improvement <= 0 (and within every definition's failure threshold)."""
    drug = draw(st.sampled_from(ANTIDEPRESSANTS))
    field, minimum = minimum_needed(drug)
    improvement = draw(
        st.one_of(
            st.just(_FAIL_MAX),
            st.floats(IMPROVEMENT[0], _FAIL_MAX),
            st.integers(IMPROVEMENT[0], int(_FAIL_MAX)),
        ).filter(_within_every_failure)
    )
    return {
        "drug": drug,
        "role": draw(st.sampled_from(TRD_ROLES)),
        "episode": "current",
        field: draw(
            st.one_of(
                st.just(minimum), st.floats(1.0, 3.0).map(lambda f: max(minimum, minimum * f))
            )
        ),
        "weeks": draw(st.one_of(st.just(MAX_MIN_WEEKS), st.floats(MAX_MIN_WEEKS, 52))),
        "adherence": "adequate",
        "improvement_percent": improvement,
        "dose_optimised": draw(st.one_of(st.none(), st.booleans())),
    }


# ---------------------------------------------------------------- corruptions
_WHEN_OK = re.compile(r"^(baseline|session-[0-9]+|day-[0-9]+)$")


def _valid_when(v: str) -> bool:
    if _WHEN_OK.match(v):
        return True
    if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", v):
        try:
            dt.date.fromisoformat(v)
            return True
        except ValueError:
            return False
    return False


letters = st.text(alphabet=string.ascii_lowercase, min_size=3, max_size=12)
unknown_drug_names = letters.filter(
    lambda s: s not in DRUGS and not difflib.get_close_matches(s, DRUG_NAMES, n=1, cutoff=0.6)
)
invalid_whens = st.one_of(
    st.sampled_from(
        [
            "week 3",
            "2024-13-45",
            "2023-02-30",
            "Baseline",
            "session 2",
            "day3",
            "",
            "session-",
            "24-01-01",
        ]
    ),
    st.builds(
        lambda y, m, d: f"{y:04d}-{m:02d}-{d:02d}",
        st.integers(1000, 9999),
        st.integers(13, 99),
        st.integers(1, 28),
    ),
    st.builds(
        lambda y, m, d: f"{y:04d}-{m:02d}-{d:02d}",
        st.integers(1000, 9999),
        st.integers(1, 12),
        st.integers(32, 99),
    ),
    st.text(alphabet=string.ascii_letters + string.digits + " -_", max_size=12).filter(
        lambda s: not _valid_when(s)
    ),
)


def _minimal_trial(drug: str | None = None) -> dict[str, Any]:
    drug = drug or ANTIDEPRESSANTS[0]
    return {"drug": drug, "role": "monotherapy" if is_antidepressant(drug) else "augmentation"}


def _target_list(rec: dict[str, Any], key: str, make: Any, data: Any) -> tuple[list[Any], int]:
    """A list section of ``rec`` (created when absent) and the index of an entry in it."""
    lst = rec.get(key)
    if (
        not isinstance(lst, list)
        or not lst
        or data.draw(st.integers(0, 3), label=f"append to {key}") == 0
    ):
        if not isinstance(lst, list):
            lst = rec[key] = []
        lst.append(make())
        return lst, len(lst) - 1
    return lst, data.draw(st.integers(0, len(lst) - 1), label=f"{key} index")


def _new_session_number(rec: dict[str, Any]) -> int:
    nums = [s.get("number") for s in rec.get("sessions") or () if isinstance(s.get("number"), int)]
    return max(nums, default=0) + 1


def _mappings(rec: dict[str, Any]) -> list[dict[str, Any]]:
    """Every mapping of the record (top level and nested)."""
    out = [rec, rec["patient"]]
    for key in ("diagnosis", "screening", "vitals"):
        if isinstance(rec.get(key), dict):
            out.append(rec[key])
    for key in ("trials", "ect"):
        out += list(rec.get(key) or ())
    for a in rec.get("assessments") or ():
        out.append(a)
        if isinstance(a.get("answers"), dict):
            out.append(a["answers"])
    for s in rec.get("sessions") or ():
        out.append(s)
        out += list(s.get("vitals") or ()) + list(s.get("moaas") or ())
    return out


CORRUPTIONS = (
    "unknown_key",
    "synthetic",
    "format",
    "id",
    "age",
    "unknown_drug",
    "weeks",
    "adherence",
    "improvement",
    "item_count",
    "item_range",
    "bp_order",
    "bool_yes",
    "unknown_instrument",
    "when",
    "augmentation_role",
    "serum_level",
    "pregnant_male",
    "duplicate_session",
    "negative_minute",
    "moaas_range",
)


def corrupt(rec: dict[str, Any], data: Any, kind: str | None = None) -> tuple[dict[str, Any], str]:
    """A copy of a valid record with one corruption the spec makes invalid, and its label.

    ``kind`` (one of :data:`CORRUPTIONS`) picks the corruption; by default it is drawn.
    """
    bad = copy.deepcopy(rec)
    if kind is None:
        kind = data.draw(st.sampled_from(CORRUPTIONS), label="corruption")
    d = data.draw
    if kind == "unknown_key":
        mappings = _mappings(bad)
        target = mappings[d(st.integers(0, len(mappings) - 1), label="mapping")]
        target["zz_" + d(letters, label="key")] = d(st.one_of(st.none(), st.integers(), texts))
    elif kind == "synthetic":
        if d(st.booleans()):
            del bad["synthetic"]
        else:
            bad["synthetic"] = d(st.sampled_from([False, None, "true", "yes"]))
    elif kind == "format":
        bad["format"] = d(
            st.one_of(
                texts, st.sampled_from(["kdsupport-case/2", "kdsupport-case", "KDSUPPORT-CASE/1"])
            ).filter(lambda s: s != FORMAT)
        )
    elif kind == "id":
        ident = bad["id"]
        pos = d(st.integers(0, len(ident)))
        bad["id"] = ident[:pos] + d(st.sampled_from([" ", "A", "Z", "X y"])) + ident[pos:]
    elif kind == "age":
        bad["patient"]["age_years"] = d(
            st.one_of(
                st.integers(-50, AGE[0] - 1),
                st.integers(AGE[1] + 1, 500),
                st.integers(AGE[0], AGE[1] - 1).map(lambda a: a + 0.5),
                st.integers(AGE[0], AGE[1]).map(str),
            )
        )
    elif kind == "unknown_drug":
        lst, i = _target_list(bad, "trials", _minimal_trial, data)
        lst[i]["drug"] = d(unknown_drug_names, label="drug")
    elif kind == "weeks":
        lst, i = _target_list(bad, "trials", _minimal_trial, data)
        lst[i]["weeks"] = d(st.one_of(st.just(0), st.integers(-52, 0), st.floats(-52, 0)))
    elif kind == "adherence":
        lst, i = _target_list(bad, "trials", _minimal_trial, data)
        lst[i]["adherence"] = d(
            st.one_of(letters, st.sampled_from(["good", "Adequate", "yes", "partial"])).filter(
                lambda s: s not in ADHERENCE
            )
        )
    elif kind == "improvement":
        value = d(
            st.one_of(
                st.floats(IMPROVEMENT[1], 1e6, exclude_min=True),
                st.floats(-1e6, IMPROVEMENT[0], exclude_max=True),
                st.sampled_from([IMPROVEMENT[1] + 1, IMPROVEMENT[0] - 1]),
            )
        )
        if d(st.booleans(), label="trial or ect"):
            lst, i = _target_list(bad, "trials", _minimal_trial, data)
        else:
            lst, i = _target_list(bad, "ect", dict, data)
        lst[i]["improvement_percent"] = value
    elif kind == "item_count":
        name = d(st.sampled_from(SCORED_INSTRUMENTS))
        spec = INSTRUMENTS[name].items
        n = d(st.integers(0, spec.count + 5).filter(lambda k: k != spec.count))
        items = d(st.lists(st.integers(spec.min, spec.max), min_size=n, max_size=n))
        bad.setdefault("assessments", None)
        if not isinstance(bad["assessments"], list):
            bad["assessments"] = []
        bad["assessments"].insert(
            d(st.integers(0, len(bad["assessments"]))),
            {"instrument": name, "when": d(whens()), "items": items},
        )
    elif kind == "item_range":
        name = d(st.sampled_from(SCORED_INSTRUMENTS))
        spec = INSTRUMENTS[name].items
        items = d(
            st.lists(st.integers(spec.min, spec.max), min_size=spec.count, max_size=spec.count)
        )
        j = d(st.integers(0, spec.count - 1))
        items[j] = d(
            st.one_of(
                st.integers(spec.max + 1, spec.max + 50), st.integers(spec.min - 50, spec.min - 1)
            )
        )
        if not isinstance(bad.get("assessments"), list):
            bad["assessments"] = []
        bad["assessments"].append({"instrument": name, "when": d(whens()), "items": items})
    elif kind == "bp_order":
        sys_ = d(st.integers(SYSTOLIC[0], DIASTOLIC[1]))
        dia = d(st.integers(sys_, DIASTOLIC[1]))
        if d(st.booleans(), label="pre-treatment vitals"):
            if not isinstance(bad.get("vitals"), dict):
                bad["vitals"] = {}
            bad["vitals"].update(systolic_mmhg=sys_, diastolic_mmhg=dia)
        else:
            reading = {"minute": d(minutes()), "systolic_mmhg": sys_, "diastolic_mmhg": dia}
            lst, i = _target_list(
                bad,
                "sessions",
                lambda: {"number": _new_session_number(bad), "modality": MODALITIES[0]},
                data,
            )
            if not isinstance(lst[i].get("vitals"), list):
                lst[i]["vitals"] = []
            lst[i]["vitals"].append(reading)
    elif kind == "bool_yes":
        where = d(st.sampled_from(["patient", "diagnosis", "screening", "trial", "answers"]))
        value = d(st.sampled_from(["yes", "no", "true"]))
        if where == "patient":
            bad["patient"][d(st.sampled_from(["pregnant", "breastfeeding"]))] = value
        elif where == "diagnosis":
            if not isinstance(bad.get("diagnosis"), dict):
                bad["diagnosis"] = {}
            bad["diagnosis"]["psychotic_features"] = value
        elif where == "screening":
            if not isinstance(bad.get("screening"), dict):
                bad["screening"] = {}
            bad["screening"][d(st.sampled_from(SCREENING_FIELDS))] = value
        elif where == "trial":
            lst, i = _target_list(bad, "trials", _minimal_trial, data)
            lst[i]["dose_optimised"] = value
        else:
            if not isinstance(bad.get("assessments"), list):
                bad["assessments"] = []
            bad["assessments"].append(
                {
                    "instrument": ANSWER_INSTRUMENTS[0],
                    "when": "baseline",
                    "answers": {d(st.sampled_from(CSSRS_KEYS)): value},
                }
            )
    elif kind == "unknown_instrument":
        name = d(
            st.one_of(letters, st.sampled_from(["PHQ9", "phq-9", "hamd17", "bdi"])).filter(
                lambda s: s not in INSTRUMENTS
            )
        )
        if not isinstance(bad.get("assessments"), list):
            bad["assessments"] = []
        bad["assessments"].append({"instrument": name, "when": "baseline", "total": 0})
    elif kind == "when":
        if not isinstance(bad.get("assessments"), list) or not bad["assessments"]:
            bad["assessments"] = [{"instrument": SCORED_INSTRUMENTS[0], "when": "baseline"}]
        i = d(st.integers(0, len(bad["assessments"]) - 1))
        bad["assessments"][i]["when"] = d(invalid_whens, label="when")
    elif kind == "augmentation_role":
        drug = d(st.sampled_from(AUGMENTATION_AGENTS))
        lst, i = _target_list(bad, "trials", lambda: _minimal_trial(drug), data)
        lst[i]["drug"] = drug
        lst[i].pop("serum_level_mmol_l", None)  # keep this the only problem
        role = d(st.sampled_from(TRD_ROLES + ["<default>"]))
        if role == "<default>":
            lst[i].pop("role", None)  # the default role is monotherapy
        else:
            lst[i]["role"] = role
    elif kind == "serum_level":
        drug = d(st.sampled_from(NON_SERUM_DRUGS))
        trial = _minimal_trial(drug)
        trial["serum_level_mmol_l"] = d(st.floats(0.1, 2.0))
        if not isinstance(bad.get("trials"), list):
            bad["trials"] = []
        bad["trials"].append(trial)
    elif kind == "pregnant_male":
        bad["patient"]["sex"] = "male"
        bad["patient"][d(st.sampled_from(["pregnant", "breastfeeding"]))] = True
    elif kind == "duplicate_session":
        if not isinstance(bad.get("sessions"), list) or not bad["sessions"]:
            bad["sessions"] = [{"number": 1, "modality": MODALITIES[0]}]
        src = bad["sessions"][d(st.integers(0, len(bad["sessions"]) - 1))]
        dup = {"number": src["number"], "modality": d(st.sampled_from(MODALITIES))}
        bad["sessions"].insert(d(st.integers(0, len(bad["sessions"]))), dup)
    elif kind == "negative_minute":
        minute = d(st.one_of(st.integers(-300, -1), st.floats(-300, 0, exclude_max=True)))
        key = d(st.sampled_from(["vitals", "moaas"]))
        lst, i = _target_list(
            bad,
            "sessions",
            lambda: {"number": _new_session_number(bad), "modality": MODALITIES[0]},
            data,
        )
        if not isinstance(lst[i].get(key), list):
            lst[i][key] = []
        lst[i][key].append({"minute": minute})
    elif kind == "moaas_range":
        score = d(
            st.one_of(
                st.just(MOAAS.max + 1),
                st.integers(MOAAS.max + 1, 100),
                st.integers(-100, MOAAS.min - 1),
            )
        )
        lst, i = _target_list(
            bad,
            "sessions",
            lambda: {"number": _new_session_number(bad), "modality": MODALITIES[0]},
            data,
        )
        if not isinstance(lst[i].get("moaas"), list):
            lst[i]["moaas"] = []
        lst[i]["moaas"].append({"minute": d(minutes()), "score": score})
    else:  # pragma: no cover
        raise AssertionError(kind)
    return bad, kind
