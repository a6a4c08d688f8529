"""Loading the knowledge base: parse every YAML file, validate it as a whole, cache it.

For training with synthetic patients; not a medical device.
"""

from __future__ import annotations

import functools
from importlib import resources
from typing import Any

from pydantic import ValidationError

from kdsupport.errors import KnowledgeBaseError, Problem
from kdsupport.knowledge.models.common import KB_FILES
from kdsupport.knowledge.models.knowledge_base import FILE_MODELS, KnowledgeBase

__all__ = ["load", "load_raw", "find_problems", "parse_yaml"]


def parse_yaml(text: str) -> Any:
    """Parse knowledge-base YAML with the strict resolver of :mod:`kdsupport.files.input_gate`."""
    from kdsupport.files.input_gate import parse_yaml as strict

    return strict(text)


def load_raw() -> dict[str, Any]:
    """The parsed YAML of every knowledge-base file, by file name."""
    pkg = resources.files("kdsupport.knowledge")
    return {name: parse_yaml(pkg.joinpath(name).read_text(encoding="utf-8")) for name in KB_FILES}


def _path(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def find_problems(raw: dict[str, Any]) -> list[Problem]:
    """Every problem in a parsed knowledge base (empty list when valid).

    Checks file structure (unknown or missing keys, wrong types), source ids that do not
    resolve, numbers without a source, bands with gaps or overlaps, unordered ranges and
    dangling references between files. All problems are collected before returning.
    """
    return _check(raw)[0]


def _check(raw: dict[str, Any]) -> tuple[list[Problem], dict[str, Any]]:
    from kdsupport.knowledge import checks  # noqa: I001 - a sibling, loaded only to validate

    problems: list[Problem] = []
    models: dict[str, Any] = {}
    for name in KB_FILES:
        if name not in raw:
            problems.append(Problem(name, "file missing"))
            continue
        try:
            models[name] = FILE_MODELS[name].model_validate(raw[name])
        except ValidationError as exc:
            for err in exc.errors():
                problems.append(Problem(f"{name}: {_path(err['loc'])}", err["msg"]))
    problems += checks.raw_checks(raw)
    problems += checks.model_checks(models)
    return problems, models


@functools.lru_cache(maxsize=1)
def load() -> KnowledgeBase:
    """Load and validate the packaged knowledge base (cached per process).

    Raises
    ------
    KnowledgeBaseError
        Listing every problem, if the knowledge base is invalid.
    """
    problems, models = _check(load_raw())
    if problems:
        raise KnowledgeBaseError(problems)
    return KnowledgeBase(models)
