"""Reading a cohort's tables that someone else may have written (``kdsupport screen DIR``).

The cohort's ``manifest.json`` is checked first and the whole run is refused (exit 2) when it
is not a kdsupport cohort: not ``synthetic: true``, an unknown format, a table it does not
list, or a table whose sha256 differs from the one it lists.

Inside the tables every cell is parsed strictly, column by column: only an empty cell is
missing; ``abc`` in a number column, ``inf``, ``nan`` or ``yes`` are **invalid**, never missing.
Every bad cell, duplicated or empty patient id, orphan row (a patient not in
``patients.csv``), short or long row, duplicated row key, missing column and unknown column is
reported as ``(patient id, field, message)``; the patients concerned are left out, and the
rest are screened. The returned tables have the generator's dtypes
(:data:`kdsupport.synthetic.TABLES`).

For training and audit with synthetic patients; not a medical device.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from kdsupport.errors import InvalidInputError, Problem

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "COHORT_FORMAT",
    "MAX_TABLE_BYTES",
    "MAX_MANIFEST_BYTES",
    "read_manifest",
    "read_cohort_tables",
]

COHORT_FORMAT = "kdsupport-cohort/1"
#: Size caps (bytes) of one table and of a manifest; a 100,000-patient cohort's largest table
#: is about 40 MB.
MAX_TABLE_BYTES = 1024 * 1024 * 1024
MAX_MANIFEST_BYTES = 64 * 1024 * 1024

# Keys that identify a row within a patient (a duplicate makes the patient's history ambiguous).
ROW_KEYS = {
    "patients": (),
    "trials": ("trial",),
    "ect": ("course",),
    "screening": ("item",),
    "assessments": ("index",),
    "assessment_items": ("index", "item"),
    "cssrs": ("index",),
    "sessions": ("number",),
    "vitals": ("number", "minute"),
    "moaas": ("number", "minute"),
}
_TRUE_TEXT = ["True", "true", "TRUE"]
_BOOL_TEXT = [*_TRUE_TEXT, "False", "false", "FALSE"]

Problems = list[tuple[str, str, str]]


def _refuse(base: Path, message: str) -> InvalidInputError:
    return InvalidInputError([Problem("manifest.json", message)], str(base))


def read_manifest(base: Path) -> dict[str, Any]:
    """The cohort manifest, checked: format, ``synthetic: true``, table format, file hashes.

    Raises
    ------
    InvalidInputError
        When the manifest is missing, unreadable or not a synthetic kdsupport cohort's.
    """
    from kdsupport.input_gate import parse_json, read_text_file

    text = read_text_file(base / "manifest.json", limit=MAX_MANIFEST_BYTES)
    try:
        manifest = parse_json(text)
    except ValueError as exc:
        raise _refuse(base, f"not valid JSON: {str(exc).splitlines()[0]}") from None
    if not isinstance(manifest, dict):
        raise _refuse(base, "must be a JSON object")
    if manifest.get("format") != COHORT_FORMAT:
        raise _refuse(base, f"format must be {COHORT_FORMAT!r}, got {manifest.get('format')!r}")
    if manifest.get("synthetic") is not True:
        raise _refuse(
            base,
            "synthetic must be true: kdsupport screens synthetic cohorts only; this cohort is "
            "refused",
        )
    if manifest.get("table_format") not in ("csv", "parquet"):
        raise _refuse(
            base, f"table_format must be 'csv' or 'parquet', got {manifest.get('table_format')!r}"
        )
    files = manifest.get("files")
    if not isinstance(files, dict) or not all(
        isinstance(k, str) and isinstance(v, str) and re.fullmatch(r"[0-9a-f]{64}", v)
        for k, v in files.items()
    ):
        raise _refuse(base, "files must map each file to its sha256 (64 hexadecimal digits)")
    return manifest


def _table_bytes(base: Path, manifest: dict[str, Any], name: str) -> bytes:
    from kdsupport.input_gate import read_bytes

    rel = f"tables/{name}.{manifest['table_format']}"
    expected = manifest["files"].get(rel)
    if expected is None:
        raise _refuse(base, f"does not list {rel}; the cohort is incomplete")
    data = read_bytes(base / rel, limit=MAX_TABLE_BYTES)
    if hashlib.sha256(data).hexdigest() != expected:
        raise _refuse(
            base,
            f"the sha256 of {rel} does not match the manifest: the table was changed after the "
            "cohort was written; refused",
        )
    return data


# ---------------------------------------------------------------- parsing
def _path(table: str, line: int, column: str) -> str:
    return f"{table}.{column} (line {line})"


def _show(text: str) -> str:
    from kdsupport.input_gate import quote_key

    return quote_key(text) if not re.fullmatch(r"[A-Za-z0-9_.+\- ]{0,40}", text) else repr(text)


def _convert(
    values: np.ndarray, dtype: str, *, check_text: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray, str]:
    """Parse text cells: (values, missing-or-bad mask, bad mask, what was expected)."""
    import pandas as pd

    missing = values == ""
    if dtype in ("Int64", "Float64"):
        numbers = pd.to_numeric(pd.Series(values, dtype=object), errors="coerce").to_numpy(
            dtype=np.float64, na_value=np.nan
        )
        ok = np.isfinite(numbers)
        if dtype == "Int64":
            ok &= np.abs(np.where(ok, numbers, 0)) < 2**53
            ok[ok] &= numbers[ok] == np.round(numbers[ok])
        bad = ~missing & ~ok
        clean = np.where(ok, numbers, 0)
        out = clean.astype(np.int64) if dtype == "Int64" else clean
        what = "a whole number" if dtype == "Int64" else "a finite decimal number"
        return out, missing | bad, bad, what
    if dtype == "boolean":
        ok = np.isin(values, _BOOL_TEXT)
        bad = ~missing & ~ok
        return np.isin(values, _TRUE_TEXT), missing | bad, bad, "True or False"
    bad = np.zeros(len(values), bool)
    if check_text:  # the file was not valid UTF-8: find the cells that hold the bad bytes
        bad = pd.Series(values, dtype=object).str.contains("[\udc80-\udcff]").to_numpy(bool)
    return values, (missing | bad) if dtype != "string" else bad, bad, "UTF-8 text"


def _column_frame(name: str, columns: dict[str, np.ndarray], n: int) -> pd.DataFrame:
    """A typed frame from parsed columns (the generator's dtypes)."""
    import pandas as pd

    from kdsupport.synthetic import TABLES

    data: dict[str, Any] = {}
    for col, dtype in TABLES[name].items():
        if col in columns:
            values, mask = columns[col]
        else:  # a missing column: every value unknown (the rows are reported and left out)
            mask = np.ones(n, dtype=bool)
            values = np.zeros(n, dtype=np.float64) if dtype != "string" else np.full(n, "", object)
        if dtype == "Int64":
            data[col] = pd.arrays.IntegerArray(values.astype(np.int64), mask)
        elif dtype == "Float64":
            data[col] = pd.arrays.FloatingArray(values.astype(np.float64), mask)
        elif dtype == "boolean":
            data[col] = pd.arrays.BooleanArray(values.astype(bool), mask)
        elif dtype == "string":
            data[col] = pd.Series(values, dtype=object).where(~mask, "").astype(dtype)
        else:
            data[col] = pd.Series(values, dtype=object).where(~mask, None).astype(dtype)
    return pd.DataFrame(data)


def _parse_csv(name: str, data: bytes, problems: Problems) -> tuple[pd.DataFrame, np.ndarray]:
    from kdsupport.case import WHEN_PATTERN
    from kdsupport.synthetic import TABLES

    schema = TABLES[name]
    try:
        text, check_text = data.decode("utf-8"), False
    except UnicodeDecodeError:
        text, check_text = data.decode("utf-8", errors="surrogateescape"), True
    text = text.removeprefix("\ufeff")
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, [])
        rows: list[list[str]] = []
        lines: list[int] = []
        for row in reader:
            if row:  # blank lines carry nothing
                rows.append(row)
                lines.append(reader.line_num)
    except csv.Error as exc:
        problems.append(("*", f"{name}.csv (line {reader.line_num})", f"not valid CSV: {exc}"))
        return _column_frame(name, {}, 0), np.zeros(0, np.int64)
    width = len(header)
    seen: set[str] = set()
    for col in header:
        if col in seen:
            problems.append(("*", f"{name}.csv", f"column {_show(col)} appears twice"))
        elif col not in schema:
            problems.append(("*", f"{name}.csv", f"unknown column {_show(col)}"))
        seen.add(col)
    id_at = header.index("patient_id") if "patient_id" in header else None
    good_rows, good_lines = [], []
    for row, line in zip(rows, lines, strict=True):
        if len(row) != width:
            pid = row[id_at] if id_at is not None and id_at < len(row) else ""
            problems.append(
                (
                    pid,
                    f"{name}.csv (line {line})",
                    f"the row has {len(row)} fields; the header has {width}",
                )
            )
            continue
        good_rows.append(row)
        good_lines.append(line)
    n = len(good_rows)
    matrix = (
        np.array(good_rows, dtype=object).reshape(n, width) if n else np.empty((0, width), object)
    )
    row_lines = np.array(good_lines, dtype=np.int64)
    ids = matrix[:, id_at] if id_at is not None else np.full(n, "", dtype=object)
    columns: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for col, dtype in schema.items():
        if col not in header:
            affected = sorted(set(ids[ids != ""])) if col != "patient_id" else ["*"]
            for pid in affected:
                problems.append((pid, f"{name}.{col}", f"column {col} is missing from {name}.csv"))
            continue
        raw = matrix[:, header.index(col)]
        values, mask, bad, expected = _convert(raw, dtype, check_text=check_text)
        if col == "when":
            valid = [w for w in set(raw.tolist()) if WHEN_PATTERN.fullmatch(w)]
            bad |= ~np.isin(raw, valid)
            mask = bad
            expected = "baseline, session-N, day-N or a date YYYY-MM-DD"
        for i in np.flatnonzero(bad):
            problems.append(
                (
                    ids[i],
                    _path(name, int(row_lines[i]), col),
                    f"must be {expected} (or empty when not known), got {_show(str(raw[i]))}",
                )
            )
        columns[col] = (values, mask)
    return _column_frame(name, columns, n), row_lines


def _parse_parquet(name: str, data: bytes, problems: Problems) -> tuple[pd.DataFrame, np.ndarray]:
    import pandas as pd

    from kdsupport.synthetic import TABLES

    try:
        raw = pd.read_parquet(io.BytesIO(data))
    except Exception as exc:  # noqa: BLE001 - any reader error is a problem of the file
        problems.append(("*", f"{name}.parquet", f"not a readable Parquet file: {exc}"))
        return _column_frame(name, {}, 0), np.zeros(0, np.int64)
    text_cols = {}
    for col in raw.columns:
        if col not in TABLES[name]:
            problems.append(("*", f"{name}.parquet", f"unknown column {_show(str(col))}"))
    for col in TABLES[name]:
        if col in raw.columns:
            series = raw[col].astype(object)
            text_cols[col] = np.array(
                [
                    ""
                    if pd.isna(v)
                    else ("True" if v is True else "False" if v is False else str(v))
                    for v in series
                ],
                dtype=object,
            )
    header = list(text_cols)
    n = len(raw)
    matrix = np.column_stack([text_cols[c] for c in header]) if header else np.empty((n, 0), object)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(matrix.tolist())
    return _parse_csv(name, buf.getvalue().encode("utf-8", errors="surrogateescape"), problems)


def _check_keys(
    tables: dict[str, pd.DataFrame], lines_of: dict[str, np.ndarray], problems: Problems
) -> None:
    """Empty or duplicated patient ids, orphan rows and duplicated row keys."""
    from kdsupport.case import ID_PATTERN

    pats = tables["patients"]
    ids = pats["patient_id"].astype(str).to_numpy(dtype=object)
    lines = lines_of["patients"]
    pattern = re.compile(ID_PATTERN)
    for i, pid in enumerate(ids):
        if pid and not pattern.fullmatch(pid):
            problems.append(
                (
                    pid,
                    _path("patients", int(lines[i]), "patient_id"),
                    "must use only lower-case letters, digits and '-' (1-64 characters)",
                )
            )
    counts: dict[str, int] = {}
    for pid in ids:
        counts[pid] = counts.get(pid, 0) + 1
    for i, pid in enumerate(ids):
        if pid == "":
            problems.append(
                ("", _path("patients", int(lines[i]), "patient_id"), "empty patient id")
            )
        elif counts[pid] > 1:
            problems.append(
                (
                    pid,
                    _path("patients", int(lines[i]), "patient_id"),
                    f"patient id appears {counts[pid]} times in patients.csv",
                )
            )
    known = set(ids)
    for name, df in tables.items():
        if name == "patients" or not len(df):
            continue
        lines = lines_of[name]
        child = df["patient_id"].astype(str).to_numpy(dtype=object)
        orphan = ~np.isin(child, list(known)) | (child == "")
        for i in np.flatnonzero(orphan):
            problems.append(
                (
                    child[i],
                    _path(name, int(lines[i]), "patient_id"),
                    "a row for a patient who is not in patients.csv",
                )
            )
        keys = ["patient_id", *ROW_KEYS.get(name, ())]
        if len(keys) > 1:
            dup = df.duplicated(subset=keys, keep=False).to_numpy() & ~orphan
            for i in np.flatnonzero(dup):
                key = ", ".join(f"{k}={df[k].iat[i]}" for k in keys[1:])
                problems.append(
                    (child[i], _path(name, int(lines[i]), keys[1]), f"duplicated row ({key})")
                )


def read_cohort_tables(
    directory: str | Path, names: Iterable[str]
) -> tuple[dict[str, pd.DataFrame], Problems]:
    """The named tables of a cohort, parsed strictly, and every problem found in them.

    Raises
    ------
    InvalidInputError
        When the manifest refuses the cohort (see :func:`read_manifest`) or a table file cannot
        be read.
    """
    base = Path(directory)
    manifest = read_manifest(base)
    problems: Problems = []
    tables, lines = {}, {}
    for name in names:
        data = _table_bytes(base, manifest, name)
        parse = _parse_csv if manifest["table_format"] == "csv" else _parse_parquet
        tables[name], lines[name] = parse(name, data, problems)
    _check_keys(tables, lines, problems)
    return tables, problems
