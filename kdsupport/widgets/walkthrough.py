"""The case walkthrough: the case chart beside the questions, one at a time, with feedback.

Layout: the question card (:class:`QuestionCard`, an anywidget whose front end is
``question_card.js``) sits beside the case chart (:mod:`kdsupport.render.case_chart`): patient and
diagnosis, treatment history, screening answers, pre-dose vitals, rating scales and every
session as tables and a figure. Each question names the parts of the chart it is about; those
parts are highlighted and linked. The chart shows what was recorded, never what the rules
conclude, so nothing gives the answer away before *Check answer*.

Grading is :func:`kdsupport.training.grading.grade` (against the rules at check time); every
answer is logged to an :class:`~kdsupport.training.attempts.AttemptStore`; the score follows the
one retake rule of :mod:`kdsupport.training.scoring` (the first answer counts). An empty answer
is never graded or logged. Focus moves to the feedback after *Check answer* and to the next
question's heading after *Next question* (see ``question_card.js``).

For training with synthetic patients; not a medical device.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

import ipywidgets as W

from kdsupport.render import html as H
from kdsupport.render.case_chart import SECTIONS, anchor, section_html, sections_for_rule
from kdsupport.widgets._common import trainee_box
from kdsupport.widgets.feedback import feedback_html, summary_html
from kdsupport.widgets.question_card import QuestionCard

if TYPE_CHECKING:
    from kdsupport.records.case import CaseRecord, Question
    from kdsupport.training.attempts import AttemptStore
    from kdsupport.training.grading import Feedback

__all__ = ["CaseWalkthrough", "QuestionCard", "build_case_walkthrough", "unknown_case_html"]

_LABEL = {"description_width": "initial"}


def unknown_case_html(case_id: str, data_dir: Any = None) -> str:
    """A friendly page for a case id that is not a curated case: the cases there are."""
    from kdsupport.records.bundled import list_cases

    items = "".join(
        f"<li><a href='05_case_walkthrough.ipynb?case_id={H.esc(c.id)}'>{H.esc(c.id)}</a>: "
        f"{H.esc(c.title)}</li>"
        for c in list_cases(data_dir)
    )
    return (
        "<div role='alert' class='kd-unknown-case'><h2>There is no case "
        f"&ldquo;{H.esc(case_id)}&rdquo;</h2><p>Choose one of the curated cases below (or from "
        "the list above).</p></div>"
        f"<ul>{items}</ul>"
    )


class CaseWalkthrough(W.VBox):
    """A case walkthrough widget (see :func:`build_case_walkthrough`)."""

    # set by load() (the case's questions) or show_unknown() (none)
    questions: list[Question]

    def __init__(
        self,
        case_id: str,
        *,
        trainee_id: str,
        store: AttemptStore | None,
        data_dir: Any = None,
        figures: str = "background",
    ):
        from kdsupport.records.bundled import list_cases
        from kdsupport.training.attempts import AttemptRecorder
        from kdsupport.training.scoring import RETAKE_RULE

        self.store = store
        self.recorder = AttemptRecorder(store)
        self.data_dir = data_dir
        self.figures_mode = figures
        self.figures_ready = threading.Event()
        self._figures_started = False
        self.record: CaseRecord | None = None
        cases = list_cases(data_dir)
        self.case_ids = [c.id for c in cases]
        known = case_id in self.case_ids
        self.case_picker = W.Dropdown(
            options=[(f"{c.id}: {c.title}", c.id) for c in cases],
            value=case_id if known else None,
            description="Case",
            style=_LABEL,
            layout=W.Layout(width="auto", max_width="100%"),
        )
        self.trainee = trainee_box(trainee_id)
        self.rule = W.HTML(f"<p class='kd-muted'><b>Scoring.</b> {H.esc(RETAKE_RULE)}</p>")
        self.score = W.HTML()
        self.card = QuestionCard()
        self.save_status = W.HTML()
        self.retry_button = W.Button(
            description="Retry saving",
            tooltip="Try again to record the answers that were not saved",
            layout=W.Layout(display="none"),
        )
        self.retry_button.on_click(lambda _: self.retry_saving())
        self.unknown = W.HTML()
        self.chart_head = W.HTML()
        self.parts: dict[str, W.VBox] = {}
        self.markers: dict[str, W.HTML] = {}
        self.contents: dict[str, W.HTML] = {}
        for name in SECTIONS:
            self.markers[name] = W.HTML(layout=W.Layout(display="none"))
            self.contents[name] = W.HTML()
            self.parts[name] = W.VBox([self.markers[name], self.contents[name]])
        self.qcolumn = W.VBox(
            [self.score, self.card, W.HBox([self.save_status, self.retry_button])],
            layout=W.Layout(flex="1 1 22em", min_width="0"),
        )
        self.qcolumn.add_class("kd-qcolumn")
        self.chart = W.VBox(
            [self.chart_head, *self.parts.values()],
            layout=W.Layout(flex="1.4 1 26em", min_width="0"),
        )
        self.chart.add_class("kd-chart")
        self.body = W.Box(
            [self.qcolumn, self.chart],
            layout=W.Layout(flex_flow="row wrap", align_items="flex-start", grid_gap="1.5em"),
        )
        self.card.observe(lambda ch: self.check(ch["new"].get("answer")), names="submission")
        self.card.observe(lambda _: self.next(), names="next_request")
        self.card.observe(lambda _: self.restart(), names="restart_request")
        self.card.observe(lambda _: self._start_figures(), names="rendered")
        self.case_picker.observe(self._picked, names="value")
        self.trainee.observe(lambda _: self._update_score(), names="value")
        super().__init__(
            [
                W.HBox(
                    [self.case_picker, self.trainee],
                    layout=W.Layout(flex_flow="row wrap", grid_gap="0.5em 1.5em"),
                ),
                self.rule,
                self.unknown,
                self.body,
            ]
        )
        self.add_class("kd-walkthrough")
        if known:
            self.load(case_id)
        else:
            self.show_unknown(case_id)

    # ------------------------------------------------------------------ state
    def _picked(self, change: Any) -> None:
        if change["new"] is not None:
            self.load(change["new"])

    def show_unknown(self, case_id: str) -> None:
        """A friendly page for an id that is not a curated case (the cases are listed)."""
        self.unknown.value = unknown_case_html(case_id, self.data_dir)
        self.body.layout.display = "none"
        self.record = None
        self.questions = []

    def load(self, case_id: str) -> None:
        """Open a case: draw its chart and show its first question."""
        from kdsupport.records.bundled import load_case_by_id

        self.unknown.value = ""
        self.body.layout.display = None
        self.record = load_case_by_id(case_id, self.data_dir)
        self.questions = list(self.record.teaching.questions) if self.record.teaching else []
        self.index = 0
        self.answered: list[tuple[Question, Feedback]] = []
        self.first_here: dict[str, bool] = {}
        self._draw_chart()
        self._show_question(focus=False)

    def restart(self) -> None:
        """Work the same case again (later answers are practice)."""
        self.index = 0
        self.answered = []
        self._show_question(focus=True)

    @property
    def loaded(self) -> CaseRecord:
        """The case on screen; an error when none is loaded (an unknown case id)."""
        if self.record is None:
            raise RuntimeError("No case is loaded in this walkthrough.")
        return self.record

    @property
    def question(self) -> Question:
        """The question on screen."""
        return self.questions[self.index]

    # ------------------------------------------------------------------ the chart
    def _draw_chart(self) -> None:
        record = self.loaded
        links = "".join(
            f"<li><a href='#{anchor(k)}'>{H.esc(t)}</a></li>" for k, t in SECTIONS.items()
        )
        self.chart_head.value = (
            "<h2 id='kd-chart-heading'>Case chart</h2>"
            "<p class='kd-muted'>What the record shows, nothing more: the rules' conclusions "
            "appear only in the feedback.</p>"
            f"<nav class='kd-chart-nav' aria-label='Parts of the case chart'><ul>{links}</ul></nav>"
        )
        for name, title in SECTIONS.items():
            self.contents[name].value = self._part_html(name, title, record, None)
        self.figures_ready.clear()
        self._figures_started = False
        if self.figures_mode == "none" or not record.sessions:
            self.figures_ready.set()
        elif self.figures_mode == "now":
            self._draw_figures(record)
        elif self.card.rendered:  # the page is already up (a case switched in the picker)
            self._start_figures()

    def _start_figures(self) -> None:
        """Draw the figures in the background, once the page is interactive (never twice)."""
        if self.figures_mode != "background" or self._figures_started or self.record is None:
            return
        self._figures_started = True
        threading.Thread(target=self._draw_figures, args=(self.record,), daemon=True).start()

    def _part_html(
        self, name: str, title: str, record: CaseRecord, figures: dict[int, str] | None
    ) -> str:
        if (
            name == "sessions"
            and figures is None
            and record.sessions
            and self.figures_mode != "none"
        ):
            figures = {
                s.number: "<p class='kd-muted'>The figure is being drawn&hellip;</p>"
                for s in record.sessions
            }
        return (
            f"<section class='kd-chart-part' id='{anchor(name)}' tabindex='-1' "
            f"aria-labelledby='{anchor(name)}-h'><h3 id='{anchor(name)}-h'>{H.esc(title)}</h3>"
            f"{section_html(record, name, figures=figures)}</section>"
        )

    def _draw_figures(self, record: CaseRecord) -> None:
        """Draw each session's figure (data only) and put it into the chart."""
        from kdsupport.render.case_chart import session_figure_html

        figures: dict[int, str] = {}
        for s in record.sessions or ():
            try:
                figures[s.number] = session_figure_html(record, s)
            except Exception as exc:  # a figure must never break the walkthrough
                figures[s.number] = (
                    "<p class='kd-muted'>The figure could not be drawn "
                    f"({H.esc(type(exc).__name__)}); the tables above hold the same readings.</p>"
                )
        if record is self.record:
            self.contents["sessions"].value = self._part_html(
                "sessions", SECTIONS["sessions"], record, figures
            )
        self.figures_ready.set()

    def _highlight(self, parts: tuple[str, ...], number: int | None) -> None:
        for name in SECTIONS:
            on = name in parts and number is not None
            box, marker = self.parts[name], self.markers[name]
            if on:
                box.add_class("kd-current")
                marker.value = (
                    f"<p class='kd-marker'>&#9654; Question {number} is about this part.</p>"
                )
                marker.layout.display = None
            else:
                box.remove_class("kd-current")
                marker.value = ""
                marker.layout.display = "none"

    # ------------------------------------------------------------------ questions
    def _show_question(self, *, focus: bool) -> None:
        card = self.card
        self._update_score()
        with card.hold_sync():
            card.feedback_html = ""
            card.summary_html = ""
            card.notice = ""
            if not self.questions:
                card.question = {}
                card.phase = "empty"
                self._highlight((), None)
                return
            q = self.question
            parts = sections_for_rule(q.answer_rule)
            card.question = {
                "id": q.id,
                "number": self.index + 1,
                "total": len(self.questions),
                "prompt": q.prompt,
                "kind": q.kind,
                "unit": q.unit or "",
                "options": [{"value": o.value, "label": o.label} for o in q.options or ()],
                "about": [{"anchor": anchor(p), "title": SECTIONS[p]} for p in parts],
            }
            card.next_label = (
                "Next question" if self.index + 1 < len(self.questions) else "See the summary"
            )
            card.phase = "question"
            self._highlight(parts, self.index + 1)
            if focus:
                card.move_focus("heading")

    def _update_score(self) -> None:
        from kdsupport.training.scoring import first_answers, score_of

        record: CaseRecord | None = getattr(self, "record", None)
        if record is None:
            self.score.value = ""
            return
        trainee = self.trainee.value.strip()
        attempts = []
        if self.store is not None and trainee:
            try:
                attempts = self.store.attempts(trainee_id=trainee, case_id=record.id)
            except Exception:  # the save status already reports a broken store
                attempts = []
        attempts = [*attempts, *(a for a in self.recorder.pending if a.case_id == record.id)]
        firsts = first_answers(attempts)
        if not firsts and self.answered:  # not logged (no store, or no id): this visit only
            seen: dict[str, bool] = {}
            for q, fb in self.answered:
                seen.setdefault(q.id, fb.correct)
            score_text = (
                f"{sum(seen.values())} of {len(seen)} first answers correct on this page "
                "(not recorded)"
            )
        else:
            score_text = score_of(firsts.values()).text()
        self.score.value = f"<p class='kd-score'>Your score on this case: {H.esc(score_text)}</p>"

    def given_answer_ok(self, q: Question, given: Any) -> Any:
        """The answer in grading form, or None when it is empty or not a number."""
        from kdsupport.training.grading import normalise_answer

        if given is None:
            return None
        if q.kind == "multiple":
            if not isinstance(given, list):
                return None
            allowed = {o.value for o in q.options or ()}
            return given if all(isinstance(x, str) and x in allowed for x in given) else None
        if q.kind == "single":
            allowed = {o.value for o in q.options or ()}
            return given if isinstance(given, str) and given in allowed else None
        return given if normalise_answer(q, given) is not None else None

    # ------------------------------------------------------------------ actions
    def submit(self, answer: Any) -> None:
        """Answer the question on screen as the page would (tests and scripts)."""
        self.card.submission = {"answer": answer, "n": int(self.card.submission.get("n", 0)) + 1}

    def check(self, given: Any) -> None:
        """Grade an answer, log it and show the feedback; an empty answer is never graded."""
        from kdsupport.training.grading import grade

        card = self.card
        if card.phase != "question" or not self.questions:
            return
        q = self.question
        answer = self.given_answer_ok(q, given)
        if answer is None:
            card.notice = (
                "Enter a number first. Nothing was checked or recorded."
                if q.kind == "numeric"
                else "Choose an answer first. Nothing was checked or recorded."
            )
            card.move_focus("input")
            return
        if not self.trainee.value.strip():
            card.notice = (
                "Enter your trainee ID at the top of the page (the box labelled 'Your trainee "
                "ID') so that your answers are recorded, then press Check answer again."
            )
            card.move_focus("trainee")
            return
        fb = grade(self.loaded, q, answer)
        first = q.id not in self.first_here and not self._answered_before(q)
        self.first_here.setdefault(q.id, fb.correct)
        self._log(q, fb)
        self.answered.append((q, fb))
        with card.hold_sync():
            card.notice = ""
            card.feedback_html = feedback_html(q, fb) + (
                ""
                if first
                else "<p class='kd-muted'>You answered this question before: this "
                "answer is practice and does not change your score.</p>"
            )
            card.phase = "answered"
            card.move_focus("feedback")
        self._update_score()

    def _answered_before(self, q: Question) -> bool:
        trainee = self.trainee.value.strip()
        if self.store is None or not trainee:
            return False
        try:
            return any(
                a.question_id == q.id
                for a in self.store.attempts(trainee_id=trainee, case_id=self.loaded.id)
            )
        except Exception:
            return False

    def _log(self, q: Question, fb: Feedback) -> None:
        """Record the answer; a store error is shown and the answer kept for a retry."""
        if self.store is None:
            return
        from kdsupport._version import __version__
        from kdsupport.training.attempts import Attempt

        error = self.recorder.save(
            Attempt(
                trainee_id=self.trainee.value.strip(),
                case_id=self.loaded.id,
                question_id=q.id,
                answer=fb.given,
                correct=fb.correct,
                answered_at=Attempt.now(),
                kb_version=fb.kb_version,
                kdsupport_version=__version__,
            )
        )
        self._show_save_status(error)

    def retry_saving(self) -> None:
        """Try again to record the answers a store error refused."""
        self._show_save_status(self.recorder.retry())
        self._update_score()

    def _show_save_status(self, error: str | None) -> None:
        n = len(self.recorder.pending)
        self.save_status.value = H.save_status_html(error, n)
        self.retry_button.layout.display = None if n else "none"

    def next(self) -> None:
        """Show the next question, or the summary after the last one."""
        if self.card.phase != "answered":
            return
        if self.index + 1 < len(self.questions):
            self.index += 1
            self._show_question(focus=True)
            return
        from kdsupport.rules.assess import assess

        with self.card.hold_sync():
            record = self.loaded
            self.card.summary_html = summary_html(record, self.answered, assess(record))
            self.card.phase = "summary"
            self.card.move_focus("summary")
        self._highlight((), None)


def build_case_walkthrough(
    case_id: str,
    *,
    trainee_id: str = "",
    store: AttemptStore | str | None = "default",
    data_dir: Any = None,
    figures: str = "background",
) -> CaseWalkthrough:
    """Build the walkthrough widget for one curated case.

    Parameters
    ----------
    case_id
        A curated case id (e.g. ``"tr-001"``); the trainee can switch case in the widget. An
        unknown id shows the list of cases.
    trainee_id
        Pre-filled trainee id (the trainee can type it).
    store
        Where attempts are logged: an :class:`AttemptStore`, a path, ``"default"`` (see
        :func:`kdsupport.training.attempts.default_store_path`) or None (no logging).
    data_dir
        The synthetic-data directory (default: the bundled one).
    figures
        ``"background"`` (draw the session figures after the page is interactive), ``"now"``
        or ``"none"``.
    """
    from kdsupport.training.attempts import AttemptStore, open_store

    if isinstance(store, str):
        store = open_store(None if store == "default" else store)
    elif store is not None and not isinstance(store, AttemptStore):
        raise TypeError("store must be an AttemptStore, a path, 'default' or None")
    if figures not in ("background", "now", "none"):
        raise ValueError("figures must be 'background', 'now' or 'none'")
    return CaseWalkthrough(
        case_id, trainee_id=trainee_id, store=store, data_dir=data_dir, figures=figures
    )
