"""``kdsupport generate``: write a cohort safely, with progress and a summary.

The cohort is written to a temporary sibling directory and moved into place only when every
file and the manifest are complete, so an interrupted run never leaves a half-written cohort.

Synthetic data only; not a medical device.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from pathlib import Path

from kdsupport.errors import InvalidInputError, Problem

__all__ = ["generate_to_directory", "check_ranges"]


def check_ranges(summary: dict, kb) -> list[tuple[str, float, tuple[float, float], bool]]:  # type: ignore[no-untyped-def]
    """Each headline statistic with its expected range and whether it falls inside."""
    exp = kb.synthetic.expected_ranges
    rows = []
    for name in ("response_rate", "remission_rate"):
        for m, (lo, hi) in getattr(exp, name).items():
            v = summary[name].get(m)
            if v is not None:
                rows.append((f"{name}[{m}]", v, (lo, hi), lo <= v <= hi))
    for name in (
        "esketamine_patients_with_large_rise",
        "sessions_with_large_rise",
        "treated_fraction",
        "cadss_last_over_first",
    ):
        lo, hi = getattr(exp, name)
        v = summary[name]
        rows.append((name, v, (lo, hi), lo <= v <= hi))
    return rows


def generate_to_directory(
    *, n: int, seed: int, out: str, table_format: str, records: bool, summary: bool, quiet: bool
) -> int:
    """Generate and write a cohort; return the exit status."""
    import numpy as np

    from kdsupport.knowledge import load
    from kdsupport.synthetic import generate_cohort, summarise, write_cohort

    target = Path(out)
    if target.exists() and (
        not target.is_dir() or (any(target.iterdir()) and not (target / "manifest.json").exists())
    ):
        raise InvalidInputError(
            [
                Problem(
                    "--out",
                    f"{target} exists and is not a kdsupport cohort; "
                    "choose an empty or new directory",
                )
            ]
        )
    kb = load()
    bar = None
    if not quiet:
        from tqdm import tqdm

        bar = tqdm(
            total=6 + (n if records else 0),
            desc="generating",
            unit="step",
            file=sys.stderr,
            dynamic_ncols=True,
            leave=True,
        )
    last = {"records written": 0}

    def progress(stage: str, done: int) -> None:
        if bar is None:
            return
        if stage == "records written":
            bar.set_description("writing records")
            bar.update(done - last["records written"])
            last["records written"] = done
        else:
            bar.set_description(stage)
            bar.update(1)

    t0 = time.perf_counter()
    tables = generate_cohort(n, np.random.default_rng(seed), kb=kb, progress=progress)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        write_cohort(
            tables, tmp, seed=seed, fmt=table_format, records=records, kb=kb, progress=progress
        )
        if bar is not None:
            bar.update(bar.total - bar.n)
            bar.close()
        if target.exists():
            shutil.rmtree(target)
        tmp.rename(target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    elapsed = time.perf_counter() - t0
    print(f"wrote {n} synthetic patients to {target} in {elapsed:.1f} s", end="")
    print(f" (seed {seed}, kb {kb.version})")
    if summary:
        stats = summarise(tables, kb)
        print(f"treated: {stats['treated_by_modality']}  sessions: {stats['n_sessions']}")
        for name, value, (lo, hi), ok in check_ranges(stats, kb):
            verdict = "ok" if ok else "OUT OF RANGE"
            print(f"  {name:<45} {value:6.3f}  expected {lo:.2f}-{hi:.2f}  {verdict}")
    return 0
