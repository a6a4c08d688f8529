"""The session-day drill's step card: one step's fields, Check, the feedback, Next (an anywidget).

Python owns the state and the grading; ``session_day_card.js`` only draws the step and reports
what the trainee entered. The state never holds an expected answer: ``step`` is the fields and
their choices, ``feedback_html`` and ``results`` are set only after *Check*. See
``session_day_card.js`` for the keyboard and screen-reader contract; ``walkthrough.css`` and
``session_day.css`` style it.

For training with synthetic patients; not a medical device.
"""

from __future__ import annotations

from pathlib import Path

import anywidget
import traitlets

__all__ = ["StepCard"]

_HERE = Path(__file__).parent


class StepCard(anywidget.AnyWidget):
    """One step at a time: heading, fields, Check, feedback, Next; then the summary.

    The front end sends ``submission`` (``{"answers": {field id: value}}``, only when every
    field that must be answered is), ``next_request`` and ``restart_request``, and moves focus
    when ``focus`` changes (``heading``, ``feedback``, ``summary``, ``trainee`` or ``field`` with
    the field's id).
    """

    _esm = _HERE / "session_day_card.js"
    _css = (_HERE / "walkthrough.css").read_text(encoding="utf-8") + (
        _HERE / "session_day.css"
    ).read_text(encoding="utf-8")

    step = traitlets.Dict().tag(sync=True)
    phase = traitlets.Unicode("question").tag(sync=True)  # question | answered | summary | empty
    next_label = traitlets.Unicode("Next step").tag(sync=True)
    feedback_html = traitlets.Unicode("").tag(sync=True)
    summary_html = traitlets.Unicode("").tag(sync=True)
    results = traitlets.Dict().tag(sync=True)  # field id -> correct (after Check only)
    notice = traitlets.Unicode("").tag(sync=True)
    focus = traitlets.Dict().tag(sync=True)
    submission = traitlets.Dict().tag(sync=True)
    next_request = traitlets.Dict().tag(sync=True)
    restart_request = traitlets.Dict().tag(sync=True)
    rendered = traitlets.Int(0).tag(sync=True)  # counted up by the page once the card is drawn

    def move_focus(self, target: str, field: str = "") -> None:
        """Ask the page to move focus (``heading``, ``feedback``, ``summary``, ``field`` ...)."""
        self.focus = {"target": target, "field": field, "n": int(self.focus.get("n", 0)) + 1}
