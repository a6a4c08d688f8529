"""The attempt log: every answer a trainee gives, for the instructor.

:class:`AttemptStore` is the small interface the app uses (``record``, ``record_many``,
``attempts``, ``to_dataframe``, ``export_csv``; ``sign_off``, ``sign_offs`` and ``trainee_ids``
for the training records of :mod:`kdsupport.training.records`), with two implementations behind
:func:`open_store`:

* :class:`SQLiteAttemptStore` (:mod:`kdsupport.training.store_sqlite`), an embedded SQLite
  file: the default for ``make app`` and a single machine;
* :class:`PostgreSQLAttemptStore` (:mod:`kdsupport.training.store_postgres`), a PostgreSQL
  database through psycopg 3, for a course server where many trainees' servers write at once.

Both keep a versioned schema (an older one is upgraded in place, in one transaction, when it is
opened) and refuse on open a database that is not a kdsupport attempt log or is newer; both
write each answer, and each batch, in one transaction; both export the same CSV byte for byte
for the same attempts. Every failure to open or write raises
:class:`~kdsupport.errors.AttemptStoreError`, which the app shows to the trainee (the answer is
kept for a retry by :class:`AttemptRecorder`). A server URL is only ever shown without its
password (:func:`display_location`).

For training with synthetic patients; not a medical device.
"""

from __future__ import annotations

import os
from pathlib import Path

from kdsupport.errors import AttemptStoreError, InvalidInputError, Problem
from kdsupport.training.store_base import (
    COLUMNS,
    SCHEMA_VERSION,
    Attempt,
    AttemptStore,
    SignOff,
    display_location,
)
from kdsupport.training.store_postgres import PostgreSQLAttemptStore
from kdsupport.training.store_sqlite import SQLiteAttemptStore

__all__ = [
    "Attempt",
    "AttemptStore",
    "AttemptStoreError",
    "AttemptRecorder",
    "COLUMNS",
    "PostgreSQLAttemptStore",
    "SCHEMA_VERSION",
    "SignOff",
    "SQLiteAttemptStore",
    "open_store",
    "default_store_location",
    "default_store_path",
    "default_export_dir",
    "display_location",
]

POSTGRESQL_SCHEMES = ("postgresql://", "postgres://")


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
    """The one default attempt log file, shared by the app, JupyterLab and the CLI.

    ``$KDSUPPORT_ATTEMPTS`` if set; else, in a source checkout (``make app``, ``make lab``),
    ``var/attempts.sqlite`` in the checkout; else ``~/.kdsupport/attempts.sqlite``. A server URL
    in ``$KDSUPPORT_ATTEMPTS`` is not a path: use :func:`default_store_location`, which keeps it
    whole (a :class:`~pathlib.Path` folds ``//`` to ``/``).
    """
    env = os.environ.get("KDSUPPORT_ATTEMPTS")
    if env:
        return Path(env)
    checkout = Path(__file__).resolve().parents[2]
    if (checkout / "pyproject.toml").is_file() and (checkout / "notebooks").is_dir():
        return checkout / "var" / "attempts.sqlite"
    return Path.home() / ".kdsupport" / "attempts.sqlite"


def default_store_location() -> str:
    """The default attempt store as :func:`open_store` takes it: a URL or a file path.

    ``$KDSUPPORT_ATTEMPTS`` as it is (``postgresql://...`` selects PostgreSQL); else the SQLite
    file of :func:`default_store_path`.
    """
    env = os.environ.get("KDSUPPORT_ATTEMPTS")
    return env if env else str(default_store_path())


def open_store(location: str | Path | None = None) -> AttemptStore:
    """Open the attempt store at a location (default: :func:`default_store_location`).

    ``postgresql://user:password@host:port/database`` (or ``postgres://``) opens
    :class:`PostgreSQLAttemptStore`; ``sqlite:///path`` or a plain path opens
    :class:`SQLiteAttemptStore`. Any other scheme is refused.

    Raises
    ------
    AttemptStoreError
        The store cannot be opened, or is not a kdsupport attempt log (refused unchanged).
    InvalidInputError
        A URL of a scheme no store implements.
    """
    text = default_store_location() if location is None else str(location)
    if text.startswith("sqlite:///"):
        return SQLiteAttemptStore(text[len("sqlite:///") :])
    if text.startswith(POSTGRESQL_SCHEMES):
        return PostgreSQLAttemptStore(text)
    if "://" in text:
        scheme = text.split("://", 1)[0]
        raise InvalidInputError(
            [
                Problem(
                    "attempt store",
                    f"scheme {scheme!r} is not supported; use a file path, sqlite:///path or "
                    "postgresql://user@host/database",
                )
            ]
        )
    return SQLiteAttemptStore(text)
