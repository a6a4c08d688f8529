"""Load test of the attempt store: simulated trainees answering at once, on each backend.

    .venv/bin/python benchmarks/load_attempts.py [--seconds 60] [--trainees 20]
        [--kill-seconds 20] [--backends sqlite,postgresql] [--postgresql URL]
        [--json FILE] [--write-results]

Each simulated trainee is its own process (as each trainee's server is under the hub) that
opens the store with ``open_store`` and answers as fast as the store acknowledges, through the
app's :class:`AttemptRecorder`. An answer is *acknowledged* when ``save`` returned without an
error; the writer then appends its number and latency to its own acknowledgement file
(unbuffered, so a killed writer's acknowledgements survive it).

Two runs per backend:

* **load**: ``--trainees`` writers for ``--seconds``; reports answers per second, the p50/p95/
  p99 latency of an acknowledged ``record`` and the rows lost (acknowledged answers missing
  from the store, counted after reopening it): must be 0;
* **kill**: the same writers for ``--kill-seconds``, one killed with SIGKILL a quarter of the
  way in, and all the others killed with SIGKILL at the end, mid-write, as when the hub dies.
  With the PostgreSQL cluster this script starts itself, the server is also crashed half-way
  (``pg_ctl stop -m immediate``: no checkpoint) and restarted a second later; the writers'
  recorders keep the answers it refused meanwhile and write them once it is back (the run goes
  on for half its length after the crash recovery). The store is then reopened and every
  acknowledged answer must be in it (an answer being written when its writer died may be there
  unacknowledged; an answer whose commit was cut by the crash may be there twice; both are
  counted, neither is a loss).

PostgreSQL: ``--postgresql URL`` names a server (any database on it) where the script may
create and drop its own databases; without it, a throw-away cluster is started as the tests do
(tests/postgres_cluster.py). ``--write-results`` stores the figures in
benchmarks/results.json under ``attempt_store_load``, leaving the other keys as they are.
The exit status is 1 if any acknowledged answer was lost, 2 if a backend could not be run.

For training with synthetic patients; not a medical device.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results.json"
KEY = "attempt_store_load"


# ---------------------------------------------------------------------------------- the writer
def writer(location: str, trainee: str, ack_path: str, go_path: str, think_s: float) -> None:
    """One simulated trainee: answer until the end time in the go file (or until killed)."""
    from kdsupport._version import __version__
    from kdsupport.training.attempts import Attempt, AttemptRecorder, open_store

    store = open_store(location)
    recorder = AttemptRecorder(store)
    fd = os.open(ack_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.write(fd, b"ready\n")
    while not os.path.exists(go_path):
        time.sleep(0.005)
    end = float(Path(go_path).read_text())
    waiting: list[tuple[int, float]] = []  # (seq, first try) not yet acknowledged
    seq = 0
    while time.time() < end:
        seq += 1
        a = Attempt(
            trainee,
            f"tr-{seq % 37:03d}",
            f"q{seq:08d}",
            {"choice": seq % 4, "free_text": "the answer of a simulated trainee"},
            seq % 3 != 0,
            Attempt.now(),
            "load-test",
            __version__,
        )
        t0 = time.perf_counter()
        waiting.append((seq, t0))
        error = recorder.save(a)
        t1 = time.perf_counter()
        if error is None:
            now = time.time()
            os.write(
                fd,
                "".join(f"ack {s} {(t1 - t) * 1e6:.0f} {now:.3f}\n" for s, t in waiting).encode(),
            )
            waiting.clear()
        else:
            os.write(fd, f"err {seq}\n".encode())
            time.sleep(0.05)
        if think_s:
            time.sleep(think_s)
    os.close(fd)
    store.close()


# ---------------------------------------------------------------------------------- one run
def _read_acks(path: Path) -> tuple[list[int], list[float], int, bool]:
    seqs, latencies, errors, ready = [], [], 0, False
    with contextlib.suppress(FileNotFoundError):
        for line in path.read_text().splitlines():
            parts = line.split()
            if parts == ["ready"]:
                ready = True
            elif len(parts) == 4 and parts[0] == "ack":
                seqs.append(int(parts[1]))
                latencies.append(int(parts[2]) / 1000)
            elif len(parts) == 2 and parts[0] == "err":
                errors += 1
    return seqs, latencies, errors, ready


def _ack_times(path: Path) -> dict[int, float]:
    """When each acknowledged answer of a writer was acknowledged (wall-clock seconds)."""
    times: dict[int, float] = {}
    with contextlib.suppress(FileNotFoundError):
        for line in path.read_text().splitlines():
            parts = line.split()
            if len(parts) == 4 and parts[0] == "ack":
                times[int(parts[1])] = float(parts[3])
    return times


def _pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


def run(
    location: str,
    *,
    trainees: int,
    seconds: float,
    kill: bool,
    think_s: float = 0.0,
    crash: Any = None,
) -> dict[str, Any]:
    """Run the writers against one store; count what was acknowledged and what is stored."""
    work = Path(tempfile.mkdtemp(prefix="kdsupport-load-"))
    try:
        return _run(work, location, trainees, seconds, kill, think_s, crash)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _run(
    work: Path,
    location: str,
    trainees: int,
    seconds: float,
    kill: bool,
    think_s: float,
    crash: Any,
) -> dict[str, Any]:
    from kdsupport.training.attempts import open_store

    go = work / "go"
    acks = [work / f"acks-{k:02d}" for k in range(trainees)]
    names = [f"load-{k:02d}" for k in range(trainees)]
    logs = [open(work / f"stderr-{k:02d}", "w") for k in range(trainees)]  # noqa: SIM115
    procs = [
        subprocess.Popen(
            [sys.executable, __file__, "--writer", location, names[k], str(acks[k]), str(go)]
            + ["--think-ms", str(think_s * 1000)],
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=logs[k],
        )
        for k in range(trainees)
    ]
    deadline = time.time() + 120
    while not all(_read_acks(p)[3] for p in acks):
        if time.time() > deadline or any(p.poll() is not None for p in procs):
            for p in procs:
                p.kill()
            errs = [(work / f"stderr-{k:02d}").read_text()[-500:] for k in range(trainees)]
            raise RuntimeError(f"writers did not start: {[e for e in errs if e]}")
        time.sleep(0.05)
    start = time.time()
    (work / "go.tmp").write_text("inf" if kill else repr(start + seconds))
    os.replace(work / "go.tmp", go)
    events: list[str] = []
    crashed_at: float | None = None
    try:
        if kill:
            kill_at: float | None = start + seconds / 4
            crash_at = start + seconds / 2 if crash else None
            end = start + seconds
            while time.time() < end:
                now = time.time()
                if kill_at is not None and now >= kill_at:
                    os.kill(procs[0].pid, signal.SIGKILL)
                    events.append(f"writer {names[0]} killed at {now - start:.1f} s")
                    kill_at = None
                elif crash_at is not None and now >= crash_at:
                    crash["down"]()
                    crashed_at = time.time()
                    events.append(f"server crashed at {now - start:.1f} s")
                    time.sleep(1.0)
                    crash["up"]()
                    back = time.time()
                    events.append(f"server back at {back - start:.1f} s (crash recovery)")
                    end = max(end, back + seconds / 2)  # time to write what waited
                    crash_at = None
                time.sleep(0.01)
            alive = [p for p in procs if p.poll() is None]
            for p in alive:
                os.kill(p.pid, signal.SIGKILL)
            events.append(f"{len(alive)} writers killed at {time.time() - start:.1f} s")
        for p in procs:
            p.wait(timeout=seconds + 120)
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        for log in logs:
            log.close()
    elapsed = time.time() - start if kill else seconds
    failed = [k for k, p in enumerate(procs) if not kill and p.returncode != 0]
    if failed:
        raise RuntimeError(
            f"writers failed: {(work / f'stderr-{failed[0]:02d}').read_text()[-1000:]}"
        )

    acked: set[tuple[str, str]] = set()
    latencies: list[float] = []
    errors = 0
    for name, path in zip(names, acks, strict=True):
        seqs, lat, err, _ = _read_acks(path)
        acked |= {(name, f"q{s:08d}") for s in seqs}
        latencies += lat
        errors += err
    with open_store(location) as store:  # reopened after every writer is gone
        stored = Counter((a.trainee_id, a.question_id) for a in store.attempts())
    lost = sorted(acked - set(stored))
    out = {
        "seconds": round(elapsed, 2),
        "trainees": trainees,
        "answers": len(acked),
        "answers_per_s": round(len(acked) / elapsed, 1),
        "p50_ms": round(_pct(latencies, 50), 2),
        "p95_ms": round(_pct(latencies, 95), 2),
        "p99_ms": round(_pct(latencies, 99), 2),
        "max_ms": round(max(latencies, default=float("nan")), 2),
        "mean_ms": round(statistics.fmean(latencies), 2) if latencies else None,
        "errors": errors,
        "rows_in_store": sum(stored.values()),
        "rows_lost": len(lost),
        "unacknowledged_rows_found": len(set(stored) - acked),
        "duplicates": sum(n - 1 for n in stored.values() if n > 1),
    }
    if kill:
        out["events"] = events
    if lost:
        out["lost_examples"] = [" ".join(k) for k in lost[:5]]
        out["lost_details"] = _lost_details(lost, names, acks, start, crashed_at)
        out["writer_stderr"] = {
            name: text[-2000:]
            for k, name in enumerate(names)
            if (text := (work / f"stderr-{k:02d}").read_text())
        }
    return out


def _lost_details(
    lost: list[tuple[str, str]],
    names: list[str],
    acks: list[Path],
    start: float,
    crashed_at: float | None,
) -> list[str]:
    """Each lost answer: its writer, its number, and when it was acknowledged."""
    times = {name: _ack_times(path) for name, path in zip(names, acks, strict=True)}
    details = []
    for trainee, question in lost[:20]:
        seq = int(question[1:])
        at = times.get(trainee, {}).get(seq)
        when = "?" if at is None else f"{at - start:.3f} s after the start"
        if at is not None and crashed_at is not None:
            when += f", {at - crashed_at:+.3f} s from the end of the crash"
        details.append(f"{trainee} answer {seq} acknowledged {when}")
    return details


# ---------------------------------------------------------------------------------- backends
class Postgres:
    """Fresh databases on a given server, or on a throw-away cluster started here."""

    def __init__(self, url: str | None):
        self.url = url
        self.cluster: Any = None
        self.made: list[str] = []

    def __enter__(self) -> Postgres:
        if self.url is None:
            sys.path.insert(0, str(ROOT / "tests"))
            from postgres_cluster import PostgresCluster, find_bindir, unavailable

            why = unavailable()
            if why:
                raise RuntimeError(why)
            bindir = find_bindir()
            assert bindir is not None
            self.cluster = PostgresCluster(bindir).start()
            self.url = self.cluster.url()
        return self

    def __exit__(self, *exc: object) -> None:
        for url in self.made:
            with contextlib.suppress(Exception):
                self._admin(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')
        if self.cluster is not None:
            self.cluster.stop()

    def _admin(self, sql: str) -> Any:
        import psycopg

        with psycopg.connect(self.url, autocommit=True, connect_timeout=10) as conn:
            cur = conn.execute(sql)
            return cur.fetchall() if sql.startswith("SELECT") else None

    def version(self) -> str:
        return str(self._admin("SELECT current_setting('server_version')")[0][0])

    def new_database(self) -> str:
        from urllib.parse import urlsplit, urlunsplit

        name = f"kdsupport_load_{os.getpid()}_{len(self.made) + 1}"
        self._admin(f'CREATE DATABASE "{name}"')
        assert self.url is not None
        url = urlunsplit(urlsplit(self.url)._replace(path="/" + name))
        self.made.append(url)
        return url

    def crash_hooks(self) -> dict[str, Any] | None:
        if self.cluster is None:
            return None  # not our server to crash
        cluster = self.cluster
        return {"down": cluster.crash, "up": lambda: cluster.start_server(attempts=1)}


# ---------------------------------------------------------------------------------- main
def _write_results(figures: dict[str, Any]) -> None:
    """Read-modify-write only our key of benchmarks/results.json."""
    data = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    data[KEY] = figures
    tmp = RESULTS.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(data, indent=1) + "\n")
    os.replace(tmp, RESULTS)


def _row(name: str, r: dict[str, Any]) -> str:
    return (
        f"{name:<22} {r['answers']:>8} {r['answers_per_s']:>9.1f} {r['p50_ms']:>8.2f} "
        f"{r['p95_ms']:>8.2f} {r['p99_ms']:>8.2f} {r['errors']:>6} {r['rows_lost']:>5} "
        f"{r['unacknowledged_rows_found']:>6} {r['duplicates']:>5}"
    )


def main(argv: list[str] | None = None) -> int:
    """Run the load and kill tests; print the figures; exit 1 if an answer was lost."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--seconds", type=float, default=60, help="length of the load run (60)")
    p.add_argument("--trainees", type=int, default=20, help="simulated trainees at once (20)")
    p.add_argument(
        "--kill-seconds", type=float, default=None, help="length of the kill run (min(20, load))"
    )
    p.add_argument("--backends", default="sqlite,postgresql")
    p.add_argument("--postgresql", default=None, help="a server URL (default: start a cluster)")
    p.add_argument("--think-ms", type=float, default=0.0, help="pause after each answer (0)")
    p.add_argument("--json", default=None, help="also write the figures to this file")
    p.add_argument("--write-results", action="store_true", help=f"store them in {RESULTS.name}")
    p.add_argument("--writer", nargs=4, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.writer:
        writer(*args.writer, think_s=args.think_ms / 1000)
        return 0

    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    kill_s = args.kill_seconds if args.kill_seconds is not None else min(20.0, args.seconds)
    figures: dict[str, Any] = {
        "trainees": args.trainees,
        "seconds": args.seconds,
        "kill_seconds": kill_s,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "date": time.strftime("%Y-%m-%d", time.gmtime()),
    }
    status = 0
    head = (
        f"{'run':<22} {'answers':>8} {'answers/s':>9} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} "
        f"{'errors':>6} {'lost':>5} {'unack':>6} {'dup':>5}"
    )
    print(f"{args.trainees} trainees; load {args.seconds:g} s, kill run {kill_s:g} s", flush=True)
    for backend in backends:
        try:
            if backend == "sqlite":
                with tempfile.TemporaryDirectory(prefix="kdsupport-load-") as tmp:
                    load = run(
                        f"sqlite:///{tmp}/load.sqlite",
                        trainees=args.trainees,
                        seconds=args.seconds,
                        kill=False,
                        think_s=args.think_ms / 1000,
                    )
                    killed = run(
                        f"sqlite:///{tmp}/kill.sqlite",
                        trainees=args.trainees,
                        seconds=kill_s,
                        kill=True,
                        think_s=args.think_ms / 1000,
                    )
                figures["sqlite"] = {"version": __import__("sqlite3").sqlite_version}
            elif backend == "postgresql":
                with Postgres(args.postgresql) as pg:
                    figures["postgresql"] = {"version": pg.version()}
                    load = run(
                        pg.new_database(),
                        trainees=args.trainees,
                        seconds=args.seconds,
                        kill=False,
                        think_s=args.think_ms / 1000,
                    )
                    killed = run(
                        pg.new_database(),
                        trainees=args.trainees,
                        seconds=kill_s,
                        kill=True,
                        think_s=args.think_ms / 1000,
                        crash=pg.crash_hooks(),
                    )
            else:
                raise RuntimeError(f"unknown backend {backend!r} (sqlite, postgresql)")
        except Exception as exc:  # noqa: BLE001 - reported, and the exit status says so
            print(f"{backend}: not run: {' '.join(str(exc).split())}", file=sys.stderr)
            figures[backend] = {"not_run": " ".join(str(exc).split())}
            status = 2
            continue
        figures[backend].update({"load": load, "kill": killed})
        print(head)
        print(_row(f"{backend} load", load))
        print(_row(f"{backend} kill", killed))
        for event in killed.get("events", []):
            print(f"  {event}")
        for r in (load, killed):
            for detail in r.get("lost_details", []):
                print(f"  lost: {detail}")
            for name, text in r.get("writer_stderr", {}).items():
                print(f"  stderr of {name}:\n    " + "\n    ".join(text.splitlines()[-15:]))
        if load["rows_lost"] or killed["rows_lost"]:
            status = max(status, 1)
        print(flush=True)
    lost = sum(
        figures[b].get(run_, {}).get("rows_lost", 0)
        for b in backends
        if b in figures
        for run_ in ("load", "kill")
    )
    print(f"acknowledged answers lost: {lost}")
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=1) + "\n")
    if args.write_results:
        _write_results(figures)
        print(f"wrote {RESULTS} [{KEY}]")
    return status


if __name__ == "__main__":
    sys.exit(main())
