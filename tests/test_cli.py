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


# ---------------------------------------------------------------- one grammar (issue 12)
@pytest.mark.parametrize("command", ["assess", "summary", "validate"])
def test_every_case_command_takes_a_curated_id_or_a_path(command, capsys):
    by_id = main([command, "tr-001"])
    out_id = capsys.readouterr().out
    by_path = main([command, str(CASES / "tr-001.yaml")])
    out_path = capsys.readouterr().out
    assert by_id == by_path == 0
    if command == "validate":
        assert "(tr-001)" in out_id and "(tr-001)" in out_path
    else:
        assert out_id == out_path


def test_an_unknown_case_names_both_readings_and_the_curated_ids(capsys):
    assert main(["summary", "tr-999"]) == 2
    err = capsys.readouterr().err
    assert "neither a case-record file" in err and "tr-001" in err
    assert "Traceback" not in err
    assert main(["assess", "no-such-file.yaml"]) == 2
    assert "file not found" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["assess", "summary"])
def test_rule_options_are_named_the_same_on_every_assessing_command(command, capsys):
    args = ["--definition", "eupearl2022", "--severe-bp", "urgency_180_110"]
    assert main([command, "tr-001", *args, "--madrs-remission", "madrs_le10_escape_trd"]) == 0
    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_:
        main([command, "tr-001", "--severe-bp", "made-up"])
    assert exit_.value.code == 2
    assert "invalid choice: 'made-up'" in capsys.readouterr().err


def test_validate_show_answers_prints_the_rules_answer_and_why(capsys):
    assert main(["validate", "tr-011", "--show-answers"]) == 0
    out = capsys.readouterr().out
    assert "the rules' answer: Session 1" in out and "why: session 1" in out


def test_validate_show_answers_fails_when_the_case_file_disagrees(tmp_path, capsys):
    import yaml

    rec = yaml.safe_load((CASES / "tr-011.yaml").read_text())
    q = rec["teaching"]["questions"][2]  # a single-choice question
    others = [o["value"] for o in q["options"] if o["value"] != q["answer"]]
    q["answer"] = others[0]
    path = tmp_path / "tr-011-wrong.yaml"
    path.write_text(yaml.safe_dump(rec, sort_keys=False))
    assert main(["validate", str(path)]) == 0  # a valid record ...
    capsys.readouterr()
    assert main(["validate", str(path), "--show-answers"]) == 2  # ... whose answer key is wrong
    err = capsys.readouterr().err
    assert f"teaching.questions[{q['id']}].answer" in err and "the rules say" in err


def test_screen_takes_the_severe_bp_option_like_assess(tmp_path, capsys):
    out = tmp_path / "r.csv"
    args = ["screen", str(CASES / "tr-001.yaml"), "--out", str(out), "--quiet"]
    assert main([*args, "--severe-bp", "urgency_180_110"]) == 0
    assert "tr-001" in out.read_text()
