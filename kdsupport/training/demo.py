"""Demonstration attempts, so an instructor can preview the dashboard before a course runs.

Only ever written to a store the caller names; each demo trainee id starts with ``demo-``.

The demo trainees answer every question of every curated case, so adding them needs each case's
questions and answers: reading and validating the 32 cases and the knowledge base takes about
half a second. Those questions are kept in the page cache (:mod:`kdsupport.render.page_cache`),
keyed by the sha256 of every case file (and the code's fingerprint, which covers the knowledge
base), so a preview opened again reads them back in a few milliseconds.

For training with synthetic patients; not a medical device.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["add_demo_attempts"]

#: Each curated case's id and its questions' ids and answers, in case and question order.
Questions = list[tuple[str, list[tuple[str, Any]]]]
#: Sets of curated cases whose questions the page cache keeps.
_KEEP = 2


def _read_questions(data_dir: Any) -> tuple[str, Questions]:
    """The knowledge-base version and every curated case's questions, read and validated."""
    from kdsupport.knowledge import load
    from kdsupport.records.bundled import list_cases, load_case_by_id

    kb = load()
    questions: Questions = []
    for c in list_cases(data_dir):
        record = load_case_by_id(c.id, data_dir)
        asked = record.teaching.questions if record.teaching else ()
        questions.append((record.id, [(q.id, q.answer) for q in asked]))
    return kb.version, questions


def _demo_questions(data_dir: Any) -> tuple[str, Questions]:
    """:func:`_read_questions`, from the page cache while no case file (nor the code) changed."""
    import hashlib

    from kdsupport.records.bundled import list_cases
    from kdsupport.render.page_cache import cached_sections, page_key

    try:
        files = [
            (str(c.path), hashlib.sha256(c.path.read_bytes()).hexdigest())
            for c in list_cases(data_dir)
        ]
        key: str | None = page_key("demo-questions", json.dumps(files))
    except OSError:
        key = None

    def read() -> dict[str, str]:
        version, questions = _read_questions(data_dir)
        return {"questions": json.dumps({"kb_version": version, "cases": questions})}

    sections, _ = cached_sections("demo-questions", key, read, names=["questions"], keep=_KEEP)
    data = json.loads(sections["questions"])
    return data["kb_version"], [(c, [(q, a) for q, a in qs]) for c, qs in data["cases"]]


def add_demo_attempts(store: Any, n_trainees: int, *, seed: int = 0, data_dir: Any = None) -> int:
    """Answer every curated question for ``n_trainees`` demo trainees; return how many were added.

    Each demo trainee answers correctly with a probability that differs between trainees and
    falls with the question's position, so the dashboard shows a realistic spread. A count of 0
    adds nothing.
    """
    if n_trainees <= 0:
        return 0
    import numpy as np

    from kdsupport._version import __version__
    from kdsupport.training.attempts import Attempt, open_store

    if isinstance(store, str):
        store = open_store(None if store == "default" else store)
    rng = np.random.default_rng(seed)
    kb_version, cases = _demo_questions(data_dir)
    batch: list[Attempt] = []
    for t in range(1, n_trainees + 1):
        skill = rng.uniform(0.45, 0.95)
        for case_id, questions in cases:
            for k, (question_id, right) in enumerate(questions):
                correct = bool(rng.random() < skill - 0.05 * k)
                answer = right if correct else "demo-wrong-answer"
                batch.append(
                    Attempt(
                        f"demo-{t:02d}",
                        case_id,
                        question_id,
                        answer,
                        correct,
                        Attempt.now(),
                        kb_version,
                        __version__,
                    )
                )
    store.record_many(batch)
    return len(batch)
