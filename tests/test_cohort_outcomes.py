"""The cohort-outcomes page's statistics: the interval of a mean (mean ± t·SE)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from kdsupport.cohort.outcomes import means_with_ci, t_quantile

# Student's t, two-sided 95 %, as printed in statistical tables (three decimals).
T_TABLE = {
    1: 12.706,
    2: 4.303,
    3: 3.182,
    4: 2.776,
    5: 2.571,
    10: 2.228,
    15: 2.131,
    30: 2.042,
    60: 2.000,
    120: 1.980,
}


@pytest.mark.parametrize(("df", "expected"), sorted(T_TABLE.items()))
def test_t_quantile_matches_the_printed_table(df, expected):
    assert round(t_quantile(df), 3) == expected


def test_t_quantile_falls_towards_the_normal_quantile():
    values = [t_quantile(df) for df in (1, 2, 7, 40, 400, 4000)]
    assert values == sorted(values, reverse=True)
    assert math.isclose(t_quantile(4000), 1.959963984540054, abs_tol=1e-3)
    with pytest.raises(ValueError):
        t_quantile(0)


def test_means_with_ci_is_mean_plus_or_minus_t_times_se():
    df = pd.DataFrame(
        {
            "group": ["a"] * 5 + ["b"] * 2 + ["c"] + ["d"] * 2,
            "value": pd.array([3, 5, 8, 13, 21, 4, 6, 7, 9, None], dtype="Int64"),
        }
    )
    got = means_with_ci(df, "group", "value").set_index("group")
    a = np.array([3, 5, 8, 13, 21], dtype=float)
    half = t_quantile(4) * a.std(ddof=1) / math.sqrt(5)
    assert got.loc["a", "n"] == 5
    assert math.isclose(got.loc["a", "mean"], a.mean())
    assert math.isclose(got.loc["a", "ci_low"], a.mean() - half)
    assert math.isclose(got.loc["a", "ci_high"], a.mean() + half)
    b_half = t_quantile(1) * np.std([4, 6], ddof=1) / math.sqrt(2)
    assert math.isclose(got.loc["b", "ci_high"] - got.loc["b", "mean"], b_half)
    # one value (or one known value beside a missing one) has a mean but no interval
    for g in ("c", "d"):
        assert got.loc[g, "n"] == 1
        assert math.isnan(got.loc[g, "ci_low"]) and math.isnan(got.loc[g, "ci_high"])


def test_the_cohort_page_is_drawn_without_seaborn():
    """Its figures are plain matplotlib: a first view does not pay for importing seaborn."""
    import subprocess
    import sys

    code = (
        "import sys; from kdsupport.render.cohort_page import cohort_outcomes_page; "
        "cohort_outcomes_page(use_cache=False); print('seaborn' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "False"
