"""Adequacy of medication trials and treatment-resistant depression (TRD).

Rules (``shared/specs/case-record.md`` section 2 and clarifications 1, 2, 12, 16, 18):

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
    from kdsupport.knowledge import KnowledgeBase
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

    @property
    def adequacy_label(self) -> str:
        """Adequate / not_adequate / unknown."""
        return ADEQUACY_LABELS[self.adequacy]

    @property
    def outcome_label(self) -> str:
        """Failed / not_failed / unknown."""
        return OUTCOME_LABELS[self.outcome]

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
    """A note naming another source's different minimum, and that source (spec 5.7)."""
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
    crit: list[tuple[Status, Reason]] = []

    # episode
    if trial.episode is None:
        crit.append(
            (
                Status.UNKNOWN,
                Reason(
                    "trd.trial.episode_unknown",
                    "episode not recorded (current or previous?)",
                    (f"{path}.episode",),
                    ("case_record_spec_v1",),
                    (f"{path}.episode",),
                ),
            )
        )
    elif trial.episode == "previous" and defn.current_episode_only:
        crit.append(
            (
                Status.NOT_MET,
                Reason(
                    "trd.trial.previous_episode",
                    f"previous episode: the {defn.label} definition counts trials in the current "
                    "episode only",
                    (f"{path}.episode",),
                    kb.source_ids(defn.min_failed_antidepressants.source),
                ),
            )
        )
    else:
        crit.append(
            (
                Status.MET,
                Reason(
                    "trd.trial.current_episode",
                    "current episode",
                    (f"{path}.episode",),
                    kb.source_ids(defn.min_failed_antidepressants.source),
                ),
            )
        )

    # dose or serum level
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
        crit.append(
            (
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
        )
    elif status is Status.MET:
        crit.append(
            (
                status,
                Reason(
                    "trd.trial.dose_adequate",
                    f"{what} {_fmt(level)} {unit} >= minimum {_fmt(need)} {unit} for {trial.drug}"
                    f"{disputed}",
                    (f"{path}.{field}",),
                    dose_src,
                ),
            )
        )
    else:
        crit.append(
            (
                status,
                Reason(
                    "trd.trial.dose_low",
                    f"{what} {_fmt(level)} {unit} is below the minimum {_fmt(need)} {unit} for "
                    f"{trial.drug}{disputed}",
                    (f"{path}.{field}",),
                    dose_src,
                ),
            )
        )

    # duration
    wk = defn.min_weeks.value
    wk_src = kb.source_ids(defn.min_weeks.source)
    status = compare(trial.weeks, ">=", wk)
    if status is Status.UNKNOWN:
        crit.append(
            (
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
        )
    elif status is Status.MET:
        crit.append(
            (
                status,
                Reason(
                    "trd.trial.duration_adequate",
                    f"{_fmt(trial.weeks)} weeks >= {_fmt(wk)} weeks",
                    (f"{path}.weeks",),
                    wk_src,
                ),
            )
        )
    else:
        crit.append(
            (
                status,
                Reason(
                    "trd.trial.duration_short",
                    f"{_fmt(trial.weeks)} weeks is shorter than the {_fmt(wk)} weeks the "
                    f"{defn.label} definition needs",
                    (f"{path}.weeks",),
                    wk_src,
                ),
            )
        )

    # adherence
    spec_src = ("case_record_spec_v1",)
    if trial.adherence is None:
        crit.append(
            (
                Status.UNKNOWN,
                Reason(
                    "trd.trial.adherence_unknown",
                    "adherence not recorded",
                    (f"{path}.adherence",),
                    spec_src,
                    (f"{path}.adherence",),
                ),
            )
        )
    elif trial.adherence == "adequate":
        crit.append(
            (
                Status.MET,
                Reason(
                    "trd.trial.adherence_adequate",
                    "adherence adequate",
                    (f"{path}.adherence",),
                    spec_src,
                ),
            )
        )
    else:
        crit.append(
            (
                Status.NOT_MET,
                Reason(
                    "trd.trial.adherence_inadequate",
                    "adherence inadequate",
                    (f"{path}.adherence",),
                    spec_src,
                ),
            )
        )

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
        reasons=tuple(reasons),
    )


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
