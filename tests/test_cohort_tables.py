"""Reading a cohort's tables: the column-wise reader gives what csv gives, row for row.

``kdsupport.cohort.tables`` splits chunks of plain lines at commas and hands every other chunk
(quotes, carriage returns, blank lines, rows of another width, oversized cells, text that is
not UTF-8) to :mod:`csv`, row by row. Here each damaged table is read both ways, the second
time with every chunk read by csv, and the cells, dtypes, line numbers and problems must match.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd
import pytest
from conftest import rehash

import kdsupport.cohort.tables as tg
from kdsupport.batch.screen import SCREEN_TABLES
from kdsupport.cli import main

NAMES = [*SCREEN_TABLES, "sessions", "vitals", "moaas"]


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("gen") / "cohort"
    args = ["generate", "--n", "40", "--seed", "3", "--out", str(out), "--quiet", "--no-records"]
    assert main(args) == 0
    return out


@pytest.fixture
def cohort(generated, tmp_path) -> Path:
    import shutil

    return Path(shutil.copytree(generated, tmp_path / "cohort"))


def _edit_bytes(path: Path, edit) -> None:
    path.write_bytes(edit(path.read_bytes()))


def _line(n: int, edit):
    """Edit line ``n`` (1-based, the header is line 1) of a table's bytes."""

    def apply(data: bytes) -> bytes:
        lines = data.split(b"\n")
        lines[n - 1] = edit(lines[n - 1])
        return b"\n".join(lines)

    return apply


DAMAGES = {
    "clean": lambda b: b,
    "bad_cells": _line(9, lambda s: s.replace(b",current,", b",abc,").replace(b",False", b",yes")),
    "quoted_cells": lambda b: b.replace(b",current,", b',"current",'),
    "quoted_newline": _line(12, lambda s: s.replace(b",current,", b',"cur\nrent",')),
    "crlf": lambda b: b.replace(b"\n", b"\r\n"),
    "cr": lambda b: b.replace(b"\n", b"\r"),
    "cr_in_line": _line(20, lambda s: s.replace(b",", b"\r", 1)),
    "blank_lines": _line(15, lambda s: s + b"\n\n"),
    "blank_end": lambda b: b + b"\n\n",
    "no_final_newline": lambda b: b.rstrip(b"\n"),
    "short_row": _line(18, lambda s: s.rsplit(b",", 2)[0]),
    "long_row": _line(18, lambda s: s + b",x"),
    "nul": _line(10, lambda s: s.replace(b"current", b"cur\x00rent")),
    "not_utf8": _line(10, lambda s: s.replace(b"current", b"curr\xe9nt")),
    "unicode": _line(10, lambda s: s.replace(b"sertraline", "sertraliné\u2028\x85".encode())),
    "oversized": _line(11, lambda s: s.replace(b",current,", b"," + b"x" * 140_000 + b",")),
    "at_the_limit": _line(11, lambda s: s.replace(b",current,", b"," + b"x" * 131_072 + b",")),
    "oversized_utf8": _line(
        11, lambda s: s.replace(b",current,", ",{},".format("é" * 70_000).encode())
    ),
    "long_lines": _line(11, lambda s: s.replace(b",current,", b"," + b"x" * 20_000 + b",")),
    "unterminated": lambda b: b + b'syn-000001,"open\n',
    "bom": lambda b: b"\xef\xbb\xbf" + b,
    "bom_starting_a_chunk": _line(9, lambda s: b"\xef\xbb\xbf" + s),  # lines 9-15: chunk 2
    "bom_in_a_cell": _line(10, lambda s: s.replace(b",current,", b",\xef\xbb\xbfcurrent,")),
    "header_only": lambda b: b.split(b"\n")[0] + b"\n",
    "empty": lambda b: b"",
}


def _read(cohort: Path, reader: str, monkeypatch) -> tuple:
    """Read every table: ``arrow`` (plain chunks by pyarrow), ``split`` (by str.split), ``csv``."""
    with monkeypatch.context() as m:
        m.setattr(tg, "_CHUNK_ROWS", 7)  # many chunks, so that damage falls inside one
        if reader == "split":
            m.setattr(tg, "_arrow_csv", lambda: None)
        elif reader == "csv":
            m.setattr(tg, "_plain_columns", lambda *a: None)
        tables, problems = tg.read_cohort_tables(cohort, NAMES)
        lines = {}
        for name in NAMES:
            path = cohort / "tables" / f"{name}.csv"
            data = path.read_bytes()
            try:
                data.decode("utf-8")
                utf8 = True
            except UnicodeDecodeError:
                utf8 = False
            found: list = []
            with path.open("rb") as fh:
                df, at, table = tg._parse_csv(name, fh, utf8=utf8, problems=found)
            lines[name] = (df, at.tolist(), found, sorted(table.lost), table.refused)
    return tables, problems, lines


@pytest.mark.parametrize("reader", ["arrow", "split"])
@pytest.mark.parametrize("damage", list(DAMAGES))
def test_the_column_wise_reader_reads_what_csv_reads(cohort, damage, reader, monkeypatch):
    if reader == "arrow":
        pytest.importorskip("pyarrow")
    _edit_bytes(cohort / "tables" / "trials.csv", DAMAGES[damage])
    rehash(cohort)
    fast = _read(cohort, reader, monkeypatch)
    slow = _read(cohort, "csv", monkeypatch)
    assert fast[1] == slow[1]  # the same problems in the same order
    for name in NAMES:
        pd.testing.assert_frame_equal(fast[0][name], slow[0][name], check_exact=True)
        f, s = fast[2][name], slow[2][name]
        pd.testing.assert_frame_equal(f[0], s[0], check_exact=True)
        assert f[1:] == s[1:], name


@pytest.mark.parametrize("arrow", [True, False])
def test_a_generated_cohort_is_read_without_csv_row_by_row(generated, arrow, monkeypatch):
    if arrow:
        pytest.importorskip("pyarrow")
    else:
        monkeypatch.setattr(tg, "_arrow_csv", lambda: None)
    lines_read_by_csv: list[int] = []
    real = tg._Table.add

    def add(self, rows, lines):  # csv's rows, row by row (the column-wise path: add_columns)
        lines_read_by_csv.extend(lines)
        return real(self, rows, lines)

    monkeypatch.setattr(tg._Table, "add", add)
    monkeypatch.setattr(tg, "_CHUNK_ROWS", 7)
    tables, problems = tg.read_cohort_tables(generated, NAMES)
    assert problems == [] and lines_read_by_csv == [] and len(tables["patients"]) == 40


def test_chunks_are_whole_lines_cut_at_the_nth_line():
    text = io.StringIO("a,1\nb,2\nc,3\nd", newline="")
    assert tg._take_lines(text, "", 2) == ("a,1\nb,2\n", "c,3\nd", True)
    assert tg._take_lines(text, "c,3\nd", 2) == ("c,3\nd", "", True)
    text = io.StringIO("é,1\nb,2\n", newline="")
    assert tg._take_lines(text, "", 1) == ("é,1\n", "b,2\n", True)
    long = io.StringIO("x" * (tg._PLAIN_LINE_CHARS * 4) + "\nb\n", newline="")
    block, rest, whole = tg._take_lines(long, "", 2)
    assert not whole and rest == "" and "\n" not in block  # left to csv, row by row


def _cells(text: str, width: int, limit: int) -> list[list[str]] | None:
    plain = tg._plain_columns(text, width, limit, {str(i): i for i in range(width)})
    if plain is None:
        return None
    n, columns = plain
    cols = [texts[codes].tolist() for codes, texts in columns.values()]
    return [list(row) for row in zip(*cols, strict=True)] if cols else [[]] * n


@pytest.mark.parametrize("arrow", [True, False])
def test_plain_lines_are_split_only_where_csv_agrees(arrow, monkeypatch):
    if arrow:
        pytest.importorskip("pyarrow")
    else:
        monkeypatch.setattr(tg, "_arrow_csv", lambda: None)
    assert _cells("a,b\nc,\n", 2, 10) == [["a", "b"], ["c", ""]]
    assert _cells("a,b\nc,d", 2, 10) == [["a", "b"], ["c", "d"]]
    not_plain = ['a,"b"\n', "a,b\r\n", "a,b\n\nc,d\n", "\na,b\n", "a,b,c\n", "a\n", "a,b\x00\n"]
    for text in [*not_plain, "a\nb\n", "\ufeffa,b\n"]:
        assert _cells(text, 2, 10) is None, repr(text)
    assert _cells("a," + "x" * 10 + "\n", 2, 10) is not None
    assert _cells("a," + "x" * 11 + "\n", 2, 10) is None
    for text in ("a,b\n", "a,b\u2028c\n", "a,\x85\n", "a,\x0b\x0c\x1c\n", " a ,\ufeff\n"):
        assert _cells(text, 2, 10) == list(csv.reader([text], strict=True)), repr(text)


def test_a_row_is_numbered_by_the_line_it_ends_on(cohort):
    path = cohort / "tables" / "trials.csv"
    rows = list(csv.reader(path.open(newline="")))
    weeks, drug = rows[0].index("weeks"), rows[0].index("drug")
    rows[4][drug], rows[4][weeks] = "ser\ntraline", "abc"  # lines 5 and 6
    rows[7][weeks] = "x"  # line 9: the rows after it are one line further down
    with path.open("w", newline="") as fh:
        csv.writer(fh, lineterminator="\n").writerows(rows)
    rehash(cohort)
    _, problems = tg.read_cohort_tables(cohort, ["patients", "trials"])
    assert [p[1] for p in problems] == ["trials.weeks (line 6)", "trials.weeks (line 9)"]
