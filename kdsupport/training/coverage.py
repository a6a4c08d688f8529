"""Which rule branches a set of cases exercises (for curating teaching cases).

:func:`branches_of` lists the branch labels one assessment reaches; :func:`required_branches`
lists every branch the curated cases must cover together: TRD met / not met / unknown and the
reasons a trial is not adequate or not failed, every Thase-Rush stage, every Maudsley band,
every contraindication, not-recommended item and warning of every modality, incomplete and
not-recommended statuses, every pre-dose tier and the screening-mismatch reason, both alerts,
every finding check happening and every discharge check failing, every suicide-risk level,
response, remission and non-response (docs/case-record.md §3).

For training with synthetic patients; not a medical device.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kdsupport.rules.result import Status

if TYPE_CHECKING:
    from kdsupport.knowledge import KnowledgeBase
    from kdsupport.rules.assessment import Assessment

__all__ = ["branches_of", "required_branches"]

_TRIAL_CODES = {
    "trd.trial.duration_short": "trial.short",
    "trd.trial.dose_low": "trial.low_dose",
    "trd.trial.adherence_inadequate": "trial.poor_adherence",
    "trd.trial.improved_above_threshold": "trial.partial_or_full_response",
    "trd.trial.previous_episode": "trial.previous_episode",
    "trd.trial.augmentation_agent": "trial.augmentation",
    "trd.trial.antidepressant_as_augmentation": "trial.augmentation",
}


def branches_of(a: Assessment) -> set[str]:
    """Branch labels reached by one assessment (of :func:`kdsupport.rules.assess.assess`)."""
    out = {f"trd.{a.trd.status.value}"}
    for t in a.trd.trials:
        for r in t.reasons:
            if r.code in _TRIAL_CODES:
                out.add(_TRIAL_CODES[r.code])
    s = a.staging
    out.add(f"thase_rush.stage_{s.thase_rush.value}")
    if s.msm.band:
        out.add(f"msm.{s.msm.band}")
    for m, mod in a.modalities.items():
        out.add(f"{m}.{mod.status.value}")
        for f in mod.findings:
            if f.present is True:
                out.add(f"{m}.{f.severity.value}.{f.item}")
    out.add(f"predose_bp.{a.predose_bp.status.value}")
    out |= {f"predose_bp.reason.{r.code}" for r in a.predose_bp.reasons}
    out |= {f"alert.{x.code}" for x in a.alerts}
    out.add(f"suicide_risk.{a.suicide_risk.level}")
    o = a.outcome
    if o is not None:
        word = {Status.MET: "yes", Status.NOT_MET: "no", Status.UNKNOWN: "unknown"}
        out.add(f"response.{word[o.response]}")
        out.add(f"remission.{word[o.remission]}")
    for sess in a.sessions:
        out.add(f"session.{sess.modality}")
        for name, status in sess.checks.items():
            out.add(f"session.{name}.{status.value}")
    return out


def required_branches(kb: KnowledgeBase) -> set[str]:
    """Every branch the curated teaching cases must cover between them."""
    req = {"trd.met", "trd.not_met", "trd.unknown", *set(_TRIAL_CODES.values())}
    req |= {f"thase_rush.stage_{s.stage}" for s in kb.staging.thase_rush.stages if s.stage > 0}
    req |= {f"msm.{b.label}" for b in kb.staging.msm.total.bands}
    for m, mod in kb.screening.modalities.items():
        req |= {f"{m}.{i.severity}.{name}" for name, i in mod.items.items()}
        req.add(f"{m}.incomplete")
    req |= {"predose_bp.consider_delay", "predose_bp.ok", "predose_bp.severe"}
    req |= {"predose_bp.reason.predose_bp.screening_mismatch"}
    req |= {"alert.urgent_suicide_evaluation", "alert.predose_bp_severe"}
    req |= {f"{m}.not_recommended" for m in kb.screening.modalities}
    # every finding check happened somewhere, and every new discharge check failed somewhere
    checks = kb.vitals.session_monitoring.checks
    req |= {f"session.{n}.met" for n, c in checks.items() if c.kind == "finding"}
    req |= {"session.bp_acceptable_at_discharge.not_met", "session.dissociation_resolved.not_met"}
    req |= {f"suicide_risk.{t.level}" for t in kb.suicide.cssrs_screener.tiers}
    req |= {f"suicide_risk.{kb.suicide.cssrs_screener.none_level}", "suicide_risk.unknown"}
    req |= {"response.yes", "response.no", "remission.yes", "remission.no"}
    req |= {f"session.{m}" for m in kb.screening.modalities}
    return req
