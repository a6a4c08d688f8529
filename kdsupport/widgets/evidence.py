"""Claims checked against the evidence (notebook 06): a short quiz with sourced feedback.

The verdicts and explanations come from ``knowledge/evidence.yaml``; answers are logged to the
attempt store under the case id ``claims``. Wiring only.

For training with synthetic patients; not a medical device.
"""

from __future__ import annotations

from typing import Any

import ipywidgets as W

from kdsupport.render import html as H
from kdsupport.widgets._common import trainee_box
from kdsupport.widgets.question_card import QuestionCard

__all__ = ["build_claim_quiz", "ClaimQuiz", "VERDICTS"]

VERDICTS = [
    ("Accurate", "accurate"),
    ("Inaccurate", "inaccurate"),
    ("Misleading or oversimplified", "misleading"),
]


class ClaimQuiz(W.VBox):
    """One question card per claim; a verdict is graded and logged only with a trainee id."""

    def __init__(self, *, trainee_id: str, store: Any):
        from kdsupport.knowledge import load
        from kdsupport.training.attempts import AttemptRecorder
        from kdsupport.training.scoring import RETAKE_RULE

        self.kb = load()
        self.store = store
        self.recorder = AttemptRecorder(store)
        self.trainee = trainee_box(trainee_id)
        self.save_status = W.HTML()
        self.retry_button = W.Button(
            description="Retry saving",
            tooltip="Try again to record the answers that were not saved",
            layout=W.Layout(display="none"),
        )
        self.retry_button.on_click(lambda _: self._show_save(self.recorder.retry()))
        claims = self.kb.evidence.claims
        self.cards: dict[str, QuestionCard] = {}
        for i, claim in enumerate(claims, start=1):
            card = QuestionCard(show_next=False)
            card.question = {
                "id": claim.id,
                "number": i,
                "total": len(claims),
                "counter": f"Claim {i} of {len(claims)}",
                "prompt": f"\u201c{claim.claim}\u201d Is this claim accurate?",
                "kind": "single",
                "unit": "",
                "options": [{"value": v, "label": label} for label, v in VERDICTS],
                "about": [],
            }
            card.observe(
                lambda ch, claim=claim, card=card: self.check(claim, card, ch["new"].get("answer")),
                names="submission",
            )
            self.cards[claim.id] = card
        super().__init__(
            [
                self.trainee,
                W.HTML(f"<p class='kd-muted'><b>Scoring.</b> {H.esc(RETAKE_RULE)}</p>"),
                *self.cards.values(),
                W.HBox([self.save_status, self.retry_button]),
            ]
        )
        self.add_class("kd-walkthrough")

    def _show_save(self, error: str | None) -> None:
        self.save_status.value = H.save_status_html(error, len(self.recorder.pending))
        self.retry_button.layout.display = None if self.recorder.pending else "none"

    def submit(self, claim_id: str, verdict: Any) -> None:
        """Answer one claim as the page would (tests and scripts)."""
        card = self.cards[claim_id]
        card.submission = {"answer": verdict, "n": int(card.submission.get("n", 0)) + 1}

    def check(self, claim: Any, card: QuestionCard, verdict: Any) -> None:
        """Grade a verdict, log it and show the evidence; nothing happens without an id."""
        from kdsupport._version import __version__
        from kdsupport.training.attempts import Attempt

        if card.phase != "question":
            return
        if verdict not in {v for _, v in VERDICTS}:
            card.notice = "Choose a verdict first. Nothing was checked or recorded."
            card.move_focus("input")
            return
        trainee = self.trainee.value.strip()
        if not trainee:
            card.notice = (
                "Enter your trainee ID at the top of the quiz (the box labelled 'Your trainee "
                "ID') so that your answer is recorded, then press Check answer again."
            )
            card.move_focus("trainee")
            return
        correct = verdict == claim.verdict
        if self.store is not None:
            self._show_save(
                self.recorder.save(
                    Attempt(
                        trainee,
                        "claims",
                        claim.id,
                        verdict,
                        correct,
                        Attempt.now(),
                        self.kb.version,
                        __version__,
                    )
                )
            )
        sources = [
            {"id": r.id, **self.kb.source_entry(r.id), "section": r.locator} for r in claim.source
        ]
        word = dict((v, k) for k, v in VERDICTS)[claim.verdict]
        colour = "#1b7837" if correct else "#b2182b"
        mark = "&#10003; Correct" if correct else "&#10007; Not quite"
        with card.hold_sync():
            card.notice = ""
            card.feedback_html = (
                f"<div class='kd-feedback' style='border:2px solid {colour};border-radius:6px;"
                f"padding:6px 10px'><b style='color:{colour}'>{mark}</b>: the evidence says "
                f"<b>{H.esc(word)}</b>.<p>{H.esc(claim.explanation)}</p>"
                f"<b>Sources</b>{H.sources_html(sources)}</div>"
            )
            card.phase = "answered"
            card.move_focus("feedback")


def build_claim_quiz(*, trainee_id: str = "", store: Any = "default") -> ClaimQuiz:
    """One question card per claim: choose a verdict, check it, read the evidence.

    ``store``: an attempt store, a path, ``"default"`` or None. Verdicts are logged under the
    case id ``claims`` and only with a trainee id.
    """
    from kdsupport.training.attempts import open_store

    if isinstance(store, str):
        store = open_store(None if store == "default" else store)
    return ClaimQuiz(trainee_id=trainee_id, store=store)
