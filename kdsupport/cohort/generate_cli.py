"""``kdsupport generate``: write a cohort safely, with progress and a summary.

The cohort is written to a temporary sibling directory and moved into place only when every
file and the manifest are complete, so an interrupted run never leaves a half-written cohort.

Synthetic data only; not a medical device.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kdsupport.errors import InvalidInputError, Problem

if TYPE_CHECKING:
    from kdsupport.knowledge import KnowledgeBase

__all__ = ["generate_to_directory", "check_ranges"]


def check_ranges(
    summary: dict[str, Any], kb: KnowledgeBase
) -> list[tuple[str, float, tuple[float, float], bool]]:
    """Each headline statistic with its expected range and whether it falls inside."""
    exp = kb.synthetic.expected_ranges
    rows: list[tuple[str, float, tuple[float, float], bool]] = []
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


#: ``--n`` cap. The generator draws each variable for the whole cohort at once (one draw of n
#: ages, then n sexes, ...), so the same seed gives the same bytes; drawing in chunks would
#: change every value after the first chunk, so generation cannot stream. Its memory grows with
#: n: measured peak RSS (24 GiB, 2 cores; records are built and written 5,000 patients at a
#: time) is 0.35 GB at 20,000 patients, 0.65 GB at 50,000 and 1.12 GB at 100,000, about 10 KB
#: per patient; 200,000 patients take about 2.1 GB (under a tenth of the machine), where the
#: old cap of 1,000,000 would have needed about 10 GB.
MAX_PATIENTS = 200_000


def cohort_replace_refusal(folder: Path) -> str | None:
    """Why ``folder`` must not be replaced by a new cohort, or None when it may be.

    Only a folder that holds a kdsupport cohort **and nothing else** may be replaced: a
    ``manifest.json`` of format ``kdsupport-cohort/1``, and ``tables/`` and ``records/`` whose
    files are all listed in that manifest. Anything else (a user's files beside a stray
    manifest) is refused, so ``generate --out`` can never delete someone's work.
    """
    import json

    from kdsupport.files.input_gate import read_text_file

    entries = {p.name for p in folder.iterdir()}
    if not entries:
        return None
    if "manifest.json" not in entries:
        return "exists and is not a kdsupport cohort; choose an empty or new folder"
    extra = entries - {"manifest.json", "tables", "records"}
    if extra:
        shown = ", ".join(sorted(extra)[:3])
        return f"holds files that are not part of a kdsupport cohort ({shown}); refused"
    try:
        manifest = json.loads(read_text_file(folder / "manifest.json"))
    except (InvalidInputError, ValueError):
        return "has a manifest.json that is not a kdsupport cohort's; refused"
    if not isinstance(manifest, dict) or manifest.get("format") != "kdsupport-cohort/1":
        return "has a manifest.json that is not a kdsupport cohort's; refused"
    listed = set(manifest.get("files") or {})
    for sub in ("tables", "records"):
        path = folder / sub
        if not path.exists():
            continue
        if path.is_symlink() or not path.is_dir():
            return f"{sub} is not a folder; refused"
        for f in path.iterdir():
            if f"{sub}/{f.name}" not in listed or f.is_symlink() or not f.is_file():
                return f"{sub}/{f.name} is not part of the cohort's manifest; refused"
    return None


def generate_to_directory(
    *, n: int, seed: int, out: str, table_format: str, records: bool, summary: bool, quiet: bool
) -> int:
    """Generate and write a cohort; return the exit status."""
    import numpy as np

    from kdsupport.cohort.generator import generate_cohort, summarise
    from kdsupport.cohort.storage import write_cohort
    from kdsupport.files.safe_write import check_directory_target, replace_directory
    from kdsupport.knowledge import load

    if n > MAX_PATIENTS:
        raise InvalidInputError(
            [
                Problem(
                    "--n",
                    f"must be <= {MAX_PATIENTS:,}, got {n:,} (the whole cohort is drawn in memory, "
                    "about 10 KB per patient)",
                )
            ]
        )
    target = Path(out)
    # refuse a bad --out before the minutes of generation, not after
    check_directory_target(target, is_replaceable=cohort_replace_refusal)
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

    def build(tmp: Path) -> None:
        write_cohort(
            tables, tmp, seed=seed, fmt=table_format, records=records, kb=kb, progress=progress
        )

    replace_directory(target, build, is_replaceable=cohort_replace_refusal)
    if bar is not None:
        bar.update(bar.total - bar.n)
        bar.close()
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
