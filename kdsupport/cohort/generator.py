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

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from kdsupport.cohort.courses import BaselineVitals, draw_courses
from kdsupport.cohort.draws import Progress, choice, no_progress, normal, null_some, uniform, where
from kdsupport.cohort.schema import CSSRS_KEYS, TABLES, frame

if TYPE_CHECKING:
    from kdsupport.knowledge import KnowledgeBase
    from kdsupport.knowledge.models.synthetic import (
        SynHistory,
        SynScreening,
        SyntheticFile,
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


# The baseline administrations of every generated patient, in record order.
_BASELINE = ("phq9", "madrs", "cssrs_screener")


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
    tick = progress or no_progress
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
    madrs0 = normal(rng, syn.assessments.madrs_baseline, n).astype(int)
    level, answers = _draw_cssrs(rng, syn, n)
    blocked = _blocked_by_patient(kb, people.age, vitals.systolic, vitals.diastolic)
    modality = _assign_modality(rng, kb, diagnosis.primary, screened, level, blocked)
    tick("treatment", n)
    course = draw_courses(rng, kb, modality, madrs0, vitals)
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
    age = normal(rng, P.age_years, n).astype(int)
    sex = choice(rng, P.sex, n)
    childbearing = (
        (sex != "male") & (age >= P.childbearing_age.min) & (age <= P.childbearing_age.max)
    )
    pregnant = where(
        sex == "male", None, childbearing & (rng.random(n) < P.pregnant_if_childbearing)
    )
    breastfeeding = where(
        sex == "male",
        None,
        childbearing & ~(pregnant == True) & (rng.random(n) < P.breastfeeding_if_childbearing),  # noqa: E712
    )
    pregnant = null_some(rng, pregnant, P.field_not_recorded)
    breastfeeding = null_some(rng, breastfeeding, P.field_not_recorded)
    sex_out = null_some(rng, sex, P.field_not_recorded)
    sex_out[(sex_out == None) & (sex == "male")] = "male"  # noqa: E711 - keep records valid
    decimals = syn.recorded_decimals.weight_kg
    weight = null_some(rng, normal(rng, P.weight_kg, n, decimals), P.field_not_recorded)
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
    primary = null_some(rng, choice(rng, D.primary, n), D.field_not_recorded)
    months = np.round(
        np.clip(
            D.episode_months.median * np.exp(rng.normal(0, D.episode_months.sigma, n)),
            D.episode_months.min,
            D.episode_months.max,
        ),
        syn.recorded_decimals.current_episode_months,
    )
    months = null_some(rng, months, D.field_not_recorded)
    severity = choice(rng, D.severity, n)
    psychotic = np.where(severity == "severe", rng.random(n) < D.psychotic_if_severe, False)
    severity = null_some(rng, severity, D.field_not_recorded)
    psychotic = null_some(rng, psychotic, D.field_not_recorded)
    return _Diagnosis(primary, months, severity, psychotic)


def _draw_vitals(rng: np.random.Generator, V: SynVitals, n: int) -> BaselineVitals:
    """Draw baseline systolic and diastolic BP (a minimum pulse pressure apart), HR and SpO2."""
    sys_ = normal(rng, V.systolic_mmhg, n)
    dia = np.minimum(normal(rng, V.diastolic_mmhg, n), sys_ - V.min_pulse_pressure_mmhg)
    hr = normal(rng, V.heart_rate_bpm, n)
    spo2 = normal(rng, V.spo2_percent, n)
    return BaselineVitals(sys_, dia, hr, spo2)


def _patients_table(
    rng: np.random.Generator,
    V: SynVitals,
    pid: np.ndarray,
    people: _People,
    diagnosis: _Diagnosis,
    vitals: BaselineVitals,
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
            "systolic_mmhg": null_some(rng, vitals.systolic, V.field_not_recorded),
            "diastolic_mmhg": null_some(rng, vitals.diastolic, V.field_not_recorded),
            "heart_rate_bpm": null_some(rng, vitals.heart_rate, V.field_not_recorded),
            "spo2_percent": null_some(rng, vitals.spo2, V.field_not_recorded),
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
        np.round(uniform(rng, H.weeks_adequate, m)),
        np.round(uniform(rng, H.weeks_short, m)),
    )
    adherence = np.where(rng.random(m) < H.adherence_adequate, "adequate", "inadequate")
    improvement = normal(rng, H.improvement_percent, m)
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
            "dose_mg_per_day": null_some(rng, dose, p_null),
            "serum_level_mmol_l": null_some(rng, serum, p_null),
            "weeks": null_some(rng, weeks, p_null),
            "adherence": null_some(rng, adherence, p_null),
            "improvement_percent": null_some(rng, improvement, p_null),
            "dose_optimised": null_some(rng, optimised, p_null),
        },
    )


def _trial_slots(
    rng: np.random.Generator, H: SynHistory, n: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Draw each patient's number of antidepressant trials, then whether augmentation follows.

    Returns each trial's patient index, its number within the patient's history, and whether it
    is the augmentation trial.
    """
    n_ad = choice(rng, H.antidepressant_trials, n).astype(int)
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
        uniform(rng, H.dose_multiplier_adequate, m),
        uniform(rng, H.dose_multiplier_low, m),
    )
    step = np.full(m, syn.details.dose_rounding[-1].step_mg)
    for rule in reversed(syn.details.dose_rounding[:-1]):
        step = np.where(min_dose >= rule.at_least_mg, rule.step_mg, step)
    dose = np.round(min_dose * mult / step) * step
    dose = np.where(adequate_dose, np.maximum(dose, min_dose), np.minimum(dose, min_dose - step))
    dose = np.where(dose <= 0, step, dose)
    decimals = syn.recorded_decimals.serum_level_mmol_l
    serum = np.round(uniform(rng, H.lithium_serum_mmol_l, m), decimals)
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
            "laterality": null_some(
                rng, np.where(rng.random(k) < H.ect_bilateral, "bilateral", "unilateral"), p_null
            ),
            "sessions": np.round(uniform(rng, H.ect_sessions, k)).astype(int),
            "improvement_percent": null_some(
                rng, normal(rng, H.ect_improvement_percent, k), p_null
            ),
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
    values = [where(screened.assessed[f], screened.present[f], None) for f in _SCREENING_FIELDS]
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
    level = choice(rng, syn.assessments.cssrs_level, n)
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
    wanted = choice(rng, T.modality, n)
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
