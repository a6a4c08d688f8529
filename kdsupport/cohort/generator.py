"""Reproducible synthetic cohorts: tidy tables and one case record per patient.

:func:`generate_cohort` draws a cohort from the distributions in
``knowledge/synthetic.yaml`` (each a documented ``kind: assumption``) with a caller's
:class:`numpy.random.Generator`; nothing is seeded globally, and the same seed gives the same
bytes. The tables (patients, trials, ect, screening, assessments, assessment_items, cssrs,
sessions, vitals, moaas) are the single source of truth: :func:`records_from_tables` builds
the case records from them, so a table and its records can never disagree.

:func:`generate_cohort` is a sequence of drawing steps (patients, diagnosis, vitals, trials,
ECT, screening, PHQ-9, MADRS, C-SSRS, treatment, the courses' sessions, vitals, MOAA/S and
MADRS), each a function that says what it draws. The order of the draws, between the steps and
inside each, is what makes a seed give the same bytes: a change to it changes every cohort.

:func:`write_cohort` writes the tables (CSV or Parquet), the records (JSON, one per patient)
and a ``manifest.json`` with the generator version, seed, ``kb_version`` and the sha256 of
every file. :func:`read_tables` reads them back with proper dtypes, :func:`summarise` gives the
headline statistics that ``expected_ranges`` bounds.

Synthetic data only: nothing here describes real patients. Not a medical device.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from kdsupport.cohort.schema import CSSRS_KEYS, TABLES, frame

if TYPE_CHECKING:
    from kdsupport.knowledge import KnowledgeBase
    from kdsupport.knowledge.models.synthetic import (
        SynDetails,
        SynHistory,
        SynScreening,
        SyntheticFile,
        SynTreatment,
        SynVitals,
    )

__all__ = ["generate_cohort", "summarise"]

_SCREENING_FIELDS = (
    "aneurysmal_vascular_disease",
    "arteriovenous_malformation",
    "intracerebral_hemorrhage_history",
    "ketamine_hypersensitivity",
    "uncontrolled_hypertension",
    "unstable_cardiovascular_disease",
    "raised_intracranial_pressure",
    "psychosis_history",
    "current_psychosis_or_mania",
    "substance_use_disorder_active",
    "ketamine_misuse_history",
    "severe_hepatic_impairment",
    "moderate_hepatic_impairment",
    "interstitial_cystitis",
    "cns_depressant_use",
    "maoi_or_psychostimulant_use",
    "support_person_available",
)
Progress = Callable[[str, int], None]


def _noop(_: str, __: int = 0) -> None:
    return None


# ---------------------------------------------------------------- drawing helpers
def _choice(rng: np.random.Generator, table: dict[str, float], size: int) -> np.ndarray:
    keys = list(table)
    p = np.array([table[k] for k in keys], dtype=float)
    return np.array(keys, dtype=object)[rng.choice(len(keys), size=size, p=p / p.sum())]


def _normal(rng: np.random.Generator, d: Any, size: int, decimals: int = 0) -> np.ndarray:
    x = np.clip(rng.normal(d.mean, d.sd, size), d.min, d.max)
    return np.round(x, decimals)


def _uniform(rng: np.random.Generator, d: Any, size: int) -> np.ndarray:
    return rng.uniform(d.min, d.max, size)


# The baseline administrations of every generated patient, in record order.
_BASELINE = ("phq9", "madrs", "cssrs_screener")


def _where(cond: Any, yes: Any, no: Any) -> np.ndarray:
    """``np.where``, typed to allow ``None`` as a branch (numpy's stubs take array-likes only)."""
    return np.where(cond, yes, no)


def _null(rng: np.random.Generator, values: np.ndarray, p: float) -> np.ndarray:
    """Object array with each value set to None with probability ``p``."""
    out = values.astype(object)
    out[rng.random(len(values)) < p] = None
    return out


def _pid(n: int) -> np.ndarray:
    width = max(6, len(str(n)))
    return np.array([f"syn-{i:0{width}d}" for i in range(1, n + 1)], dtype=object)


def generate_cohort(
    n: int,
    rng: np.random.Generator,
    *,
    kb: KnowledgeBase | None = None,
    progress: Progress | None = None,
) -> dict[str, pd.DataFrame]:
    """Draw a synthetic cohort of ``n`` patients as tidy tables.

    Each step below draws from ``rng`` in turn; the order of the steps (and of the draws
    inside each) is what makes a seed give the same bytes, so it must not change.

    Parameters
    ----------
    n
        Number of patients (at least 1).
    rng
        The random generator; the caller owns the seed (``np.random.default_rng(seed)``).
    kb
        Knowledge base (drugs, minimum doses, screening severities, distributions).
    progress
        Optional callback ``progress(stage, done)`` for a progress display.
    """
    if n < 1:
        raise ValueError("n must be at least 1")
    if kb is None:
        from kdsupport.knowledge import load

        kb = load()
    tick = progress or _noop
    syn = kb.synthetic
    pid = _pid(n)

    people = _draw_patients(rng, syn, n)
    diagnosis = _draw_diagnosis(rng, syn, n)
    vitals = _draw_vitals(rng, syn.vitals, n)
    tick("patients", n)
    trials = _draw_trials(rng, kb, pid)
    tick("trials", n)
    ect = _draw_ect(rng, syn.history, pid)
    screened = _draw_screening(rng, syn.screening, n)
    tick("screening", n)
    phq = _draw_phq9(rng, kb, n)
    madrs0 = _normal(rng, syn.assessments.madrs_baseline, n).astype(int)
    level, answers = _draw_cssrs(rng, syn, n)
    blocked = _blocked_by_patient(kb, people.age, vitals.systolic, vitals.diastolic)
    modality = _assign_modality(rng, kb, diagnosis.primary, screened, level, blocked)
    tick("treatment", n)
    course = _courses(rng, kb, modality, madrs0, vitals)
    tick("sessions", n)
    tables = {
        "patients": _patients_table(rng, syn.vitals, pid, people, diagnosis, vitals, modality),
        "trials": trials,
        "ect": ect,
        "screening": _screening_table(pid, screened),
        "assessments": _assessments_table(pid, madrs0, course.madrs),
        "assessment_items": _items_table(pid, phq),
        "cssrs": _cssrs_table(pid, answers),
        "sessions": _with_pid("sessions", course.sessions, pid),
        "vitals": _with_pid("vitals", course.vitals, pid),
        "moaas": _with_pid("moaas", course.moaas, pid),
    }
    tick("tables", n)
    return tables


# ---------------------------------------------------------------- patients
@dataclass(frozen=True)
class _People:
    """Each patient's drawn demographics, as recorded (``None`` where not recorded)."""

    age: np.ndarray
    sex: np.ndarray
    weight: np.ndarray
    pregnant: np.ndarray
    breastfeeding: np.ndarray


def _draw_patients(rng: np.random.Generator, syn: SyntheticFile, n: int) -> _People:
    """Draw each patient's demographics.

    Draws age, sex, pregnancy and breastfeeding (women of childbearing age only), which of these
    went unrecorded, then weight and whether it went unrecorded. A male patient's sex is always
    recorded (a record without sex could not say he is male).
    """
    P = syn.patients
    age = _normal(rng, P.age_years, n).astype(int)
    sex = _choice(rng, P.sex, n)
    childbearing = (
        (sex != "male") & (age >= P.childbearing_age.min) & (age <= P.childbearing_age.max)
    )
    pregnant = _where(
        sex == "male", None, childbearing & (rng.random(n) < P.pregnant_if_childbearing)
    )
    breastfeeding = _where(
        sex == "male",
        None,
        childbearing & ~(pregnant == True) & (rng.random(n) < P.breastfeeding_if_childbearing),  # noqa: E712
    )
    pregnant = _null(rng, pregnant, P.field_not_recorded)
    breastfeeding = _null(rng, breastfeeding, P.field_not_recorded)
    sex_out = _null(rng, sex, P.field_not_recorded)
    sex_out[(sex_out == None) & (sex == "male")] = "male"  # noqa: E711 - keep records valid
    decimals = syn.recorded_decimals.weight_kg
    weight = _null(rng, _normal(rng, P.weight_kg, n, decimals), P.field_not_recorded)
    return _People(age, sex_out, weight, pregnant, breastfeeding)


@dataclass(frozen=True)
class _Diagnosis:
    """Each patient's drawn diagnosis, as recorded (``None`` where not recorded)."""

    primary: np.ndarray
    months: np.ndarray
    severity: np.ndarray
    psychotic: np.ndarray


def _draw_diagnosis(rng: np.random.Generator, syn: SyntheticFile, n: int) -> _Diagnosis:
    """Draw each patient's diagnosis.

    Draws the primary diagnosis and whether it went unrecorded, the current episode's length
    (log-normal) and whether it went unrecorded, the severity, psychotic features (only when
    severe), and whether each of these two went unrecorded.
    """
    D = syn.diagnosis
    primary = _null(rng, _choice(rng, D.primary, n), D.field_not_recorded)
    months = np.round(
        np.clip(
            D.episode_months.median * np.exp(rng.normal(0, D.episode_months.sigma, n)),
            D.episode_months.min,
            D.episode_months.max,
        ),
        syn.recorded_decimals.current_episode_months,
    )
    months = _null(rng, months, D.field_not_recorded)
    severity = _choice(rng, D.severity, n)
    psychotic = np.where(severity == "severe", rng.random(n) < D.psychotic_if_severe, False)
    severity = _null(rng, severity, D.field_not_recorded)
    psychotic = _null(rng, psychotic, D.field_not_recorded)
    return _Diagnosis(primary, months, severity, psychotic)


@dataclass(frozen=True)
class _Vitals:
    """Each patient's true baseline vitals (all present; the table leaves some unrecorded)."""

    systolic: np.ndarray
    diastolic: np.ndarray
    heart_rate: np.ndarray
    spo2: np.ndarray


def _draw_vitals(rng: np.random.Generator, V: SynVitals, n: int) -> _Vitals:
    """Draw baseline systolic and diastolic BP (a minimum pulse pressure apart), HR and SpO2."""
    sys_ = _normal(rng, V.systolic_mmhg, n)
    dia = np.minimum(_normal(rng, V.diastolic_mmhg, n), sys_ - V.min_pulse_pressure_mmhg)
    hr = _normal(rng, V.heart_rate_bpm, n)
    spo2 = _normal(rng, V.spo2_percent, n)
    return _Vitals(sys_, dia, hr, spo2)


def _patients_table(
    rng: np.random.Generator,
    V: SynVitals,
    pid: np.ndarray,
    people: _People,
    diagnosis: _Diagnosis,
    vitals: _Vitals,
    modality: np.ndarray,
) -> pd.DataFrame:
    """The patients table; draws which baseline vitals went unrecorded.

    These are the cohort's last draws, after the courses (which start from every patient's true
    vitals): that is the order the committed cohort was drawn in.
    """
    return frame(
        "patients",
        {
            "patient_id": pid,
            "age_years": people.age,
            "sex": people.sex,
            "weight_kg": people.weight,
            "pregnant": people.pregnant,
            "breastfeeding": people.breastfeeding,
            "primary": diagnosis.primary,
            "current_episode_months": diagnosis.months,
            "severity": diagnosis.severity,
            "psychotic_features": diagnosis.psychotic,
            "systolic_mmhg": _null(rng, vitals.systolic, V.field_not_recorded),
            "diastolic_mmhg": _null(rng, vitals.diastolic, V.field_not_recorded),
            "heart_rate_bpm": _null(rng, vitals.heart_rate, V.field_not_recorded),
            "spo2_percent": _null(rng, vitals.spo2, V.field_not_recorded),
            "treatment_modality": modality,
        },
    )


# ---------------------------------------------------------------- medication trials and ECT
def _draw_trials(rng: np.random.Generator, kb: KnowledgeBase, pid: np.ndarray) -> pd.DataFrame:
    """The trials table: each patient's medication trial history.

    Draws each patient's trials (:func:`_trial_slots`), each trial's drug, role and episode
    (:func:`_trial_drugs`), its dose or serum level (:func:`_trial_doses`), then its duration,
    adherence, improvement and whether the dose was optimised, and last which of these went
    unrecorded.
    """
    H = kb.synthetic.history
    t_pat, t_num, is_aug = _trial_slots(rng, H, len(pid))
    drug, role, episode = _trial_drugs(rng, kb, t_num, is_aug)
    dose, serum = _trial_doses(rng, kb, drug)
    m = len(t_pat)
    weeks = np.where(
        rng.random(m) < H.adequate_duration,
        np.round(_uniform(rng, H.weeks_adequate, m)),
        np.round(_uniform(rng, H.weeks_short, m)),
    )
    adherence = np.where(rng.random(m) < H.adherence_adequate, "adequate", "inadequate")
    improvement = _normal(rng, H.improvement_percent, m)
    optimised = rng.random(m) < H.dose_optimised
    p_null = H.field_not_recorded
    return frame(
        "trials",
        {
            "patient_id": pid[t_pat],
            "trial": t_num,
            "drug": drug,
            "role": role,
            "episode": episode,
            "dose_mg_per_day": _null(rng, dose, p_null),
            "serum_level_mmol_l": _null(rng, serum, p_null),
            "weeks": _null(rng, weeks, p_null),
            "adherence": _null(rng, adherence, p_null),
            "improvement_percent": _null(rng, improvement, p_null),
            "dose_optimised": _null(rng, optimised, p_null),
        },
    )


def _trial_slots(
    rng: np.random.Generator, H: SynHistory, n: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Draw each patient's number of antidepressant trials, then whether augmentation follows.

    Returns each trial's patient index, its number within the patient's history, and whether it
    is the augmentation trial.
    """
    n_ad = _choice(rng, H.antidepressant_trials, n).astype(int)
    has_aug = rng.random(n) < H.augmentation_trial
    n_tr = n_ad + has_aug
    t_pat = np.repeat(np.arange(n), n_tr)
    t_num = np.concatenate([np.arange(k) for k in n_tr]) if len(t_pat) else np.array([], int)
    is_aug = t_num >= np.repeat(n_ad, n_tr)
    return t_pat, t_num, is_aug


def _trial_drugs(
    rng: np.random.Generator, kb: KnowledgeBase, t_num: np.ndarray, is_aug: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Draw each trial's drug, then its role, then its episode.

    The drug is an augmenting agent for the augmentation trial, else an antidepressant; a later
    antidepressant trial may be a combination; a trial may be from a previous episode.
    """
    H = kb.synthetic.history
    drugs = kb.drugs.drugs
    ad_names = [d for d, x in drugs.items() if kb.drugs.classes[x.drug_class].antidepressant]
    aug_names = [d for d, x in drugs.items() if not kb.drugs.classes[x.drug_class].antidepressant]
    m = len(t_num)
    t_drug = np.where(
        is_aug,
        np.array(aug_names, dtype=object)[rng.integers(0, len(aug_names), m)],
        np.array(ad_names, dtype=object)[rng.integers(0, len(ad_names), m)],
    )
    t_role = np.where(
        is_aug,
        "augmentation",
        np.where((t_num > 0) & (rng.random(m) < H.combination_role), "combination", "monotherapy"),
    )
    t_episode = np.where(rng.random(m) < H.previous_episode, "previous", "current")
    return t_drug, t_role, t_episode


def _trial_doses(
    rng: np.random.Generator, kb: KnowledgeBase, drug: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Draw whether each trial's dose was adequate, then its dose and a serum level.

    The dose is a multiple of the drug's minimum adequate dose, rounded to the knowledge base's
    steps and kept on the drawn side of the minimum. Returns the daily doses (NaN for a drug
    judged by serum level, lithium) and the serum levels (NaN for the others).
    """
    syn = kb.synthetic
    H = syn.history
    drugs = kb.drugs.drugs
    m = len(drug)
    min_dose = np.array(
        [drugs[d].min_adequate["atrq"].mg_per_day or 0.0 for d in drug], dtype=float
    )
    min_serum = np.array(
        [drugs[d].min_adequate["atrq"].serum_level_mmol_l or 0.0 for d in drug], dtype=float
    )
    serum_judged = min_serum > 0
    adequate_dose = rng.random(m) < H.adequate_dose
    mult = np.where(
        adequate_dose,
        _uniform(rng, H.dose_multiplier_adequate, m),
        _uniform(rng, H.dose_multiplier_low, m),
    )
    step = np.full(m, syn.details.dose_rounding[-1].step_mg)
    for rule in reversed(syn.details.dose_rounding[:-1]):
        step = np.where(min_dose >= rule.at_least_mg, rule.step_mg, step)
    dose = np.round(min_dose * mult / step) * step
    dose = np.where(adequate_dose, np.maximum(dose, min_dose), np.minimum(dose, min_dose - step))
    dose = np.where(dose <= 0, step, dose)
    decimals = syn.recorded_decimals.serum_level_mmol_l
    serum = np.round(_uniform(rng, H.lithium_serum_mmol_l, m), decimals)
    return np.where(serum_judged, np.nan, dose), np.where(serum_judged, serum, np.nan)


def _draw_ect(rng: np.random.Generator, H: SynHistory, pid: np.ndarray) -> pd.DataFrame:
    """The ECT table: which patients had a course of ECT, and how it went.

    Draws which patients had a course, then each course's episode, laterality and whether it
    went unrecorded, number of sessions, improvement and whether it went unrecorded.
    """
    e_pat = np.flatnonzero(rng.random(len(pid)) < H.ect_course)
    k = len(e_pat)
    p_null = H.field_not_recorded
    return frame(
        "ect",
        {
            "patient_id": pid[e_pat],
            "course": np.zeros(k, int),
            "episode": np.where(rng.random(k) < H.previous_episode, "previous", "current"),
            "laterality": _null(
                rng, np.where(rng.random(k) < H.ect_bilateral, "bilateral", "unilateral"), p_null
            ),
            "sessions": np.round(_uniform(rng, H.ect_sessions, k)).astype(int),
            "improvement_percent": _null(rng, _normal(rng, H.ect_improvement_percent, k), p_null),
        },
    )


# ---------------------------------------------------------------- screening
@dataclass(frozen=True)
class _Screened:
    """Per screening field: whether it is present, and whether it was assessed at all."""

    present: dict[str, np.ndarray]
    assessed: dict[str, np.ndarray]


def _draw_screening(rng: np.random.Generator, S: SynScreening, n: int) -> _Screened:
    """Draw every screening field's presence (its prevalence), then whether it was assessed."""
    present = {f: rng.random(n) < S.prevalence[f] for f in _SCREENING_FIELDS}
    assessed = {f: rng.random(n) >= S.item_not_assessed for f in _SCREENING_FIELDS}
    return _Screened(present, assessed)


def _screening_table(pid: np.ndarray, screened: _Screened) -> pd.DataFrame:
    """The screening table: one row per patient and field (``None`` where not assessed)."""
    values = [_where(screened.assessed[f], screened.present[f], None) for f in _SCREENING_FIELDS]
    return frame(
        "screening",
        {
            "patient_id": np.repeat(pid, len(_SCREENING_FIELDS)),
            "item": np.tile(np.array(_SCREENING_FIELDS, dtype=object), len(pid)),
            "value": np.stack(values, axis=1).reshape(-1),
        },
    )


# ---------------------------------------------------------------- baseline scales and C-SSRS
def _draw_phq9(rng: np.random.Generator, kb: KnowledgeBase, n: int) -> np.ndarray:
    """Draw the baseline PHQ-9's item scores, an ``(n, items)`` array.

    Draws every item's score, then a positive item 9 score and whether item 9 is positive (it is
    0 otherwise).
    """
    A, DT = kb.synthetic.assessments, kb.synthetic.details
    phq9 = kb.scales.instruments["phq9"]
    assert phq9.items is not None
    n_items = phq9.items.count
    item9 = next(f for f in phq9.flags if f.code == "item9_positive").item - 1
    phq = rng.choice(len(A.phq9_item_probabilities), size=(n, n_items), p=A.phq9_item_probabilities)
    positive = rng.integers(
        int(DT.phq9_item9_positive_scores.min), int(DT.phq9_item9_positive_scores.max) + 1, n
    )
    phq[:, item9] = np.where(rng.random(n) < A.phq9_item9_positive, positive, 0)
    return phq


def _draw_cssrs(
    rng: np.random.Generator, syn: SyntheticFile, n: int
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Draw each patient's C-SSRS screener level, then answers consistent with it."""
    level = _choice(rng, syn.assessments.cssrs_level, n)
    return level, _cssrs_answers(rng, level, syn.details.cssrs_split)


def _cssrs_answers(
    rng: np.random.Generator, level: np.ndarray, split: float
) -> dict[str, np.ndarray]:
    """Answers consistent with the screener's skip logic for each drawn level."""
    n = len(level)
    a = {k: np.full(n, False, dtype=object) for k in CSSRS_KEYS}
    coin = rng.random(n) < split
    low, mod, high, inc = (
        (level == "low"),
        (level == "moderate"),
        (level == "high"),
        (level == "incomplete"),
    )
    a["wish_to_be_dead"][low | mod | high | inc] = True
    a["active_thoughts"][(low & coin) | mod | high] = True
    a["method"][mod & coin] = True
    a["behavior"][mod & ~coin] = True
    a["intent"][high & coin] = True
    a["plan"][high & ~coin] = True
    # skip rule: questions 3-5 not asked after a "no" to question 2
    not_asked = a["active_thoughts"] == False  # noqa: E712
    for k in ("method", "intent", "plan"):
        a[k][not_asked] = None
    a["behavior_past_3_months"][a["behavior"] == False] = None  # noqa: E712
    a["behavior_past_3_months"][mod & ~coin] = False
    for k in ("active_thoughts", "method", "intent", "plan"):
        a[k][inc] = None
    return a


# ---------------------------------------------------------------- assembled tables (no draws)
def _assessments_table(
    pid: np.ndarray, madrs0: np.ndarray, later: dict[int, list[tuple[str, str, int]]]
) -> pd.DataFrame:
    """The assessments table: the baselines (PHQ-9, MADRS, C-SSRS), then the course's MADRS."""
    rows: dict[str, list[Any]] = {k: [] for k in TABLES["assessments"]}
    for i in range(len(pid)):
        totals = {"madrs": int(madrs0[i])}
        entries = [(ins, "baseline", totals.get(ins)) for ins in _BASELINE]
        entries += later.get(i, [])
        for j, (ins, when, total) in enumerate(entries):
            rows["patient_id"].append(pid[i])
            rows["index"].append(j)
            rows["instrument"].append(ins)
            rows["when"].append(when)
            rows["total"].append(total)
    return frame("assessments", rows)


def _items_table(pid: np.ndarray, phq: np.ndarray) -> pd.DataFrame:
    """The assessment_items table: the baseline PHQ-9's item scores (assessment index 0)."""
    n, n_items = phq.shape
    return frame(
        "assessment_items",
        {
            "patient_id": np.repeat(pid, n_items),
            "index": np.zeros(n_items * n, int),
            "item": np.tile(np.arange(1, n_items + 1), n),
            "score": phq.reshape(-1),
        },
    )


def _cssrs_table(pid: np.ndarray, answers: dict[str, np.ndarray]) -> pd.DataFrame:
    """The cssrs table: the baseline screener's answers."""
    cssrs_at = _BASELINE.index("cssrs_screener")  # the screener's place among the baselines
    return frame("cssrs", {"patient_id": pid, "index": np.full(len(pid), cssrs_at), **answers})


def _with_pid(table: str, columns: dict[str, Any], pid: np.ndarray) -> pd.DataFrame:
    """A course table, its patient indexes replaced by patient ids."""
    return frame(table, {**columns, "patient_id": pid[columns["patient_id"]]})


# ---------------------------------------------------------------- treatment assignment
def _blocked_by_patient(
    kb: KnowledgeBase, age: np.ndarray, sys_: np.ndarray, dia: np.ndarray
) -> dict[str, np.ndarray]:
    """The derived contraindication items that depend on the patient (the rules' thresholds)."""
    from kdsupport.rules.monitoring import bp_tiers

    items = kb.screening.items
    out = {"predose_bp_severe": bp_tiers(sys_, dia, kb) == kb.vitals.predose_bp_guide.severe.status}
    for name, op in (("age_under_18", np.less), ("age_65_or_over", np.greater_equal)):
        threshold = items[name].threshold
        assert threshold is not None
        out[name] = op(age, threshold.value)
    return out


def _assign_modality(
    rng: np.random.Generator,
    kb: KnowledgeBase,
    primary: np.ndarray,
    screened: _Screened,
    level: np.ndarray,
    blocked_all: dict[str, np.ndarray],
) -> np.ndarray:
    """A modality for treated patients, never one their screening contraindicates.

    Draws each patient's wanted modality, then whether a patient with MDD is treated; a treated
    patient gets the wanted modality, else the first in the knowledge base's order that their
    screening, C-SSRS level or ``blocked_all`` (:func:`_blocked_by_patient`) does not block.
    """
    n = len(primary)
    present, assessed = screened.present, screened.assessed
    T = kb.synthetic.treatment
    order = list(T.modality)
    wanted = _choice(rng, T.modality, n)
    treat = (rng.random(n) < T.treated) & (primary == "mdd")
    blocked: dict[str, np.ndarray] = {}
    for mname, mod in kb.screening.modalities.items():
        b = np.zeros(n, bool)
        for item, spec in mod.items.items():
            if spec.severity != "contraindication":
                continue
            derived = kb.screening.items[item].derived
            if derived in ("suicide_risk_high", "urgent_suicide_evaluation"):
                b |= level == "high"  # the C-SSRS action is urgent exactly when the level is high
            elif derived is not None:
                b |= blocked_all.get(item, np.zeros(n, bool))
                continue
            field = kb.screening.items[item].field.split(".")[1]
            if field == "support_person_available":
                b |= assessed[field] & ~present[field]
            elif field in present:
                b |= assessed[field] & present[field]
        blocked[mname] = b
    out = np.full(n, None, dtype=object)
    for i in np.flatnonzero(treat):
        for mname in [wanted[i]] + [m for m in order if m != wanted[i]]:
            if not blocked[mname][i]:
                out[i] = mname
                break
    return out


# ---------------------------------------------------------------- treatment courses
@dataclass(frozen=True)
class _Courses:
    """Treated patients' courses: table columns (patient indexes, not ids) and MADRS rows."""

    sessions: dict[str, Any]
    vitals: dict[str, Any]
    moaas: dict[str, Any]
    madrs: dict[int, list[tuple[str, str, int]]]


@dataclass(frozen=True)
class _Slots:
    """The sessions of the treated patients, one entry per session, patient by patient."""

    treated: np.ndarray  # the treated patients' indexes
    n_sess: np.ndarray  # each treated patient's number of sessions
    patient: np.ndarray  # each session's patient index
    number: np.ndarray  # each session's number (from 1)
    modality: np.ndarray  # each session's modality

    @property
    def size(self) -> int:
        """The number of sessions."""
        return len(self.patient)


def _courses(
    rng: np.random.Generator,
    kb: KnowledgeBase,
    modality: np.ndarray,
    madrs0: np.ndarray,
    vit: _Vitals,
) -> _Courses:
    """Sessions, session vitals, MOAA/S and the MADRS trajectory of treated patients.

    Draws, in this order, the sessions (:func:`_sessions`), their vitals
    (:func:`_session_vitals`), their MOAA/S readings (:func:`_moaas`) and each treated
    patient's MADRS course (:func:`_madrs_courses`).
    """
    slots = _session_slots(kb.synthetic.treatment, modality)
    sessions, observation = _sessions(rng, kb, slots)
    vitals = _session_vitals(rng, kb, slots, vit, observation)
    moaas = _moaas(rng, kb, slots, observation)
    madrs = _madrs_courses(rng, kb, slots, modality, madrs0)
    return _Courses(sessions, vitals, moaas, madrs)


def _session_slots(T: SynTreatment, modality: np.ndarray) -> _Slots:
    """Every treated patient's sessions (the modality's number of sessions); draws nothing."""
    treated = np.flatnonzero(modality != None)  # noqa: E711
    n_sess = np.array([T.sessions[modality[i]] for i in treated], dtype=int)
    s_pat = np.repeat(treated, n_sess)
    s_num = (
        np.concatenate([np.arange(1, k + 1) for k in n_sess]) if len(treated) else np.array([], int)
    )
    return _Slots(treated, n_sess, s_pat, s_num, modality[s_pat])


def _sessions(
    rng: np.random.Generator, kb: KnowledgeBase, slots: _Slots
) -> tuple[dict[str, Any], np.ndarray]:
    """The sessions table's columns, and each session's observation minutes.

    Draws the esketamine and at-home doses, whether observation was short, the dissociation
    (:func:`_cadss`) and the adverse events.
    """
    T = kb.synthetic.treatment
    S = slots.size
    s_num, s_mod = slots.number, slots.modality
    esk, iv, home = (
        (s_mod == "esketamine_nasal"),
        (s_mod == "iv_ketamine"),
        (s_mod == "at_home_ketamine"),
    )
    dose = np.full(S, np.nan)
    dose[esk] = np.where(
        s_num[esk] == 1,
        T.esketamine_doses_mg[0],
        np.array(T.esketamine_doses_mg)[rng.integers(0, len(T.esketamine_doses_mg), esk.sum())],
    )
    dose[home] = np.array(T.at_home_doses_mg)[rng.integers(0, len(T.at_home_doses_mg), home.sum())]
    short = rng.random(S) < T.short_observation
    observation = np.where(short, T.short_observation_minutes, T.observation_minutes)
    cadss = _cadss(rng, kb, slots)
    ae_draw = {k: rng.random(S) < p for k, p in T.adverse_events.items()}
    events = [";".join(k for k in T.adverse_events if ae_draw[k][s]) for s in range(S)]
    sessions = {
        "patient_id": slots.patient,
        "number": s_num,
        "modality": s_mod,
        "dose_mg": np.where(iv, np.nan, dose),
        "dose_mg_per_kg": np.where(iv, T.iv_dose_mg_per_kg, np.nan),
        "infusion_minutes": np.where(iv, T.iv_infusion_minutes, np.nan),
        "cadss_total": cadss,
        "observation_minutes": observation.astype(float),
        "adverse_events": np.array(events, dtype=object),
    }
    return sessions, observation


def _cadss(rng: np.random.Generator, kb: KnowledgeBase, slots: _Slots) -> np.ndarray:
    """Draw each treated patient's first-session CADSS, then every session's noise.

    The CADSS total decays by a constant factor per session, within the scale's range.
    """
    DIS, D = kb.synthetic.dissociation, kb.synthetic.details
    cadss_range = kb.scales.instruments["cadss"].total
    assert cadss_range is not None
    cadss0 = _normal(rng, DIS.cadss_first_session, len(slots.treated))
    return np.clip(
        np.round(
            np.repeat(cadss0, slots.n_sess) * DIS.decay_per_session ** (slots.number - 1)
            + rng.normal(0, D.cadss_noise, slots.size)
        ),
        cadss_range.min,
        cadss_range.max,
    ).astype(int)


def _session_vitals(
    rng: np.random.Generator,
    kb: KnowledgeBase,
    slots: _Slots,
    vit: _Vitals,
    observation: np.ndarray,
) -> dict[str, Any]:
    """The vitals table's columns: each session's readings, baseline + peak rise x time course.

    Draws each session's BP peak rise (:func:`_bp_peaks`) and baseline
    (:func:`_session_baselines`), the readings (:func:`_readings`), then which sessions missed
    the BP re-check (the rules' own re-check window). A reading after the end of observation is
    dropped.
    """
    T = kb.synthetic.treatment
    peaks = _bp_peaks(rng, kb.synthetic, slots.modality)
    bases = _session_baselines(rng, kb.synthetic, slots.patient, vit)
    minutes = [np.array(T.vitals_minutes[m], dtype=float) for m in slots.modality]
    counts = np.array([len(x) for x in minutes], dtype=int)
    r_sess = np.repeat(np.arange(slots.size), counts)
    r_min = np.concatenate(minutes) if slots.size else np.array([], float)
    r_sys, r_dia, r_hr, r_spo2 = _readings(
        rng, kb.synthetic, slots, vit, peaks, bases, r_sess, r_min
    )
    missed = np.repeat(rng.random(slots.size) < T.missed_recheck, counts)
    w = kb.vitals.session_monitoring.checks["bp_rechecked"].window_minutes
    assert w is not None
    in_recheck = (r_min >= w.min) & (r_min <= w.max)  # the rules' own re-check window
    keep = ~(missed & in_recheck) & (r_min <= observation[r_sess])
    return {
        "patient_id": slots.patient[r_sess][keep],
        "number": slots.number[r_sess][keep],
        "minute": r_min[keep],
        "systolic_mmhg": r_sys[keep],
        "diastolic_mmhg": r_dia[keep],
        "heart_rate_bpm": r_hr[keep],
        "spo2_percent": r_spo2[keep],
    }


def _bp_peaks(
    rng: np.random.Generator, syn: SyntheticFile, s_mod: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Draw each session's systolic and diastolic peak rise (by modality), and the large rises.

    Draws the systolic and the diastolic peaks, then whether the session has a large rise, then
    the large rise's systolic peak (the diastolic one a fixed fraction of it).
    """
    SV, D = syn.session_vitals, syn.details
    S = len(s_mod)
    mu_s = np.array([SV.peak_rise_systolic_mmhg[m][0] for m in s_mod])
    sd_s = np.array([SV.peak_rise_systolic_mmhg[m][1] for m in s_mod])
    mu_d = np.array([SV.peak_rise_diastolic_mmhg[m][0] for m in s_mod])
    sd_d = np.array([SV.peak_rise_diastolic_mmhg[m][1] for m in s_mod])
    peak_s = np.maximum(rng.normal(mu_s, sd_s), 0)
    peak_d = np.maximum(rng.normal(mu_d, sd_d), 0)
    large = rng.random(S) < SV.large_rise_per_session
    peak_s = np.where(large, _uniform(rng, SV.large_rise_systolic_mmhg, S), peak_s)
    peak_d = np.where(large, peak_s * D.large_rise_diastolic_fraction, peak_d)
    return peak_s, peak_d


def _session_baselines(
    rng: np.random.Generator, syn: SyntheticFile, s_pat: np.ndarray, vit: _Vitals
) -> tuple[np.ndarray, np.ndarray]:
    """Draw each session's baseline systolic, then diastolic BP: the patient's, plus noise."""
    noise_bp = syn.details.session_baseline_noise_mmhg
    S = len(s_pat)
    base_s = vit.systolic[s_pat] + rng.normal(0, noise_bp["systolic"], S)
    base_d = np.minimum(
        vit.diastolic[s_pat] + rng.normal(0, noise_bp["diastolic"], S),
        base_s - syn.vitals.min_pulse_pressure_mmhg,
    )
    return base_s, base_d


def _readings(
    rng: np.random.Generator,
    syn: SyntheticFile,
    slots: _Slots,
    vit: _Vitals,
    peaks: tuple[np.ndarray, np.ndarray],
    bases: tuple[np.ndarray, np.ndarray],
    r_sess: np.ndarray,
    r_min: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Each reading's systolic, diastolic, heart rate and SpO2 (``r_sess``: its session).

    Draws the systolic and diastolic noise, each session's heart rate rise, the SpO2 noise, then
    which SpO2 readings went unrecorded (the pre-dose one is always recorded). BP and heart rate
    follow the peak's time course (``fraction_of_peak_by_minute``).
    """
    T, SV, D = syn.treatment, syn.session_vitals, syn.details
    frac_table = {float(k): v for k, v in SV.fraction_of_peak_by_minute.items()}
    frac = np.array([frac_table[x] for x in r_min])
    R = len(r_sess)
    noise = SV.reading_noise_mmhg
    (peak_s, peak_d), (base_s, base_d) = peaks, bases
    r_sys = np.round(base_s[r_sess] + peak_s[r_sess] * frac + rng.normal(0, noise, R))
    r_dia = np.round(
        np.minimum(
            base_d[r_sess] + peak_d[r_sess] * frac + rng.normal(0, noise, R),
            r_sys - D.session_min_pulse_pressure_mmhg,
        )
    )
    s_pat = slots.patient
    hr_rise_mean, hr_rise_sd = SV.heart_rate_rise_bpm
    rise = rng.normal(hr_rise_mean, hr_rise_sd, slots.size)[r_sess]
    r_hr = np.round(vit.heart_rate[s_pat][r_sess] + rise * frac)
    lo_spo2, hi_spo2 = D.session_spo2_percent.min, D.session_spo2_percent.max
    spo2 = vit.spo2[s_pat][r_sess]
    r_spo2 = np.clip(
        np.round(spo2 + rng.normal(0, D.session_spo2_noise_percent, R)), lo_spo2, hi_spo2
    )
    r_spo2 = _null(rng, r_spo2, T.spo2_not_recorded)
    r_spo2[r_min == 0] = np.clip(np.round(spo2[r_min == 0]), lo_spo2, hi_spo2)
    return r_sys, r_dia, r_hr, r_spo2


def _moaas(
    rng: np.random.Generator, kb: KnowledgeBase, slots: _Slots, observation: np.ndarray
) -> dict[str, Any]:
    """The moaas table's columns: MOAA/S at its minute and at the end of observation.

    Draws each session's MOAA/S at that minute, then whether the patient was alert by the end
    (the rules' alert score, else the knowledge base's score for not alert).
    """
    SED, D = kb.synthetic.sedation, kb.synthetic.details
    S = slots.size
    alert_score = kb.vitals.session_monitoring.checks["sedation_resolved"].alert_score
    assert alert_score is not None
    m40 = _choice(rng, SED.moaas_at_40, S).astype(int)
    m_end = np.where(
        rng.random(S) < SED.alert_by_120, int(alert_score.value), D.moaas_end_if_not_alert
    )
    readings = (np.full(S, D.moaas_minute), observation)
    return {
        "patient_id": np.repeat(slots.patient, len(readings)),
        "number": np.repeat(slots.number, len(readings)),
        "minute": np.column_stack(readings).reshape(-1),
        "score": np.column_stack([m40, m_end]).reshape(-1),
    }


def _madrs_courses(
    rng: np.random.Generator,
    kb: KnowledgeBase,
    slots: _Slots,
    modality: np.ndarray,
    madrs0: np.ndarray,
) -> dict[int, list[tuple[str, str, int]]]:
    """Each treated patient's MADRS rows after baseline, by patient index.

    Patient by patient, draws the final total (:func:`_final_madrs`), then the trajectory to it
    (:func:`_madrs_trajectory`). What counts as response and remission is the rules' own
    (rules/scales.py).
    """
    madrs = kb.scales.instruments["madrs"].total
    assert madrs is not None
    remit_max, respond_max_by_baseline = _outcome_bounds(kb, int(madrs.min), int(madrs.max))
    later: dict[int, list[tuple[str, str, int]]] = {}
    for i, k in zip(slots.treated, slots.n_sess, strict=True):
        b = int(madrs0[i])
        respond_max = respond_max_by_baseline[b]  # the highest final score that is a response
        final = _final_madrs(rng, kb.synthetic, modality[i], b, remit_max, respond_max)
        later[int(i)] = _madrs_trajectory(rng, kb.synthetic.details, madrs, b, final, k)
    return later


def _final_madrs(
    rng: np.random.Generator,
    syn: SyntheticFile,
    mod: str,
    b: int,
    remit_max: int,
    respond_max: int,
) -> int:
    """Draw an outcome category with the modality's shares, then a final MADRS in it.

    The categories are remission, response without remission (a remission when no response
    score is above ``remit_max``) and neither (up to a little worse than baseline ``b``).
    """
    outcome, D = syn.treatment.outcome, syn.details
    low = D.madrs_final_min
    u = rng.random()
    if u < outcome.remission[mod]:
        return int(rng.integers(low, min(remit_max, respond_max) + 1))
    if (
        u < outcome.remission[mod] + outcome.response_without_remission[mod]
        and respond_max > remit_max
    ):
        return int(rng.integers(remit_max + 1, respond_max + 1))
    if u < outcome.remission[mod] + outcome.response_without_remission[mod]:
        return int(rng.integers(low, min(remit_max, respond_max) + 1))
    return int(rng.integers(respond_max + 1, b + D.madrs_worsening_up_to + 1))


def _madrs_trajectory(
    rng: np.random.Generator, D: SynDetails, madrs: Any, b: int, final: int, k: int
) -> list[tuple[str, str, int]]:
    """MADRS at every n-th of ``k`` sessions and at the last, from baseline ``b`` to ``final``.

    Draws the noise of every n-th session's total around a power curve; the last is ``final``.
    """
    step = D.madrs_every_nth_session
    points = list(range(step, k, step))
    jitter = rng.normal(0, D.madrs_trajectory_noise, len(points)).tolist()
    shape = D.madrs_trajectory_exponent
    rows = [
        (
            "madrs",
            f"session-{s}",
            int(min(madrs.max, max(madrs.min, round(b + (final - b) * (s / k) ** shape + e)))),
        )
        for s, e in zip(points, jitter, strict=True)
    ]
    rows.append(("madrs", f"session-{k}", final))
    return rows


def _outcome_bounds(kb: KnowledgeBase, lo: int, hi: int) -> tuple[int, dict[int, int]]:
    """The highest final MADRS that is a remission, and per baseline the highest that is a response.

    Both are the rules' own answers (:func:`~kdsupport.rules.scales.remission_columns`,
    :func:`~kdsupport.rules.scales.response_columns`) over every total from ``lo`` to ``hi``;
    ``lo - 1`` when no total qualifies.
    """
    from kdsupport.rules.scales import remission_columns, response_columns

    totals = np.arange(lo, hi + 1)
    remits = remission_columns(totals, kb, instrument="madrs").to_numpy(bool, na_value=False)
    base, final = np.meshgrid(totals, totals, indexing="ij")
    responds = (
        response_columns(base.ravel(), final.ravel(), kb)
        .to_numpy(bool, na_value=False)
        .reshape(base.shape)
    )
    remit_max = int(totals[remits].max()) if remits.any() else lo - 1
    by_baseline = {
        int(b): int(totals[row].max()) if row.any() else lo - 1
        for b, row in zip(totals, responds, strict=True)
    }
    return remit_max, by_baseline


def summarise(tables: dict[str, pd.DataFrame], kb: KnowledgeBase | None = None) -> dict[str, Any]:
    """Headline statistics of a cohort (what ``expected_ranges`` bounds).

    Response, remission and the large BP rise are the rule modules' column-wise twins.
    """
    from kdsupport.rules.monitoring import large_rise_columns
    from kdsupport.rules.scales import outcome_totals, remission_columns, response_columns

    if kb is None:
        from kdsupport.knowledge import load

        kb = load()
    pats = tables["patients"]
    df = outcome_totals(tables["assessments"], "madrs")
    df["modality"] = pats.set_index("patient_id")["treatment_modality"].reindex(df.index)
    df["response"] = response_columns(df["baseline"], df["latest"], kb)
    df["remission"] = remission_columns(df["latest"], kb, instrument="madrs")
    # a session has a large rise when a reading is one (an unknown reading is not counted)
    v = tables["vitals"]
    large = large_rise_columns(v, kb).fillna(False)
    per_session = v.assign(large=large).groupby(["patient_id", "number"])["large"].any()
    s = tables["sessions"]
    per_session = per_session.reindex(
        pd.MultiIndex.from_frame(s[["patient_id", "number"]]), fill_value=False
    )
    esk = s.loc[s["modality"] == "esketamine_nasal", ["patient_id", "number"]]
    esk_pat = per_session.loc[pd.MultiIndex.from_frame(esk)].groupby(level=0).any()
    cadss = s.groupby("number")["cadss_total"].mean()
    out = {
        "n_patients": int(len(pats)),
        "treated_fraction": float(pats["treatment_modality"].notna().mean()),
        "treated_by_modality": {
            m: int((pats["treatment_modality"] == m).sum()) for m in kb.screening.modalities
        },
        "response_rate": {
            m: float(g["response"].mean()) for m, g in df.groupby("modality", observed=True)
        },
        "remission_rate": {
            m: float(g["remission"].mean()) for m, g in df.groupby("modality", observed=True)
        },
        "n_sessions": int(len(s)),
        "sessions_with_large_rise": float(per_session.mean()) if len(per_session) else 0.0,
        "esketamine_patients_with_large_rise": float(esk_pat.mean()) if len(esk_pat) else 0.0,
        "cadss_mean_by_session": {
            int(k): round(float(x), 1) for k, x in zip(cadss.index, cadss, strict=True)
        },
        "cadss_last_over_first": float(cadss.iloc[-1] / cadss.iloc[0])
        if len(cadss) > 1
        else float("nan"),
    }
    return out
