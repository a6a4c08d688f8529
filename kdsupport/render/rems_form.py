"""The SPRAVATO REMS Patient Monitoring Form of one session as a printable HTML page.

``kdsupport rems-form CASE --session N`` writes it. The page is self-contained (inline CSS, no
script, no image, nothing loaded from the network) and prints on paper as it shows on screen.
It shows the form filled in by :func:`kdsupport.rules.rems_form.fill_rems_form`, in the form's
printed order and grouped by the form's sections:

* the form's status first: whether it is required (outpatient settings only), complete or the
  required fields still needed before it can be submitted, its deadline and submission date;
* every field with its answer, or **not recorded** in a warning style (never blank, never in
  the style of a passed check); an answer that records a hazard is a warning in words (the
  check it failed and the rule's reason), never only in colour;
* where each answer comes from in the record, and each field's source with its verification
  status; the knowledge base's caveat (a training copy, never submitted anywhere).

Every text from the record (lot number, provider, adverse events, title) may be hostile: it is
shown on one line and HTML-escaped, and the page is checked to be inert before it is returned.

For training with synthetic patients; not a medical device and not the form itself.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from kdsupport.errors import InvalidInputError, Problem
from kdsupport.knowledge import load
from kdsupport.knowledge.wording import citation, modality_label
from kdsupport.render.escaping import html_text, one_line, require_inert_html
from kdsupport.render.html import sources_html
from kdsupport.rules.rems_form import fill_rems_form
from kdsupport.rules.result import CheckKind, Status

if TYPE_CHECKING:
    from kdsupport.knowledge import KnowledgeBase
    from kdsupport.records.case import CaseRecord
    from kdsupport.rules.assessment import Assessment, SessionAssessment
    from kdsupport.rules.rems_form import FilledForm, FormAnswer, RemsFormStatus

__all__ = ["COLOURS", "form_session_index", "filled_form", "status_line", "rems_form_html"]

ESKETAMINE = "esketamine_nasal"

#: Text and background colour of each style. Every pair has at least 4.5:1 contrast (WCAG 2.1
#: AA; tests/test_rems_form.py computes it). Colour only repeats the words: a missing answer
#: says "not recorded", a flagged one says what it records.
COLOURS = {
    "text": ("#1a1a1a", "#ffffff"),
    "muted": ("#4d4d4d", "#ffffff"),
    "head": ("#1a1a1a", "#e8e8e8"),
    "note": ("#1a1a1a", "#f3f3f3"),
    "missing": ("#7a3b00", "#fff3dc"),
    "flagged": ("#9e0b12", "#fdeaea"),
    "unverified": ("#9e0b12", "#ffffff"),
}

_CONCOMITANT = "concomitant_"


def _css() -> str:
    c = {k: f"color:{fg};background:{bg}" for k, (fg, bg) in COLOURS.items()}
    return (
        f"body{{font-family:system-ui,sans-serif;{c['text']};max-width:62em;margin:1em auto;"
        "padding:0 1em;line-height:1.45}h1{font-size:1.45em;margin-bottom:.2em}"
        "h2{font-size:1.2em;border-bottom:2px solid #595959;margin-top:1.4em}"
        "h3{font-size:1.05em;margin:1.1em 0 .3em}"
        "table{border-collapse:collapse;width:100%;margin:0 0 .6em;table-layout:fixed}"
        "thead th:nth-child(1){width:27%}thead th:nth-child(2){width:31%}"
        "thead th:nth-child(3){width:17%}"
        "th,td{border:1px solid #767676;padding:4px 6px;vertical-align:top;text-align:left;"
        f"overflow-wrap:anywhere}}thead th{{{c['head']}}}"
        f".req{{{c['muted']};font-weight:400;font-size:.9em;display:block}}"
        f".missing{{{c['missing']};font-weight:700}}.flagged{{{c['flagged']}}}"
        ".flag{display:block;font-weight:700;margin-top:2px}"
        f".note{{{c['note']};border-left:5px solid #595959;padding:6px 10px;margin:.6em 0}}"
        f".warn{{{c['flagged']};font-weight:700;padding:0 3px}}"
        f".miss{{{c['missing']};font-weight:700;padding:0 3px}}"
        "dl.status{display:grid;grid-template-columns:max-content 1fr;gap:4px 14px}"
        "dl.status dt{font-weight:700}dl.status dd{margin:0}"
        f".cite{{{c['muted']};font-size:.9em}}.unverified{{{c['unverified']}}}"
        f"footer{{{c['muted']};font-size:.9em;margin-top:2em}}"
        ".wide{overflow-x:auto}@media (max-width:40em){body{padding:0 .5em}"
        "dl.status{display:block}dl.status dd{margin:0 0 .6em}table{min-width:34em}}"
        "@media print{body{max-width:none;margin:0;font-size:10pt}a{color:inherit}"
        "tr,dl.status{break-inside:avoid}h2,h3{break-after:avoid}.wide{overflow:visible}"
        "*{print-color-adjust:exact;-webkit-print-color-adjust:exact}}"
    )


def _t(value: Any) -> str:
    """Text from the record: one line (controls shown as escapes), HTML-escaped."""
    return html_text(one_line(value))


def form_session_index(record: CaseRecord, number: int, *, option: str = "--session") -> int:
    """The list index of session ``number``, if it exists and is an esketamine session.

    Raises
    ------
    InvalidInputError
        Naming ``option``: no such session (listing the numbers that exist), or a session of
        another modality (the form is for esketamine, Spravato, sessions only).
    """
    sessions = list(record.sessions or ())
    found = [i for i, s in enumerate(sessions) if s.number == number]
    if not found:
        have = ", ".join(str(s.number) for s in sessions)
        where = f"its sessions are {have}" if have else "it records no sessions"
        msg = f"case {record.id} has no session {number}; {where}"
        raise InvalidInputError([Problem(option, msg)])
    s = sessions[found[0]]
    if s.modality != ESKETAMINE:
        esk = [str(x.number) for x in sessions if x.modality == ESKETAMINE]
        tail = f"; its esketamine sessions are {', '.join(esk)}" if esk else ""
        msg = (
            f"session {number} of case {record.id} is {modality_label(s.modality)}; the SPRAVATO "
            f"REMS Patient Monitoring Form is for esketamine (Spravato) sessions only{tail}"
        )
        raise InvalidInputError([Problem(option, msg)])
    return found[0]


def filled_form(
    record: CaseRecord, assessment: Assessment, index: int, kb: KnowledgeBase | None = None
) -> FilledForm:
    """The form of ``record.sessions[index]``, from the assessment's check statuses."""
    kb = kb or load()
    return fill_rems_form(record, index, assessment.sessions[index].checks, kb)


def status_line(form: FilledForm) -> str:
    """The form's status in a few plain words (for the terminal)."""
    st = form.status
    if st.status == "not_applicable":
        return "not an esketamine session: the form does not apply"
    if st.status == "not_required":
        return "not required: inpatient session"
    flagged = sum(a.flagged for a in form.answers)
    needed = f"{len(st.missing_fields)} required field(s) not recorded"
    done = "complete" if st.status == "complete" else f"INCOMPLETE, {needed}"
    required = "" if st.required == "yes" else "required: cannot tell (setting not recorded); "
    due = st.deadline or "unknown (session date not recorded)"
    return f"{required}form {done}; {flagged} answer(s) flagged; due {due}"


def _hazard(sa: SessionAssessment, name: str) -> bool:
    kind, st = sa.check_kinds.get(name), sa.checks.get(name)
    return (kind is CheckKind.COMPLIANCE and st is Status.NOT_MET) or (
        kind is CheckKind.FINDING and st is Status.MET
    )


def _check_title(kb: KnowledgeBase, name: str) -> str:
    c = kb.vitals.session_monitoring.checks.get(name) or kb.session_day.checks.get(name)
    return c.title if c is not None else name.replace("_", " ")


def _flag_words(a: FormAnswer, sa: SessionAssessment, kb: KnowledgeBase) -> list[str]:
    """Why a flagged answer is a warning: the check it failed (or finding) and the reason."""
    if a.id.startswith(_CONCOMITANT):
        effects = {str(k): v.effect for k, v in kb.session_day.concomitant.items()}
        effect = effects.get(a.id.removeprefix(_CONCOMITANT), "an interaction")
        return [f"taken: {effect}; monitor more closely"]
    if a.id == "adverse_events":
        return ["adverse event(s) recorded"]
    words = []
    for name in a.flagged_by:
        if _hazard(sa, name):
            verdict = "HAPPENED" if sa.check_kinds[name] is CheckKind.FINDING else "NOT done"
            why = "; ".join(r.message for r in sa.details.get(name, ()))
            words.append(f"{_check_title(kb, name)}: {verdict}" + (f" ({why})" if why else ""))
    return words or ["this answer records a hazard"]


def _answer_cell(a: FormAnswer, sa: SessionAssessment, kb: KnowledgeBase) -> str:
    """The answer, or not recorded, with the flag's words; never blank, never a pass style."""
    need = " (required before the form can be submitted)" if a.required else ""
    if a.answer is None or not one_line(a.answer):
        what = "not recorded" if a.answer is None else "recorded as empty text"
        body = (
            f'<strong>&#9888; {what}</strong> <span class="flag">{html_text(need.strip())}</span>'
        )
        cls = "missing"
    else:
        body = f"<bdi>{_t(a.answer)}</bdi>"
        cls = "answer"
    if a.flagged:
        cls = "flagged"
        body += "".join(
            f' <span class="flag">&#9888; {_t(w)}</span>' for w in _flag_words(a, sa, kb)
        )
    return f'<td class="{cls}">{body}</td>'


def _cites(refs: Iterable[tuple[str, str | None]]) -> str:
    """Short citations with the place in the source and the verification status."""
    out = []
    for sid, locator in refs:
        c = citation(sid)
        where = f", &ldquo;{html_text(locator)}&rdquo;" if locator else ""
        weak = c.assumption or c.verification == "unverified"
        cls = ' class="unverified"' if weak else ""
        status = f"<em{cls}>({html_text(c.status_words)})</em>"
        tip = f"source id: {c.id}"
        out.append(f'<span title="{html_text(tip)}">{html_text(c.short)}{where} {status}</span>')
    return "; ".join(out)


def _field_refs(a: FormAnswer, kb: KnowledgeBase) -> list[tuple[str, str | None]]:
    spec = next((f for f in kb.session_day.rems_form.fields if f.id == a.id), None)
    if spec is None:
        return [(sid, None) for sid in a.sources]
    return [(r.id, r.locator) for r in spec.source]


def _section_tables(form: FilledForm, sa: SessionAssessment, kb: KnowledgeBase) -> str:
    """The form's fields in printed order, one table per section of the form."""
    out = []
    groups = itertools.groupby(form.answers, key=lambda a: a.section)
    for n, (section, answers) in enumerate(groups, 1):
        rows = []
        for a in answers:
            req = "required" if a.required else "optional"
            reads = ", ".join(f"<code>{html_text(r)}</code>" for r in a.fields)
            rows.append(
                f'<tr id="field-{html_text(a.id)}" data-field="{html_text(a.id)}">'
                f'<th scope="row">{html_text(a.label)} <span class="req">{req}</span></th>'
                f"{_answer_cell(a, sa, kb)}<td>{reads}</td>"
                f'<td class="cite">{_cites(_field_refs(a, kb))}</td></tr>'
            )
        out.append(
            f'<h3 id="section-{n}">{html_text(section)}</h3>'
            f'<div class="wide" role="region" tabindex="0" aria-labelledby="section-{n}">'
            f'<table aria-labelledby="section-{n}"><thead><tr><th scope="col">Field</th>'
            '<th scope="col">Answer</th><th scope="col">From the record</th><th scope="col">'
            f"Source</th></tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
        )
    return "".join(out)


def _required_words(st: RemsFormStatus, modality: str) -> str:
    return {
        "not_applicable": f"No: this is not an esketamine (Spravato) session "
        f"({html_text(modality_label(modality))}); the form is for esketamine sessions only.",
        "not_required": "<strong>No: inpatient setting.</strong> The REMS Patient Monitoring "
        "Form is not required for inpatient settings (inpatient settings do not submit it); "
        "it is shown filled in for training only.",
    }.get(st.status) or {
        "yes": "Yes: an outpatient session. The form is completed after every outpatient "
        "session and submitted to the REMS.",
        "unknown": '<span class="miss">&#9888; cannot tell: the setting is not recorded.</span> '
        "The form is required after every outpatient session, not for inpatients.",
    }.get(st.required, html_text(st.required))


def _labels(form: FilledForm, ids: Iterable[str]) -> str:
    by_id = {a.id: a.label for a in form.answers}
    items = (
        f'<li><a href="#field-{html_text(i)}">{html_text(by_id.get(i, i))}</a></li>' for i in ids
    )
    return f"<ul>{''.join(items)}</ul>"


def _completeness(form: FilledForm) -> str:
    st = form.status
    if st.status == "complete":
        return "<strong>Complete:</strong> every required field is recorded."
    if st.status == "incomplete":
        return (
            f'<span class="miss">&#9888; INCOMPLETE: {len(st.missing_fields)} required field(s) '
            "still needed before it can be submitted:</span>" + _labels(form, st.missing_fields)
        )
    missing = [a.id for a in form.answers if a.answer is None]
    if not missing:
        return "Not needed for submission; every field is recorded."
    return f"Not needed for submission; {len(missing)} field(s) not recorded:" + _labels(
        form, missing
    )


def _dates(form: FilledForm, sa: SessionAssessment, kb: KnowledgeBase) -> tuple[str, str]:
    """The deadline and the submission, in words."""
    st = form.status
    if st.status in ("not_applicable", "not_required"):
        return "none: the form is not submitted for this session", "not applicable"
    days = kb.session_day.checks["rems_form_submitted"].deadline_days
    span = f"{days.value:g} days" if days else "the days the REMS allows"
    deadline = (
        f"{html_text(st.deadline)} (the session date plus {span})"
        if st.deadline
        else '<span class="miss">&#9888; cannot be set: the session date is not recorded</span>'
        f" (due within {span} of the session)"
    )
    why = "; ".join(r.message for r in sa.details.get("rems_form_submitted", ()))
    if st.submitted is None:
        sub = f'<span class="miss">&#9888; not recorded</span> ({html_text(why)})'
    elif _hazard(sa, "rems_form_submitted"):
        sub = f'{html_text(st.submitted)} <span class="warn">&#9888; {html_text(why)}</span>'
    else:
        sub = f"{html_text(st.submitted)} ({html_text(why or 'deadline not known')})"
    return deadline, sub


def _status_html(form: FilledForm, sa: SessionAssessment, kb: KnowledgeBase) -> str:
    deadline, submitted = _dates(form, sa, kb)
    n = sum(a.flagged for a in form.answers)
    flagged = (
        f'<span class="warn">&#9888; {n} answer(s) record a hazard:</span>'
        + _labels(form, [a.id for a in form.answers if a.flagged])
        if n
        else "None of the answers records a hazard."
    )
    day = (
        ""
        if sa.session_day_recorded
        else '<p class="note"><strong>Monitoring-only record:</strong> this session records none '
        "of the session-day fields (date, setting, lot number, provider, concomitant "
        "medication, ...), so those answers are not recorded.</p>"
    )
    return (
        '<section aria-labelledby="status"><h2 id="status">Status of this form</h2>'
        f'<dl class="status"><dt>Required</dt><dd>{_required_words(form.status, sa.modality)}</dd>'
        f"<dt>Completeness</dt><dd>{_completeness(form)}</dd><dt>Deadline</dt><dd>{deadline}</dd>"
        f"<dt>Submitted</dt><dd>{submitted}</dd><dt>Flagged answers</dt><dd>{flagged}</dd></dl>"
        f"{day}</section>"
    )


def _bibliography(form: FilledForm, kb: KnowledgeBase) -> str:
    ids = dict.fromkeys([*form.sources, *(s for a in form.answers for s in a.sources)])
    entries = [{"id": sid, **kb.source_entry(sid)} for sid in ids if sid in kb.sources]
    return '<section aria-labelledby="sources"><h2 id="sources">Sources</h2>' + (
        sources_html(entries) + "</section>"
    )


def rems_form_html(
    record: CaseRecord, assessment: Assessment, index: int, kb: KnowledgeBase | None = None
) -> str:
    """The page of the form of ``record.sessions[index]``: status, fields, sources.

    Raises
    ------
    kdsupport.render.escaping.UnsafeOutputError
        If the page would contain active markup (it never should: every text is escaped).
    """
    kb = kb or load()
    form = filled_form(record, assessment, index, kb)
    sa = assessment.sessions[index]
    s = (record.sessions or [])[index]
    title = f"{form.title}: training copy"
    what = (
        f"Synthetic case <bdi>{_t(record.id)}</bdi>"
        + (f" (<bdi>{_t(record.title)}</bdi>)" if record.title else "")
        + f", session {form.session_number}: {html_text(modality_label(s.modality))}, "
        + (html_text(s.date) if s.date else '<span class="miss">date not recorded</span>')
    )
    page = (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{html_text(title)}, case {_t(record.id)} session {form.session_number}</title>"
        f"<style>{_css()}</style></head><body><header><h1>{html_text(title)}</h1><p>{what}</p>"
        f'<p class="note" role="note"><strong>Training copy.</strong> {html_text(form.caveat)} '
        "For training with synthetic patients; not a medical device and not clinical advice."
        f"</p></header><main>{_status_html(form, sa, kb)}"
        '<section aria-labelledby="fields"><h2 id="fields">The form, field by field</h2>'
        "<p>In the form's printed order. <strong>&#9888; not recorded</strong> marks a field "
        "the record does not answer; &#9888; after an answer says the hazard it records.</p>"
        f"{_section_tables(form, sa, kb)}</section>{_bibliography(form, kb)}</main>"
        f"<footer><p>kdsupport {html_text(assessment.kdsupport_version)}, knowledge base "
        f"{html_text(assessment.kb_version)}. Sources: "
        f"{_cites((sid, None) for sid in form.sources)}.</p></footer></body></html>\n"
    )
    return require_inert_html(page, what="REMS form page")
