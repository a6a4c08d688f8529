"""One retake rule for every page: the first answer to a question is the score.

A trainee may answer a question again (work a case again, or press Check on a claim twice):
every answer is logged for the instructor, but only the first answer of each trainee to each
question counts. The course home, the walkthrough's score line and the instructor dashboard's
tables and figures all count with the functions below, so they always agree.

For training with synthetic patients; not a medical device.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kdsupport.training.attempts import Attempt

__all__ = [
    "RETAKE_RULE",
    "first_answers",
    "CaseProgress",
    "case_progress",
    "Score",
    "score_of",
    "trainee_scores",
    "question_scores",
]

RETAKE_RULE = (
    "Your first answer to each question is your score. You may answer again for practice: "
    "later answers are recorded for your instructor but do not change your score."
)

Key = tuple[str, str, str]  # trainee_id, case_id, question_id


def first_answers(attempts: Iterable[Attempt]) -> dict[Key, Attempt]:
    """The first answer of each trainee to each question (earliest time, then log order)."""
    first: dict[Key, tuple[str, int, Attempt]] = {}
    for order, a in enumerate(attempts):
        key = (a.trainee_id, a.case_id, a.question_id)
        rank = (a.answered_at, order, a)
        if key not in first or rank[:2] < first[key][:2]:
            first[key] = rank
    return {k: v[2] for k, v in first.items()}


@dataclass(frozen=True)
class Score:
    """First answers counted: how many questions answered, how many of those first answers right."""

    answered: int
    correct: int

    @property
    def percent(self) -> float | None:
        """Percent of first answers correct (None before any answer)."""
        return None if not self.answered else round(100 * self.correct / self.answered, 1)

    def text(self) -> str:
        """``3 of 5 first answers correct (60 %)`` or ``no answers yet``."""
        if not self.answered:
            return "no answers yet"
        return f"{self.correct} of {self.answered} first answers correct ({self.percent:g} %)"


def score_of(firsts: Iterable[Attempt]) -> Score:
    """The score of a set of first answers."""
    items = list(firsts)
    return Score(len(items), sum(1 for a in items if a.correct))


@dataclass(frozen=True)
class CaseProgress:
    """A trainee's progress on one curated case."""

    case_id: str
    title: str
    n_questions: int
    score: Score

    @property
    def status(self) -> str:
        """``not started``, ``in progress`` or ``finished``."""
        if not self.score.answered:
            return "not started"
        return "finished" if self.score.answered >= self.n_questions else "in progress"


def case_progress(attempts: Iterable[Attempt], cases: Iterable[Any]) -> list[CaseProgress]:
    """Progress on every case (``cases``: summaries with ``id``, ``title``, ``n_questions``)."""
    by_case: dict[str, list[Attempt]] = {}
    for a in first_answers(attempts).values():
        by_case.setdefault(a.case_id, []).append(a)
    return [
        CaseProgress(c.id, c.title, c.n_questions, score_of(by_case.get(c.id, ()))) for c in cases
    ]


def trainee_scores(attempts: Iterable[Attempt]) -> dict[str, Score]:
    """Each trainee's score over every question answered, by trainee id (sorted)."""
    by: dict[str, list[Attempt]] = {}
    for a in first_answers(attempts).values():
        by.setdefault(a.trainee_id, []).append(a)
    return {t: score_of(v) for t, v in sorted(by.items())}


def question_scores(attempts: Iterable[Attempt]) -> dict[tuple[str, str], Score]:
    """Each question's first answers over all trainees, by (case id, question id) (sorted).

    ``answered`` counts trainees (one first answer each) and ``correct`` those who were right.
    """
    by: dict[tuple[str, str], list[Attempt]] = {}
    for a in first_answers(attempts).values():
        by.setdefault((a.case_id, a.question_id), []).append(a)
    return {q: score_of(v) for q, v in sorted(by.items())}
