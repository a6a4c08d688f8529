"""Batch screening: one row per patient for a whole waiting list or cohort.

Two paths give the same rows:

* :func:`screen_row` takes one full assessment (:func:`kdsupport.rules.assess.assess`); it is the
  reference, used for directories of case records.
* :func:`screen_tables` evaluates the same rules column-wise on the tidy tables of a cohort
  (numpy, three-valued codes 1 = met, 0 = not met, -1 = unknown). Every threshold, band, point
  and severity comes from the same knowledge base; the test suite checks that both paths give
  identical rows on generated cohorts, on every curated case and on random records.

Tables cannot say "not recorded" about a whole list: a patient without trial rows has an
empty trial history, as in :func:`kdsupport.cohort.generator.records_from_tables`.

For training and audit with synthetic patients; not a medical device.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from kdsupport.batch.tables import tables_from_records, validate_tables
from kdsupport.rules.columns import WORDS, flt, patient_codes
from kdsupport.rules.monitoring import bp_tiers
from kdsupport.rules.screening import modality_columns
from kdsupport.rules.staging import mgh_s_columns, msm_columns, thase_rush_columns
from kdsupport.rules.suicide_risk import suicide_columns
from kdsupport.rules.trd import trd_columns

if TYPE_CHECKING:
    import pandas as pd

    from kdsupport.knowledge import KnowledgeBase
    from kdsupport.rules.assessment import Assessment

__all__ = [
    "SCREEN_COLUMNS",
    "SCREEN_TABLES",
    "screen_path",
    "screen_row",
    "screen_tables",
    "tables_from_records",
    "validate_tables",
]

SCREEN_TABLES = (
    "patients",
    "trials",
    "ect",
    "screening",
    "assessments",
    "assessment_items",
    "cssrs",
)
SCREEN_COLUMNS = [
    "id",
    "trd_status",
    "definition",
    "failed_adequate_antidepressants",
    "unknown_trials",
    "thase_rush_stage",
    "thase_rush_complete",
    "mgh_s_score",
    "mgh_s_complete",
    "msm_score",
    "msm_band",
    "msm_complete",
    "esketamine_nasal",
    "iv_ketamine",
    "at_home_ketamine",
    "suicide_risk_level",
    "suicide_risk_action",
    "predose_bp",
    "kb_version",
]


# ---------------------------------------------------------------- the reference row
def screen_row(a: Assessment) -> dict[str, Any]:
    """The screening row of one full assessment (the reference for :func:`screen_tables`)."""
    s = a.staging
    return {
        "id": a.case_id,
        "trd_status": a.trd.status.value,
        "definition": a.trd.definition,
        "failed_adequate_antidepressants": a.trd.failed_adequate_antidepressants,
        "unknown_trials": a.trd.unknown_trials,
        "thase_rush_stage": s.thase_rush.value,
        "thase_rush_complete": s.thase_rush.complete,
        "mgh_s_score": float(s.mgh_s.value) if s.mgh_s.value is not None else None,
        "mgh_s_complete": s.mgh_s.complete,
        "msm_score": None if s.msm.value is None else int(s.msm.value),
        "msm_band": s.msm.band,
        "msm_complete": s.msm.complete,
        **{m: v.status.value for m, v in a.modalities.items()},
        "suicide_risk_level": a.suicide_risk.level,
        "suicide_risk_action": a.suicide_risk.action,
        "predose_bp": a.predose_bp.status.value,
        "kb_version": a.kb_version,
    }


# ---------------------------------------------------------------- the column-wise path
def screen_tables(
    tables: dict[str, pd.DataFrame],
    *,
    kb: KnowledgeBase | None = None,
    definition: str | None = None,
    patients: tuple[int, int] | None = None,
    severe_bp: str | None = None,
) -> pd.DataFrame:
    """Screen every patient of a cohort's tables; one row per patient (see :func:`screen_row`).

    The tables must be valid (see :func:`validate_tables`). ``patients=(lo, hi)`` screens only
    the patients in rows ``lo:hi`` of the patients table (how workers share a cohort).
    """
    import pandas as pd

    if kb is None:
        from kdsupport.knowledge import load

        kb = load()
    def_name, defn = kb.definition(definition)
    all_ids = pd.Index(tables["patients"]["patient_id"].astype(str))
    lo, hi = patients if patients is not None else (0, len(all_ids))
    codes: dict[str, np.ndarray] = {}
    view: dict[str, pd.DataFrame] = {"patients": tables["patients"].iloc[lo:hi]}
    for name in SCREEN_TABLES[1:]:
        c = patient_codes(tables[name], all_ids)
        keep = (c >= lo) & (c < hi)
        if keep.all():
            view[name], codes[name] = tables[name], c - lo
        else:
            view[name], codes[name] = tables[name][keep], c[keep] - lo
    tables = view
    pats = tables["patients"]
    n = len(pats)
    index = all_ids[lo:hi]

    # each rule's column-wise twin lives next to its scalar rule
    t = trd_columns(tables, codes, n, kb, def_name)
    tr_stage, tr_complete = thase_rush_columns(t, n, kb)
    mgh, mgh_complete = mgh_s_columns(t, n, kb)
    msm_score, msm_band, msm_complete = msm_columns(pats, t, n, kb)
    level, action = suicide_columns(tables, codes, n, kb)
    bp = bp_tiers(flt(pats["systolic_mmhg"]), flt(pats["diastolic_mmhg"]), kb, severe=severe_bp)
    statuses = modality_columns(tables, codes, n, kb, level, action=action, tier=bp, trd=t.status)

    out = pd.DataFrame(
        {
            "id": index.to_numpy(dtype=object),
            "trd_status": np.vectorize(WORDS.get, otypes=[object])(t.status) if n else [],
            "definition": def_name,
            "failed_adequate_antidepressants": t.n_failed,
            "unknown_trials": t.unknown_trials,
            "thase_rush_stage": tr_stage,
            "thase_rush_complete": tr_complete,
            "mgh_s_score": mgh,
            "mgh_s_complete": mgh_complete,
            "msm_score": pd.array(
                [None if np.isnan(x) else int(x) for x in msm_score], dtype="Int64"
            ),
            "msm_band": msm_band,
            "msm_complete": msm_complete.astype(bool),
            **statuses,
            "suicide_risk_level": level,
            "suicide_risk_action": action,
            "predose_bp": bp,
            "kb_version": kb.version,
        }
    )
    return out[SCREEN_COLUMNS]


# ---------------------------------------------------------------- the screening run


def _screen_file(
    args: tuple[str, str | None, str | None],
) -> tuple[dict[str, Any] | None, list[tuple[str, str, str]]]:
    from pathlib import Path

    from kdsupport.errors import InvalidInputError
    from kdsupport.records.case import load_case
    from kdsupport.rules.assess import assess

    path, definition, severe_bp = args
    name = Path(path).stem
    try:
        record = load_case(path)
    except InvalidInputError as exc:
        return None, [(name, p.path, p.message) for p in exc.problems]
    try:
        return screen_row(assess(record, definition=definition, severe_bp=severe_bp)), []
    except Exception as exc:  # noqa: BLE001 - one record never stops the run; it is reported
        return None, [(name, "", f"could not be assessed ({type(exc).__name__}: {exc})")]


def read_screen_tables(directory: str | Any) -> dict[str, pd.DataFrame]:
    """The tables screening needs, read with their dtypes (trusted input: a generated cohort)."""
    from kdsupport.cohort.storage import read_tables

    return read_tables(directory, SCREEN_TABLES)


def _drop_patients(tables: dict[str, pd.DataFrame], bad: set[str]) -> dict[str, pd.DataFrame]:
    """The tables without the rows of the patients in ``bad`` (an empty id is always dropped)."""
    bad = bad | {""}
    return {
        k: v[~v["patient_id"].astype(str).isin(bad)].reset_index(drop=True)
        for k, v in tables.items()
    }


def screen_path(
    path: str | Any,
    *,
    workers: int = 1,
    definition: str | None = None,
    severe_bp: str | None = None,
    progress: Any = None,
) -> tuple[pd.DataFrame, list[tuple[str, str, str]]]:
    """Screen a cohort directory (tables) or a directory of case records (or one record).

    Returns the results (one row per valid patient, :data:`SCREEN_COLUMNS`) and every problem
    as (patient id, field path, message); invalid patients are left out, never guessed. A
    cohort whose manifest is not a synthetic kdsupport cohort's, or whose tables do not match
    the manifest's sha256, is refused (:class:`~kdsupport.errors.InvalidInputError`).
    ``progress`` is an optional ``tqdm``-like factory.
    """
    import multiprocessing as mp
    from pathlib import Path

    import pandas as pd

    base = Path(path)
    kind = _path_kind(base)
    bar = progress or (lambda **kw: _NullBar())
    if kind == "cohort":
        from kdsupport.cohort.tables import read_cohort_tables

        with bar(total=3, desc="reading tables", unit="step") as b:
            tables, problems = read_cohort_tables(base, SCREEN_TABLES)
            b.update(1)
            b.set_description("validating")
            tables = _drop_patients(tables, {p[0] for p in problems})
            more = list(validate_tables(tables))
            problems += more
            tables = _drop_patients(tables, {p[0] for p in more})
            b.update(1)
            b.set_description("screening")
            # column-wise in one process: a worker pool bought nothing here (100k patients:
            # 3.10 s with one worker, 3.24 s with two), so ``workers`` is for record folders
            result = screen_tables(tables, definition=definition, severe_bp=severe_bp)
            b.update(1)
        return result, problems

    files = _record_files(base) if kind == "records" else [base]
    rows, problems = [], []
    jobs = [(str(f), definition, severe_bp) for f in files]
    with bar(total=len(jobs), desc="screening records", unit="case") as b:
        if workers > 1 and len(jobs) > 1:
            with mp.get_context("fork").Pool(workers) as pool:
                for row, probs in pool.imap(_screen_file, jobs, chunksize=16):
                    if row is not None:
                        rows.append(row)
                    problems += probs
                    b.update(1)
        else:
            for job in jobs:
                row, probs = _screen_file(job)
                if row is not None:
                    rows.append(row)
                problems += probs
                b.update(1)
    return pd.DataFrame(rows, columns=SCREEN_COLUMNS), problems


_RECORD_SUFFIXES = (".json", ".yaml", ".yml")
_EXPECTED = (
    "expected a cohort folder (manifest.json and tables/, as kdsupport generate writes), a "
    "folder of case records (*.json, *.yaml) or one case record"
)


def _record_files(folder: Any) -> list[Any]:
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in _RECORD_SUFFIXES)


def _path_kind(base: Any) -> str:
    """What ``screen`` was given: 'cohort', 'records' (a folder) or 'record' (one file).

    Raises
    ------
    InvalidInputError
        Naming DIR_OR_TABLES and what was expected, for a missing or unreadable path, a special
        file, or a folder that is neither a cohort nor a folder of case records (an empty one,
        a cohort whose manifest.json is gone, a cohort's tables/ folder).
    """
    import errno
    import os
    import stat

    from kdsupport.errors import InvalidInputError, Problem
    from kdsupport.files.input_gate import file_kind, os_error_message

    def refuse(message: str) -> InvalidInputError:
        return InvalidInputError([Problem("DIR_OR_TABLES", message)])

    names: set[str] = set()
    try:
        st = os.stat(base)
        if not stat.S_ISDIR(st.st_mode):
            kind = file_kind(st.st_mode)
            if kind is not None:
                raise refuse(f"{base} is {kind}: refused")
            return "record"
        if (base / "manifest.json").exists() or (base / "manifest.json").is_symlink():
            return "cohort"
        names = {p.name for p in base.iterdir()}
        if _record_files(base):
            return "records"
    except OSError as exc:
        if exc.errno == errno.ENOENT:
            raise refuse(f"{base} does not exist") from None
        raise refuse(f"{base}: {os_error_message(exc)}") from None
    if not names:
        raise refuse(f"{base} is an empty folder; {_EXPECTED}")
    if "tables" in names or "records" in names:
        raise refuse(
            f"{base} has no manifest.json: a cohort is screened only with the manifest that "
            f"lists its tables' sha256; {_EXPECTED}"
        )
    if any(n.endswith((".csv", ".parquet")) for n in names):
        raise refuse(
            f"{base} holds tables but no manifest.json; give the cohort folder, the one that "
            "holds manifest.json and tables/"
        )
    raise refuse(f"{base} holds no cohort and no case records; {_EXPECTED}")


class _NullBar:
    def __enter__(self) -> _NullBar:
        return self

    def __exit__(self, *exc: Any) -> None:
        return None

    def update(self, _: int = 1) -> None:
        return None

    def set_description(self, _: str) -> None:
        return None
