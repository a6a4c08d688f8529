"""Validation messages: every problem names its field path and says what is allowed.

``trials[1].weeks: must be > 0, got -3``; an unknown key lists the keys allowed there, a typo
in a drug name the closest names. Paths quote any key that is not a plain name, so a message
is always one unambiguous line.

For training and case conferences with synthetic patients; not a medical device.
"""

from __future__ import annotations

import difflib
import re
import types
import typing
from typing import Annotated, Any

from pydantic import BaseModel

from kdsupport.errors import Problem
from kdsupport.records.model import CaseRecord

__all__ = ["field_path", "clean_loc", "show_value", "validation_message", "dedupe", "path_order"]


def field_path(loc: tuple[Any, ...] | list[Any]) -> str:
    """Render a location tuple as ``trials[1].weeks``.

    A key that is not a plain name (it holds a dot, a bracket, a newline, ...) is quoted and
    escaped as in JSON, so a path is always one unambiguous line.
    """
    from kdsupport.files.input_gate import quote_key

    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            shown = quote_key(part)
            if shown.startswith('"'):
                out += f"[{shown}]"
            else:
                out += ("." if out else "") + shown
    return out


def _members(annotation: Any) -> list[Any]:
    """The members of a union annotation other than None (one member for a plain type)."""
    if typing.get_origin(annotation) is Annotated:
        return _members(typing.get_args(annotation)[0])
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        out: list[Any] = []
        for arg in typing.get_args(annotation):
            if arg is not type(None):
                out += _members(arg)
        return out
    return [annotation]


def clean_loc(loc: tuple[Any, ...] | list[Any]) -> tuple[Any, ...]:
    """A pydantic error location without the union-member tags pydantic inserts.

    pydantic appends the member it tried (``'str'``, ``'list[str]'``) after a field whose type
    is a real union. Those tags are found by walking the model, never by their spelling, so a
    hostile key named ``int`` or ``a[0]`` stays in the path.
    """
    out: list[Any] = []
    annotation: Any = CaseRecord
    parts = list(loc)
    i = 0
    while i < len(parts):
        part = parts[i]
        out.append(part)
        i += 1
        members = _members(annotation) if annotation is not None else []
        model = next((m for m in members if isinstance(m, type) and issubclass(m, BaseModel)), None)
        if isinstance(part, int):
            seq = next((m for m in members if typing.get_origin(m) is list), None)
            annotation = typing.get_args(seq)[0] if seq is not None else None
        elif model is not None:
            info = model.model_fields.get(part)
            annotation = info.annotation if info is not None else None
            if info is not None and info.metadata:
                annotation = Annotated[(annotation, *info.metadata)]
        else:
            mapping = next((m for m in members if typing.get_origin(m) is dict), None)
            annotation = typing.get_args(mapping)[1] if mapping is not None else None
        if annotation is not None and len(_members(annotation)) > 1 and i < len(parts):
            tag = parts[i]
            if isinstance(tag, str):
                i += 1  # the member tag
                chosen = (
                    [m for m in _members(annotation) if typing.get_origin(m) is list]
                    if tag.startswith("list")
                    else []
                )
                annotation = chosen[0] if chosen else None
    return tuple(out)


def _unwrap(annotation: Any) -> Any:
    """The model class inside Optional[...] / list[...] annotations, if any."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType, list, Annotated):
        for arg in typing.get_args(annotation):
            found = _unwrap(arg)
            if found is not None:
                return found
        return None
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return None


def _field_at(loc: tuple[Any, ...]) -> tuple[type[BaseModel] | None, Any]:
    """The model holding the last location part, and that field's annotation."""
    model: type[BaseModel] | None = CaseRecord
    annotation = None
    for i, part in enumerate(loc):
        if isinstance(part, int):  # an entry of a list: nullable only if its own type says so
            seq = next((m for m in _members(annotation) if typing.get_origin(m) is list), None)
            annotation = typing.get_args(seq)[0] if seq is not None else None
            continue
        if model is None:
            continue
        info = model.model_fields.get(part)
        if info is None:
            return model, None
        annotation = info.annotation
        if i < len(loc) - 1:
            model = _unwrap(annotation) or None
    return model, annotation


def _nullable(annotation: Any) -> bool:
    return type(None) in typing.get_args(annotation)


def show_value(value: Any) -> str:
    """A value as a message shows it: quoted, shortened, its YAML reading named."""
    from kdsupport.files.input_gate import AmbiguousScalar, quote_key

    if isinstance(value, AmbiguousScalar):
        return f"{quote_key(str(value))} (text; YAML 1.1 would read it as {value.reading})"
    if isinstance(value, str):
        return quote_key(value) if len(value) > 60 else repr(value)
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        kind = "a mapping" if isinstance(value, dict) else "a list"
        return kind
    return str(value)


def validation_message(err: Any) -> str:
    """One pydantic error in plain words, with what is allowed at that path."""
    kind = err["type"]
    ctx = err.get("ctx") or {}
    got = show_value(err.get("input"))
    loc = clean_loc(err["loc"])
    holder, annotation = _field_at(loc)
    null = " (or null when not known)" if annotation is not None and _nullable(annotation) else ""
    if kind == "missing":
        return "required field is missing"
    if kind == "extra_forbidden":
        key = str(loc[-1])
        allowed = _allowed_fields(loc)
        close = difflib.get_close_matches(key, allowed, n=2, cutoff=0.6)
        hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
        return f"unknown field{hint} (allowed here: {', '.join(allowed)})"
    if kind == "literal_error":
        expected = str(ctx.get("expected"))
        if expected in ("True", "False"):  # a YAML or JSON author writes true / false
            return f"must be {expected.lower()}{null}, got {got}"
        return f"must be one of {expected}{null}, got {got}"
    bounds = {
        "greater_than": (">", "gt"),
        "greater_than_equal": (">=", "ge"),
        "less_than": ("<", "lt"),
        "less_than_equal": ("<=", "le"),
    }
    if kind in bounds:
        sym, key = bounds[kind]
        limit = ctx.get(key)
        if isinstance(limit, float) and limit.is_integer():
            limit = int(limit)
        return f"must be {sym} {limit}, got {got}"
    if kind in ("int_type", "int_from_float", "int_parsing"):
        return f"must be a whole number{null}, got {got}"
    if kind in ("float_type", "float_parsing"):
        return f"must be a number{null}, got {got}"
    if kind == "finite_number":
        return f"must be a finite number{null}, got {got}"
    if kind == "too_long":
        return f"too many entries: at most {ctx.get('max_length')} are allowed"
    if kind == "string_too_long":
        return f"too long: at most {ctx.get('max_length')} characters are allowed"
    if kind in ("bool_type", "bool_parsing"):
        return f"must be true or false{null}, got {got}"
    if kind == "string_type":
        return f"must be text{null}, got {got}"
    if kind == "list_type":
        return f"must be a list{null}, got {got}"
    if kind in ("model_type", "dict_type", "model_attributes_type"):
        return f"must be a mapping of fields{null}, got {got}"
    if kind == "string_pattern_mismatch":
        return f"must use only lower-case letters, digits and '-' (1-64 characters), got {got}"
    if kind == "value_error":
        return str(ctx.get("error", err["msg"]))
    return f"{err['msg']}, got {got}"


def _allowed_fields(loc: tuple[Any, ...]) -> list[str]:
    model: type[BaseModel] | None = CaseRecord
    for part in loc[:-1]:
        if isinstance(part, int) or model is None:
            continue
        info = model.model_fields.get(part)
        model = _unwrap(info.annotation) if info else None
    if model is None:
        return []
    return [info.alias or name for name, info in model.model_fields.items()]


_TOP_ORDER = {name: i for i, name in enumerate(CaseRecord.model_fields)}


def path_order(problem: Problem) -> tuple[Any, ...]:
    """Sort problems in record order: top-level field order, then list index, then name."""
    parts = re.findall(r"[^.\[\]]+", problem.path)
    key: list[Any] = [_TOP_ORDER.get(parts[0], len(_TOP_ORDER)) if parts else -1]
    for part in parts[1:]:
        key.append((0, int(part), "") if part.isdigit() else (1, 0, part))
    return tuple(key)


_MUST = re.compile(r"must be (?:one of )?(.*?)( \(or null when not known\))?, got (.*)", re.S)


def _merge_union(problems: list[Problem]) -> list[Problem]:
    """One line per field whose value no member of a union accepted.

    A value that fits no member gets one error per member from pydantic; they are merged into
    one message that lists every allowed kind. When the value is a mapping or list and a member
    reports a deeper problem (``…action``), that deeper problem is what the author meant and
    the sibling member's "got a mapping" is dropped.
    """
    paths = [p.path for p in problems]
    deeper = {p for p in paths if any(q.startswith((p + ".", p + "[")) for q in paths)}
    kept = [
        p
        for p in problems
        if not (p.path in deeper and p.message.endswith(("got a mapping", "got a list")))
    ]
    by_path: dict[str, list[Problem]] = {}
    for p in kept:
        by_path.setdefault(p.path, []).append(p)
    out: list[Problem] = []
    for p in kept:
        group = by_path[p.path]
        matches = [_MUST.fullmatch(q.message) for q in group]
        if len(group) == 1 or not all(matches):
            out.append(p)
            continue
        if p is group[0]:
            kinds = " or ".join(dict.fromkeys(m.group(1) for m in matches if m))
            null = next((m.group(2) for m in matches if m and m.group(2)), "") or ""
            got = matches[0].group(3) if matches[0] else ""
            out.append(Problem(p.path, f"must be {kinds}{null}, got {got}"))
    return out


def dedupe(problems: list[Problem]) -> list[Problem]:
    """The problems without repeats (same path and message), in their order.

    A union's per-member errors are merged into one line first.
    """
    seen: set[tuple[str, str]] = set()
    out = []
    for p in _merge_union(problems):
        if (p.path, p.message) not in seen:
            seen.add((p.path, p.message))
            out.append(p)
    return out
