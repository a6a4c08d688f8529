"""The attempt log in an embedded SQLite database: the default for ``make app``.

* WAL journal and ``synchronous=FULL``: several trainees' kernels can answer at once, readers
  never block the writer, and a committed answer survives the app being stopped;
* each answer is one ``BEGIN IMMEDIATE`` transaction with a busy timeout, so concurrent writers
  queue instead of failing, and a half-written answer is never visible;
* a versioned schema (``PRAGMA user_version``) migrated on open: a log of an older version is
  upgraded in place in one ``BEGIN IMMEDIATE`` transaction (every attempt kept; on any error
  nothing is changed); a file that is not an SQLite database, a database that holds other
  tables, a newer schema, or an attempt or sign-off table whose columns differ is **refused on
  open** with :class:`~kdsupport.errors.AttemptStoreError`, never used half-way;
* instructors' sign-offs (:class:`~kdsupport.training.store_base.SignOff`) in a ``sign_offs``
  table (schema version 2), each written in its own transaction;
* every failure to write raises :class:`~kdsupport.errors.AttemptStoreError`, which the app
  shows to the trainee (the answer is kept for a retry by
  :class:`~kdsupport.training.attempts.AttemptRecorder`).

For training with synthetic patients; not a medical device.
"""

from __future__ import annotations

import re
import sqlite3
import threading
import time
from pathlib import Path

from kdsupport.errors import AttemptStoreError
from kdsupport.training.store_base import (
    COLUMNS,
    SCHEMA_VERSION,
    SIGN_OFF_COLUMNS,
    SIGN_OFFS_SINCE,
    Attempt,
    AttemptStore,
    SignOff,
    decode_row,
    display_location,
    encode_row,
)

__all__ = ["SQLiteAttemptStore"]

#: The statements that bring a database from schema version n - 1 to n, run in one transaction.
_MIGRATIONS: dict[int, list[str]] = {
    1: [
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
    ],
    2: [
        """
        CREATE TABLE sign_offs (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            trainee_id TEXT NOT NULL,
            scope TEXT NOT NULL,           -- a module, a case id or 'whole course'
            signed_by TEXT NOT NULL,
            signed_at TEXT NOT NULL,       -- ISO 8601 with its time zone
            note TEXT NOT NULL
        )
        """,
        "CREATE INDEX sign_offs_trainee ON sign_offs (trainee_id)",
    ],
}
assert sorted(_MIGRATIONS) == list(range(1, SCHEMA_VERSION + 1))


# "postgresql://...", or the "postgresql:/..." a Path makes of it; not "C:/..." on Windows
_LOOKS_LIKE_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]+:/")


class SQLiteAttemptStore(AttemptStore):
    """Attempts in an embedded SQLite database (WAL mode, versioned schema)."""

    def __init__(self, path: str | Path, *, timeout_s: float = 30.0):
        if _LOOKS_LIKE_URL.match(str(path)):
            # a server URL (or one a Path has folded to "scheme:/...") is never a file name:
            # creating it would leave a folder named after the server, password and all
            raise AttemptStoreError(
                display_location(path),
                "is a server URL, not an SQLite file; refused (open it with open_store)",
            )
        self.path = Path(path)
        self.location = str(self.path)
        self._lock = threading.Lock()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._conn = sqlite3.connect(
                self.path, timeout=timeout_s, isolation_level=None, check_same_thread=False
            )
            self._conn.execute(f"PRAGMA busy_timeout={int(timeout_s * 1000)}")
            self._open_when_unlocked(timeout_s)
        except sqlite3.DatabaseError as exc:
            raise AttemptStoreError(
                str(self.path), f"not a usable SQLite attempt log ({exc}); refused"
            ) from None
        except OSError as exc:
            raise AttemptStoreError(str(self.path), f"cannot be opened ({exc})") from None

    def _open_when_unlocked(self, timeout_s: float) -> None:
        """Refuse a foreign file untouched, then switch to WAL and create the schema.

        Nothing is written before the file is known to be empty or a kdsupport attempt log, so
        another program's database is refused unchanged. Two servers opening one new log at once
        can deadlock on the journal-mode switch; SQLite then answers "database is locked" at
        once instead of waiting, so we retry here until the timeout.
        """
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                with self._lock:
                    self._refuse_foreign()
                    self._conn.execute("PRAGMA journal_mode=WAL")
                    self._conn.execute("PRAGMA synchronous=FULL")
                    self._migrate()
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def _refuse_foreign(self) -> None:
        """Raise unless the file is empty or an attempt log of this schema (reads only).

        The reads share one read transaction: another server creating the schema between
        reading the version and listing the tables would otherwise look like a foreign file.
        """
        self._conn.execute("BEGIN")
        try:
            self._refuse_foreign_in_transaction()
        finally:
            self._conn.execute("COMMIT")

    def _refuse_foreign_in_transaction(self) -> None:
        version = self._conn.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise AttemptStoreError(
                str(self.path),
                f"schema version {version} is newer than this kdsupport's "
                f"({SCHEMA_VERSION}); refused",
            )
        tables = {
            r[0]
            for r in self._conn.execute(
                "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'"
            )
        }
        if version == 0:
            if tables:
                raise AttemptStoreError(
                    str(self.path),
                    "holds tables that are not a kdsupport attempt log "
                    f"({', '.join(sorted(tables)[:3])}); refused",
                )
            return
        self._refuse_columns("attempts", ["id", *COLUMNS])
        if version >= SIGN_OFFS_SINCE:
            self._refuse_columns("sign_offs", ["id", *SIGN_OFF_COLUMNS])
        elif "sign_offs" in tables:
            raise AttemptStoreError(
                str(self.path),
                f"holds a sign_offs table that schema version {version} does not have; refused",
            )

    def _refuse_columns(self, table: str, expected: list[str]) -> None:
        columns = [r[1] for r in self._conn.execute(f"PRAGMA table_info({table})")]
        if columns != expected:
            raise AttemptStoreError(
                str(self.path),
                f"the {table} table does not have the expected columns "
                f"(found {', '.join(columns) or f'no {table} table'}); refused",
            )

    def _migrate(self) -> None:
        """Create the schema of a new log, or upgrade an older one, in one transaction.

        The version is read again under the write lock: another server may have made or
        upgraded the schema since it was checked. Any error rolls everything back, so the log
        stays as it was, at its old version.
        """
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            version = self._conn.execute("PRAGMA user_version").fetchone()[0]
            try:
                for step in range(version + 1, SCHEMA_VERSION + 1):
                    for stmt in _MIGRATIONS[step]:
                        self._conn.execute(stmt)
                if version < SCHEMA_VERSION:
                    self._conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
            except sqlite3.Error as exc:
                if version == 0 or "locked" in str(exc):
                    raise
                raise AttemptStoreError(
                    str(self.path),
                    f"could not be upgraded from schema version {version} to {SCHEMA_VERSION} "
                    f"({exc}); nothing was changed; refused",
                ) from None
            self._conn.execute("COMMIT")
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise

    def check(self) -> None:
        """Verify the database's integrity (``PRAGMA quick_check``); raise if damaged.

        Raises
        ------
        AttemptStoreError
            When SQLite reports damage.
        """
        with self._lock:
            try:
                rows = self._conn.execute("PRAGMA quick_check").fetchall()
            except sqlite3.DatabaseError as exc:
                raise AttemptStoreError(str(self.path), f"damaged ({exc})") from None
        if [r[0] for r in rows] != ["ok"]:
            raise AttemptStoreError(str(self.path), f"damaged ({rows[0][0]})")

    @property
    def schema_version(self) -> int:
        """The schema version of the open database."""
        return int(self._conn.execute("PRAGMA user_version").fetchone()[0])

    def record(self, attempt: Attempt) -> None:
        """Store one attempt in its own transaction (on disk when this returns)."""
        self.record_many([attempt])

    def record_many(self, attempts: list[Attempt]) -> None:
        """Store several attempts in one transaction: all of them or none."""
        rows = [encode_row(a) for a in attempts]
        sql = (
            f"INSERT INTO attempts ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"
        )
        with self._lock:
            try:
                self._conn.execute("BEGIN IMMEDIATE")
                try:
                    self._conn.executemany(sql, rows)
                    self._conn.execute("COMMIT")
                except BaseException:
                    if self._conn.in_transaction:
                        self._conn.execute("ROLLBACK")
                    raise
            except sqlite3.Error as exc:
                raise AttemptStoreError(
                    str(self.path), f"the answer could not be written ({exc})"
                ) from None

    def attempts(
        self, *, trainee_id: str | None = None, case_id: str | None = None
    ) -> list[Attempt]:
        """Stored attempts in the order they were recorded, optionally filtered."""
        where, args = [], []
        if trainee_id is not None:
            where.append("trainee_id = ?")
            args.append(trainee_id)
        if case_id is not None:
            where.append("case_id = ?")
            args.append(case_id)
        sql = f"SELECT {', '.join(COLUMNS)} FROM attempts"
        if where:
            sql += " WHERE " + " AND ".join(where)
        with self._lock:
            try:
                rows = self._conn.execute(sql + " ORDER BY id", args).fetchall()
            except sqlite3.Error as exc:
                raise AttemptStoreError(str(self.path), f"cannot be read ({exc})") from None
        return [decode_row(r) for r in rows]

    def _write_sign_off(self, sign_off: SignOff) -> None:
        """Store one checked sign-off in its own transaction (on disk when this returns)."""
        values = [getattr(sign_off, c) for c in SIGN_OFF_COLUMNS]
        sql = (
            f"INSERT INTO sign_offs ({', '.join(SIGN_OFF_COLUMNS)}) "
            f"VALUES ({', '.join('?' * len(SIGN_OFF_COLUMNS))})"
        )
        with self._lock:
            try:
                self._conn.execute("BEGIN IMMEDIATE")
                try:
                    self._conn.execute(sql, values)
                    self._conn.execute("COMMIT")
                except BaseException:
                    if self._conn.in_transaction:
                        self._conn.execute("ROLLBACK")
                    raise
            except sqlite3.Error as exc:
                raise AttemptStoreError(
                    str(self.path), f"the sign-off could not be written ({exc})"
                ) from None

    def sign_offs(self, *, trainee_id: str | None = None) -> list[SignOff]:
        """Stored sign-offs in the order they were made, optionally of one trainee."""
        sql = f"SELECT {', '.join(SIGN_OFF_COLUMNS)} FROM sign_offs"
        args: list[str] = []
        if trainee_id is not None:
            sql += " WHERE trainee_id = ?"
            args.append(trainee_id)
        with self._lock:
            try:
                rows = self._conn.execute(sql + " ORDER BY id", args).fetchall()
            except sqlite3.Error as exc:
                raise AttemptStoreError(str(self.path), f"cannot be read ({exc})") from None
        return [SignOff(*r) for r in rows]

    def trainee_ids(self) -> list[str]:
        """Every trainee id with an attempt or a sign-off in the store, sorted."""
        sql = "SELECT trainee_id FROM attempts UNION SELECT trainee_id FROM sign_offs"
        with self._lock:
            try:
                rows = self._conn.execute(sql).fetchall()
            except sqlite3.Error as exc:
                raise AttemptStoreError(str(self.path), f"cannot be read ({exc})") from None
        return sorted(r[0] for r in rows)

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            self._conn.close()
