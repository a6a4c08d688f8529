"""What every attempt store shares: the attempt, the sign-off, the interface, the export, the rows.

:class:`AttemptStore` is the small interface the app uses (``record``, ``record_many``,
``attempts``, ``to_dataframe``, ``export_csv``; ``sign_off`` and ``sign_offs`` for an
instructor's sign-off of a trainee's module, case or whole course). Its implementations,
:class:`~kdsupport.training.store_sqlite.SQLiteAttemptStore` and
:class:`~kdsupport.training.store_postgres.PostgreSQLAttemptStore`, store the same columns in
the same encoding (:func:`encode_row`, :func:`decode_row`), so the same attempts give the same
export byte for byte whichever database holds them. :func:`display_location` is how a store
names itself in messages: a URL never shows its password.

Schema versions (the same number on every backend; a store of an older version is upgraded in
place, in one transaction, when it is opened; a newer one is refused):

1. the ``attempts`` table;
2. adds the ``sign_offs`` table (:class:`SignOff`): who signed off which part of a trainee's
   training, when, with a note. A sign-off is only ever added, never changed or deleted.

For training with synthetic patients; not a medical device.
"""

from __future__ import annotations

import abc
import csv
import datetime as dt
import io
import json
import re
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, unquote

from kdsupport.errors import InvalidInputError, Problem
from kdsupport.files.safe_write import write_atomically

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "Attempt",
    "AttemptStore",
    "COLUMNS",
    "SCHEMA_VERSION",
    "SIGN_OFF_COLUMNS",
    "SIGN_OFFS_SINCE",
    "SignOff",
    "make_sign_off",
    "decode_row",
    "display_location",
    "encode_row",
    "secrets_of",
]

#: The version of the attempt log's schema, the same for every backend (see the module's text).
SCHEMA_VERSION = 2
#: The schema version that added the ``sign_offs`` table.
SIGN_OFFS_SINCE = 2


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


@dataclass(frozen=True)
class SignOff:
    """An instructor's sign-off of part of a trainee's training (schema version 2).

    ``scope`` is a course module (its notebook name, ``05_case_walkthrough``), a case as the
    attempt log names it (``tr-001``, ``claims``, ``session-day:tr-033``) or ``whole course``.
    ``signed_at`` is ISO 8601 with its time zone; ``note`` is free text, kept as it was typed.
    """

    trainee_id: str
    scope: str
    signed_by: str
    signed_at: str
    note: str = ""


SIGN_OFF_COLUMNS = [f.name for f in fields(SignOff)]

#: Longest trainee id, scope or name a sign-off keeps, and its longest note (characters).
MAX_NAME_CHARS = 200
MAX_NOTE_CHARS = 4000
# a name is one line: no control character (C0, DEL, C1) and no line or paragraph separator
_NAME_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def make_sign_off(
    trainee_id: str, scope: str, signed_by: str, *, note: str = "", signed_at: str | None = None
) -> SignOff:
    """A checked sign-off (names trimmed; ``signed_at`` now when not given).

    The note is kept verbatim (it is escaped wherever it is shown), except that it may not hold
    a NUL character, which PostgreSQL cannot store.

    Raises
    ------
    InvalidInputError
        Every problem at once: an empty or over-long trainee id, scope or name, a name with a
        line break or control character, an over-long note or one with a NUL, a time that is not
        ISO 8601 with a time zone.
    """
    problems: list[Problem] = []
    names = {}
    for field, value in (("trainee_id", trainee_id), ("scope", scope), ("signed_by", signed_by)):
        text = value.strip() if isinstance(value, str) else ""
        if not text:
            problems.append(Problem(field, "is required"))
        elif len(text) > MAX_NAME_CHARS:
            problems.append(Problem(field, f"is longer than {MAX_NAME_CHARS} characters"))
        elif _NAME_CONTROL.search(text):
            problems.append(Problem(field, "may not hold a line break or a control character"))
        names[field] = text
    if not isinstance(note, str):
        problems.append(Problem("note", "must be text"))
        note = ""
    elif len(note) > MAX_NOTE_CHARS:
        problems.append(Problem("note", f"is longer than {MAX_NOTE_CHARS} characters"))
    elif "\x00" in note:
        problems.append(Problem("note", "may not hold a NUL character"))
    when = Attempt.now() if signed_at is None else signed_at
    try:
        parsed = dt.datetime.fromisoformat(when)
        if parsed.tzinfo is None:
            problems.append(Problem("signed_at", "needs a time zone (e.g. +00:00)"))
    except (TypeError, ValueError):
        problems.append(Problem("signed_at", "is not an ISO 8601 date and time"))
    if problems:
        raise InvalidInputError(problems, source="sign-off")
    return SignOff(names["trainee_id"], names["scope"], names["signed_by"], when, note)


def encode_row(attempt: Attempt) -> list[Any]:
    """The stored values of an attempt, in :data:`COLUMNS` order.

    The answer is stored as the JSON text :func:`json.dumps` writes (raises :class:`TypeError`
    for a value JSON cannot hold, before anything is written); ``correct`` as a bool.
    """
    row = asdict(attempt)
    row["answer"] = json.dumps(row["answer"])
    row["correct"] = bool(row["correct"])
    return [row[c] for c in COLUMNS]


def decode_row(values: tuple[Any, ...] | list[Any]) -> Attempt:
    """The attempt of stored values in :data:`COLUMNS` order (the inverse of encode_row)."""
    d = dict(zip(COLUMNS, values, strict=True))
    d["answer"] = json.loads(d["answer"])
    d["correct"] = bool(d["correct"])
    return Attempt(**d)


_URL = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.\-]*):/+(?P<rest>.*)$", re.DOTALL)


def _is_secret_key(key: str) -> bool:
    return "pass" in key.lower() or "secret" in key.lower() or "token" in key.lower()


def secrets_of(location: str | Path) -> list[str]:
    """The secrets a location holds (the URL's password, password parameters), to scrub."""
    m = _URL.match(str(location))
    if not m:
        return []
    rest = m["rest"]
    netloc, _, tail = rest.partition("/")
    if "?" in netloc:  # postgresql://host?password=x (no path)
        netloc, _, query = netloc.partition("?")
    else:
        query = tail.partition("?")[2]
    found = []
    userinfo, at, _ = netloc.rpartition("@")
    if at and ":" in userinfo:
        found.append(userinfo.split(":", 1)[1])
    for key, value in parse_qsl(query.partition("#")[0], keep_blank_values=True):
        if _is_secret_key(key):
            found.append(value)
    out: list[str] = []
    for s in found:
        for variant in (s, unquote(s)):
            if variant and variant not in out:
                out.append(variant)
    return sorted(out, key=len, reverse=True)


def display_location(location: str | Path) -> str:
    """A store's location for messages and logs: a URL's password is never shown.

    ``postgresql://user:secret@host/db?sslpassword=x`` becomes
    ``postgresql://user:***@host/db?sslpassword=***``; a file path is shown as it is.
    """
    text = str(location)
    m = _URL.match(text)
    if not m:
        return text
    rest = m["rest"].partition("#")[0]
    head, qmark, query = rest.partition("?")
    netloc, slash, path = head.partition("/")
    userinfo, at, hosts = netloc.rpartition("@")
    if at:
        user = userinfo.split(":", 1)[0]
        netloc = f"{user}:***@{hosts}" if ":" in userinfo else f"{user}@{hosts}"
    if qmark:
        pairs = []
        for part in query.split("&"):
            key, eq, _value = part.partition("=")
            pairs.append(f"{key}=***" if eq and _is_secret_key(unquote(key)) else part)
        query = "&".join(pairs)
    shown = f"{m['scheme']}://{netloc}{slash}{path}{qmark}{query}"
    for secret in secrets_of(text):
        shown = shown.replace(secret, "***")
    return shown


class AttemptStore(abc.ABC):
    """Where attempts are kept. Implementations must be safe for concurrent trainees.

    ``location`` names the store in messages (never with a password).
    """

    location: str = ""

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

    def trainee_ids(self) -> list[str]:
        """Every trainee id with an attempt or a sign-off in the store, sorted."""
        ids = {a.trainee_id for a in self.attempts()} | {s.trainee_id for s in self.sign_offs()}
        return sorted(ids)

    def sign_off(
        self,
        trainee_id: str,
        scope: str,
        signed_by: str,
        *,
        note: str = "",
        signed_at: str | None = None,
    ) -> SignOff:
        """Record an instructor's sign-off durably (one transaction); return it as stored.

        Raises
        ------
        InvalidInputError
            The sign-off is incomplete or malformed (see :func:`make_sign_off`); nothing stored.
        AttemptStoreError
            The store could not write it.
        """
        s = make_sign_off(trainee_id, scope, signed_by, note=note, signed_at=signed_at)
        self._write_sign_off(s)
        return s

    @abc.abstractmethod
    def _write_sign_off(self, sign_off: SignOff) -> None:
        """Store one checked sign-off in its own transaction."""

    @abc.abstractmethod
    def sign_offs(self, *, trainee_id: str | None = None) -> list[SignOff]:
        """Stored sign-offs in the order they were made, optionally of one trainee."""

    def check(self) -> None:
        """Raise :class:`~kdsupport.errors.AttemptStoreError` if the store cannot be used."""
        return None

    def close(self) -> None:
        """Release the store's connection (a no-op unless the store holds one)."""
        return None

    def __enter__(self) -> AttemptStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.location!r})"

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
