"""The course home (notebook 00): course map, how to use the app, progress so far.

For training with synthetic patients; not a medical device.
"""

from __future__ import annotations

from typing import Any

import ipywidgets as W

from kdsupport import report_html as H
from kdsupport.widgets._common import LABEL

__all__ = ["COURSE", "build_course_home"]

COURSE = [
    ("00_start_here", "Start here", "Course map, how to use the app, your progress."),
    (
        "01_trd_and_adequate_trials",
        "TRD and adequate trials",
        (
            "Why TRD definitions differ; dose, duration, adherence and non-response; build a trial "
            "history and watch the verdict."
        ),
    ),
    ("02_staging", "Staging", "Thase-Rush, MGH-S and Maudsley side by side on the same history."),
    (
        "03_safety_screening",
        "Safety screening",
        (
            "Contraindications and warnings for esketamine, IV and at-home ketamine; "
            "pre-dose blood pressure; C-SSRS triage."
        ),
    ),
    (
        "04_session_monitoring",
        "Session monitoring",
        (
            "Vitals, sedation and dissociation over a session against the monitoring checks; "
            "delay, escalation, discharge."
        ),
    ),
    (
        "05_case_walkthrough",
        "Case walkthroughs",
        "Work a case question by question with feedback and a score.",
    ),
    (
        "06_evidence_and_claims",
        "Evidence and claims",
        "The key trials and common marketing claims checked against them.",
    ),
    (
        "07_at_home_ketamine",
        "At-home ketamine",
        "What at-home programmes require, the FDA warning, how screening differs.",
    ),
]


def _progress_html(store: Any, trainee_id: str, data_dir: Any) -> str:
    from kdsupport.data import list_cases

    if not trainee_id.strip():
        return "<p><i>Enter your trainee ID to see your progress.</i></p>"
    attempts = store.attempts(trainee_id=trainee_id.strip()) if store is not None else []
    by_case: dict[str, list[Any]] = {}
    for a in attempts:
        by_case.setdefault(a.case_id, []).append(a)
    rows = []
    for c in list_cases(data_dir):
        done = by_case.get(c.id, [])
        answered = {a.question_id for a in done}
        correct = {a.question_id for a in done if a.correct}
        status = (
            "not started"
            if not done
            else ("finished" if len(answered) >= c.n_questions else "in progress")
        )
        href = (
            f"05_case_walkthrough.ipynb?case_id={H.esc(c.id)}&trainee={H.esc(trainee_id.strip())}"
        )
        link = f"<a href='{href}'>{H.esc(c.id)}</a>"
        rows.append(
            f"<tr><td>{link}</td><td>{H.esc(c.title)}</td><td>{len(answered)} of "
            f"{c.n_questions}</td>"
            f"<td>{len(correct)}</td><td>{status}</td></tr>"
        )
    return (
        "<table border='1' style='border-collapse:collapse'><thead><tr><th scope='col'>Case</th>"
        "<th scope='col'>Title</th><th scope='col'>Questions answered</th>"
        "<th scope='col'>Correct</th>"
        f"<th scope='col'>Status</th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


def build_course_home(
    *, trainee_id: str = "", store: Any = "default", data_dir: Any = None
) -> W.VBox:
    """Course map with links, how-to, and the trainee's progress from the attempt log."""
    from kdsupport.training.attempts import open_store

    if isinstance(store, str):
        store = open_store(None if store == "default" else store)
    items = "".join(
        f"<li><a href='{name}.ipynb'><b>{H.esc(title)}</b></a>: {H.esc(text)}</li>"
        for name, title, text in COURSE[1:]
    )
    course = W.HTML(f"<h3>Course map</h3><ol start='1'>{items}</ol>")
    howto = W.HTML(
        "<h3>How to use the app</h3><ul>"
        "<li>Every page is a form: choose answers with the mouse or the keyboard (Tab moves "
        "between "
        "controls, Space or Enter chooses, arrow keys move within a list).</li>"
        "<li>Each answer is checked against the rules at once; the feedback names the reason, the "
        "threshold and its source, and says whether that source is verified.</li>"
        "<li>'Unknown' and 'not recorded' are real answers: missing information is never read as "
        "'no' or 'normal'.</li>"
        "<li>Enter your trainee ID so that your answers are recorded for your instructor.</li></ul>"
    )
    trainee = W.Text(value=trainee_id, description="Your trainee ID", style=LABEL)
    show = W.Button(description="Show my progress", tooltip="List the cases and how far you got")
    progress = W.HTML(_progress_html(store, trainee_id, data_dir))
    show.on_click(
        lambda _: setattr(progress, "value", _progress_html(store, trainee.value, data_dir))
    )
    box = W.VBox(
        [course, howto, W.HTML("<h3>Your progress</h3>"), W.HBox([trainee, show]), progress]
    )
    box.trainee, box.show_button, box.progress = trainee, show, progress  # type: ignore[attr-defined]
    return box
