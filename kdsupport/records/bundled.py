"""The bundled synthetic data: the curated teaching cases and where the data lives.

Used by the notebooks, the trainee app and the reports. Nothing here touches the network.

* :func:`list_cases` / :func:`load_case_by_id` for the curated cases in
  ``data/synthetic/cases``;
* :func:`data_dir` for the data directory (the generated cohort is read by
  :func:`kdsupport.cohort.storage.load_cohort`).

The data directory is ``$KDSUPPORT_DATA_DIR`` if set, else ``data/synthetic`` of the source
checkout, else ``./data/synthetic``.

For training with synthetic patients; not a medical device.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kdsupport.errors import InvalidInputError, KdsupportError, Problem

if TYPE_CHECKING:
    from kdsupport.records.case import CaseRecord

__all__ = [
    "CaseSummary",
    "data_dir",
    "list_cases",
    "load_case_by_id",
    "cache_dir",
]


def data_dir(path: str | Path | None = None) -> Path:
    """The synthetic-data directory (see the module docstring for the search order)."""
    candidates = []
    if path is not None:
        candidates.append(Path(path))
    elif os.environ.get("KDSUPPORT_DATA_DIR"):
        candidates.append(Path(os.environ["KDSUPPORT_DATA_DIR"]))
    else:
        candidates += [
            Path(__file__).resolve().parents[2] / "data" / "synthetic",
            Path.cwd() / "data" / "synthetic",
        ]
    for c in candidates:
        if c.is_dir():
            return c
    raise KdsupportError(
        f"synthetic data directory not found (looked in: {', '.join(map(str, candidates))}); "
        "set KDSUPPORT_DATA_DIR"
    )


@dataclass(frozen=True)
class CaseSummary:
    """What a case list shows before a case is opened."""

    id: str
    title: str
    path: Path
    n_questions: int


@functools.lru_cache(maxsize=256)
def _load_cached(path: str, mtime_ns: int) -> CaseRecord:
    from kdsupport.records.case import load_case

    return load_case(path)


def _load(path: Path) -> CaseRecord:
    """Load a case file, reusing the parsed (frozen) record while the file is unchanged."""
    return _load_cached(str(path), path.stat().st_mtime_ns)


def _case_files(directory: Path) -> list[Path]:
    return sorted(p for p in (directory / "cases").glob("*.y*ml") if p.is_file())


def cache_dir() -> Path | None:
    """The cache folder kdsupport keeps between processes (None: caching is turned off).

    ``$KDSUPPORT_CACHE_DIR`` if set (empty turns caching off), else ``var/cache`` of the source
    checkout, else ``$XDG_CACHE_HOME/kdsupport`` (``~/.cache/kdsupport``).
    """
    env = os.environ.get("KDSUPPORT_CACHE_DIR")
    if env == "":
        return None
    if env:
        return Path(env)
    checkout = Path(__file__).resolve().parents[2]
    if (checkout / "pyproject.toml").is_file():
        return checkout / "var" / "cache"
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "kdsupport"


def _index_path() -> Path | None:
    """Where the case list is cached between processes (None: do not cache)."""
    folder = cache_dir()
    return None if folder is None else folder / "case-index.json"


def _read_index(path: Path | None) -> dict[str, Any]:
    import json

    from kdsupport._version import __version__

    if path is None:
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or data.get("version") != __version__:
        return {}
    entries = data.get("cases")
    return entries if isinstance(entries, dict) else {}


def _write_index(path: Path | None, entries: dict[str, Any]) -> None:
    import json

    from kdsupport._version import __version__
    from kdsupport.errors import KdsupportError
    from kdsupport.files.safe_write import write_atomically

    if path is None:
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(path, json.dumps({"version": __version__, "cases": entries}))
    except (OSError, KdsupportError):
        pass  # a cache that cannot be written only costs time


def list_cases(directory: str | Path | None = None) -> list[CaseSummary]:
    """The curated teaching cases, sorted by id.

    Listing needs each case's id, title and number of questions. Parsing and validating 32
    records takes about half a second, which every page with a case picker would pay at start;
    so the list is cached in a small JSON file (``var/cache`` in a checkout, else the user's
    cache folder; ``KDSUPPORT_CACHE_DIR`` to move it, empty to turn it off), keyed by each
    file's path, size and modification time. Only records that validated are ever cached.
    """
    index_path = _index_path()
    cached = _read_index(index_path)
    entries: dict[str, Any] = {}
    missed = False
    out = []
    for path in _case_files(data_dir(directory)):
        st = path.stat()
        key = str(path.resolve())
        hit = cached.get(key)
        if (
            isinstance(hit, dict)
            and hit.get("mtime_ns") == st.st_mtime_ns
            and hit.get("size") == st.st_size
            and isinstance(hit.get("id"), str)
            and isinstance(hit.get("title"), str)
            and isinstance(hit.get("n_questions"), int)
        ):
            entry = hit
        else:
            missed = True
            record = _load(path)
            n = len(record.teaching.questions) if record.teaching else 0
            entry = {
                "mtime_ns": st.st_mtime_ns,
                "size": st.st_size,
                "id": record.id,
                "title": record.title or record.id,
                "n_questions": n,
            }
        entries[key] = entry
        out.append(CaseSummary(entry["id"], entry["title"], path, entry["n_questions"]))
    if missed:
        _write_index(index_path, {**cached, **entries})
    return sorted(out, key=lambda c: c.id)


def load_case_by_id(case_id: str, directory: str | Path | None = None) -> CaseRecord:
    """Load one curated case by its id; a bad id lists the available ones."""
    base = data_dir(directory)
    for path in _case_files(base):
        if path.stem == case_id:
            return _load(path)
    available = ", ".join(p.stem for p in _case_files(base))
    raise InvalidInputError(
        [Problem("case_id", f"no case {case_id!r}; available: {available}")], str(base / "cases")
    )
