"""Drawing helpers of the synthetic cohort: weighted choices, clipped normals, nulls.

Every draw takes the caller's :class:`numpy.random.Generator`; nothing is seeded globally.

Synthetic data only; not a medical device.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = ["Progress", "no_progress", "choice", "normal", "uniform", "where", "null_some"]

#: A progress callback: what was done, and how many.
Progress = Callable[[str, int], None]


def no_progress(_: str, __: int = 0) -> None:
    """A progress callback that shows nothing."""
    return None


def choice(rng: np.random.Generator, table: dict[str, float], size: int) -> np.ndarray:
    """``size`` draws from a table of weights (normalised to probabilities)."""
    keys = list(table)
    p = np.array([table[k] for k in keys], dtype=float)
    return np.array(keys, dtype=object)[rng.choice(len(keys), size=size, p=p / p.sum())]


def normal(rng: np.random.Generator, d: Any, size: int, decimals: int = 0) -> np.ndarray:
    """``size`` normal draws clipped to the distribution's range, rounded to ``decimals``."""
    x = np.clip(rng.normal(d.mean, d.sd, size), d.min, d.max)
    return np.round(x, decimals)


def uniform(rng: np.random.Generator, d: Any, size: int) -> np.ndarray:
    """``size`` uniform draws over the distribution's range."""
    return rng.uniform(d.min, d.max, size)


def where(cond: Any, yes: Any, no: Any) -> np.ndarray:
    """``np.where``, typed to allow ``None`` as a branch (numpy's stubs take array-likes only)."""
    return np.where(cond, yes, no)


def null_some(rng: np.random.Generator, values: np.ndarray, p: float) -> np.ndarray:
    """Object array with each value set to None with probability ``p``."""
    out = values.astype(object)
    out[rng.random(len(values)) < p] = None
    return out
