"""The course home (notebook 00): course map, how to use the app, progress so far.

For training with synthetic patients; not a medical device.
"""

from __future__ import annotations

from typing import Any

import ipywidgets as W

from kdsupport.render import html as H
from kdsupport.server.identity import hub_user
from kdsupport.server.identity import trainee_id as decide_trainee
from kdsupport.widgets._common import trainee_box

__all__ = ["COURSE", "build_course_home", "build_course_nav", "course_nav_html", "page_href"]

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
    (
        "09_session_day",
        "The session day",
        (
            "A treatment session step by step: preparation, the dose from the schedule, "
            "monitoring, discharge and the REMS monitoring form."
        ),
    ),
]


def page_href(page: str, trainee_id: str = "", **params: str) -> str:
    """A link to a course page that carries the trainee id (URL-encoded) and other parameters.

    Under JupyterHub the link carries no trainee id: every page knows the hub user, and a
    ``trainee`` parameter would be ignored anyway. The result is a relative URL for an ``href``
    attribute; escape it with ``H.esc`` there.
    """
    from urllib.parse import urlencode

    query = {k: v for k, v in params.items() if v}
    if hub_user() is None and trainee_id.strip():
        query["trainee"] = trainee_id.strip()
    return f"{page}.ipynb" + (f"?{urlencode(query)}" if query else "")


def course_nav_html(current: str, trainee_id: str = "") -> str:
    """The course's page list as a navigation landmark; every link carries the trainee id."""
    items = []
    for name, title, _ in COURSE:
        if name == current:
            items.append(f"<li><span aria-current='page'><b>{H.esc(title)}</b></span></li>")
        else:
            items.append(
                f"<li><a href='{H.esc(page_href(name, trainee_id))}'>{H.esc(title)}</a></li>"
            )
    return (
        "<nav class='kd-course-nav' aria-label='Course pages'><ul style='list-style:none;"
        "padding:0;margin:0 0 0.5em;display:flex;flex-wrap:wrap;gap:0.2em 1.2em'>"
        f"{''.join(items)}{_hub_items()}</ul></nav>"
    )


def _hub_items() -> str:
    """Under JupyterHub, who is signed in and a link to sign out (else nothing)."""
    import os

    user = hub_user()
    if user is None:
        return ""
    hub = os.environ.get("JUPYTERHUB_BASE_URL", "/").rstrip("/") + "/hub/"
    return (
        f"<li class='kd-muted'>Signed in as <b>{H.esc(user)}</b></li>"
        f"<li><a href='{H.esc(hub + 'logout')}'>Sign out</a></li>"
    )


def build_course_nav(current: str, trainee_id: str = "") -> W.HTML:
    """The course navigation shown at the top of every course page."""
    return W.HTML(course_nav_html(current, trainee_id))


def _course_map_html(trainee_id: str) -> str:
    items = "".join(
        f"<li><a href='{H.esc(page_href(name, trainee_id))}'><b>{H.esc(title)}</b></a>: "
        f"{H.esc(text)}</li>"
        for name, title, text in COURSE[1:]
    )
    return f"<h2>Course map</h2><ol start='1'>{items}</ol>"


def _progress_html(store: Any, trainee_id: str, data_dir: Any) -> str:
    from kdsupport.records.bundled import list_cases
    from kdsupport.training.scoring import RETAKE_RULE, case_progress

    trainee = decide_trainee(trainee_id)
    if not trainee:
        return "<p><i>Enter your trainee ID to see your progress.</i></p>"
    attempts = store.attempts(trainee_id=trainee) if store is not None else []
    rows = []
    for p in case_progress(attempts, list_cases(data_dir)):
        href = page_href("05_case_walkthrough", trainee, case_id=p.case_id)
        rows.append(
            f"<tr><th scope='row'><a href='{H.esc(href)}'>{H.esc(p.case_id)}</a></th>"
            f"<td>{H.esc(p.title)}</td><td>{p.score.answered} of {p.n_questions}</td>"
            f"<td>{p.score.correct}</td><td>{H.esc(p.status)}</td></tr>"
        )
    return (
        f"<p class='kd-muted'>{H.esc(RETAKE_RULE)}</p>"
        "<div role='region' tabindex='0' aria-label='Your progress by case' "
        "style='max-width:100%;overflow-x:auto'>"
        "<table border='1' style='border-collapse:collapse'><caption style='text-align:left'>"
        f"Progress of trainee {H.esc(trainee)}, case by case</caption>"
        "<thead><tr><th scope='col'>Case</th><th scope='col'>Title</th>"
        "<th scope='col'>Questions answered</th><th scope='col'>First answers correct</th>"
        f"<th scope='col'>Status</th></tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
    )


_IDENTITY_HOWTO = (
    "Enter your trainee ID so that your answers are recorded for your instructor; the links on "
    "this page carry it to the other pages."
)
_HUB_IDENTITY_HOWTO = (
    "You are signed in: your answers are recorded under your account for your instructor, and "
    "this page shows your own progress only."
)


def build_course_home(
    *, trainee_id: str = "", store: Any = "default", data_dir: Any = None
) -> W.VBox:
    """Course map with links, how-to, and the trainee's progress from the attempt log."""
    from kdsupport.training.attempts import open_store

    if isinstance(store, str):
        store = open_store(None if store == "default" else store)
    course = W.HTML(_course_map_html(trainee_id))
    howto = W.HTML(
        "<h2>How to use the app</h2><ul>"
        "<li>Every page is a form: choose answers with the mouse or the keyboard (Tab moves "
        "between controls, Space or Enter chooses, arrow keys move within a group of "
        "choices).</li>"
        "<li>Each answer is checked against the rules at once; the feedback names the reason, the "
        "threshold and its source, and says whether that source is verified.</li>"
        "<li>'Unknown' and 'not recorded' are real answers: missing information is never read as "
        "'no' or 'normal'.</li>"
        f"<li>{H.esc(_IDENTITY_HOWTO if hub_user() is None else _HUB_IDENTITY_HOWTO)}</li></ul>"
    )
    trainee = trainee_box(trainee_id)
    show = W.Button(description="Show my progress", tooltip="List the cases and how far you got")
    progress = W.HTML(_progress_html(store, trainee_id, data_dir))

    def refresh(_: Any = None) -> None:
        course.value = _course_map_html(trainee.value)
        progress.value = _progress_html(store, trainee.value, data_dir)

    show.on_click(refresh)
    trainee.observe(lambda _: setattr(course, "value", _course_map_html(trainee.value)), "value")
    box = W.VBox(
        [course, howto, W.HTML("<h2>Your progress</h2>"), W.HBox([trainee, show]), progress]
    )
    box.trainee, box.show_button, box.progress, box.course = (
        trainee,
        show,
        progress,
        course,
    )
    return box
