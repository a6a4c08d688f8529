"""The session day, step by step, as a drill (notebook 09).

For one session of a curated case the trainee works five steps in one card
(:class:`~kdsupport.widgets.session_day_card.StepCard`) beside the session's chart, which shows
more of the session as the steps go on (:mod:`kdsupport.widgets.session_day_chart`):

1. preparation and the pre-dose blood pressure; 2. the dose for the day from the schedule
(esketamine); 3. the reading at about 40 minutes, sedation and dissociation, and what to do;
4. discharge and driving; 5. the REMS Patient Monitoring Form (esketamine), field by field.

Steps 1-4 are asked by :mod:`kdsupport.widgets.session_day_steps` and graded by
:mod:`kdsupport.widgets.session_day_grading`, step 5 is :mod:`kdsupport.widgets.session_day_form`;
the feedback is :mod:`kdsupport.widgets.session_day_feedback`, the attempt log
:mod:`kdsupport.widgets.session_day_log`, the controls above
:mod:`kdsupport.widgets.session_day_pickers`. The expected answers are worked out only at *Check*,
in the kernel, from :func:`kdsupport.rules.assess.assess` (and, for the form,
:func:`kdsupport.rules.rems_form.fill_rems_form`); the page's widgets never hold them before.

Every field is an answer logged to the attempt store (case id ``session-day:<case>``, question
id ``session-<n>.<step>.<field>``; the dose step's names the dosing table) and scored by the one
retake rule (:mod:`kdsupport.training.scoring`): the first answer counts. A step with an empty
field is never graded or logged. The case picker lists only cases whose sessions record
session-day fields.

For training with synthetic patients; not a medical device.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import ipywidgets as W

from kdsupport.render import html as H
from kdsupport.widgets.session_day_card import StepCard
from kdsupport.widgets.session_day_chart import (
    session_day_cases,
    session_day_counselling_html,
    session_day_schedule_html,
)
from kdsupport.widgets.session_day_feedback import feedback_html, summary_html, unknown_case_html
from kdsupport.widgets.session_day_fields import FieldResult, Given, Grading, Step
from kdsupport.widgets.session_day_log import SessionDayLog
from kdsupport.widgets.session_day_pickers import SessionDayPickers

if TYPE_CHECKING:
    from kdsupport.records.case import CaseRecord
    from kdsupport.training.attempts import AttemptStore

__all__ = [
    "SessionDayDrill",
    "build_session_day_drill",
    "session_day_cases",
    "session_day_counselling_html",
    "session_day_schedule_html",
    "CASE_PREFIX",
]

CASE_PREFIX = "session-day:"


class SessionDayDrill(W.VBox):
    """The session-day drill widget (see :func:`build_session_day_drill`)."""

    def __init__(
        self,
        case_id: str,
        *,
        session: Any,
        jurisdiction: str | None,
        trainee_id: str,
        store: AttemptStore | None,
        data_dir: Any = None,
    ):
        from kdsupport.knowledge import load
        from kdsupport.training.scoring import RETAKE_RULE

        self.kb = load()
        self.answers_log = SessionDayLog(store)
        self.data_dir = data_dir
        self.record: CaseRecord | None = None
        self.steps: list[Step] = []
        self.done: list[tuple[Step, list[FieldResult]]] = []
        self.step_index = 0
        self._loading = False
        self.cases = session_day_cases(data_dir)
        self.pickers = SessionDayPickers(
            self.cases,
            case_id,
            session=session,
            jurisdiction=jurisdiction,
            trainee_id=trainee_id,
            kb=self.kb,
        )
        p = self.pickers
        self.case_picker, self.session_picker = p.case, p.session
        self.jurisdiction, self.trainee = p.jurisdiction, p.trainee
        self.rule = W.HTML(f"<p class='kd-muted'><b>Scoring.</b> {H.esc(RETAKE_RULE)}</p>")
        self.score = W.HTML()
        self.card = StepCard()
        self.save_status = W.HTML()
        self.retry_button = W.Button(
            description="Retry saving",
            tooltip="Try again to record the answers that were not saved",
            layout=W.Layout(display="none"),
        )
        self.retry_button.on_click(lambda _: self.retry_saving())
        self.unknown = W.HTML()
        self.chart = W.HTML()
        column = W.VBox(
            [self.score, self.card, W.HBox([self.save_status, self.retry_button])],
            layout=W.Layout(flex="1 1 24em", min_width="0"),
        )
        column.add_class("kd-qcolumn")
        chart = W.VBox([self.chart], layout=W.Layout(flex="1 1 22em", min_width="0"))
        chart.add_class("kd-chart")
        self.body = W.Box(
            [column, chart],
            layout=W.Layout(flex_flow="row wrap", align_items="flex-start", grid_gap="1.5em"),
        )
        self.card.observe(lambda ch: self.check(ch["new"].get("answers")), names="submission")
        self.card.observe(lambda _: self.next(), names="next_request")
        self.card.observe(lambda _: self.start(focus=True), names="restart_request")
        self.case_picker.observe(self._picked_case, names="value")
        self.session_picker.observe(self._picked_session, names="value")
        self.jurisdiction.observe(self._picked_jurisdiction, names="value")
        self.trainee.observe(lambda _: self._update_score(), names="value")
        super().__init__([self.pickers, self.rule, self.unknown, self.body])
        self.add_class("kd-walkthrough")
        if self.case_picker.value is not None:
            self.load(case_id)
        else:
            self.show_unknown(case_id)

    # ------------------------------------------------------------------ case and session
    def _picked_case(self, change: Any) -> None:
        if change["new"] is not None:
            self.load(change["new"])

    def _picked_jurisdiction(self, change: Any) -> None:
        if not self._loading:
            self.start(focus=False)

    def _picked_session(self, change: Any) -> None:
        if change["new"] is not None and not self._loading:
            self.start(focus=False)

    def show_unknown(self, case_id: str) -> None:
        """A friendly page for an id that is not a case with session-day data."""
        self.unknown.value = unknown_case_html(case_id, self.cases)
        self.body.layout.display = "none"
        self.record = None
        self.steps = []

    def load(self, case_id: str) -> None:
        """Open a case: list its sessions with session-day data and start the first step."""
        from kdsupport.records.bundled import load_case_by_id

        self.unknown.value = ""
        self.body.layout.display = None
        self.record = load_case_by_id(case_id, self.data_dir)
        self._loading = True  # setting the options and the values would start several times
        try:
            shown = self.pickers.show_case(self.record)
        finally:
            self._loading = False
        if not shown:
            self.show_unknown(case_id)
            return
        self.start(focus=False)

    @property
    def loaded(self) -> CaseRecord:
        """The case on screen; an error when none is loaded."""
        if self.record is None:
            raise RuntimeError("No case is loaded in this drill.")
        return self.record

    @property
    def index(self) -> int:
        """The session being worked, as its index in the record."""
        numbers = [s.number for s in self.loaded.sessions or ()]
        return numbers.index(self.session_picker.value)

    @property
    def step(self) -> Step:
        """The step on screen."""
        return self.steps[self.step_index]

    @property
    def case_key(self) -> str:
        """The case id the attempts are logged under."""
        return CASE_PREFIX + self.loaded.id

    def start(self, *, focus: bool) -> None:
        """Work the session from step 1 (again: later answers are practice)."""
        from kdsupport.widgets.session_day_form import form_step
        from kdsupport.widgets.session_day_steps import steps_for

        if self.record is None or self.session_picker.value is None:
            return
        kb = self.kb
        self.steps = steps_for(self.loaded, self.index, kb)
        modality = (self.loaded.sessions or [])[self.index].modality
        if modality in kb.session_day.checks["rems_form_submitted"].modalities:
            self.steps.append(form_step(kb))
        self.step_index = 0
        self.done = []
        self._show_step(focus=focus)

    # ------------------------------------------------------------------ steps
    def _question_id(self, step: Step, field_id: str) -> str:
        n = self.session_picker.value
        where = f"-{self.jurisdiction.value}" if step.id == "dose" else ""
        return f"session-{n}.{step.id}{where}.{field_id}"

    def _show_step(self, *, focus: bool) -> None:
        from kdsupport.widgets.session_day_chart import session_sheet_html

        step, card = self.step, self.card
        last = self.step_index + 1 == len(self.steps)
        with card.hold_sync():
            card.feedback_html = ""
            card.summary_html = ""
            card.notice = ""
            card.results = {}
            card.step = {
                "id": step.id,
                "number": self.step_index + 1,
                "total": len(self.steps),
                "title": step.title,
                "intro": step.intro,
                "fields": [f.to_json() for f in step.fields],
            }
            card.next_label = (
                "See the summary"
                if last
                else f"Go to step {self.step_index + 2}: {self.steps[self.step_index + 1].title}"
            )
            card.phase = "question"
            if focus:
                card.move_focus("heading")
        self.chart.value = session_sheet_html(self.loaded, self.index, step.id, self.kb)
        self._update_score()

    def submit(self, answers: dict[str, Any]) -> None:
        """Answer the step on screen as the page would (tests and scripts)."""
        card = self.card
        card.submission = {"answers": answers, "n": int(card.submission.get("n", 0)) + 1}

    def _entries(self, answers: Any) -> Given | None:
        """The step's entries, or None after saying what is missing or cannot be read."""
        from kdsupport.widgets.session_day_fields import validate
        from kdsupport.widgets.session_day_form import check_entries

        step, card = self.step, self.card
        given = validate(step.fields, answers)
        if step.id == "rems_form":
            given = check_entries(step, given)
        labels = {f.id: f.label for f in step.fields}
        if given.missing:
            names = "; ".join(labels[m] for m in given.missing[:3])
            card.notice = (
                f"Answer every question of this step first: {len(given.missing)} not answered "
                f"({names}). Nothing was checked or recorded."
            )
            card.move_focus("field", given.missing[0])
            return None
        if given.invalid:
            fid, what = given.invalid[0]
            card.notice = f"{labels[fid]}: {what}. Nothing was checked or recorded."
            card.move_focus("field", fid)
            return None
        if not self.trainee.value.strip():
            card.notice = (
                "Enter your trainee ID at the top of the page (the box labelled 'Your trainee "
                "ID') so that your answers are recorded, then press Check this step again."
            )
            card.move_focus("trainee")
            return None
        return given

    def grade(self, given: Given) -> list[FieldResult]:
        """Grade the step on screen (the key is worked out here, at Check, and nowhere else)."""
        from kdsupport.rules.assess import assess
        from kdsupport.widgets.session_day_form import grade_form
        from kdsupport.widgets.session_day_grading import grade_step

        where = self.jurisdiction.value
        g = Grading(
            self.loaded, self.index, assess(self.loaded, jurisdiction=where), self.kb, where
        )
        if self.step.id == "rems_form":
            return grade_form(self.step, given, g)
        return grade_step(self.step, given, g)

    def check(self, answers: Any) -> None:
        """Grade a step, log each field and show the feedback; an incomplete step never is."""
        card = self.card
        if card.phase != "question" or self.record is None:
            return
        given = self._entries(answers)
        if given is None:
            return
        step = self.step
        results = self.grade(given)
        practice = self._answered_before(step)
        self._log(step, results)
        self.done.append((step, results))
        marks: dict[str, bool] = {}
        for r in results:
            for cid in r.given if isinstance(r.given, dict) else (r.id,):
                marks[cid] = r.correct
        with card.hold_sync():
            card.notice = ""
            card.feedback_html = feedback_html(step, results, practice)
            card.results = marks
            card.phase = "answered"
            card.move_focus("feedback")
        self._update_score()

    def next(self) -> None:
        """Show the next step, or the summary after the last one."""
        if self.card.phase != "answered":
            return
        if self.step_index + 1 < len(self.steps):
            self.step_index += 1
            self._show_step(focus=True)
            return
        with self.card.hold_sync():
            self.card.summary_html = summary_html(self.loaded, self.session_picker.value, self.done)
            self.card.phase = "summary"
            self.card.move_focus("summary")

    # ------------------------------------------------------------------ the attempt log
    def _answered_before(self, step: Step) -> bool:
        wanted = {self._question_id(step, f.id) for f in step.fields}
        before = self.answers_log.answered_before(self.trainee.value.strip(), self.case_key, wanted)
        return before or any(s.id == step.id for s, _ in self.done)

    def _log(self, step: Step, results: list[FieldResult]) -> None:
        """Record each field; a store error is shown and the answers kept for a retry."""
        answers = [(self._question_id(step, r.id), r.given, r.correct) for r in results]
        error = self.answers_log.save(
            self.trainee.value.strip(), self.case_key, self.kb.version, answers
        )
        self._show_save_status(error)

    def retry_saving(self) -> None:
        """Try again to record the answers a store error refused."""
        self._show_save_status(self.answers_log.retry())
        self._update_score()

    def _show_save_status(self, error: str | None) -> None:
        n = self.answers_log.pending
        self.save_status.value = H.save_status_html(error, n)
        self.retry_button.layout.display = None if n else "none"

    def _update_score(self) -> None:
        if self.record is None:
            self.score.value = ""
            return
        n = self.session_picker.value
        on_page = [r.correct for _, rs in self.done for r in rs]
        text = self.answers_log.score_text(
            self.trainee.value.strip(), self.case_key, f"session-{n}.", on_page
        )
        self.score.value = (
            f"<p class='kd-score'>Your score on session {H.esc(n)}: {H.esc(text)}</p>"
        )


def build_session_day_drill(
    case_id: str,
    *,
    session: Any = None,
    jurisdiction: str | None = None,
    trainee_id: str = "",
    store: AttemptStore | str | None = "default",
    data_dir: Any = None,
) -> SessionDayDrill:
    """Build the session-day drill for one session of a curated case.

    Parameters
    ----------
    case_id
        A curated case with session-day data (e.g. ``"tr-033"``); the trainee can switch case.
        Any other id lists the cases there are.
    session
        The session number (an int or the text of one, as a URL gives it); the first session
        with session-day data when it is not one of them.
    jurisdiction
        The dosing table (``us`` or ``eu``) for every case; when empty or unknown, each case's
        own (the table its questions are asked under), else the knowledge base's default.
    trainee_id
        Pre-filled trainee id.
    store
        Where attempts are logged: an attempt store, a path, ``"default"`` or None.
    data_dir
        The synthetic-data directory (default: the bundled one).
    """
    from kdsupport.training.attempts import AttemptStore, open_store

    if isinstance(store, str):
        store = open_store(None if store == "default" else store)
    elif store is not None and not isinstance(store, AttemptStore):
        raise TypeError("store must be an AttemptStore, a path, 'default' or None")
    return SessionDayDrill(
        case_id,
        session=session,
        jurisdiction=jurisdiction,
        trainee_id=trainee_id,
        store=store,
        data_dir=data_dir,
    )
