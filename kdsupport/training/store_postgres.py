"""The attempt log in PostgreSQL, for a course server where many trainees' servers write at once.

Selected by ``KDSUPPORT_ATTEMPTS=postgresql://user:password@host:port/database`` (or any URL
:func:`~kdsupport.training.attempts.open_store` is given), through psycopg 3. It keeps the
promises of the SQLite store:

* **the same schema and versioning**: an ``attempts`` table with the same columns, a
  ``sign_offs`` table (schema version 2), and a ``kdsupport_meta`` table naming the application
  and the schema version. The schema is made, or upgraded from version 1, in one transaction
  under an advisory lock, so two servers opening a new or older database at once never see it
  half-made (PostgreSQL's DDL is transactional; the lock makes the second wait for the first
  instead of failing on a duplicate table); an upgrade that fails changes nothing;
* **refusal of a foreign database**: a schema (``current_schema()``, normally ``public``) that
  holds other tables and no ``kdsupport_meta``, a meta table of another kind, a newer schema
  version or an ``attempts`` table with other columns is refused on open with
  :class:`~kdsupport.errors.AttemptStoreError`, and nothing is written to it. To share a
  database with other programs, give kdsupport its own schema
  (``?options=-csearch_path%3Dkdsupport`` after ``CREATE SCHEMA kdsupport``);
* **transactions**: each ``record`` and each ``record_many`` batch is one transaction, all of
  it or nothing, and is committed (flushed to the server's write-ahead log, with the server's
  default ``synchronous_commit``) before the call returns;
* **the same export**: answers are kept as the JSON text :func:`json.dumps` wrote, times as the
  ISO text given, so the CSV export is byte for byte the SQLite store's for the same attempts.

A URL is only ever shown through :func:`~kdsupport.training.store_base.display_location` (no
password), and driver messages are reduced to one line with any secret of the URL scrubbed.
A connection that dropped (a restarted server) is reopened on the next call; a write that
failed before its COMMIT was sent is retried once on the new connection, since it cannot have
been stored. When the connection is lost during the COMMIT itself, the transaction's id tells
on a new connection whether it was stored, now or, if the server is still away, before the
next write: a batch found committed is not written again when
:class:`~kdsupport.training.attempts.AttemptRecorder` sends it back. ``txid_status`` alone
cannot tell: a server that crashed before the transaction's WAL reached the disk hands the
same id to a new transaction after its crash recovery, and then reports *that* transaction's
fate. So a batch counts as stored only if its own rows are there with that id as their
``xmin``; an id the server has not reached yet, or one whose rows are someone else's, means
it was not stored. An acknowledged answer is never lost, and an answer is stored once.

For training with synthetic patients; not a medical device.
"""

from __future__ import annotations

import threading
from collections import Counter
from typing import TYPE_CHECKING, Any

from kdsupport.errors import AttemptStoreError, DependencyError
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
    secrets_of,
)

if TYPE_CHECKING:
    import psycopg

__all__ = ["PostgreSQLAttemptStore", "META_TABLE", "APPLICATION"]

META_TABLE = "kdsupport_meta"
APPLICATION = "kdsupport attempt log"
# pg_advisory_xact_lock key: "kdsuppor" as a big-endian 64-bit integer
_LOCK_KEY = int.from_bytes(b"kdsuppor", "big", signed=True)
_CONNECT_TIMEOUT_S = 10

_SCHEMA = [
    f"CREATE TABLE {META_TABLE} (name text PRIMARY KEY, value text NOT NULL)",
    """
    CREATE TABLE attempts (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        trainee_id text NOT NULL,
        case_id text NOT NULL,
        question_id text NOT NULL,
        answer text NOT NULL,          -- JSON, as json.dumps wrote it (kept byte for byte)
        correct boolean NOT NULL,
        answered_at text NOT NULL,     -- ISO 8601, UTC, as given
        kb_version text NOT NULL,
        kdsupport_version text NOT NULL
    )
    """,
    "CREATE INDEX attempts_trainee ON attempts (trainee_id)",
    "CREATE INDEX attempts_question ON attempts (case_id, question_id)",
]
#: The statements that bring a database from schema version n - 1 to n (version 1 is _SCHEMA).
_MIGRATIONS: dict[int, list[str]] = {
    2: [
        """
        CREATE TABLE sign_offs (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            trainee_id text NOT NULL,
            scope text NOT NULL,           -- a module, a case id or 'whole course'
            signed_by text NOT NULL,
            signed_at text NOT NULL,       -- ISO 8601 with its time zone, as given
            note text NOT NULL
        )
        """,
        "CREATE INDEX sign_offs_trainee ON sign_offs (trainee_id)",
    ],
}
assert sorted(_MIGRATIONS) == list(range(SIGN_OFFS_SINCE, SCHEMA_VERSION + 1))  # 1 is _SCHEMA
_INSERT = f"INSERT INTO attempts ({', '.join(COLUMNS)}) VALUES ({', '.join(['%s'] * len(COLUMNS))})"


def _psycopg() -> Any:
    try:
        import psycopg
    except ImportError:
        raise DependencyError("psycopg", "the PostgreSQL attempt store", extra="course") from None
    return psycopg


class PostgreSQLAttemptStore(AttemptStore):
    """Attempts in a PostgreSQL database (versioned schema, one transaction per batch).

    Parameters
    ----------
    url
        A libpq URL, ``postgresql://user:password@host:port/database?options``. Without a
        ``connect_timeout`` in it, connecting gives up after ten seconds.

    Raises
    ------
    AttemptStoreError
        The server cannot be reached, or the database is not a kdsupport attempt log (refused,
        unchanged).
    """

    def __init__(self, url: str):
        self._url = str(url)
        self._secrets = secrets_of(self._url)
        self.location = display_location(self._url)
        self._lock = threading.Lock()
        self._conn: psycopg.Connection[Any] | None = None
        # a batch whose COMMIT was cut off by a lost connection: (transaction id, attempts)
        self._uncertain: tuple[int, list[Attempt]] | None = None
        self._pg = _psycopg()
        with self._lock:
            self._connection()
            try:
                self._open_schema()
            except self._pg.Error as exc:
                self._close_quietly()
                raise AttemptStoreError(
                    self.location, f"cannot be opened as an attempt log ({self._say(exc)})"
                ) from None
            except BaseException:
                self._close_quietly()
                raise

    # ---------------------------------------------------------------- connection
    def _say(self, exc: BaseException) -> str:
        """The driver's message on one line, without any secret of the URL."""
        text = " ".join(str(exc).split()) or type(exc).__name__
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text

    def _connection(self) -> psycopg.Connection[Any]:
        """The open connection, (re)connecting if there is none or it broke."""
        conn = self._conn
        if conn is not None and not conn.closed and not conn.broken:
            return conn
        self._close_quietly()
        pg = self._pg
        try:
            params = pg.conninfo.conninfo_to_dict(self._url)
        except pg.Error as exc:
            raise AttemptStoreError(
                self.location, f"is not a usable PostgreSQL URL ({self._say(exc)})"
            ) from None
        params.setdefault("connect_timeout", _CONNECT_TIMEOUT_S)
        params.setdefault("application_name", "kdsupport")
        try:
            self._conn = pg.connect(**params, autocommit=True)
        except pg.Error as exc:
            raise AttemptStoreError(
                self.location, f"cannot connect to the PostgreSQL server ({self._say(exc)})"
            ) from None
        return self._conn

    def _close_quietly(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            except Exception:  # noqa: BLE001 - a broken connection may fail to close
                pass
        self._conn = None

    def _lost(self, exc: BaseException) -> bool:
        """Whether ``exc`` came from a connection that is gone (the server restarted)."""
        conn = self._conn
        return isinstance(exc, self._pg.OperationalError) and (
            conn is None or conn.closed or conn.broken
        )

    # ---------------------------------------------------------------- schema
    def _open_schema(self) -> None:
        """Refuse a foreign database untouched, else create the schema if it is new.

        One transaction under an advisory lock: a second server opening the same new database
        waits until the first has committed the whole schema, then finds it made.
        """
        conn = self._connection()
        with conn.transaction(), conn.cursor() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_KEY,))
            row = cur.execute("SELECT current_schema()").fetchone()
            schema = row[0] if row else None
            if schema is None:
                raise AttemptStoreError(
                    self.location,
                    "has no schema to create the attempt log in (check the search_path); refused",
                )
            cur.execute(
                "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = %s AND c.relkind IN ('r', 'p', 'v', 'm', 'f') "
                "ORDER BY c.relname",
                (schema,),
            )
            tables = [r[0] for r in cur.fetchall()]
            if META_TABLE not in tables:
                if tables:
                    raise AttemptStoreError(
                        self.location,
                        f"holds tables that are not a kdsupport attempt log in schema {schema} "
                        f"({', '.join(tables[:3])}); refused",
                    )
                for stmt in [*_SCHEMA, *(s for v in sorted(_MIGRATIONS) for s in _MIGRATIONS[v])]:
                    cur.execute(stmt)
                cur.execute(
                    f"INSERT INTO {META_TABLE} (name, value) VALUES (%s, %s), (%s, %s)",
                    ("application", APPLICATION, "schema_version", str(SCHEMA_VERSION)),
                )
                return
            version = self._refuse_unless_ours(cur, schema, tables)
            if version < SCHEMA_VERSION:
                self._upgrade(cur, version)

    def _upgrade(self, cur: psycopg.Cursor[Any], version: int) -> None:
        """Bring a checked older schema to this version, inside the open transaction.

        A failure rolls the whole transaction back: the database stays at its old version.
        """
        try:
            for step in range(version + 1, SCHEMA_VERSION + 1):
                for stmt in _MIGRATIONS[step]:
                    cur.execute(stmt)
            cur.execute(
                f"UPDATE {META_TABLE} SET value = %s WHERE name = 'schema_version'",
                (str(SCHEMA_VERSION),),
            )
        except self._pg.Error as exc:
            if self._lost(exc):
                raise
            raise AttemptStoreError(
                self.location,
                f"could not be upgraded from schema version {version} to {SCHEMA_VERSION} "
                f"({self._say(exc)}); nothing was changed; refused",
            ) from None

    def _refuse_unless_ours(self, cur: psycopg.Cursor[Any], schema: str, tables: list[str]) -> int:
        """The schema version of a kdsupport attempt log; raise for anything else."""
        if self._columns(cur, schema, META_TABLE) != ["name", "value"]:
            raise AttemptStoreError(
                self.location,
                f"has a {META_TABLE} table that is not a kdsupport attempt log's; refused",
            )
        meta = dict(cur.execute(f"SELECT name, value FROM {META_TABLE}").fetchall())
        if meta.get("application") != APPLICATION:
            raise AttemptStoreError(
                self.location,
                f"has a {META_TABLE} table that is not a kdsupport attempt log's; refused",
            )
        try:
            version = int(meta.get("schema_version", ""))
        except ValueError:
            raise AttemptStoreError(
                self.location, "has no readable schema version; refused"
            ) from None
        if version > SCHEMA_VERSION:
            raise AttemptStoreError(
                self.location,
                f"schema version {version} is newer than this kdsupport's "
                f"({SCHEMA_VERSION}); refused",
            )
        if version < 1:  # version 1 is the first PostgreSQL schema released
            raise AttemptStoreError(
                self.location, f"schema version {version} is unknown to this kdsupport; refused"
            )
        self._refuse_columns(cur, schema, "attempts", ["id", *COLUMNS])
        if version >= SIGN_OFFS_SINCE:
            self._refuse_columns(cur, schema, "sign_offs", ["id", *SIGN_OFF_COLUMNS])
        elif "sign_offs" in tables:
            raise AttemptStoreError(
                self.location,
                f"holds a sign_offs table that schema version {version} does not have; refused",
            )
        return version

    @staticmethod
    def _columns(cur: psycopg.Cursor[Any], schema: str, table: str) -> list[str]:
        cur.execute(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_schema = %s AND table_name = %s ORDER BY ordinal_position",
            (schema, table),
        )
        return [r[0] for r in cur.fetchall()]

    def _refuse_columns(
        self, cur: psycopg.Cursor[Any], schema: str, table: str, expected: list[str]
    ) -> None:
        columns = self._columns(cur, schema, table)
        if columns != expected:
            raise AttemptStoreError(
                self.location,
                f"the {table} table does not have the expected columns "
                f"(found {', '.join(columns) or f'no {table} table'}); refused",
            )

    @property
    def schema_version(self) -> int:
        """The schema version of the open database."""
        rows = self._read(f"SELECT value FROM {META_TABLE} WHERE name = 'schema_version'", [])
        return int(rows[0][0])

    def check(self) -> None:
        """Verify that the server answers and the attempt log is readable; raise if not."""
        self.schema_version  # noqa: B018 - reading it is the check

    # ---------------------------------------------------------------- writing and reading
    def record(self, attempt: Attempt) -> None:
        """Store one attempt in its own transaction (committed when this returns)."""
        self.record_many([attempt])

    def record_many(self, attempts: list[Attempt]) -> None:
        """Store several attempts in one transaction: all of them or none, and only once.

        A connection lost while the COMMIT was under way leaves it unknown whether the batch was
        stored; the transaction's id then tells (``txid_status``), on a new connection, now or
        before the next write if the server is still away. A batch found committed is not
        written again when it comes back (as :class:`AttemptRecorder` sends it, at the head of
        its pending attempts).
        """
        rows = [encode_row(a) for a in attempts]
        with self._lock:
            if self._uncertain is not None:
                earlier, batch = self._uncertain
                stored = self._status(earlier, "attempts", COLUMNS, [encode_row(a) for a in batch])
                if stored == "committed" and attempts[: len(batch)] == batch:
                    attempts, rows = attempts[len(batch) :], rows[len(batch) :]
                self._uncertain = None
            if not rows:
                return
            for last_try in (False, True):
                xid: int | None = None
                sent_commit = False
                try:
                    conn = self._connection()
                    with conn.transaction(), conn.cursor() as cur:
                        row = cur.execute("SELECT txid_current()").fetchone()
                        xid = int(row[0]) if row else None
                        cur.executemany(_INSERT, rows)
                        sent_commit = True  # leaving the block sends COMMIT
                    return
                except self._pg.Error as exc:
                    lost = self._lost(exc)
                    self._close_if_lost(exc)
                    if lost and not sent_commit and not last_try:
                        continue  # nothing was stored: reconnect and write it again
                    if lost and sent_commit and xid is not None:
                        self._uncertain = (xid, list(attempts))
                        status = self._status(xid, "attempts", COLUMNS, rows)
                        self._uncertain = None
                        if status == "committed":
                            return  # stored: the acknowledgement was what got lost
                        if status == "aborted" and not last_try:
                            continue
                    raise AttemptStoreError(
                        self.location, f"the answer could not be written ({self._say(exc)})"
                    ) from None

    def _status(self, xid: int, table: str, columns: list[str], rows: list[list[Any]]) -> str:
        """``committed`` or ``aborted``: whether the transaction ``xid`` stored ``rows``.

        ``txid_status`` is not enough after a crash: a transaction none of whose WAL reached the
        disk leaves no trace, and crash recovery hands its id out again. So an id the server has
        not reached (``txid_snapshot_xmax``) was never stored; one reported committed counts
        only if ``table`` holds exactly ``rows`` with that id as their ``xmin`` (the id's low
        32 bits; ``txid_status`` has checked its epoch). Raises :class:`AttemptStoreError` if
        the server cannot be asked or the transaction is still in progress (the question stays
        in ``_uncertain`` for the next write).
        """
        try:
            with self._connection().cursor() as cur:
                row = cur.execute(
                    "SELECT CASE WHEN %(x)s::bigint >= txid_snapshot_xmax(txid_current_snapshot()) "
                    "THEN 'aborted' ELSE txid_status(%(x)s::bigint) END",
                    {"x": xid},
                ).fetchone()
                status = str(row[0] if row and row[0] else "aborted")
                if status == "committed":
                    found = cur.execute(
                        f"SELECT {', '.join(columns)} FROM {table} "
                        "WHERE xmin = %s::text::xid AND trainee_id = ANY(%s)",
                        (str(xid & 0xFFFFFFFF), sorted({r[0] for r in rows})),
                    ).fetchall()
                    if Counter(tuple(r) for r in found) != Counter(tuple(r) for r in rows):
                        status = "aborted"  # the id was handed out again after a crash
        except self._pg.Error as exc:
            self._close_if_lost(exc)
            raise AttemptStoreError(
                self.location,
                f"the answer could not be written; the server was lost ({self._say(exc)})",
            ) from None
        if status == "in progress":
            raise AttemptStoreError(
                self.location, "an earlier answer is still being committed; try again"
            )
        return status

    def attempts(
        self, *, trainee_id: str | None = None, case_id: str | None = None
    ) -> list[Attempt]:
        """Stored attempts in the order they were recorded, optionally filtered."""
        where, args = [], []
        if trainee_id is not None:
            where.append("trainee_id = %s")
            args.append(trainee_id)
        if case_id is not None:
            where.append("case_id = %s")
            args.append(case_id)
        sql = f"SELECT {', '.join(COLUMNS)} FROM attempts"
        if where:
            sql += " WHERE " + " AND ".join(where)
        return [decode_row(r) for r in self._read(sql + " ORDER BY id", args)]

    def _write_sign_off(self, sign_off: SignOff) -> None:
        """Store one checked sign-off in its own transaction, once.

        A connection lost before the COMMIT was sent is reopened and the sign-off written on it;
        one lost during the COMMIT is settled by the transaction's id (``txid_status``), so a
        sign-off is never stored twice.
        """
        values = [getattr(sign_off, c) for c in SIGN_OFF_COLUMNS]
        sql = (
            f"INSERT INTO sign_offs ({', '.join(SIGN_OFF_COLUMNS)}) "
            f"VALUES ({', '.join(['%s'] * len(SIGN_OFF_COLUMNS))})"
        )
        with self._lock:
            for last_try in (False, True):
                xid: int | None = None
                sent_commit = False
                try:
                    conn = self._connection()
                    with conn.transaction(), conn.cursor() as cur:
                        row = cur.execute("SELECT txid_current()").fetchone()
                        xid = int(row[0]) if row else None
                        cur.execute(sql, values)
                        sent_commit = True  # leaving the block sends COMMIT
                    return
                except self._pg.Error as exc:
                    lost = self._lost(exc)
                    self._close_if_lost(exc)
                    if lost and not sent_commit and not last_try:
                        continue
                    if lost and sent_commit and xid is not None:
                        status = self._status(xid, "sign_offs", SIGN_OFF_COLUMNS, [values])
                        if status == "committed":
                            return
                        if status == "aborted" and not last_try:
                            continue
                    raise AttemptStoreError(
                        self.location, f"the sign-off could not be written ({self._say(exc)})"
                    ) from None

    def sign_offs(self, *, trainee_id: str | None = None) -> list[SignOff]:
        """Stored sign-offs in the order they were made, optionally of one trainee."""
        sql = f"SELECT {', '.join(SIGN_OFF_COLUMNS)} FROM sign_offs"
        args: list[Any] = []
        if trainee_id is not None:
            sql += " WHERE trainee_id = %s"
            args.append(trainee_id)
        return [SignOff(*r) for r in self._read(sql + " ORDER BY id", args)]

    def trainee_ids(self) -> list[str]:
        """Every trainee id with an attempt or a sign-off in the store, sorted."""
        rows = self._read(
            "SELECT trainee_id FROM attempts UNION SELECT trainee_id FROM sign_offs", []
        )
        return sorted(r[0] for r in rows)

    def _read(self, sql: str, args: list[Any]) -> list[tuple[Any, ...]]:
        """Rows of a query (retried once on a new connection if the old one was lost)."""
        with self._lock:
            for last_try in (False, True):
                try:
                    conn = self._connection()
                    with conn.cursor() as cur:
                        return list(cur.execute(sql, args).fetchall())
                except self._pg.Error as exc:
                    if not last_try and self._lost(exc):
                        continue
                    self._close_if_lost(exc)
                    raise AttemptStoreError(
                        self.location, f"cannot be read ({self._say(exc)})"
                    ) from None
        raise AssertionError("unreachable")  # pragma: no cover

    def _close_if_lost(self, exc: BaseException) -> None:
        if self._lost(exc):
            self._close_quietly()

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            self._close_quietly()
