"""One-page treatment-history summary for a referral or a prior-authorisation request.

``kdsupport summary CASE --kind referral`` writes what such a request asks for: each
antidepressant trial with dose, duration, adherence and outcome, which count as adequate
failures under the chosen definition and why, the staging, the screening status by way of
giving ketamine, what is still unknown, and the sources with their verification status.
Markdown, or HTML rendered from the same Markdown (self-contained, no scripts).

A training document about a synthetic patient; not a medical document and not a medical device.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from kdsupport.render.escaping import html_text, require_inert_html
from kdsupport.render.escaping import markdown_code as md_code
from kdsupport.render.escaping import markdown_text as md
from kdsupport.render.text import msm_text, roman
from kdsupport.rules.result import Status

if TYPE_CHECKING:
    from kdsupport.records.case import CaseRecord
    from kdsupport.rules.assessment import Assessment
    from kdsupport.rules.trd import TrialVerdict

__all__ = ["referral_markdown", "referral_html", "KINDS"]

KINDS = ("referral",)
_DECISIVE = (
    "trd.trial.previous_episode",
    "trd.trial.dose_low",
    "trd.trial.duration_short",
    "trd.trial.adherence_inadequate",
    "trd.trial.improved_above_threshold",
    "trd.trial.dose_unknown",
    "trd.trial.duration_unknown",
    "trd.trial.adherence_unknown",
    "trd.trial.episode_unknown",
    "trd.trial.improvement_unknown",
    "trd.trial.augmentation_agent",
    "trd.trial.antidepressant_as_augmentation",
)


def _cell(x: Any) -> str:
    """A value for a Markdown table cell or sentence: escaped, one line, never markup."""
    return "not recorded" if x is None else md(x)


def _why(trial: TrialVerdict) -> str:
    """The reason that decided a trial's verdict (the first failing or missing criterion)."""
    codes = {r.code: r for r in trial.reasons}
    for code in _DECISIVE:
        if code in codes:
            return codes[code].message
    if trial.outcome is Status.MET:  # failed
        nonresponse = codes.get("trd.trial.nonresponse")
        return "all criteria met; " + (
            nonresponse.message if nonresponse is not None else "non-response"
        )
    return "; ".join(r.message for r in trial.reasons[:2])


def _words(code: str) -> str:
    return md(code.replace("_", " "))


def _alert_lines(a: Assessment) -> list[str]:
    """What must be read before anything else (urgent suicide evaluation, a severe BP)."""
    if not a.alerts:
        return []
    lines = ["**First, before any way of giving ketamine:**", ""]
    for x in a.alerts:
        lines.append(f"- **{md(x.message)}** \\[{md(', '.join(x.sources))}\\]")
    return [*lines, ""]


def referral_markdown(record: CaseRecord, assessment: Assessment) -> str:
    """The referral summary as Markdown.

    Every value that comes from the record or the rules is escaped with
    :func:`kdsupport.render.escaping.markdown_text` (one line, no inline syntax), so a title or
    a code can never forge a heading, a link or raw HTML.
    """
    a = assessment
    p, dx, d = record.patient, record.diagnosis, a.definition
    sev = "not recorded"
    if dx and dx.severity:
        psych = {
            True: "with psychotic features",
            False: "without psychotic features",
            None: "psychotic features not recorded",
        }
        sev = (
            f"{md(dx.severity)} {psych[dx.psychotic_features]}"
            if dx.severity == "severe"
            else md(dx.severity)
        )
    months = (
        "not recorded"
        if not dx or dx.current_episode_months is None
        else f"{dx.current_episode_months:g} months"
    )
    names = {
        "mdd": "major depressive disorder",
        "bipolar_depression": "bipolar depression",
        "other": "other",
    }
    primary = "not recorded" if not dx or not dx.primary else names[dx.primary]
    icd = f" ({md(dx.icd10)})" if dx and dx.icd10 else ""
    lines = [
        "# Treatment-history summary for referral / prior authorisation",
        "",
        f"**Synthetic patient {md(record.id)}**"
        + (f": {md(record.title)}" if record.title else ""),
        "",
        "> Training document about a synthetic patient. Not a medical document and not clinical "
        "advice; "
        "the criteria below are the cited sources' criteria, for a clinician to check.",
        "",
        *_alert_lines(a),
        f"- **Patient:** {p.age_years}-year-old, sex {_cell(p.sex)}.",
        f"- **Diagnosis:** {primary}{icd}; current episode {months}; severity {sev}.",
        f"- **Definition applied:** {md_code(d.name)} ({md(d.title)}): at least "
        f"{d.min_failed_antidepressants} "
        f"different antidepressants with an adequate trial (at least the {md(d.dose_table)} "
        "minimum dose for "
        f"{d.min_weeks} weeks or more, adequate adherence, current episode) that failed "
        f"({md(d.failure)}). Sources: {md(', '.join(d.sources))}.",
        "",
        "## Medication trials",
        "",
        "| # | Drug | Role | Episode | Dose | Weeks | Adherence | Improvement | Adequate | "
        "Outcome | Counts | Why |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    trd = a.trd
    for t in trd.trials:
        i = t.inputs
        dose = (
            f"{i['serum_level_mmol_l']} mmol/L"
            if i["serum_level_mmol_l"] is not None
            else (
                f"{i['dose_mg_per_day']} mg/day"
                if i["dose_mg_per_day"] is not None
                else "not recorded"
            )
        )
        counts = (
            "adequate failure"
            if t.counts_toward_trd and t.outcome is Status.MET
            else ("no" if t.outcome is Status.NOT_MET or not t.counts_toward_trd else "unknown")
        )
        imp = (
            "not recorded" if i["improvement_percent"] is None else f"{i['improvement_percent']} %"
        )
        lines.append(
            f"| {t.index + 1} | {md(t.drug)} | {md(t.role)} | {_cell(t.episode)} | "
            f"{dose} | {_cell(i['weeks'])} | {_cell(i['adherence'])} | {imp} | "
            f"{_words(t.adequacy_label)} | {_words(t.outcome_label)} | {counts} | {md(_why(t))} |"
        )
    if not trd.trials:
        lines.append("| | no trials recorded | | | | | | | | | | |")
    failed = md(", ".join(trd.failed_drugs)) or "none"
    lines += [
        "",
        f"**Adequate failures:** {trd.failed_adequate_antidepressants} distinct "
        f"antidepressant(s) ({failed}); "
        f"{trd.unknown_trials} trial(s) with an unknown outcome. **TRD criteria under "
        f"{md_code(d.name)}: "
        f"{_words(trd.status.value).upper()}.**",
        "",
    ]
    lines += [f"- {md(r.message)} \\[{md(', '.join(r.sources))}\\]" for r in trd.reasons]
    s = a.staging
    lines += [
        "",
        "## Staging",
        "",
        f"- Thase-Rush stage {roman(s.thase_rush.value)}"
        + ("" if s.thase_rush.complete else " (could be higher)"),
        f"- MGH-S {s.mgh_s.value}" + ("" if s.mgh_s.complete else " (confirmed items only)"),
        f"- Maudsley Staging Method {md(msm_text(s.msm))}",
        "",
        "## Screening status",
        "",
    ]
    for m in a.modalities.values():
        present = [
            f"{md(f.label)} ({md(f.severity.value)})" for f in m.findings if f.present is True
        ]
        gaps = [md(f.label) for f in m.findings if f.present is None]
        detail = "; ".join(present) or "nothing present"
        if gaps:
            detail += f"; not assessed: {', '.join(gaps)}"
        lines.append(f"- **{md(m.title)}:** {_words(m.status.value)}. {detail}.")
    lines += [
        f"- **Pre-dose blood pressure:** {_words(a.predose_bp.status.value)}.",
        f"- **Suicide risk (C-SSRS):** {_words(a.suicide_risk.level)}; action "
        f"{_words(a.suicide_risk.action)}.",
        "",
    ]
    if a.unknowns:
        lines += ["## Information still needed", ""]
        lines += [f"- {md_code(u.field)} (for {md(', '.join(u.needed_for))})" for u in a.unknowns]
        lines.append("")
    lines += ["## Sources", ""]
    for sid, src in a.sources.items():
        ver = "UNVERIFIED" if src["verification"] == "unverified" else src["verification"]
        kind = " (assumption)" if src["kind"] == "assumption" else ""
        lines.append(
            f"- {md_code(sid)} \\[{md(ver)}{kind}\\]: {md(src['citation'])} "
            f"({md(src['year'] or 'year not stated')})"
        )
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d")
    lines += [
        "",
        f"*kdsupport {md(a.kdsupport_version)}, knowledge base {md(a.kb_version)}, {stamp}.*",
        "",
    ]
    return "\n".join(lines)


def referral_html(record: CaseRecord, assessment: Assessment) -> str:
    """The referral summary as a self-contained HTML page.

    The Markdown is rendered with raw HTML escaped and harmful link schemes dropped, and the
    page is checked by :func:`kdsupport.render.escaping.require_inert_html` before it is returned.
    """
    import mistune

    render = mistune.create_markdown(escape=True, plugins=["table"])
    body = str(render(referral_markdown(record, assessment)))
    css = (
        "body{font-family:system-ui,sans-serif;max-width:70em;margin:1em auto;padding:0 1em;"
        "line-height:1.4}table{border-collapse:collapse;font-size:85%}"
        "td,th{border:1px solid #999;padding:2px 5px;vertical-align:top}"
        "blockquote{border-left:4px solid #888;margin:0;padding:2px 10px;background:#f6f6f6}"
        "@media print{body{font-size:10pt}}"
    )
    page = (
        f"<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'><title>Referral summary "
        f"{html_text(record.id)}</title><style>{css}</style></head><body>{body}</body></html>\n"
    )
    return require_inert_html(page, what="referral summary")
