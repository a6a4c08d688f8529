"""The cohort generator: reproducible bytes, valid records, documented distributions."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from conftest import ROOT

from kdsupport.cohort.generate_cli import check_ranges
from kdsupport.cohort.generator import generate_cohort, summarise
from kdsupport.cohort.records import records_from_tables
from kdsupport.cohort.schema import TABLES
from kdsupport.cohort.storage import load_cohort, read_tables, write_cohort
from kdsupport.records.case import validate_case
from kdsupport.rules.assess import assess

COHORT = ROOT / "data" / "synthetic" / "cohort"


def test_same_seed_same_bytes_different_seed_different_bytes(tmp_path, kb):
    a = write_cohort(generate_cohort(60, np.random.default_rng(5)), tmp_path / "a", seed=5)
    b = write_cohort(generate_cohort(60, np.random.default_rng(5)), tmp_path / "b", seed=5)
    c = write_cohort(generate_cohort(60, np.random.default_rng(6)), tmp_path / "c", seed=6)
    ma, mb, mc = (json.loads(p.read_text()) for p in (a, b, c))
    assert ma == mb and a.read_bytes() == b.read_bytes()
    assert ma["files"] != mc["files"]
    assert len(ma["files"]) == len(TABLES) + 60


def test_generator_never_touches_the_global_random_state():
    before = np.random.get_state()[1].copy()
    generate_cohort(20, np.random.default_rng(1))
    assert np.array_equal(before, np.random.get_state()[1])


def test_committed_cohort_regenerates_byte_identically(tmp_path, kb):
    manifest = json.loads((COHORT / "manifest.json").read_text())
    assert manifest["synthetic"] is True and manifest["kb_version"] == kb.version
    tables = generate_cohort(manifest["n_patients"], np.random.default_rng(manifest["seed"]))
    fresh = json.loads(write_cohort(tables, tmp_path / "again", seed=manifest["seed"]).read_text())
    assert fresh == manifest
    import hashlib

    for rel, digest in manifest["files"].items():
        assert hashlib.sha256((COHORT / rel).read_bytes()).hexdigest() == digest, rel


def test_generated_records_validate_and_assess():
    tables = generate_cohort(400, np.random.default_rng(11))
    for record in records_from_tables(tables):
        a = assess(validate_case(record))
        assert a.case_id == record["id"]


def test_tables_round_trip_with_dtypes(tmp_path):
    tables = generate_cohort(50, np.random.default_rng(3))
    for fmt in ("csv", "parquet"):
        write_cohort(tables, tmp_path / fmt, seed=3, fmt=fmt, records=False)
        back = read_tables(tmp_path / fmt)
        for name, df in tables.items():
            pd.testing.assert_frame_equal(back[name], df, check_categorical=False)
            assert {c: str(t) for c, t in back[name].dtypes.items()} == TABLES[name], (fmt, name)


def test_loader_reads_the_committed_cohort():
    tables = load_cohort()
    assert set(tables) == set(TABLES)
    p = tables["patients"]
    assert len(p) == 500
    assert str(p["sex"].dtype) == "category" and str(p["age_years"].dtype) == "Int64"
    assert str(p["pregnant"].dtype) == "boolean"
    assert p["patient_id"].is_unique


def test_ten_thousand_patients_fall_in_the_documented_ranges(kb):
    stats = summarise(generate_cohort(10_000, np.random.default_rng(2026)), kb)
    out = [(n, v, r) for n, v, r, ok in check_ranges(stats, kb) if not ok]
    assert not out, out
    # dissociation is highest early and falls over the course
    cadss = list(stats["cadss_mean_by_session"].values())
    assert all(a >= b for a, b in zip(cadss, cadss[1:], strict=False))


def test_bp_peaks_near_forty_minutes_and_settles_by_two_hours():
    tables = generate_cohort(2000, np.random.default_rng(8))
    v = tables["vitals"]
    base = v[v["minute"] == 0].set_index(["patient_id", "number"])["systolic_mmhg"]
    rise = v.merge(base.rename("base"), left_on=["patient_id", "number"], right_index=True)
    rise["d"] = rise["systolic_mmhg"] - rise["base"]
    by_minute = rise.groupby("minute")["d"].mean()
    assert by_minute.idxmax() in (30.0, 40.0)
    assert by_minute[120.0] < by_minute[40.0] / 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--n", "0", "--seed", "1"], "--n: must be >= 1"),
        (["--n", "5", "--seed", "-1"], "--seed: must be >= 0"),
    ],
)
def test_generate_rejects_bad_arguments(tmp_path, args, message):
    proc = subprocess.run(
        [sys.executable, "-m", "kdsupport", "generate", *args, "--out", str(tmp_path / "x")],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2 and message in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "x").exists()


def test_generate_refuses_to_overwrite_other_directories(tmp_path):
    (tmp_path / "notes.txt").write_text("keep me")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "kdsupport",
            "generate",
            "--n",
            "5",
            "--seed",
            "1",
            "--out",
            str(tmp_path),
            "--quiet",
        ],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2 and "not a kdsupport cohort" in proc.stderr
    assert (tmp_path / "notes.txt").read_text() == "keep me"


def test_generate_command_writes_a_cohort(tmp_path):
    out = tmp_path / "cohort"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "kdsupport",
            "generate",
            "--n",
            "30",
            "--seed",
            "4",
            "--out",
            str(out),
            "--summary",
        ],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    assert "wrote 30 synthetic patients" in proc.stdout and "response_rate" in proc.stdout
    assert "generating" in proc.stderr or "writing records" in proc.stderr  # progress bar
    assert len(list((out / "records").glob("*.json"))) == 30
    validate_case(json.loads(next((out / "records").glob("*.json")).read_text()))
