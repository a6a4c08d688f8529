"""The attempt log: durable, concurrent, versioned, exportable."""

from __future__ import annotations

import csv
import multiprocessing as mp
import os
import sqlite3

import pytest

from kdsupport.errors import AttemptStoreError, InvalidInputError
from kdsupport.training.attempts import SCHEMA_VERSION, Attempt, SQLiteAttemptStore, open_store


def attempt(i: int = 0, trainee: str = "t1", correct: bool = True) -> Attempt:
    return Attempt(trainee, "tr-001", f"q{i % 5 + 1}", ["a", i], correct, Attempt.now(), "kb", "0")


def test_wal_mode_and_schema_version(tmp_path):
    store = SQLiteAttemptStore(tmp_path / "a.sqlite")
    assert store.schema_version == SCHEMA_VERSION
    mode = sqlite3.connect(tmp_path / "a.sqlite").execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"


def test_record_and_read_back_with_filters(tmp_path):
    store = open_store(f"sqlite:///{tmp_path / 'a.sqlite'}")
    store.record(attempt(1, "t1", True))
    store.record(attempt(2, "t2", False))
    got = store.attempts()
    assert [a.trainee_id for a in got] == ["t1", "t2"]
    assert got[0].answer == ["a", 1] and got[1].correct is False
    assert [a.trainee_id for a in store.attempts(trainee_id="t2")] == ["t2"]


def _writer(path: str, who: str, n: int) -> None:
    store = SQLiteAttemptStore(path)
    for i in range(n):
        store.record(attempt(i, who))


def test_several_trainees_answering_at_once_lose_nothing(tmp_path):
    path = str(tmp_path / "a.sqlite")
    SQLiteAttemptStore(path)
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(path, f"t{k}", 60)) for k in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    rows = SQLiteAttemptStore(path).attempts()
    assert len(rows) == 240
    assert {r.trainee_id for r in rows} == {"t0", "t1", "t2", "t3"}


def _record_then_die(path: str) -> None:
    store = SQLiteAttemptStore(path)
    for i in range(25):
        store.record(attempt(i))
    os._exit(1)  # the app is killed: no close, no clean shutdown


def test_committed_answers_survive_a_killed_app(tmp_path):
    path = str(tmp_path / "a.sqlite")
    p = mp.get_context("spawn").Process(target=_record_then_die, args=(path,))
    p.start()
    p.join(60)
    assert p.exitcode == 1
    assert len(SQLiteAttemptStore(path).attempts()) == 25


def test_export_csv(tmp_path):
    store = SQLiteAttemptStore(tmp_path / "a.sqlite")
    store.record(attempt(1))
    out = store.export_csv(tmp_path / "export" / "attempts.csv")
    rows = list(csv.DictReader(out.open()))
    assert (
        rows[0]["trainee_id"] == "t1"
        and rows[0]["correct"] == "1"
        and rows[0]["answer"] == '["a", 1]'
    )
    assert list(rows[0]) == [
        "trainee_id",
        "case_id",
        "question_id",
        "answer",
        "correct",
        "answered_at",
        "kb_version",
        "kdsupport_version",
    ]
    df = store.to_dataframe()
    assert len(df) == 1 and df["correct"].dtype == bool


def test_newer_schema_is_refused(tmp_path):
    path = tmp_path / "a.sqlite"
    sqlite3.connect(path).execute(f"PRAGMA user_version={SCHEMA_VERSION + 1}")
    with pytest.raises(AttemptStoreError, match="newer than this kdsupport"):
        SQLiteAttemptStore(path)


def test_server_databases_are_not_plugged_in_yet():
    with pytest.raises(InvalidInputError, match="scheme 'postgresql' is not supported yet"):
        open_store("postgresql://host/db")


def test_record_many_is_one_transaction(tmp_path):
    store = SQLiteAttemptStore(tmp_path / "a.sqlite")
    good = [attempt(i) for i in range(3)]
    store.record_many(good)
    assert len(store.attempts()) == 3
    broken = [
        attempt(9),
        Attempt("t", "c", "q", {1, 2}, True, Attempt.now(), "kb", "0"),
    ]  # a set is not JSON
    with pytest.raises(TypeError):
        store.record_many(broken)
    assert len(store.attempts()) == 3  # nothing half-written


def test_a_foreign_database_is_refused_without_being_changed(tmp_path):
    import sqlite3

    from kdsupport.training.attempts import AttemptStoreError, open_store

    path = tmp_path / "other-program.sqlite"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE users (id INTEGER, name TEXT)")
    conn.commit()
    conn.close()
    before = path.read_bytes()
    with pytest.raises(AttemptStoreError, match="not a kdsupport attempt log"):
        open_store(path)
    assert path.read_bytes() == before  # not switched to WAL, nothing written
    assert not (tmp_path / "other-program.sqlite-wal").exists()


def test_servers_opening_one_new_log_at_once_all_succeed(tmp_path):
    """Two apps started together used to refuse the log with 'database is locked'."""
    import subprocess
    import sys
    import time

    path = tmp_path / "new.sqlite"
    start = time.time() + 1.5
    code = (
        "import time,sys\n"
        f"while time.time() < {start}: pass\n"
        "from kdsupport.training.attempts import SQLiteAttemptStore\n"
        f"s = SQLiteAttemptStore({str(path)!r}); s.check(); print('ok')\n"
    )
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(6)
    ]
    outs = [p.communicate(timeout=60) for p in procs]
    assert [o.strip() for o, _ in outs] == ["ok"] * 6, [e for _, e in outs]
