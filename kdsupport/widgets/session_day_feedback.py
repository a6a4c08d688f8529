"""The session-day drill's feedback on a step and its end-of-session summary (notebook 09).

Each field in words: the trainee's answer, the answer from the record and the rules (a check in
its kind's words and colour: a finding that happened is a warning, never a pass), why, and the
short citations with their verification status. Every value is escaped.

For training with synthetic patients; not a medical device.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kdsupport.render import html as H

if TYPE_CHECKING:
    from kdsupport.records.case import CaseRecord
    from kdsupport.widgets.session_day_fields import FieldResult, Step

__all__ = ["feedback_html", "summary_html", "unknown_case_html"]


def feedback_html(step: Step, results: list[FieldResult], practice: bool) -> str:
    """The feedback on one checked step, field by field: the answers not quite right first."""
    n_ok = sum(r.correct for r in results)
    every = n_ok == len(results)
    colour = H.SUCCESS if every else H.HAZARD
    head = (
        f"&#10003; All {len(results)} correct"
        if every
        else f"&#10007; {n_ok} of {len(results)} correct"
    )

    def item(r: FieldResult) -> str:
        mark = "&#10003; correct" if r.correct else "&#10007; not quite"
        warn = " class='kd-hazard-answer'" if r.hazard else ""
        return (
            f"<li><b>{H.esc(r.label)}</b>: <span style='color:"
            f"{H.SUCCESS if r.correct else H.HAZARD};font-weight:700'>{mark}</span>"
            f"<br>Your answer: <b>{H.esc(r.given_words)}</b>"
            f"<br><span{warn}>From the record and the rules: {r.expected_html}</span>"
            f"<br><b>Why.</b> {H.esc('; '.join(r.why))} {H.cite_html(r.sources)}</li>"
        )

    wrong = [item(r) for r in results if not r.correct]
    right = [item(r) for r in results if r.correct]
    if not wrong:
        body = f"<ol class='kd-step-fb'>{''.join(right)}</ol>"
    else:  # where the trainee went wrong first; the right answers folded below
        body = f"<h4>Not quite ({len(wrong)})</h4><ul class='kd-step-fb'>{''.join(wrong)}</ul>"
        if right:
            body += (
                f"<details><summary>Correct ({len(right)}): show them with their "
                f"reasons</summary><ul class='kd-step-fb'>{''.join(right)}</ul></details>"
            )
    note = (
        "<p class='kd-muted'>You answered this step before: these answers are practice and do "
        "not change your score.</p>"
        if practice
        else ""
    )
    return (
        f"<div class='kd-feedback' style='border:2px solid {colour};border-radius:6px;"
        f"padding:6px 12px;margin:6px 0'><h3 style='color:{colour};margin:0.2em 0'>{head}: "
        f"{H.esc(step.title)}</h3>{body}{note}</div>"
    )


def summary_html(
    record: CaseRecord, number: int, done: list[tuple[Step, list[FieldResult]]]
) -> str:
    """The end of a session: right answers by step and the questions not quite right."""
    rows = "".join(
        f"<tr><th scope='row'>{H.esc(s.title)}</th>"
        f"<td>{sum(r.correct for r in rs)} of {len(rs)}</td>"
        f"<td>{H.esc('; '.join(r.label for r in rs if not r.correct) or 'none')}</td></tr>"
        for s, rs in done
    )
    n_ok = sum(r.correct for _, rs in done for r in rs)
    n = sum(len(rs) for _, rs in done)
    return (
        "<div class='kd-summary' role='region' aria-label='Session day summary'>"
        f"<h2>Summary of session {H.esc(number)} ({H.esc(record.id)}): {n_ok} of {n} correct</h2>"
        "<div class='kd-scroll' role='region' tabindex='0' aria-label='Results by step'>"
        "<table class='kd-step-results'><thead><tr><th scope='col'>Step</th>"
        "<th scope='col'>Correct</th><th scope='col'>Not quite</th></tr></thead>"
        f"<tbody>{rows}</tbody></table></div></div>"
    )


def unknown_case_html(case_id: str, cases: list[tuple[str, str]]) -> str:
    """A friendly page for an id that is not a case with session-day data: the cases there are."""
    items = "".join(
        f"<li><a href='09_session_day.ipynb?case_id={H.esc(c)}'>{H.esc(c)}</a>: {H.esc(t)}</li>"
        for c, t in cases
    )
    return (
        "<div role='alert' class='kd-unknown-case'><h2>There is no session-day record for "
        f"&ldquo;{H.esc(case_id)}&rdquo;</h2><p>Choose one of these cases (or from the list "
        f"above).</p></div><ul>{items}</ul>"
    )
