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

from kdsupport.report import _ROMAN, msm_text

if TYPE_CHECKING:
    from kdsupport.case import CaseRecord

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
    return "not recorded" if x is None else str(x).replace("|", "/")


def _why(trial: dict[str, Any]) -> str:
    """The reason that decided a trial's verdict (the first failing or missing criterion)."""
    codes = {d["code"]: d for d in trial["details"]}
    for code in _DECISIVE:
        if code in codes:
            return codes[code]["message"]
    if trial["outcome"] == "failed":
        return "all criteria met; " + codes.get("trd.trial.nonresponse", {}).get(
            "message", "non-response"
        )
    return "; ".join(d["message"] for d in trial["details"][:2])


def referral_markdown(record: CaseRecord, assessment: dict[str, Any]) -> str:
    """The referral summary as Markdown."""
    a = assessment
    p, dx, d = record.patient, record.diagnosis, a["definition"]
    sev = "not recorded"
    if dx and dx.severity:
        psych = {
            True: "with psychotic features",
            False: "without psychotic features",
            None: "psychotic features not recorded",
        }
        sev = (
            f"{dx.severity} {psych[dx.psychotic_features]}"
            if dx.severity == "severe"
            else dx.severity
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
    icd = f" ({dx.icd10})" if dx and dx.icd10 else ""
    lines = [
        "# Treatment-history summary for referral / prior authorisation",
        "",
        f"**Synthetic patient {record.id}**" + (f": {record.title}" if record.title else ""),
        "",
        "> Training document about a synthetic patient. Not a medical document and not clinical "
        "advice; "
        "the criteria below are the cited sources' criteria, for a clinician to check.",
        "",
        f"- **Patient:** {p.age_years}-year-old, sex {_cell(p.sex)}.",
        f"- **Diagnosis:** {primary}{icd}; current episode {months}; severity {sev}.",
        f"- **Definition applied:** `{d['name']}` ({d['title']}): at least "
        f"{d['min_failed_antidepressants']} "
        f"different antidepressants with an adequate trial (at least the {d['dose_table']} "
        "minimum dose for "
        f"{d['min_weeks']} weeks or more, adequate adherence, current episode) that failed "
        f"({d['failure']}). Sources: {', '.join(d['sources'])}.",
        "",
        "## Medication trials",
        "",
        "| # | Drug | Role | Episode | Dose | Weeks | Adherence | Improvement | Adequate | "
        "Outcome | Counts | Why |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for t in a["trd"]["trials"]:
        i = t["inputs"]
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
            if t["counts_toward_trd"] and t["outcome"] == "failed"
            else ("no" if t["outcome"] == "not_failed" or not t["counts_toward_trd"] else "unknown")
        )
        imp = (
            "not recorded" if i["improvement_percent"] is None else f"{i['improvement_percent']} %"
        )
        lines.append(
            f"| {t['index'] + 1} | {t['drug']} | {t['role']} | {_cell(t['episode'])} | {dose} | "
            f"{_cell(i['weeks'])} "
            f"| {_cell(i['adherence'])} | {imp} | {t['adequacy'].replace('_', ' ')} | "
            f"{t['outcome'].replace('_', ' ')} "
            f"| {counts} | {_why(t).replace('|', '/')} |"
        )
    if not a["trd"]["trials"]:
        lines.append("| | no trials recorded | | | | | | | | | | |")
    trd = a["trd"]
    failed = ", ".join(trd["failed_drugs"]) or "none"
    lines += [
        "",
        f"**Adequate failures:** {trd['failed_adequate_antidepressants']} distinct "
        f"antidepressant(s) ({failed}); "
        f"{trd['unknown_trials']} trial(s) with an unknown outcome. **TRD criteria under "
        f"`{d['name']}`: "
        f"{trd['status'].replace('_', ' ').upper()}.**",
        "",
    ]
    lines += [f"- {r['message']} [{', '.join(r['sources'])}]" for r in trd["reasons"]]
    s = a["staging"]
    msm = s["msm"]
    msm_txt = msm_text(msm)
    lines += [
        "",
        "## Staging",
        "",
        f"- Thase-Rush stage {_ROMAN[s['thase_rush']['stage']]}"
        + ("" if s["thase_rush"]["complete"] else " (could be higher)"),
        f"- MGH-S {s['mgh_s']['score']}"
        + ("" if s["mgh_s"]["complete"] else " (confirmed items only)"),
        f"- Maudsley Staging Method {msm_txt}",
        "",
        "## Screening status",
        "",
    ]
    for m in a["modalities"].values():
        present = [f"{f['label']} ({f['severity']})" for f in m["findings"] if f["present"] is True]
        gaps = [f["label"] for f in m["findings"] if f["present"] is None]
        detail = "; ".join(present) or "nothing present"
        if gaps:
            detail += f"; not assessed: {', '.join(gaps)}"
        lines.append(f"- **{m['title']}:** {m['status']}. {detail}.")
    lines += [
        f"- **Pre-dose blood pressure:** {a['predose_bp']['status'].replace('_', ' ')}.",
        f"- **Suicide risk (C-SSRS):** {a['suicide_risk']['level']}; action "
        f"{a['suicide_risk']['action'].replace('_', ' ')}.",
        "",
    ]
    if a["unknowns"]:
        lines += ["## Information still needed", ""]
        lines += [f"- `{u['field']}` (for {', '.join(u['needed_for'])})" for u in a["unknowns"]]
        lines.append("")
    lines += ["## Sources", ""]
    for sid, src in a["sources"].items():
        ver = "UNVERIFIED" if src["verification"] == "unverified" else src["verification"]
        kind = " (assumption)" if src["kind"] == "assumption" else ""
        lines.append(
            f"- `{sid}` [{ver}{kind}]: {src['citation']} ({src['year'] or 'year not stated'})"
        )
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d")
    lines += [
        "",
        f"*kdsupport {a['kdsupport_version']}, knowledge base {a['kb_version']}, {stamp}.*",
        "",
    ]
    return "\n".join(lines)


def referral_html(record: CaseRecord, assessment: dict[str, Any]) -> str:
    """The referral summary as a self-contained HTML page."""
    from nbconvert.filters.markdown_mistune import markdown2html_mistune

    from kdsupport.report_html import esc

    body = markdown2html_mistune(referral_markdown(record, assessment))
    css = (
        "body{font-family:system-ui,sans-serif;max-width:70em;margin:1em auto;padding:0 1em;"
        "line-height:1.4}table{border-collapse:collapse;font-size:85%}"
        "td,th{border:1px solid #999;padding:2px 5px;vertical-align:top}"
        "blockquote{border-left:4px solid #888;margin:0;padding:2px 10px;background:#f6f6f6}"
        "@media print{body{font-size:10pt}}"
    )
    return (
        f"<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'><title>Referral summary "
        f"{esc(record.id)}</title><style>{css}</style></head><body>{body}</body></html>\n"
    )
