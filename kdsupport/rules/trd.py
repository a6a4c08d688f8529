"""Adequacy of medication trials and treatment-resistant depression (TRD).

Rules (``docs/case-record.md`` §3.1):

* A trial is **not adequate** as soon as one criterion clearly fails (previous episode, dose
  below the minimum of the definition's dose table, weeks below the definition's minimum,
  adherence ``inadequate``); otherwise **unknown** if a needed fact is missing; otherwise
  **adequate**. Lithium is judged on its serum level.
* A trial **failed** when adequate and its improvement is within the definition's
  non-response threshold; it did **not fail** when the improvement is above the threshold or
  the trial is not adequate; otherwise unknown. (Kleene AND of adequacy and non-response.)
* **TRD met**: at least the definition's number of distinct antidepressant drugs with a
  failed trial (role monotherapy or combination). **Not met**: even counting every unknown
  trial as failed, fewer. Otherwise unknown. Not met when the primary diagnosis is not MDD;
  unknown when the diagnosis is not recorded, unless the trials alone give not met.

Inputs used: ``trials[*]`` and ``diagnosis.primary``. Thresholds: ``trd_definitions.yaml``
and the dose table in ``drugs.yaml``.

For training and case conferences with synthetic patients; not a medical device.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kdsupport.rules.result import Reason, Result, Status, all_of, at_least, compare

if TYPE_CHECKING:
    import pandas as pd

    from kdsupport.knowledge import Definition, KnowledgeBase, MinAdequate
    from kdsupport.records.case import CaseRecord, ECTCourse, Trial

__all__ = [
    "TrialVerdict",
    "TRDResult",
    "ECTVerdict",
    "evaluate_trial",
    "evaluate_ect",
    "evaluate_trd",
    "ADEQUACY_LABELS",
    "OUTCOME_LABELS",
    "TRD_ROLES",
    "TrdColumns",
    "trd_columns",
]

ADEQUACY_LABELS = {
    Status.MET: "adequate",
    Status.NOT_MET: "not_adequate",
    Status.UNKNOWN: "unknown",
}
OUTCOME_LABELS = {Status.MET: "failed", Status.NOT_MET: "not_failed", Status.UNKNOWN: "unknown"}
# Roles whose antidepressant trials count toward TRD, Thase-Rush and the Maudsley failures.
TRD_ROLES = ("monotherapy", "combination")


@dataclass(frozen=True)
class TrialVerdict(Result):
    """Adequacy and outcome of one medication trial, with reasons."""

    index: int
    drug: str
    drug_class: str
    thase_rush_class: str | None
    antidepressant: bool
    role: str
    episode: str | None
    counts_toward_trd: bool
    adequacy: Status
    outcome: Status
    dose_optimised: bool | None
    inputs: dict[str, Any]  # the record's values the rule read (whole numbers as int)

    @property
    def adequacy_label(self) -> str:
        """Adequate / not_adequate / unknown."""
        return ADEQUACY_LABELS[self.adequacy]

    @property
    def outcome_label(self) -> str:
        """Failed / not_failed / unknown."""
        return OUTCOME_LABELS[self.outcome]

    def to_json(self) -> dict[str, Any]:
        """One entry of the assessment's ``trd.trials``."""
        return {
            "index": self.index,
            "drug": self.drug,
            "class": self.drug_class,
            "role": self.role,
            "episode": self.episode,
            "counts_toward_trd": self.counts_toward_trd,
            "adequacy": self.adequacy_label,
            "outcome": self.outcome_label,
            "inputs": dict(self.inputs),
            "reasons": [r.cited() for r in self.reasons],
            "details": [r.to_dict() for r in self.reasons],
        }

    @property
    def is_augmentation(self) -> bool:
        """True for a trial given in the augmentation role (any drug)."""
        return self.role == "augmentation"


@dataclass(frozen=True)
class ECTVerdict(Result):
    """Whether an ECT course is a current-episode failure, with reasons."""

    index: int
    current: Status
    failed: Status  # current episode and non-response
    bilateral: Status


@dataclass(frozen=True)
class TRDResult(Result):
    """TRD status under one definition."""

    status: Status
    definition: str
    failed_drugs: tuple[str, ...]
    unknown_drugs: tuple[str, ...]
    unknown_trials: int
    trials: tuple[TrialVerdict, ...]

    def missing_for_unknown_trials(self, *, counting_only: bool = False) -> tuple[str, ...]:
        """The field paths whose absence leaves a trial's outcome unknown: what to collect next."""
        return tuple(
            m
            for v in self.trials
            if v.outcome is Status.UNKNOWN and (v.counts_toward_trd or not counting_only)
            for r in v.reasons
            for m in r.missing
        )

    @property
    def failed_adequate_antidepressants(self) -> int:
        """Distinct antidepressant drugs with a failed adequate trial."""
        return len(self.failed_drugs)


def _fmt(x: float | None) -> str:
    return "not recorded" if x is None else f"{x:g}"


def _disputed(
    kb: KnowledgeBase, others: Any, level: float | None, unit: str
) -> tuple[str, tuple[str, ...]]:
    """A note naming another source's different minimum, and that source.

    See docs/case-record.md §3.10.
    """
    from kdsupport.knowledge.wording import citation

    notes: list[str] = []
    ids: list[str] = []
    for other in others:
        src = kb.source_ids(other.source)
        ver = "; ".join(citation(sid).text for sid in src)
        verdict = ""
        if level is not None:
            verdict = (
                "; this dose would meet it"
                if level >= other.mg_per_day
                else "; this dose would be below it"
            )
        notes.append(f"another source gives {_fmt(other.mg_per_day)} {unit} ({ver}){verdict}")
        ids += src
    return ("" if not notes else " (" + "; ".join(notes) + ")"), tuple(ids)


#: The project contract, source of the record-level conventions (adherence, roles, episode).
_SPEC_SOURCE = ("case_record_spec_v1",)


def _episode_criterion(
    trial: Trial, path: str, defn: Definition, kb: KnowledgeBase
) -> tuple[Status, Reason]:
    """Current episode (met), previous under a current-episode-only definition, or unknown."""
    if trial.episode is None:
        return (
            Status.UNKNOWN,
            Reason(
                "trd.trial.episode_unknown",
                "episode not recorded (current or previous?)",
                (f"{path}.episode",),
                _SPEC_SOURCE,
                (f"{path}.episode",),
            ),
        )
    elif trial.episode == "previous" and defn.current_episode_only:
        return (
            Status.NOT_MET,
            Reason(
                "trd.trial.previous_episode",
                f"previous episode: the {defn.label} definition counts trials in the current "
                "episode only",
                (f"{path}.episode",),
                kb.source_ids(defn.min_failed_antidepressants.source),
            ),
        )
    else:
        return (
            Status.MET,
            Reason(
                "trd.trial.current_episode",
                "current episode",
                (f"{path}.episode",),
                kb.source_ids(defn.min_failed_antidepressants.source),
            ),
        )


def _dose_criterion(
    trial: Trial, path: str, defn: Definition, minimum: MinAdequate, kb: KnowledgeBase
) -> tuple[Status, Reason]:
    """The dose (or lithium serum level) against the definition's dose table."""
    table = kb.drugs.dose_tables[defn.dose_table]
    dose_src = kb.source_ids(minimum.source)
    level: float | None
    need: float | None
    if minimum.serum_level_mmol_l is not None:
        level, need, unit, field = (
            trial.serum_level_mmol_l,
            minimum.serum_level_mmol_l,
            "mmol/L",
            "serum_level_mmol_l",
        )
        what = "serum level"
    else:
        level, need, unit, field = (
            trial.dose_mg_per_day,
            minimum.mg_per_day,
            "mg/day",
            "dose_mg_per_day",
        )
        what = "dose"
    assert need is not None  # the knowledge-base check guarantees one of the two
    status = compare(level, ">=", need)
    disputed, dispute_src = _disputed(kb, minimum.disputed_by, level, unit)
    dose_src = tuple(dict.fromkeys(dose_src + dispute_src))
    if status is Status.UNKNOWN:
        return (
            status,
            Reason(
                "trd.trial.dose_unknown",
                f"{what} not recorded; {trial.drug} needs >= {_fmt(need)} {unit} "
                f"({table.title}){disputed}",
                (f"{path}.{field}",),
                dose_src,
                (f"{path}.{field}",),
            ),
        )
    elif status is Status.MET:
        return (
            status,
            Reason(
                "trd.trial.dose_adequate",
                f"{what} {_fmt(level)} {unit} >= minimum {_fmt(need)} {unit} for {trial.drug}"
                f"{disputed}",
                (f"{path}.{field}",),
                dose_src,
            ),
        )
    else:
        return (
            status,
            Reason(
                "trd.trial.dose_low",
                f"{what} {_fmt(level)} {unit} is below the minimum {_fmt(need)} {unit} for "
                f"{trial.drug}{disputed}",
                (f"{path}.{field}",),
                dose_src,
            ),
        )


def _duration_criterion(
    trial: Trial, path: str, defn: Definition, kb: KnowledgeBase
) -> tuple[Status, Reason]:
    """Weeks at that dose against the definition's minimum."""
    wk = defn.min_weeks.value
    wk_src = kb.source_ids(defn.min_weeks.source)
    status = compare(trial.weeks, ">=", wk)
    if status is Status.UNKNOWN:
        return (
            status,
            Reason(
                "trd.trial.duration_unknown",
                f"weeks at that dose not recorded; the {defn.label} definition needs "
                f">= {_fmt(wk)} weeks",
                (f"{path}.weeks",),
                wk_src,
                (f"{path}.weeks",),
            ),
        )
    elif status is Status.MET:
        return (
            status,
            Reason(
                "trd.trial.duration_adequate",
                f"{_fmt(trial.weeks)} weeks >= {_fmt(wk)} weeks",
                (f"{path}.weeks",),
                wk_src,
            ),
        )
    else:
        return (
            status,
            Reason(
                "trd.trial.duration_short",
                f"{_fmt(trial.weeks)} weeks is shorter than the {_fmt(wk)} weeks the "
                f"{defn.label} definition needs",
                (f"{path}.weeks",),
                wk_src,
            ),
        )


def _adherence_criterion(trial: Trial, path: str) -> tuple[Status, Reason]:
    """Adherence as recorded."""
    if trial.adherence is None:
        return (
            Status.UNKNOWN,
            Reason(
                "trd.trial.adherence_unknown",
                "adherence not recorded",
                (f"{path}.adherence",),
                _SPEC_SOURCE,
                (f"{path}.adherence",),
            ),
        )
    elif trial.adherence == "adequate":
        return (
            Status.MET,
            Reason(
                "trd.trial.adherence_adequate",
                "adherence adequate",
                (f"{path}.adherence",),
                _SPEC_SOURCE,
            ),
        )
    else:
        return (
            Status.NOT_MET,
            Reason(
                "trd.trial.adherence_inadequate",
                "adherence inadequate",
                (f"{path}.adherence",),
                _SPEC_SOURCE,
            ),
        )


def evaluate_trial(
    trial: Trial, index: int, kb: KnowledgeBase, definition: str | None = None
) -> TrialVerdict:
    """Judge one trial's adequacy and outcome under a TRD definition.

    Notes
    -----
    Missing data: a null episode, dose (or lithium serum level), weeks or adherence makes
    adequacy unknown unless another criterion already fails; a null improvement makes the
    outcome unknown unless the trial is not adequate.
    """
    def_name, defn = kb.definition(definition)
    drug = kb.drugs.drugs[trial.drug]
    cls = kb.drugs.classes[drug.drug_class]
    minimum = drug.min_adequate[defn.dose_table]
    path = f"trials[{index}]"

    crit = [
        _episode_criterion(trial, path, defn, kb),
        _dose_criterion(trial, path, defn, minimum, kb),
        _duration_criterion(trial, path, defn, kb),
        _adherence_criterion(trial, path),
    ]
    spec_src = _SPEC_SOURCE
    adequacy = all_of(s for s, _ in crit)
    reasons = [r if adequacy is Status.UNKNOWN else _no_missing(r) for _, r in crit]

    # outcome
    fail = defn.failure
    fail_src = kb.source_ids(fail.source)
    within = compare(trial.improvement_percent, fail.comparison, fail.percent)
    if within is Status.UNKNOWN:
        r = Reason(
            "trd.trial.improvement_unknown",
            f"improvement not recorded; failure needs improvement {fail.comparison} "
            f"{_fmt(fail.percent)} %",
            (f"{path}.improvement_percent",),
            fail_src,
            (f"{path}.improvement_percent",),
        )
    elif within is Status.MET:
        r = Reason(
            "trd.trial.nonresponse",
            f"improvement {_fmt(trial.improvement_percent)} % {fail.comparison} "
            f"{_fmt(fail.percent)} %: non-response",
            (f"{path}.improvement_percent",),
            fail_src,
        )
    else:
        r = Reason(
            "trd.trial.improved_above_threshold",
            f"improvement {_fmt(trial.improvement_percent)} % is above the non-response threshold "
            f"({fail.comparison} {_fmt(fail.percent)} %): not a failure",
            (f"{path}.improvement_percent",),
            fail_src,
        )
    outcome = all_of([adequacy, within])
    reasons.append(r if outcome is Status.UNKNOWN else _no_missing(r))

    counts = cls.antidepressant and trial.role in TRD_ROLES
    if not cls.antidepressant:
        reasons.append(
            Reason(
                "trd.trial.augmentation_agent",
                f"{trial.drug} is an augmentation agent ({cls.label}): it never counts toward TRD",
                (f"{path}.drug",),
                kb.source_ids(cls.source),
            )
        )
    elif trial.role == "augmentation":
        reasons.append(
            Reason(
                "trd.trial.antidepressant_as_augmentation",
                f"{trial.drug} given as augmentation counts as an augmentation trial, not toward "
                "TRD",
                (f"{path}.role",),
                spec_src,
            )
        )
    if trial.stopped_early_for is not None:
        reasons.append(
            Reason(
                "trd.trial.stopped_early",
                f"stopped early for {trial.stopped_early_for.replace('_', ' ')} (recorded; the "
                "rule "
                "judges the dose and weeks actually given)",
                (f"{path}.stopped_early_for",),
                spec_src,
            )
        )
    return TrialVerdict(
        index=index,
        drug=trial.drug,
        drug_class=drug.drug_class,
        thase_rush_class=cls.thase_rush_class,
        antidepressant=cls.antidepressant,
        role=trial.role,
        episode=trial.episode,
        counts_toward_trd=counts,
        adequacy=adequacy,
        outcome=outcome,
        dose_optimised=trial.dose_optimised,
        inputs=_trial_inputs(trial),
        reasons=tuple(reasons),
    )


#: The trial fields a verdict reports as its inputs.
TRIAL_INPUTS = (
    "dose_mg_per_day",
    "serum_level_mmol_l",
    "weeks",
    "adherence",
    "improvement_percent",
    "dose_optimised",
    "stopped_early_for",
)


def _trial_inputs(trial: Trial) -> dict[str, Any]:
    def whole(x: Any) -> Any:  # 12.0 is shown as 12
        return int(x) if isinstance(x, float) and x.is_integer() else x

    return {k: whole(getattr(trial, k)) for k in TRIAL_INPUTS}


def _no_missing(r: Reason) -> Reason:
    """A reason whose unknown no longer matters (another criterion decided the result)."""
    return Reason(r.code, r.message, r.fields, r.sources) if r.missing else r


def evaluate_ect(
    course: ECTCourse, index: int, kb: KnowledgeBase, definition: str | None = None
) -> ECTVerdict:
    """Judge whether an ECT course failed in the current episode, and if it was bilateral.

    Failure uses the definition's non-response threshold.
    """
    def_name, defn = kb.definition(definition)
    path = f"ect[{index}]"
    fail = defn.failure
    current = Status.UNKNOWN if course.episode is None else Status.of(course.episode == "current")
    within = compare(course.improvement_percent, fail.comparison, fail.percent)
    failed = all_of([current, within])
    bilateral = (
        Status.UNKNOWN if course.laterality is None else Status.of(course.laterality == "bilateral")
    )
    missing = []
    if failed is Status.UNKNOWN:
        if course.episode is None:
            missing.append(f"{path}.episode")
        if within is Status.UNKNOWN:
            missing.append(f"{path}.improvement_percent")
    imp = (
        "not recorded"
        if course.improvement_percent is None
        else f"{_fmt(course.improvement_percent)} %"
    )
    word = {
        Status.MET: "failed",
        Status.NOT_MET: "not a current-episode failure",
        Status.UNKNOWN: "unknown",
    }[failed]
    reasons = [
        Reason(
            "trd.ect.course",
            f"ECT course ({course.laterality or 'laterality not recorded'}, episode "
            f"{course.episode or 'not recorded'}), improvement {imp}; failure needs "
            f"{fail.comparison} {_fmt(fail.percent)} % in the current episode -> {word}",
            (path,),
            kb.source_ids(fail.source),
            tuple(missing),
        )
    ]
    return ECTVerdict(index, current, failed, bilateral, reasons=tuple(reasons))


def evaluate_trd(record: CaseRecord, kb: KnowledgeBase, definition: str | None = None) -> TRDResult:
    """TRD status of a case under a named definition (default from the knowledge base)."""
    def_name, defn = kb.definition(definition)
    need = int(defn.min_failed_antidepressants.value)
    need_src = kb.source_ids(defn.min_failed_antidepressants.source)
    verdicts = tuple(evaluate_trial(t, i, kb, def_name) for i, t in enumerate(record.trials or ()))
    counting = [v for v in verdicts if v.counts_toward_trd]
    failed = _distinct(v.drug for v in counting if v.outcome is Status.MET)
    unknown = _distinct(
        v.drug for v in counting if v.outcome is Status.UNKNOWN and v.drug not in failed
    )
    unknown_trials = sum(
        1 for v in counting if v.outcome is Status.UNKNOWN and v.episode != "previous"
    )
    reasons: list[Reason] = []

    if record.trials is None:
        trials_status = Status.UNKNOWN
        reasons.append(
            Reason(
                "trd.history_unknown",
                "no treatment history recorded (trials missing)",
                ("trials",),
                need_src,
                ("trials",),
            )
        )
    else:
        trials_status = at_least(need, [Status.MET] * len(failed) + [Status.UNKNOWN] * len(unknown))
        drugs_txt = ", ".join(failed) if failed else "none"
        msg = (
            f"{len(failed)} distinct antidepressant(s) with a failed adequate trial ({drugs_txt}); "
            f"the {defn.label} definition needs >= {need}"
        )
        if unknown:
            msg += (
                f"; {len(unknown)} more could count once missing facts are known "
                f"({', '.join(unknown)})"
            )
        code = {
            Status.MET: "trd.count_met",
            Status.NOT_MET: "trd.count_not_met",
            Status.UNKNOWN: "trd.count_unknown",
        }[trials_status]
        missing: tuple[str, ...] = ()
        if trials_status is Status.UNKNOWN:
            missing = tuple(
                m
                for v in counting
                if v.outcome is Status.UNKNOWN
                for r in v.reasons
                for m in r.missing
            )
        reasons.append(
            Reason(code, msg, ("trials",), need_src + kb.source_ids(defn.failure.source), missing)
        )

    primary = record.diagnosis.primary if record.diagnosis else None
    if primary is not None and primary != "mdd":
        status = Status.NOT_MET
        reasons.insert(
            0,
            Reason(
                "trd.not_mdd",
                f"primary diagnosis is {primary.replace('_', ' ')}: TRD definitions apply to major "
                "depressive disorder",
                ("diagnosis.primary",),
                ("case_record_spec_v1", "sforzini2022_eupearl"),
            ),
        )
    elif primary is None and trials_status is not Status.NOT_MET:
        status = Status.UNKNOWN
        reasons.insert(
            0,
            Reason(
                "trd.diagnosis_unknown",
                "primary diagnosis not recorded: TRD applies to major depressive disorder only",
                ("diagnosis.primary",),
                ("case_record_spec_v1",),
                ("diagnosis.primary",),
            ),
        )
    else:
        status = trials_status
    return TRDResult(
        status, def_name, failed, unknown, unknown_trials, verdicts, reasons=tuple(reasons)
    )


def _distinct(names: Iterable[str]) -> tuple[str, ...]:
    out: dict[str, None] = {}
    for n in names:
        out.setdefault(n)
    return tuple(out)


# ---------------------------------------------------------------- the column-wise twin
@dataclass(frozen=True)
class TrdColumns:
    """:func:`evaluate_trd` on every patient of a cohort's tables at once.

    Codes are those of :mod:`kdsupport.rules.columns` (1 met, 0 not met, -1 unknown). Arrays
    named per patient have one entry per row of the patients table; the others one per trial
    (or ECT) row, with ``trial_patient`` (``ect_patient``) giving the row's patient.
    """

    status: Any  # per patient: TRD met / not met / unknown
    n_failed: Any  # per patient: distinct antidepressants with a failed adequate trial
    n_unknown: Any  # per patient: distinct antidepressants whose trial outcome is unknown
    unknown_trials: Any  # per patient: counting trials with an unknown outcome
    trial_patient: Any
    drug: Any
    thase_rush_class: Any  # index into ``thase_rush_classes`` (-1: none)
    thase_rush_classes: list[str]
    counting: Any  # the trial counts toward TRD (an antidepressant in a counting role)
    augment: Any
    outcome: Any  # failed adequate trial
    optimised: Any
    episode: Any
    ect_patient: Any
    ect_failed: Any
    ect_current: Any
    ect_confirmed_bilateral: Any  # per patient
    ect_possible_bilateral: Any  # per patient


def trd_columns(
    tables: dict[str, pd.DataFrame],
    codes: dict[str, Any],
    n: int,
    kb: KnowledgeBase,
    definition: str | None = None,
) -> TrdColumns:
    """The column-wise twin of :func:`evaluate_trd` (and of :func:`evaluate_ect`).

    ``codes[name]`` is each row's patient (row number in ``tables["patients"]``, see
    :func:`kdsupport.rules.columns.patient_codes`); ``n`` the number of patients.
    """
    import numpy as np

    from kdsupport.rules.columns import (
        MET,
        NOT,
        UNK,
        and_,
        any_per_patient,
        category_codes,
        compare,
        distinct_pairs,
        flt,
        per_patient,
        tri,
        txt,
    )

    _, defn = kb.definition(definition)
    pats = tables["patients"]
    # ---- trials
    tr = tables["trials"]
    tc = codes["trials"]
    drugs = kb.drugs.drugs
    names = sorted(drugs)
    dcode = category_codes(tr["drug"], names)
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
    role = txt(tr["role"])
    episode = txt(tr["episode"])
    amount = np.where(serum_judged, flt(tr["serum_level_mmol_l"]), flt(tr["dose_mg_per_day"]))
    previous = NOT if defn.current_episode_only else MET
    ep_status = np.where(
        episode == "current", MET, np.where(episode == "previous", previous, UNK)
    ).astype(np.int8)
    with np.errstate(invalid="ignore"):
        dose_status = np.where(np.isnan(amount), UNK, amount >= need).astype(np.int8)
    weeks_status = compare(flt(tr["weeks"]), ">=", defn.min_weeks.value)
    adherence = txt(tr["adherence"])
    adh_status = np.where(adherence == None, UNK, adherence == "adequate").astype(np.int8)  # noqa: E711
    adequacy = (
        and_(ep_status, dose_status, weeks_status, adh_status) if len(tr) else np.zeros(0, np.int8)
    )
    within = compare(flt(tr["improvement_percent"]), defn.failure.comparison, defn.failure.percent)
    outcome = and_(adequacy, within) if len(tr) else np.zeros(0, np.int8)
    counting = antidep & np.isin(role, list(TRD_ROLES))
    augment = role == "augmentation"
    optimised = tri(tr["dose_optimised"]) if len(tr) else np.zeros(0, np.int8)

    failed_pairs, wd = distinct_pairs(tc, dcode, counting & (outcome == MET), n)
    unknown_pairs, _ = distinct_pairs(tc, dcode, counting & (outcome == UNK), n)
    unknown_pairs = np.setdiff1d(unknown_pairs, failed_pairs)
    n_failed = (
        np.bincount(failed_pairs // wd, minlength=n) if len(failed_pairs) else np.zeros(n, np.int64)
    )
    n_unknown = (
        np.bincount(unknown_pairs // wd, minlength=n)
        if len(unknown_pairs)
        else np.zeros(n, np.int64)
    )
    unknown_trials = per_patient(tc, counting & (outcome == UNK) & (episode != "previous"), n)

    k = int(defn.min_failed_antidepressants.value)
    trials_status = np.where(n_failed >= k, MET, np.where(n_failed + n_unknown < k, NOT, UNK))
    primary = txt(pats["primary"])
    missing = pats["primary"].isna().to_numpy()
    trd = np.where(
        ~missing & (primary != "mdd"),
        NOT,
        np.where(missing & (trials_status != NOT), UNK, trials_status),
    )

    # ---- ECT
    ec = tables["ect"]
    ecc = codes["ect"]
    e_ep = txt(ec["episode"])
    e_current = np.where(e_ep == None, UNK, e_ep == "current").astype(np.int8)  # noqa: E711
    e_within = compare(
        flt(ec["improvement_percent"]), defn.failure.comparison, defn.failure.percent
    )
    e_failed = and_(e_current, e_within) if len(ec) else np.zeros(0, np.int8)
    lat = txt(ec["laterality"])
    e_bil = np.where(lat == None, UNK, lat == "bilateral").astype(np.int8)  # noqa: E711
    ect_confirmed_bil = any_per_patient(ecc, (e_failed == MET) & (e_bil == MET), n)
    ect_possible_bil = any_per_patient(ecc, (e_failed != NOT) & (e_bil != NOT), n)

    return TrdColumns(
        status=trd,
        n_failed=n_failed,
        n_unknown=n_unknown,
        unknown_trials=unknown_trials,
        trial_patient=tc,
        drug=dcode,
        thase_rush_class=trcls,
        thase_rush_classes=tr_classes,
        counting=counting,
        augment=augment,
        outcome=outcome,
        optimised=optimised,
        episode=episode,
        ect_patient=ecc,
        ect_failed=e_failed,
        ect_current=e_current,
        ect_confirmed_bilateral=ect_confirmed_bil,
        ect_possible_bilateral=ect_possible_bil,
    )
