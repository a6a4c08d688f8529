"""``kdsupport records``: a trainee's training record, or everyone's, from the command line."""

from __future__ import annotations

import csv
import io
import subprocess
import sys

import pytest

from kdsupport.render.escaping import find_active_markup
from kdsupport.training.attempts import Attempt, open_store


def a(q: str, minute: int, case: str, who: str) -> Attempt:
    return Attempt(who, case, q, "x", True, f"2026-03-01T10:{minute:02d}:00+00:00", "kb", "0")


# ---------------------------------------------------------------- the command line
def run(*args):
    return subprocess.run(
        [sys.executable, "-m", "kdsupport", "records", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def logged(tmp_path):
    path = tmp_path / "a.sqlite"
    store = open_store(path)
    store.record_many(
        [a("q1", 1, case="tr-001", who="nurse-1"), a("q2", 2, case="tr-001", who="secret-other")]
    )
    store.sign_off("nurse-1", "tr-001", "Dr A", note="=cmd")
    store.close()
    return path


def test_the_cli_writes_a_trainees_record_as_html_or_csv(logged, tmp_path):
    out = tmp_path / "rec.html"
    p = run("--trainee", "nurse-1", "--attempts", str(logged), "--out", str(out))
    assert p.returncode == 0, p.stderr
    assert "wrote" in p.stdout and "not a REMS certification" in p.stdout
    html = out.read_text()
    assert "Training record: <bdi>nurse-1</bdi>" in html and find_active_markup(html) == []
    assert "secret-other" not in html
    p = run("--trainee", "nurse-1", "--attempts", str(logged), "--format", "csv")
    assert p.returncode == 0, p.stderr
    rows = list(csv.DictReader(io.StringIO(p.stdout)))
    assert {r["trainee_id"] for r in rows} == {"nurse-1"}
    assert next(r for r in rows if r["case_id"] == "tr-001")["case_sign_offs"].endswith(": =cmd")
    assert not list(tmp_path.glob(".*.tmp"))


def test_the_cli_exports_everyone_as_csv(logged, tmp_path):
    out = tmp_path / "all.csv"
    p = run("--all", "--attempts", str(logged), "--out", str(out))
    assert p.returncode == 0, p.stderr
    assert {r["trainee_id"] for r in csv.DictReader(out.open())} == {"nurse-1", "secret-other"}
    p = run("--all", "--attempts", str(logged), "--format", "html")
    assert p.returncode == 2 and "--format" in p.stderr and "Traceback" not in p.stderr


def test_an_unknown_trainee_is_exit_2_and_names_no_other_trainee(logged, tmp_path):
    p = run("--trainee", "nobody", "--attempts", str(logged), "--out", str(tmp_path / "x.html"))
    assert p.returncode == 2
    assert "nobody" in p.stderr and "no answers or sign-offs" in p.stderr
    assert "nurse-1" not in p.stderr and "secret-other" not in p.stderr
    assert "Traceback" not in p.stderr and not (tmp_path / "x.html").exists()


def test_the_cli_never_creates_an_attempt_log(tmp_path):
    missing = tmp_path / "none.sqlite"
    p = run("--trainee", "t1", "--attempts", str(missing))
    assert p.returncode == 2 and "no attempt log" in p.stderr and not missing.exists()
    p = run("--attempts", str(missing))
    assert p.returncode == 2  # --trainee or --all is required
