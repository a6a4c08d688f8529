"""Every input is hostile: the CLI, the input gate, the outputs, cohort tables and the attempt log.

Each test here reproduces one finding of the reliability review (issue 9) and asserts what now
happens: exit status 2 with one line per problem naming the path or field, no traceback,
nothing written half-way.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import shutil
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml
from conftest import CASES, ROOT, make_record, rehash

from kdsupport.batch.screen import screen_path
from kdsupport.cli import main
from kdsupport.errors import AttemptStoreError, InvalidInputError, OutputError
from kdsupport.files.safe_write import atomic_writer, write_atomically
from kdsupport.records.case import load_case, validate_case
from kdsupport.rules.assess import assess
from kdsupport.training.attempts import Attempt, AttemptRecorder, SQLiteAttemptStore

COHORT = ROOT / "data" / "synthetic" / "cohort"


def cli(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kdsupport", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
    )


def run_main(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def write(tmp_path: Path, name: str, data: object) -> Path:
    path = tmp_path / name
    if isinstance(data, (dict, list)):
        path.write_text(json.dumps(data) if name.endswith(".json") else yaml.safe_dump(data))
    else:
        path.write_text(str(data))
    return path


def one_line_per_problem(err: str) -> None:
    lines = err.strip().splitlines()
    assert lines and lines[-1].startswith("kdsupport: "), err
    n = int(lines[-1].split()[1])
    assert len(lines) == n + 1, err
    assert "Traceback" not in err and "internal error" not in err


# ---------------------------------------------------------------- 7. special paths and sizes
@pytest.mark.parametrize(
    "special, words",
    [
        ("fifo", "a FIFO"),
        ("/dev/zero", "a character device"),
        ("/dev/urandom", "a character device"),
        ("dir", "a directory, not a regular file"),
        ("loop", "symlink loop"),
        ("long", "file name too long"),
        ("missing", "file not found"),
    ],
)
def test_special_paths_exit_2_quickly_naming_the_path(tmp_path, special, words):
    if special == "fifo":
        path = tmp_path / "pipe.yaml"
        os.mkfifo(path)
    elif special == "dir":
        path = tmp_path / "adir.yaml"
        path.mkdir()
    elif special == "loop":
        path = tmp_path / "loop.yaml"
        os.symlink(path, path)
    elif special == "long":
        path = tmp_path / ("x" * 300 + ".yaml")
    elif special == "missing":
        path = tmp_path / "missing.yaml"
    else:
        path = Path(special)
    for command in ("assess", "validate", "summary"):
        proc = cli(command, str(path), timeout=20)  # a hang or a 4 GB read would time out
        assert proc.returncode == 2, proc.stderr
        assert words in proc.stderr and str(path)[:40] in proc.stderr, proc.stderr
        one_line_per_problem(proc.stderr)


def test_a_record_over_the_size_cap_is_refused_before_it_is_read(tmp_path, capsys, monkeypatch):
    big = tmp_path / "big.yaml"
    big.write_text("# " + "x" * 3_000_000 + "\n")
    code, _, err = run_main(capsys, "assess", str(big))
    assert code == 2 and "the limit is 2,097,152 bytes" in err
    monkeypatch.setenv("KDSUPPORT_MAX_RECORD_BYTES", "100")
    code, _, err = run_main(capsys, "validate", str(CASES / "tr-001.yaml"))
    assert code == 2 and "the limit is 100 bytes" in err


def test_non_utf8_text_is_refused(tmp_path, capsys):
    bad = tmp_path / "latin1.yaml"
    bad.write_bytes("title: caf\xe9\n".encode("latin-1"))
    code, _, err = run_main(capsys, "validate", str(bad))
    assert code == 2 and "not UTF-8 text" in err


# ---------------------------------------------------------------- 8. non-finite, magnitudes
@pytest.mark.parametrize(
    "field, value, message",
    [
        ("weeks", float("inf"), "trials[0].weeks: must be a finite number"),
        ("weeks", float("nan"), "trials[0].weeks: must be a finite number"),
        ("weeks", 100000, "trials[0].weeks: must be <= 520"),
        ("dose_mg_per_day", 1e9, "trials[0].dose_mg_per_day: must be <= 5000"),
    ],
)
def test_non_finite_and_implausible_trial_values_are_invalid(
    tmp_path, capsys, field, value, message
):
    rec = make_record()
    rec["trials"][0][field] = value
    path = write(tmp_path, "r.yaml", rec)
    assert (".inf" in path.read_text()) == (value == float("inf"))
    code, out, err = run_main(capsys, "assess", str(path))
    assert code == 2 and out == "" and message in err, err


def test_json_infinity_and_overflow_are_refused(tmp_path, capsys):
    text = json.dumps(make_record())
    for bad in ('"weeks": Infinity', '"weeks": NaN', '"weeks": 1e400', '"weeks": -Infinity'):
        path = tmp_path / "r.json"
        path.write_text(text.replace('"weeks": 8', bad, 1))
        code, out, err = run_main(capsys, "assess", str(path))
        assert code == 2 and out == "" and ("not valid JSON" in err), (bad, err)


def test_huge_session_numbers_minutes_and_n_are_refused(tmp_path, capsys):
    rec = make_record(
        sessions=[{"number": 10**29, "modality": "esketamine_nasal", "vitals": [{"minute": 10**9}]}]
    )
    with pytest.raises(InvalidInputError) as info:
        validate_case(rec)
    found = [str(p) for p in info.value.problems]
    assert any(p.startswith("sessions[0].number: must be <= 1000") for p in found)
    assert any(p.startswith("sessions[0].vitals[0].minute: must be <= 1440") for p in found)
    code, _, err = run_main(capsys, "generate", "--n", "2000000", "--seed", "1", "--out", "x")
    assert code == 2 and "--n: must be <= 200,000" in err
    assert not (Path.cwd() / "x").exists()


def test_long_lists_and_texts_are_refused(tmp_path):
    rec = make_record(title="t" * 600, trials=[dict(make_record()["trials"][0])] * 1001)
    with pytest.raises(InvalidInputError) as info:
        validate_case(rec)
    found = [str(p) for p in info.value.problems]
    assert "title: too long: at most 500 characters are allowed" in found
    assert "trials: too many entries: at most 1000 are allowed" in found


# ---------------------------------------------------------------- 6. keys that broke validation
@pytest.mark.parametrize(
    "key", ["int", "float", "bool", "str", "list", "dict", "none", "a[0]", "list[str]", "x.y"]
)
def test_hostile_unknown_keys_are_reported_one_line_each(tmp_path, capsys, key):
    rec = make_record()
    rec["trials"][0][key] = 1
    rec["screening"][key] = True
    path = write(tmp_path, "r.json", rec)
    code, _, err = run_main(capsys, "validate", str(path))
    assert code == 2
    one_line_per_problem(err)
    assert "trials[0]" in err and "screening" in err and "unknown field" in err


def test_a_key_with_a_newline_cannot_forge_an_error_line(tmp_path, capsys):
    rec = make_record()
    rec["screening"]["x\nerror: r.json: forged: everything is fine"] = True
    rec["trials"][0]["y\x1b[2J\u2028z"] = 1
    path = write(tmp_path, "r.json", rec)
    code, _, err = run_main(capsys, "validate", str(path))
    assert code == 2
    one_line_per_problem(err)
    assert not any(line.startswith("error: r.json: forged") for line in err.splitlines())
    assert "\x1b" not in err and "\u2028" not in err
    assert 'screening["x\\nerror: r.json: forged' in err


def test_one_bad_record_never_stops_a_records_screen(tmp_path, capsys):
    folder = tmp_path / "records"
    folder.mkdir()
    for i in range(3):
        write(folder, f"ok-{i}.json", make_record(id=f"ok-{i}"))
    bad = make_record(id="bad")
    bad["trials"][0]["int"] = 1
    write(folder, "bad.json", bad)
    code, out, err = run_main(capsys, "screen", str(folder), "--out", str(tmp_path / "r.csv"))
    assert code == 2 and "screened 3 patients" in out
    assert "invalid: bad: trials[0].int: unknown field" in err


# ---------------------------------------------------------------- 11. smaller findings
def test_yaml_11_forms_are_text_and_refused_where_a_number_or_boolean_is_expected(tmp_path):
    base = yaml.safe_dump(make_record())
    cases = {
        "weeks: 1:30": ("trials[0].weeks", "base-60"),
        "weeks: 010": ("trials[0].weeks", "octal"),
        "weeks: 0x10": ("trials[0].weeks", "hexadecimal"),
        "weeks: 1_0": ("trials[0].weeks", "digit separators"),
    }
    for text, (field, words) in cases.items():
        path = tmp_path / "r.yaml"
        path.write_text(base.replace("weeks: 8", text, 1))
        with pytest.raises(InvalidInputError) as info:
            load_case(path)
        msg = next(str(p) for p in info.value.problems if p.path == field)
        assert words in msg and "must be a number" in msg, msg
    path = tmp_path / "yes.yaml"
    path.write_text(base.replace("synthetic: true", "synthetic: yes"))
    with pytest.raises(InvalidInputError, match="synthetic: must be true"):
        load_case(path)
    path.write_text(base.replace("pregnant: false", "pregnant: no"))
    with pytest.raises(InvalidInputError, match="patient.pregnant: must be true or false"):
        load_case(path)


def test_duplicate_keys_tags_and_aliases_are_refused_in_yaml_and_json(tmp_path):
    text = yaml.safe_dump(make_record())
    for bad, words in [
        (text + "synthetic: true\n", "duplicate key synthetic"),
        (text.replace("weeks: 8", "weeks: !!int 010", 1), "YAML tags"),
        (text.replace("id: test-case", "id: &a test-case\ntitle: *a"), "anchors and aliases"),
    ]:
        path = tmp_path / "r.yaml"
        path.write_text(bad)
        with pytest.raises(InvalidInputError, match=words):
            load_case(path)
    path = tmp_path / "r.json"
    path.write_text(json.dumps(make_record())[:-1] + ', "synthetic": true}')
    with pytest.raises(InvalidInputError, match="duplicate key synthetic"):
        load_case(path)


def test_a_byte_order_mark_is_accepted_in_json_and_yaml(tmp_path):
    for name, text in [
        ("r.json", json.dumps(make_record())),
        ("r.yaml", yaml.safe_dump(make_record())),
    ]:
        path = tmp_path / name
        path.write_bytes(b"\xef\xbb\xbf" + text.encode())
        assert load_case(path).id == "test-case"


def test_when_with_a_trailing_newline_is_invalid():
    rec = make_record()
    rec["assessments"][0]["when"] = "baseline\n"
    with pytest.raises(InvalidInputError, match="assessments\\[0\\].when: must be 'baseline'"):
        validate_case(rec)
    rec = make_record(id="tr-001\n")
    with pytest.raises(InvalidInputError, match="id: must use only"):
        validate_case(rec)


def test_assess_with_an_unknown_definition_names_the_allowed_values():
    record = validate_case(make_record())
    with pytest.raises(InvalidInputError, match="definition: unknown TRD definition 'x'; allowed"):
        assess(record, definition="x")
    with pytest.raises(InvalidInputError, match="madrs_remission: unknown MADRS remission"):
        assess(record, madrs_remission="y")


def test_screen_on_a_missing_path_exits_2(tmp_path, capsys):
    code, _, err = run_main(capsys, "screen", str(tmp_path / "nowhere"))
    assert code == 2 and "does not exist" in err


# ---------------------------------------------------------------- 9. outputs written safely
def test_atomic_writer_keeps_the_old_file_on_failure_and_leaves_no_litter(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("old")
    with pytest.raises(OutputError, match="No space left"), atomic_writer(target) as fh:
        fh.write("half of a new file")
        raise OSError(28, "No space left on device")
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.txt"]
    write_atomically(target, "new")
    assert target.read_text() == "new" and sorted(p.name for p in tmp_path.iterdir()) == ["out.txt"]


def test_outputs_never_replace_devices_fifos_links_or_folders(tmp_path, capsys):
    fifo = tmp_path / "fifo.csv"
    os.mkfifo(fifo)
    link = tmp_path / "link.csv"
    link.symlink_to(tmp_path / "elsewhere.csv")
    targets = [fifo, link, tmp_path]
    if os.geteuid() == 0:  # a real character device node, as /dev/null is
        dev = tmp_path / "null.csv"
        os.mknod(dev, stat.S_IFCHR | 0o600, os.makedev(1, 3))
        targets.append(dev)
    for target in targets:
        before = os.lstat(target).st_mode
        code, _, err = run_main(
            capsys, "screen", str(CASES / "tr-001.yaml"), "--out", str(target), "--quiet"
        )
        assert code == 2 and "--out" in err, err
        code, _, err = run_main(capsys, "summary", str(CASES / "tr-001.yaml"), "--out", str(target))
        assert code == 2 and "--out" in err, err
        assert os.lstat(target).st_mode == before
    assert not (tmp_path / "elsewhere.csv").exists()


def test_summary_out_replaces_the_old_file_whole(tmp_path, capsys, monkeypatch):
    out = tmp_path / "referral.md"
    out.write_text("the old summary")
    import kdsupport.files.safe_write as sw

    def full_disk(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(sw.os, "replace", full_disk)
    code, _, err = run_main(capsys, "summary", str(CASES / "tr-002.yaml"), "--out", str(out))
    assert code == 1 and "No space left on device" in err and "unchanged" in err
    assert "internal error" not in err
    assert out.read_text() == "the old summary"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["referral.md"]
    monkeypatch.undo()
    code, _, _ = run_main(capsys, "summary", str(CASES / "tr-002.yaml"), "--out", str(out))
    assert code == 0 and out.read_text().startswith("# Treatment-history summary")


def test_generate_replaces_only_a_folder_holding_a_cohort_and_nothing_else(tmp_path, capsys):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "manifest.json").write_text("{}")
    (mine / "thesis.docx").write_text("years of work")
    code, _, err = run_main(capsys, "generate", "--n", "5", "--seed", "1", "--out", str(mine))
    assert code == 2 and "refused" in err
    assert (mine / "thesis.docx").read_text() == "years of work"
    out = tmp_path / "cohort"
    args = ("generate", "--n", "5", "--seed", "1", "--out", str(out), "--quiet")
    assert run_main(capsys, *args)[0] == 0
    assert run_main(capsys, *args)[0] == 0  # a cohort may be regenerated in place
    (out / "tables" / "notes.txt").write_text("mine")
    code, _, err = run_main(capsys, *args)
    assert code == 2 and "tables/notes.txt is not part of the cohort" in err
    assert (out / "tables" / "notes.txt").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


# ---------------------------------------------------------------- 5. screen on tables
@pytest.fixture
def cohort(tmp_path):
    out = tmp_path / "cohort"
    shutil.copytree(COHORT, out, ignore=shutil.ignore_patterns("records"))
    return out


def _edit_csv(path: Path, edit) -> None:
    rows = list(csv.reader(path.open(newline="")))
    edit(rows)
    with path.open("w", newline="") as fh:
        csv.writer(fh, lineterminator="\n").writerows(rows)


def test_one_unparsable_cell_is_reported_by_patient_and_the_rest_screened(cohort, capsys):
    pats = cohort / "tables" / "patients.csv"
    victim = {}

    def edit(rows):
        age = rows[0].index("age_years")
        rows[5][age] = "abc"
        victim["id"] = rows[5][0]

    _edit_csv(pats, edit)
    rehash(cohort)
    code, out, err = run_main(capsys, "screen", str(cohort), "--out", str(cohort / "r.csv"))
    assert code == 2 and "screened 499 patients" in out
    assert f"invalid: {victim['id']}: patients.age_years (line 6): must be a whole number" in err
    rows = list(csv.DictReader((cohort / "r.errors.csv").open()))
    assert [r["id"] for r in rows] == [victim["id"]]


@pytest.mark.parametrize(
    "damage, words",
    [
        ("duplicate_id", "appears 2 times"),
        ("empty_id", "empty patient id"),
        ("short_row", "the row has 3 fields"),
        ("weeks_inf", "must be a finite decimal number"),
        ("orphan", "not in patients.csv"),
        ("missing_column", "column weeks is missing from trials.csv"),
        ("nan_text", "must be a finite decimal number"),
        ("yes_bool", "must be True or False"),
        ("bad_when", "must be baseline, session-N"),
    ],
)
def test_damaged_tables_are_reported_and_the_good_rows_screened(cohort, damage, words):
    t = cohort / "tables"
    if damage == "duplicate_id":
        _edit_csv(t / "patients.csv", lambda rows: rows.append(list(rows[1])))
    elif damage == "empty_id":
        _edit_csv(t / "patients.csv", lambda rows: rows[3].__setitem__(0, ""))
    elif damage == "short_row":
        _edit_csv(t / "trials.csv", lambda rows: rows.__setitem__(2, rows[2][:3]))
    elif damage == "weeks_inf":
        _edit_csv(t / "trials.csv", lambda rows: rows[1].__setitem__(rows[0].index("weeks"), "inf"))
    elif damage == "nan_text":
        _edit_csv(t / "trials.csv", lambda rows: rows[1].__setitem__(rows[0].index("weeks"), "NaN"))
    elif damage == "orphan":
        _edit_csv(t / "trials.csv", lambda rows: rows[1].__setitem__(0, "syn-999999"))
    elif damage == "missing_column":

        def drop(rows):
            i = rows[0].index("weeks")
            for r in rows:
                del r[i]

        _edit_csv(t / "trials.csv", drop)
    elif damage == "yes_bool":
        _edit_csv(
            t / "patients.csv", lambda rows: rows[1].__setitem__(rows[0].index("pregnant"), "yes")
        )
    elif damage == "bad_when":
        _edit_csv(
            t / "assessments.csv",
            lambda rows: rows[1].__setitem__(rows[0].index("when"), "baseline\n"),
        )
    rehash(cohort)
    results, problems = screen_path(cohort)
    assert problems and any(words in p[2] for p in problems), problems[:5]
    bad = {p[0] for p in problems}
    assert not set(results["id"]) & bad and "" not in set(results["id"])
    real = {i for i in bad if i.startswith("syn-") and int(i[4:]) <= 500}
    if damage == "orphan":  # a row for a patient who does not exist: every patient screened
        assert real == set() and len(results) == 500
    elif damage == "missing_column":  # every patient with a trial row is affected
        with_trials = set(pd.read_csv(t / "trials.csv")["patient_id"])
        assert real == with_trials and len(results) == 500 - len(with_trials)
    else:
        assert 1 <= len(real) <= 2 and len(results) == 500 - len(real)


def test_a_manifest_that_is_not_synthetic_or_does_not_match_is_refused(cohort, capsys):
    manifest = json.loads((cohort / "manifest.json").read_text())
    (cohort / "manifest.json").write_text(json.dumps({**manifest, "synthetic": False}))
    code, out, err = run_main(capsys, "screen", str(cohort), "--out", str(cohort / "r.csv"))
    assert code == 2 and "synthetic must be true" in err and out == ""
    assert not (cohort / "r.csv").exists()
    (cohort / "manifest.json").write_text(json.dumps(manifest))
    with (cohort / "tables" / "ect.csv").open("a") as fh:
        fh.write("syn-000001,9,current,bilateral,12,5\n")
    code, _, err = run_main(capsys, "screen", str(cohort), "--out", str(cohort / "r.csv"))
    assert code == 2 and "sha256 of tables/ect.csv does not match" in err
    (cohort / "tables" / "ect.csv").unlink()
    rehash(cohort)
    code, _, err = run_main(capsys, "screen", str(cohort), "--out", str(cohort / "r.csv"))
    assert code == 2 and "ect.csv" in err and "file not found" in err


def test_a_valid_cohort_screens_as_before(cohort):
    results, problems = screen_path(cohort)
    assert problems == [] and len(results) == 500
    digest = hashlib.sha256((cohort / "tables" / "patients.csv").read_bytes()).hexdigest()
    assert (
        json.loads((cohort / "manifest.json").read_text())["files"]["tables/patients.csv"] == digest
    )


# ---------------------------------------------------------------- 10. the attempt log
def _attempt(qid: str = "q1") -> Attempt:
    return Attempt("t1", "tr-001", qid, "a", True, Attempt.now(), "kb", "v")


@pytest.mark.parametrize("kind", ["garbage", "foreign", "no_table", "wrong_columns"])
def test_an_unusable_attempt_log_is_refused_on_open(tmp_path, kind):
    path = tmp_path / "a.sqlite"
    if kind == "garbage":
        path.write_bytes(os.urandom(8192))
    else:
        con = sqlite3.connect(path)
        if kind == "foreign":
            con.execute("CREATE TABLE patients (id INTEGER)")
        elif kind == "no_table":
            con.execute("PRAGMA user_version=1")
        else:
            con.execute("CREATE TABLE attempts (id INTEGER PRIMARY KEY, who TEXT)")
            con.execute("PRAGMA user_version=1")
        con.commit()
        con.close()
    with pytest.raises(AttemptStoreError, match="refused"):
        SQLiteAttemptStore(path)


def test_the_app_refuses_to_start_on_an_unusable_attempt_log(tmp_path):
    bad = tmp_path / "a.sqlite"
    bad.write_bytes(b"this is not a database" * 100)
    proc = subprocess.run(
        [sys.executable, "-m", "kdsupport.app", "--attempts", str(bad), "--port", "1"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert "not a usable SQLite attempt log" in proc.stderr and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


class FailingStore(SQLiteAttemptStore):
    fail = True

    def record_many(self, attempts):
        if self.fail:
            raise AttemptStoreError(str(self.path), "the answer could not be written (disk I/O)")
        super().record_many(attempts)


def test_a_store_error_in_the_walkthrough_is_shown_and_the_answer_kept(tmp_path):
    from kdsupport.widgets import build_case_walkthrough

    store = FailingStore(tmp_path / "a.sqlite")
    w = build_case_walkthrough("tr-003", trainee_id="t1", store=store, figures="none")
    q = w.question
    w.submit(q.answer)
    assert "Correct" in w.card.feedback_html  # the feedback is still shown
    assert "NOT recorded" in w.save_status.value and 'role="alert"' in w.save_status.value
    assert w.retry_button.layout.display is None and len(w.recorder.pending) == 1
    store.fail = False
    w.retry_button.click()
    assert w.save_status.value == "" and w.retry_button.layout.display == "none"
    assert [a.question_id for a in store.attempts()] == [q.id]


def test_the_recorder_keeps_order_and_loses_nothing(tmp_path):
    store = FailingStore(tmp_path / "a.sqlite")
    rec = AttemptRecorder(store)
    assert rec.save(_attempt("q1")) and rec.save(_attempt("q2"))
    store.fail = False
    assert rec.save(_attempt("q3")) is None
    assert [a.question_id for a in store.attempts()] == ["q1", "q2", "q3"] and not rec.pending


# ---------------------------------------------------------------- 4. reports, conference
@pytest.fixture
def hostile_case_dir(tmp_path):
    rec = load_case(CASES / "tr-011.yaml").model_dump(mode="json", exclude_none=True)
    rec["id"] = "tr-hostile"
    rec["title"] = "See https://example.org/guide <script>alert(1)</script>\n# Forged"
    rec["vignette"] = "<img src=x onerror=alert(1)> [x](javascript:alert(1)) $\\foo$"
    rec["diagnosis"]["icd10"] = "F33.2](javascript:alert(1))<b>"
    (tmp_path / "data" / "cases").mkdir(parents=True)
    (tmp_path / "data" / "cases" / "tr-hostile.yaml").write_text(yaml.safe_dump(rec))
    return tmp_path / "data"


@pytest.mark.slow
def test_conference_renders_a_case_that_mentions_links_and_markup_as_text(
    hostile_case_dir, tmp_path
):
    from kdsupport.render.escaping import find_active_markup

    out = tmp_path / "report.html"
    proc = cli(
        "conference",
        "tr-hostile",
        "--data-dir",
        str(hostile_case_dir),
        "--out",
        str(out),
        "--quiet",
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    html = out.read_text()
    assert find_active_markup(html) == []
    assert "https://example.org/guide &lt;script&gt;" in html
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data", "report.html"]  # no litter


@pytest.mark.slow
def test_a_failing_conference_section_is_one_line_naming_it(hostile_case_dir, tmp_path):
    import nbformat

    nb = nbformat.read(ROOT / "notebooks" / "instructor" / "10_case_conference.ipynb", as_version=4)
    at = next(i for i, c in enumerate(nb.cells) if c.source.startswith("## Treatment sessions"))
    nb.cells.insert(at + 1, nbformat.v4.new_code_cell("raise ValueError('plot exploded')"))
    folder = tmp_path / "nbs"
    folder.mkdir()
    nbformat.write(nb, folder / "10_case_conference.ipynb")
    out = tmp_path / "report.html"
    proc = subprocess.run(
        [sys.executable, "-m", "kdsupport", "conference", "tr-011", "--out", str(out), "--quiet"],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "KDSUPPORT_NOTEBOOKS": str(folder)},
    )
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert lines == [
        "kdsupport: conference for tr-011: the section 'Treatment sessions' failed "
        "(ValueError: plot exploded); no report was written"
    ], proc.stderr
    assert not out.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["data", "nbs"]
