"""Reading a cohort's tables that someone else may have written (``kdsupport screen DIR``).

The cohort's ``manifest.json`` is checked first and the whole run is refused (exit 2) when it
is not a kdsupport cohort: not ``synthetic: true``, an unknown format, a table it does not
list, or a table whose sha256 differs from the one it lists. Each table's sha256 is computed
in a streaming pass **before** a row is parsed, so a tampered table costs one read, not its
size in memory; the rows are then parsed in chunks (see :data:`MAX_TABLE_BYTES`).

Inside the tables every cell is parsed strictly, column by column: only an empty cell is
missing; ``abc`` in a number column, ``inf``, ``nan`` or ``yes`` are **invalid**, never missing,
and an empty cell is invalid where the case-record format requires a value (for example
``patients.age_years``). Every bad cell, duplicated or empty patient id, orphan row (a patient
not in ``patients.csv``), short or long row, oversized cell, duplicated row key, missing
column, unknown column and list longer than a case record may hold
(:data:`kdsupport.records.case.LIMITS`)
is reported as ``(patient id, field, message)``; the patients concerned are left out, and the
rest are screened. A table that cannot be read at all is reported in one line and no patient
is screened (every patient's history would be incomplete). The returned tables have the
generator's dtypes (:data:`kdsupport.cohort.generator.TABLES`).

For training and audit with synthetic patients; not a medical device.
"""

from __future__ import annotations

import codecs
import csv
import functools
import hashlib
import io
import itertools
import re
import typing
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import numpy as np

from kdsupport.errors import InvalidInputError, Problem

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "COHORT_FORMAT",
    "MAX_TABLE_BYTES",
    "MAX_TABLES_BYTES",
    "MAX_MANIFEST_BYTES",
    "read_manifest",
    "read_cohort_tables",
]

COHORT_FORMAT = "kdsupport-cohort/1"
#: Size caps (bytes) of one table, and of all the tables one ``screen`` run reads together.
#: A table's sha256 is checked in a streaming pass (a tampered table costs no memory); the
#: rows are then parsed in chunks into typed columns, and screening holds the parsed tables.
#: Peak RSS of ``kdsupport screen``, measured on the reference machine (24 GiB, 2 cores):
#:
#: * trials-heavy (1000 trials per patient, 5000 patients): a 64 MB trials table 0.50 GB,
#:   128 MB 0.82 GB, 255 MB 1.45 GB (about 5 times the table; before chunked parsing, 64 MB
#:   took 1.57 GB and 300 MB 6.5 GB);
#: * patients-heavy (3.3 million patients in a 255 MB patients table): 4.3 GB, since every
#:   patient is screened (about 17 times the table);
#: * a 200,000-patient generated cohort (the largest ``kdsupport generate`` makes; its tables
#:   for screening total 285 MB, the largest 147 MB): 1.4 GB.
#:
#: With a patients table at the per-table cap and the rest of the total cap in another table,
#: a run stays near 6 GB, a quarter of the machine.
MAX_TABLE_BYTES = 256 * 1024 * 1024
MAX_TABLES_BYTES = 512 * 1024 * 1024
#: Size cap (bytes) of a cohort manifest (a JSON object listing one hash per file).
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
# The case-record models behind each table's columns (which cells a record requires).
_MODELS = {
    "patients": ("Patient", "Diagnosis", "Vitals"),
    "trials": ("Trial",),
    "ect": ("ECTCourse",),
    "assessments": ("Administration",),
    "cssrs": ("CSSRSAnswers",),
    "sessions": ("Session",),
    "vitals": ("VitalReading",),
    "moaas": ("MOAASReading",),
}
# Tables that hold a list of a case record: (grouping columns, model, list field, words).
_LISTS = {
    "trials": (("patient_id",), "CaseRecord", "trials", "trials"),
    "ect": (("patient_id",), "CaseRecord", "ect", "ECT courses"),
    "assessments": (("patient_id",), "CaseRecord", "assessments", "assessments"),
    "cssrs": (("patient_id",), "CaseRecord", "assessments", "assessments"),
    "assessment_items": (
        ("patient_id", "index"),
        "Administration",
        "items",
        "items per assessment",
    ),
    "sessions": (("patient_id",), "CaseRecord", "sessions", "sessions"),
    "vitals": (("patient_id", "number"), "Session", "vitals", "vital-sign readings per session"),
    "moaas": (("patient_id", "number"), "Session", "moaas", "MOAA/S readings per session"),
}
_TRUE_TEXT = ["True", "true", "TRUE"]
_BOOL_TEXT = [*_TRUE_TEXT, "False", "false", "FALSE"]
_CHUNK_ROWS = 20_000  # rows parsed at a time: bounds the memory of the text being parsed
_READ_BYTES = 1 << 20
# A chunk whose lines average more characters than this is read row by row by csv (a plain
# chunk's text is held whole while it is split; generated tables' lines are under 128).
_PLAIN_LINE_CHARS = 256
_ID_TEXT = re.compile(r"[a-z0-9-]{1,64}")

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
    from kdsupport.files.input_gate import parse_json, read_text_file

    text = read_text_file(
        base / "manifest.json",
        limit=MAX_MANIFEST_BYTES,
        what="a cohort manifest (kdsupport.cohort.tables.MAX_MANIFEST_BYTES)",
    )
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


def _digest(fh: IO[bytes], name: str) -> tuple[str, bool]:
    """The sha256 of an open table (read in 1 MiB pieces) and whether it is valid UTF-8."""
    from kdsupport.files.input_gate import os_error_message

    fh.seek(0)
    sha = hashlib.sha256()
    utf8 = codecs.getincrementaldecoder("utf-8")()
    valid, total = True, 0
    try:
        while chunk := fh.read(_READ_BYTES):
            total += len(chunk)
            if total > MAX_TABLE_BYTES:
                raise InvalidInputError(
                    [Problem("", f"the table grew beyond {MAX_TABLE_BYTES:,} bytes while read")],
                    name,
                )
            sha.update(chunk)
            if valid:
                try:
                    utf8.decode(chunk)
                except UnicodeDecodeError:
                    valid = False
        if valid:
            try:
                utf8.decode(b"", final=True)
            except UnicodeDecodeError:
                valid = False
    except OSError as exc:
        raise InvalidInputError([Problem("", os_error_message(exc))], name) from None
    return sha.hexdigest(), valid


def _open_table(base: Path, manifest: dict[str, Any], name: str) -> tuple[IO[bytes], bool]:
    """The table's file, open and checked against the manifest's sha256 before any parsing.

    Returns the open file (at its start) and whether it is valid UTF-8. Nothing of the table
    is kept in memory: a table that does not match is refused after one streaming read.
    """
    from kdsupport.files.input_gate import open_regular

    rel = f"tables/{name}.{manifest['table_format']}"
    expected = manifest["files"].get(rel)
    if expected is None:
        raise _refuse(base, f"does not list {rel}; the cohort is incomplete")
    fh = open_regular(
        base / rel,
        limit=MAX_TABLE_BYTES,
        what="one table (kdsupport.cohort.tables.MAX_TABLE_BYTES)",
    )
    try:
        digest, utf8 = _digest(fh, str(base / rel))
        if digest != expected:
            raise _refuse(
                base,
                f"the sha256 of {rel} does not match the manifest: the table was changed after "
                "the cohort was written; refused",
            )
        fh.seek(0)
    except BaseException:
        fh.close()
        raise
    return fh, utf8


# ---------------------------------------------------------------- the record model's rules
def _model(name: str) -> Any:
    from kdsupport.records import case

    return getattr(case, name)


def _accepts_none(annotation: Any) -> bool:
    return annotation is type(None) or type(None) in typing.get_args(annotation)


@functools.cache
def _required_columns(name: str) -> frozenset[str]:
    """Columns whose cell a case record requires: the row keys, and non-nullable fields."""
    from kdsupport.cohort.schema import TABLES

    required = {"patient_id", *ROW_KEYS.get(name, ())}
    for col in TABLES[name]:
        for model in map(_model, _MODELS.get(name, ())):
            field = model.model_fields.get(col)
            if field is not None:
                if not _accepts_none(field.annotation):
                    required.add(col)
                break
    return frozenset(required)


def _record_field(name: str, col: str) -> str:
    """The case-record path of a table column, for messages."""
    prefix = {"Patient": "patient", "Diagnosis": "diagnosis", "Vitals": "vitals"}
    for model_name in _MODELS.get(name, ()):
        if col in _model(model_name).model_fields:
            return f"{prefix.get(model_name, name)}.{col}"
    return f"{name}.{col}"


@functools.cache
def max_list_entries(model_name: str, field: str) -> int:
    """The most entries a case record allows in a list field (its ``max_length``)."""
    from kdsupport.records.case import LIMITS

    annotation = _model(model_name).model_fields[field].annotation
    for arg in (annotation, *typing.get_args(annotation)):
        for meta in getattr(arg, "__metadata__", ()):
            for m in (meta, *getattr(meta, "metadata", ())):
                limit = getattr(m, "max_length", None)
                if isinstance(limit, int):
                    return limit
    return LIMITS["list"]


# ---------------------------------------------------------------- parsing
def _path(table: str, line: int, column: str) -> str:
    return f"{table}.{column} (line {line})"


def _show(text: str) -> str:
    from kdsupport.files.input_gate import quote_key

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


def _column_frame(name: str, columns: dict[str, Any], n: int) -> pd.DataFrame:
    """A typed frame from parsed columns (the generator's dtypes)."""
    import pandas as pd

    from kdsupport.cohort.schema import TABLES

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


class _Table:
    """A table parsed chunk by chunk: typed columns, row lines, and every problem found.

    Text cells are shared between rows (one string object per distinct value), so a table in
    memory takes a few bytes per cell rather than a Python string per cell.
    """

    def __init__(self, name: str, header: list[str], *, check_text: bool, problems: Problems):
        from kdsupport.cohort.schema import TABLES

        self.name = name
        self.schema = TABLES[name]
        self.header = header
        self.width = len(header)
        self.check_text = check_text
        self.problems = problems
        self._first_problem = len(problems)  # this table's problems start here
        self.id_at = header.index("patient_id") if "patient_id" in header else None
        self.at = {col: header.index(col) for col in self.schema if col in header}
        self.parts: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {c: [] for c in self.at}
        self.id_parts: list[np.ndarray] = []
        self.line_parts: list[np.ndarray] = []
        self.lost: set[str] = set()  # patients with a row that could not be read
        self.refused = False
        self._shared: dict[str, str] = {}
        self._required = _required_columns(name)
        # reported with the rows, unless the whole table is refused (then one line says so)
        self.header_problems: Problems = []
        seen: set[str] = set()
        for col in header:
            if col in seen:
                self.header_problems.append(
                    ("*", f"{name}.csv", f"column {_show(col)} appears twice")
                )
            elif col not in self.schema:
                self.header_problems.append(("*", f"{name}.csv", f"unknown column {_show(col)}"))
            seen.add(col)

    def lose_row(self, pid: str, line: int, message: str) -> None:
        """A row that could not be read: report it once, and remember its patient."""
        self.problems.append((pid, f"{self.name}.csv (line {line})", message))
        self.lost.add(pid)

    def add(self, rows: list[list[str]], lines: list[int]) -> None:
        """Parse a chunk of rows (each a list of cells) read from the given lines."""
        good_rows, good_lines = [], []
        id_at = self.id_at
        for row, line in zip(rows, lines, strict=True):
            if len(row) != self.width:
                pid = row[id_at] if id_at is not None and id_at < len(row) else ""
                self.lose_row(
                    pid, line, f"the row has {len(row)} fields; the header has {self.width}"
                )
                continue
            good_rows.append(row)
            good_lines.append(line)
        if not good_rows:
            return
        import pandas as pd

        matrix = np.empty((len(good_rows), self.width), dtype=object)
        matrix[:] = good_rows
        del good_rows
        columns = {col: pd.factorize(matrix[:, at]) for col, at in self.at.items()}
        self.add_columns(len(matrix), columns, np.array(good_lines, dtype=np.int64))

    def add_columns(self, n: int, columns: dict[str, Any], row_lines: np.ndarray) -> None:
        """Parse a chunk of ``n`` rows, one per line given, from its factorized columns.

        ``columns`` holds each column's (codes, texts): its distinct texts, and which one each
        row holds. Each text is parsed once (a chunk holds few: categories, flags, small
        numbers); every check is cell by cell, so each cell gets what its text gets.
        """
        parsed = {}
        for col, (codes, texts) in columns.items():
            parsed[col] = (codes, texts, *self._parse_texts(col, texts))
        if "patient_id" in parsed:  # the column's texts, as they are (one object per text)
            ids = parsed["patient_id"][2][parsed["patient_id"][0]]
        else:
            ids = np.full(n, "", object)
        for col, (codes, texts, values, mask, bad, expected) in parsed.items():
            for i in np.flatnonzero(bad[codes]):
                self.problems.append(
                    (
                        ids[i],
                        _path(self.name, int(row_lines[i]), col),
                        f"must be {expected} (or empty when not known), "
                        f"got {_show(str(texts[codes[i]]))}",
                    )
                )
            if col in self._required and col != "patient_id":
                why = (
                    "it identifies the row within the patient's history"
                    if col in ROW_KEYS.get(self.name, ())
                    else f"a case record requires {_record_field(self.name, col)}"
                )
                for i in np.flatnonzero(((texts == "") & ~bad)[codes]):
                    self.problems.append(
                        (
                            ids[i],
                            _path(self.name, int(row_lines[i]), col),
                            f"must not be empty: {why}",
                        )
                    )
            self.parts[col].append((values[codes], mask[codes]))
        self.id_parts.append(ids)
        self.line_parts.append(row_lines)

    def _parse_texts(
        self, col: str, texts: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, str]:
        """A column's distinct texts parsed: (values, missing-or-bad, bad, what was expected)."""
        from kdsupport.records.case import WHEN_PATTERN

        values, mask, bad, expected = _convert(texts, self.schema[col], check_text=self.check_text)
        if col == "when":
            valid = [w for w in set(texts.tolist()) if WHEN_PATTERN.fullmatch(w)]
            bad |= ~np.isin(texts, valid)
            mask = bad
            expected = "baseline, session-N, day-N or a date YYYY-MM-DD"
        if values.dtype == object:  # one text object per distinct value, across chunks
            values = np.array([self._shared.setdefault(v, v) for v in values.tolist()], object)
        return values, mask, bad, expected

    def finish(self) -> tuple[pd.DataFrame, np.ndarray]:
        """The typed frame and each row's line number."""
        n = sum(len(x) for x in self.line_parts)
        lines = np.concatenate(self.line_parts) if self.line_parts else np.zeros(0, np.int64)
        ids = np.concatenate(self.id_parts) if self.id_parts else np.zeros(0, object)
        if "patient_id" not in self.parts:  # no row can be given to a patient
            return self.refuse(f"{self.name}.csv", "column patient_id is missing")
        self.problems.extend(self.header_problems)
        columns: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        for col in self.schema:
            parts = self.parts.get(col)
            if parts is None:  # a column missing from the header
                affected = sorted(set(ids[ids != ""]))
                for pid in affected:
                    self.problems.append(
                        (pid, f"{self.name}.{col}", f"column {col} is missing from {self.name}.csv")
                    )
                continue
            if parts:  # no parts: no rows, and _column_frame makes an empty column
                columns[col] = (
                    np.concatenate([v for v, _ in parts]),
                    np.concatenate([m for _, m in parts]),
                )
            parts.clear()
        return _column_frame(self.name, columns, n), lines

    def refuse(self, where: str, why: str) -> tuple[pd.DataFrame, np.ndarray]:
        """The whole table cannot be read: one line (instead of its rows' problems), no rows."""
        self.refused = True
        del self.problems[self._first_problem :]
        self.problems.append(
            (
                "*",
                where,
                f"{why.rstrip('. ')}; the table is refused, and no patient is screened without it",
            )
        )
        return _column_frame(self.name, {}, 0), np.zeros(0, np.int64)


def _id_in_line(line: str, id_at: int | None) -> str:
    """The patient id of a raw CSV line that could not be parsed, when it can be told."""
    if id_at is None:
        return ""
    parts = line.split(",", id_at + 1)
    if len(parts) <= id_at:
        return ""
    candidate = parts[id_at].strip("\r\n")
    return candidate if _ID_TEXT.fullmatch(candidate) else ""


def _tracked(lines: Iterable[str], last: list[str]) -> Iterator[str]:
    """The lines, each remembered in ``last[0]`` as it is handed on (for :func:`_id_in_line`)."""
    for line in lines:
        last[0] = line
        yield line


def _parse_csv(
    name: str, fh: IO[bytes], *, utf8: bool, problems: Problems
) -> tuple[pd.DataFrame, np.ndarray, _Table]:
    """Parse a CSV table from an open file, streaming: a chunk of rows at a time.

    The header is read by :mod:`csv`. The rows are then taken ``_CHUNK_ROWS`` lines at a time
    and split column-wise (:func:`_plain_columns`) while a chunk holds only plain lines; from the
    first chunk that does not (a quote, a carriage return, a blank line, a row of another width,
    an oversized cell, or a file that is not valid UTF-8), :mod:`csv` reads the rest row by row.
    Both give the same cells, line numbers, chunks and problems.
    """
    text = io.TextIOWrapper(fh, encoding="utf-8-sig", errors="surrogateescape", newline="")
    last = [""]
    reader = csv.reader(_tracked(text, last), strict=True)
    try:
        try:
            header: list[str] = next(reader, [])
        except csv.Error as exc:
            table = _Table(name, [], check_text=not utf8, problems=problems)
            where = f"{name}.csv (line {reader.line_num})"
            return (*table.refuse(where, f"not valid CSV: {exc}"), table)
        table = _Table(name, header, check_text=not utf8, problems=problems)
        done, rest = reader.line_num, ""
        if utf8 and table.width:
            done, plain_rest = _read_plain(table, text, done)
            if plain_rest is None:
                return (*table.finish(), table)
            rest = plain_rest
        rows = _tracked(itertools.chain(io.StringIO(rest, newline=""), text), last)
        return _read_csv_rows(table, csv.reader(rows, strict=True), last, done)
    finally:
        text.detach()  # the caller still reads the file (its hash once more) and closes it


def _take_lines(text: IO[str], buffer: str, n: int) -> tuple[str, str, bool]:
    """The next ``n`` lines of the text (fewer at its end), and the text read beyond them.

    The third value says whether the lines are whole: ``False`` when ``n`` lines would average
    more than ``_PLAIN_LINE_CHARS`` characters (the text read so far is returned, for csv).
    """
    budget, piece = n * _PLAIN_LINE_CHARS, n * _PLAIN_LINE_CHARS // 4
    parts, count, size = [buffer], buffer.count("\n"), len(buffer)
    while count < n:
        if size >= budget:
            return "".join(parts), "", False
        more = text.read(piece)
        if not more:
            break
        parts.append(more)
        count, size = count + more.count("\n"), size + len(more)
    block = "".join(parts)
    if count < n:  # the end of the text
        return block, "", True
    data = block.encode("utf-8", "surrogateescape")
    cut = int(np.flatnonzero(np.frombuffer(data, np.uint8) == ord("\n"))[n - 1])
    head = data[: cut + 1].decode("utf-8", "surrogateescape")
    return head, block[len(head) :], True


def _plain_columns(
    block: str, width: int, limit: int, wanted: dict[str, int]
) -> tuple[int, dict[str, Any]] | None:
    """The rows of whole lines split at commas: their number and the ``wanted`` columns.

    Each wanted column (name: position) comes factorized, as (codes, texts). Splitting reads
    the lines as :mod:`csv` would when they hold no quote, no carriage return, no NUL and no
    blank line, every line has ``width`` cells and no cell is longer than ``limit``;
    otherwise ``None`` is returned and the lines are read by csv.
    """
    import pandas as pd

    if not block.endswith("\n"):  # the last line of the file
        block += "\n"
    if any(c in block for c in ('"', "\r", "\x00", "\n\n")) or block.startswith(("\n", "\ufeff")):
        return None
    data = block.encode("utf-8", "surrogateescape")
    raw = np.frombuffer(data, np.uint8)
    ends = np.flatnonzero((raw == ord(",")) | (raw == ord("\n")))  # each cell's end
    n = block.count("\n")
    if len(ends) != n * width or not (raw[ends[width - 1 :: width]] == ord("\n")).all():
        return None
    if int(np.diff(ends, prepend=-1).max()) - 1 > limit:  # bytes: never fewer than characters
        return None
    arrow = _arrow_csv()
    columns = _arrow_columns(arrow, data, width, wanted, n) if arrow is not None else None
    if columns is not None:
        return n, columns
    cells = np.array(block.replace("\n", ",").split(","), dtype=object)[:-1].reshape(n, width)
    return n, {col: pd.factorize(cells[:, at]) for col, at in wanted.items()}


@functools.cache
def _arrow_csv() -> Any:
    """The CSV reader of pyarrow, when it is installed (``kdsupport[notebooks]``); else None."""
    try:
        import pyarrow.csv
    except ImportError:
        return None
    return pyarrow.csv


def _arrow_columns(
    arrow: Any, data: bytes, width: int, wanted: dict[str, int], n: int
) -> dict[str, Any] | None:
    """The wanted columns of ``n`` plain lines (see :func:`_plain_columns`), read by pyarrow.

    Every cell is read as text, as it is: no quoting, no missing values, no type guessing.
    ``None`` if pyarrow does not find ``n`` rows (then the lines are split by Python).
    """
    import pyarrow as pa

    names = [str(i) for i in range(width)]
    table = arrow.read_csv(
        pa.BufferReader(data),
        read_options=arrow.ReadOptions(column_names=names, use_threads=False),
        parse_options=arrow.ParseOptions(
            quote_char=False, escape_char=False, newlines_in_values=False, ignore_empty_lines=False
        ),
        convert_options=arrow.ConvertOptions(
            column_types={name: pa.string() for name in names},
            include_columns=sorted({names[at] for at in wanted.values()}),
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
        ),
    )
    if table.num_rows != n:
        return None
    columns = {}
    for col, at in wanted.items():
        encoded = table.column(names[at]).combine_chunks().dictionary_encode()
        texts = np.asarray(encoded.dictionary.to_numpy(zero_copy_only=False), dtype=object)
        columns[col] = (encoded.indices.to_numpy(zero_copy_only=False), texts)
    return columns


def _read_plain(table: _Table, text: IO[str], done: int) -> tuple[int, str | None]:
    """Add the chunks of plain rows that follow line ``done``.

    Returns the number of lines read, and the text of the first chunk that is not plain with
    what was read beyond it (to be read by csv), or ``None`` at the end of the file.
    """
    limit = csv.field_size_limit()
    buffer = ""
    while True:
        block, buffer, whole = _take_lines(text, buffer, _CHUNK_ROWS)
        if not block:
            return done, None
        plain = _plain_columns(block, table.width, limit, table.at) if whole else None
        if plain is None:
            rest = block + buffer
            if not rest.endswith("\n"):  # end it where a line ends, as the file's lines do
                rest += text.readline()
            return done, rest
        n, columns = plain
        table.add_columns(n, columns, np.arange(done + 1, done + 1 + n, dtype=np.int64))
        done += n


def _read_csv_rows(
    table: _Table, reader: Any, last: list[str], done: int
) -> tuple[pd.DataFrame, np.ndarray, _Table]:
    """Read the rows that follow line ``done`` with :mod:`csv`, row by row."""
    name = table.name
    rows: list[list[str]] = []
    row_lines: list[int] = []
    limit = csv.field_size_limit()
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            if "field larger than field limit" not in str(exc):
                where = f"{name}.csv (line {done + reader.line_num})"
                return (*table.refuse(where, f"not valid CSV: {exc}"), table)
            table.lose_row(
                _id_in_line(last[0], table.id_at),
                done + reader.line_num,
                f"a cell is longer than {limit:,} characters (the most a cell may hold); "
                "the row is left out",
            )
            continue
        if row:  # blank lines carry nothing
            rows.append(row)
            row_lines.append(done + reader.line_num)
            if len(rows) >= _CHUNK_ROWS:
                table.add(rows, row_lines)
                rows, row_lines = [], []
    table.add(rows, row_lines)
    return (*table.finish(), table)


def _cell_text(values: Any) -> list[str]:
    import pandas as pd

    return [
        "" if pd.isna(v) else ("True" if v is True else "False" if v is False else str(v))
        for v in values
    ]


def _parse_parquet(
    name: str, fh: IO[bytes], *, utf8: bool, problems: Problems
) -> tuple[pd.DataFrame, np.ndarray, _Table]:
    """Parse a Parquet table a batch of rows at a time, as text cells (like a CSV's)."""
    try:
        import pyarrow.parquet as pq

        pf = pq.ParquetFile(fh)
        header = [str(c) for c in pf.schema_arrow.names]
    except Exception as exc:  # noqa: BLE001 - any reader error is a problem of the file
        table = _Table(name, [], check_text=False, problems=problems)
        return (*table.refuse(f"{name}.parquet", f"not a readable Parquet file: {exc}"), table)
    table = _Table(name, header, check_text=False, problems=problems)
    first = 2  # the line a row would have in the CSV form (the header is line 1)
    try:
        for batch in pf.iter_batches(batch_size=_CHUNK_ROWS):
            frame = batch.to_pandas()
            cols = [_cell_text(frame[c].astype(object)) for c in frame.columns]
            rows = [list(r) for r in zip(*cols, strict=True)] if cols else []
            table.add(rows, list(range(first, first + len(rows))))
            first += len(rows)
    except Exception as exc:  # noqa: BLE001 - any reader error is a problem of the file
        return (*table.refuse(f"{name}.parquet", f"not a readable Parquet file: {exc}"), table)
    return (*table.finish(), table)


def _check_lists(tables: dict[str, pd.DataFrame], problems: Problems) -> None:
    """Patients with more rows in a table than a case record allows in that list."""
    for name, (keys, model_name, field, words) in _LISTS.items():
        df = tables.get(name)
        if df is None or not len(df):
            continue
        cap = max_list_entries(model_name, field)
        sizes = df.groupby(list(keys), sort=False, observed=True).size()
        over = sizes[sizes > cap]
        if not len(over):
            continue
        worst: dict[str, int] = {}
        for key, count in over.items():
            pid = str(key[0] if isinstance(key, tuple) else key)
            worst[pid] = max(worst.get(pid, 0), int(count))
        for pid, count in worst.items():
            problems.append(
                (
                    pid,
                    f"{name}.csv",
                    f"{count:,} rows for one patient; a case record allows at most {cap:,} "
                    f"{words} ({model_name}.{field})",
                )
            )


def _check_keys(
    tables: dict[str, pd.DataFrame],
    lines_of: dict[str, np.ndarray],
    problems: Problems,
    *,
    lost: set[str],
) -> None:
    """Empty or duplicated patient ids, orphan rows and duplicated row keys.

    Rows of the patients in ``lost`` (whose ``patients.csv`` row could not be read and was
    reported) are not reported again as orphans.
    """
    import pandas as pd

    from kdsupport.records.case import ID_PATTERN

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
    known = set(ids) | (lost - {""})
    for name, df in tables.items():
        if name == "patients" or not len(df):
            continue
        lines = lines_of[name]
        child = df["patient_id"].astype(str).to_numpy(dtype=object)
        orphan = ~pd.Series(child, dtype=object).isin(known).to_numpy(bool) | (child == "")
        for row in np.flatnonzero(orphan):
            problems.append(
                (
                    child[row],
                    _path(name, int(lines[row]), "patient_id"),
                    "a row for a patient who is not in patients.csv",
                )
            )
        keys = ["patient_id", *ROW_KEYS.get(name, ())]
        if len(keys) > 1:
            dup = df.duplicated(subset=keys, keep=False).to_numpy() & ~orphan
            for row in np.flatnonzero(dup):
                key = ", ".join(f"{k}={df[k].iat[int(row)]}" for k in keys[1:])
                problems.append(
                    (child[row], _path(name, int(lines[row]), keys[1]), f"duplicated row ({key})")
                )


def _check_total_size(base: Path, manifest: dict[str, Any], names: list[str]) -> None:
    """Refuse the run before any parsing when the tables together exceed the total cap."""
    total = 0
    for name in names:
        try:  # an unreadable table is reported when it is opened
            total += (base / f"tables/{name}.{manifest['table_format']}").stat().st_size
        except OSError:
            continue
    if total > MAX_TABLES_BYTES:
        raise InvalidInputError(
            [
                Problem(
                    "tables",
                    f"the tables screening reads are {total:,} bytes together; the limit is "
                    f"{MAX_TABLES_BYTES:,} bytes (kdsupport.cohort.tables.MAX_TABLES_BYTES)",
                )
            ],
            str(base),
        )


def read_cohort_tables(
    directory: str | Path, names: Iterable[str]
) -> tuple[dict[str, pd.DataFrame], Problems]:
    """The named tables of a cohort, parsed strictly, and every problem found in them.

    When a table cannot be read at all, its one problem is reported and every table is returned
    empty: no patient can be screened on part of their history.

    Raises
    ------
    InvalidInputError
        When the manifest refuses the cohort (see :func:`read_manifest`) or a table file cannot
        be read or does not match the manifest's sha256.
    """
    base = Path(directory)
    manifest = read_manifest(base)
    names = list(names)
    _check_total_size(base, manifest, names)
    problems: Problems = []
    tables, lines, parsed = {}, {}, {}
    parse = _parse_csv if manifest["table_format"] == "csv" else _parse_parquet
    for name in names:
        rel = f"tables/{name}.{manifest['table_format']}"
        fh, utf8 = _open_table(base, manifest, name)
        with fh:
            tables[name], lines[name], parsed[name] = parse(name, fh, utf8=utf8, problems=problems)
            # the table may not change while it is parsed
            if _digest(fh, str(base / rel))[0] != manifest["files"][rel]:
                raise _refuse(base, f"{rel} changed while it was read; refused")
    if any(t.refused for t in parsed.values()):
        return {k: v.iloc[0:0] for k, v in tables.items()}, problems
    _check_lists(tables, problems)
    lost = parsed["patients"].lost if "patients" in parsed else set()
    _check_keys(tables, lines, problems, lost=lost)
    return tables, problems
