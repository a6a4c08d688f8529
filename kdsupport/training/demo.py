"""Demonstration attempts, so an instructor can preview the dashboard before a course runs.

Only ever written to a store the caller names; each demo trainee id starts with ``demo-``.

For training with synthetic patients; not a medical device.
"""

from __future__ import annotations

from typing import Any

__all__ = ["add_demo_attempts"]


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
    from kdsupport.knowledge import load
    from kdsupport.records.bundled import list_cases, load_case_by_id
    from kdsupport.training.attempts import Attempt, open_store

    if isinstance(store, str):
        store = open_store(None if store == "default" else store)
    rng = np.random.default_rng(seed)
    kb = load()
    batch: list[Attempt] = []
    cases = [load_case_by_id(c.id, data_dir) for c in list_cases(data_dir)]
    for t in range(1, n_trainees + 1):
        skill = rng.uniform(0.45, 0.95)
        for record in cases:
            for k, q in enumerate(record.teaching.questions if record.teaching else ()):
                correct = bool(rng.random() < skill - 0.05 * k)
                answer = q.answer if correct else "demo-wrong-answer"
                batch.append(
                    Attempt(
                        f"demo-{t:02d}",
                        record.id,
                        q.id,
                        answer,
                        correct,
                        Attempt.now(),
                        kb.version,
                        __version__,
                    )
                )
    store.record_many(batch)
    return len(batch)
