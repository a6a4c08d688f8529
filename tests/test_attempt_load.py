"""The load test of the attempt store, briefly: no acknowledged answer is lost on either backend.

benchmarks/load_attempts.py with 4 trainees for 3 s, then its kill run: one writer killed with
SIGKILL a quarter of the way in, the others at the end, and on PostgreSQL the server crashed
and restarted half-way. The full run (20 trainees, 60 s) is a benchmark, not a test.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from postgres_cluster import in_ci, unavailable

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_the_load_test_loses_no_acknowledged_answer(backend, tmp_path):
    if backend == "postgresql" and (why := unavailable()):
        if in_ci():
            pytest.fail(f"CI must not skip the PostgreSQL load test: {why}", pytrace=False)
        pytest.skip(why)
    out = tmp_path / "load.json"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "load_attempts.py")]
        + ["--backends", backend, "--seconds", "3", "--trainees", "4", "--kill-seconds", "4"]
        + ["--json", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    figures = json.loads(out.read_text())[backend]
    load, killed = figures["load"], figures["kill"]
    assert load["answers"] > 0 and load["errors"] == 0 and load["rows_lost"] == 0
    assert load["rows_in_store"] == load["answers"] and load["duplicates"] == 0
    assert killed["answers"] > 0 and killed["rows_lost"] == 0 and killed["duplicates"] == 0
    assert any("load-00 killed" in e for e in killed["events"])
    if backend == "postgresql":
        assert any("server crashed" in e for e in killed["events"])
        assert any("server back" in e for e in killed["events"])
    assert "acknowledged answers lost: 0" in proc.stdout
