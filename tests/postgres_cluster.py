"""A throw-away PostgreSQL cluster for the tests and the load benchmark.

:class:`PostgresCluster` runs ``initdb`` into a new temporary folder, starts the server with
``pg_ctl`` on a free port of 127.0.0.1 (and a unix socket in that folder), with trust
authentication for one local user, ``createdb`` a first database, and on :meth:`stop` stops
the server and removes the folder. Run as root, ``initdb`` and ``postgres`` refuse to start,
so they run as the ``postgres`` user (Debian's package makes it) or else ``nobody``.

The binaries are found in ``$KDSUPPORT_PG_BIN``, ``pg_config --bindir``, next to ``pg_ctl``
on the PATH, or in ``/usr/lib/postgresql/<version>/bin`` (newest first).

The ``postgresql_cluster`` fixture starts one cluster per test session. Without PostgreSQL's
binaries (or psycopg) it skips with the reason, except under CI (``$CI`` set), where it fails:
CI never skips the PostgreSQL tests silently.
"""

from __future__ import annotations

import contextlib
import glob
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest

NEEDED = ("initdb", "pg_ctl", "postgres", "createdb")
USER = "kdsupport"


class ClusterError(RuntimeError):
    """The throw-away cluster could not be made or started."""


def find_bindir() -> Path | None:
    """The folder of PostgreSQL's server binaries, or None if they are not installed."""
    candidates: list[Path] = []
    if os.environ.get("KDSUPPORT_PG_BIN"):
        candidates.append(Path(os.environ["KDSUPPORT_PG_BIN"]))
    pg_config = shutil.which("pg_config")
    if pg_config:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            out = subprocess.run(
                [pg_config, "--bindir"], capture_output=True, text=True, timeout=10, check=True
            )
            candidates.append(Path(out.stdout.strip()))
    pg_ctl = shutil.which("pg_ctl")
    if pg_ctl:
        candidates.append(Path(pg_ctl).resolve().parent)

    def version(path: str) -> tuple[int, ...]:
        name = Path(path).parent.name
        return tuple(int(p) for p in name.split(".") if p.isdigit()) or (0,)

    candidates += [
        Path(p) for p in sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=version, reverse=True)
    ]
    for folder in candidates:
        if all(os.access(folder / name, os.X_OK) for name in NEEDED):
            return folder
    return None


def free_port() -> int:
    """A TCP port of 127.0.0.1 that nothing listens on now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _server_user() -> pwd.struct_passwd | None:
    """The user the server runs as: None (ourselves) unless we are root."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            return pwd.getpwnam(name)
    raise ClusterError("running as root and neither a 'postgres' nor a 'nobody' user exists")


class PostgresCluster:
    """One throw-away PostgreSQL server: start, make databases, crash, restart, stop."""

    def __init__(self, bindir: Path):
        self.bindir = bindir
        self.user = _server_user()
        self.root = Path(tempfile.mkdtemp(prefix="kdsupport-pg-"))
        self.data = self.root / "data"
        self.sockets = self.root / "sockets"
        self.log = self.root / "server.log"
        self.port = 0
        self._names = itertools.count(1)

    # ------------------------------------------------------------------ running binaries
    def _run(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        kw: dict[str, Any] = {}
        if self.user is not None:
            kw = {"user": self.user.pw_uid, "group": self.user.pw_gid, "extra_groups": []}
        env = {**os.environ, "LC_ALL": "C", "PGTZ": "UTC"}
        env.pop("PGPASSWORD", None)
        proc = subprocess.run(
            [str(self.bindir / args[0]), *args[1:]],
            cwd=self.root,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
            **kw,
        )
        if proc.returncode != 0:
            raise ClusterError(
                f"{args[0]} failed ({proc.returncode}): {(proc.stderr or proc.stdout).strip()}"
                + self._log_tail()
            )
        return proc

    def _log_tail(self) -> str:
        try:
            return "\nserver log:\n" + "\n".join(self.log.read_text().splitlines()[-15:])
        except OSError:
            return ""

    # ------------------------------------------------------------------ life cycle
    def start(self) -> PostgresCluster:
        """Make the cluster, start it and create the first database (``createdb``)."""
        os.chmod(self.root, 0o700)
        if self.user is not None:
            os.chown(self.root, self.user.pw_uid, self.user.pw_gid)
        self._run(
            "initdb",
            "-D",
            str(self.data),
            "-U",
            USER,
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C",
            "--no-sync",
        )
        self.sockets.mkdir()
        if self.user is not None:
            os.chown(self.sockets, self.user.pw_uid, self.user.pw_gid)
        self.port = free_port()
        self.start_server()
        self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", USER, "kdsupport")
        return self

    def start_server(self, attempts: int = 3) -> None:
        """Start (or restart) the server on its port, retrying on a port taken meanwhile."""
        for n in range(attempts):
            try:
                self._run(
                    "pg_ctl",
                    "-D",
                    str(self.data),
                    "-l",
                    str(self.log),
                    "-w",
                    "-t",
                    "60",
                    "-o",
                    f"-p {self.port} -k {self.sockets} -c listen_addresses=127.0.0.1",
                    "start",
                )
                return
            except ClusterError:
                if n == attempts - 1:
                    raise
                self.port = free_port()

    def crash(self) -> None:
        """Stop the server as a crash would (``pg_ctl stop -m immediate``: no checkpoint)."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")

    def stop(self) -> None:
        """Stop the server and remove the cluster's folder.

        The data is thrown away, so the server stops at once (``-m immediate``) rather than
        writing a shutdown checkpoint of every test database first.
        """
        try:
            if (self.data / "postmaster.pid").exists():
                self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    # ------------------------------------------------------------------ databases
    def url(self, database: str = "kdsupport") -> str:
        """The URL of a database of this cluster (trust authentication: no password)."""
        return f"postgresql://{USER}@127.0.0.1:{self.port}/{database}"

    def create_database(self, prefix: str = "t") -> str:
        """A new, empty database; its URL."""
        import psycopg

        name = f"{prefix}_{os.getpid()}_{next(self._names)}_{int(time.time() * 1000) % 10**6}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def drop_database(self, url: str) -> None:
        """Drop a database made by :meth:`create_database` (its connections are ended)."""
        import psycopg

        name = url.rsplit("/", 1)[1]
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def in_ci() -> bool:
    """Whether we run under CI (``$CI`` set to anything but empty, 0, false or no)."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def unavailable() -> str | None:
    """Why no cluster can be started here, or None."""
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return "psycopg is not installed (pip install -e '.[test]')"
    if find_bindir() is None:
        return (
            "PostgreSQL's server binaries (initdb, pg_ctl, postgres) are not installed; "
            "apt-get install postgresql (.ci/run does)"
        )
    return None


_SHARED: dict[str, Any] = {"cluster": None, "users": 0}


@pytest.fixture(scope="session")
def postgresql_cluster():
    """One throw-away cluster for the session (shared by every module that imports this)."""
    why = unavailable()
    if why is not None:
        if in_ci():
            pytest.fail(f"CI must not skip the PostgreSQL tests: {why}", pytrace=False)
        pytest.skip(why)
    if _SHARED["cluster"] is None:
        bindir = find_bindir()
        assert bindir is not None
        cluster = PostgresCluster(bindir)
        try:
            cluster.start()
        except (ClusterError, OSError, subprocess.SubprocessError) as exc:
            cluster.stop()
            pytest.fail(f"the throw-away PostgreSQL cluster did not start: {exc}", pytrace=False)
        _SHARED["cluster"] = cluster
    _SHARED["users"] += 1
    try:
        yield _SHARED["cluster"]
    finally:
        _SHARED["users"] -= 1
        if _SHARED["users"] == 0:
            _SHARED["cluster"].stop()
            _SHARED["cluster"] = None
