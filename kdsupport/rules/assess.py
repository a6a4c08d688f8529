"""The whole-case assessment shown by ``kdsupport assess``, the notebooks and reports.

:func:`assess` runs every rule on a validated :class:`~kdsupport.records.case.CaseRecord` and
returns a frozen :class:`~kdsupport.rules.assessment.Assessment`. Its ``to_json()`` has the shape
of ``docs/case-record.md`` §4 (format ``kdsupport-assessment/2``),
extended with: the definition's parameters, per-trial reason details, staging components and
reasons, a list of *unknowns* (what to collect next) and the bibliography of every source
cited, with its verification status.

The assessment supports a clinician's own judgement; it lists findings and options and never
decides. Assessing never modifies the record.

For training and case conferences with synthetic patients; not a medical device.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kdsupport._version import __version__
from kdsupport.errors import InvalidInputError, Problem
from kdsupport.rules.assessment import (
    Alert,
    Assessment,
    BPTier,
    CheckKind,
    DefinitionSummary,
    ModalityAssessment,
    PredoseBP,
    SessionAssessment,
    Staging,
    StagingScore,
    SuicideRiskAssessment,
    TrdAssessment,
    Unknown,
)
from kdsupport.rules.monitoring import CHECK_ORDER, evaluate_predose_bp, evaluate_sessions
from kdsupport.rules.rems_form import fill_rems_form
from kdsupport.rules.result import Reason, RuleResult, ScoreResult
from kdsupport.rules.scales import evaluate_outcome, score_all
from kdsupport.rules.screening import ScreeningContext, screen_all
from kdsupport.rules.session_day import DayChecks, evaluate_session_day
from kdsupport.rules.staging import score_mgh_s, score_msm, score_thase_rush
from kdsupport.rules.suicide_risk import SuicideRisk, evaluate_suicide_risk
from kdsupport.rules.trd import evaluate_trd

if TYPE_CHECKING:
    from kdsupport.knowledge import Definition, KnowledgeBase
    from kdsupport.records.case import CaseRecord
    from kdsupport.rules.monitoring import SessionChecks
    from kdsupport.rules.scales import OutcomeResult
    from kdsupport.rules.scales import ScaleScore as ScaleScoreResult
    from kdsupport.rules.screening import ModalityScreen
    from kdsupport.rules.trd import TRDResult

__all__ = ["assess", "DISCLAIMER", "ASSESSMENT_FORMAT"]

ASSESSMENT_FORMAT = "kdsupport-assessment/2"
DISCLAIMER = (
    "Training and case-conference tool using synthetic patients. Not a medical device and not "
    "clinical advice: it shows criteria met / not met / unknown with their sources so that a "
    "clinician can check the basis; every decision remains the clinician's. Sources marked "
    "secondary or unverified need checking against the primary document."
)


def _whole(x: Any) -> Any:
    """A whole-number float as an int (``12.0`` is printed ``12``); anything else unchanged."""
    if isinstance(x, float) and x.is_integer():
        return int(x)
    return x


def assess(
    record: CaseRecord,
    *,
    kb: KnowledgeBase | None = None,
    definition: str | None = None,
    madrs_remission: str | None = None,
    severe_bp: str | None = None,
    jurisdiction: str | None = None,
    infusion_bp: str | None = None,
) -> Assessment:
    """Assess a validated case record.

    Parameters
    ----------
    record
        A validated case record (see :func:`kdsupport.records.case.load_case`).
    kb
        The knowledge base; the packaged one by default.
    definition
        TRD definition name (``label_atrq`` by default; ``eupearl2022``, ``fava2020``).
    madrs_remission
        MADRS remission definition (``madrs_le12_janssen`` by default, or
        ``madrs_le10_escape_trd``).
    severe_bp
        The severe blood-pressure tier's definition (``acc_aha_2017`` by default).
    jurisdiction
        The dosing table of the session-day checks: ``us`` (default) or ``eu``.
    infusion_bp
        The IV infusion threshold: ``severe_tier`` (default) or ``predose_guide``.

    Returns
    -------
    Assessment
        The frozen assessment; :meth:`~kdsupport.rules.assessment.Assessment.to_json` gives
        the JSON that ``kdsupport assess`` prints.
    """
    if kb is None:
        from kdsupport.knowledge import load

        kb = load()
    _check_options(kb, definition, madrs_remission, severe_bp, jurisdiction, infusion_bp)
    def_name, defn = kb.definition(definition)
    remission = {"madrs": madrs_remission} if madrs_remission else None

    trd = evaluate_trd(record, kb, def_name)
    tr = score_thase_rush(record, trd, kb)
    mgh = score_mgh_s(record, trd, kb)
    msm = score_msm(record, trd, kb)
    scores = score_all(record, kb)
    outcome = evaluate_outcome(scores, kb, remission=remission)
    risk = evaluate_suicide_risk(record, kb)
    v = record.vitals
    bp = evaluate_predose_bp(
        v.systolic_mmhg if v else None,
        v.diastolic_mmhg if v else None,
        kb,
        uncontrolled_hypertension=(
            record.screening.uncontrolled_hypertension if record.screening else None
        ),
        severe=severe_bp,
    )
    context = ScreeningContext(
        suicide_level=risk.level,
        suicide_action=risk.action,
        predose_tier=bp.label,
        trd_status=trd.status,
    )
    screens = screen_all(record, kb, context=context)
    sessions = evaluate_sessions(record, kb, severe=severe_bp)
    days = [
        evaluate_session_day(
            record, s.index, kb, where=jurisdiction, severe=severe_bp, infusion_bp=infusion_bp
        )
        for s in sessions
    ]

    all_reasons = _reasons_by_section(
        trd, (tr, mgh, msm), scores, outcome, risk, bp, screens, sessions, days
    )

    definition_block = _definition_summary(kb, def_name, defn)
    return Assessment(
        format=ASSESSMENT_FORMAT,
        case_id=record.id,
        kb_version=kb.version,
        kdsupport_version=__version__,
        definition=definition_block,
        trd=TrdAssessment(
            status=trd.status,
            definition=def_name,
            failed_drugs=tuple(trd.failed_drugs),
            unknown_trials=trd.unknown_trials,
            trials=trd.trials,
            reasons=trd.reasons,
        ),
        staging=Staging(
            thase_rush=_staging(tr, "stage"),
            mgh_s=_staging(mgh, "score"),
            msm=_staging(msm, "score", has_band=True),
        ),
        scales=tuple(scores),
        outcome=outcome,
        suicide_risk=SuicideRiskAssessment(
            level=risk.level,
            action=risk.action,
            at_least=risk.at_least,
            screener_index=risk.screener_index,
            reasons=risk.reasons,
        ),
        alerts=_alerts(kb, risk, bp),
        predose_bp=PredoseBP(
            status=BPTier(bp.label),
            systolic_mmhg=_whole(bp.inputs["systolic_mmhg"]),
            diastolic_mmhg=_whole(bp.inputs["diastolic_mmhg"]),
            severe_definition=bp.inputs["severe_definition"],
            reasons=bp.reasons,
        ),
        modalities={m: _modality(kb, m, scr) for m, scr in screens.items()},
        sessions=tuple(_session(record, kb, s, d) for s, d in zip(sessions, days, strict=True)),
        unknowns=_unknowns(all_reasons),
        sources=_bibliography(kb, all_reasons, list(definition_block.sources)),
        disclaimer=DISCLAIMER,
    )


def _check_options(
    kb: KnowledgeBase,
    definition: str | None,
    madrs_remission: str | None,
    severe_bp: str | None,
    jurisdiction: str | None = None,
    infusion_bp: str | None = None,
) -> None:
    """Refuse a named choice the knowledge base does not hold, naming the allowed ones."""
    problems = []
    if definition is not None and definition not in kb.trd.definitions:
        problems.append(
            Problem(
                "definition",
                f"unknown TRD definition {definition!r}; allowed: "
                + ", ".join(sorted(kb.trd.definitions)),
            )
        )
    remissions = kb.scales.outcome.remission["madrs"].definitions
    if madrs_remission is not None and madrs_remission not in remissions:
        problems.append(
            Problem(
                "madrs_remission",
                f"unknown MADRS remission definition {madrs_remission!r}; allowed: "
                + ", ".join(sorted(remissions)),
            )
        )
    severe_defs = kb.vitals.predose_bp_guide.severe.definitions
    if severe_bp is not None and severe_bp not in severe_defs:
        problems.append(
            Problem(
                "severe_bp",
                f"unknown severe blood-pressure definition {severe_bp!r}; allowed: "
                + ", ".join(sorted(severe_defs)),
            )
        )
    choices = (
        ("jurisdiction", jurisdiction, kb.session_day.schedule.jurisdictions, "jurisdiction"),
        ("infusion_bp", infusion_bp, kb.session_day.infusion_bp.definitions, "infusion threshold"),
    )
    for key, given, allowed, what in choices:
        if given is not None and given not in allowed:
            problems.append(
                Problem(key, f"unknown {what} {given!r}; allowed: " + ", ".join(sorted(allowed)))
            )
    if problems:
        raise InvalidInputError(problems)


def _definition_summary(kb: KnowledgeBase, def_name: str, defn: Definition) -> DefinitionSummary:
    """The TRD definition used, with its parameters and their sources."""
    return DefinitionSummary(
        name=def_name,
        title=defn.title,
        summary=defn.summary,
        min_failed_antidepressants=_whole(defn.min_failed_antidepressants.value),
        min_weeks=_whole(defn.min_weeks.value),
        failure=f"improvement {defn.failure.comparison} {defn.failure.percent:g} %",
        dose_table=defn.dose_table,
        sources=tuple(
            dict.fromkeys(
                kb.source_ids(defn.min_failed_antidepressants.source)
                + kb.source_ids(defn.min_weeks.source)
                + kb.source_ids(defn.failure.source)
            )
        ),
    )


def _reasons_by_section(
    trd: TRDResult,
    staging: tuple[ScoreResult, ScoreResult, ScoreResult],
    scores: list[ScaleScoreResult],
    outcome: OutcomeResult | None,
    risk: SuicideRisk,
    bp: RuleResult,
    screens: dict[str, ModalityScreen],
    sessions: list[SessionChecks],
    days: list[DayChecks],
) -> list[tuple[str, Reason]]:
    """Every reason with the section it belongs to, in the order the assessment shows them."""
    out: list[tuple[str, Reason]] = []
    for t in trd.trials:
        out += [("trd", r) for r in t.reasons]
    out += [("trd", r) for r in trd.reasons]
    for s, name in zip(
        staging, ("staging.thase_rush", "staging.mgh_s", "staging.msm"), strict=True
    ):
        out += [(name, r) for r in s.reasons]
    for sc in scores:
        out += [("scales", r) for r in sc.reasons]
    if outcome is not None:
        out += [("outcome", r) for r in outcome.reasons]
    out += [("suicide_risk", r) for r in risk.reasons]
    out += [("predose_bp", r) for r in bp.reasons]
    for m, scr in screens.items():
        out += [(f"modalities.{m}", r) for r in scr.reasons]
    for sess, day in zip(sessions, days, strict=True):
        for name in CHECK_ORDER:
            out += [(f"sessions[{sess.index}].{name}", r) for r in sess.checks[name].reasons]
        for name, res in day.checks.items():
            out += [(f"sessions[{sess.index}].{name}", r) for r in res.reasons]
        for name, why in day.not_applicable.items():
            out.append((f"sessions[{sess.index}].{name}", why))
    return out


def _modality(kb: KnowledgeBase, m: str, scr: ModalityScreen) -> ModalityAssessment:
    return ModalityAssessment(
        status=scr.status,
        title=kb.screening.modalities[m].title,
        regulatory_status=kb.screening.modalities[m].regulatory_status,
        findings=scr.findings,
        items_assessed=scr.assessed,
        reasons=scr.reasons,
    )


def _session(
    record: CaseRecord, kb: KnowledgeBase, s: SessionChecks, day: DayChecks
) -> SessionAssessment:
    """One session's monitoring checks, then its session-day checks (docs/case-record.md §3.8)."""
    checks = {n: s.checks[n].status for n in CHECK_ORDER} | {
        n: r.status for n, r in day.checks.items()
    }
    form = fill_rems_form(record, s.index, checks, kb) if s.modality == "esketamine_nasal" else None
    return SessionAssessment(
        number=s.number,
        modality=s.modality,
        checks=checks,
        check_kinds={n: CheckKind(s.kinds[n]) for n in CHECK_ORDER} | dict(day.kinds),
        details={n: s.checks[n].reasons for n in CHECK_ORDER}
        | {n: r.reasons for n, r in day.checks.items()},
        not_applicable=day.not_applicable,
        schedule=day.schedule,
        rems_form=None if form is None else form.status,
        session_day_recorded=day.recorded,
    )


def _staging(s: ScoreResult, key: str, *, has_band: bool = False) -> StagingScore:
    return StagingScore(
        key=key,
        value=_whole(s.score),
        complete=s.complete,
        band=s.band,
        possible_max=_whole(s.possible_max),
        components=s.components,
        reasons=s.reasons,
        has_band=has_band,
    )


def _alerts(kb: KnowledgeBase, risk: SuicideRisk, bp: RuleResult) -> tuple[Alert, ...]:
    """What must be seen before anything else: urgent suicide evaluation, a severe pre-dose BP.

    Renderers show these above the modality statuses (docs/case-record.md §4.8).
    """
    out = []
    if risk.action == "urgent_evaluation":
        item = kb.screening.items["urgent_suicide_evaluation"]
        esk = kb.screening.modalities["esketamine_nasal"].items["urgent_suicide_evaluation"]
        text = esk.note or item.label
        out.append(
            Alert(
                code="urgent_suicide_evaluation",
                message=text[:1].upper() + text[1:],
                sources=tuple(kb.source_ids(esk.source)),
            )
        )
    if bp.label == kb.vitals.predose_bp_guide.severe.status:
        r = bp.reasons[0]
        out.append(Alert(code="predose_bp_severe", message=r.message, sources=r.sources))
    return tuple(out)


def _unknowns(all_reasons: list[tuple[str, Reason]]) -> tuple[Unknown, ...]:
    """Each missing field with the conclusions it would settle, in first-seen order."""
    needed: dict[str, list[str]] = {}
    for section, r in all_reasons:
        for f in r.missing:
            lst = needed.setdefault(f, [])
            if section not in lst:
                lst.append(section)
    return tuple(Unknown(field=f, needed_for=tuple(s)) for f, s in needed.items())


def _bibliography(
    kb: KnowledgeBase, all_reasons: list[tuple[str, Reason]], extra: list[str]
) -> dict[str, Any]:
    """Every source cited by a reason (and ``extra`` ids), with its verification status."""
    ids: dict[str, None] = dict.fromkeys(extra)
    for _section, r in all_reasons:
        for sid in r.sources:
            ids.setdefault(sid)
    return {sid: kb.source_entry(sid) for sid in ids}
