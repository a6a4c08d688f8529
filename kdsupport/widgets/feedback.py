"""What a trainee sees after answering: the feedback on one answer and the end-of-case summary.

Every value from the case, the answer or the rules is escaped.

For training with synthetic patients; not a medical device.
"""

from __future__ import annotations

from kdsupport.records.case import CaseRecord, Question
from kdsupport.render import html as H
from kdsupport.rules.assessment import Assessment
from kdsupport.training.grading import Feedback, option_label

__all__ = ["feedback_html", "summary_html"]


def feedback_html(question: Question, fb: Feedback) -> str:
    """Feedback after an answer: verdict, both answers, the reason and its sources."""
    verdict = "Correct" if fb.correct else "Not quite"
    colour = "#1b7837" if fb.correct else "#b2182b"
    mark = "&#10003;" if fb.correct else "&#10007;"
    return (
        f'<div role="status" aria-live="polite" class="kd-feedback" '
        f'style="border:2px solid {colour};border-radius:6px;padding:8px 12px;margin:6px 0">'
        f'<div style="font-weight:700;color:{colour};font-size:110%">{mark} {verdict}</div>'
        f"<div>Your answer: <b>{H.esc(option_label(question, fb.given))}</b></div>"
        f"<div>Answer from the rules: <b>{H.esc(option_label(question, fb.expected))}</b></div>"
        f"<div style='margin-top:6px'><b>Why.</b> {H.esc(fb.rationale)}</div>"
        f"<details style='margin-top:4px'><summary>The rule's reasons ({len(fb.reasons)})</summary>"
        f"{H.reasons_html(fb.reasons)}</details>"
        f"<div style='margin-top:4px'><b>Sources</b> (knowledge base {H.esc(fb.kb_version)})"
        f"{H.sources_html(fb.sources)}</div></div>"
    )


def _result_word(correct: bool) -> str:
    return "&#10003; correct" if correct else "&#10007; not correct"


def summary_html(
    record: CaseRecord, answered: list[tuple[Question, Feedback]], assessment: Assessment
) -> str:
    """End of a walkthrough: each answer against the rules, the score, the assessment."""
    n_ok = sum(fb.correct for _, fb in answered)
    rows = "".join(
        "<tr>"
        f"<td style='padding:2px 8px'>{H.esc(q.prompt)}</td>"
        f"<td style='padding:2px 8px'>{H.esc(option_label(q, fb.given))}</td>"
        f"<td style='padding:2px 8px'>{H.esc(option_label(q, fb.expected))}</td>"
        f"<td style='padding:2px 8px'>{_result_word(fb.correct)}</td>"
        "</tr>"
        for q, fb in answered
    )
    return (
        f"<div class='kd-summary' role='region' aria-label='Case summary'>"
        f"<h2>Summary: {n_ok} of {len(answered)} correct</h2>"
        "<table style='border-collapse:collapse' border='1'>"
        "<thead><tr><th scope='col'>Question</th><th scope='col'>Your answer</th>"
        "<th scope='col'>Answer from the rules</th><th scope='col'>Result</th></tr></thead>"
        f"<tbody>{rows}</tbody></table>"
        f"<h3>The assessment at a glance (knowledge base {H.esc(assessment.kb_version)})</h3>"
        f"{H.glance_html(assessment)}</div>"
    )
