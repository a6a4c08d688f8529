"""TRD staging: Thase-Rush (TRSM), MGH-S and the Maudsley Staging Method (MSM).

Each model counts only what is confirmed. A stage or score that an unknown trial or ECT
course could still change carries ``complete=False`` and ``possible_max``, the most the
unknowns could make it. Points, stages and bands come from ``knowledge/staging.yaml``.

Inputs used: the trial verdicts of :mod:`kdsupport.rules.trd` (same definition), ``ect[*]``,
``diagnosis.current_episode_months``, ``diagnosis.severity`` and
``diagnosis.psychotic_features``.

Missing data: an absent ``trials`` or ``ect`` list means the history is not known (an empty
list means none). For MSM, any unknown component gives ``score: None, band: None`` with the
known components listed (``docs/case-record.md`` §3.2).

For training and case conferences with synthetic patients; not a medical device.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kdsupport.rules.result import Reason, ScoreResult, Status
from kdsupport.rules.scales import band_of
from kdsupport.rules.trd import TrdColumns, TRDResult, evaluate_ect

if TYPE_CHECKING:
    import pandas as pd

    from kdsupport.knowledge import KnowledgeBase
    from kdsupport.records.case import CaseRecord

__all__ = [
    "score_thase_rush",
    "score_mgh_s",
    "score_msm",
    "thase_rush_columns",
    "mgh_s_columns",
    "msm_columns",
]


def _ect_statuses(record: CaseRecord, kb: KnowledgeBase, definition: str) -> list[Any]:
    return [evaluate_ect(c, i, kb, definition) for i, c in enumerate(record.ect or ())]


def _stage_for(kb: KnowledgeBase, classes: set[str], bilateral_ect_failed: bool) -> int:
    stage = 0
    for s in kb.staging.thase_rush.stages:
        req = s.requires
        if (
            req.min_distinct_failed_classes is not None
            and len(classes) < req.min_distinct_failed_classes
        ):
            break
        if req.failed_class is not None and req.failed_class not in classes:
            break
        if req.failed_ect_laterality is not None and not bilateral_ect_failed:
            break
        stage = s.stage
    return stage


def score_thase_rush(record: CaseRecord, trd: TRDResult, kb: KnowledgeBase) -> ScoreResult:
    """Thase-Rush stage 0-V from failed adequate antidepressant trials by class.

    Notes
    -----
    Classes come from ``drugs.yaml`` (``thase_rush_class``). Stage V needs a failed bilateral
    ECT course in the current episode. Augmentation never moves the stage.
    """
    tr = kb.staging.thase_rush
    counting = [v for v in trd.trials if v.counts_toward_trd]
    confirmed = {
        v.thase_rush_class
        for v in counting
        if v.outcome is Status.MET and v.thase_rush_class is not None
    }
    possible = confirmed | {
        v.thase_rush_class
        for v in counting
        if v.outcome is Status.UNKNOWN and v.thase_rush_class is not None
    }
    ects = _ect_statuses(record, kb, trd.definition)
    bil = [(e.failed, e.bilateral) for e in ects]
    ect_confirmed = any(f is Status.MET and b is Status.MET for f, b in bil)
    ect_possible = record.ect is None or any(
        f is not Status.NOT_MET and b is not Status.NOT_MET for f, b in bil
    )
    history_unknown = record.trials is None
    stage = _stage_for(kb, confirmed, ect_confirmed)
    top = max(s.stage for s in tr.stages)
    stage_max = top if history_unknown else _stage_for(kb, possible, ect_possible)
    labels = {k: v.label for k, v in kb.drugs.thase_rush_classes.items()}
    reached = next(s for s in tr.stages if s.stage == stage)
    src = kb.source_ids(tr.source) + kb.source_ids(reached.source)
    classes_txt = ", ".join(labels[c] for c in sorted(confirmed)) or "none"
    reasons = [
        Reason(
            f"staging.thase_rush.stage_{stage}",
            f"stage {stage}: {reached.label} (classes with a failed adequate trial: {classes_txt}; "
            f"failed bilateral ECT in the current episode: {'yes' if ect_confirmed else 'no'})",
            ("trials", "ect"),
            tuple(dict.fromkeys(src)),
        )
    ]
    if stage_max != stage:
        why = (
            "the treatment history is not recorded"
            if history_unknown
            else "unknown trials or ECT courses"
        )
        missing = (
            ("trials",)
            if history_unknown
            else trd.missing_for_unknown_trials(counting_only=True)
            + tuple(m for e in ects for r in e.reasons for m in r.missing)
            + (("ect",) if record.ect is None else ())
        )
        reasons.append(
            Reason(
                "staging.thase_rush.incomplete",
                f"stage could be up to {stage_max} once {why} are resolved",
                ("trials", "ect"),
                kb.source_ids(tr.source),
                missing,
            )
        )
    return ScoreResult(
        rule="staging.thase_rush",
        score=stage,
        complete=stage == stage_max,
        components={
            "failed_classes": sorted(confirmed),
            "tca_failed": "tca" in confirmed,
            "maoi_failed": "maoi" in confirmed,
            "bilateral_ect_failed": ect_confirmed,
        },
        possible_max=stage_max,
        reasons=tuple(reasons),
    )


def score_mgh_s(record: CaseRecord, trd: TRDResult, kb: KnowledgeBase) -> ScoreResult:
    """MGH-S from failed adequate trials, dose optimisation, augmentation and ECT.

    Points per failed adequate antidepressant trial, per dose-optimised one, per failed
    adequate augmentation trial and once for a failed current-episode ECT course all come from
    ``staging.yaml`` (``mgh_s.points``).
    """
    m = kb.staging.mgh_s
    pts = m.points
    per_trial, opt, aug, ect_pts = (
        pts.failed_antidepressant_trial.value,
        pts.dose_optimised.value,
        pts.failed_augmentation_trial.value,
        pts.failed_ect.value,
    )
    ad = [v for v in trd.trials if v.counts_toward_trd]
    augs = [v for v in trd.trials if v.is_augmentation]
    n_failed = sum(v.outcome is Status.MET for v in ad)
    n_opt = sum(v.outcome is Status.MET and v.dose_optimised is True for v in ad)
    n_aug = sum(v.outcome is Status.MET for v in augs)
    ects = _ect_statuses(record, kb, trd.definition)
    ect_confirmed = any(e.failed is Status.MET for e in ects)
    score = n_failed * per_trial + n_opt * opt + n_aug * aug + (ect_pts if ect_confirmed else 0)

    # the most unknowns could add
    extra = 0.0
    for v in ad:
        if v.outcome is Status.UNKNOWN:
            extra += per_trial + (opt if v.dose_optimised is not False else 0)
        elif v.outcome is Status.MET and v.dose_optimised is None:
            extra += opt
    extra += sum(aug for v in augs if v.outcome is Status.UNKNOWN)
    if not ect_confirmed and (record.ect is None or any(e.failed is Status.UNKNOWN for e in ects)):
        extra += ect_pts
    history_unknown = record.trials is None
    src = kb.source_ids(m.source)
    reasons = [
        Reason(
            "staging.mgh_s.score",
            f"MGH-S {score:g} = {n_failed} failed adequate antidepressant trial(s) x {per_trial:g}"
            f" + {n_opt} dose-optimised x {opt:g} + {n_aug} failed augmentation trial(s) x {aug:g}"
            f" + ECT {ect_pts if ect_confirmed else 0:g}",
            ("trials", "ect"),
            tuple(
                dict.fromkeys(
                    src
                    + kb.source_ids(pts.failed_antidepressant_trial.source)
                    + kb.source_ids(pts.failed_augmentation_trial.source)
                )
            ),
        )
    ]
    complete = extra == 0 and not history_unknown
    if not complete:
        missing = list(trd.missing_for_unknown_trials())
        missing += [
            f"trials[{v.index}].dose_optimised"
            for v in ad
            if v.outcome is not Status.NOT_MET and v.dose_optimised is None
        ]
        missing += [m_ for e in ects for r in e.reasons for m_ in r.missing]
        if record.ect is None:
            missing.append("ect")
        if history_unknown:
            missing.append("trials")
        reasons.append(
            Reason(
                "staging.mgh_s.incomplete",
                "score counts confirmed items only; unknown trials, dose optimisation or ECT could "
                "raise it" + ("" if history_unknown else f" to {score + extra:g}"),
                ("trials", "ect"),
                src,
                tuple(dict.fromkeys(missing)),
            )
        )
    return ScoreResult(
        rule="staging.mgh_s",
        score=score,
        complete=complete,
        components={
            "failed_trials": n_failed,
            "dose_optimised": n_opt,
            "failed_augmentation_trials": n_aug,
            "ect": ect_pts if ect_confirmed else 0,
        },
        possible_max=None if history_unknown else score + extra,
        reasons=tuple(reasons),
    )


_Component = tuple[Any, list[Reason], list[str]]  # points (None: unknown), reasons, missing


def _msm_duration(record: CaseRecord, kb: KnowledgeBase) -> _Component:
    """The duration component from the current episode's length."""
    msm, dx = kb.staging.msm, record.diagnosis
    reasons: list[Reason] = []
    missing: list[str] = []
    points: Any
    months = dx.current_episode_months if dx else None
    if months is None:
        points = None
        missing.append("diagnosis.current_episode_months")
    else:
        band = band_of(msm.duration_months, months)
        points = int(band.points)
        reasons.append(
            Reason(
                "staging.msm.duration",
                f"episode {months:g} months: {band.label} -> {band.points:g}",
                ("diagnosis.current_episode_months",),
                kb.source_ids(msm.duration_months.source),
            )
        )
    return points, reasons, missing


def _msm_severity(record: CaseRecord, kb: KnowledgeBase) -> _Component:
    """The severity component (severe splits by psychotic features)."""
    msm, dx = kb.staging.msm, record.diagnosis
    reasons: list[Reason] = []
    missing: list[str] = []
    severity = dx.severity if dx else None
    psychotic = dx.psychotic_features if dx else None
    sev_key = None
    if severity == "severe":
        if psychotic is None:
            missing.append("diagnosis.psychotic_features")
        else:
            sev_key = "severe_with_psychosis" if psychotic else "severe_without_psychosis"
    elif severity is not None:
        sev_key = severity
    else:
        missing.append("diagnosis.severity")
    points = msm.severity.points[sev_key] if sev_key else None  # type: ignore[index]  # the record model allows only these keys
    if sev_key:
        reasons.append(
            Reason(
                "staging.msm.severity",
                f"severity {sev_key.replace('_', ' ')} -> {points}",
                ("diagnosis.severity", "diagnosis.psychotic_features"),
                kb.source_ids(msm.severity.source),
            )
        )
    return points, reasons, missing


def _msm_augmentation(record: CaseRecord, kb: KnowledgeBase) -> _Component:
    """The augmentation component: any current-episode trial in the augmentation role."""
    msm = kb.staging.msm
    reasons: list[Reason] = []
    missing: list[str] = []
    points: Any
    current_aug = [t for t in record.trials or () if t.role == "augmentation"]
    if record.trials is None:
        points = None
        missing.append("trials")
    elif any(t.episode == "current" for t in current_aug):
        points = int(msm.augmentation_used.points)
    elif any(t.episode is None for t in current_aug):
        points = None
        missing += [
            f"trials[{record.trials.index(t)}].episode" for t in current_aug if t.episode is None
        ]
    else:
        points = 0
    if points is not None:
        reasons.append(
            Reason(
                "staging.msm.augmentation",
                f"augmentation {'used' if points else 'not used'} in the current "
                f"episode -> {points}",
                ("trials",),
                kb.source_ids(msm.augmentation_used.source),
            )
        )
    return points, reasons, missing


def _msm_ect(record: CaseRecord, kb: KnowledgeBase) -> _Component:
    """The ECT component: any current-episode course."""
    msm = kb.staging.msm
    reasons: list[Reason] = []
    missing: list[str] = []
    points: Any
    if record.ect is None:
        points = None
        missing.append("ect")
    elif any(c.episode == "current" for c in record.ect):
        points = int(msm.ect_used.points)
    elif any(c.episode is None for c in record.ect):
        points = None
        missing += [f"ect[{i}].episode" for i, c in enumerate(record.ect) if c.episode is None]
    else:
        points = 0
    if points is not None:
        reasons.append(
            Reason(
                "staging.msm.ect",
                f"ECT {'used' if points else 'not used'} in the current episode -> {points}",
                ("ect",),
                kb.source_ids(msm.ect_used.source),
            )
        )
    return points, reasons, missing


def score_msm(record: CaseRecord, trd: TRDResult, kb: KnowledgeBase) -> ScoreResult:
    """Maudsley Staging Method: duration + severity + failures + augmentation + ECT (3-15).

    Notes
    -----
    Failures count distinct antidepressant drugs with a failed adequate trial; augmentation
    used = any current-episode trial in the augmentation role, adequate or not; ECT used = any
    current-episode course. No failed antidepressant gives ``band: "not_applicable"``.
    """
    msm = kb.staging.msm
    src_all = kb.source_ids(msm.source)
    comps: dict[str, Any] = {}
    reasons: list[Reason] = []
    missing: list[str] = []

    for key, component in (("duration", _msm_duration), ("severity", _msm_severity)):
        comps[key], more, gaps = component(record, kb)
        reasons += more
        missing += gaps

    n_failed = trd.failed_adequate_antidepressants
    n_possible = n_failed + len(trd.unknown_drugs)
    fail_band = band_of(msm.failed_antidepressants, n_failed)
    comps["failures"] = int(fail_band.points) if fail_band else None
    fail_src = kb.source_ids(msm.failed_antidepressants.source)
    if fail_band:
        reasons.append(
            Reason(
                "staging.msm.failures",
                f"{n_failed} failed antidepressant(s): {fail_band.label} -> {fail_band.points:g}",
                ("trials",),
                fail_src,
            )
        )
    possible_band = band_of(msm.failed_antidepressants, n_possible)
    failures_could_change = record.trials is None or (
        (possible_band.points if possible_band else 0) != (fail_band.points if fail_band else 0)
    )

    for key, component in (("augmentation", _msm_augmentation), ("ect", _msm_ect)):
        comps[key], more, gaps = component(record, kb)
        reasons += more
        missing += gaps

    if n_failed == 0:
        could = record.trials is None or n_possible > 0
        reasons.append(
            Reason(
                "staging.msm.not_applicable",
                "no failed adequate antidepressant: the Maudsley method does not apply"
                + (" yet (unknown trials could change this)" if could else ""),
                ("trials",),
                fail_src,
                trd.missing_for_unknown_trials() if could else (),
            )
        )
        return ScoreResult(
            "staging.msm", None, not could, comps, "not_applicable", None, reasons=tuple(reasons)
        )

    if missing:
        reasons.append(
            Reason(
                "staging.msm.component_unknown",
                "a component is not known, so no total: "
                + ", ".join(k for k, v in comps.items() if v is None),
                tuple(missing),
                src_all,
                tuple(dict.fromkeys(missing)),
            )
        )
        return ScoreResult("staging.msm", None, False, comps, None, None, reasons=tuple(reasons))

    score = sum(comps.values())
    band = band_of(msm.total, score)
    possible_max: float | None = float(score)
    if failures_could_change:
        top = (
            band_of(msm.failed_antidepressants, n_possible)
            if record.trials is not None
            else msm.failed_antidepressants.bands[-1]
        )
        # every band of the failures component carries points (the knowledge-base check)
        assert top is not None and top.points is not None
        possible_max = score - comps["failures"] + int(top.points)
        reasons.append(
            Reason(
                "staging.msm.incomplete",
                f"unknown trials could raise the failures component (total up to {possible_max})",
                ("trials",),
                fail_src,
                trd.missing_for_unknown_trials(),
            )
        )
    reasons.insert(
        0,
        Reason(
            "staging.msm.total",
            f"MSM {score} = duration {comps['duration']} + severity {comps['severity']} + failures "
            f"{comps['failures']} + augmentation {comps['augmentation']} + ECT {comps['ect']}: "
            f"{band.label} "
            f"({band.min:g}-{band.max:g})",
            ("diagnosis", "trials", "ect"),
            kb.source_ids(msm.total.source),
        ),
    )
    return ScoreResult(
        "staging.msm",
        float(score),
        not failures_could_change,
        comps,
        band.label,
        possible_max,
        reasons=tuple(reasons),
    )


# ---------------------------------------------------------------- the column-wise twins
def thase_rush_columns(t: TrdColumns, n: int, kb: KnowledgeBase) -> tuple[Any, Any]:
    """The column-wise twin of :func:`score_thase_rush`: (stage, complete) per patient."""
    import numpy as np

    from kdsupport.rules.columns import MET, NOT, distinct_pairs

    tc, trcls, tr_classes = t.trial_patient, t.thase_rush_class, t.thase_rush_classes
    counting, outcome = t.counting, t.outcome
    ect_confirmed_bil, ect_possible_bil = t.ect_confirmed_bilateral, t.ect_possible_bilateral

    # ---- Thase-Rush
    def classes(mask: np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        pairs, w = distinct_pairs(tc, np.maximum(trcls, 0), mask & (trcls >= 0), n)
        count = np.bincount(pairs // w, minlength=n) if len(pairs) else np.zeros(n, np.int64)
        has = {c: np.zeros(n, bool) for c in tr_classes}
        for c_i, c in enumerate(tr_classes):
            sel = pairs % w == c_i
            has[c][pairs[sel] // w] = True
        return count, has

    def stage_of(
        count: np.ndarray, has: dict[str, np.ndarray], bilateral: np.ndarray
    ) -> np.ndarray:
        stage = np.zeros(n, np.int64)
        alive = np.ones(n, bool)
        for st in kb.staging.thase_rush.stages:
            req = st.requires
            if req.min_distinct_failed_classes is not None:
                alive &= count >= req.min_distinct_failed_classes
            if req.failed_class is not None:
                alive &= has[req.failed_class]
            if req.failed_ect_laterality is not None:
                alive &= bilateral
            stage[alive] = st.stage
        return stage

    c_conf, h_conf = classes(counting & (outcome == MET))
    c_poss, h_poss = classes(counting & (outcome != NOT))
    tr_stage = stage_of(c_conf, h_conf, ect_confirmed_bil)
    tr_max = stage_of(c_poss, h_poss, ect_possible_bil)

    return tr_stage, tr_stage == tr_max


def mgh_s_columns(t: TrdColumns, n: int, kb: KnowledgeBase) -> tuple[Any, Any]:
    """The column-wise twin of :func:`score_mgh_s`: (score, complete) per patient."""
    import numpy as np

    from kdsupport.rules.columns import MET, NOT, UNK, any_per_patient, per_patient

    tc, counting, augment, outcome = t.trial_patient, t.counting, t.augment, t.outcome
    optimised, ecc, e_failed = t.optimised, t.ect_patient, t.ect_failed
    # ---- MGH-S
    pts = kb.staging.mgh_s.points
    per, opt, aug, ectp = (
        pts.failed_antidepressant_trial.value,
        pts.dose_optimised.value,
        pts.failed_augmentation_trial.value,
        pts.failed_ect.value,
    )
    ect_conf = any_per_patient(ecc, e_failed == MET, n)
    ect_unk = any_per_patient(ecc, e_failed == UNK, n)
    mgh = (
        per_patient(tc, counting & (outcome == MET), n) * per
        + per_patient(tc, counting & (outcome == MET) & (optimised == MET), n) * opt
        + per_patient(tc, augment & (outcome == MET), n) * aug
        + np.where(ect_conf, ectp, 0.0)
    )
    extra = (
        per_patient(tc, counting & (outcome == UNK), n) * per
        + per_patient(tc, counting & (outcome == UNK) & (optimised != NOT), n) * opt
        + per_patient(tc, counting & (outcome == MET) & (optimised == UNK), n) * opt
        + per_patient(tc, augment & (outcome == UNK), n) * aug
        + np.where(~ect_conf & ect_unk, ectp, 0.0)
    )
    mgh_complete = extra == 0

    return mgh.astype(float), mgh_complete


def msm_columns(
    patients: pd.DataFrame, t: TrdColumns, n: int, kb: KnowledgeBase
) -> tuple[Any, Any, Any]:
    """The column-wise twin of :func:`score_msm`: (score, band, complete) per patient."""
    import numpy as np

    from kdsupport.rules.columns import MET, NOT, UNK, any_per_patient, band_points, flt, tri, txt

    pats = patients
    tc, augment, episode = t.trial_patient, t.augment, t.episode
    ecc, e_current = t.ect_patient, t.ect_current
    n_failed, n_unknown = t.n_failed, t.n_unknown
    # ---- Maudsley
    msm = kb.staging.msm
    dur_pts, _ = band_points(flt(pats["current_episode_months"]), msm.duration_months)
    severity = txt(pats["severity"])
    psychotic = tri(pats["psychotic_features"])
    sev_pts = np.full(n, np.nan)
    for key, value in msm.severity.points.items():
        if key == "severe_with_psychosis":
            sev_pts[(severity == "severe") & (psychotic == MET)] = value
        elif key == "severe_without_psychosis":
            sev_pts[(severity == "severe") & (psychotic == NOT)] = value
        else:
            sev_pts[severity == key] = value
    fail_pts, _ = band_points(n_failed.astype(float), msm.failed_antidepressants, default=0.0)
    poss_pts, _ = band_points(
        (n_failed + n_unknown).astype(float), msm.failed_antidepressants, default=0.0
    )
    aug_current = any_per_patient(tc, augment & (episode == "current"), n)
    aug_unknown = any_per_patient(tc, augment & (episode == None), n)  # noqa: E711
    aug_pts = np.where(
        aug_current, msm.augmentation_used.points, np.where(aug_unknown, np.nan, 0.0)
    )
    ect_current = any_per_patient(ecc, e_current == MET, n)
    ect_unknown_ep = any_per_patient(ecc, e_current == UNK, n)
    ect_pts = np.where(ect_current, msm.ect_used.points, np.where(ect_unknown_ep, np.nan, 0.0))
    comps = np.vstack([dur_pts, sev_pts, fail_pts, aug_pts, ect_pts])
    # the failures component is counted from what is confirmed; the others must be known
    components_known = ~np.isnan(np.vstack([dur_pts, sev_pts, aug_pts, ect_pts])).any(0)
    total = comps.sum(0)
    _, band_idx = band_points(total, msm.total)
    labels = [b.label for b in msm.total.bands]
    applicable = n_failed > 0
    msm_score = np.where(applicable & components_known, total, np.nan)
    msm_band = np.where(
        ~applicable,
        "not_applicable",
        np.where(components_known, np.array(labels + [None], dtype=object)[band_idx], None),
    )
    msm_complete = np.where(
        ~applicable, (n_failed + n_unknown) == 0, components_known & (poss_pts == fail_pts)
    )

    return msm_score, msm_band, msm_complete
