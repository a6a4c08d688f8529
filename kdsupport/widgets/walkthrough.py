"""The case walkthrough: vignette, questions one at a time, feedback, score, summary.

Wiring only: answers are graded by :func:`kdsupport.training.grading.grade` (against the rules,
at check time) and logged to an :class:`~kdsupport.training.attempts.AttemptStore`; feedback is
HTML from :mod:`kdsupport.report_html` written into ``HTML`` widgets (``Output`` capture does
not work headless). Every control has a visible label; everything works with the keyboard
(Tab to move, Space or Enter to choose and to press buttons).

For training with synthetic patients; not a medical device.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import ipywidgets as W

from kdsupport import report_html as H

if TYPE_CHECKING:
    from kdsupport.case import CaseRecord, Question
    from kdsupport.training.attempts import AttemptStore
    from kdsupport.training.grading import Feedback

__all__ = ["CaseWalkthrough", "build_case_walkthrough"]

_WIDE = W.Layout(width="auto", max_width="60em")
_LABEL = {"description_width": "initial"}


class CaseWalkthrough(W.VBox):
    """A case walkthrough widget (see :func:`build_case_walkthrough`)."""

    def __init__(
        self, case_id: str, *, trainee_id: str, store: AttemptStore | None, data_dir: Any = None
    ):
        from kdsupport.data import list_cases
        from kdsupport.training.attempts import AttemptRecorder

        self.store = store
        self.recorder = AttemptRecorder(store)
        self.data_dir = data_dir
        cases = list_cases(data_dir)
        self.case_picker = W.Dropdown(
            options=[(f"{c.id}: {c.title}", c.id) for c in cases],
            value=case_id,
            description="Case",
            style=_LABEL,
            layout=_WIDE,
        )
        self.trainee = W.Text(
            value=trainee_id,
            description="Your trainee ID",
            placeholder="e.g. your initials and a number",
            style=_LABEL,
        )
        self.vignette = W.HTML()
        self.progress = W.HTML()
        self.score = W.HTML()
        self.prompt = W.HTML()
        self.answer_box = W.VBox()
        self.check_button = W.Button(
            description="Check answer",
            button_style="primary",
            tooltip="Check your answer against the rules",
        )
        self.next_button = W.Button(
            description="Next question", disabled=True, tooltip="Go to the next question"
        )
        self.feedback = W.HTML()
        self.save_status = W.HTML()
        self.retry_button = W.Button(
            description="Retry saving",
            tooltip="Try again to record the answers that were not saved",
            layout=W.Layout(display="none"),
        )
        self.retry_button.on_click(lambda _: self.retry_saving())
        self.summary = W.HTML()
        self.check_button.on_click(lambda _: self.check())
        self.next_button.on_click(lambda _: self.next())
        self.case_picker.observe(lambda ch: self.load(ch["new"]), names="value")
        super().__init__(
            [
                W.HBox([self.case_picker, self.trainee]),
                self.vignette,
                W.HBox([self.progress, W.HTML("&nbsp;&nbsp;"), self.score]),
                self.prompt,
                self.answer_box,
                W.HBox([self.check_button, self.next_button]),
                self.feedback,
                W.HBox([self.save_status, self.retry_button]),
                self.summary,
            ]
        )
        self.load(case_id)

    # ------------------------------------------------------------------ state
    def load(self, case_id: str) -> None:
        """Open a case and show its first question."""
        from kdsupport.data import load_case_by_id

        self.record: CaseRecord = load_case_by_id(case_id, self.data_dir)
        self.questions: list[Question] = (
            list(self.record.teaching.questions) if self.record.teaching else []
        )
        self.index = 0
        self.answered: list[tuple[Question, Feedback]] = []
        self.vignette.value = H.vignette_html(self.record)
        self.summary.value = ""
        self._show_question()

    @property
    def question(self) -> Question:
        """The question on screen."""
        return self.questions[self.index]

    def _show_question(self) -> None:
        self.feedback.value = ""
        self._update_score()
        if not self.questions:
            self.prompt.value = "<p>This case has no questions.</p>"
            self.answer_box.children = ()
            self.check_button.disabled = True
            return
        q = self.question
        self.progress.value = f"<b>Question {self.index + 1} of {len(self.questions)}</b>"
        self.prompt.value = f"<p style='font-size:110%;max-width:60em'><b>{H.esc(q.prompt)}</b></p>"
        if q.kind == "single":
            self.answer_widget: Any = W.RadioButtons(
                options=[(o.label, o.value) for o in q.options or ()],
                value=None,
                description="Answer",
                layout=_WIDE,
            )
            self.answer_box.children = (self.answer_widget,)
        elif q.kind == "multiple":
            self.answer_widget = [
                W.Checkbox(value=False, description=o.label, indent=False, layout=_WIDE)
                for o in q.options or ()
            ]
            self.answer_box.children = (
                W.HTML("<i>Choose all that apply.</i>"),
                *self.answer_widget,
            )
        else:
            unit = f" ({q.unit})" if q.unit else ""
            self.answer_widget = W.Text(
                value="", description=f"Answer{unit}", placeholder="a number", style=_LABEL
            )
            self.answer_box.children = (self.answer_widget,)
        self.check_button.disabled = False
        self.next_button.disabled = True
        self.next_button.description = (
            "Next question" if self.index + 1 < len(self.questions) else "See summary"
        )

    def _update_score(self) -> None:
        n_ok = sum(fb.correct for _, fb in self.answered)
        self.score.value = (
            f"<span class='kd-score'>Score: {n_ok} of {len(self.answered)} "
            "answered correctly</span>"
        )

    def given_answer(self) -> Any:
        """The answer currently entered (None when nothing is chosen)."""
        q = self.question
        if q.kind == "single":
            return self.answer_widget.value
        if q.kind == "multiple":
            opts = q.options or ()
            return [o.value for o, box in zip(opts, self.answer_widget, strict=True) if box.value]
        text = self.answer_widget.value.strip()
        return text or None

    def _set_inputs_disabled(self, disabled: bool) -> None:
        boxes = self.answer_widget if isinstance(self.answer_widget, list) else [self.answer_widget]
        for b in boxes:
            b.disabled = disabled

    # ------------------------------------------------------------------ actions
    def check(self) -> None:
        """Grade the entered answer, log it and show the feedback."""
        from kdsupport.training.grading import grade, normalise_answer

        if self.check_button.disabled:
            return
        q = self.question
        given = self.given_answer()
        if given is None or (q.kind == "numeric" and normalise_answer(q, given) is None):
            self.feedback.value = H.notice_html(
                "Choose an answer first." if q.kind != "numeric" else "Enter a number first."
            )
            return
        if not self.trainee.value.strip():
            self.feedback.value = H.notice_html(
                "Enter your trainee ID at the top of the page so that your answers are recorded."
            )
            return
        fb = grade(self.record, q, given)
        self._log(q, fb)
        self.answered.append((q, fb))
        self.feedback.value = H.feedback_html(q, fb)
        self._set_inputs_disabled(True)
        self.check_button.disabled = True
        self.next_button.disabled = False
        self._update_score()

    def _log(self, q: Question, fb: Feedback) -> None:
        """Record the answer; a store error is shown and the answer kept for a retry."""
        if self.store is None:
            return
        from kdsupport._version import __version__
        from kdsupport.training.attempts import Attempt

        error = self.recorder.save(
            Attempt(
                trainee_id=self.trainee.value.strip(),
                case_id=self.record.id,
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

    def _show_save_status(self, error: str | None) -> None:
        n = len(self.recorder.pending)
        self.save_status.value = H.save_status_html(error, n)
        self.retry_button.layout.display = None if n else "none"

    def next(self) -> None:
        """Show the next question, or the summary after the last one."""
        if self.next_button.disabled:
            return
        if self.index + 1 < len(self.questions):
            self.index += 1
            self._show_question()
            return
        from kdsupport.assess import assess

        self.next_button.disabled = True
        self.check_button.disabled = True
        self.summary.value = H.summary_html(self.record, self.answered, assess(self.record))


def build_case_walkthrough(
    case_id: str,
    *,
    trainee_id: str = "",
    store: AttemptStore | str | None = "default",
    data_dir: Any = None,
) -> CaseWalkthrough:
    """Build the walkthrough widget for one curated case.

    Parameters
    ----------
    case_id
        A curated case id (e.g. ``"tr-001"``); the trainee can switch case in the widget.
    trainee_id
        Pre-filled trainee id (the trainee can type it).
    store
        Where attempts are logged: an :class:`AttemptStore`, a path, ``"default"``
        (``$KDSUPPORT_ATTEMPTS`` or ``~/.kdsupport/attempts.sqlite``) or None (no logging).
    data_dir
        The synthetic-data directory (default: the bundled one).
    """
    from kdsupport.training.attempts import AttemptStore, open_store

    if isinstance(store, str):
        store = open_store(None if store == "default" else store)
    elif store is not None and not isinstance(store, AttemptStore):
        raise TypeError("store must be an AttemptStore, a path, 'default' or None")
    return CaseWalkthrough(case_id, trainee_id=trainee_id, store=store, data_dir=data_dir)
