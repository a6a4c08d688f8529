"""The command line: help, JSON keys of the spec, the text worksheet, exit status 2."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from conftest import CASES, make_record

from kdsupport.cli import main

SPEC_KEYS = {
    "format",
    "case_id",
    "kb_version",
    "trd",
    "staging",
    "scales",
    "outcome",
    "suicide_risk",
    "predose_bp",
    "modalities",
    "sessions",
    "disclaimer",
}


def kdsupport(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "kdsupport", *args], capture_output=True, text=True, timeout=120
    )


def test_help_lists_every_command():
    proc = kdsupport("--help")
    assert proc.returncode == 0
    for command in ("assess", "validate", "schema", "kb"):
        assert command in proc.stdout


def test_no_command_prints_help_and_exits_2(capsys):
    assert main([]) == 2
    assert "assess" in capsys.readouterr().out


def test_json_has_the_spec_keys():
    data = json.loads(kdsupport("assess", str(CASES / "tr-001.yaml")).stdout)
    assert SPEC_KEYS <= set(data)
    assert data["format"] == "kdsupport-assessment/2"
    t = data["trd"]
    assert {
        "status",
        "definition",
        "failed_adequate_antidepressants",
        "unknown_trials",
        "trials",
        "reasons",
    } <= set(t)
    assert {"drug", "adequacy", "outcome", "reasons"} <= set(t["trials"][0])
    assert {"code", "message", "sources"} <= set(t["reasons"][0])
    assert set(data["staging"]) == {"thase_rush", "mgh_s", "msm"}
    assert {"stage"} <= set(data["staging"]["thase_rush"]) and {"score"} <= set(
        data["staging"]["mgh_s"]
    )
    assert {"score", "band", "components"} <= set(data["staging"]["msm"])
    assert set(data["staging"]["msm"]["components"]) == {
        "duration",
        "severity",
        "failures",
        "augmentation",
        "ect",
    }
    assert {"instrument", "when", "total", "band", "flags"} <= set(data["scales"][0])
    assert {"instrument", "baseline", "latest", "response", "remission"} <= set(data["outcome"])
    assert {"level", "action", "reasons"} <= set(data["suicide_risk"])
    assert set(data["modalities"]) == {"esketamine_nasal", "iv_ketamine", "at_home_ketamine"}
    assert {"item", "severity", "present", "sources"} <= set(
        data["modalities"]["esketamine_nasal"]["findings"][0]
    )
    assert {"number", "checks", "check_kinds"} <= set(data["sessions"][0])
    assert set(data["sessions"][0]["check_kinds"]) == set(data["sessions"][0]["checks"])
    assert set(data["sessions"][0]["check_kinds"].values()) == {"compliance", "finding"}
    assert isinstance(data["alerts"], list)
    # every cited source is in the bibliography with its verification status; the project's
    # own contract is project_contract, never verified (spec 5.7)
    cited = {s for section in ("trd",) for r in data[section]["reasons"] for s in r["sources"]}
    assert cited <= set(data["sources"])
    assert {v["verification"] for v in data["sources"].values()} <= {
        "verified",
        "secondary",
        "unverified",
        "project_contract",
    }
    assert data["sources"]["case_record_spec_v1"]["verification"] == "project_contract"


@pytest.mark.parametrize("case", sorted(p.name for p in CASES.glob("*.yaml")))
def test_text_worksheet(case):
    proc = kdsupport("assess", str(CASES / case), "--format", "text")
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    for heading in (
        "1. TREATMENT-RESISTANT DEPRESSION",
        "2. STAGING",
        "5. SUICIDE RISK",
        "6. BLOOD PRESSURE",
        "7. SCREENING",
        "9. UNKNOWNS",
        "10. SOURCES CITED",
        "Not a medical device",
    ):
        assert heading in out
    assert "knowledge base 20" in out
    assert max(len(line) for line in out.splitlines()) <= 110


def test_text_names_threshold_source_and_verification():
    out = kdsupport("assess", str(CASES / "tr-004.yaml"), "--format", "text").stdout
    assert (
        "weeks at that dose not recorded; the US label (MGH-ATRQ) definition needs >= 6 weeks"
        in out
    )
    assert "janssen_atrq_nonresponse: UNVERIFIED" in out
    assert "- trials[1].weeks  -> needed for trd" in out
    assert "NOT ASSESSED (warning item): Interstitial or ulcerative cystitis" in out


def test_invalid_input_exit_2_one_line_per_problem_no_traceback(tmp_path):
    rec = make_record()
    rec["trials"][0]["weeks"] = -3
    rec["patient"]["sex"] = "man"
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(rec))
    proc = kdsupport("assess", str(path))
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert "Traceback" not in proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.startswith("error:")]
    assert len(lines) == 2
    assert any("trials[0].weeks: must be > 0, got -3" in ln for ln in lines)
    assert any("patient.sex: must be one of" in ln for ln in lines)


def test_non_synthetic_record_is_refused(tmp_path):
    path = tmp_path / "real.json"
    path.write_text(json.dumps(make_record(synthetic=False)))
    proc = kdsupport("assess", str(path))
    assert proc.returncode == 2 and "synthetic records only" in proc.stderr


def test_missing_file_and_bad_option_exit_2(tmp_path):
    assert kdsupport("assess", str(tmp_path / "nope.yaml")).returncode == 2
    proc = kdsupport("assess", str(CASES / "tr-001.yaml"), "--definition", "nonsense")
    assert proc.returncode == 2 and "invalid choice" in proc.stderr


def test_validate_command(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(make_record(id="BAD")))
    proc = kdsupport("validate", str(CASES / "tr-001.yaml"), str(bad))
    assert proc.returncode == 2
    assert "ok:" in proc.stdout and "id: must use only lower-case" in proc.stderr


def test_schema_command_prints_json_schema():
    proc = kdsupport("schema")
    schema = json.loads(proc.stdout)
    assert schema["title"].startswith("kdsupport case record")


def test_kb_command_summarises_and_checks():
    proc = kdsupport("kb", "--sources")
    assert proc.returncode == 0
    assert "TRD definitions: label_atrq (default), eupearl2022, fava2020" in proc.stdout
    assert "[unverified]" in proc.stdout
    check = kdsupport("kb", "--check")
    assert check.returncode == 0 and "0 problem(s)" in check.stdout


def test_console_script_is_installed():
    import shutil

    exe = shutil.which("kdsupport") or str(
        __import__("pathlib").Path(sys.executable).with_name("kdsupport")
    )
    proc = subprocess.run([exe, "--version"], capture_output=True, text=True)
    assert proc.returncode == 0 and proc.stdout.startswith("kdsupport ")
