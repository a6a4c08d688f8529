"""The session-day drill's answers in the attempt log, and the score (notebook 09).

Each field of a checked step is one attempt (case id ``session-day:<case>``, question id
``session-<n>.<step>.<field>``), written in one transaction; an error keeps them for a retry
(:class:`kdsupport.training.attempts.AttemptRecorder`). The score of a session counts the first
answer to each question (:mod:`kdsupport.training.scoring`).

For training with synthetic patients; not a medical device.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kdsupport.training.attempts import Attempt, AttemptStore

__all__ = ["SessionDayLog"]


class SessionDayLog:
    """Where a drill's answers go: saved, kept for a retry, scored by the retake rule."""

    def __init__(self, store: AttemptStore | None):
        from kdsupport.training.attempts import AttemptRecorder

        self.store = store
        self.recorder = AttemptRecorder(store)

    @property
    def pending(self) -> int:
        """Answers not recorded yet (a store error refused them)."""
        return len(self.recorder.pending)

    def attempts(self, trainee: str, case_id: str) -> list[Attempt]:
        """The trainee's recorded answers on a case (none without a store or an id)."""
        if self.store is None or not trainee:
            return []
        try:
            return self.store.attempts(trainee_id=trainee, case_id=case_id)
        except Exception:  # the save status already reports a broken store
            return []

    def answered_before(self, trainee: str, case_id: str, question_ids: set[str]) -> bool:
        """Whether any of these questions was answered before (later answers are practice)."""
        return any(a.question_id in question_ids for a in self.attempts(trainee, case_id))

    def save(
        self, trainee: str, case_id: str, kb_version: str, answers: list[tuple[str, Any, bool]]
    ) -> str | None:
        """Record (question id, answer, correct) triples at once; None, or the error."""
        if self.store is None:
            return None
        from kdsupport._version import __version__
        from kdsupport.training.attempts import Attempt

        now = Attempt.now()
        self.recorder.pending.extend(
            Attempt(trainee, case_id, qid, answer, correct, now, kb_version, __version__)
            for qid, answer, correct in answers
        )
        return self.recorder.retry()

    def retry(self) -> str | None:
        """Try the answers a store error refused again; None on success."""
        return self.recorder.retry()

    def score_text(self, trainee: str, case_id: str, prefix: str, on_page: list[bool]) -> str:
        """The score on the questions starting with ``prefix`` (first answers count).

        Without a store or an id, the answers given on this page (``on_page``), not recorded.
        """
        from kdsupport.training.scoring import first_answers, score_of

        pending = [a for a in self.recorder.pending if a.case_id == case_id]
        mine = [
            a
            for a in [*self.attempts(trainee, case_id), *pending]
            if a.question_id.startswith(prefix)
        ]
        firsts = first_answers(mine)
        if not firsts and on_page:
            return f"{sum(on_page)} of {len(on_page)} answers correct on this page (not recorded)"
        return score_of(firsts.values()).text()
