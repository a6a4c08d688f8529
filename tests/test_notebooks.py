"""Every notebook runs headless (papermill) and stays thin (hygiene)."""

from __future__ import annotations

import ast
import json

import nbformat
import papermill as pm
import pytest
from conftest import CASES, ROOT

NOTEBOOKS = sorted((ROOT / "notebooks").rglob("*.ipynb"), key=lambda p: p.name)
COURSE = ROOT / "notebooks" / "course"
INSTRUCTOR = ROOT / "notebooks" / "instructor"
IDS = [p.stem for p in NOTEBOOKS]
ALLOWED_IMPORTS = ("kdsupport", "IPython.display")
EXPECTED = {
    "00_start_here",
    "01_trd_and_adequate_trials",
    "02_staging",
    "03_safety_screening",
    "04_session_monitoring",
    "05_case_walkthrough",
    "06_evidence_and_claims",
    "07_at_home_ketamine",
    "09_session_day",
}
INSTRUCTOR_PAGES = {"08_instructor_dashboard", "10_case_conference", "11_cohort_outcomes"}


def test_the_curriculum_is_complete():
    assert EXPECTED <= {p.stem for p in COURSE.glob("*.ipynb")}
    # instructor pages live apart from the course: the trainee app cannot serve them
    assert {p.stem for p in INSTRUCTOR.glob("*.ipynb")} == INSTRUCTOR_PAGES
    assert not INSTRUCTOR_PAGES & {p.stem for p in COURSE.glob("*.ipynb")}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_notebook_hygiene(path):
    nb = nbformat.read(path, as_version=4)
    assert (
        nb.metadata["kernelspec"]["name"] == "python3"
        and nb.metadata["language_info"]["name"] == "python"
    )
    first = nb.cells[0]
    assert first.cell_type == "markdown" and "Training use only" in first.source
    assert "Learning objectives" in first.source or path.stem in (
        "08_instructor_dashboard",
        "10_case_conference",
    )
    code = [c for c in nb.cells if c.cell_type == "code"]
    params = [c for c in code if "parameters" in c.metadata.get("tags", [])]
    assert len(params) == 1, "exactly one tagged parameters cell"
    for cell in code:
        tree = ast.parse(cell.source)
        for node in ast.walk(tree):
            assert not isinstance(
                node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)
            ), cell.source
            assert not isinstance(node, (ast.For, ast.While, ast.comprehension)), cell.source
            if isinstance(node, ast.Import):
                assert all(a.name.startswith(ALLOWED_IMPORTS) for a in node.names), cell.source
            if isinstance(node, ast.ImportFrom):
                assert (node.module or "").startswith(ALLOWED_IMPORTS), cell.source
            if (
                cell is not params[0]
                and isinstance(node, ast.Constant)
                and type(node.value) in (int, float)
            ):
                raise AssertionError(
                    f"number {node.value!r} outside the parameters cell: {cell.source}"
                )
        if cell is params[0]:
            assert all(
                isinstance(s, ast.Assign) and isinstance(s.value, ast.Constant) for s in tree.body
            )
        checked = cell.source.lstrip().startswith("# NBVAL_CHECK_OUTPUT")
        assert checked or not cell.outputs, "only nbval-checked cells keep outputs"
        assert all(o.get("output_type") != "error" for o in cell.outputs)


# the walkthrough and the conference notebook run for every case in their own tests, the session
# day for every case with session-day data; the cohort notebook in test_conference.py
_PER_CASE = ("05_case_walkthrough", "09_session_day", "10_case_conference", "11_cohort_outcomes")


def _run(path, tmp_path, **params):
    out = tmp_path / f"{path.stem}.out.ipynb"
    pm.execute_notebook(
        str(path),
        str(out),
        parameters=params,
        cwd=str(path.parent),
        kernel_name="python3",
        progress_bar=False,
        log_output=False,
    )
    nb = json.loads(out.read_text())
    for cell in nb["cells"]:
        for o in cell.get("outputs", []):
            assert o.get("output_type") != "error", o
    return nb


@pytest.mark.slow
@pytest.mark.parametrize(
    "path",
    [p for p in NOTEBOOKS if p.stem not in _PER_CASE],
    ids=[i for i in IDS if i not in _PER_CASE],
)
def test_notebook_executes(path, tmp_path):
    params = {}
    nb = nbformat.read(path, as_version=4)
    source = next(c.source for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    if "attempts_db" in source:
        params["attempts_db"] = str(tmp_path / "attempts.sqlite")
    if "demo_attempts" in source:
        params.update(demo_attempts=2, export_dir=str(tmp_path / "exports"))
    _run(path, tmp_path, **params)


@pytest.mark.slow
@pytest.mark.parametrize("case", sorted(p.stem for p in CASES.glob("*.yaml")))
def test_walkthrough_executes_for_every_case(case, tmp_path):
    nb = _run(
        COURSE / "05_case_walkthrough.ipynb",
        tmp_path,
        case_id=case,
        attempts_db=str(tmp_path / "attempts.sqlite"),
    )
    shown = json.dumps(nb)
    assert "application/vnd.jupyter.widget-view+json" in shown


def _session_day_cases():
    from kdsupport.widgets.session_day import session_day_cases

    return [c for c, _ in session_day_cases()]


@pytest.mark.slow
@pytest.mark.parametrize("case", _session_day_cases())
def test_session_day_executes_for_every_session_day_case(case, tmp_path):
    nb = _run(
        COURSE / "09_session_day.ipynb",
        tmp_path,
        case_id=case,
        attempts_db=str(tmp_path / "attempts.sqlite"),
    )
    shown = json.dumps(nb)
    assert "application/vnd.jupyter.widget-view+json" in shown
    assert "Training use only" in shown
