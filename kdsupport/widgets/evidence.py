"""Claims checked against the evidence (notebook 06): a short quiz with sourced feedback.

The verdicts and explanations come from ``knowledge/evidence.yaml``; answers are logged to the
attempt store under the case id ``claims``. Wiring only.

For training with synthetic patients; not a medical device.
"""

from __future__ import annotations

from typing import Any

import ipywidgets as W

from kdsupport import report_html as H
from kdsupport.widgets._common import LABEL

__all__ = ["build_claim_quiz", "VERDICTS"]

VERDICTS = [
    ("Accurate", "accurate"),
    ("Inaccurate", "inaccurate"),
    ("Misleading or oversimplified", "misleading"),
]


def build_claim_quiz(*, trainee_id: str = "", store: Any = "default") -> W.VBox:
    """One block per claim: choose a verdict, check it, read the evidence."""
    from kdsupport._version import __version__
    from kdsupport.knowledge import load
    from kdsupport.training.attempts import Attempt, AttemptRecorder, open_store

    kb = load()
    if isinstance(store, str):
        store = open_store(None if store == "default" else store)
    recorder = AttemptRecorder(store)
    trainee = W.Text(value=trainee_id, description="Your trainee ID", style=LABEL)
    save_status = W.HTML()
    retry = W.Button(
        description="Retry saving",
        tooltip="Try again to record the answers that were not saved",
        layout=W.Layout(display="none"),
    )

    def show_save(error: str | None) -> None:
        save_status.value = H.save_status_html(error, len(recorder.pending))
        retry.layout.display = None if recorder.pending else "none"

    retry.on_click(lambda _: show_save(recorder.retry()))
    blocks, controls = [], []
    for claim in kb.evidence.claims:
        choice = W.RadioButtons(options=VERDICTS, value=None, description="Verdict")
        button = W.Button(description="Check", tooltip="Check your verdict against the evidence")
        feedback = W.HTML()

        def check(
            _: Any,
            claim: Any = claim,
            choice: Any = choice,
            button: Any = button,
            feedback: Any = feedback,
        ) -> None:
            if choice.value is None:
                feedback.value = H.notice_html("Choose a verdict first.")
                return
            correct = choice.value == claim.verdict
            if store is not None and trainee.value.strip():
                attempt = Attempt(
                    trainee.value.strip(),
                    "claims",
                    claim.id,
                    choice.value,
                    correct,
                    Attempt.now(),
                    kb.version,
                    __version__,
                )
                show_save(recorder.save(attempt))
            sources = [
                {"id": r.id, **kb.source_entry(r.id), "section": r.locator} for r in claim.source
            ]
            word = dict((v, k) for k, v in VERDICTS)[claim.verdict]
            colour = "#1b7837" if correct else "#b2182b"
            verdict = "&#10003; Correct" if correct else "&#10007; Not quite"
            feedback.value = (
                "<div role='status' aria-live='polite' class='kd-feedback' "
                f"style='border:2px solid {colour};border-radius:6px;padding:6px 10px'>"
                f"<b style='color:{colour}'>{verdict}</b>: the evidence says <b>{H.esc(word)}</b>."
                f"<p>{H.esc(claim.explanation)}</p>{H.sources_html(sources)}</div>"
            )
            choice.disabled = button.disabled = True

        button.on_click(check)
        blocks.append(
            W.VBox(
                [
                    W.HTML(
                        "<p style='max-width:60em'><b>Claim.</b> "
                        f"&ldquo;{H.esc(claim.claim)}&rdquo;</p>"
                    ),
                    choice,
                    button,
                    feedback,
                ]
            )
        )
        controls.append((claim.id, choice, button, feedback))
    box = W.VBox([trainee, *blocks, W.HBox([save_status, retry])])
    box.trainee, box.claims = trainee, controls  # type: ignore[attr-defined]
    box.save_status, box.retry_button = save_status, retry  # type: ignore[attr-defined]
    return box
