"""The attempt log: durable, concurrent, versioned, exportable, on SQLite and on PostgreSQL.

Every test taking the ``backend`` or ``store`` fixture runs twice: on an SQLite file and on a
new database of a throw-away PostgreSQL cluster (tests/postgres_cluster.py; skipped locally
without PostgreSQL's binaries, failed under CI).
"""

from __future__ import annotations

import csv
import multiprocessing as mp
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from postgres_cluster import free_port, postgresql_cluster  # noqa: F401 (a fixture)

from kdsupport.errors import AttemptStoreError, InvalidInputError
from kdsupport.training.attempts import (
    SCHEMA_VERSION,
    Attempt,
    AttemptRecorder,
    PostgreSQLAttemptStore,
    SignOff,
    SQLiteAttemptStore,
    default_store_location,
    display_location,
    open_store,
)
from kdsupport.training.store_base import COLUMNS, encode_row

ROOT = Path(__file__).resolve().parents[1]


def attempt(i: int = 0, trainee: str = "t1", correct: bool = True) -> Attempt:
    return Attempt(trainee, "tr-001", f"q{i % 5 + 1}", ["a", i], correct, Attempt.now(), "kb", "0")


# The schemas of version 1 as released (kdsupport 0.x before sign-offs), to test the upgrade.
SQLITE_V1 = [
    """
    CREATE TABLE IF NOT EXISTS attempts (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        trainee_id TEXT NOT NULL,
        case_id TEXT NOT NULL,
        question_id TEXT NOT NULL,
        answer TEXT NOT NULL,          -- JSON
        correct INTEGER NOT NULL CHECK (correct IN (0, 1)),
        answered_at TEXT NOT NULL,     -- ISO 8601, UTC
        kb_version TEXT NOT NULL,
        kdsupport_version TEXT NOT NULL
    )
    """,
    "CREATE INDEX IF NOT EXISTS attempts_trainee ON attempts (trainee_id)",
    "CREATE INDEX IF NOT EXISTS attempts_question ON attempts (case_id, question_id)",
]
POSTGRES_V1 = [
    "CREATE TABLE kdsupport_meta (name text PRIMARY KEY, value text NOT NULL)",
    """
    CREATE TABLE attempts (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        trainee_id text NOT NULL,
        case_id text NOT NULL,
        question_id text NOT NULL,
        answer text NOT NULL,
        correct boolean NOT NULL,
        answered_at text NOT NULL,
        kb_version text NOT NULL,
        kdsupport_version text NOT NULL
    )
    """,
    "CREATE INDEX attempts_trainee ON attempts (trainee_id)",
    "CREATE INDEX attempts_question ON attempts (case_id, question_id)",
    "INSERT INTO kdsupport_meta VALUES ('application', 'kdsupport attempt log'), "
    "('schema_version', '1')",
]
#: Text that must be kept as it was typed and never act on any output.
HOSTILE = [
    "<script>alert('x')</script>",
    '=HYPERLINK("http://evil.example","x")',
    "+1+1",
    "-2",
    "@SUM(A1)",
    "line one\r\nline two, \"quoted\" & 'single'",
    "\u202eevil\u202c \u2028 日本語 🙂",
    "\x1b[31mred\x1b[0m \x07bell",
    "' OR 1=1; DROP TABLE sign_offs; --",
    "<img src=x onerror=alert(1)>",
]


class SQLiteBackend:
    name = "sqlite"

    def __init__(self, path: Path):
        self.path = path
        self.location = f"sqlite:///{path}"

    def execute(self, *sql: str) -> None:
        conn = sqlite3.connect(self.path)
        for stmt in sql:
            conn.execute(stmt)
        conn.commit()
        conn.close()

    def tables(self) -> list[str]:
        conn = sqlite3.connect(self.path)
        rows = conn.execute("SELECT name FROM sqlite_master WHERE type='table'").fetchall()
        conn.close()
        return sorted(r[0] for r in rows if not r[0].startswith("sqlite_"))

    def set_version(self, version: int) -> None:
        self.execute(f"PRAGMA user_version={version}")

    def version(self) -> int:
        conn = sqlite3.connect(self.path)
        (v,) = conn.execute("PRAGMA user_version").fetchone()
        conn.close()
        return int(v)

    def make_version_1(self, attempts: list[Attempt]) -> None:
        """An attempt log as kdsupport wrote it at schema version 1, holding ``attempts``."""
        conn = sqlite3.connect(self.path)
        conn.execute("PRAGMA journal_mode=WAL")
        for stmt in SQLITE_V1:
            conn.execute(stmt)
        conn.executemany(
            f"INSERT INTO attempts ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})",
            [encode_row(a) for a in attempts],
        )
        conn.execute("PRAGMA user_version=1")
        conn.commit()
        conn.close()


class PostgresBackend:
    name = "postgresql"

    def __init__(self, url: str):
        self.location = url

    def execute(self, *sql: str) -> None:
        import psycopg

        with psycopg.connect(self.location, autocommit=True) as conn:
            for stmt in sql:
                conn.execute(stmt)

    def tables(self) -> list[str]:
        import psycopg

        with psycopg.connect(self.location) as conn:
            rows = conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
            ).fetchall()
        return sorted(r[0] for r in rows)

    def set_version(self, version: int) -> None:
        self.execute(f"UPDATE kdsupport_meta SET value = '{version}' WHERE name = 'schema_version'")

    def version(self) -> int:
        import psycopg

        with psycopg.connect(self.location) as conn:
            row = conn.execute(
                "SELECT value FROM kdsupport_meta WHERE name = 'schema_version'"
            ).fetchone()
        return int(row[0])

    def make_version_1(self, attempts: list[Attempt]) -> None:
        """An attempt log as kdsupport wrote it at schema version 1, holding ``attempts``."""
        import psycopg

        with psycopg.connect(self.location) as conn:
            for stmt in POSTGRES_V1:
                conn.execute(stmt)
            with conn.cursor() as cur:
                cur.executemany(
                    f"INSERT INTO attempts ({', '.join(COLUMNS)}) "
                    f"VALUES ({', '.join(['%s'] * len(COLUMNS))})",
                    [encode_row(a) for a in attempts],
                )


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request, tmp_path):
    """A new, empty attempt store location of each kind."""
    if request.param == "sqlite":
        return SQLiteBackend(tmp_path / "a.sqlite")
    cluster = request.getfixturevalue("postgresql_cluster")
    return PostgresBackend(cluster.create_database())


@pytest.fixture
def store(backend):
    s = open_store(backend.location)
    yield s
    s.close()


# ------------------------------------------------------------------------------ both backends
def test_schema_version(backend, store):
    assert store.schema_version == SCHEMA_VERSION
    if backend.name == "sqlite":
        mode = sqlite3.connect(backend.path).execute("PRAGMA journal_mode").fetchone()[0]
        assert mode == "wal"
        assert isinstance(store, SQLiteAttemptStore)
    else:
        assert isinstance(store, PostgreSQLAttemptStore)
        assert backend.tables() == ["attempts", "kdsupport_meta", "sign_offs"]
    store.check()


def test_record_and_read_back_with_filters(store):
    store.record(attempt(1, "t1", True))
    store.record(attempt(2, "t2", False))
    store.record(Attempt("t2", "tr-002", "q1", {"x": None}, True, Attempt.now(), "kb", "0"))
    got = store.attempts()
    assert [a.trainee_id for a in got] == ["t1", "t2", "t2"]
    assert got[0].answer == ["a", 1] and got[1].correct is False and got[0].correct is True
    assert [a.trainee_id for a in store.attempts(trainee_id="t2")] == ["t2", "t2"]
    assert [a.case_id for a in store.attempts(case_id="tr-002")] == ["tr-002"]
    assert store.attempts(trainee_id="t1", case_id="tr-002") == []
    assert store.attempts(trainee_id="nobody") == []


def _writer(location: str, who: str, n: int) -> None:
    store = open_store(location)
    for i in range(n):
        store.record(attempt(i, who))


def test_several_trainees_answering_at_once_lose_nothing(backend):
    open_store(backend.location).close()
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(backend.location, f"t{k}", 60)) for k in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    rows = open_store(backend.location).attempts()
    assert len(rows) == 240
    assert {r.trainee_id for r in rows} == {"t0", "t1", "t2", "t3"}


def _record_then_die(location: str) -> None:
    store = open_store(location)
    for i in range(25):
        store.record(attempt(i))
    os._exit(1)  # the app is killed: no close, no clean shutdown


def test_committed_answers_survive_a_killed_app(backend):
    p = mp.get_context("spawn").Process(target=_record_then_die, args=(backend.location,))
    p.start()
    p.join(60)
    assert p.exitcode == 1
    assert len(open_store(backend.location).attempts()) == 25


def test_export_csv(store, tmp_path):
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


def test_newer_schema_is_refused(backend):
    if backend.name == "sqlite":
        backend.set_version(SCHEMA_VERSION + 1)
    else:
        open_store(backend.location).close()
        backend.set_version(SCHEMA_VERSION + 1)
    with pytest.raises(AttemptStoreError, match="newer than this kdsupport"):
        open_store(backend.location)


def test_record_many_is_one_transaction(store):
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
    # the database itself refuses the third row (NOT NULL): the first two are rolled back
    refused = [attempt(10), attempt(11), Attempt(None, "c", "q", 1, True, "x", "kb", "0")]  # type: ignore[arg-type]
    with pytest.raises(AttemptStoreError, match="could not be written"):
        store.record_many(refused)
    assert len(store.attempts()) == 3
    store.record_many([])
    store.record(attempt(12))  # the store is still usable after a refused batch
    assert len(store.attempts()) == 4


def test_a_foreign_database_is_refused_without_being_changed(backend):
    backend.execute("CREATE TABLE users (id INTEGER, name TEXT)")
    if backend.name == "sqlite":
        before = backend.path.read_bytes()
    with pytest.raises(AttemptStoreError, match="not a kdsupport attempt log"):
        open_store(backend.location)
    assert backend.tables() == ["users"]
    if backend.name == "sqlite":
        assert backend.path.read_bytes() == before  # not switched to WAL, nothing written
        assert not backend.path.with_name("a.sqlite-wal").exists()


def test_an_attempts_table_with_other_columns_is_refused(backend):
    open_store(backend.location).close()
    backend.execute("ALTER TABLE attempts ADD COLUMN extra TEXT")
    with pytest.raises(AttemptStoreError, match="does not have the expected columns"):
        open_store(backend.location)


def test_servers_opening_one_new_log_at_once_all_succeed(backend):
    """Two apps started together used to refuse the log with 'database is locked'."""
    start = time.time() + 2.5
    code = (
        "import time,sys\n"
        f"while time.time() < {start}: pass\n"
        "from kdsupport.training.attempts import open_store\n"
        f"s = open_store({backend.location!r}); s.check(); print('ok')\n"
    )
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(6)
    ]
    outs = [p.communicate(timeout=60) for p in procs]
    assert [o.strip() for o, _ in outs] == ["ok"] * 6, [e for _, e in outs]
    store = open_store(backend.location)
    assert store.schema_version == SCHEMA_VERSION and store.attempts() == []
    if backend.name == "postgresql":
        assert backend.tables() == ["attempts", "kdsupport_meta", "sign_offs"]


def test_the_recorder_keeps_what_the_store_refused_and_writes_it_later(backend):
    store = open_store(backend.location)
    rec = AttemptRecorder(store)
    assert rec.save(attempt(1)) is None
    bad = Attempt(None, "c", "q", 1, True, "x", "kb", "0")  # type: ignore[arg-type]
    error = rec.save(bad)
    assert error and "could not be written" in error and len(rec.pending) == 1
    rec.pending[0] = attempt(2)  # the app fixed it (in real life: the disk or server came back)
    assert rec.save(attempt(3)) is None and not rec.pending
    assert [a.answer for a in store.attempts()] == [["a", 1], ["a", 2], ["a", 3]]


# ------------------------------------------------------------------------------ schema 2: sign-offs
def _history(n: int = 12) -> list[Attempt]:
    """Attempts of several trainees with tricky answers and times, in log order."""
    return [
        Attempt(
            f"t{i % 3}",
            f"tr-00{i % 4 + 1}",
            f"q{i % 5 + 1}",
            [i, {"x": "é\n"}] if i % 2 else f"=answer {i}",
            bool(i % 3),
            f"2026-03-0{i % 9 + 1}T10:{i:02d}:00+00:00",
            "2026.11.5" if i < 6 else "2026.12.1",
            "0.9",
        )
        for i in range(n)
    ]


def test_a_version_1_log_is_upgraded_in_place_keeping_every_attempt(backend, tmp_path):
    history = _history()
    backend.make_version_1(history)
    assert backend.version() == 1
    store = open_store(backend.location)
    try:
        assert store.schema_version == SCHEMA_VERSION == 2 and backend.version() == 2
        assert store.attempts() == history  # every attempt, in its order, byte for byte
        assert store.sign_offs() == []
        expected = ["attempts", "sign_offs"]
        if backend.name == "postgresql":
            expected = ["attempts", "kdsupport_meta", "sign_offs"]
        assert backend.tables() == expected
        store.record(attempt(99))  # the log goes on: new ids after the old ones
        store.sign_off("t1", "whole course", "Dr Instructor", note="after the upgrade")
        assert store.attempts()[:-1] == history and len(store.attempts()) == len(history) + 1
    finally:
        store.close()
    again = open_store(backend.location)  # opening an upgraded log changes nothing
    assert again.schema_version == 2 and len(again.attempts()) == len(history) + 1
    assert [s.note for s in again.sign_offs()] == ["after the upgrade"]
    again.close()


def test_a_failed_upgrade_changes_nothing(backend, monkeypatch):
    from kdsupport.training import store_postgres, store_sqlite

    history = _history(5)
    backend.make_version_1(history)
    module = store_sqlite if backend.name == "sqlite" else store_postgres
    broken = [*module._MIGRATIONS[2], "CREATE TABLE attempts (x INTEGER)"]  # fails last
    monkeypatch.setitem(module._MIGRATIONS, 2, broken)
    with pytest.raises(AttemptStoreError, match="could not be upgraded from schema version 1 to 2"):
        open_store(backend.location)
    assert backend.version() == 1  # one transaction: the table made before the error is gone
    assert "sign_offs" not in backend.tables()
    monkeypatch.undo()
    store = open_store(backend.location)
    assert store.schema_version == 2 and store.attempts() == history
    store.close()


def test_servers_upgrading_one_log_at_once_all_succeed(backend):
    history = _history(4)
    backend.make_version_1(history)
    start = time.time() + 2.5
    code = (
        "import time,sys\n"
        f"while time.time() < {start}: pass\n"
        "from kdsupport.training.attempts import open_store\n"
        f"s = open_store({backend.location!r}); s.check(); print(len(s.attempts()))\n"
    )
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(5)
    ]
    outs = [p.communicate(timeout=60) for p in procs]
    assert [o.strip() for o, _ in outs] == ["4"] * 5, [e for _, e in outs]
    assert backend.version() == 2


def test_a_version_1_log_with_a_sign_offs_table_of_its_own_is_refused(backend):
    backend.make_version_1(_history(2))
    backend.execute("CREATE TABLE sign_offs (who TEXT)")
    with pytest.raises(AttemptStoreError, match="sign_offs table that schema version 1"):
        open_store(backend.location)
    assert backend.version() == 1


def test_a_sign_offs_table_with_other_columns_is_refused(backend):
    open_store(backend.location).close()
    backend.execute("ALTER TABLE sign_offs ADD COLUMN extra TEXT")
    with pytest.raises(AttemptStoreError, match="sign_offs table does not have the expected"):
        open_store(backend.location)


def test_sign_offs_round_trip(store):
    assert store.sign_offs() == [] and store.trainee_ids() == []
    store.record(attempt(1, "nurse-b"))
    a = store.sign_off("nurse-a", "05_case_walkthrough", "  Dr Lee  ", note="all cases\nseen")
    b = store.sign_off(
        "nurse-b", "tr-001", "Dr Lee", note="", signed_at="2026-04-01T09:00:00+02:00"
    )
    c = store.sign_off("nurse-a", "whole course", "Dr Kim")
    assert a == SignOff("nurse-a", "05_case_walkthrough", "Dr Lee", a.signed_at, "all cases\nseen")
    assert b.signed_at == "2026-04-01T09:00:00+02:00"
    assert store.sign_offs() == [a, b, c]
    assert store.sign_offs(trainee_id="nurse-a") == [a, c]
    assert store.sign_offs(trainee_id="nobody") == []
    assert store.trainee_ids() == ["nurse-a", "nurse-b"]  # attempts or sign-offs


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"trainee_id": " "}, "trainee_id"),
        ({"scope": ""}, "scope"),
        ({"signed_by": "   "}, "signed_by"),
        ({"signed_by": "Dr\nLee"}, "signed_by"),
        ({"scope": "x" * 201}, "scope"),
        ({"note": "a\x00b"}, "note"),
        ({"note": "n" * 4001}, "note"),
        ({"signed_at": "yesterday"}, "signed_at"),
        ({"signed_at": "2026-04-01T09:00:00"}, "signed_at"),
    ],
)
def test_a_malformed_sign_off_is_refused_and_nothing_is_stored(store, kwargs, field):
    args = {"trainee_id": "t1", "scope": "tr-001", "signed_by": "Dr Lee", **kwargs}
    with pytest.raises(InvalidInputError) as info:
        store.sign_off(args.pop("trainee_id"), args.pop("scope"), args.pop("signed_by"), **args)
    assert [p.path for p in info.value.problems] == [field]
    assert store.sign_offs() == []


def test_hostile_sign_off_text_is_stored_verbatim(store):
    for i, text in enumerate(HOSTILE):
        store.sign_off(f"t-{i}", "whole course", "Dr O'Brien <b>", note=text)
    assert [s.note for s in store.sign_offs()] == HOSTILE
    assert {s.signed_by for s in store.sign_offs()} == {"Dr O'Brien <b>"}
    assert store.attempts() == []  # a note never reaches another table


def test_hostile_sign_off_text_is_escaped_on_every_output(store):
    """Read back from each database, a hostile note is text in the HTML record and the CSV."""
    import io

    from kdsupport.render.escaping import find_active_markup
    from kdsupport.render.training_record import training_record_html
    from kdsupport.training.records import (
        CaseSpec,
        ModuleSpec,
        Part,
        Syllabus,
        record_from_store,
        records_csv_text,
    )

    syllabus = Syllabus(
        (ModuleSpec("m", "Module", (CaseSpec("tr-001", "Case", (Part("", (("q1",),)),)),), ""),),
        "kb",
    )
    who = "<script>t</script>"
    store.record(Attempt(who, "tr-001", "q1", "a", True, Attempt.now(), "kb", "0"))
    for text in HOSTILE:
        store.sign_off(who, "tr-001", "=Dr <b>X</b>", note=text)
    record = record_from_store(store, who, syllabus)
    assert [s.note for s in record.sign_offs] == HOSTILE
    page = training_record_html(record)
    assert find_active_markup(page) == []
    body = page.split("<body>", 1)[1]
    for raw in ("<script>", "<img", "<b>X", "\x1b", "\x07"):
        assert raw not in body, raw
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in body
    assert "\\x1b[31mred" in body  # shown as an escape
    rows = list(csv.DictReader(io.StringIO(records_csv_text([record]))))
    cell = next(r["case_sign_offs"] for r in rows if r["case_id"] == "tr-001")
    assert cell.startswith("'=Dr <b>X</b> at ")  # never a formula
    assert all(text.replace("\r\n", "\n") in cell.replace("\r\n", "\n") for text in HOSTILE)


# ------------------------------------------------------------------------------ PostgreSQL only
def test_the_same_attempts_export_the_same_csv_bytes_from_both(postgresql_cluster, tmp_path):  # noqa: F811
    tricky = [
        Attempt("nurse-1", "tr-001", "q1", ["a", 1], True, "2026-01-02T03:04:05+00:00", "kb1", "0"),
        Attempt(
            "=cmd|'/c calc'!A1",
            "tr-002",
            "+q",
            {"b": 2, "a": [1.5, None, "é"]},
            False,
            "2026-01-02T03:04:06+00:00",
            "kb1",
            "0.1",
        ),
        Attempt(
            "-1",
            "@x",
            "q\n2",
            'line1\r\nline2, "quoted"',
            True,
            "2026-01-02T03:04:07+00:00",
            "kb 2",
            "0",
        ),
        Attempt("t", "c", "q", 1e300, False, "2026-01-02T03:04:08+00:00", "kb", "0"),
        Attempt("t", "c", "q", 12345678901234567890, True, "2026-01-02T03:04:09+00:00", "kb", "0"),
        Attempt("日本", "c", "q", "\u2028 \t tab", True, "2026-01-02T03:04:10+00:00", "kb", "0"),
    ]
    lite = open_store(f"sqlite:///{tmp_path / 'a.sqlite'}")
    pg = open_store(postgresql_cluster.create_database())
    lite.record_many(tricky[:2])
    pg.record_many(tricky[:2])
    for a in tricky[2:]:
        lite.record(a)
        pg.record(a)
    assert lite.attempts() == pg.attempts() == tricky
    a = lite.export_csv(tmp_path / "lite.csv").read_bytes()
    b = pg.export_csv(tmp_path / "pg.csv").read_bytes()
    assert a == b
    assert b"'=cmd" in b and b"'+q" in b and b"'-1" in b and b"'@x" in b  # spreadsheet-safe
    assert pg.to_dataframe().equals(lite.to_dataframe())


def test_a_dropped_connection_is_reopened(postgresql_cluster):  # noqa: F811
    import psycopg

    url = postgresql_cluster.create_database()
    store = open_store(url)
    store.record(attempt(1))
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE application_name = 'kdsupport' AND pid <> pg_backend_pid()"
        )
    store.record(attempt(2))  # written on a new connection, once
    assert [a.answer for a in store.attempts()] == [["a", 1], ["a", 2]]


def test_a_meta_table_of_another_program_is_refused(postgresql_cluster):  # noqa: F811
    backend = PostgresBackend(postgresql_cluster.create_database())
    backend.execute(
        "CREATE TABLE kdsupport_meta (name text PRIMARY KEY, value text NOT NULL)",
        "INSERT INTO kdsupport_meta VALUES ('application', 'something else')",
    )
    with pytest.raises(AttemptStoreError, match="not a kdsupport attempt log's; refused"):
        open_store(backend.location)
    assert backend.tables() == ["kdsupport_meta"]


def test_a_schema_of_its_own_in_a_shared_database(postgresql_cluster):  # noqa: F811
    backend = PostgresBackend(postgresql_cluster.create_database())
    backend.execute("CREATE TABLE users (id INTEGER)", "CREATE SCHEMA attempt_log")
    with pytest.raises(AttemptStoreError, match="refused"):
        open_store(backend.location)
    store = open_store(backend.location + "?options=-csearch_path%3Dattempt_log")
    store.record(attempt(1))
    assert len(store.attempts()) == 1 and backend.tables() == ["users"]


def test_a_search_path_without_a_schema_is_refused_clearly(postgresql_cluster):  # noqa: F811
    url = postgresql_cluster.create_database() + "?options=-csearch_path%3Dmissing"
    with pytest.raises(AttemptStoreError, match="no schema to create the attempt log in"):
        open_store(url)


def test_the_store_from_the_environment(postgresql_cluster, monkeypatch):  # noqa: F811
    url = postgresql_cluster.create_database()
    monkeypatch.setenv("KDSUPPORT_ATTEMPTS", url)
    assert default_store_location() == url
    store = open_store()
    assert isinstance(store, PostgreSQLAttemptStore) and store.location == url


# ------------------------------------------------------------------------------ no server needed
def test_sqlite_stays_the_default(monkeypatch):
    monkeypatch.delenv("KDSUPPORT_ATTEMPTS", raising=False)
    assert default_store_location() == str(ROOT / "var" / "attempts.sqlite")


def test_other_schemes_are_refused():
    with pytest.raises(InvalidInputError, match="scheme 'mysql' is not supported"):
        open_store("mysql://host/db")


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://kd:s3cret-pw@127.0.0.1:{port}/db",
        "postgres://kd:s3cret%2Dpw@127.0.0.1:{port}/db?sslmode=disable",
        "postgresql://kd@127.0.0.1:{port}/db?password=s3cret-pw&connect_timeout=5",
        "postgresql://kd:s3cret-pw@no-such-host.invalid/db",
        "postgresql://kd:s3cret-pw@127.0.0.1:{port}/db?bogus_option=s3cret-pw",
    ],
)
def test_a_connection_failure_is_one_clear_line_without_the_password(url):
    url = url.format(port=free_port())
    with pytest.raises(AttemptStoreError) as info:
        open_store(url)
    text = str(info.value)
    assert "s3cret" not in text and "s3cret" not in repr(info.value.args)
    assert "\n" not in text and text.startswith("attempt log postgres")
    assert "cannot connect" in text or "not a usable PostgreSQL URL" in text
    assert info.value.__cause__ is None and info.value.__suppress_context__


def test_display_location_hides_passwords():
    assert display_location("/var/a.sqlite") == "/var/a.sqlite"
    assert display_location("postgresql://u:p%40ss@h:5432/db") == "postgresql://u:***@h:5432/db"
    assert display_location("postgresql://u@h/db") == "postgresql://u@h/db"
    assert (
        display_location("postgresql://h/db?user=u&password=pw1&sslpassword=pw2&sslmode=require")
        == "postgresql://h/db?user=u&password=***&sslpassword=***&sslmode=require"
    )
    assert "pa@ss" not in display_location("postgresql://u:pa@ss@h/db")
    assert display_location("postgresql:/u:pw@h/db") == "postgresql://u:***@h/db"


def test_a_url_is_never_taken_for_an_sqlite_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for text in ("postgresql://u:pw@h/db", str(Path("postgresql://u:pw@h/db"))):
        with pytest.raises(AttemptStoreError, match="is a server URL, not an SQLite file") as info:
            SQLiteAttemptStore(text)
        assert ":pw@" not in str(info.value)
    assert list(tmp_path.iterdir()) == []  # no folder named after the server


def test_the_app_refuses_an_unreachable_server_in_one_line(tmp_path):
    url = f"postgresql://kd:s3cret-pw@127.0.0.1:{free_port()}/db"
    proc = subprocess.run(
        [sys.executable, "-m", "kdsupport.app", "--attempts", url, "--port", "1"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert proc.returncode == 2
    assert "s3cret" not in proc.stderr + proc.stdout and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert list(tmp_path.iterdir()) == []


def _committed_elsewhere(url: str, attempts: list[Attempt], *, commit: bool) -> int:
    """Write attempts in a transaction of another connection; its transaction id."""
    import psycopg

    from kdsupport.training.store_base import COLUMNS, encode_row

    with psycopg.connect(url) as conn:
        xid = conn.execute("SELECT txid_current()").fetchone()[0]
        for a in attempts:
            conn.execute(
                f"INSERT INTO attempts ({', '.join(COLUMNS)}) VALUES ({', '.join(['%s'] * len(COLUMNS))})",
                encode_row(a),
            )
        conn.commit() if commit else conn.rollback()
    return int(xid)


def test_a_batch_whose_commit_was_cut_off_is_stored_once(postgresql_cluster):  # noqa: F811
    url = postgresql_cluster.create_database()
    store = open_store(url)
    first, second, third = attempt(1), attempt(2), attempt(3)
    # the COMMIT of [first] reached the server, its acknowledgement did not: the recorder keeps
    # it pending and sends it again with the next answer
    store._uncertain = (_committed_elsewhere(url, [first], commit=True), [first])
    store.record_many([first, second])
    assert [a.answer for a in store.attempts()] == [["a", 1], ["a", 2]]
    # a batch whose COMMIT never arrived is written when it comes back
    store._uncertain = (_committed_elsewhere(url, [third], commit=False), [third])
    store.record_many([third])
    assert [a.answer for a in store.attempts()] == [["a", 1], ["a", 2], ["a", 3]]
    assert store._uncertain is None


def test_a_server_crash_loses_no_acknowledged_answer(postgresql_cluster, tmp_path):  # noqa: F811
    """The server dies (no checkpoint) and comes back: what was acknowledged is there.

    A cluster of its own: crash recovery syncs every database of a cluster, and the shared one
    holds many.
    """
    from postgres_cluster import PostgresCluster

    cluster = PostgresCluster(postgresql_cluster.bindir).start()
    try:
        url = cluster.create_database()
        store = open_store(url)
        rec = AttemptRecorder(store)
        for i in range(5):
            assert rec.save(attempt(i)) is None
        cluster.crash()
        try:
            error = rec.save(attempt(5))
            assert error and "cannot connect" in error and "\n" not in error
            assert len(rec.pending) == 1
        finally:
            cluster.start_server(attempts=1)
        assert rec.save(attempt(6)) is None and not rec.pending
        assert [a.answer[1] for a in open_store(url).attempts()] == [0, 1, 2, 3, 4, 5, 6]
    finally:
        cluster.stop()


def test_a_transaction_id_handed_out_again_after_a_crash_is_not_taken_for_the_batch(
    postgresql_cluster,  # noqa: F811
):
    """A batch whose COMMIT died with the server is written again, though its id was reused.

    Crash recovery only knows the transaction ids whose WAL reached the disk: the id of a
    transaction cut off before that is handed to the next transaction after the restart, and
    ``txid_status`` then reports that transaction's fate (the CI load test lost an answer so).
    """
    import psycopg
    from postgres_cluster import PostgresCluster

    cluster = PostgresCluster(postgresql_cluster.bindir).start()
    try:
        url = cluster.create_database()
        open_store(url).close()  # the schema
        first, second, elsewhere = attempt(1), attempt(2), attempt(9)
        # [first] is being committed when the server dies: nothing of it reaches the disk (here
        # not even its INSERT, so that the WAL writer cannot save the id by chance)
        conn = psycopg.connect(url)
        xid = int(conn.execute("SELECT txid_current()").fetchone()[0])
        cluster.crash()
        conn.close()
        cluster.start_server(attempts=1)
        store, other = open_store(url), open_store(url)  # opening assigns no transaction id
        store._uncertain = (xid, [first])
        # another trainee's server writes first after the restart, under the same id
        other.record(elsewhere)
        with psycopg.connect(url, autocommit=True) as check:
            reused = check.execute("SELECT xmin::text::bigint FROM attempts").fetchall()
        assert reused == [(xid & 0xFFFFFFFF,)]  # the id was handed out again
        store.record_many([first, second])
        assert sorted(a.answer[1] for a in store.attempts()) == [1, 2, 9]
        assert store._uncertain is None
        # and a batch that did commit under its id is still recognised and not written twice
        third = attempt(3)
        store._uncertain = (_committed_elsewhere(url, [third], commit=True), [third])
        store.record_many([third])
        assert sorted(a.answer[1] for a in store.attempts()) == [1, 2, 3, 9]
        store.close()
        other.close()
    finally:
        cluster.stop()
