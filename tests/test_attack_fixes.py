"""Regression tests for the second red-team round (F1-F15 of the attack report).

Each test reproduces one failure with a small input: a 20-patient generated cohort, a
monkeypatched limit instead of a huge file, one conference run where a kernel is needed.
"""

from __future__ import annotations

import asyncio
import copy
import csv
import errno
import os
import resource
import shutil
import subprocess
import sys
import time
import tracemalloc
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
import yaml
from conftest import CASES, ROOT, rehash

from kdsupport.batch.screen import screen_path
from kdsupport.cli import main

INSTRUCTOR = ROOT / "notebooks" / "instructor"


def run_main(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def _kdsupport(*args: str, cwd: Path | None = None, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "kdsupport", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=kw.pop("timeout", 300),
        **kw,
    )


@pytest.fixture
def cohort(tmp_path, capsys):
    """A fresh 20-patient cohort (tables only)."""
    out = tmp_path / "cohort"
    args = ("generate", "--n", "20", "--seed", "1", "--out", str(out), "--quiet", "--no-records")
    assert run_main(capsys, *args)[0] == 0
    return out


def _rows(path: Path) -> list[list[str]]:
    return list(csv.reader(path.open(newline="")))


def _write_rows(path: Path, rows: list[list[str]]) -> None:
    with path.open("w", newline="") as fh:
        csv.writer(fh, lineterminator="\n").writerows(rows)


# ---------------------------------------------------------------- F1 kernel sockets
def test_each_papermill_kernel_has_a_private_socket_folder_removed_afterwards():
    from kdsupport.server.kernels import IPCKernelManager, IPCServerKernelManager

    a, b = IPCKernelManager(), IPCKernelManager()
    folders = [Path(a.connection_file).parent, Path(b.connection_file).parent]
    try:
        assert all(f.is_absolute() and f.name.startswith("kdsupport-kernel-") for f in folders)
        assert folders[0] != folders[1]
        for km, folder in zip((a, b), folders, strict=True):
            assert Path(km.ip).is_absolute() and Path(km.ip).parent == folder
            assert folder.is_dir() and (folder.stat().st_mode & 0o777) == 0o700
            assert not folder.is_relative_to(ROOT)
        # a relative connection file (an empty connection folder) is moved into a private one
        server = IPCServerKernelManager(connection_file="kernel-x.json")
        assert Path(server.ip).is_absolute()
        folders.append(Path(server.connection_file).parent)
        asyncio.run(a._async_cleanup_resources())
        assert not folders[0].exists()
    finally:
        for folder in folders:  # only the private folders made here, never anything else
            if folder.is_absolute() and folder.name.startswith("kdsupport-kernel-"):
                shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.slow
def test_parallel_conferences_never_share_kernel_sockets(tmp_path):
    before = set(INSTRUCTOR.iterdir())
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "kdsupport", "conference", "tr-001"]
            + ["--out", str(tmp_path / f"c{i}.html"), "--quiet"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(3)
    ]
    seen: set[str] = set()
    deadline = time.time() + 300
    while any(p.poll() is None for p in procs) and time.time() < deadline:
        seen |= {p.name for p in INSTRUCTOR.iterdir() if p.name.startswith("kernel-")}
        time.sleep(0.05)
    results = [(p.wait(timeout=60), *p.communicate()) for p in procs]
    for code, out, err in results:
        assert code == 0 and "wrote" in out, err
        assert "Traceback" not in err and "Invalid Signature" not in err and "error" not in err
    assert not seen, f"kernel files appeared in the source tree: {sorted(seen)}"
    assert set(INSTRUCTOR.iterdir()) == before
    assert all((tmp_path / f"c{i}.html").stat().st_size > 10_000 for i in range(3))


# ---------------------------------------------------------------- F2 the kernel cap
class _StartingKernel:
    """A kernel that is still starting: its activity traits cannot be read yet."""

    @property
    def last_activity(self):
        from traitlets import TraitError

        raise TraitError("The 'last_activity' trait expected a datetime, not the NoneType None.")

    @property
    def execution_state(self):
        from traitlets import TraitError

        raise TraitError("not yet")


def test_a_starting_kernel_at_the_cap_gives_503_not_500():
    from tornado import web

    from kdsupport.server.kernels import BUSY_REASON, CappedKernelManager

    km = CappedKernelManager(max_kernels=1, unconnected_grace_s=0)
    km._kernels = {"starting": _StartingKernel()}
    km._kernel_connections = {"starting": 0}
    km.list_kernel_ids = lambda: list(km._kernels)
    assert km._unconnected_for("starting") == 0.0  # counts as just started
    with pytest.raises(web.HTTPError) as info:
        asyncio.run(km.start_kernel())
    assert info.value.status_code == 503 and info.value.reason == BUSY_REASON
    assert "\n" not in BUSY_REASON and len(km._kernels) == 1
    asyncio.run(km.cull_kernel_if_idle("starting"))  # the culler skips it, without an error
    assert list(km._kernels) == ["starting"]


def test_a_kernel_evicted_meanwhile_gives_503_not_500():
    import datetime as dt

    from tornado import web

    from kdsupport.server.kernels import CappedKernelManager

    class Stale:
        last_activity = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=600)
        execution_state = "idle"

    km = CappedKernelManager(max_kernels=1, unconnected_grace_s=30)
    km._kernels = {"stale": Stale()}
    km._kernel_connections = {"stale": 0}
    km.list_kernel_ids = lambda: list(km._kernels)

    async def gone(kernel_id, *a, **kw):
        raise KeyError(kernel_id)  # another page load shut it down first

    km.shutdown_kernel = gone
    with pytest.raises(web.HTTPError) as info:
        asyncio.run(km.start_kernel())
    assert info.value.status_code == 503


@pytest.mark.slow
def test_concurrent_page_loads_at_the_cap_get_200_or_503(tmp_path):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = tmp_path / "app.log"
    db = tmp_path / "a.sqlite"
    proc = subprocess.Popen(
        [sys.executable, "-m", "kdsupport.app", f"--port={port}", "--attempts", str(db)]
        + ["--max-kernels", "4"],
        cwd=ROOT,
        env={**os.environ, "KDSUPPORT_ATTEMPTS": str(db)},
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.time() + 90
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=2):
                    break
            except OSError:
                assert time.time() < deadline and proc.poll() is None, log.read_text()
                time.sleep(0.3)

        def hit(i: int) -> int:
            time.sleep(i * 0.02)  # a stream of page loads: some land while kernels start
            url = f"http://127.0.0.1:{port}/voila/render/00_start_here.ipynb"
            try:
                with urllib.request.urlopen(url, timeout=120) as r:
                    return r.status
            except urllib.error.HTTPError as e:
                return e.code

        with ThreadPoolExecutor(60) as ex:
            statuses = list(ex.map(hit, range(150)))
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
    text = log.read_text()
    assert set(statuses) <= {200, 503} and 503 in statuses, statuses
    assert "TraitError" not in text and "Traceback" not in text


# ---------------------------------------------------------------- F3 table size and memory
def test_a_tampered_table_is_refused_after_a_streaming_hash_without_reading_it_whole(cohort):
    from kdsupport.cohort.tables import read_cohort_tables

    with (cohort / "tables" / "trials.csv").open("a") as fh:  # 8 MB behind the manifest's back
        fh.write(
            ("syn-000001,9,sertraline,monotherapy,current,50,,8,adequate,10,False\n") * 120_000
        )
    tracemalloc.start()
    try:
        with pytest.raises(Exception, match="sha256 of tables/trials.csv does not match"):
            read_cohort_tables(cohort, ["patients", "trials"])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 4_000_000, f"{peak:,} bytes held for an 8 MB table"


def test_a_valid_table_is_parsed_in_bounded_memory(cohort, monkeypatch):
    import kdsupport.cohort.tables as tg
    from kdsupport.cohort.tables import read_cohort_tables

    rows = _rows(cohort / "tables" / "trials.csv")
    body = [r for r in rows[1:] if r[0] == "syn-000002"][:1]
    extra = []
    for k in range(20):  # 20 patients x 999 trials, about 1.3 MB
        for j in range(999):
            extra.append([f"syn-{k + 1:06d}", str(j), *body[0][2:]])
    _write_rows(cohort / "tables" / "trials.csv", [rows[0], *extra])
    rehash(cohort)
    size = (cohort / "tables" / "trials.csv").stat().st_size
    monkeypatch.setattr(tg, "_CHUNK_ROWS", 1000)  # rows parsed at a time: 1/20 of the table
    read_cohort_tables(cohort, ["patients"])  # imports done before measuring
    tracemalloc.start()
    try:
        tables, problems = read_cohort_tables(cohort, ["patients", "trials"])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert problems == [] and len(tables["trials"]) == 19_980
    assert peak < 5 * size, f"{peak:,} bytes for a {size:,}-byte table"  # was 19 times


def test_a_table_over_the_cap_is_refused_naming_the_cap_that_applies(cohort, capsys, monkeypatch):
    import kdsupport.cohort.tables as tg

    monkeypatch.setattr(tg, "MAX_TABLE_BYTES", 1000)
    code, out, err = run_main(capsys, "screen", str(cohort), "--out", str(cohort / "r.csv"))
    assert code == 2 and out == ""
    assert "the limit for one table (kdsupport.cohort.tables.MAX_TABLE_BYTES) is 1,000 bytes" in err
    assert "KDSUPPORT_MAX_RECORD_BYTES" not in err and "Traceback" not in err
    monkeypatch.setattr(tg, "MAX_TABLE_BYTES", 10**9)
    monkeypatch.setattr(tg, "MAX_TABLES_BYTES", 5000)
    code, _, err = run_main(capsys, "screen", str(cohort), "--out", str(cohort / "r.csv"))
    assert code == 2 and "MAX_TABLES_BYTES" in err and not (cohort / "r.csv").exists()


# ---------------------------------------------------------------- F4 per-record list caps
def test_more_trials_than_a_record_allows_are_reported_and_the_others_screened(cohort):
    from kdsupport.records.case import LIMITS

    path = cohort / "tables" / "trials.csv"
    rows = _rows(path)
    template = next(r for r in rows[1:] if r[0] == "syn-000003")
    rows = [r for r in rows if r[0] != "syn-000003"]
    rows += [["syn-000003", str(j), *template[2:]] for j in range(LIMITS["list"] + 1)]
    _write_rows(path, rows)
    rehash(cohort)
    results, problems = screen_path(cohort)
    assert [p[:2] for p in problems] == [("syn-000003", "trials.csv")], problems
    assert f"at most {LIMITS['list']:,} trials" in problems[0][2]
    assert "syn-000003" not in set(results["id"]) and len(results) == 19


# ---------------------------------------------------------------- F7 empty and unknown cells
def test_an_empty_required_cell_is_invalid_not_screened(cohort):
    path = cohort / "tables" / "patients.csv"
    rows = _rows(path)
    rows[5][rows[0].index("age_years")] = ""
    _write_rows(path, rows)
    rehash(cohort)
    results, problems = screen_path(cohort)
    assert [p[:2] for p in problems] == [(rows[5][0], "patients.age_years (line 6)")]
    assert "must not be empty" in problems[0][2] and "patient.age_years" in problems[0][2]
    assert rows[5][0] not in set(results["id"]) and len(results) == 19


def test_an_unknown_screening_item_is_reported_with_the_allowed_items(cohort):
    path = cohort / "tables" / "screening.csv"
    rows = _rows(path)
    i = next(k for k, r in enumerate(rows) if r[1] == "aneurysmal_vascular_disease")
    rows[i][1] = "not_an_item"
    _write_rows(path, rows)
    rehash(cohort)
    results, problems = screen_path(cohort)
    assert [p[:2] for p in problems] == [(rows[i][0], "screening.item")]
    assert "not_an_item" in problems[0][2] and "aneurysmal_vascular_disease" in problems[0][2]
    assert rows[i][0] not in set(results["id"]) and len(results) == 19


# ---------------------------------------------------------------- F8 spreadsheet formulas
def test_the_errors_file_never_holds_a_spreadsheet_formula(cohort, capsys):
    path = cohort / "tables" / "patients.csv"
    rows = _rows(path)
    rows[12][0] = '=HYPERLINK("http://evil","x")'
    _write_rows(path, rows)
    rehash(cohort)
    code, _, _ = run_main(capsys, "screen", str(cohort), "--out", str(cohort / "r.csv"))
    assert code == 2
    cells = [c for r in _rows(cohort / "r.errors.csv")[1:] for c in r]
    assert cells and not [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")]
    assert "'=HYPERLINK" in cells[0]


# ---------------------------------------------------------------- F9 names and write errors
def test_too_long_names_and_the_current_folder_are_clean_errors(tmp_path, capsys, monkeypatch):
    long = tmp_path / ("x" * 300)
    code, _, err = run_main(capsys, "screen", f"{long}.yaml", "--out", str(tmp_path / "r.csv"))
    assert code == 2 and "file name too long" in err and "internal error" not in err
    args = ("generate", "--n", "2", "--seed", "1", "--quiet", "--out")
    code, _, err = run_main(capsys, *args, str(long))
    assert code == 2 and "file name too long" in err and "internal error" not in err
    code, _, err = run_main(capsys, *args, str(tmp_path / ("y" * 250)))  # valid, if long
    assert code == 0, err
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.chdir(empty)
    code, _, err = run_main(capsys, *args, ".")
    assert code == 2 and "--out: . is the current folder" in err and "internal error" not in err
    assert list(empty.iterdir()) == []


def test_a_write_failure_in_generate_is_one_clean_line(tmp_path):
    def small_files() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))

    out = tmp_path / "gen"
    proc = subprocess.run(
        [sys.executable, "-m", "kdsupport", "generate", "--n", "50", "--seed", "1"]
        + ["--out", str(out), "--quiet"],
        capture_output=True,
        text=True,
        preexec_fn=small_files,
        timeout=120,
    )
    assert proc.returncode in (1, 2) and "internal error" not in proc.stderr, proc.stderr
    assert f"could not write {out}" in proc.stderr and "previous file is unchanged" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert list(tmp_path.iterdir()) == []  # nothing half-written, no temporary folder


def test_a_full_disk_in_generate_keeps_the_old_cohort(tmp_path, capsys, monkeypatch):
    import kdsupport.cohort.storage as storage

    out = tmp_path / "gen"
    args = ("generate", "--n", "5", "--seed", "1", "--quiet", "--out", str(out))
    assert run_main(capsys, *args)[0] == 0
    before = (out / "manifest.json").read_bytes()

    def full(*a, **kw):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(storage, "write_cohort", full)
    code, _, err = run_main(capsys, *args)
    assert code != 0 and "No space left on device; any previous file is unchanged" in err
    assert "internal error" not in err
    assert (out / "manifest.json").read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["gen"]


# ---------------------------------------------------------------- F5 generate's memory
def test_generate_n_is_capped_where_the_cohort_fits_in_memory(tmp_path, capsys, monkeypatch):
    import kdsupport.cohort.generator as syn
    from kdsupport.cohort.generate_cli import MAX_PATIENTS

    def never(*a, **kw):
        raise AssertionError("a cohort over the cap must not be drawn")

    monkeypatch.setattr(syn, "generate_cohort", never)
    args = ("generate", "--seed", "1", "--out", str(tmp_path / "x"), "--n")
    code, _, err = run_main(capsys, *args, str(MAX_PATIENTS + 1))
    assert code == 2 and f"--n: must be <= {MAX_PATIENTS:,}" in err
    assert MAX_PATIENTS <= 250_000  # about 10 KB per patient: 2.5 GB at most
    assert not (tmp_path / "x").exists()


def test_records_are_built_in_chunks_with_the_same_result():
    from kdsupport.cohort.generator import generate_cohort
    from kdsupport.cohort.records import records_from_tables

    tables = generate_cohort(23, np.random.default_rng(3))
    whole = list(records_from_tables(tables, chunk=10**6))
    assert list(records_from_tables(tables, chunk=5)) == whole and len(whole) == 23


# ---------------------------------------------------------------- F6, F10 conference
def _many_sessions_case(folder: Path, n: int) -> None:
    record = yaml.safe_load((CASES / "tr-001.yaml").read_text())
    first = record["sessions"][0]
    record["sessions"] = [{**copy.deepcopy(first), "number": k} for k in range(1, n + 1)]
    (folder / "cases").mkdir(parents=True)
    (folder / "cases" / "tr-001.yaml").write_text(yaml.safe_dump(record, sort_keys=False))


def test_the_sessions_section_draws_a_bounded_number_of_sessions(tmp_path):
    from kdsupport.records.case import load_case
    from kdsupport.render.conference import MAX_SESSION_FIGURES, sessions_section_html
    from kdsupport.rules.assess import assess

    _many_sessions_case(tmp_path, MAX_SESSION_FIGURES + 6)
    record = load_case(tmp_path / "cases" / "tr-001.yaml")
    html = sessions_section_html(record, assess(record))
    first, last = MAX_SESSION_FIGURES + 1, MAX_SESSION_FIGURES + 6
    assert f"Sessions {first} to {last}</strong>" in html and "table below" in html
    assert html.count("<tr><th scope='row'>") == MAX_SESSION_FIGURES + 6  # every session
    assert f"each of {MAX_SESSION_FIGURES} sessions" in html


def test_a_relative_data_dir_is_resolved_against_the_callers_folder(tmp_path, monkeypatch):
    import papermill

    from kdsupport.render.conference import render_conference

    (tmp_path / "d0" / "cases").mkdir(parents=True)
    shutil.copy(CASES / "tr-001.yaml", tmp_path / "d0" / "cases")
    monkeypatch.chdir(tmp_path)
    seen = {}

    class Stop(Exception):
        pass

    def execute(*args, parameters, **kw):
        seen.update(parameters)
        raise Stop

    monkeypatch.setattr(papermill, "execute_notebook", execute)
    with pytest.raises(Stop):
        render_conference("tr-001", tmp_path / "out.html", data_dir="d0", progress=False)
    assert Path(seen["data_dir"]).is_absolute()
    assert Path(seen["data_dir"]) == (tmp_path / "d0").absolute()


@pytest.mark.slow
def test_a_conference_on_a_record_with_1000_sessions_finishes_in_time(tmp_path):
    _many_sessions_case(tmp_path / "heavy", 1000)
    t0 = time.perf_counter()
    proc = _kdsupport(
        "conference", "tr-001", "--data-dir", "heavy", "--out", "c.html", "--quiet", cwd=tmp_path
    )
    elapsed = time.perf_counter() - t0
    assert proc.returncode == 0, proc.stderr
    assert elapsed < 90, f"{elapsed:.0f} s"
    html = (tmp_path / "c.html").read_text()
    assert "Sessions 25 to 1000</strong>" in html
    assert html.count("<tr><th scope='row'>") >= 1000


# ---------------------------------------------------------------- F13 oversized cells
def test_one_oversized_cell_loses_one_row_reported_once(cohort):
    path = cohort / "tables" / "patients.csv"
    rows = _rows(path)
    victim = rows[10][0]
    rows[10][rows[0].index("sex")] = "x" * 200_000
    _write_rows(path, rows)
    rehash(cohort)
    results, problems = screen_path(cohort)
    assert len(problems) == 1, problems[:5]
    pid, field, message = problems[0]
    assert (pid, field) == (victim, "patients.csv (line 11)")
    assert "longer than 131,072 characters" in message
    assert victim not in set(results["id"]) and len(results) == 19


def test_an_unreadable_table_is_one_line_and_no_patient_is_screened(cohort):
    with (cohort / "tables" / "trials.csv").open("a") as fh:
        fh.write('syn-000001,"unterminated\n')
    rehash(cohort)
    results, problems = screen_path(cohort)
    assert len(problems) == 1 and problems[0][0] == "*", problems[:5]
    assert "trials.csv" in problems[0][1] and "no patient is screened" in problems[0][2]
    assert len(results) == 0


# ---------------------------------------------------------------- F14 manifest limit
def test_an_oversized_manifest_names_its_own_limit(cohort, capsys, monkeypatch):
    import kdsupport.cohort.tables as tg

    monkeypatch.setattr(tg, "MAX_MANIFEST_BYTES", 100)
    code, _, err = run_main(capsys, "screen", str(cohort), "--out", str(cohort / "r.csv"))
    assert code == 2 and "MAX_MANIFEST_BYTES" in err and "is 100 bytes" in err
    assert "KDSUPPORT_MAX_RECORD_BYTES" not in err


# ---------------------------------------------------------------- F15 not a cohort
def test_a_folder_without_a_manifest_or_an_empty_folder_is_refused(cohort, tmp_path, capsys):
    out = str(tmp_path / "r.csv")
    empty = tmp_path / "empty"
    empty.mkdir()
    code, stdout, err = run_main(capsys, "screen", str(empty), "--out", out)
    assert code == 2 and stdout == "" and "empty folder" in err and "manifest.json" in err
    (cohort / "manifest.json").unlink()
    code, stdout, err = run_main(capsys, "screen", str(cohort), "--out", out)
    assert code == 2 and stdout == "" and "has no manifest.json" in err
    code, _, err = run_main(capsys, "screen", str(cohort / "tables"), "--out", out)
    assert code == 2 and "holds tables but no manifest.json" in err
    assert not Path(out).exists() and "Traceback" not in err
