"""The question card: one question, its choices, Check, the feedback, Next (an anywidget).

Python owns the state and the grading; ``question_card.js`` only draws it and reports what the
trainee did. The card is used by the case walkthrough (one card, question after question) and
by the claims quiz (one card per claim). See ``question_card.js`` for the keyboard and
screen-reader contract; ``walkthrough.css`` styles it.

For training with synthetic patients; not a medical device.
"""

from __future__ import annotations

from pathlib import Path

import anywidget
import traitlets

__all__ = ["QuestionCard"]

_HERE = Path(__file__).parent


class QuestionCard(anywidget.AnyWidget):
    """One question at a time: heading, choices, Check, feedback, Next; then the summary.

    Python owns the state (``question``, ``phase``, ``feedback_html`` ...); the front end sends
    ``submission`` (a checked, non-empty answer), ``next_request`` and ``restart_request``, and
    moves focus when ``focus`` changes.
    """

    _esm = _HERE / "question_card.js"
    _css = _HERE / "walkthrough.css"

    question = traitlets.Dict().tag(sync=True)
    phase = traitlets.Unicode("question").tag(sync=True)  # question | answered | summary | empty
    next_label = traitlets.Unicode("Next question").tag(sync=True)
    feedback_html = traitlets.Unicode("").tag(sync=True)
    summary_html = traitlets.Unicode("").tag(sync=True)
    notice = traitlets.Unicode("").tag(sync=True)
    focus = traitlets.Dict().tag(sync=True)
    submission = traitlets.Dict().tag(sync=True)
    next_request = traitlets.Dict().tag(sync=True)
    restart_request = traitlets.Dict().tag(sync=True)
    rendered = traitlets.Int(0).tag(sync=True)  # counted up by the page once the card is drawn
    show_next = traitlets.Bool(True).tag(sync=True)  # False: a stand-alone question (claims)

    def move_focus(self, target: str) -> None:
        """Ask the page to move focus (``heading``, ``feedback``, ``summary``, ``input``...)."""
        self.focus = {"target": target, "n": int(self.focus.get("n", 0)) + 1}
