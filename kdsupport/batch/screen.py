"""Batch screening: one row per patient for a whole waiting list or cohort.

Two paths give the same rows:

* :func:`screen_row` takes one full assessment (:func:`kdsupport.rules.assess.assess`); it is the
  reference, used for directories of case records.
* :func:`screen_tables` evaluates the same rules column-wise on the tidy tables of a cohort
  (numpy, three-valued codes 1 = met, 0 = not met, -1 = unknown). Every threshold, band, point
  and severity comes from the same knowledge base; the test suite checks that both paths give
  identical rows on generated cohorts, on every curated case and on random records.

Tables cannot say "not recorded" about a whole list: a patient without trial rows has an
empty trial history, as in :func:`kdsupport.cohort.generator.records_from_tables`.

For training and audit with synthetic patients; not a medical device.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any, SupportsInt, cast

import numpy as np

from kdsupport.knowledge import SEVERITIES
from kdsupport.rules.monitoring import bp_tiers

if TYPE_CHECKING:
    import pandas as pd

    from kdsupport.knowledge import KnowledgeBase
    from kdsupport.rules.assessment import Assessment

__all__ = [
    "SCREEN_COLUMNS",
    "SCREEN_TABLES",
    "screen_row",
    "screen_tables",
    "tables_from_records",
    "validate_tables",
]

SCREEN_TABLES = (
    "patients",
    "trials",
    "ect",
    "screening",
    "assessments",
    "assessment_items",
    "cssrs",
)
SCREEN_COLUMNS = [
    "id",
    "trd_status",
    "definition",
    "failed_adequate_antidepressants",
    "unknown_trials",
    "thase_rush_stage",
    "thase_rush_complete",
    "mgh_s_score",
    "mgh_s_complete",
    "msm_score",
    "msm_band",
    "msm_complete",
    "esketamine_nasal",
    "iv_ketamine",
    "at_home_ketamine",
    "suicide_risk_level",
    "suicide_risk_action",
    "predose_bp",
    "kb_version",
]
MET, NOT, UNK = 1, 0, -1
_WORDS = {MET: "met", NOT: "not_met", UNK: "unknown"}


# ---------------------------------------------------------------- the reference row
def screen_row(a: Assessment) -> dict[str, Any]:
    """The screening row of one full assessment (the reference for :func:`screen_tables`)."""
    s = a.staging
    return {
        "id": a.case_id,
        "trd_status": a.trd.status.value,
        "definition": a.trd.definition,
        "failed_adequate_antidepressants": a.trd.failed_adequate_antidepressants,
        "unknown_trials": a.trd.unknown_trials,
        "thase_rush_stage": s.thase_rush.value,
        "thase_rush_complete": s.thase_rush.complete,
        "mgh_s_score": float(s.mgh_s.value) if s.mgh_s.value is not None else None,
        "mgh_s_complete": s.mgh_s.complete,
        "msm_score": None if s.msm.value is None else int(s.msm.value),
        "msm_band": s.msm.band,
        "msm_complete": s.msm.complete,
        **{m: v.status.value for m, v in a.modalities.items()},
        "suicide_risk_level": a.suicide_risk.level,
        "suicide_risk_action": a.suicide_risk.action,
        "predose_bp": a.predose_bp.status.value,
        "kb_version": a.kb_version,
    }


# ---------------------------------------------------------------- three-valued arrays
def _and(*xs: np.ndarray) -> np.ndarray:
    stack = np.vstack(xs)
    return np.where((stack == NOT).any(0), NOT, np.where((stack == UNK).any(0), UNK, MET)).astype(
        np.int8
    )


def _or(*xs: np.ndarray) -> np.ndarray:
    stack = np.vstack(xs)
    return np.where((stack == MET).any(0), MET, np.where((stack == UNK).any(0), UNK, NOT)).astype(
        np.int8
    )


def _not(x: np.ndarray) -> np.ndarray:
    return np.where(x == UNK, UNK, 1 - x).astype(np.int8)


_OPS = {"<": np.less, "<=": np.less_equal, ">": np.greater, ">=": np.greater_equal}


def _compare(values: np.ndarray, op: str, threshold: float) -> np.ndarray:
    """Three-valued comparison of a float array (NaN = unknown) with a threshold."""
    with np.errstate(invalid="ignore"):
        res = _OPS[op](values, threshold)
    return np.where(np.isnan(values), UNK, res.astype(np.int8)).astype(np.int8)


def _tri(series: pd.Series) -> np.ndarray:
    """A nullable boolean column as three-valued codes."""
    arr = series.astype("boolean")
    out = np.where(
        arr.isna().to_numpy(), UNK, arr.fillna(False).to_numpy(dtype=bool).astype(np.int8)
    )
    return out.astype(np.int8)


def _flt(series: pd.Series) -> np.ndarray:
    return series.astype("Float64").to_numpy(dtype=np.float64, na_value=np.nan)


def _txt(series: pd.Series) -> np.ndarray:
    """A text column as an object array with None for missing values."""
    return series.astype(object).where(series.notna(), None).to_numpy(dtype=object)


def _codes(series: pd.Series, categories: list[str]) -> np.ndarray:
    """Integer codes of a text column against a fixed category list (-1 = not in the list)."""
    import pandas as pd

    # get_indexer turns its target into an Index anyway; doing it here keeps the types exact
    return pd.Index(categories).get_indexer(pd.Index(series.astype(object))).astype(np.int64)


def _patient_codes(df: pd.DataFrame, index: pd.Index) -> np.ndarray:
    """Row number in the patients table of each row's patient (hashing each distinct id once)."""
    import pandas as pd

    ids = df["patient_id"]
    cat = ids if isinstance(ids.dtype, pd.CategoricalDtype) else ids.astype("category")
    mapping = index.get_indexer(cat.cat.categories.astype(str))
    codes = np.asarray(cat.cat.codes, dtype=np.int64)
    return np.where(codes >= 0, mapping[codes], -1)


def _per_patient(codes: np.ndarray, mask: np.ndarray, n: int) -> np.ndarray:
    return np.bincount(codes[mask], minlength=n)


def _any(codes: np.ndarray, mask: np.ndarray, n: int) -> np.ndarray:
    return _per_patient(codes, mask, n) > 0


def _distinct(
    codes: np.ndarray, keys: np.ndarray, mask: np.ndarray, n: int
) -> tuple[np.ndarray, int]:
    """Per patient, the (patient, key) pairs under ``mask`` as unique combined keys, and the width.

    A combined key is ``patient * width + key``.
    """
    width = int(keys.max()) + 1 if len(keys) else 1
    return np.unique(codes[mask].astype(np.int64) * width + keys[mask]), width


def _band_points(
    values: np.ndarray, table: Any, default: float = np.nan
) -> tuple[np.ndarray, np.ndarray]:
    """Points and label index of each value in a knowledge-base band table."""
    points = np.full(len(values), default, dtype=float)
    which = np.full(len(values), -1, dtype=np.int64)
    for i, b in enumerate(table.bands):
        with np.errstate(invalid="ignore"):
            above = (
                np.ones(len(values), bool)
                if b.min is None
                else (values >= b.min if b.min_inclusive else values > b.min)
            )
            below = (
                np.ones(len(values), bool)
                if b.max is None
                else (values <= b.max if b.max_inclusive else values < b.max)
            )
        hit = above & below & ~np.isnan(values)
        points[hit] = b.points if b.points is not None else np.nan
        which[hit] = i
    return points, which


# ---------------------------------------------------------------- the column-wise path
def screen_tables(
    tables: dict[str, pd.DataFrame],
    *,
    kb: KnowledgeBase | None = None,
    definition: str | None = None,
    patients: tuple[int, int] | None = None,
    severe_bp: str | None = None,
) -> pd.DataFrame:
    """Screen every patient of a cohort's tables; one row per patient (see :func:`screen_row`).

    The tables must be valid (see :func:`validate_tables`). ``patients=(lo, hi)`` screens only
    the patients in rows ``lo:hi`` of the patients table (how workers share a cohort).
    """
    import pandas as pd

    if kb is None:
        from kdsupport.knowledge import load

        kb = load()
    def_name, defn = kb.definition(definition)
    all_ids = pd.Index(tables["patients"]["patient_id"].astype(str))
    lo, hi = patients if patients is not None else (0, len(all_ids))
    codes: dict[str, np.ndarray] = {}
    view: dict[str, pd.DataFrame] = {"patients": tables["patients"].iloc[lo:hi]}
    for name in SCREEN_TABLES[1:]:
        c = _patient_codes(tables[name], all_ids)
        keep = (c >= lo) & (c < hi)
        if keep.all():
            view[name], codes[name] = tables[name], c - lo
        else:
            view[name], codes[name] = tables[name][keep], c[keep] - lo
    tables = view
    pats = tables["patients"]
    n = len(pats)
    index = all_ids[lo:hi]

    def codes_of(df: pd.DataFrame, name: str) -> np.ndarray:
        return codes[name]

    # ---- trials
    tr = tables["trials"]
    tc = codes_of(tr, "trials")
    drugs = kb.drugs.drugs
    names = sorted(drugs)
    dcode = _codes(tr["drug"], names)
    classes_of = [kb.drugs.classes[drugs[d].drug_class] for d in names]
    tr_classes = sorted(kb.drugs.thase_rush_classes)
    antidep = np.array([c.antidepressant for c in classes_of], dtype=bool)[dcode]
    trcls = np.array(
        [tr_classes.index(c.thase_rush_class) if c.thase_rush_class else -1 for c in classes_of],
        dtype=np.int64,
    )[dcode]
    minimum = [drugs[d].min_adequate[defn.dose_table] for d in names]
    serum_judged = np.array([m.serum_level_mmol_l is not None for m in minimum], dtype=bool)[dcode]
    need = np.array(
        [
            m.serum_level_mmol_l if m.serum_level_mmol_l is not None else m.mg_per_day
            for m in minimum
        ],
        dtype=float,
    )[dcode]
    role = _txt(tr["role"])
    episode = _txt(tr["episode"])
    amount = np.where(serum_judged, _flt(tr["serum_level_mmol_l"]), _flt(tr["dose_mg_per_day"]))
    previous = NOT if defn.current_episode_only else MET
    ep_status = np.where(
        episode == "current", MET, np.where(episode == "previous", previous, UNK)
    ).astype(np.int8)
    with np.errstate(invalid="ignore"):
        dose_status = np.where(np.isnan(amount), UNK, amount >= need).astype(np.int8)
    weeks_status = _compare(_flt(tr["weeks"]), ">=", defn.min_weeks.value)
    adherence = _txt(tr["adherence"])
    adh_status = np.where(adherence == None, UNK, adherence == "adequate").astype(np.int8)  # noqa: E711
    adequacy = (
        _and(ep_status, dose_status, weeks_status, adh_status) if len(tr) else np.zeros(0, np.int8)
    )
    within = _compare(
        _flt(tr["improvement_percent"]), defn.failure.comparison, defn.failure.percent
    )
    outcome = _and(adequacy, within) if len(tr) else np.zeros(0, np.int8)
    counting = antidep & np.isin(role, ["monotherapy", "combination"])
    augment = role == "augmentation"
    optimised = _tri(tr["dose_optimised"]) if len(tr) else np.zeros(0, np.int8)

    failed_pairs, wd = _distinct(tc, dcode, counting & (outcome == MET), n)
    unknown_pairs, _ = _distinct(tc, dcode, counting & (outcome == UNK), n)
    unknown_pairs = np.setdiff1d(unknown_pairs, failed_pairs)
    n_failed = (
        np.bincount(failed_pairs // wd, minlength=n) if len(failed_pairs) else np.zeros(n, np.int64)
    )
    n_unknown = (
        np.bincount(unknown_pairs // wd, minlength=n)
        if len(unknown_pairs)
        else np.zeros(n, np.int64)
    )
    unknown_trials = _per_patient(tc, counting & (outcome == UNK) & (episode != "previous"), n)

    k = int(defn.min_failed_antidepressants.value)
    trials_status = np.where(n_failed >= k, MET, np.where(n_failed + n_unknown < k, NOT, UNK))
    primary = _txt(pats["primary"])
    missing = pats["primary"].isna().to_numpy()
    trd = np.where(
        ~missing & (primary != "mdd"),
        NOT,
        np.where(missing & (trials_status != NOT), UNK, trials_status),
    )

    # ---- ECT
    ec = tables["ect"]
    ecc = codes_of(ec, "ect")
    e_ep = _txt(ec["episode"])
    e_current = np.where(e_ep == None, UNK, e_ep == "current").astype(np.int8)  # noqa: E711
    e_within = _compare(
        _flt(ec["improvement_percent"]), defn.failure.comparison, defn.failure.percent
    )
    e_failed = _and(e_current, e_within) if len(ec) else np.zeros(0, np.int8)
    lat = _txt(ec["laterality"])
    e_bil = np.where(lat == None, UNK, lat == "bilateral").astype(np.int8)  # noqa: E711
    ect_confirmed_bil = _any(ecc, (e_failed == MET) & (e_bil == MET), n)
    ect_possible_bil = _any(ecc, (e_failed != NOT) & (e_bil != NOT), n)

    # ---- Thase-Rush
    def classes(mask: np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        pairs, w = _distinct(tc, np.maximum(trcls, 0), mask & (trcls >= 0), n)
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

    # ---- MGH-S
    pts = kb.staging.mgh_s.points
    per, opt, aug, ectp = (
        pts.failed_antidepressant_trial.value,
        pts.dose_optimised.value,
        pts.failed_augmentation_trial.value,
        pts.failed_ect.value,
    )
    ect_conf = _any(ecc, e_failed == MET, n)
    ect_unk = _any(ecc, e_failed == UNK, n)
    mgh = (
        _per_patient(tc, counting & (outcome == MET), n) * per
        + _per_patient(tc, counting & (outcome == MET) & (optimised == MET), n) * opt
        + _per_patient(tc, augment & (outcome == MET), n) * aug
        + np.where(ect_conf, ectp, 0.0)
    )
    extra = (
        _per_patient(tc, counting & (outcome == UNK), n) * per
        + _per_patient(tc, counting & (outcome == UNK) & (optimised != NOT), n) * opt
        + _per_patient(tc, counting & (outcome == MET) & (optimised == UNK), n) * opt
        + _per_patient(tc, augment & (outcome == UNK), n) * aug
        + np.where(~ect_conf & ect_unk, ectp, 0.0)
    )
    mgh_complete = extra == 0

    # ---- Maudsley
    msm = kb.staging.msm
    dur_pts, _ = _band_points(_flt(pats["current_episode_months"]), msm.duration_months)
    severity = _txt(pats["severity"])
    psychotic = _tri(pats["psychotic_features"])
    sev_pts = np.full(n, np.nan)
    for key, value in msm.severity.points.items():
        if key == "severe_with_psychosis":
            sev_pts[(severity == "severe") & (psychotic == MET)] = value
        elif key == "severe_without_psychosis":
            sev_pts[(severity == "severe") & (psychotic == NOT)] = value
        else:
            sev_pts[severity == key] = value
    fail_pts, _ = _band_points(n_failed.astype(float), msm.failed_antidepressants, default=0.0)
    poss_pts, _ = _band_points(
        (n_failed + n_unknown).astype(float), msm.failed_antidepressants, default=0.0
    )
    aug_current = _any(tc, augment & (episode == "current"), n)
    aug_unknown = _any(tc, augment & (episode == None), n)  # noqa: E711
    aug_pts = np.where(
        aug_current, msm.augmentation_used.points, np.where(aug_unknown, np.nan, 0.0)
    )
    ect_current = _any(ecc, e_current == MET, n)
    ect_unknown_ep = _any(ecc, e_current == UNK, n)
    ect_pts = np.where(ect_current, msm.ect_used.points, np.where(ect_unknown_ep, np.nan, 0.0))
    comps = np.vstack([dur_pts, sev_pts, fail_pts, aug_pts, ect_pts])
    components_known = ~np.isnan(comps[[0, 1, 3, 4]]).any(0)
    total = comps.sum(0)
    _, band_idx = _band_points(total, msm.total)
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

    # ---- suicide risk
    level, action = _suicide(tables, codes, n, kb)

    # ---- pre-dose BP (three tiers, spec 5.4)
    bp = bp_tiers(_flt(pats["systolic_mmhg"]), _flt(pats["diastolic_mmhg"]), kb, severe=severe_bp)

    # ---- modalities
    statuses = _modalities(tables, codes, n, kb, level, action=action, tier=bp, trd=trd)

    out = pd.DataFrame(
        {
            "id": index.to_numpy(dtype=object),
            "trd_status": np.vectorize(_WORDS.get, otypes=[object])(trd) if n else [],
            "definition": def_name,
            "failed_adequate_antidepressants": n_failed,
            "unknown_trials": unknown_trials,
            "thase_rush_stage": tr_stage,
            "thase_rush_complete": tr_stage == tr_max,
            "mgh_s_score": mgh.astype(float),
            "mgh_s_complete": mgh_complete,
            "msm_score": pd.array(
                [None if np.isnan(x) else int(x) for x in msm_score], dtype="Int64"
            ),
            "msm_band": msm_band,
            "msm_complete": msm_complete.astype(bool),
            **statuses,
            "suicide_risk_level": level,
            "suicide_risk_action": action,
            "predose_bp": bp,
            "kb_version": kb.version,
        }
    )
    return out[SCREEN_COLUMNS]


def _suicide(
    tables: dict[str, pd.DataFrame], codes: dict[str, np.ndarray], n: int, kb: KnowledgeBase
) -> tuple[np.ndarray, np.ndarray]:
    """Level and action of the latest C-SSRS screener, with the PHQ-9 item 9 escalation."""
    import pandas as pd

    c = kb.suicide.cssrs_screener
    ad = tables["assessments"]
    acodes = codes["assessments"]
    instrument = _txt(ad["instrument"])
    adm_index = ad["index"].to_numpy(dtype=np.int64)
    scr = instrument == "cssrs_screener"
    latest = np.full(n, -1, np.int64)
    np.maximum.at(latest, acodes[scr], adm_index[scr])
    has = latest >= 0
    cs = tables["cssrs"]
    ccodes = codes["cssrs"]
    row_of = pd.Series(
        np.arange(len(cs)), index=pd.MultiIndex.from_arrays([ccodes, cs["index"].to_numpy()])
    )
    wanted = pd.MultiIndex.from_arrays([np.arange(n)[has], latest[has]])
    rows = row_of.reindex(wanted).to_numpy()
    answers: dict[str, np.ndarray] = {}
    for q in c.questions:
        col = np.full(n, UNK, np.int8)
        if q.key in cs:
            vals = _tri(cs[q.key])
            ok = ~np.isnan(rows.astype(float))
            col[np.arange(n)[has][ok]] = vals[rows[ok].astype(np.int64)]
        answers[q.key] = col
    for rule in (c.skip_rule, c.behavior_rule):
        off = answers[rule.when_no] == NOT
        for k in rule.skipped:
            answers[k] = np.where(off & (answers[k] == UNK), NOT, answers[k]).astype(np.int8)

    def status(key: str) -> np.ndarray:
        if key == "behavior_not_recent":
            return _and(answers["behavior"], _not(answers["behavior_past_3_months"]))
        return answers[key]

    level = np.full(n, c.none_level, dtype=object)
    undecided = np.ones(n, bool)
    unknown = np.zeros(n, bool)
    for tier in c.tiers:
        st = _or(*(status(k) for k in tier.any_of))
        met = undecided & (st == MET)
        level[met & ~unknown] = tier.level
        undecided &= ~met
        newly = undecided & (st == UNK) & ~unknown
        level[newly] = "unknown"
        unknown |= newly
    level[~has] = "unknown"
    action = np.array([c.actions[x] for x in level], dtype=object)

    esc = c.phq9_item9_escalation
    flag = next(f for f in kb.scales.instruments[esc.instrument].flags if f.code == esc.flag)
    items = tables["assessment_items"]
    icodes = codes["assessment_items"]
    i_index = items["index"].to_numpy(dtype=np.int64)
    width = int(max(adm_index.max(initial=0), i_index.max(initial=0))) + 1
    has_items = np.isin(acodes.astype(np.int64) * width + adm_index, icodes * width + i_index)
    is_phq = (instrument == esc.instrument) & has_items
    latest_phq = np.full(n, -1, np.int64)
    np.maximum.at(latest_phq, acodes[is_phq], adm_index[is_phq])
    sel = items["item"].to_numpy() == flag.item
    item_val = np.full(n, np.nan)
    ic, ii = icodes[sel], i_index[sel]
    scores = _flt(items["score"][sel])
    take = latest_phq[ic] == ii
    item_val[ic[take]] = scores[take]
    with np.errstate(invalid="ignore"):
        positive = np.where(
            np.isnan(item_val),
            esc.unknown_item_counts_positive,
            (item_val >= flag.min) & (item_val <= flag.max),
        )
    raise_it = (level == esc.from_level) & (latest_phq >= 0) & positive
    action[raise_it] = esc.to_action
    return level, action


def _from_bool(mask: np.ndarray) -> np.ndarray:
    return mask.astype(np.int8)


def _derived_present(
    name: str,
    tables: dict[str, pd.DataFrame],
    kb: KnowledgeBase,
    level: np.ndarray,
    action: np.ndarray,
    tier: np.ndarray,
) -> np.ndarray:
    """Three-valued presence of a derived item that does not depend on the modality."""
    item = kb.screening.items[name]
    if name == "suicide_risk_high":
        return np.where(level == "unknown", UNK, level == "high").astype(np.int8)
    if name == "urgent_suicide_evaluation":
        return _from_bool(action == "urgent_evaluation")
    if name == "predose_bp_severe":
        return _from_bool(tier == kb.vitals.predose_bp_guide.severe.status)
    assert item.threshold is not None
    age = _flt(tables["patients"]["age_years"])
    op = "<" if name == "age_under_18" else ">="
    return _compare(age, op, item.threshold.value)


def _indicated(
    derivation: str, primary: np.ndarray, level: np.ndarray, trd: np.ndarray
) -> np.ndarray:
    """Column-wise twin of :func:`kdsupport.rules.screening._indicated` (Kleene)."""
    mdd = np.where(primary == None, UNK, primary == "mdd").astype(np.int8)  # noqa: E711
    if derivation == "diagnosis_mdd":
        return mdd
    ideation = np.where(
        level == "unknown", UNK, np.isin(level, ["low", "moderate", "high"])
    ).astype(np.int8)
    return _and(mdd, _or(trd.astype(np.int8), ideation))


def _modalities(
    tables: dict[str, pd.DataFrame],
    codes: dict[str, np.ndarray],
    n: int,
    kb: KnowledgeBase,
    level: np.ndarray,
    *,
    action: np.ndarray,
    tier: np.ndarray,
    trd: np.ndarray,
) -> dict[str, np.ndarray]:
    """Each modality's status from the screening table, patients, risk, BP tier and TRD.

    The column-wise twin of :func:`kdsupport.rules.screening.screen_modality`: contraindicated,
    incomplete, not_recommended, caution, clear (spec 5.1).
    """
    sc = tables["screening"]
    scodes = codes["screening"]
    fields = [
        i.field.split(".")[1]
        for i in kb.screening.items.values()
        if i.field.startswith("screening.")
    ]
    item_codes = _codes(sc["item"], fields)
    values = _tri(sc["value"])
    pats = tables["patients"]
    sex = _txt(pats["sex"])
    primary = _txt(pats["primary"])
    present: dict[str, np.ndarray] = {}
    for name, item in kb.screening.items.items():
        head, _, field = item.field.partition(".")
        col = np.full(n, UNK, np.int8)
        if item.derived == "outside_indication":
            continue  # depends on the modality: below
        if item.derived is not None:
            col = _derived_present(name, tables, kb, level, action, tier)
        elif head == "screening":
            sel = item_codes == fields.index(field)
            v = values[sel]
            col[scodes[sel]] = np.where(v == UNK, UNK, (v == MET) == item.present_when).astype(
                np.int8
            )
        else:
            v = _tri(pats[field])
            col = np.where(v == UNK, UNK, (v == MET) == item.present_when).astype(np.int8)
        if item.not_applicable_for_sex:
            col = np.where(np.isin(sex, list(item.not_applicable_for_sex)), NOT, col).astype(
                np.int8
            )
        present[name] = col
    out = {}
    for m, mod in kb.screening.modalities.items():
        by: dict[str, list[np.ndarray]] = {s: [] for s in SEVERITIES}
        for iname, spec in mod.items.items():
            if kb.screening.items[iname].derived == "outside_indication":
                col = _not(_indicated(spec.derivation or "diagnosis_mdd", primary, level, trd))
            else:
                col = present[iname]
            by[spec.severity].append(col)
        everything = np.vstack([c for cols in by.values() for c in cols])

        def any_present(severity: str, by: dict[str, list[np.ndarray]] = by) -> np.ndarray:
            cols = by[severity]
            return np.vstack(cols).__eq__(MET).any(0) if cols else np.zeros(n, bool)

        out[m] = np.where(
            any_present("contraindication"),
            "contraindicated",
            np.where(
                (everything == UNK).any(0),
                "incomplete",
                np.where(
                    any_present("not_recommended"),
                    "not_recommended",
                    np.where(any_present("warning"), "caution", "clear"),
                ),
            ),
        )
    return out


# ---------------------------------------------------------------- records <-> tables
def tables_from_records(records: Iterable[dict[str, Any]]) -> dict[str, pd.DataFrame]:
    """Tidy tables (the generator's schema) from valid case-record mappings.

    Lists that are absent in a record become empty tables: tables cannot say "not recorded"
    about a whole list. Session tables are left empty (screening does not use them).
    """
    from kdsupport.cohort.schema import TABLES, frame

    rows: dict[str, dict[str, list[Any]]] = {t: {c: [] for c in TABLES[t]} for t in TABLES}

    def add(table: str, **values: Any) -> None:
        for c in TABLES[table]:
            rows[table][c].append(values.get(c))

    for rec in records:
        pid = rec["id"]
        p, dx, v = rec["patient"], rec.get("diagnosis") or {}, rec.get("vitals") or {}
        add(
            "patients",
            patient_id=pid,
            **{k: p.get(k) for k in ("age_years", "sex", "weight_kg", "pregnant", "breastfeeding")},
            **{
                k: dx.get(k)
                for k in ("primary", "current_episode_months", "severity", "psychotic_features")
            },
            **{
                k: v.get(k)
                for k in ("systolic_mmhg", "diastolic_mmhg", "heart_rate_bpm", "spo2_percent")
            },
            treatment_modality=None,
        )
        for i, t in enumerate(rec.get("trials") or ()):
            add(
                "trials",
                patient_id=pid,
                trial=i,
                drug=t["drug"].strip().lower(),
                role=t.get("role", "monotherapy"),
                episode=t.get("episode", "current"),
                **{
                    k: t.get(k)
                    for k in (
                        "dose_mg_per_day",
                        "serum_level_mmol_l",
                        "weeks",
                        "adherence",
                        "improvement_percent",
                        "dose_optimised",
                    )
                },
            )
        for i, e in enumerate(rec.get("ect") or ()):
            add(
                "ect",
                patient_id=pid,
                course=i,
                episode=e.get("episode", "current"),
                laterality=e.get("laterality"),
                sessions=e.get("sessions"),
                improvement_percent=e.get("improvement_percent"),
            )
        for item, value in (rec.get("screening") or {}).items():
            add("screening", patient_id=pid, item=item, value=value)
        for i, a in enumerate(rec.get("assessments") or ()):
            add(
                "assessments",
                patient_id=pid,
                index=i,
                instrument=a["instrument"],
                when=a["when"],
                total=a.get("total"),
            )
            for j, score in enumerate(a.get("items") or ()):
                add("assessment_items", patient_id=pid, index=i, item=j + 1, score=score)
            if a.get("answers") is not None or a["instrument"] == "cssrs_screener":
                add("cssrs", patient_id=pid, index=i, **(a.get("answers") or {}))
    return {t: frame(t, {c: np.array(v, dtype=object) for c, v in rows[t].items()}) for t in TABLES}


def validate_tables(
    tables: dict[str, pd.DataFrame], kb: KnowledgeBase | None = None
) -> Iterator[tuple[str, str, str]]:
    """Yield (patient id, field path, message) for every value the rules cannot accept.

    The checks mirror the case-record contract for what tables can hold: categories, ranges,
    known drugs and their roles, diastolic below systolic, scale items in range.
    """
    from kdsupport.files.input_gate import quote_key
    from kdsupport.records.case import Diagnosis, ECTCourse, Patient, Screening, Trial, Vitals

    if kb is None:
        from kdsupport.knowledge import load

        kb = load()

    def bounds(model: Any, field: str) -> tuple[float | None, float | None, bool, bool]:
        lo = hi = None
        lo_inc = hi_inc = True
        for m in model.model_fields[field].metadata:
            if getattr(m, "ge", None) is not None:
                lo = m.ge
            if getattr(m, "gt", None) is not None:
                lo, lo_inc = m.gt, False
            if getattr(m, "le", None) is not None:
                hi = m.le
            if getattr(m, "lt", None) is not None:
                hi, hi_inc = m.lt, False
        return lo, hi, lo_inc, hi_inc

    def check_range(
        df: pd.DataFrame, col: str, model: Any, path: Any
    ) -> Iterator[tuple[str, str, str]]:
        lo, hi, lo_inc, hi_inc = bounds(model, col)
        vals = _flt(df[col])
        bad = np.zeros(len(vals), bool)
        with np.errstate(invalid="ignore"):
            if lo is not None:
                bad |= (vals < lo) if lo_inc else (vals <= lo)
            if hi is not None:
                bad |= (vals > hi) if hi_inc else (vals >= hi)
        for i in _rows(bad):
            yield str(df["patient_id"].iat[i]), path(i), f"{col} out of range, got {vals[i]:g}"

    def check_choice(
        df: pd.DataFrame, col: str, allowed: set[Any], path: Any
    ) -> Iterator[tuple[str, str, str]]:
        col_values = df[col].astype(object)
        bad = (col_values.notna() & ~col_values.isin(list(allowed))).to_numpy()
        for i in _rows(bad):
            got = col_values.iat[i]
            yield (
                str(df["patient_id"].iat[i]),
                path(i),
                f"must be one of {sorted(allowed)}, got {got!r}",
            )

    p = tables["patients"]
    yield from check_range(p, "age_years", Patient, lambda i: "patient.age_years")
    for col, model, prefix in (
        ("weight_kg", Patient, "patient"),
        ("current_episode_months", Diagnosis, "diagnosis"),
        ("systolic_mmhg", Vitals, "vitals"),
        ("diastolic_mmhg", Vitals, "vitals"),
        ("heart_rate_bpm", Vitals, "vitals"),
        ("spo2_percent", Vitals, "vitals"),
    ):
        yield from check_range(p, col, model, lambda i, c=col, pre=prefix: f"{pre}.{c}")
    yield from check_choice(
        p, "sex", {"female", "male", "intersex", "unknown"}, lambda i: "patient.sex"
    )
    yield from check_choice(
        p, "primary", {"mdd", "bipolar_depression", "other"}, lambda i: "diagnosis.primary"
    )
    yield from check_choice(
        p,
        "severity",
        {"subsyndromal", "mild", "moderate", "severe"},
        lambda i: "diagnosis.severity",
    )
    s, d = _flt(p["systolic_mmhg"]), _flt(p["diastolic_mmhg"])
    with np.errstate(invalid="ignore"):
        for i in _rows(d >= s):
            yield (
                str(p["patient_id"].iat[i]),
                "vitals.diastolic_mmhg",
                "must be below systolic_mmhg",
            )
    male = _txt(p["sex"]) == "male"
    for col in ("pregnant", "breastfeeding"):
        for i in _rows(male & (_tri(p[col]) == MET)):
            yield str(p["patient_id"].iat[i]), f"patient.{col}", "cannot be true when sex is 'male'"

    t = tables["trials"]
    tpath = lambda i, c: f"trials[{_int_at(t['trial'], i)}].{c}"  # noqa: E731
    drugs = _txt(t["drug"])
    known = t["drug"].astype(object).isin(list(kb.drugs.drugs)).to_numpy()
    for i in _rows(~known):
        yield str(t["patient_id"].iat[i]), tpath(i, "drug"), f"unknown drug {drugs[i]!r}"
    for col in ("dose_mg_per_day", "serum_level_mmol_l", "weeks", "improvement_percent"):
        yield from check_range(t, col, Trial, lambda i, c=col: tpath(i, c))
    yield from check_choice(
        t, "role", {"monotherapy", "combination", "augmentation"}, lambda i: tpath(i, "role")
    )
    yield from check_choice(t, "episode", {"current", "previous"}, lambda i: tpath(i, "episode"))
    yield from check_choice(
        t, "adherence", {"adequate", "inadequate"}, lambda i: tpath(i, "adherence")
    )
    role = _txt(t["role"])
    serum = ~np.isnan(_flt(t["serum_level_mmol_l"]))
    names = sorted(kb.drugs.drugs)
    dcode = _codes(t["drug"], names)
    augmentation_agent = np.array(
        [not kb.drugs.classes[kb.drugs.drugs[d].drug_class].antidepressant for d in names] + [False]
    )[dcode]
    serum_drug = np.array(
        [
            any(m.serum_level_mmol_l is not None for m in kb.drugs.drugs[d].min_adequate.values())
            for d in names
        ]
        + [True]
    )[dcode]
    for i in _rows(known & augmentation_agent & (role != "augmentation")):
        yield str(t["patient_id"].iat[i]), tpath(i, "role"), f"{drugs[i]} is an augmentation agent"
    for i in _rows(known & serum & ~serum_drug):
        yield (
            str(t["patient_id"].iat[i]),
            tpath(i, "serum_level_mmol_l"),
            "only lithium is judged on a serum level",
        )

    ec = tables["ect"]
    for col in ("episode", "laterality"):
        yield from check_choice(
            ec,
            col,
            _choices(ECTCourse, col),
            lambda i, c=col: f"ect[{_int_at(ec['course'], i)}].{c}",
        )

    sc = tables["screening"]
    known_items = sorted(Screening.model_fields)
    unknown = (sc["item"].notna() & ~sc["item"].astype(object).isin(known_items)).to_numpy(bool)
    for i in _rows(unknown):
        yield (
            str(sc["patient_id"].iat[i]),
            "screening.item",
            f"unknown screening item {quote_key(str(sc['item'].iat[i]))}; the items are: "
            + ", ".join(known_items),
        )

    ad = tables["assessments"]
    yield from check_choice(
        ad,
        "instrument",
        set(kb.scales.instruments),
        lambda i: f"assessments[{_int_at(ad['index'], i)}].instrument",
    )
    items = tables["assessment_items"]
    if len(items):
        joined = items.merge(
            ad[["patient_id", "index", "instrument"]], on=["patient_id", "index"], how="left"
        )
        inst = _txt(joined["instrument"])
        item_no = joined["item"].to_numpy(dtype=np.int64)
        score = _flt(joined["score"])
        bad = np.zeros(len(joined), bool)
        for name, spec in kb.scales.instruments.items():
            if spec.items is None:
                continue
            sel = inst == name
            with np.errstate(invalid="ignore"):
                bad |= sel & (
                    (item_no < 1)
                    | (item_no > spec.items.count)
                    | (score < spec.items.min)
                    | (score > spec.items.max)
                )
        for i in _rows(bad):
            yield (
                str(joined["patient_id"].iat[i]),
                f"assessments[{_int_at(joined['index'], i)}].items[{item_no[i] - 1}]",
                f"out of range for {inst[i]}",
            )


def _rows(mask: np.ndarray) -> list[int]:
    """Positions of the true values of a boolean mask, as Python ints (for ``.iat``)."""
    return [int(i) for i in np.flatnonzero(mask)]


def _int_at(series: pd.Series, i: int) -> int:
    """The value at position ``i`` of an integer column, as a Python int."""
    # the stubs type .iat as any scalar; these columns hold integers (int() raises otherwise)
    return int(cast(SupportsInt, series.iat[i]))


def _choices(model: Any, field: str) -> set[str]:
    """The values a case record allows in a ``Literal`` field (None aside)."""
    import typing

    annotation = model.model_fields[field].annotation
    out: set[str] = set()
    for part in (annotation, *typing.get_args(annotation)):
        if typing.get_origin(part) is typing.Literal:
            out.update(typing.get_args(part))
    return out


# ---------------------------------------------------------------- the screening run
_SHARED: dict[str, Any] = {}


def _screen_chunk(bounds: tuple[int, int]) -> pd.DataFrame:
    return screen_tables(_SHARED["tables"], definition=_SHARED["definition"], patients=bounds)


def _screen_file(
    args: tuple[str, str | None],
) -> tuple[dict[str, Any] | None, list[tuple[str, str, str]]]:
    from pathlib import Path

    from kdsupport.errors import InvalidInputError
    from kdsupport.records.case import load_case
    from kdsupport.rules.assess import assess

    path, definition = args
    name = Path(path).stem
    try:
        record = load_case(path)
    except InvalidInputError as exc:
        return None, [(name, p.path, p.message) for p in exc.problems]
    try:
        return screen_row(assess(record, definition=definition)), []
    except Exception as exc:  # noqa: BLE001 - one record never stops the run; it is reported
        return None, [(name, "", f"could not be assessed ({type(exc).__name__}: {exc})")]


def read_screen_tables(directory: str | Any) -> dict[str, pd.DataFrame]:
    """The tables screening needs, read with their dtypes (trusted input: a generated cohort)."""
    from kdsupport.cohort.storage import read_tables

    return read_tables(directory, SCREEN_TABLES)


def _drop_patients(tables: dict[str, pd.DataFrame], bad: set[str]) -> dict[str, pd.DataFrame]:
    """The tables without the rows of the patients in ``bad`` (an empty id is always dropped)."""
    bad = bad | {""}
    return {
        k: v[~v["patient_id"].astype(str).isin(bad)].reset_index(drop=True)
        for k, v in tables.items()
    }


def screen_path(
    path: str | Any,
    *,
    workers: int = 1,
    definition: str | None = None,
    progress: Any = None,
) -> tuple[pd.DataFrame, list[tuple[str, str, str]]]:
    """Screen a cohort directory (tables) or a directory of case records (or one record).

    Returns the results (one row per valid patient, :data:`SCREEN_COLUMNS`) and every problem
    as (patient id, field path, message); invalid patients are left out, never guessed. A
    cohort whose manifest is not a synthetic kdsupport cohort's, or whose tables do not match
    the manifest's sha256, is refused (:class:`~kdsupport.errors.InvalidInputError`).
    ``progress`` is an optional ``tqdm``-like factory.
    """
    import multiprocessing as mp
    from pathlib import Path

    import pandas as pd

    base = Path(path)
    kind = _path_kind(base)
    bar = progress or (lambda **kw: _NullBar())
    if kind == "cohort":
        from kdsupport.cohort.tables import read_cohort_tables

        with bar(total=3, desc="reading tables", unit="step") as b:
            tables, problems = read_cohort_tables(base, SCREEN_TABLES)
            b.update(1)
            b.set_description("validating")
            tables = _drop_patients(tables, {p[0] for p in problems})
            more = list(validate_tables(tables))
            problems += more
            tables = _drop_patients(tables, {p[0] for p in more})
            b.update(1)
            b.set_description("screening")
            n = len(tables["patients"])
            if workers > 1 and n >= 2 * workers:
                edges = np.linspace(0, n, workers + 1).astype(int)
                _SHARED.update(tables=tables, definition=definition)
                try:
                    with mp.get_context("fork").Pool(workers) as pool:
                        parts = pool.map(
                            _screen_chunk, list(zip(edges[:-1], edges[1:], strict=True))
                        )
                finally:
                    _SHARED.clear()
                result = pd.concat(parts, ignore_index=True)
            else:
                result = screen_tables(tables, definition=definition)
            b.update(1)
        return result, problems

    files = _record_files(base) if kind == "records" else [base]
    rows, problems = [], []
    jobs = [(str(f), definition) for f in files]
    with bar(total=len(jobs), desc="screening records", unit="case") as b:
        if workers > 1 and len(jobs) > 1:
            with mp.get_context("fork").Pool(workers) as pool:
                for row, probs in pool.imap(_screen_file, jobs, chunksize=16):
                    if row is not None:
                        rows.append(row)
                    problems += probs
                    b.update(1)
        else:
            for job in jobs:
                row, probs = _screen_file(job)
                if row is not None:
                    rows.append(row)
                problems += probs
                b.update(1)
    return pd.DataFrame(rows, columns=SCREEN_COLUMNS), problems


_RECORD_SUFFIXES = (".json", ".yaml", ".yml")
_EXPECTED = (
    "expected a cohort folder (manifest.json and tables/, as kdsupport generate writes), a "
    "folder of case records (*.json, *.yaml) or one case record"
)


def _record_files(folder: Any) -> list[Any]:
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in _RECORD_SUFFIXES)


def _path_kind(base: Any) -> str:
    """What ``screen`` was given: 'cohort', 'records' (a folder) or 'record' (one file).

    Raises
    ------
    InvalidInputError
        Naming DIR_OR_TABLES and what was expected, for a missing or unreadable path, a special
        file, or a folder that is neither a cohort nor a folder of case records (an empty one,
        a cohort whose manifest.json is gone, a cohort's tables/ folder).
    """
    import errno
    import os
    import stat

    from kdsupport.errors import InvalidInputError, Problem
    from kdsupport.files.input_gate import file_kind, os_error_message

    def refuse(message: str) -> InvalidInputError:
        return InvalidInputError([Problem("DIR_OR_TABLES", message)])

    names: set[str] = set()
    try:
        st = os.stat(base)
        if not stat.S_ISDIR(st.st_mode):
            kind = file_kind(st.st_mode)
            if kind is not None:
                raise refuse(f"{base} is {kind}: refused")
            return "record"
        if (base / "manifest.json").exists() or (base / "manifest.json").is_symlink():
            return "cohort"
        names = {p.name for p in base.iterdir()}
        if _record_files(base):
            return "records"
    except OSError as exc:
        if exc.errno == errno.ENOENT:
            raise refuse(f"{base} does not exist") from None
        raise refuse(f"{base}: {os_error_message(exc)}") from None
    if not names:
        raise refuse(f"{base} is an empty folder; {_EXPECTED}")
    if "tables" in names or "records" in names:
        raise refuse(
            f"{base} has no manifest.json: a cohort is screened only with the manifest that "
            f"lists its tables' sha256; {_EXPECTED}"
        )
    if any(n.endswith((".csv", ".parquet")) for n in names):
        raise refuse(
            f"{base} holds tables but no manifest.json; give the cohort folder, the one that "
            "holds manifest.json and tables/"
        )
    raise refuse(f"{base} holds no cohort and no case records; {_EXPECTED}")


class _NullBar:
    def __enter__(self) -> _NullBar:
        return self

    def __exit__(self, *exc: Any) -> None:
        return None

    def update(self, _: int = 1) -> None:
        return None

    def set_description(self, _: str) -> None:
        return None
