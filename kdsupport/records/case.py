"""Case records: the input contract (``docs/case-record.md`` §2, the format ``kdsupport-case/1``).

A case record is YAML or JSON. :func:`load_case` reads a file, :func:`validate_case` checks a
parsed mapping; both return a frozen :class:`CaseRecord` or raise
:class:`~kdsupport.errors.InvalidInputError` listing *every* problem with its field path
(``trials[1].weeks: must be > 0, got -3``), with the closest drug names for a typo.

Missing or ``null`` always means *not known*; it never means "no" or "normal". A record
without ``synthetic: true`` is refused: kdsupport works on synthetic patients only.

The numeric limits below are plausibility ranges for input (the contract's, e.g. age 12-110,
and :data:`LIMITS`, which bound magnitudes, list lengths and text sizes so that one record can
never cause unbounded work); they are not clinical thresholds: every clinical threshold lives
in the knowledge base. Scale item counts and ranges are checked against the knowledge base.
Files are read through :mod:`kdsupport.files.input_gate` (regular files only, a size cap, strict
YAML and JSON); patterns are anchored at both ends, so a trailing newline cannot slip through.

For training and case conferences; not a medical device.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import ValidationError

from kdsupport.errors import InvalidInputError, Problem
from kdsupport.records.checks import semantic_problems
from kdsupport.records.messages import clean_loc, dedupe, field_path, path_order, validation_message
from kdsupport.records.model import (
    FORMAT,
    ID_PATTERN,
    LIMITS,
    WHEN_PATTERN,
    Administration,
    CaseRecord,
    CSSRSAnswers,
    Diagnosis,
    ECTCourse,
    MOAASReading,
    Option,
    Patient,
    Question,
    Screening,
    Session,
    Teaching,
    TeachingPoint,
    Trial,
    VitalReading,
    Vitals,
)

__all__ = [
    "FORMAT",
    "ID_PATTERN",
    "LIMITS",
    "WHEN_PATTERN",
    "CaseRecord",
    "Patient",
    "Diagnosis",
    "Trial",
    "ECTCourse",
    "Screening",
    "Vitals",
    "Administration",
    "CSSRSAnswers",
    "Session",
    "VitalReading",
    "MOAASReading",
    "Option",
    "Question",
    "TeachingPoint",
    "Teaching",
    "load_case",
    "parse_case_text",
    "validate_case",
    "case_json_schema",
    "field_path",
]


def parse_case_text(text: str, *, name: str = "<input>") -> Any:
    """Parse a record's text strictly: JSON for ``*.json`` names, YAML otherwise.

    See :mod:`kdsupport.files.input_gate`: duplicate keys, YAML tags and aliases, non-finite JSON
    numbers are refused; YAML 1.1 forms such as ``yes`` or ``1:30`` stay text.
    """
    from kdsupport.files.input_gate import parse_record_text

    return parse_record_text(text, name=name)


def load_case(path: str | Path) -> CaseRecord:
    """Read, parse and validate a case-record file (YAML or JSON).

    Only a regular file up to the size cap of :mod:`kdsupport.files.input_gate` is read.

    Raises
    ------
    InvalidInputError
        With every problem found, each naming its field path.
    """
    from kdsupport.files.input_gate import read_text_file

    name = str(path)
    text = read_text_file(name)
    return validate_case(parse_case_text(text, name=name), source=name)


def validate_case(data: Any, *, source: str | None = None) -> CaseRecord:
    """Validate a parsed case record; report every problem at once.

    Parameters
    ----------
    data
        The parsed YAML/JSON mapping. It is not modified.
    source
        A name for messages (usually the file path).
    """
    if not isinstance(data, dict):
        got = type(data).__name__ if data is not None else "an empty document"
        raise InvalidInputError(
            [Problem("", f"a case record must be a mapping, got {got}")], source
        )
    problems: list[Problem] = []
    if data.get("synthetic") is not True:
        problems.append(
            Problem(
                "synthetic",
                "must be true: kdsupport accepts synthetic records only, this record is refused"
                + ("" if "synthetic" in data else " (field missing)"),
            )
        )
    record: CaseRecord | None = None
    try:
        record = CaseRecord.model_validate(data)
    except ValidationError as exc:
        for err in exc.errors():
            if tuple(err["loc"]) == ("synthetic",):
                continue  # already reported above in plain words
            problems.append(Problem(field_path(clean_loc(err["loc"])), validation_message(err)))
    problems += semantic_problems(data)
    if problems:
        raise InvalidInputError(sorted(dedupe(problems), key=path_order), source)
    assert record is not None  # pydantic raised if it could not build the record
    return record


def case_json_schema() -> dict[str, Any]:
    """The JSON Schema of a case record (``kdsupport schema``)."""
    schema = CaseRecord.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "kdsupport case record (kdsupport-case/1)"
    schema["description"] = (
        "Synthetic case record for kdsupport (docs/case-record.md section 2). "
        "Missing or null means not known. Scale item counts and ranges are checked against "
        "the knowledge base in addition to this schema."
    )
    return schema
