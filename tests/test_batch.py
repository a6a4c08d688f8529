"""Batch screening: the column-wise path equals kdsupport assess, invalid records are reported."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from conftest import CASES, ROOT, rehash
from hypothesis import HealthCheck, given, settings
from strategies import valid_records

from kdsupport.batch.screen import (
    SCREEN_COLUMNS,
    screen_path,
    screen_row,
    screen_tables,
    tables_from_records,
)
from kdsupport.cohort.generator import generate_cohort
from kdsupport.cohort.records import records_from_tables
from kdsupport.cohort.storage import load_cohort
from kdsupport.records.case import load_case, validate_case
from kdsupport.rules.assess import assess

COHORT = ROOT / "data" / "synthetic" / "cohort"


def _norm(v):
    if v is pd.NA or v is None or (isinstance(v, float) and np.isnan(v)):
        return None
    if isinstance(v, (np.integer, np.floating)):
        return v.item()
    if isinstance(v, np.bool_):
        return bool(v)
    return v


def assert_same(fast: pd.DataFrame, records, definition=None):
    rows = {r["id"]: r for r in fast.to_dict("records")}
    wrong = []
    for rec in records:
        ref = screen_row(assess(validate_case(rec), definition=definition))
        got = rows[ref["id"]]
        for k in SCREEN_COLUMNS:
            if _norm(got[k]) != ref[k]:
                wrong.append(f"{ref['id']} {k}: fast {got[k]!r}, assess {ref[k]!r}")
    assert not wrong, "\n".join(wrong[:20])


@pytest.mark.parametrize("definition", [None, "eupearl2022", "fava2020"])
def test_committed_cohort_equals_assess_for_all_500(definition):
    tables = load_cohort()
    records = list(records_from_tables(tables))
    assert len(records) == 500
    assert_same(screen_tables(tables, definition=definition), records, definition)


def test_curated_cases_equal_assess():
    records = []
    for path in sorted(CASES.glob("*.yaml")):
        rec = json.loads(
            json.dumps(load_case(path).model_dump(by_alias=True, exclude={"teaching"}))
        )
        for key in ("trials", "ect", "assessments", "sessions"):
            rec[key] = rec.get(key) or []  # tables hold lists; an absent list is an empty one
        records.append(rec)
    assert_same(screen_tables(tables_from_records(records)), records)


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(valid_records())
def test_random_records_equal_assess(rec):
    for key in ("trials", "ect", "assessments", "sessions"):
        if rec.get(key) is None:
            rec[key] = []
    for definition in (None, "fava2020"):
        assert_same(
            screen_tables(tables_from_records([rec]), definition=definition), [rec], definition
        )


def test_a_fresh_cohort_and_worker_split_agree():
    tables = generate_cohort(800, np.random.default_rng(99))
    whole = screen_tables(tables)
    parts = pd.concat(
        [screen_tables(tables, patients=(0, 300)), screen_tables(tables, patients=(300, 800))],
        ignore_index=True,
    )
    pd.testing.assert_frame_equal(whole, parts)
    assert_same(whole, list(records_from_tables(tables))[::4])


def test_screen_command_on_tables_and_records_with_workers(tmp_path):
    one, two = tmp_path / "one.csv", tmp_path / "two.csv"
    for out, workers in ((one, "1"), (two, "2")):
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "kdsupport",
                "screen",
                str(COHORT),
                "--out",
                str(out),
                "--workers",
                workers,
            ],
            capture_output=True,
            text=True,
        )
        assert proc.returncode == 0, proc.stderr
        assert "screened 500 patients" in proc.stdout
    assert one.read_bytes() == two.read_bytes()
    rec_out = tmp_path / "records.csv"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "kdsupport",
            "screen",
            str(COHORT / "records"),
            "--out",
            str(rec_out),
            "--workers",
            "2",
            "--quiet",
        ],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    a = pd.read_csv(one).sort_values("id").reset_index(drop=True)
    b = pd.read_csv(rec_out).sort_values("id").reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b)


def test_cli_assess_agrees_with_screen_on_a_sample(tmp_path):
    subprocess.run(
        [
            sys.executable,
            "-m",
            "kdsupport",
            "screen",
            str(COHORT),
            "--out",
            str(tmp_path / "r.csv"),
            "--quiet",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    screened = pd.read_csv(tmp_path / "r.csv").set_index("id")
    for path in sorted((COHORT / "records").glob("*.json"))[::125]:
        out = subprocess.run(
            [sys.executable, "-m", "kdsupport", "assess", str(path)],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        typed = assess(load_case(path))
        assert json.loads(out) == json.loads(json.dumps(typed.to_json()))  # the CLI prints it
        ref = screen_row(typed)
        got = screened.loc[ref["id"]]
        for k in SCREEN_COLUMNS[1:]:
            assert _norm(got[k]) == ref[k] or (pd.isna(got[k]) and ref[k] is None), (ref["id"], k)


def test_invalid_records_are_reported_and_the_run_goes_on(tmp_path):
    d = tmp_path / "records"
    d.mkdir()
    for p in sorted((COHORT / "records").glob("*.json"))[:3]:
        shutil.copy(p, d / p.name)
    bad = json.loads((d / "syn-000001.json").read_text())
    bad["id"] = "syn-bad-1"
    bad["trials"][0]["drug"] = "zoloft"
    (d / "syn-bad-1.json").write_text(json.dumps(bad))
    (d / "syn-bad-2.json").write_text(json.dumps({**bad, "id": "syn-bad-2", "synthetic": False}))
    out = tmp_path / "results.csv"
    proc = subprocess.run(
        [sys.executable, "-m", "kdsupport", "screen", str(d), "--out", str(out), "--quiet"],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "invalid: syn-bad-1: trials[0].drug: unknown drug 'zoloft'" in proc.stderr
    assert len(pd.read_csv(out)) == 3
    errors = list(csv.DictReader((tmp_path / "results.errors.csv").open()))
    assert {e["id"] for e in errors} == {"syn-bad-1", "syn-bad-2"}


def test_invalid_table_rows_are_reported_by_patient_and_field(tmp_path):
    shutil.copytree(COHORT, tmp_path / "cohort", ignore=shutil.ignore_patterns("records"))
    tdir = tmp_path / "cohort" / "tables"
    trials = pd.read_csv(tdir / "trials.csv", dtype=str)
    trials.loc[0, "drug"] = "setraline"
    trials.to_csv(tdir / "trials.csv", index=False)
    patients = pd.read_csv(tdir / "patients.csv", dtype=str)
    patients.loc[3, ["systolic_mmhg", "diastolic_mmhg"]] = ["120", "125"]
    patients.to_csv(tdir / "patients.csv", index=False)
    rehash(tmp_path / "cohort")
    results, problems = screen_path(tmp_path / "cohort")
    ids = {p[0] for p in problems}
    assert trials.loc[0, "patient_id"] in ids and patients.loc[3, "patient_id"] in ids
    assert any(p[1].endswith(".drug") and "setraline" in p[2] for p in problems)
    assert any(p[1] == "vitals.diastolic_mmhg" for p in problems)
    assert len(results) == 500 - len(ids) and not set(results["id"]) & ids
