"""Treatment courses of the synthetic cohort: sessions, their vitals, MOAA/S, CADSS and MADRS.

The draws happen in a fixed order (sessions, session vitals, MOAA/S, MADRS courses); changing
the order changes every cohort. Every number comes from ``knowledge/synthetic.yaml``.

Synthetic data only; not a medical device.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from kdsupport.cohort.draws import choice, normal, null_some, uniform

if TYPE_CHECKING:
    from kdsupport.knowledge import KnowledgeBase
    from kdsupport.knowledge.models.synthetic import SynDetails, SyntheticFile, SynTreatment

__all__ = ["BaselineVitals", "Courses", "draw_courses"]


@dataclass(frozen=True)
class BaselineVitals:
    """Each patient's true baseline vitals (all present; the table leaves some unrecorded)."""

    systolic: np.ndarray
    diastolic: np.ndarray
    heart_rate: np.ndarray
    spo2: np.ndarray


@dataclass(frozen=True)
class Courses:
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


def draw_courses(
    rng: np.random.Generator,
    kb: KnowledgeBase,
    modality: np.ndarray,
    madrs0: np.ndarray,
    vit: BaselineVitals,
) -> Courses:
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
    return Courses(sessions, vitals, moaas, madrs)


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
    cadss0 = normal(rng, DIS.cadss_first_session, len(slots.treated))
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
    vit: BaselineVitals,
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
    peak_s = np.where(large, uniform(rng, SV.large_rise_systolic_mmhg, S), peak_s)
    peak_d = np.where(large, peak_s * D.large_rise_diastolic_fraction, peak_d)
    return peak_s, peak_d


def _session_baselines(
    rng: np.random.Generator, syn: SyntheticFile, s_pat: np.ndarray, vit: BaselineVitals
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
    vit: BaselineVitals,
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
    r_spo2 = null_some(rng, r_spo2, T.spo2_not_recorded)
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
    m40 = choice(rng, SED.moaas_at_40, S).astype(int)
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
