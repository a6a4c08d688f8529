"""Three-valued logic on columns: the toolkit of the rules' column-wise twins.

Batch screening evaluates each rule on whole columns of a cohort's tables at once. Codes are
``MET`` = 1, ``NOT`` = 0 and ``UNK`` = -1 (unknown), combined in Kleene's strong logic exactly
as :mod:`kdsupport.rules.result` combines :class:`~kdsupport.rules.result.Status` values. Each
rule module keeps its column-wise twin next to its scalar rule and builds it from these.

For training and audit with synthetic patients; not a medical device.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "MET",
    "NOT",
    "UNK",
    "WORDS",
    "and_",
    "or_",
    "not_",
    "compare",
    "tri",
    "flt",
    "txt",
    "category_codes",
    "patient_codes",
    "per_patient",
    "any_per_patient",
    "distinct_pairs",
    "band_points",
    "from_bool",
]

MET, NOT, UNK = 1, 0, -1
#: The word of each code, as :class:`~kdsupport.rules.result.Status` spells it.
WORDS = {MET: "met", NOT: "not_met", UNK: "unknown"}


def and_(*xs: np.ndarray) -> np.ndarray:
    """Kleene AND of code arrays: not met if any is; else unknown if any is; else met."""
    stack = np.vstack(xs)
    return np.where((stack == NOT).any(0), NOT, np.where((stack == UNK).any(0), UNK, MET)).astype(
        np.int8
    )


def or_(*xs: np.ndarray) -> np.ndarray:
    """Kleene OR of code arrays: met if any is; else unknown if any is; else not met."""
    stack = np.vstack(xs)
    return np.where((stack == MET).any(0), MET, np.where((stack == UNK).any(0), UNK, NOT)).astype(
        np.int8
    )


def not_(x: np.ndarray) -> np.ndarray:
    """Kleene NOT: met and not met swap; unknown stays unknown."""
    return np.where(x == UNK, UNK, 1 - x).astype(np.int8)


_OPS = {"<": np.less, "<=": np.less_equal, ">": np.greater, ">=": np.greater_equal}


def compare(values: np.ndarray, op: str, threshold: float) -> np.ndarray:
    """Three-valued comparison of a float array (NaN = unknown) with a threshold."""
    with np.errstate(invalid="ignore"):
        res = _OPS[op](values, threshold)
    return np.where(np.isnan(values), UNK, res.astype(np.int8)).astype(np.int8)


def tri(series: pd.Series) -> np.ndarray:
    """A nullable boolean column as three-valued codes."""
    arr = series.astype("boolean")
    out = np.where(
        arr.isna().to_numpy(), UNK, arr.fillna(False).to_numpy(dtype=bool).astype(np.int8)
    )
    return out.astype(np.int8)


def flt(series: pd.Series) -> np.ndarray:
    """A numeric column as float64 with NaN for missing values."""
    return series.astype("Float64").to_numpy(dtype=np.float64, na_value=np.nan)


def txt(series: pd.Series) -> np.ndarray:
    """A text column as an object array with None for missing values."""
    return series.astype(object).where(series.notna(), None).to_numpy(dtype=object)


def category_codes(series: pd.Series, categories: list[str]) -> np.ndarray:
    """Integer codes of a text column against a fixed category list (-1 = not in the list)."""
    import pandas as pd

    # get_indexer turns its target into an Index anyway; doing it here keeps the types exact
    return pd.Index(categories).get_indexer(pd.Index(series.astype(object))).astype(np.int64)


def patient_codes(df: pd.DataFrame, index: pd.Index) -> np.ndarray:
    """Row number in the patients table of each row's patient (hashing each distinct id once)."""
    import pandas as pd

    ids = df["patient_id"]
    cat = ids if isinstance(ids.dtype, pd.CategoricalDtype) else ids.astype("category")
    mapping = index.get_indexer(cat.cat.categories.astype(str))
    codes = np.asarray(cat.cat.codes, dtype=np.int64)
    return np.where(codes >= 0, mapping[codes], -1)


def per_patient(codes: np.ndarray, mask: np.ndarray, n: int) -> np.ndarray:
    """How many rows under ``mask`` each of the ``n`` patients has."""
    return np.bincount(codes[mask], minlength=n)


def any_per_patient(codes: np.ndarray, mask: np.ndarray, n: int) -> np.ndarray:
    """Whether each of the ``n`` patients has a row under ``mask``."""
    return per_patient(codes, mask, n) > 0


def distinct_pairs(
    codes: np.ndarray, keys: np.ndarray, mask: np.ndarray, n: int
) -> tuple[np.ndarray, int]:
    """Per patient, the (patient, key) pairs under ``mask`` as unique combined keys, and the width.

    A combined key is ``patient * width + key``.
    """
    width = int(keys.max()) + 1 if len(keys) else 1
    return np.unique(codes[mask].astype(np.int64) * width + keys[mask]), width


def band_points(
    values: np.ndarray, table: Any, default: float = np.nan
) -> tuple[np.ndarray, np.ndarray]:
    """Points and label index of each value in a knowledge-base band table."""
    points = np.full(len(values), default, dtype=float)
    which = np.full(len(values), -1, dtype=np.int64)
    for i, b in enumerate(table.bands):
        with np.errstate(invalid="ignore"):
            above = (
                np.ones(len(values), bool)
                if b.min is None
                else (values >= b.min if b.min_inclusive else values > b.min)
            )
            below = (
                np.ones(len(values), bool)
                if b.max is None
                else (values <= b.max if b.max_inclusive else values < b.max)
            )
        hit = above & below & ~np.isnan(values)
        points[hit] = b.points if b.points is not None else np.nan
        which[hit] = i
    return points, which


def from_bool(mask: np.ndarray) -> np.ndarray:
    """A boolean array as codes (true is met, false is not met)."""
    return mask.astype(np.int8)
