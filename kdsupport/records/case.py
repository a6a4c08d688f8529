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

import datetime as _dt
import difflib
import re
import types
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, Literal, TypeGuard

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from kdsupport.errors import InvalidInputError, Problem

__all__ = [
    "FORMAT",
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
    "load_case",
    "parse_case_text",
    "validate_case",
    "case_json_schema",
    "field_path",
]

FORMAT = "kdsupport-case/1"
ID_PATTERN = r"^[a-z0-9-]{1,64}$"
WHEN_PATTERN = re.compile(r"baseline|session-[0-9]{1,4}|day-[0-9]{1,5}|[0-9]{4}-[0-9]{2}-[0-9]{2}")

#: Plausibility limits of the input (not clinical thresholds). A value beyond one is a slip of
#: the keyboard or an attack; refusing it bounds the work a record can cause.
LIMITS: dict[str, int] = {
    "weeks": 520,  # ten years at one dose
    "dose_mg_per_day": 5000,
    "serum_level_mmol_l": 10,
    "months": 1200,  # a hundred years
    "minute": 1440,  # a day after the start of the dose
    "session_number": 1000,
    "ect_sessions": 500,
    "session_dose_mg": 1000,
    "dose_mg_per_kg": 10,
    "tolerance": 1000,
    "list": 1000,  # entries in any list of a record
    "short_text": 500,  # characters: titles, labels, names, codes
    "long_text": 20000,  # characters: vignettes, rationales, teaching points
}
_LIST = LIMITS["list"]
ShortText = Annotated[str, Field(max_length=LIMITS["short_text"])]
LongText = Annotated[str, Field(max_length=LIMITS["long_text"])]

Instrument = Literal["phq9", "madrs", "qids_sr16", "gad7", "cssrs_screener", "moaas", "cadss"]
Modality = Literal["esketamine_nasal", "iv_ketamine", "at_home_ketamine"]


class _Record(BaseModel):
    # strict: "true" is not a boolean and 3.0 is not an item score; extra keys are errors.
    # allow_inf_nan=False: .inf or .nan is never a plausible value.
    model_config = ConfigDict(
        extra="forbid", strict=True, frozen=True, populate_by_name=True, allow_inf_nan=False
    )


class Patient(_Record):
    """Who the patient is (synthetic)."""

    age_years: int = Field(ge=12, le=110)
    sex: Literal["female", "male", "intersex", "unknown"] | None = None
    weight_kg: float | None = Field(default=None, ge=25, le=300)
    pregnant: bool | None = None
    breastfeeding: bool | None = None


class Diagnosis(_Record):
    """The working diagnosis and the current episode."""

    primary: Literal["mdd", "bipolar_depression", "other"] | None = None
    icd10: ShortText | None = None
    current_episode_months: float | None = Field(default=None, ge=0, le=LIMITS["months"])
    severity: Literal["subsyndromal", "mild", "moderate", "severe"] | None = None
    psychotic_features: bool | None = None


class Trial(_Record):
    """One medication trial; list order is chronological."""

    drug: ShortText
    role: Literal["monotherapy", "combination", "augmentation"] = "monotherapy"
    episode: Literal["current", "previous"] | None = "current"
    dose_mg_per_day: float | None = Field(default=None, gt=0, le=LIMITS["dose_mg_per_day"])
    serum_level_mmol_l: float | None = Field(default=None, gt=0, le=LIMITS["serum_level_mmol_l"])
    weeks: float | None = Field(default=None, gt=0, le=LIMITS["weeks"])
    adherence: Literal["adequate", "inadequate"] | None = None
    improvement_percent: float | None = Field(default=None, ge=-100, le=100)
    dose_optimised: bool | None = None
    stopped_early_for: Literal["intolerance", "patient_choice", "other"] | None = None

    @field_validator("drug")
    @classmethod
    def _lower(cls, v: str) -> str:
        return v.strip().lower()


class ECTCourse(_Record):
    """One course of electroconvulsive therapy."""

    episode: Literal["current", "previous"] | None = "current"
    laterality: Literal["bilateral", "unilateral"] | None = None
    sessions: int | None = Field(default=None, gt=0, le=LIMITS["ect_sessions"])
    improvement_percent: float | None = Field(default=None, ge=-100, le=100)


class Screening(_Record):
    """Screening items: true present, false absent, null or missing not assessed."""

    aneurysmal_vascular_disease: bool | None = None
    arteriovenous_malformation: bool | None = None
    intracerebral_hemorrhage_history: bool | None = None
    ketamine_hypersensitivity: bool | None = None
    uncontrolled_hypertension: bool | None = None
    unstable_cardiovascular_disease: bool | None = None
    raised_intracranial_pressure: bool | None = None
    psychosis_history: bool | None = None
    current_psychosis_or_mania: bool | None = None
    substance_use_disorder_active: bool | None = None
    ketamine_misuse_history: bool | None = None
    severe_hepatic_impairment: bool | None = None
    moderate_hepatic_impairment: bool | None = None
    interstitial_cystitis: bool | None = None
    cns_depressant_use: bool | None = None
    maoi_or_psychostimulant_use: bool | None = None
    support_person_available: bool | None = None


class Vitals(_Record):
    """The most recent reading before treatment."""

    systolic_mmhg: float | None = Field(default=None, ge=50, le=300)
    diastolic_mmhg: float | None = Field(default=None, ge=20, le=200)
    heart_rate_bpm: float | None = Field(default=None, ge=20, le=250)
    spo2_percent: float | None = Field(default=None, ge=50, le=100)


class CSSRSAnswers(_Record):
    """The six C-SSRS screener questions (question 6 in two parts); null = not asked."""

    wish_to_be_dead: bool | None = None
    active_thoughts: bool | None = None
    method: bool | None = None
    intent: bool | None = None
    plan: bool | None = None
    behavior: bool | None = None
    behavior_past_3_months: bool | None = None


class Administration(_Record):
    """One administration of a rating scale."""

    instrument: Instrument
    when: ShortText
    items: Annotated[list[int | None], Field(max_length=_LIST)] | None = None
    total: int | None = None
    answers: CSSRSAnswers | None = None

    @field_validator("when")
    @classmethod
    def _when(cls, v: str) -> str:
        if not WHEN_PATTERN.fullmatch(v):
            raise ValueError(
                f"must be 'baseline', 'session-N', 'day-N' or an ISO date (YYYY-MM-DD), got {v!r}"
            )
        if v[0].isdigit():
            try:
                _dt.date.fromisoformat(v)
            except ValueError:
                raise ValueError(f"{v!r} is not a real calendar date") from None
        return v


class VitalReading(_Record):
    """Vital signs at a minute after the start of the dose."""

    minute: float = Field(ge=0, le=LIMITS["minute"])
    systolic_mmhg: float | None = Field(default=None, ge=50, le=300)
    diastolic_mmhg: float | None = Field(default=None, ge=20, le=200)
    heart_rate_bpm: float | None = Field(default=None, ge=20, le=250)
    spo2_percent: float | None = Field(default=None, ge=50, le=100)


class MOAASReading(_Record):
    """A MOAA/S sedation score at a minute after the start of the dose."""

    minute: float = Field(ge=0, le=LIMITS["minute"])
    score: int | None = None


class Session(_Record):
    """One treatment session with its monitoring record."""

    number: int = Field(ge=1, le=LIMITS["session_number"])
    modality: Modality
    dose_mg: float | None = Field(default=None, gt=0, le=LIMITS["session_dose_mg"])
    dose_mg_per_kg: float | None = Field(default=None, gt=0, le=LIMITS["dose_mg_per_kg"])
    infusion_minutes: float | None = Field(default=None, gt=0, le=LIMITS["minute"])
    vitals: Annotated[list[VitalReading], Field(max_length=_LIST)] | None = None
    moaas: Annotated[list[MOAASReading], Field(max_length=_LIST)] | None = None
    cadss_total: int | None = None
    observation_minutes: float | None = Field(default=None, ge=0, le=LIMITS["minute"])
    adverse_events: Annotated[list[ShortText], Field(max_length=_LIST)] | None = None
    # The clinician's judgement at discharge (docs/case-record.md §2.9, §3.7); null = not recorded.
    dissociation_resolved: bool | None = None


class Option(_Record):
    """One answer option of a question: the value graded and the label a trainee reads."""

    value: ShortText
    label: ShortText


class Question(_Record):
    """A walkthrough question whose correct answer is derived from the rules.

    ``answer_rule`` names what the rules compute (see :mod:`kdsupport.records.answers`);
    ``answer`` records the expected answer for authors and is checked against the rules by
    the test suite. Trainees are graded against the rules at check time.
    """

    id: Annotated[str, Field(pattern=ID_PATTERN)]
    kind: Literal["single", "multiple", "numeric"]
    prompt: LongText
    options: Annotated[list[Option], Field(max_length=_LIST)] | None = None
    answer_rule: ShortText
    rule_options: dict[ShortText, ShortText] | None = None
    answer: ShortText | Annotated[list[ShortText], Field(max_length=_LIST)] | float
    tolerance: float | None = Field(default=None, ge=0, le=LIMITS["tolerance"])
    unit: ShortText | None = None
    rationale: LongText
    sources: Annotated[list[ShortText], Field(max_length=_LIST)] = []


class TeachingPoint(_Record):
    """A teaching point with the knowledge-base sources behind it."""

    text: LongText
    sources: Annotated[list[ShortText], Field(max_length=_LIST)]


class Teaching(_Record):
    """Teaching material of a curated case (an extension of the case-record format)."""

    learning_objectives: Annotated[list[LongText], Field(max_length=_LIST)]
    teaching_points: Annotated[list[TeachingPoint], Field(max_length=_LIST)]
    questions: Annotated[list[Question], Field(max_length=_LIST)]


class CaseRecord(_Record):
    """A synthetic case record (format ``kdsupport-case/1``)."""

    format: Literal["kdsupport-case/1"]
    id: Annotated[str, Field(pattern=ID_PATTERN)]
    synthetic: Literal[True]
    title: ShortText | None = None
    vignette: LongText | None = None
    patient: Patient
    diagnosis: Diagnosis | None = None
    trials: Annotated[list[Trial], Field(max_length=_LIST)] | None = None
    ect: Annotated[list[ECTCourse], Field(max_length=_LIST)] | None = None
    screening: Screening | None = None
    vitals: Vitals | None = None
    assessments: Annotated[list[Administration], Field(max_length=_LIST)] | None = None
    sessions: Annotated[list[Session], Field(max_length=_LIST)] | None = None
    teaching: Teaching | None = None


# ---------------------------------------------------------------- loading
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
            problems.append(Problem(field_path(clean_loc(err["loc"])), _message(err)))
    problems += _semantic_problems(data)
    if problems:
        raise InvalidInputError(sorted(_dedupe(problems), key=_path_order), source)
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


# ---------------------------------------------------------------- messages
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


def _show(value: Any) -> str:
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


def _message(err: Any) -> str:
    kind = err["type"]
    ctx = err.get("ctx") or {}
    got = _show(err.get("input"))
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
        return f"must be one of {ctx.get('expected')}{null}, got {got}"
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


def _path_order(problem: Problem) -> tuple[Any, ...]:
    """Sort problems in record order: top-level field order, then list index, then name."""
    parts = re.findall(r"[^.\[\]]+", problem.path)
    key: list[Any] = [_TOP_ORDER.get(parts[0], len(_TOP_ORDER)) if parts else -1]
    for part in parts[1:]:
        key.append((0, int(part), "") if part.isdigit() else (1, 0, part))
    return tuple(key)


def _dedupe(problems: list[Problem]) -> list[Problem]:
    seen: set[tuple[str, str]] = set()
    out = []
    for p in problems:
        if (p.path, p.message) not in seen:
            seen.add((p.path, p.message))
            out.append(p)
    return out


# ---------------------------------------------------------------- cross-field checks
def _is_num(v: Any) -> TypeGuard[int | float]:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _items_of(data: dict[str, Any], key: str) -> Iterator[tuple[int, dict[str, Any]]]:
    value = data.get(key)
    if isinstance(value, list):
        for i, entry in enumerate(value):
            if isinstance(entry, dict):
                yield i, entry


def _bp_order(entry: dict[str, Any], path: str) -> list[Problem]:
    sys_, dia = entry.get("systolic_mmhg"), entry.get("diastolic_mmhg")
    if _is_num(sys_) and _is_num(dia) and dia >= sys_:
        return [
            Problem(f"{path}diastolic_mmhg", f"must be below systolic_mmhg ({sys_}), got {dia}")
        ]
    return []


def _semantic_problems(data: dict[str, Any]) -> list[Problem]:
    """Checks that need the knowledge base or several fields; tolerant of wrong types."""
    from kdsupport.knowledge import load

    kb = load()
    problems: list[Problem] = []
    drugs = kb.drugs.drugs

    for i, trial in _items_of(data, "trials"):
        where = f"trials[{i}]"
        name = trial.get("drug")
        if not isinstance(name, str):
            continue
        key = name.strip().lower()
        drug = drugs.get(key)
        if drug is None:
            close = difflib.get_close_matches(key, list(drugs), n=3, cutoff=0.7)
            if close:
                hint = f"did you mean {', '.join(repr(c) for c in close)}?"
            else:
                hint = f"use a generic name, one of: {', '.join(sorted(drugs))}"
            problems.append(Problem(f"{where}.drug", f"unknown drug {name!r}; {hint}"))
            continue
        cls = kb.drugs.classes[drug.drug_class]
        role = trial.get("role", "monotherapy")
        if not cls.antidepressant and role != "augmentation":
            problems.append(
                Problem(
                    f"{where}.role",
                    f"{key} is an augmentation agent ({cls.label}), so role must be "
                    f"'augmentation', got {_show(role)}",
                )
            )
        serum_judged = any(m.serum_level_mmol_l is not None for m in drug.min_adequate.values())
        if trial.get("serum_level_mmol_l") is not None and not serum_judged:
            problems.append(
                Problem(
                    f"{where}.serum_level_mmol_l",
                    f"only lithium is judged on a serum level; give dose_mg_per_day for {key}",
                )
            )

    patient = data.get("patient")
    if isinstance(patient, dict) and patient.get("sex") == "male":
        for key in ("pregnant", "breastfeeding"):
            if patient.get(key) is True:
                problems.append(Problem(f"patient.{key}", "cannot be true when sex is 'male'"))

    if isinstance(data.get("vitals"), dict):
        problems += _bp_order(data["vitals"], "vitals.")

    instruments = kb.scales.instruments
    for i, adm in _items_of(data, "assessments"):
        problems += _administration_problems(adm, f"assessments[{i}]", instruments)

    if isinstance(data.get("teaching"), dict):
        problems += _teaching_problems(data["teaching"], kb)

    numbers: dict[Any, int] = {}
    moaas_spec = instruments["moaas"].items
    cadss_total = instruments["cadss"].total
    for i, sess in _items_of(data, "sessions"):
        where = f"sessions[{i}]"
        num = sess.get("number")
        if isinstance(num, int) and not isinstance(num, bool):
            if num in numbers:
                problems.append(
                    Problem(
                        f"{where}.number",
                        f"duplicate session number {num} (also sessions[{numbers[num]}])",
                    )
                )
            numbers.setdefault(num, i)
        for j, reading in _items_of(sess, "vitals"):
            problems += _bp_order(reading, f"{where}.vitals[{j}].")
        for j, reading in _items_of(sess, "moaas"):
            score = reading.get("score")
            if isinstance(score, int) and not isinstance(score, bool) and moaas_spec:
                if not moaas_spec.min <= score <= moaas_spec.max:
                    problems.append(
                        Problem(
                            f"{where}.moaas[{j}].score",
                            f"MOAA/S scores are {moaas_spec.min}-{moaas_spec.max}, got {score}",
                        )
                    )
        total = sess.get("cadss_total")
        if isinstance(total, int) and not isinstance(total, bool) and cadss_total:
            if not cadss_total.min <= total <= cadss_total.max:
                problems.append(
                    Problem(
                        f"{where}.cadss_total",
                        f"CADSS totals are {cadss_total.min}-{cadss_total.max}, got {total}",
                    )
                )
    return problems


_RULE_OPTIONS = ("definition", "madrs_remission")


def _teaching_problems(teaching: dict[str, Any], kb: Any) -> list[Problem]:
    """Source ids, answer rules and answer shapes of the teaching material."""
    from kdsupport.records.answers import is_known_rule

    out: list[Problem] = []

    def check_sources(ids: Any, where: str) -> None:
        for j, sid in enumerate(ids if isinstance(ids, list) else []):
            if isinstance(sid, str) and sid not in kb.sources:
                close = difflib.get_close_matches(sid, list(kb.sources), n=2, cutoff=0.6)
                hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
                out.append(
                    Problem(f"{where}[{j}]", f"unknown knowledge-base source id {sid!r}{hint}")
                )

    for i, point in _items_of(teaching, "teaching_points"):
        check_sources(point.get("sources"), f"teaching.teaching_points[{i}].sources")
    remission = kb.scales.outcome.remission["madrs"].definitions
    for i, q in _items_of(teaching, "questions"):
        where = f"teaching.questions[{i}]"
        check_sources(q.get("sources"), f"{where}.sources")
        rule = q.get("answer_rule")
        if isinstance(rule, str) and not is_known_rule(rule):
            out.append(Problem(f"{where}.answer_rule", f"unknown answer rule {rule!r}"))
        opts = q.get("rule_options") or {}
        if isinstance(opts, dict):
            for key, value in opts.items():
                allowed = {"definition": kb.trd.definitions, "madrs_remission": remission}.get(key)
                if allowed is None:
                    out.append(
                        Problem(
                            f"{where}.rule_options.{key}",
                            f"unknown option; allowed: {', '.join(_RULE_OPTIONS)}",
                        )
                    )
                elif value not in allowed:
                    out.append(
                        Problem(
                            f"{where}.rule_options.{key}",
                            f"must be one of {', '.join(sorted(allowed))}, got {_show(value)}",
                        )
                    )
        kind = q.get("kind")
        answer: Any = q.get("answer")  # unvalidated case data: any YAML value, checked below
        values: list[Any] = [o.get("value") for o in q.get("options") or [] if isinstance(o, dict)]
        if kind in ("single", "multiple"):
            if not values:
                out.append(Problem(f"{where}.options", f"a {kind}-choice question needs options"))
            given = [answer] if kind == "single" else answer
            if kind == "single" and not isinstance(answer, str):
                out.append(
                    Problem(f"{where}.answer", f"must be one option value, got {_show(answer)}")
                )
            elif kind == "multiple" and not isinstance(answer, list):
                out.append(
                    Problem(
                        f"{where}.answer", f"must be a list of option values, got {_show(answer)}"
                    )
                )
            elif values:
                for a in given:
                    if a not in values:
                        out.append(
                            Problem(
                                f"{where}.answer",
                                f"{_show(a)} is not one of the options ({', '.join(values)})",
                            )
                        )
        elif kind == "numeric" and not _is_num(answer):
            out.append(
                Problem(
                    f"{where}.answer", f"a numeric question needs a number, got {_show(answer)}"
                )
            )
    return out


def _administration_problems(adm: dict[str, Any], where: str, instruments: Any) -> list[Problem]:
    name = adm.get("instrument")
    spec = instruments.get(name) if isinstance(name, str) else None
    if spec is None:
        return []  # the schema already reports an unknown instrument
    out: list[Problem] = []
    items, total, answers = adm.get("items"), adm.get("total"), adm.get("answers")
    if spec.scoring == "none":
        for key, value in (("items", items), ("total", total)):
            if value is not None:
                out.append(Problem(f"{where}.{key}", f"{name} has no {key}; give its answers"))
        return out
    if answers is not None:
        out.append(Problem(f"{where}.answers", f"answers belong to cssrs_screener, not {name}"))
    ispec, tspec = spec.items, spec.total
    all_known = False
    if isinstance(items, list):
        if len(items) != ispec.count:
            out.append(
                Problem(f"{where}.items", f"{name} has {ispec.count} items, got {len(items)}")
            )
        for j, score in enumerate(items):
            if isinstance(score, int) and not isinstance(score, bool):
                if not ispec.min <= score <= ispec.max:
                    out.append(
                        Problem(
                            f"{where}.items[{j}]",
                            f"{name} item scores are {ispec.min}-{ispec.max}, got {score}",
                        )
                    )
        all_known = len(items) == ispec.count and all(
            isinstance(s, int) and not isinstance(s, bool) and ispec.min <= s <= ispec.max
            for s in items
        )
        if total is not None and any(s is None for s in items):
            out.append(
                Problem(
                    f"{where}.total",
                    "cannot be combined with items that contain null (no proration): "
                    "give all items, or the total alone",
                )
            )
    if isinstance(total, int) and not isinstance(total, bool):
        if not tspec.min <= total <= tspec.max:
            out.append(
                Problem(f"{where}.total", f"{name} totals are {tspec.min}-{tspec.max}, got {total}")
            )
        elif all_known:
            computed = spec.total_from_items(items)
            if computed != total:
                out.append(
                    Problem(
                        f"{where}.total",
                        f"{total} does not match the total of the items ({computed})",
                    )
                )
    return out
