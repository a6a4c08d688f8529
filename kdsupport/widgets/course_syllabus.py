"""What each course page asks and logs, for the training records (kdsupport.training.records).

The course map is :data:`kdsupport.widgets.course.COURSE`; the pages that log answers to the
attempt log, and what they log, are:

* **Case walkthroughs** (``05_case_walkthrough``): each curated case with teaching questions,
  under its case id (``tr-001``), one question id per teaching question. A case is completed
  when each of its questions has been answered at least once.
* **Evidence and claims** (``06_evidence_and_claims``): the claims quiz, under the case id
  ``claims``, one question per claim of the knowledge base. Completed when every claim has
  been given a verdict at least once.
* **The session day** (``09_session_day``): the drill, under ``session-day:<case>`` for each
  case with session-day data. Each field of each step of a session is a question
  (``session-<n>.<step>.<field>``; the dose step's ids name the dosing table, and an answer
  under any table answers it). A session is worked through when every field of every step of
  it (the REMS form's too, for esketamine) has been answered at least once. A drill case is
  completed when :data:`DRILL_SESSIONS_NEEDED` of its sessions have been worked through; the
  record also counts the sessions worked through.

The other pages (the course home, TRD and adequate trials, staging, safety screening, session
monitoring, at-home ketamine) log no answers: their modules have no cases, and only an
instructor's sign-off records them.

For training with synthetic patients; not a medical device.
"""

from __future__ import annotations

from typing import Any

from kdsupport.training.records import CaseSpec, ModuleSpec, Part, Syllabus

__all__ = ["DRILL_SESSIONS_NEEDED", "course_syllabus"]

#: How many sessions of a session-day case must be worked through for the case to be completed.
DRILL_SESSIONS_NEEDED = 1

_COUNTS = {
    "05_case_walkthrough": "a case is completed when each of its questions has been answered at "
    "least once.",
    "06_evidence_and_claims": "the claims quiz is completed when every claim has been given a "
    "verdict at least once.",
    "09_session_day": (
        "a case's drill is completed when "
        + (
            "one of its sessions has"
            if DRILL_SESSIONS_NEEDED == 1
            else f"{DRILL_SESSIONS_NEEDED} of its sessions have"
        )
        + " been worked through: every field of every step of the session answered at least "
        "once (the dose step under either dosing table). The record counts the sessions worked "
        "through."
    ),
}
_NO_ANSWERS = "this page logs no answers: only an instructor's sign-off records it."


def _walkthrough_cases(data_dir: Any) -> tuple[CaseSpec, ...]:
    from kdsupport.records.bundled import list_cases, load_case_by_id

    out = []
    for c in list_cases(data_dir):
        if not c.n_questions:
            continue
        record = load_case_by_id(c.id, data_dir)
        asked = record.teaching.questions if record.teaching else ()
        out.append(CaseSpec(c.id, c.title, (Part("", tuple((q.id,) for q in asked)),)))
    return tuple(out)


def _claims_case(kb: Any) -> tuple[CaseSpec, ...]:
    claims = kb.evidence.claims
    part = Part("", tuple((c.id,) for c in claims))
    return (CaseSpec("claims", f"The claims quiz ({len(claims)} claims)", (part,)),)


def _drill_cases(kb: Any, data_dir: Any) -> tuple[CaseSpec, ...]:
    from kdsupport.records.bundled import load_case_by_id
    from kdsupport.rules.session_day import session_day_recorded
    from kdsupport.widgets.session_day import CASE_PREFIX
    from kdsupport.widgets.session_day_chart import session_day_cases
    from kdsupport.widgets.session_day_form import form_step
    from kdsupport.widgets.session_day_steps import steps_for

    tables = list(kb.session_day.schedule.jurisdictions)
    rems = kb.session_day.checks["rems_form_submitted"].modalities
    out = []
    for case_id, title in session_day_cases(data_dir):
        record = load_case_by_id(case_id, data_dir)
        parts = []
        for index, session in enumerate(record.sessions or ()):
            if not session_day_recorded(session):
                continue
            steps = steps_for(record, index, kb)
            if session.modality in rems:
                steps.append(form_step(kb))
            n = session.number
            questions = []
            for step in steps:
                wheres = [f"-{j}" for j in tables] if step.id == "dose" else [""]
                questions += [
                    tuple(f"session-{n}.{step.id}{w}.{f.id}" for w in wheres) for f in step.fields
                ]
            parts.append(Part(f"session {n}", tuple(questions)))
        out.append(
            CaseSpec(
                CASE_PREFIX + case_id,
                f"Session day: {title}",
                tuple(parts),
                parts_needed=min(DRILL_SESSIONS_NEEDED, len(parts)),
                part_name="session",
            )
        )
    return tuple(out)


def course_syllabus(data_dir: Any = None, kb: Any = None) -> Syllabus:
    """The course's modules in course order, each with the cases and questions its page logs.

    Reads every curated case of ``data_dir`` (default: the bundled cases) and the knowledge
    base (``kb``, default: the packaged one), about a second.
    """
    from kdsupport.knowledge import load
    from kdsupport.widgets.course import COURSE

    kb = kb or load()
    cases = {
        "05_case_walkthrough": lambda: _walkthrough_cases(data_dir),
        "06_evidence_and_claims": lambda: _claims_case(kb),
        "09_session_day": lambda: _drill_cases(kb, data_dir),
    }
    modules = []
    for name, title, _ in COURSE:
        build = cases.get(name)
        modules.append(
            ModuleSpec(
                name,
                title,
                build() if build else (),
                _COUNTS.get(name, _NO_ANSWERS),
            )
        )
    return Syllabus(tuple(modules), kb.version)
