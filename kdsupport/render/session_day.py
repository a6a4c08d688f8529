"""The session day in HTML: schedule, preparation, REMS checks and the REMS form, by session.

One table for a whole case (the conference report) and one block per session (the monitoring
drill and the session-day drill). A check that does not apply says why; a session that records
no session-day field says so in the warning style, never as a pass; a met finding is a
warning (docs/case-record.md §3.8, §3.9).

For training and case conferences with synthetic patients; not a medical device.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kdsupport.render.html import NEUTRAL, WARNING, check_badge, esc, reasons_html, table_html

if TYPE_CHECKING:
    from kdsupport.rules.assessment import Assessment, SessionAssessment

__all__ = ["session_day_table_html", "session_day_block_html", "rems_form_status_html"]

_DASH = f"<span style='color:{NEUTRAL}'>&mdash;</span>"


def _titles() -> dict[str, str]:
    from kdsupport.knowledge import load

    return {n: c.title for n, c in load().session_day.checks.items()}


def _warn(text: str) -> str:
    return f"<span style='color:{WARNING};font-weight:600'>&#9888; {esc(text)}</span>"


def rems_form_status_html(s: SessionAssessment) -> str:
    """The REMS form's status of one session in words: required, complete or what it needs."""
    form = s.rems_form
    if form is None or form.status == "not_applicable":
        return _DASH
    if form.status == "not_required":
        return esc("not required (inpatient)")
    due = f"due {form.deadline}" if form.deadline else "due 7 days after the session"
    sent = f"submitted {form.submitted}" if form.submitted else "submission not recorded"
    if form.status == "complete":
        head = "complete"
    else:
        n = len(form.missing_fields)
        head = f"INCOMPLETE: {n} field{'s' if n != 1 else ''} still needed"
    need = "" if form.required == "yes" else " (required if outpatient: setting not recorded)"
    text = f"{head}{need}; {due}; {sent}"
    return esc(text) if form.status == "complete" and form.required == "yes" else _warn(text)


def _schedule(s: SessionAssessment) -> str:
    p = s.schedule
    if p is None:
        return _DASH
    if p.phase is None:
        return _warn(f"{p.jurisdiction}: course week or indication not known")
    return esc(f"{p.indication}, {p.jurisdiction}, week {p.course_week}: {p.note}")


def _cell(s: SessionAssessment, name: str) -> str:
    if name in s.checks:
        return check_badge(s.checks[name], s.check_kinds[name])
    if name in s.not_applicable:
        return f"<span title='{esc(s.not_applicable[name].message)}'>not applicable</span>"
    return _DASH


def session_day_table_html(a: Assessment) -> str:
    """Every session's session-day checks and REMS form status, one row per session."""
    from kdsupport.knowledge.models.session_day import SESSION_DAY_CHECKS

    titles = _titles()
    present = [
        n
        for n in SESSION_DAY_CHECKS
        if any(n in s.checks or n in s.not_applicable for s in a.sessions)
    ]
    rows = []
    for s in a.sessions:
        if not s.session_day_recorded and s.rems_form is not None:
            lead = [esc(s.number), _warn("session day not recorded")]
            rows.append(lead + [_DASH] * len(present) + [rems_form_status_html(s)])
            continue
        rows.append(
            [esc(s.number), _schedule(s)]
            + [_cell(s, n) for n in present]
            + [rems_form_status_html(s)]
        )
    return table_html(
        ["#", "Schedule"] + [titles[n] for n in present] + ["REMS form"],
        rows,
        "The session day by session: preparation, dose schedule, REMS (a met finding is a "
        "hazard; 'not applicable' says why on hover and in the session's detail)",
    )


def session_day_block_html(s: SessionAssessment) -> str:
    """One session's schedule, the checks that do not apply and why, and the REMS form."""
    if not s.session_day_recorded:
        if s.rems_form is None:
            return ""
        return (
            f"<p>{_warn('Session day not recorded')}: no date, preparation, schedule or REMS "
            "field, so no session-day check could be made.</p>"
        )
    titles = _titles()
    parts = [f"<p><b>Schedule:</b> {_schedule(s)}</p>"] if s.schedule is not None else []
    for n, r in s.not_applicable.items():
        parts.append(f"<p><b>{esc(titles[n])}:</b> not applicable</p>{reasons_html((r,))}")
    if s.rems_form is not None:
        parts.append(f"<p><b>REMS form:</b> {rems_form_status_html(s)}</p>")
        if s.rems_form.missing_fields:
            missing = ", ".join(f.replace("_", " ") for f in s.rems_form.missing_fields)
            parts.append(f"<p>Still needed on the form: {esc(missing)}</p>")
    return "".join(parts)
