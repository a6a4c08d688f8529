"""The attempt log: every answer a trainee gives, for the instructor.

:class:`AttemptStore` is the small interface the app uses (``record``, ``attempts``,
``to_dataframe``, ``export_csv``); :class:`SQLiteAttemptStore` implements it on an embedded
SQLite database:

* WAL journal and ``synchronous=FULL``: several trainees' kernels can answer at once, readers
  never block the writer, and a committed answer survives the app being stopped;
* each answer is one ``BEGIN IMMEDIATE`` transaction with a busy timeout, so concurrent writers
  queue instead of failing, and a half-written answer is never visible;
* a versioned schema (``PRAGMA user_version``) migrated on open; a file that is not an SQLite
  database, a database that holds other tables, or an attempt table whose columns differ is
  **refused on open** with :class:`~kdsupport.errors.AttemptStoreError`, never used half-way;
* every failure to write raises :class:`~kdsupport.errors.AttemptStoreError`, which the app
  shows to the trainee (the answer is kept for a retry by :class:`AttemptRecorder`).

:func:`open_store` takes a path or a URL (``sqlite:///path``); other schemes are refused with
a clear message until a server database is plugged in behind the same interface.

For training with synthetic patients; not a medical device.
"""

from __future__ import annotations

import abc
import csv
import datetime as dt
import io
import json
import os
import sqlite3
import threading
import time
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kdsupport.errors import AttemptStoreError, InvalidInputError, Problem
from kdsupport.files.safe_write import write_atomically

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "Attempt",
    "AttemptStore",
    "AttemptRecorder",
    "SQLiteAttemptStore",
    "open_store",
    "default_store_path",
    "default_export_dir",
]

SCHEMA_VERSION = 1
_SCHEMA = [
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


@dataclass(frozen=True)
class Attempt:
    """One answer to one question."""

    trainee_id: str
    case_id: str
    question_id: str
    answer: Any
    correct: bool
    answered_at: str
    kb_version: str
    kdsupport_version: str

    @staticmethod
    def now() -> str:
        """The current UTC time in ISO 8601 (seconds)."""
        return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()


COLUMNS = [f.name for f in fields(Attempt)]


class AttemptStore(abc.ABC):
    """Where attempts are kept. Implementations must be safe for concurrent trainees."""

    @abc.abstractmethod
    def record(self, attempt: Attempt) -> None:
        """Store one attempt durably (it is on disk when this returns)."""

    def record_many(self, attempts: list[Attempt]) -> None:
        """Store several attempts (implementations may do it in one transaction)."""
        for a in attempts:
            self.record(a)

    @abc.abstractmethod
    def attempts(
        self, *, trainee_id: str | None = None, case_id: str | None = None
    ) -> list[Attempt]:
        """Stored attempts in the order they were recorded, optionally filtered."""

    def to_dataframe(self) -> pd.DataFrame:
        """All attempts as a DataFrame (one row per answer)."""
        import pandas as pd

        rows = [asdict(a) for a in self.attempts()]
        df = pd.DataFrame(rows, columns=COLUMNS)
        df["answer"] = df["answer"].map(json.dumps)
        df["correct"] = df["correct"].astype(bool)
        df["answered_at"] = pd.to_datetime(df["answered_at"], utc=True)
        return df

    def export_csv(self, path: str | Path) -> Path:
        """Write every attempt to a CSV file for the instructor; return its path.

        The file is written atomically (:mod:`kdsupport.files.safe_write`), and text cells that a
        spreadsheet would run as a formula (``=``, ``+``, ``-``, ``@``) are prefixed with ``'``.
        """
        return write_atomically(path, self.to_csv_text(), option="export")

    def to_csv_text(self) -> str:
        """Every attempt as CSV text (one header row, one row per answer)."""
        from kdsupport.render.escaping import spreadsheet_cell

        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(COLUMNS)
        for a in self.attempts():
            row = asdict(a)
            row["answer"] = json.dumps(row["answer"])
            row["correct"] = int(row["correct"])
            w.writerow([spreadsheet_cell(row[c]) for c in COLUMNS])
        return buf.getvalue()

    def export_to_folder(self, folder: str | Path) -> Path:
        """Export to a new, time-stamped CSV file in a folder the server chose; return its path."""
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
        base = Path(folder)
        out = base / f"attempts-{stamp}.csv"
        n = 1
        while out.exists():
            n += 1
            out = base / f"attempts-{stamp}-{n}.csv"
        return self.export_csv(out)


class SQLiteAttemptStore(AttemptStore):
    """Attempts in an embedded SQLite database (WAL mode, versioned schema)."""

    def __init__(self, path: str | Path, *, timeout_s: float = 30.0):
        self.path = Path(path)
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
                    self._create_schema_if_new()
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
        if version < SCHEMA_VERSION and tables:
            raise AttemptStoreError(
                str(self.path),
                "holds tables that are not a kdsupport attempt log "
                f"({', '.join(sorted(tables)[:3])}); refused",
            )
        if version == SCHEMA_VERSION:
            columns = [r[1] for r in self._conn.execute("PRAGMA table_info(attempts)")]
            if columns != ["id", *COLUMNS]:
                raise AttemptStoreError(
                    str(self.path),
                    "the attempts table does not have the expected columns "
                    f"(found {', '.join(columns) or 'no attempts table'}); refused",
                )

    def _create_schema_if_new(self) -> None:
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            # another process may have created it since we looked
            if self._conn.execute("PRAGMA user_version").fetchone()[0] < SCHEMA_VERSION:
                for stmt in _SCHEMA:
                    self._conn.execute(stmt)
                self._conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
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
        rows = []
        for attempt in attempts:
            row = asdict(attempt)
            row["answer"] = json.dumps(row["answer"])
            row["correct"] = int(bool(row["correct"]))
            rows.append([row[c] for c in COLUMNS])
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
        out = []
        for r in rows:
            d = dict(zip(COLUMNS, r, strict=True))
            d["answer"] = json.loads(d["answer"])
            d["correct"] = bool(d["correct"])
            out.append(Attempt(**d))
        return out

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            self._conn.close()


class AttemptRecorder:
    """Saves attempts to a store and keeps the ones a store error refused, for a retry.

    The app never loses an answer silently: :meth:`save` returns the error in plain words and
    the attempt stays in :attr:`pending` until a later :meth:`save` or :meth:`retry` succeeds
    (pending attempts are written first, in order, in one transaction).
    """

    def __init__(self, store: AttemptStore | None):
        self.store = store
        self.pending: list[Attempt] = []

    def save(self, attempt: Attempt | None = None) -> str | None:
        """Save ``attempt`` (and any pending ones); None on success, else the error."""
        if attempt is not None:
            self.pending.append(attempt)
        return self.retry()

    def retry(self) -> str | None:
        """Try the pending attempts again; None on success (or nothing pending)."""
        if self.store is None or not self.pending:
            return None
        try:
            self.store.record_many(list(self.pending))
        except AttemptStoreError as exc:
            return str(exc)
        self.pending.clear()
        return None


def default_export_dir() -> Path:
    """Where instructor exports go: ``$KDSUPPORT_EXPORT_DIR``, else ``var/exports``.

    The folder is chosen by whoever starts the server, never by a web page.
    """
    env = os.environ.get("KDSUPPORT_EXPORT_DIR")
    return Path(env) if env else Path(__file__).resolve().parents[2] / "var" / "exports"


def default_store_path() -> Path:
    """The one default attempt log, shared by the app, JupyterLab and the CLI.

    ``$KDSUPPORT_ATTEMPTS`` if set; else, in a source checkout (``make app``, ``make lab``),
    ``var/attempts.sqlite`` in the checkout; else ``~/.kdsupport/attempts.sqlite``.
    """
    env = os.environ.get("KDSUPPORT_ATTEMPTS")
    if env:
        return Path(env)
    checkout = Path(__file__).resolve().parents[2]
    if (checkout / "pyproject.toml").is_file() and (checkout / "notebooks").is_dir():
        return checkout / "var" / "attempts.sqlite"
    return Path.home() / ".kdsupport" / "attempts.sqlite"


def open_store(location: str | Path | None = None) -> AttemptStore:
    """Open the attempt store at a path or ``sqlite:///path`` URL (default: see above)."""
    if location is None:
        return SQLiteAttemptStore(default_store_path())
    text = str(location)
    if text.startswith("sqlite:///"):
        return SQLiteAttemptStore(text[len("sqlite:///") :])
    if "://" in text:
        scheme = text.split("://", 1)[0]
        raise InvalidInputError(
            [
                Problem(
                    "attempt store",
                    f"scheme {scheme!r} is not supported yet; use a file path or sqlite:///path",
                )
            ]
        )
    return SQLiteAttemptStore(text)
