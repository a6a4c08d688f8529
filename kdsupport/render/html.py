"""HTML renderings for the trainee app, notebooks and reports.

Small, self-contained HTML snippets (inline styles, no scripts, no network): feedback on an
answer, the walkthrough summary, an assessment at a glance, source lists with verification
badges, and matplotlib figures embedded as PNG data URIs. Text always carries the meaning;
colour only repeats it, so the pages read the same with a screen reader or in grey.

For training and case conferences with synthetic patients; not a medical device.
"""

from __future__ import annotations

import base64
import enum
import html
import io
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from kdsupport.rules.result import CheckKind, Status

if TYPE_CHECKING:
    from kdsupport.records.case import CaseRecord
    from kdsupport.rules.assessment import Assessment, StagingScore
    from kdsupport.rules.result import Reason

__all__ = [
    "table_html",
    "esc",
    "badge",
    "sources_html",
    "reasons_html",
    "glance_html",
    "figure_html",
    "notice_html",
    "save_status_html",
    "check_badge",
    "alerts_html",
    "vignette_html",
    "cite_html",
    "CAVEAT_HTML",
]

CAVEAT_HTML = (
    '<div role="note" style="border-left:4px solid #888;padding:4px 10px;margin:6px 0;'
    'background:#f6f6f6;font-size:90%">For training with synthetic patients only. Not a '
    "medical device and not clinical advice: every result shows its basis and sources so that a "
    "clinician can check it; decisions remain the clinician's.</div>"
)

# Colours only repeat what the words say; each has at least 4.5:1 contrast on white and on the
# light grey of table rows (WCAG 2.1 AA). Success green is used for compliance met and nothing else
# that could be a hazard: a finding that happened never takes it (docs/case-record.md §3.7).
SUCCESS = "#1b7837"
HAZARD = "#a50f15"
WARNING = "#8a4500"
NOT_RECOMMENDED = "#7a1f5c"
UNKNOWN = "#5e3c99"
NEUTRAL = "#4d4d4d"
_STATUS_COLOURS = {
    "met": SUCCESS,
    "ok": SUCCESS,
    "clear": SUCCESS,
    "yes": SUCCESS,
    "not_met": HAZARD,
    "no": HAZARD,
    "consider_delay": WARNING,
    "severe": HAZARD,
    "contraindicated": HAZARD,
    "not_recommended": NOT_RECOMMENDED,
    "caution": WARNING,
    "incomplete": UNKNOWN,
    "unknown": UNKNOWN,
}
# Words and colours of a session check by its kind (compliance: met = done as required;
# finding: met = a hazard happened).
_CHECK_STYLE = {
    (CheckKind.COMPLIANCE, Status.MET): ("done", SUCCESS, "&#10003; "),
    (CheckKind.COMPLIANCE, Status.NOT_MET): ("NOT done", HAZARD, "&#10007; "),
    (CheckKind.COMPLIANCE, Status.UNKNOWN): ("not recorded", UNKNOWN, "? "),
    (CheckKind.FINDING, Status.MET): ("HAPPENED", HAZARD, "&#9888; "),
    (CheckKind.FINDING, Status.NOT_MET): ("not observed", NEUTRAL, ""),
    (CheckKind.FINDING, Status.UNKNOWN): ("cannot tell", UNKNOWN, "? "),
}
# A three-valued outcome (response, remission) in the words of the glance table.
_YES_NO = {Status.MET: "yes", Status.NOT_MET: "no", Status.UNKNOWN: "unknown"}
_ROMAN = ["0", "I", "II", "III", "IV", "V"]
_HAZARD_STATUSES = {"severe", "contraindicated", "not_recommended", "consider_delay", "caution"}
_VERIFICATION = {
    "verified": ("verified", SUCCESS),
    "secondary": ("secondary", WARNING),
    "unverified": ("UNVERIFIED", HAZARD),
    "project_contract": ("project contract", NEUTRAL),
}


def esc(x: Any) -> str:
    """HTML-escape any value."""
    return html.escape("" if x is None else str(x))


def badge(status: str | enum.Enum) -> str:
    """A status word in a coloured, bordered box (the word itself carries the meaning).

    ``status`` is a status enum of the assessment (shown by its value) or a word such as a
    trial's adequacy label. Hazard statuses (severe, contraindicated, not recommended, caution,
    consider delay) carry a warning sign, so they never look like a pass.
    """
    if isinstance(status, enum.Enum):
        status = str(status.value)
    colour = _STATUS_COLOURS.get(status, NEUTRAL)
    word = status.replace("_", " ")
    sign = "&#9888; " if status in _HAZARD_STATUSES else ""
    return (
        f'<span class="kd-badge kd-{esc(status)}" style="border:1px solid {colour};'
        f'color:{colour};border-radius:3px;padding:0 4px;font-weight:600">{sign}{esc(word)}</span>'
    )


def check_badge(status: Status, kind: CheckKind) -> str:
    """A session check's result in the words and colour of its kind (docs/case-record.md §3.7).

    A met *finding* (a hazard that happened) is shown as a warning, never in the success style.
    """
    word, colour, sign = _CHECK_STYLE[(kind, status)]
    return (
        f'<span class="kd-check kd-{esc(kind.value)}-{esc(status.value)}" '
        f'style="border:1px solid {colour};color:{colour};border-radius:3px;padding:0 4px;'
        f'font-weight:600">{sign}{esc(word)}</span>'
    )


def alerts_html(a: Assessment) -> str:
    """What must be seen before anything else (urgent suicide evaluation, a severe pre-dose BP)."""
    if not a.alerts:
        return ""
    items = "".join(f"<li><b>{esc(x.message)}</b> {cite_html(x.sources)}</li>" for x in a.alerts)
    return (
        f'<div role="alert" class="kd-alerts" style="border:3px solid {HAZARD};border-radius:6px;'
        f'padding:6px 12px;margin:6px 0;background:#fff5f5"><b style="color:{HAZARD}">'
        f"&#9888; First, before any way of giving ketamine:</b><ul style='margin:4px 0 2px 18px'>"
        f"{items}</ul></div>"
    )


def cite_html(source_ids: Iterable[str] | None) -> str:
    """Short citations ``(Author or body year, section (status); ...)``, ids in tooltips only.

    Each citation says whether its source is verified, secondary, UNVERIFIED, an assumption or
    the project's contract (principle 2); the knowledge-base id is the tooltip.
    """
    from kdsupport.knowledge.wording import citations

    parts = []
    for c in citations(source_ids or ()):
        colour = HAZARD if (c.assumption or c.verification == "unverified") else NEUTRAL
        section = f", {esc(c.section)}" if c.section else ""
        parts.append(
            f'<span class="kd-cite" title="source id: {esc(c.id)}">{esc(c.short)}{section} '
            f'<em style="color:{colour}">({esc(c.status_words)})</em></span>'
        )
    if not parts:
        return ""
    return f'<span class="kd-cites" style="color:{NEUTRAL}">({"; ".join(parts)})</span>'


def _verification_tag(src: dict[str, Any]) -> str:
    if src.get("kind") == "assumption":
        return '<em style="color:#b2182b">assumption, unverified</em>'
    if src.get("kind") == "specification" or src.get("verification") == "project_contract":
        return "<em>project contract</em>"
    word, colour = _VERIFICATION.get(src.get("verification", ""), ("?", "#444"))
    return f'<em style="color:{colour}">{esc(word)}</em>'


def sources_html(sources: list[dict[str, Any]]) -> str:
    """A list of sources: id, citation, section, year and verification status."""
    if not sources:
        return ""
    items = []
    for s in sources:
        year = s.get("year") or "year not stated"
        section = f", {esc(s['section'])}" if s.get("section") else ""
        short = s.get("short") or s.get("id")
        items.append(
            f'<li><b title="source id: {esc(s.get("id"))}">{esc(short)}</b> '
            f"({_verification_tag(s)}): {esc(s.get('citation'))}{section} ({esc(year)})</li>"
        )
    return f'<ul style="margin:2px 0 2px 18px;font-size:90%">{"".join(items)}</ul>'


def reasons_html(reasons: Sequence[Reason], sources: Mapping[str, Any] | None = None) -> str:
    """The rule's reasons, each with its source ids."""
    if not reasons:
        return ""
    items = [f"<li>{esc(r.message)} {cite_html(r.sources)}</li>" for r in reasons]
    return f'<ul style="margin:2px 0 2px 18px">{"".join(items)}</ul>'


def notice_html(text: str) -> str:
    """A short notice (e.g. 'choose an answer first') announced to screen readers."""
    return (
        f'<div role="status" aria-live="polite" class="kd-notice" '
        f'style="border:1px dashed #5e3c99;padding:4px 10px;margin:6px 0">{esc(text)}</div>'
    )


def save_status_html(error: str | None, pending: int) -> str:
    """Whether the trainee's answers were recorded; a loud warning when they were not."""
    if error is None and not pending:
        return ""
    if error is None:
        return notice_html(f"{pending} answer(s) are waiting to be recorded.")
    return (
        '<div role="alert" class="kd-save-error" style="border:2px solid #b2182b;'
        'border-radius:6px;padding:6px 10px;margin:6px 0;background:#fdecea">'
        "<b>&#9888; Your answer was NOT recorded.</b> The feedback above is still right, but "
        f"the attempt log could not be written: {esc(error)}. "
        f"{pending} answer(s) are kept on this page; press <b>Retry saving</b>, or tell your "
        "instructor if it keeps failing.</div>"
    )


def vignette_html(record: CaseRecord) -> str:
    """Case title and vignette for trainees."""
    return (
        f"<h2 style='margin:4px 0'>{esc(record.title or record.id)}</h2>"
        f"<p style='max-width:60em;line-height:1.45'>{esc(record.vignette or '')}</p>"
        f"<p style='color:#555;font-size:90%'>Case {esc(record.id)} (synthetic patient)</p>"
    )


def _roman(stage: float | None) -> str:
    """A Thase-Rush stage (a whole number from 0 to 5) as a Roman numeral."""
    if not isinstance(stage, int):
        raise TypeError(f"a Thase-Rush stage is a whole number, got {stage!r}")
    return _ROMAN[stage]


def glance_html(a: Assessment) -> str:
    """An assessment at a glance: the headline conclusions with their status words."""
    from kdsupport.knowledge.wording import definition_label, status_words
    from kdsupport.render.text import msm_text

    s = a.staging
    msm_txt = msm_text(s.msm)
    rows = [
        (
            "TRD (" + esc(definition_label(a.trd.definition)) + ")",
            badge(a.trd.status)
            + f" {a.trd.failed_adequate_antidepressants} failed adequate antidepressant(s)",
        ),
        (
            "Thase-Rush stage",
            _roman(s.thase_rush.value) + ("" if s.thase_rush.complete else " (could be higher)"),
        ),
        (
            "MGH-S",
            esc(s.mgh_s.value) + ("" if s.mgh_s.complete else " (confirmed items only)"),
        ),
        ("Maudsley (MSM)", esc(msm_txt)),
        (
            "Suicide risk",
            badge(a.suicide_risk.level) + " &rarr; " + esc(status_words(a.suicide_risk.action)),
        ),
        ("Pre-dose BP", badge(a.predose_bp.status)),
    ]
    for mod in a.modalities.values():
        rows.append((esc(mod.title), badge(mod.status)))
    o = a.outcome
    if o is not None:
        rows.append(
            (
                f"Response / remission ({esc(o.instrument)})",
                badge(_YES_NO[o.response]) + " / " + badge(_YES_NO[o.remission]),
            )
        )
    body = "".join(
        (
            "<tr><th scope='row' style='text-align:left;padding:2px 10px 2px "
            f"0'>{k}</th><td>{v}</td></tr>"
        )
        for k, v in rows
    )
    return f"{alerts_html(a)}<table style='border-collapse:collapse'>{body}</table>"


def figure_html(fig: Any, *, alt: str, width: int | None = None) -> str:
    """A matplotlib figure as an embedded PNG (no files, no network), with alt text."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=96)
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    size = f' width="{width}"' if width else ""
    return f'<img src="data:image/png;base64,{data}" alt="{esc(alt)}"{size} style="max-width:100%">'


# ---------------------------------------------------------------- knowledge-base tables
def _src_ids(kb: Any, refs: Any) -> str:
    return cite_html(kb.source_ids(refs))


def _table(header: list[str], rows: list[list[str]], caption: str = "") -> str:
    head = "".join(
        f"<th scope='col' style='text-align:left;padding:2px 8px'>{esc(h)}</th>" for h in header
    )
    body = "".join(
        "<tr>"
        + "".join(f"<td style='padding:2px 8px;vertical-align:top'>{c}</td>" for c in r)
        + "</tr>"
        for r in rows
    )
    cap = (
        f"<caption style='text-align:left;font-weight:600'>{esc(caption)}</caption>"
        if caption
        else ""
    )
    table = (
        "<table style='border-collapse:collapse' "
        f"border='1'>{cap}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
    )
    # a wide table scrolls inside its own focusable region, never the page (WCAG 1.4.10, 2.1.1)
    label = esc(f"{caption} (table)" if caption else "Table")
    return (
        f"<div class='kd-scroll' role='region' tabindex='0' aria-label='{label}' "
        f"style='max-width:100%;overflow-x:auto'>{table}</div>"
    )


def table_html(header: list[str], rows: list[list[str]], caption: str = "") -> str:
    """A table with a caption in a focusable scroll region; ``rows`` hold HTML (escape first)."""
    return _table(header, rows, caption)


def definitions_html(kb: Any) -> str:
    """The named TRD definitions side by side, with their sources."""
    rows = []
    for name, d in kb.trd.definitions.items():
        default = " (default)" if name == kb.trd.default else ""
        rows.append(
            [
                f"<b>{esc(d.label)}</b>{default}<br>{esc(d.title)}",
                f"{d.min_failed_antidepressants.value:g}",
                f"{d.min_weeks.value:g}",
                f"improvement {esc(d.failure.comparison)} {d.failure.percent:g} %",
                _src_ids(kb, d.min_weeks.source + d.failure.source),
            ]
        )
    return _table(
        [
            "Definition",
            "Failed antidepressants needed",
            "Minimum weeks",
            "Failed when",
            "Sources",
        ],
        rows,
        "TRD definitions in the knowledge base",
    )


def dose_table_html(kb: Any, table: str = "atrq") -> str:
    """Minimum adequate doses by drug with their verification status."""
    rows = []
    for name, drug in kb.drugs.drugs.items():
        m = drug.min_adequate[table]
        value = (
            f"{m.mg_per_day:g} mg/day"
            if m.mg_per_day is not None
            else f"serum {m.serum_level_mmol_l:g} mmol/L"
        )
        rows.append(
            [esc(name), esc(kb.drugs.classes[drug.drug_class].label), value, _src_ids(kb, m.source)]
        )
    return _table(
        ["Drug", "Class", "Minimum adequate", "Sources"], rows, kb.drugs.dose_tables[table].title
    )


def screening_matrix_html(kb: Any) -> str:
    """Each screening item's severity for each modality, side by side."""
    mods = list(kb.screening.modalities)
    words = {
        "contraindication": "contraindicated",
        "not_recommended": "not_recommended",
        "warning": "caution",
    }
    rows = []
    for name, item in kb.screening.items.items():
        cells = []
        for m in mods:
            spec = kb.screening.modalities[m].items.get(name)
            cells.append(
                badge(words[spec.severity])
                if spec
                else f"<span style='color:{NEUTRAL}'>not screened</span>"
            )
        rows.append([esc(item.label), *cells])
    header = ["Item", *[kb.screening.modalities[m].title for m in mods]]
    return _table(
        header,
        rows,
        (
            "Severity by way of giving ketamine (contraindicated = contraindication; not "
            "recommended = the label's own words; caution = warning)"
        ),
    )


def sourced_list_html(kb: Any, items: list[Any]) -> str:
    """A bullet list of sourced statements."""
    lis = "".join(f"<li>{esc(i.text)} {_src_ids(kb, i.source)}</li>" for i in items)
    return f"<ul>{lis}</ul>"


def trials_evidence_html(kb: Any) -> str:
    """The key trials with their headline numbers and sources."""
    rows = []
    for t in kb.evidence.trials:
        results = "".join(f"<li>{esc(r.text)} {_src_ids(kb, r.source)}</li>" for r in t.results)
        rows.append(
            [
                f"<b>{esc(t.name)}</b>",
                esc(t.design),
                esc(t.intervention),
                f"<ul style='margin:0 0 0 16px'>{results}</ul>",
            ]
        )
    return _table(["Trial", "Design", "Intervention", "Headline results"], rows, "Key trials")


# ---------------------------------------------------------------- assessment sections
def trd_html(a: Assessment) -> str:
    """TRD status with every trial's adequacy and outcome and its reasons."""
    t = a.trd
    rows = []
    for tr in t.trials:
        i = tr.inputs
        dose = (
            f"{i['serum_level_mmol_l']} mmol/L"
            if i["serum_level_mmol_l"] is not None
            else "not recorded"
            if i["dose_mg_per_day"] is None
            else f"{i['dose_mg_per_day']} mg/day"
        )
        reasons = "".join(f"<li>{esc(d.message)}</li>" for d in tr.reasons)
        rows.append(
            [
                esc(tr.index + 1),
                esc(tr.drug)
                + ("" if tr.counts_toward_trd else "<br><i>does not count toward TRD</i>"),
                esc(tr.role),
                esc(tr.episode or "not recorded"),
                dose,
                esc("not recorded" if i["weeks"] is None else i["weeks"]),
                esc(i["adherence"] or "not recorded"),
                esc(
                    "not recorded"
                    if i["improvement_percent"] is None
                    else f"{i['improvement_percent']} %"
                ),
                badge(tr.adequacy_label),
                badge(tr.outcome_label),
                f"<ul style='margin:0 0 0 14px'>{reasons}</ul>",
            ]
        )
    from kdsupport.knowledge.wording import definition_label

    head = (
        f"<p><b>TRD ({esc(definition_label(t.definition))}):</b> {badge(t.status)} &mdash; "
        f"{t.failed_adequate_antidepressants} distinct antidepressant(s) with a failed "
        "adequate trial; "
        f"{t.unknown_trials} trial(s) with an unknown outcome.</p>"
    )
    reasons = reasons_html(t.reasons)
    table = (
        _table(
            [
                "#",
                "Drug",
                "Role",
                "Episode",
                "Dose",
                "Weeks",
                "Adherence",
                "Improvement",
                "Adequacy",
                "Outcome",
                "Basis",
            ],
            rows,
        )
        if rows
        else "<p>No trials recorded.</p>"
    )
    return head + reasons + table


def staging_html(a: Assessment) -> str:
    """Thase-Rush, MGH-S and Maudsley side by side, each with components and reasons."""
    s = a.staging

    from kdsupport.knowledge.wording import class_label, component_label, plain_value

    def value_words(model: str, key: str, v: Any) -> str:
        if model == "thase_rush" and key == "failed_classes":
            return plain_value([class_label(c) for c in v])
        return plain_value(v)

    def column(model: str, title: str, headline: str, score: StagingScore) -> str:
        comp = "".join(
            f"<li>{esc(component_label(model, k))}: {esc(value_words(model, k, v))}</li>"
            for k, v in score.components.items()
        )
        return (
            "<div style='flex:1;min-width:16em;border:1px solid #ccc;border-radius:6px;"
            "padding:6px 10px'>"
            f"<h3 style='margin:2px 0'>{esc(title)}</h3>"
            f"<p style='font-size:120%'><b>{headline}</b></p>"
            f"<p style='margin:2px 0'>Components:</p><ul style='margin:0 0 0 16px'>{comp}</ul>"
            "<details><summary>Basis and sources</summary>"
            f"{reasons_html(score.reasons)}</details></div>"
        )

    tr, mg, ms = s.thase_rush, s.mgh_s, s.msm
    tr_head = f"Stage {_roman(tr.value)}" + (
        "" if tr.complete else f" (could be up to {_roman(tr.possible_max)})"
    )
    mg_head = f"{esc(mg.value)}" + ("" if mg.complete else " (confirmed items only)")
    if ms.band == "not_applicable":
        ms_head = "not applicable"
    elif ms.value is None:
        ms_head = "no total: a component is unknown"
    else:
        ms_head = f"{esc(ms.value)}, {esc(ms.band)}" + ("" if ms.complete else " (could be higher)")
    return (
        "<div style='display:flex;gap:10px;flex-wrap:wrap'>"
        + column("thase_rush", "Thase-Rush", tr_head, tr)
        + column("mgh_s", "MGH-S", mg_head, mg)
        + column("msm", "Maudsley (MSM)", ms_head, ms)
        + "</div>"
    )


def modalities_html(a: Assessment) -> str:
    """The alerts, then each modality's status with the findings present or not assessed."""
    parts = [alerts_html(a)]
    for mod in a.modalities.values():
        lis = ""
        for f in mod.findings:
            sources = cite_html(f.sources)
            word = esc(f.severity.value.replace("_", " "))
            if f.present is True:
                note = f": {esc(f.note)}" if f.note else ""
                lis += f"<li>&#9888; {word}: <b>{esc(f.label)}</b>{note} {sources}</li>"
            else:
                lis += f"<li><b>not assessed</b> ({word} item): {esc(f.label)}</li>"
        parts.append(
            f"<div style='border:1px solid #ccc;border-radius:6px;padding:6px 10px;margin:4px 0'>"
            f"<b>{esc(mod.title)}</b>: {badge(mod.status)}<br><span "
            "style='font-size:90%;color:#444'>"
            f"{esc(mod.regulatory_status)}</span><ul style='margin:2px 0 0 "
            f"16px'>{lis or '<li>nothing present, everything assessed</li>'}</ul></div>"
        )
    return "".join(parts)


def predose_html(a: Assessment) -> str:
    """The pre-dose blood pressure in its tier, with the reasons (and any screening mismatch)."""
    bp = a.predose_bp
    return f"<p><b>Pre-dose blood pressure:</b> {badge(bp.status)}</p>{reasons_html(bp.reasons)}"


def suicide_html(a: Assessment) -> str:
    """The C-SSRS triage level and action with its reasons."""
    from kdsupport.knowledge.wording import status_words

    sr = a.suicide_risk
    return (
        f"<p><b>C-SSRS triage:</b> level {badge(sr.level)} &rarr; action "
        f"<b>{esc(status_words(sr.action))}</b></p>{reasons_html(sr.reasons)}"
    )


def session_checks_html(a: Assessment, index: int) -> str:
    """Every monitoring check of one session (``index`` in record order), in its kind's words."""
    from kdsupport.knowledge import load
    from kdsupport.knowledge.wording import modality_label

    checks = load().session_check_info()
    s = a.sessions[index]
    rows = []
    for name, status in s.checks.items():
        kind = s.check_kinds[name]
        label = "finding" if kind is CheckKind.FINDING else "check"
        rows.append(
            [
                f"{esc(checks[name].title)} <span style='color:{NEUTRAL};font-size:85%'>"
                f"({label})</span>",
                check_badge(status, kind),
                reasons_html(s.details[name]),
            ]
        )
    return _table(
        ["Check", "Result", "Basis"],
        rows,
        f"Session {s.number} ({modality_label(s.modality)}): a finding that HAPPENED is a "
        "hazard; 'done' means a check was done as required",
    )


# ---------------------------------------------------------------- cohort tables
def rates_table_html(rates: Any, *, caption: str, outcome: str = "with the outcome") -> str:
    """A rate table from :func:`kdsupport.cohort.outcomes.rates_with_ci` in words.

    Counts, per cent and the 95 % confidence interval.
    """
    from kdsupport.render.plots import COLUMN_WORDS, value_words

    groups = [c for c in rates.columns if c not in ("n", "k", "rate", "ci_low", "ci_high")]
    header = [COLUMN_WORDS.get(g, g.replace("_", " ")).capitalize() for g in groups] + [
        "Patients",
        f"Patients {outcome}",
        "Rate",
        "95 % interval (Wilson)",
    ]
    rows = []
    for r in rates.itertuples(index=False):
        d = r._asdict()
        rows.append(
            [esc(value_words(g, d[g])) for g in groups]
            + [
                esc(d["n"]),
                esc(d["k"]),
                f"{100 * d['rate']:.1f} %",
                f"{100 * d['ci_low']:.1f} to {100 * d['ci_high']:.1f} %",
            ]
        )
    return _table(header, rows, caption)


def crossings_table_html(crossings: Any) -> str:
    """Sessions that crossed each monitoring check, by way of giving ketamine, in words."""
    from kdsupport.render.plots import value_words

    when = {"met": "it happened (a finding)", "not_met": "the check was not met"}
    rows = [
        [
            esc(value_words("modality", r.modality)),
            esc(value_words("check", r.check)),
            esc(when.get(r.attention_when, r.attention_when)),
            esc(r.sessions),
            esc(r.count),
            esc(r.unknown),
            f"{r.percent:.1f} %",
        ]
        for r in crossings.itertuples(index=False)
    ]
    return _table(
        [
            "Way of giving ketamine",
            "Monitoring check",
            "Needs attention when",
            "Sessions",
            "Needing attention",
            "Cannot tell",
            "Percent",
        ],
        rows,
        "Sessions that crossed a monitoring threshold or missed a check",
    )
