"""The input gate: how kdsupport reads a file that someone else wrote.

Every case record, cohort manifest and table passes through here before any rule sees it. The
gate assumes the file is hostile:

* it opens **regular files only** (a FIFO, a device such as ``/dev/zero``, a directory or a
  socket is refused before a byte is read, so nothing hangs and nothing eats memory);
* it refuses a file **larger than a documented cap** before reading it
  (:data:`MAX_RECORD_BYTES`, overridable with ``$KDSUPPORT_MAX_RECORD_BYTES``; cohort manifests
  and tables have fixed caps of their own, which the message names);
* it maps **every operating-system error** (missing, permission, symlink loop, name too long)
  to an :class:`~kdsupport.errors.InvalidInputError` naming the path, which the CLI turns into
  exit status 2;
* it parses YAML with a **strict resolver**: only ``true``/``false`` are booleans, only plain
  decimal forms are numbers; YAML 1.1 forms that other readers would turn into numbers or
  booleans (``1:30`` = 90, ``010`` = 8, ``yes``, ``on``) stay text and are reported where a
  number or a boolean is expected; **duplicate keys** are refused in YAML and JSON alike; YAML
  anchors and aliases are refused in records; a byte-order mark is accepted in both formats;
* JSON ``NaN``/``Infinity`` and numbers that overflow to infinity are refused.

Keys and values are quoted safely in every message (:func:`quote_key`), so one problem is
always one line.

For training with synthetic patients; not a medical device.
"""

from __future__ import annotations

import errno
import json
import math
import os
import re
import stat
from pathlib import Path
from typing import IO, Any

import yaml

from kdsupport.errors import InvalidInputError, Problem

__all__ = [
    "MAX_RECORD_BYTES",
    "AmbiguousScalar",
    "max_record_bytes",
    "open_regular",
    "read_bytes",
    "read_text_file",
    "parse_yaml",
    "parse_json",
    "parse_record_text",
    "quote_key",
]

#: Default size cap of one case record or manifest (bytes). The largest curated case is about
#: 10 KB; 2 MiB leaves room for long session logs while bounding the work one file can cause.
MAX_RECORD_BYTES = 2 * 1024 * 1024

_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)
_OS_ERRORS = {
    errno.ENOENT: "file not found",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
    errno.EISDIR: "is a directory, not a file",
    errno.ELOOP: "too many levels of symbolic links (a symlink loop?)",
    errno.ENAMETOOLONG: "file name too long",
    errno.ENOTDIR: "a component of the path is not a directory",
}


def max_record_bytes() -> int:
    """The size cap in force: ``$KDSUPPORT_MAX_RECORD_BYTES`` if set to a positive integer."""
    raw = os.environ.get("KDSUPPORT_MAX_RECORD_BYTES", "")
    return int(raw) if raw.isdigit() and int(raw) > 0 else MAX_RECORD_BYTES


def os_error_message(exc: OSError) -> str:
    """A one-line description of an operating-system error (no path: callers add it)."""
    return _OS_ERRORS.get(exc.errno or -1, f"cannot read the file: {exc.strerror or exc}")


def file_kind(mode: int) -> str | None:
    """What a non-regular file is ('a FIFO (named pipe)', ...), or None for a regular file."""
    for test, word in _KINDS:
        if test(mode):
            return word
    return None if stat.S_ISREG(mode) else "not a regular file"


def _too_large(size: int, cap: int, what: str | None) -> Problem:
    """The size refusal, naming the limit that applies (and how to change it, if one can)."""
    if what is None:
        return Problem(
            "",
            f"the file is {size:,} bytes; the limit is {cap:,} bytes "
            "(set KDSUPPORT_MAX_RECORD_BYTES to change it)",
        )
    return Problem("", f"the file is {size:,} bytes; the limit for {what} is {cap:,} bytes")


def open_regular(
    path: str | Path, *, limit: int | None = None, what: str | None = None
) -> IO[bytes]:
    """Open a regular file no larger than ``limit`` for reading in binary; the caller closes it.

    ``limit`` defaults to :func:`max_record_bytes`; ``what`` names a fixed limit in messages
    (for example "a cohort manifest (MAX_MANIFEST_BYTES)"), which the environment variable
    does not change.

    Raises
    ------
    InvalidInputError
        Naming the path, for a missing or unreadable file, a non-regular file or one over the
        size cap.
    """
    cap = max_record_bytes() if limit is None else limit
    name = str(path)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    flags |= getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(name, flags)
    except OSError as exc:
        raise InvalidInputError([Problem("", os_error_message(exc))], name) from None
    try:
        st = os.fstat(fd)
        kind = file_kind(st.st_mode)
        if kind is not None:
            raise InvalidInputError([Problem("", f"{kind}, not a regular file: refused")], name)
        if st.st_size > cap:
            raise InvalidInputError([_too_large(st.st_size, cap, what)], name)
        return os.fdopen(fd, "rb")
    except BaseException as exc:
        os.close(fd)
        if isinstance(exc, OSError):
            raise InvalidInputError([Problem("", os_error_message(exc))], name) from None
        raise


def read_bytes(path: str | Path, *, limit: int | None = None, what: str | None = None) -> bytes:
    """The bytes of a regular file no larger than ``limit``; anything else is refused.

    ``limit``, ``what`` and the errors raised are those of :func:`open_regular`.
    """
    cap = max_record_bytes() if limit is None else limit
    name = str(path)
    with open_regular(path, limit=cap, what=what) as fh:
        try:
            chunks, total = [], 0
            while True:
                chunk = fh.read(min(1 << 20, cap + 1 - total))
                if not chunk:
                    break
                chunks.append(chunk)
                total += len(chunk)
                if total > cap:
                    raise InvalidInputError(
                        [
                            Problem(
                                "", f"the file grew beyond the limit of {cap:,} bytes while read"
                            )
                        ],
                        name,
                    )
            return b"".join(chunks)
        except OSError as exc:
            raise InvalidInputError([Problem("", os_error_message(exc))], name) from None


def read_text_file(path: str | Path, *, limit: int | None = None, what: str | None = None) -> str:
    """A regular UTF-8 text file (a leading byte-order mark is dropped); see :func:`read_bytes`."""
    data = read_bytes(path, limit=limit, what=what)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidInputError(
            [Problem("", f"not UTF-8 text (invalid byte at offset {exc.start})")], str(path)
        ) from None
    return text.removeprefix("\ufeff")


# ---------------------------------------------------------------- strict YAML
class AmbiguousScalar(str):
    """A YAML scalar kept as text that YAML 1.1 readers turn into a number or a boolean.

    ``reading`` says what YAML 1.1 would make of it, for the error message where a number or a
    boolean is expected.
    """

    reading: str

    def __new__(cls, text: str, reading: str) -> AmbiguousScalar:  # noqa: D102
        obj = super().__new__(cls, text)
        obj.reading = reading
        return obj

    def __reduce__(self) -> tuple[Any, ...]:
        return (AmbiguousScalar, (str(self), self.reading))


_AMBIGUOUS = "tag:kdsupport,2026:ambiguous"
_BOOL_WORDS = re.compile(r"^(?:yes|Yes|YES|no|No|NO|on|On|ON|off|Off|OFF|y|Y|n|N)$")
_SEXAGESIMAL = re.compile(r"^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$")
_LEADING_ZERO = re.compile(r"^[-+]?0[0-9_]+(?:\.[0-9_]*)?$")
_PREFIXED = re.compile(r"^[-+]?0(?:x[0-9a-fA-F_]+|o[0-7_]+|b[01_]+)$")
_UNDERSCORE = re.compile(r"^[-+]?(?:[0-9][0-9_]*_[0-9_]*|[0-9_]*\.[0-9_]*_[0-9_]*)$")
_AMBIGUOUS_FORMS = (
    (_BOOL_WORDS, "the boolean true or false"),
    (_SEXAGESIMAL, "a base-60 number (1:30 is 90)"),
    (_PREFIXED, "a hexadecimal, octal or binary number"),
    (_LEADING_ZERO, "an octal number (010 is 8)"),
    (_UNDERSCORE, "a number with digit separators"),
)


def _ambiguous_reading(text: str) -> str:
    for rx, reading in _AMBIGUOUS_FORMS:
        if rx.match(text):
            return reading
    return "something other than text"


_BaseLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class StrictLoader(_BaseLoader):
    """A safe YAML loader with the YAML 1.2 core scalar forms and no duplicate keys.

    Dates stay text (records treat them as text). Aliases are allowed here (the knowledge base
    may use them); :class:`RecordLoader` refuses them.
    """

    allow_aliases = True

    def construct_object(self, node: Any, deep: bool = False) -> Any:
        if not self.allow_aliases:
            if node in self.constructed_objects or node in self.recursive_objects:
                raise yaml.constructor.ConstructorError(
                    None, None, "YAML anchors and aliases are not allowed", node.start_mark
                )
            if node.tag != self._implicit_tag(node):
                raise yaml.constructor.ConstructorError(
                    None, None, f"YAML tags ({node.tag}) are not allowed", node.start_mark
                )
        return super().construct_object(node, deep=deep)

    def _implicit_tag(self, node: Any) -> str:
        """The tag the node would have without an explicit tag."""
        if isinstance(node, yaml.ScalarNode):
            plain = not node.style  # None from the Python parser, '' from the C parser
            return str(self.resolve(yaml.ScalarNode, node.value, (plain, True)))
        return str(self.resolve(type(node), None, (True, False)))

    def construct_mapping(self, node: Any, deep: bool = False) -> dict[Any, Any]:
        if isinstance(node, yaml.MappingNode):
            seen: dict[Any, Any] = {}
            for key_node, _ in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    raise yaml.constructor.ConstructorError(
                        None, None, "merge keys (<<) are not allowed", key_node.start_mark
                    )
                if not isinstance(key_node, yaml.ScalarNode):
                    raise yaml.constructor.ConstructorError(
                        None, None, "a mapping key must be text or a number", key_node.start_mark
                    )
                key = (key_node.tag, key_node.value)
                if key in seen:
                    raise yaml.constructor.ConstructorError(
                        "while reading a mapping",
                        node.start_mark,
                        f"duplicate key {quote_key(key_node.value)}",
                        key_node.start_mark,
                    )
                seen[key] = key_node
        return super().construct_mapping(node, deep=deep)


class RecordLoader(StrictLoader):
    """The strict loader for records written by someone else: no anchors, aliases or tags."""

    allow_aliases = False


def _construct_ambiguous(loader: Any, node: Any) -> AmbiguousScalar:
    text = loader.construct_scalar(node)
    return AmbiguousScalar(text, _ambiguous_reading(text))


def _construct_float(loader: Any, node: Any) -> float:
    text = loader.construct_scalar(node).lower()
    if text.endswith((".inf", ".nan")):
        sign = -1.0 if text.startswith("-") else 1.0
        return sign * math.inf if text.endswith("inf") else math.nan
    return float(text)


StrictLoader.yaml_implicit_resolvers = {}
for _tag, _rx, _first in (
    ("tag:yaml.org,2002:bool", r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF"),
    ("tag:yaml.org,2002:null", r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""]),
    ("tag:yaml.org,2002:int", r"^[-+]?(?:0|[1-9][0-9]*)$", "-+0123456789"),
    (
        "tag:yaml.org,2002:float",
        r"^(?:[-+]?(?:[0-9]+\.[0-9]*|\.[0-9]+|[0-9]+(?:\.[0-9]*)?[eE][-+]?[0-9]+"
        r"|\.[0-9]+[eE][-+]?[0-9]+)|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$",
        "-+0123456789.",
    ),
    (
        _AMBIGUOUS,
        "|".join(rx.pattern for rx, _ in _AMBIGUOUS_FORMS),
        "-+0123456789yYnNoO",
    ),
):
    StrictLoader.add_implicit_resolver(_tag, re.compile(_rx), list(_first))
StrictLoader.add_constructor(_AMBIGUOUS, _construct_ambiguous)
StrictLoader.add_constructor("tag:yaml.org,2002:float", _construct_float)
StrictLoader.add_constructor(
    "tag:yaml.org,2002:timestamp", yaml.constructor.SafeConstructor.construct_yaml_str
)


def parse_yaml(text: str, *, record: bool = False) -> Any:
    """Parse YAML strictly (see the module docstring); ``record=True`` also refuses aliases."""
    return yaml.load(text, Loader=RecordLoader if record else StrictLoader)  # noqa: S506


# ---------------------------------------------------------------- strict JSON
class _JSONProblem(ValueError):
    pass


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _JSONProblem(f"duplicate key {quote_key(key)}")
        out[key] = value
    return out


def _no_constant(name: str) -> Any:
    raise _JSONProblem(f"{name} is not a number JSON allows (non-finite numbers are refused)")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _JSONProblem(f"the number {text[:40]} is too large (it overflows to infinity)")
    return value


def parse_json(text: str) -> Any:
    """Parse JSON strictly: no duplicate keys, no NaN or Infinity, no overflowing numbers."""
    return json.loads(
        text,
        object_pairs_hook=_no_duplicates,
        parse_constant=_no_constant,
        parse_float=_finite_float,
    )


def parse_record_text(text: str, *, name: str = "<input>") -> Any:
    """Parse a record's text: JSON for ``*.json`` names, strict YAML otherwise.

    Raises
    ------
    InvalidInputError
        With the line and column where the text could not be read.
    """
    text = text.removeprefix("\ufeff")
    try:
        if name.lower().endswith(".json"):
            return parse_json(text)
        return parse_yaml(text, record=True)
    except RecursionError:
        problem = "nested too deeply to be a case record"
    except _JSONProblem as exc:
        problem = f"not valid JSON: {exc}"
    except json.JSONDecodeError as exc:
        problem = f"not valid JSON (line {exc.lineno}, column {exc.colno}): {exc.msg}"
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        pos = f" (line {where.line + 1}, column {where.column + 1})" if where else ""
        detail = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        problem = f"not valid YAML{pos}: {detail}"
    except ValueError as exc:  # e.g. an integer with too many digits
        problem = f"not a valid record: {str(exc).splitlines()[0]}"
    raise InvalidInputError([Problem("", problem)], name)


# ---------------------------------------------------------------- quoting
_PLAIN_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,79}")
_MAX_KEY_SHOWN = 60


def quote_key(key: Any) -> str:
    """A key as shown in a message: bare when it is a plain name, else quoted and escaped.

    The quoted form escapes every control character, line separator and non-ASCII character
    and is cut to a readable length, so a hostile key can never start a new line or hide.
    """
    if isinstance(key, str) and _PLAIN_KEY.fullmatch(key):
        return key
    text = key if isinstance(key, str) else repr(key)
    cut = text[:_MAX_KEY_SHOWN]
    shown = json.dumps(cut, ensure_ascii=True)
    if len(text) > _MAX_KEY_SHOWN:
        shown = shown[:-1] + f'..." ({len(text)} characters)'
    return shown
