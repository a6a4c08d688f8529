"""Suicide-risk triage from the C-SSRS screener, with the PHQ-9 item 9 escalation.

Rules (``knowledge/suicide_risk.yaml``; ``docs/case-record.md`` §3.4):

* high = intent or plan, or suicidal behaviour in the past 3 months;
* moderate = method, or behaviour ever but not in the past 3 months;
* low = only a wish to be dead or active thoughts; none = all no.
* The level is the highest tier whose condition is met. If a higher tier's condition is
  unknown, the level is ``unknown`` and the action ``complete_screening``.
* Skip rule: when ``active_thoughts`` is false, null method/intent/plan mean "no"; when
  ``behavior`` is false, a null ``behavior_past_3_months`` means "no".
* The latest screener in record order counts. With level none, a positive item 9 on the latest
  PHQ-9 with items (an unknown item 9 counts as positive) makes the action
  ``clinician_review``.

The output is a triage category and the action the Columbia workflow associates with it, for
a clinician to act on; it is not a risk prediction.

For training and case conferences with synthetic patients; not a medical device.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kdsupport.rules.result import Reason, Result, Status, all_of, any_of

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from kdsupport.knowledge import KnowledgeBase
    from kdsupport.records.case import CaseRecord

__all__ = ["SuicideRisk", "evaluate_suicide_risk", "suicide_columns"]


@dataclass(frozen=True)
class SuicideRisk(Result):
    """Triage level and action with the answers used."""

    level: str  # high / moderate / low / none / unknown
    action: str
    at_least: str | None  # the highest level already confirmed when level is unknown
    screener_index: int | None
    answers: dict[str, bool | None]


def _phq9_item9_escalation(adms: list[Any], kb: KnowledgeBase) -> Reason | None:
    """The reason to raise the action when the latest PHQ-9 item 9 is positive, else None.

    An item not recorded counts as positive when the knowledge base says so.
    """
    esc = kb.suicide.cssrs_screener.phq9_item9_escalation
    flag = next(f for f in kb.scales.instruments[esc.instrument].flags if f.code == esc.flag)
    with_items = [
        (i, a) for i, a in enumerate(adms) if a.instrument == esc.instrument and a.items is not None
    ]
    if not with_items:
        return None
    pi, pa = with_items[-1]
    items = pa.items or []
    value = items[flag.item - 1] if len(items) >= flag.item else None
    positive = esc.unknown_item_counts_positive if value is None else flag.min <= value <= flag.max
    if not positive:
        return None
    what = "not recorded (counted as positive)" if value is None else f"= {value}"
    return Reason(
        f"suicide.{esc.flag}",
        f"latest {esc.instrument.upper()} item {flag.item} {what}: action raised to "
        f"{esc.to_action.replace('_', ' ')}",
        (f"assessments[{pi}].items[{flag.item - 1}]",),
        kb.source_ids(esc.source) + kb.source_ids(flag.source),
    )


def evaluate_suicide_risk(record: CaseRecord, kb: KnowledgeBase) -> SuicideRisk:
    """Triage the latest C-SSRS screener of a case."""
    c = kb.suicide.cssrs_screener
    adms = list(record.assessments or ())
    screeners = [(i, a) for i, a in enumerate(adms) if a.instrument == "cssrs_screener"]
    if not screeners:
        action = c.actions["unknown"]
        return SuicideRisk(
            "unknown",
            action,
            None,
            None,
            {},
            reasons=(
                Reason(
                    "suicide.no_screener",
                    "no C-SSRS screener recorded: the risk level cannot be given",
                    ("assessments",),
                    kb.source_ids(c.actions_source),
                    ("assessments[] (instrument: cssrs_screener)",),
                ),
            ),
        )
    index, adm = screeners[-1]
    path = f"assessments[{index}].answers"
    raw = (
        adm.answers.model_dump() if adm.answers is not None else {q.key: None for q in c.questions}
    )
    answers: dict[str, bool | None] = dict(raw)
    reasons: list[Reason] = []
    words = {q.key: f"question {q.number} ({q.text.lower()})" for q in c.questions}
    words["behavior_not_recent"] = "suicidal behaviour ever, but not in the past 3 months"

    def said(keys: Any) -> str:
        return "; ".join(words.get(k, k) for k in keys)

    skip_notes = []
    for rule in (c.skip_rule, c.behavior_rule):
        if answers.get(rule.when_no) is False:
            for k in rule.skipped:
                if answers.get(k) is None:
                    answers[k] = False
                    skip_notes.append(k)
    if skip_notes:
        reasons.append(
            Reason(
                "suicide.skip_rule",
                f"not asked because not applicable, read as no: {said(skip_notes)}",
                tuple(f"{path}.{k}" for k in skip_notes),
                tuple(
                    dict.fromkeys(
                        kb.source_ids(c.skip_rule.source) + kb.source_ids(c.behavior_rule.source)
                    )
                ),
            )
        )

    def status(key: str) -> Status:
        if key == "behavior_not_recent":
            return all_of(
                [
                    Status.of(answers.get("behavior")),
                    ~Status.of(answers.get("behavior_past_3_months")),
                ]
            )
        return Status.of(answers.get(key))

    level = c.none_level
    at_least = None
    for tier in c.tiers:
        st = any_of(status(k) for k in tier.any_of)
        src = kb.source_ids(tier.source)
        yes = [k for k in tier.any_of if status(k) is Status.MET]
        if st is Status.MET:
            if level == "unknown":
                at_least = tier.level
                break
            level = tier.level
            reasons.append(
                Reason(
                    f"suicide.level_{tier.level}",
                    f"{tier.level}: yes to {said(yes)}",
                    tuple(f"{path}.{k}" for k in yes if k != "behavior_not_recent") or (path,),
                    src,
                )
            )
            break
        if st is Status.UNKNOWN and level != "unknown":
            unknown = [k for k in tier.any_of if status(k) is Status.UNKNOWN]
            fields = []
            for k in unknown:
                if k in ("behavior_not_recent", "behavior_past_3_months"):
                    # answering "behaviour ever" may settle the recent-behaviour question too
                    fields += [f"{path}.behavior", f"{path}.behavior_past_3_months"]
                else:
                    fields.append(f"{path}.{k}")
            fields = [f for f in dict.fromkeys(fields) if answers.get(f.rsplit(".", 1)[1]) is None]
            level = "unknown"
            reasons.append(
                Reason(
                    "suicide.level_unknown",
                    f"not asked: {said(f.rsplit('.', 1)[1] for f in fields)}; "
                    f"a yes would make the level {tier.level}",
                    tuple(fields),
                    src,
                    tuple(fields),
                )
            )
    if level == c.none_level:
        reasons.append(
            Reason(
                "suicide.level_none",
                "no to every screener question",
                (path,),
                kb.source_ids(c.tiers[-1].source),
            )
        )
    if level == "unknown" and at_least:
        reasons.append(
            Reason(
                "suicide.at_least",
                f"already at least {at_least} from the answers given",
                (path,),
                kb.source_ids(c.tiers[-1].source),
            )
        )

    action = c.actions[level]
    raised = (
        _phq9_item9_escalation(adms, kb) if level == c.phq9_item9_escalation.from_level else None
    )
    if raised is not None:
        action = c.phq9_item9_escalation.to_action
        reasons.append(raised)
    reasons.append(
        Reason(
            f"suicide.action.{action}",
            c.action_descriptions[action],
            (path,),
            kb.source_ids(c.actions_source),
        )
    )
    return SuicideRisk(level, action, at_least, index, answers, reasons=tuple(reasons))


# ---------------------------------------------------------------- the column-wise twin
def suicide_columns(
    tables: dict[str, pd.DataFrame], codes: dict[str, np.ndarray], n: int, kb: KnowledgeBase
) -> tuple[np.ndarray, np.ndarray]:
    """The column-wise twin of :func:`evaluate_suicide_risk`: (level, action) per patient.

    The latest C-SSRS screener of each patient, with the PHQ-9 item 9 escalation.
    """
    import numpy as np
    import pandas as pd

    from kdsupport.rules.columns import MET, NOT, UNK, and_, flt, not_, or_, tri, txt

    c = kb.suicide.cssrs_screener
    ad = tables["assessments"]
    acodes = codes["assessments"]
    instrument = txt(ad["instrument"])
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
            vals = tri(cs[q.key])
            ok = ~np.isnan(rows.astype(float))
            col[np.arange(n)[has][ok]] = vals[rows[ok].astype(np.int64)]
        answers[q.key] = col
    for rule in (c.skip_rule, c.behavior_rule):
        off = answers[rule.when_no] == NOT
        for k in rule.skipped:
            answers[k] = np.where(off & (answers[k] == UNK), NOT, answers[k]).astype(np.int8)

    def status(key: str) -> np.ndarray:
        if key == "behavior_not_recent":
            return and_(answers["behavior"], not_(answers["behavior_past_3_months"]))
        return answers[key]

    level = np.full(n, c.none_level, dtype=object)
    undecided = np.ones(n, bool)
    unknown = np.zeros(n, bool)
    for tier in c.tiers:
        st = or_(*(status(k) for k in tier.any_of))
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
    scores = flt(items["score"][sel])
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
