"""A small on-disk cache of drawn page sections, for pages that are slow to draw.

The cohort-outcomes page (notebook 11), the case-conference figures (notebook 10) and the
instructor dashboard's figures (notebook 08) are pure functions of their data: drawing them
again for the same cohort, case or attempt tables gives the same HTML. Drawing takes seconds
(reading and checking the cohort, matplotlib and seaborn), so the HTML of each section is kept
in a JSON file and shown again while nothing it depends on changed. (The dashboard's demo
trainees keep the curated cases' questions here the same way.)

An entry is found by a **key**: the sha256 of what the caller names (a cohort's table digests
from its manifest, a case record and its assessment) together with :func:`code_fingerprint`,
the sha256 of everything else that decides the drawing: every source file of ``kdsupport``
(rules, renderers, the knowledge base), the versions of the libraries that draw, and
matplotlib's configuration files. Change any of them and the page is drawn afresh.

Entries live in the folder of the case-list cache (:func:`kdsupport.records.bundled.cache_dir`):
``var/cache`` in a checkout, else the user's cache folder; ``KDSUPPORT_CACHE_DIR`` moves it and
an empty value turns caching off. They are written atomically (a reader sees a whole entry or
none), old entries are pruned, and an entry that cannot be read or written only costs the time
to draw.

For training with synthetic patients; not a medical device.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
from collections.abc import Callable, Iterable
from pathlib import Path

__all__ = ["cache_folder", "code_fingerprint", "page_key", "cached_sections"]

FORMAT = "kdsupport-page-cache/1"
#: The libraries whose version changes a drawing (matplotlib bundles its own FreeType).
_DRAWING_LIBRARIES = ("matplotlib", "seaborn", "pandas", "numpy", "pillow")
_SOURCE_SUFFIXES = (".py", ".yaml", ".json")


def cache_folder() -> Path | None:
    """The cache folder, the case list's too (None when caching is turned off)."""
    from kdsupport.records.bundled import cache_dir

    return cache_dir()


def _matplotlib_config_files() -> list[Path]:
    """Where matplotlib may find a ``matplotlibrc`` that changes how figures look."""
    env = os.environ
    found = []
    if env.get("MATPLOTLIBRC"):
        given = Path(env["MATPLOTLIBRC"])
        found += [given, given / "matplotlibrc"]
    found.append(Path.cwd() / "matplotlibrc")
    config = env.get("MPLCONFIGDIR") or str(
        Path(env.get("XDG_CONFIG_HOME") or Path.home() / ".config") / "matplotlib"
    )
    found.append(Path(config) / "matplotlibrc")
    return found


@functools.cache
def _package_digest() -> str:
    """sha256 of every source file of kdsupport (code, knowledge base, schemas), by path."""
    root = Path(__file__).resolve().parents[1]
    h = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        if path.suffix in _SOURCE_SUFFIXES and path.is_file():
            h.update(str(path.relative_to(root)).encode())
            h.update(hashlib.sha256(path.read_bytes()).digest())
    return h.hexdigest()


@functools.cache
def _library_versions() -> str:
    """The installed versions of the libraries that draw (read once per process)."""
    from importlib import metadata

    versions = []
    for name in _DRAWING_LIBRARIES:
        try:
            versions.append(f"{name}={metadata.version(name)}")
        except metadata.PackageNotFoundError:
            versions.append(f"{name}=-")
    return ";".join(versions)


def code_fingerprint() -> str:
    """sha256 of what decides a drawing besides its data (see the module docstring)."""
    h = hashlib.sha256(FORMAT.encode())
    h.update(_package_digest().encode())
    h.update(_library_versions().encode())
    for path in _matplotlib_config_files():
        try:
            data = path.read_bytes() if path.is_file() else b""
        except OSError:
            data = b"?"
        h.update(str(path).encode() + hashlib.sha256(data).digest())
    return h.hexdigest()


def page_key(*parts: str) -> str:
    """The key of a drawing of ``parts`` (its data, in the caller's words) by today's code."""
    h = hashlib.sha256(code_fingerprint().encode())
    for part in parts:
        data = part.encode("utf-8", "surrogatepass")
        h.update(len(data).to_bytes(8, "big") + data)
    return h.hexdigest()


def _entry_path(folder: Path, name: str, key: str) -> Path:
    return folder / f"page-{name}-{key[:32]}.json"


def _read(path: Path, key: str, names: Iterable[str]) -> dict[str, str] | None:
    """The named sections of the entry at ``path`` if it is whole and drawn for ``key``."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("format") != FORMAT or data.get("key") != key:
        return None
    sections = data.get("sections")
    if not isinstance(sections, dict):
        return None
    out: dict[str, str] = {}
    for n in names:
        value = sections.get(n)
        if not isinstance(value, str):
            return None
        out[n] = value
    return out


def _write(folder: Path, name: str, key: str, sections: dict[str, str], keep: int) -> None:
    from kdsupport.errors import KdsupportError
    from kdsupport.files.safe_write import write_atomically

    path = _entry_path(folder, name, key)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        write_atomically(path, json.dumps({"format": FORMAT, "key": key, "sections": sections}))
        # the newest entries of this page stay; older ones (other data, older code) go
        entries = sorted(
            folder.glob(f"page-{name}-*.json"), key=lambda p: p.stat().st_mtime_ns, reverse=True
        )
        for old in entries[keep:]:
            old.unlink(missing_ok=True)
    except (OSError, KdsupportError):
        pass  # a cache that cannot be written only costs time


def cached_sections(
    name: str,
    key: str | None,
    build: Callable[[], dict[str, str]],
    *,
    names: Iterable[str],
    keep: int,
) -> tuple[dict[str, str], bool]:
    """The sections of page ``name`` drawn for ``key``, and whether they came from the cache.

    ``build`` draws them (a mapping from each of ``names`` to its HTML) when the cache has no
    whole entry for ``key``; the result is then stored, and at most ``keep`` entries of the page
    are kept. A ``key`` of None (the data could not be identified) always draws and stores
    nothing.
    """
    folder = cache_folder() if key is not None else None
    if folder is None or key is None:
        return build(), False
    path = _entry_path(folder, name, key)
    hit = _read(path, key, names)
    if hit is not None:
        return hit, True
    sections = build()
    _write(folder, name, key, sections, keep)
    return sections, False
