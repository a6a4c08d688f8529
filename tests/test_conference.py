"""Case-conference reports, the cohort-outcomes notebook and the referral summary."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from conftest import CASES, ROOT

from kdsupport.records.case import load_case
from kdsupport.render.conference import render_conference
from kdsupport.rules.assess import assess

CASE_IDS = sorted(p.stem for p in CASES.glob("*.yaml"))


def expected_figures(record) -> int:
    """Timeline always; session vitals and sedation/dissociation with sessions; trajectory with an outcome."""
    return 1 + (2 if record.sessions else 0) + (1 if assess(record).outcome is not None else 0)


@pytest.mark.slow
@pytest.mark.parametrize("case_id", CASE_IDS)
def test_conference_report_for_every_case(case_id, tmp_path):
    record = load_case(CASES / f"{case_id}.yaml")
    a = assess(record).to_json()
    out = render_conference(case_id, tmp_path / f"{case_id}.html", progress=False)
    html = out.read_text()
    # the case's TRD status and every modality status are in the report
    assert f">{a['trd']['status'].replace('_', ' ')}</span>" in html
    for mod in a["modalities"].values():
        word = mod["status"].replace("_", " ")
        assert mod["title"] in html and f"kd-badge kd-{mod['status']}" in html
        assert f"{word}</span>" in html
    # every session check is shown in the words of its kind; a hazard that happened is a warning
    for s in a["sessions"]:
        for name, status in s["checks"].items():
            assert f"kd-{s['check_kinds'][name]}-{status}" in html
    assert html.count('<img src="data:image/png;base64,') == expected_figures(record)
    # code-free and self-contained
    assert "<script" not in html and "import " not in html and "display(" not in html
    assert not re.findall(r"""(?:src|href)=["']https?://""", html)
    assert "Not a medical device" in html or "not a medical device" in html.lower()


def test_conference_bad_case_id_lists_the_available_ones(tmp_path):
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "kdsupport",
            "conference",
            "tr-999",
            "--out",
            str(tmp_path / "x.html"),
        ],
        capture_output=True,
        text=True,
    )
    assert (
        proc.returncode == 2
        and "curated cases: tr-001" in proc.stderr
        and "Traceback" not in proc.stderr
    )
    assert not (tmp_path / "x.html").exists()


@pytest.mark.slow
def test_conference_command_shows_progress_and_writes_the_file(tmp_path):
    out = tmp_path / "report.html"
    proc = subprocess.run(
        [sys.executable, "-m", "kdsupport", "conference", "tr-002", "--out", str(out)],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Executing" in proc.stderr  # the progress bar
    assert out.exists() and f"wrote {out}" in proc.stdout


@pytest.mark.slow
def test_cohort_outcomes_notebook_runs_on_the_committed_cohort(tmp_path):
    import json

    import papermill as pm

    nb = ROOT / "notebooks" / "instructor" / "11_cohort_outcomes.ipynb"
    out = tmp_path / "11.ipynb"
    pm.execute_notebook(
        str(nb), str(out), cwd=str(nb.parent), kernel_name="python3", progress_bar=False
    )
    text = json.dumps(json.loads(out.read_text()))
    assert text.count("data:image/png;base64,") == 8
    assert '"output_type": "error"' not in text


def test_referral_summary_markdown_and_html(tmp_path):
    case = CASES / "tr-002.yaml"
    md = subprocess.run(
        [sys.executable, "-m", "kdsupport", "summary", str(case), "--kind", "referral"],
        capture_output=True,
        text=True,
    )
    assert md.returncode == 0
    text = md.stdout
    assert "| 2 | citalopram |" in text and "4 weeks is shorter than the 6 weeks" in text
    assert "TRD criteria under `label_atrq`: NOT MET" in text
    assert "## Staging" in text and "## Screening status" in text and "## Sources" in text
    html_path = tmp_path / "referral.html"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "kdsupport",
            "summary",
            str(case),
            "--out",
            str(html_path),
            "--definition",
            "eupearl2022",
        ],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    html = html_path.read_text()
    assert html.startswith("<!DOCTYPE html>") and "<table>" in html and "<script" not in html
    assert "TRD criteria under <code>eupearl2022</code>: MET" in html


def test_summary_of_an_invalid_record_exits_2(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("format: kdsupport-case/1\nid: x\nsynthetic: false\npatient: {age_years: 40}\n")
    proc = subprocess.run(
        [sys.executable, "-m", "kdsupport", "summary", str(bad)], capture_output=True, text=True
    )
    assert proc.returncode == 2 and "synthetic" in proc.stderr


@pytest.mark.slow
def test_conference_takes_a_case_file_as_well_as_an_id(tmp_path):
    import yaml

    rec = yaml.safe_load((CASES / "tr-011.yaml").read_text())
    rec["id"] = "tr-811"
    rec["title"] = "A copy of tr-011 outside the bundled cases"
    path = tmp_path / "elsewhere.yaml"
    path.write_text(yaml.safe_dump(rec, sort_keys=False))
    out = tmp_path / "report.html"
    proc = subprocess.run(
        [sys.executable, "-m", "kdsupport", "conference", str(path), "--out", str(out), "--quiet"],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    html = out.read_text()
    assert "tr-811" in html and "A copy of tr-011 outside the bundled cases" in html
