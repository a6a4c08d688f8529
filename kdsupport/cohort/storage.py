"""Writing a cohort to disk (tables, records, ``manifest.json``) and reading it back.

:func:`write_cohort` writes the tables (CSV or Parquet), the records (JSON, one per patient)
and a manifest with the generator version, seed, ``kb_version`` and the sha256 of every file.
:func:`read_tables` reads them back with proper dtypes; :func:`load_cohort` finds a cohort
(by default the bundled one) and reads it.

Synthetic data only; not a medical device.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from kdsupport._version import __version__
from kdsupport.cohort.records import records_from_tables
from kdsupport.cohort.schema import TABLES

if TYPE_CHECKING:
    from kdsupport.knowledge import KnowledgeBase

__all__ = ["write_cohort", "read_tables", "load_cohort"]

#: A progress callback: what was done, and how many.
Progress = Callable[[str, int], None]


def _noop(_: str, __: int = 0) -> None:
    return None


def _for_csv(df: pd.DataFrame) -> pd.DataFrame:
    """Whole-number float columns written as integers: same values, faster and smaller."""
    out = df.copy()
    for col in out.columns:
        if isinstance(out[col].dtype, pd.Float64Dtype):
            vals = out[col].to_numpy(dtype=np.float64, na_value=np.nan)
            if np.all(np.isnan(vals) | (vals == np.round(vals))):
                out[col] = out[col].astype("Int64")
    return out


def write_cohort(
    tables: dict[str, pd.DataFrame],
    out: str | Path,
    *,
    seed: int | None,
    fmt: str = "csv",
    records: bool = True,
    kb: KnowledgeBase | None = None,
    progress: Progress | None = None,
) -> Path:
    """Write tables, records and ``manifest.json`` under ``out``; return the manifest path.

    The output is fully determined by the tables: same tables, same bytes.
    """
    import orjson

    if fmt not in ("csv", "parquet"):
        raise ValueError("fmt must be 'csv' or 'parquet'")
    if kb is None:
        from kdsupport.knowledge import load

        kb = load()
    tick = progress or _noop
    base = Path(out)
    (base / "tables").mkdir(parents=True, exist_ok=True)
    digests: dict[str, str] = {}

    def put(rel: str, data: bytes) -> None:
        (base / rel).write_bytes(data)
        digests[rel] = hashlib.sha256(data).hexdigest()

    for name in TABLES:
        df = tables[name]
        if fmt == "csv":
            put(
                f"tables/{name}.csv", _for_csv(df).to_csv(index=False, lineterminator="\n").encode()
            )
        else:
            import io

            buf = io.BytesIO()
            df.to_parquet(buf, index=False)
            put(f"tables/{name}.parquet", buf.getvalue())
    tick("tables written", len(tables["patients"]))
    if records:
        (base / "records").mkdir(exist_ok=True)
        for k, rec in enumerate(records_from_tables(tables), 1):
            put(f"records/{rec['id']}.json", orjson.dumps(rec, option=orjson.OPT_APPEND_NEWLINE))
            if k % 500 == 0:
                tick("records written", k)
    manifest = {
        "format": "kdsupport-cohort/1",
        "generator_version": kb.synthetic.generator_version,
        "kdsupport_version": __version__,
        "kb_version": kb.version,
        "seed": seed,
        "n_patients": int(len(tables["patients"])),
        "table_format": fmt,
        "synthetic": True,
        "files": dict(sorted(digests.items())),
    }
    mpath = base / "manifest.json"
    mpath.write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    return mpath


def read_tables(
    directory: str | Path, names: Any = None, *, ids_as_category: bool = False
) -> dict[str, pd.DataFrame]:
    """Read a cohort's tables back with their dtypes (categoricals, nullable ints, booleans).

    ``names`` limits the tables read (default: all). ``ids_as_category`` reads ``patient_id``
    as a categorical (faster joins for batch screening). Text columns are never missing in a
    generated cohort, so an empty CSV cell in one of them is the empty string.
    """
    base = Path(directory)
    manifest = json.loads((base / "manifest.json").read_text())
    fmt = manifest["table_format"]
    out = {}
    for name in names or TABLES:
        schema = dict(TABLES[name])
        if ids_as_category and name != "patients":
            schema["patient_id"] = "category"
        path = base / "tables" / f"{name}.{fmt}"
        if fmt == "parquet":
            df = pd.read_parquet(path)
            for col, dtype in schema.items():
                df[col] = df[col].astype(dtype)
        else:
            df = pd.read_csv(path, dtype=schema, keep_default_na=True)
        for col, dtype in schema.items():
            if dtype == "string" and df[col].isna().any():
                df[col] = df[col].fillna("")
        out[name] = df
    return out


def load_cohort(directory: str | Path | None = None) -> dict[str, pd.DataFrame]:
    """The tidy tables of a generated cohort, with dtypes restored.

    ``directory`` is a cohort directory (with ``manifest.json``) or a data directory holding
    ``cohort/``. Returns a mapping of table name to DataFrame.
    """
    from kdsupport.records.bundled import data_dir

    base = Path(directory) if directory is not None else data_dir() / "cohort"
    if not (base / "manifest.json").exists() and (base / "cohort" / "manifest.json").exists():
        base = base / "cohort"
    return read_tables(base)
