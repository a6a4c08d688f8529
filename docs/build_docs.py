"""Rebuild the generated sections of the docs from the code and the knowledge base.

    .venv/bin/python docs/build_docs.py          # rewrite the generated sections in place
    .venv/bin/python docs/build_docs.py --check  # only say which files are out of date (exit 1)

A generated section sits between two marker comments, ``<!-- NAME:begin -->`` and
``<!-- NAME:end -->``; everything outside the markers is written by hand and left alone.

* ``answer-rules`` (docs/authoring.md): :func:`kdsupport.records.answers.vocabulary_markdown`.
* ``fields:PATH`` (docs/case-record.md): the fields of one part of the case record, read from the
  pydantic model :class:`kdsupport.records.case.CaseRecord` (names, types, bounds, allowed
  values, defaults) with the meaning of each field from :data:`FIELD_NOTES` below, or from the
  knowledge base for screening items and C-SSRS questions. ``PATH`` is the part's place in the
  record without list brackets (``sessions.vitals``); ``record`` is the top level.
* ``drugs``, ``instruments``, ``trd-definitions``, ``outcome``, ``bp-tiers``,
  ``screening-severities``, ``session-checks`` (docs/case-record.md): tables from the knowledge
  base.

tests/test_docs.py fails when a generated section is out of date. Building fails when a field
of the model has no meaning here, when a meaning names a field that no longer exists, or when a
part of the record has no ``fields:`` section.

For training with synthetic patients; not a medical device.
"""

from __future__ import annotations

import argparse
import re
import sys
import types
import typing
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated, Any, Literal

ROOT = Path(__file__).resolve().parents[1]
DOCS = (ROOT / "docs" / "authoring.md", ROOT / "docs" / "case-record.md")
REBUILD = ".venv/bin/python docs/build_docs.py"

_SECTION = re.compile(
    r"(?P<begin><!-- (?P<name>[a-z0-9:._-]+):begin -->\n)(?P<body>.*?)"
    r"(?P<end><!-- (?P=name):end -->)",
    re.S,
)
_HEADING = re.compile(r"^#+ (?P<number>\d+(?:\.\d+)*)\.? ", re.M)
_NOTICE = (
    f"<!-- Generated from the code by docs/build_docs.py: edit the code, then run {REBUILD} -->"
)

# What each field means, by its path in the record ("[]" marks an entry of a list). Screening
# items and C-SSRS answers take their meaning from the knowledge base unless named here.
FIELD_NOTES: dict[str, str] = {
    "format": "The format and its version. Always `kdsupport-case/1`: version 2 of the contract "
    "added the optional session field `dissociation_resolved` and kept this string.",
    "id": "The case's id. A curated case's file is named after it: `tr-033` lives in "
    "`data/synthetic/cases/tr-033.yaml`.",
    "synthetic": "Must be `true`. A record without it, or with any other value, is refused: "
    "kdsupport works on synthetic patients only.",
    "title": "A short title for the case list. It names no conclusion.",
    "vignette": "The story of the case, shown to trainees at the top of the chart.",
    "patient": "Who the patient is (§2.2).",
    "diagnosis": "The working diagnosis and the current episode (§2.3). Missing: every "
    "diagnostic fact is not known.",
    "trials": "Medication trials, in chronological order (§2.4). Missing: the treatment history "
    "is not known; `[]`: there were none.",
    "ect": "Courses of electroconvulsive therapy (§2.5). Missing: not known whether there was "
    "ECT; `[]`: there was none.",
    "screening": "Screening answers (§2.6). Missing: no item was assessed.",
    "vitals": "The most recent reading before treatment (§2.7).",
    "assessments": "Rating-scale administrations, in the order they were given (§2.8).",
    "sessions": "Treatment sessions with their monitoring records (§2.9).",
    "teaching": "Teaching material of a curated case (§2.10), a kdsupport extension of the "
    "format. The rules never read it.",
    # patient
    "patient.age_years": "Age in whole years. The rules derive the screening items `age_under_18` "
    "and `age_65_or_over` from it (§3.6).",
    "patient.sex": "`unknown` and null both mean not known. Pregnancy and breastfeeding do not "
    "apply when it is `male`.",
    "patient.weight_kg": "Body weight in kg. Shown in the chart; no rule reads it.",
    "patient.pregnant": "Whether the patient is pregnant. May not be `true` when sex is `male`; "
    "not assessed (null) counts as a screening gap unless sex is `male`.",
    "patient.breastfeeding": "Whether the patient is breastfeeding. Same rules as `pregnant`.",
    # diagnosis
    "diagnosis.primary": "The working diagnosis: major depressive disorder, bipolar depression or "
    "another. The TRD definitions apply to `mdd` only.",
    "diagnosis.icd10": "An ICD-10 code as written. Shown in the chart; not checked.",
    "diagnosis.current_episode_months": "Length of the current episode in months; fractions "
    "are allowed. The Maudsley method reads it.",
    "diagnosis.severity": "The clinician's rating of the current episode.",
    "diagnosis.psychotic_features": "Psychotic features in the current episode. With "
    "`severity: severe`, null leaves the Maudsley severity component unknown.",
    # trials
    "trials[].drug": "The generic name, in any case (it is stored in lower case). It must be in "
    "the knowledge base (§2.4.1); a brand name or a typo is refused with the closest names.",
    "trials[].role": "How the drug was given. An augmentation agent must have the role "
    "`augmentation`; a trial in that role never counts toward TRD.",
    "trials[].episode": "Which episode the trial belongs to; only a current-episode trial can be "
    "adequate. Missing: `current`; null: not known.",
    "trials[].dose_mg_per_day": "The daily dose in mg (micrograms as a fraction of a mg). For "
    "lithium give `serum_level_mmol_l`: a lithium dose is shown but not judged.",
    "trials[].serum_level_mmol_l": "Lithium only: the serum level in mmol/L. A level on any "
    "other drug is refused.",
    "trials[].weeks": "Weeks at that dose.",
    "trials[].adherence": "Whether the patient took the drug as prescribed.",
    "trials[].improvement_percent": "Reduction of symptoms from the start of the trial, in per "
    "cent; a negative value means worse.",
    "trials[].dose_optimised": "`true` when the dose was raised within the trial to optimise the "
    "response (MGH-S reads it).",
    "trials[].stopped_early_for": "Why the trial ended early, if it did. Shown with the trial; "
    "the rule judges the dose and weeks actually given.",
    # ect
    "ect[].episode": "Which episode the course belongs to. Missing: `current`; null: not known.",
    "ect[].laterality": "Electrode placement. Thase-Rush stage V needs a failed bilateral course "
    "in the current episode.",
    "ect[].sessions": "Number of ECT sessions in the course. Shown; no rule reads it.",
    "ect[].improvement_percent": "Improvement over the course, in per cent; a negative value means "
    "worse.",
    # vitals
    "vitals.systolic_mmhg": "Systolic blood pressure in mmHg.",
    "vitals.diastolic_mmhg": "Diastolic blood pressure in mmHg; must be below the systolic.",
    "vitals.heart_rate_bpm": "Heart rate in beats per minute. Shown; no rule reads it.",
    "vitals.spo2_percent": "Oxygen saturation in per cent. Shown; no rule reads it.",
    # assessments
    "assessments[].instrument": "The scale (§2.8.1).",
    "assessments[].when": "When it was given: `baseline`, `session-N`, `day-N` or a real date "
    "`YYYY-MM-DD`. The first `baseline` entry is the outcome's baseline.",
    "assessments[].items": "Item scores in the instrument's order; their number and range come "
    "from the knowledge base (§2.8.1). A null item leaves the total unknown (no proration).",
    "assessments[].total": "The total, instead of the items or with them (it must then equal "
    "their total, and may not go with items that contain null). With a total alone, item checks "
    "such as the PHQ-9 item-9 flag are skipped.",
    "assessments[].answers": "C-SSRS screener only: its answers (§2.8.2). The other instruments "
    "take `items` or `total`.",
    "assessments[].answers.method": "Null counts as no when `active_thoughts` is `false` (the "
    "screener's skip rule).",
    "assessments[].answers.intent": "Null counts as no when `active_thoughts` is `false`.",
    "assessments[].answers.plan": "Null counts as no when `active_thoughts` is `false`.",
    "assessments[].answers.behavior_past_3_months": "Null counts as no when `behavior` is `false`.",
    # sessions
    "sessions[].number": "The session's number, unique in the record. Questions and pages name "
    "sessions by it.",
    "sessions[].modality": "How ketamine was given.",
    "sessions[].dose_mg": "Esketamine or at-home ketamine: the dose in mg. For esketamine the "
    "schedule checks read it (§3.8).",
    "sessions[].dose_mg_per_kg": "IV ketamine: the dose in mg per kg. Shown; no rule reads it.",
    "sessions[].infusion_minutes": "IV ketamine: the length of the infusion. The infusion check "
    "reads the readings up to its end (§3.8).",
    "sessions[].vitals": "Readings by minute from the start of the dose (§2.9.1). Missing: every "
    "check that needs a reading is unknown.",
    "sessions[].moaas": "MOAA/S sedation scores by minute (§2.9.2). Missing: the sedation checks "
    "are unknown.",
    "sessions[].cadss_total": "CADSS dissociation total; its range comes from the knowledge base. "
    "Shown; no rule reads it.",
    "sessions[].observation_minutes": "How long the patient was observed after dosing.",
    "sessions[].adverse_events": "Adverse events in plain words. Shown; no rule reads them.",
    "sessions[].dissociation_resolved": "The clinician's judgement at discharge: had "
    "dissociation resolved? Added in version 2 of the contract (section 5.8.9).",
    # the session day (§3.8, §3.9): each mirrors the REMS Patient Monitoring Form or the label
    "sessions[].date": "The session's date (YYYY-MM-DD). The schedule checks take the course "
    "week from it; the REMS form's deadline counts from it. Dates follow the session numbers.",
    "sessions[].setting": "Where the session took place. Outpatient settings submit the REMS "
    "form; inpatient settings do not, and the patient is not going home.",
    "sessions[].indication": "Esketamine: what it treats, `trd` or `mdsi` (MDD with acute "
    "suicidal ideation or behaviour). Picks the dosing table (§3.8).",
    "sessions[].devices": "Esketamine: nasal-spray devices used; each holds 28 mg (the knowledge "
    "base), so devices times 28 must equal `dose_mg`.",
    "sessions[].device_lot": "Esketamine: the device lot number, for the REMS form.",
    "sessions[].minutes_between_devices": "Esketamine: the rest between devices, in minutes.",
    "sessions[].concomitant": "The REMS form's concomitant medications, yes or no each (§2.9.3).",
    "sessions[].fasting_food_hours": "Hours since the patient last ate, at dosing.",
    "sessions[].fasting_liquid_minutes": "Minutes since the patient last drank, at dosing.",
    "sessions[].nasal_steroid_or_decongestant_minutes_before": "Minutes between a nasal "
    "corticosteroid or decongestant and dosing, or `not_used` when none was taken that day.",
    "sessions[].prescriber_on_site": "Was a prescriber on site during administration and "
    "monitoring (REMS)?",
    "sessions[].monitored_by": "The healthcare provider who did the monitoring (the REMS form "
    "asks for one). A synthetic name.",
    "sessions[].ride_home_arranged": "Was a safe way home arranged (no driving until the next "
    "day after a restful sleep)?",
    "sessions[].ready_to_leave_minute": "The REMS evaluation question: without the 2-hour "
    "minimum, when would the patient have been ready to leave (minutes from the start of "
    "administration)?",
    "sessions[].rems_form_submitted_date": "When the REMS Patient Monitoring Form was "
    "submitted (YYYY-MM-DD); not before the session's date.",
    "sessions[].infusion_paused_or_slowed": "IV ketamine: what was done when blood pressure "
    "climbed during the infusion (§2.9.4), or `false` when the record says nothing was done.",
    "sessions[].concomitant.benzodiazepine": "Taking a benzodiazepine (more sedation).",
    "sessions[].concomitant.non_benzodiazepine_hypnotic": "Taking a non-benzodiazepine sedative "
    "hypnotic (more sedation).",
    "sessions[].concomitant.psychostimulant": "Taking a psychostimulant (higher blood pressure).",
    "sessions[].concomitant.maoi": "Taking a monoamine oxidase inhibitor (higher blood pressure).",
    "sessions[].infusion_paused_or_slowed.minute": "The minute of the infusion when it was "
    "paused or slowed; within the infusion.",
    "sessions[].infusion_paused_or_slowed.action": "What was done.",
    "sessions[].infusion_paused_or_slowed.reason": "Why, in plain words (e.g. the reading).",
    "sessions[].vitals[].minute": "Minutes from the start of the dose; 0 is the pre-dose reading.",
    "sessions[].vitals[].systolic_mmhg": "Systolic blood pressure in mmHg.",
    "sessions[].vitals[].diastolic_mmhg": "Diastolic blood pressure in mmHg; must be below the "
    "systolic.",
    "sessions[].vitals[].heart_rate_bpm": "Heart rate in beats per minute. Shown; no rule reads "
    "it.",
    "sessions[].vitals[].spo2_percent": "Oxygen saturation in per cent.",
    "sessions[].moaas[].minute": "Minutes from the start of the dose.",
    "sessions[].moaas[].score": "The MOAA/S score; its range comes from the knowledge base.",
    # teaching
    "teaching.learning_objectives": "What a trainee should be able to do after the case.",
    "teaching.teaching_points": "Points the case teaches, each with its sources (§2.10.1).",
    "teaching.questions": "The walkthrough's questions, in the order they are asked (§2.10.2).",
    "teaching.teaching_points[].text": "The point, in plain words.",
    "teaching.teaching_points[].sources": "Knowledge-base source ids behind the point "
    "(`kdsupport kb --sources` lists them).",
    "teaching.questions[].id": "The question's id, unique in the case (`q1`). The attempt log "
    "records answers by it.",
    "teaching.questions[].kind": "`single` (choose one option), `multiple` (tick every option "
    "that applies) or `numeric` (type a number).",
    "teaching.questions[].prompt": "The question as the trainee reads it.",
    "teaching.questions[].options": "The choices of a `single` or `multiple` question (§2.10.3); "
    "required for those kinds.",
    "teaching.questions[].answer_rule": "What the rules compute for this question: a derived rule "
    "or a path into the assessment (docs/authoring.md §5).",
    "teaching.questions[].rule_options": "Options for assessing the case for this question only: "
    "`definition` (a TRD definition), `madrs_remission` (a MADRS remission cut-off), "
    "`jurisdiction` (`us` or `eu` dosing table) or `infusion_bp` (the IV infusion threshold).",
    "teaching.questions[].answer": "The answer the author expects: an option value (`single`), a "
    "list of option values (`multiple`) or a number (`numeric`). Trainees are graded against the "
    "rules, never against this value; the tests check that the two agree.",
    "teaching.questions[].tolerance": "`numeric` only: how far an answer may be from the rules' "
    "value and still be right. Missing: it must be exact.",
    "teaching.questions[].unit": "`numeric` only: the unit shown beside the number box.",
    "teaching.questions[].rationale": "The explanation shown after the trainee answers, in plain "
    "words.",
    "teaching.questions[].sources": "Knowledge-base source ids shown with the feedback, besides "
    "the rule's own.",
    "teaching.questions[].options[].value": "What is graded: it must equal an answer the rules "
    'can give (`not_met`, `esketamine_nasal`, `"5"`).',
    "teaching.questions[].options[].label": "What the trainee reads, in plain words.",
}

# What a missing field means where "not known" (the rule for every optional field) would mislead.
FIELD_MISSING: dict[str, str] = {
    "title": "none: the case list shows the id",
    "vignette": "none: the chart says there is no vignette",
    "teaching": "none: the case has no walkthrough questions",
    "teaching.questions[].options": "none (a `numeric` question)",
    "teaching.questions[].rule_options": "the knowledge base's defaults",
    "teaching.questions[].tolerance": "the answer must be exact",
    "teaching.questions[].unit": "no unit shown",
}


# ---------------------------------------------------------------- walking the model
def _members(annotation: Any) -> tuple[list[Any], bool]:
    """The members of a union other than None, and whether None is one of them."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = typing.get_args(annotation)
        return [a for a in args if a is not type(None)], type(None) in args
    return [annotation], False


def _strip(annotation: Any) -> tuple[Any, list[Any]]:
    """An ``Annotated[...]`` type without its annotation, and the constraints it carried."""
    if typing.get_origin(annotation) is Annotated:
        base, *extra = typing.get_args(annotation)
        found: list[Any] = []
        for e in extra:
            found += list(getattr(e, "metadata", None) or [e])
        return base, found
    return annotation, []


def _is_model(t: Any) -> bool:
    from pydantic import BaseModel

    return isinstance(t, type) and issubclass(t, BaseModel)


def _nested_models(annotation: Any) -> Iterator[tuple[str, Any]]:
    """The models inside a field's type, with ``"[]"`` when they are entries of a list."""
    members, _ = _members(annotation)
    for m in members:
        base, _ = _strip(m)
        if _is_model(base):
            yield "", base
        elif typing.get_origin(base) is list:
            inner, _ = _strip(typing.get_args(base)[0])
            if _is_model(inner):
                yield "[]", inner


def record_parts() -> dict[str, tuple[str, Any]]:
    """Every part of the case record: section key -> (path with ``[]``, model)."""
    from kdsupport.records.case import CaseRecord

    parts: dict[str, tuple[str, Any]] = {"record": ("", CaseRecord)}
    todo = [("", CaseRecord)]
    while todo:
        path, model = todo.pop(0)
        for name, info in model.model_fields.items():
            for brackets, inner in _nested_models(info.annotation):
                sub = f"{path}.{name}" if path else name
                parts[sub.replace("[]", "")] = (sub + brackets, inner)
                todo.append((sub + brackets, inner))
    return parts


def record_field_paths() -> list[str]:
    """Every field of the case record, recursively, as ``sessions[].vitals[].minute``."""
    out = []
    for path, model in record_parts().values():
        for name in model.model_fields:
            out.append(f"{path}.{name}" if path else name)
    return out


# ---------------------------------------------------------------- describing a type
def _number(x: Any) -> str:
    return f"{x:g}" if isinstance(x, float) else str(x)


def _bounds(constraints: list[Any]) -> list[str]:
    import annotated_types as at

    low = high = ""
    out = []
    for c in constraints:
        if isinstance(c, at.Ge):
            low = f"at least {_number(c.ge)}"
        elif isinstance(c, at.Gt):
            low = f"above {_number(c.gt)}"
        elif isinstance(c, at.Le):
            high = f"at most {_number(c.le)}"
        elif isinstance(c, at.Lt):
            high = f"below {_number(c.lt)}"
        elif isinstance(c, at.MaxLen):
            out.append(f"at most {c.max_length:,}")
        elif getattr(c, "pattern", None):
            out.append("lower-case letters, digits and `-`, 1 to 64 characters")
    if low.startswith("at least") and high.startswith("at most"):
        return [f"{low[9:]} to {high[8:]}", *out]
    return [b for b in (low, high) if b] + out


def _describe(
    annotation: Any, constraints: list[Any], anchors: dict[str, str], *, top: bool = True
) -> str:
    """A field's type in words, with its bounds and allowed values."""
    members, nullable = _members(annotation)
    words = []
    for m in members:
        base, inner = _strip(m)
        limits = _bounds(constraints + inner)
        if typing.get_origin(base) is Literal:
            values = typing.get_args(base)
            shown = ", ".join(f"`{str(v).lower() if isinstance(v, bool) else v}`" for v in values)
            words.append(f"exactly {shown}" if len(values) == 1 else f"one of {shown}")
            continue
        if base is bool:
            text = "`true` or `false`"
        elif base is int:
            text = "a whole number"
        elif base is float:
            text = "a number"
        elif base is str:
            text = "text"
            limits = [f"{x} characters" if x.startswith("at most") else x for x in limits]
        elif _is_model(base):
            text = f"a mapping of fields ({anchors[base.__name__]})"
        elif typing.get_origin(base) is list:
            limits = [f"{x} entries" if x.startswith("at most") else x for x in limits]
            entry = _describe(typing.get_args(base)[0], [], anchors, top=False)
            text = f"a list ({', '.join(limits)}), each entry {entry}" if limits else "a list"
            limits = []
        elif typing.get_origin(base) is dict:
            text = "a mapping of text to text"
        else:  # pragma: no cover - a new kind of type: say so rather than guess
            raise ValueError(f"cannot describe the type {base!r}")
        words.append(text + (f" ({', '.join(limits)})" if limits else ""))
    if nullable:
        words.append("`null`")
    return ("; or " if top else " or ").join(words)


def _missing(full: str, info: Any) -> str:
    """What a missing field means."""
    if full in FIELD_MISSING:
        return FIELD_MISSING[full]
    if info.is_required():
        return "**required**"
    default = info.default
    if default is None:
        return "not known"
    if default == []:
        return "none"
    return f"`{default}`"


def _knowledge_notes() -> dict[str, str]:
    """Meanings from the knowledge base: screening items and C-SSRS screener questions."""
    from kdsupport.knowledge import load

    kb = load()
    notes = {}
    for item in kb.screening.items.values():
        if item.field.startswith("screening.") and not item.derived:
            notes[item.field] = (item.field_label or item.label) + "."
    for q in kb.suicide.cssrs_screener.questions:
        notes[f"assessments[].answers.{q.key}"] = f"Question {q.number}: {q.text}."
    return notes


def _anchors(text: str) -> dict[str, str]:
    """The section of each ``fields:`` part in a document, as a link (model name -> link)."""
    parts = record_parts()
    out = {}
    for m in _SECTION.finditer(text):
        key = m.group("name").removeprefix("fields:")
        if m.group("name").startswith("fields:") and key in parts:
            heading = list(_HEADING.finditer(text, 0, m.start()))
            if not heading:
                raise ValueError(f"the section fields:{key} has no numbered heading above it")
            number = heading[-1].group("number")
            out[parts[key][1].__name__] = f"[§{number}](#s{number})"
    return out


def fields_table(key: str, anchors: dict[str, str]) -> str:
    """The table of one part of the record."""
    parts = record_parts()
    if key not in parts:
        raise ValueError(f"no part of the case record is called {key!r}; parts: {sorted(parts)}")
    path, model = parts[key]
    notes = _knowledge_notes()
    for name, note in FIELD_NOTES.items():  # a note adds to the knowledge base's meaning
        notes[name] = f"{notes[name]} {note}" if name in notes else note
    rows = [
        "| Field | Meaning | Type and allowed values | Missing |",
        "|---|---|---|---|",
    ]
    for name, info in model.model_fields.items():
        full = f"{path}.{name}" if path else name
        if full not in notes:
            raise ValueError(f"{full}: no meaning in docs/build_docs.py FIELD_NOTES")
        kind = _describe(info.annotation, list(info.metadata), anchors)
        rows.append(f"| `{full}` | {notes[full]} | {kind} | {_missing(full, info)} |")
    return "\n".join(rows) + "\n"


# ---------------------------------------------------------------- knowledge-base tables
def drugs_table() -> str:
    """The drugs a trial may name, with their class and whether they can count toward TRD."""
    from kdsupport.knowledge import load

    kb = load()
    rows = [
        "| Generic name | Class | Counts toward TRD | Adequacy judged on |",
        "|---|---|---|---|",
    ]
    for name, drug in sorted(kb.drugs.drugs.items()):
        cls = kb.drugs.classes[drug.drug_class]
        counts = (
            "yes, as `monotherapy` or `combination`"
            if cls.antidepressant
            else "no: role must be `augmentation`"
        )
        serum = any(m.serum_level_mmol_l is not None for m in drug.min_adequate.values())
        judged = "serum level (`serum_level_mmol_l`)" if serum else "dose (`dose_mg_per_day`)"
        rows.append(f"| `{name}` | {cls.label} | {counts} | {judged} |")
    return "\n".join(rows) + "\n"


def _range(low: float, high: float) -> str:
    return _number(low) if low == high else f"{_number(low)} to {_number(high)}"


_COMPARISON = {"<=": "at most", "<": "below", ">=": "at least", ">": "above"}


def instruments_table() -> str:
    """The rating scales, with their item counts, ranges and severity bands."""
    from kdsupport.knowledge import load

    kb = load()
    rows = [
        "| `instrument` | Scale | Items | Each item | Total | Bands |",
        "|---|---|---|---|---|---|",
    ]
    for name, spec in kb.scales.instruments.items():
        if spec.scoring == "none":
            rows.append(f"| `{name}` | {spec.title} | `answers` (§2.8.2) | — | none | — |")
            continue
        items, total = spec.items, spec.total
        domains = spec.scoring == "domain_max_sum"
        how = " (sum of the highest item in each domain)" if domains else ""
        bands = spec.bands.bands if spec.bands else []
        shown = ", ".join(f"`{b.label}` {_range(b.min, b.max)}" for b in bands) or "—"
        rows.append(
            f"| `{name}` | {spec.title} | {items.count} | {_range(items.min, items.max)} | "
            f"{_range(total.min, total.max)}{how} | {shown} |"
        )
    return "\n".join(rows) + "\n"


def trd_definitions_table() -> str:
    """The TRD definitions a case may be assessed under."""
    from kdsupport.knowledge import load

    kb = load()
    rows = [
        "| Name | Label | Failed antidepressants needed | Weeks at least | Failed when "
        "| Dose table |",
        "|---|---|---|---|---|---|",
    ]
    for name, d in kb.trd.definitions.items():
        label = d.label + (" (the default)" if name == kb.trd.default else "")
        fail = f"improvement {_COMPARISON[d.failure.comparison]} {_number(d.failure.percent)} %"
        rows.append(
            f"| `{name}` | {label} | {_number(d.min_failed_antidepressants.value)} | "
            f"{_number(d.min_weeks.value)} | {fail} | `{d.dose_table}` |"
        )
    return "\n".join(rows) + "\n"


def outcome_table() -> str:
    """Response and remission: which instrument, and the cut-offs per instrument."""
    from kdsupport.knowledge import load

    kb = load()
    out = kb.scales.outcome
    order = ", ".join(f"`{i}`" for i in out.instrument_priority)
    rows = [
        f"Instruments in the order they are tried: {order}. Response: a reduction of at least "
        f"{_number(out.response.min_reduction_percent)} % from baseline.",
        "",
        "| Instrument | Remission definition | Remission when the latest total is | Default |",
        "|---|---|---|---|",
    ]
    for instrument, rset in out.remission.items():
        for name, c in rset.definitions.items():
            default = "yes" if name == rset.default else ""
            rows.append(
                f"| `{instrument}` | `{name}` ({c.label}) | {_COMPARISON[c.comparison]} "
                f"{_number(c.value)} "
                f"| {default} |"
            )
    return "\n".join(rows) + "\n"


def bp_tiers_table() -> str:
    """The pre-dose blood-pressure tiers and the selectable severe-range definitions."""
    from kdsupport.knowledge import load

    kb = load()
    g = kb.vitals.predose_bp_guide
    s_lim, d_lim = _number(g.systolic_above_mmhg.value), _number(g.diastolic_above_mmhg.value)
    rows = [
        "| Tier (`predose_bp.status`) | When |",
        "|---|---|",
        f"| `{g.within_status}` | both values known, systolic at most {s_lim} and diastolic at "
        f"most {d_lim} mmHg |",
        f"| `{g.above_status}` | systolic above {s_lim} or diastolic above {d_lim} mmHg, below the "
        "severe range |",
        f"| `{g.severe.status}` | in the severe range of the selected definition (below) |",
        "| `unknown` | a value is missing and the known one does not decide the tier |",
        "",
        "| Severe-range definition (`--severe-bp`) | Above | Default |",
        "|---|---|---|",
    ]
    for name, d in g.severe.definitions.items():
        default = "yes" if name == g.severe.default else ""
        rows.append(
            f"| `{name}` ({d.label}) | {_number(d.systolic_above_mmhg.value)} systolic or "
            f"{_number(d.diastolic_above_mmhg.value)} diastolic mmHg | {default} |"
        )
    return "\n".join(rows) + "\n"


def session_checks_table() -> str:
    """The monitoring checks of a session, in the order they are reported, with their kind."""
    from kdsupport.knowledge import SESSION_CHECKS, load

    kb = load()
    checks = kb.vitals.session_monitoring.checks
    rows = ["| Check | Kind | Title | Met when |", "|---|---|---|---|"]
    for name in SESSION_CHECKS:
        c = checks[name]
        rows.append(f"| `{name}` | {c.kind} | {c.title} | {c.description} |")
    return "\n".join(rows) + "\n"


def session_day_checks_table() -> str:
    """The session-day checks, in the order they are reported, with kind and modality."""
    from kdsupport.knowledge import load
    from kdsupport.knowledge.models.session_day import SESSION_DAY_CHECKS

    checks = load().session_day.checks
    rows = ["| Check | Kind | For | Title | Met when |", "|---|---|---|---|---|"]
    for name in SESSION_DAY_CHECKS:
        c = checks[name]
        who = ", ".join(f"`{m}`" for m in c.modalities)
        rows.append(f"| `{name}` | {c.kind} | {who} | {c.title} | {c.description} |")
    return "\n".join(rows) + "\n"


def dosing_table() -> str:
    """The esketamine dosing tables by indication, jurisdiction and age."""
    from kdsupport.knowledge import load

    kb = load()
    rows = [
        "| Indication | Jurisdiction | From age | Phase | Weeks | Doses (mg) | Per week "
        "| Sources |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for t in kb.session_day.schedule.tables:
        age = _number(t.min_age_years.value) if t.min_age_years else "adults"
        if t.not_found:
            src = ", ".join(f"`{i}`" for i in kb.source_ids(t.source))
            rows.append(
                f"| `{t.indication}` | `{t.jurisdiction}` | {age} | not found | | | | {src} |"
            )
        for p in t.phases:
            weeks = f"{p.first_week}-{p.last_week}" if p.last_week else f"{p.first_week} on"
            doses = ", ".join(_number(d) for d in p.doses_mg) or "none"
            per = "--" if p.max_sessions_per_week is None else str(p.max_sessions_per_week)
            src = ", ".join(f"`{i}`" for i in kb.source_ids(p.source))
            rows.append(
                f"| `{t.indication}` | `{t.jurisdiction}` | {age} | `{p.phase}` | {weeks} | "
                f"{doses} | {per} | {src} |"
            )
    return "\n".join(rows) + "\n"


def rems_form_table() -> str:
    """The REMS Patient Monitoring Form's fields in the form's order."""
    from kdsupport.knowledge import load

    kb = load()
    rows = ["| # | Section | Field | Read from | Required | Source |", "|---|---|---|---|---|---|"]
    for i, f in enumerate(kb.session_day.rems_form.fields, 1):
        reads = ", ".join(f"`{r}`" for r in f.reads)
        src = ", ".join(f"`{sid}` ({kb.verification_of(sid)})" for sid in kb.source_ids(f.source))
        req = "yes" if f.required else "no"
        rows.append(f"| {i} | {f.section} | {f.label} | {reads} | {req} | {src} |")
    return "\n".join(rows) + "\n"


def screening_severities_table() -> str:
    """Each screening item with what the rules read and its severity per way of giving ketamine."""
    from kdsupport.knowledge import load

    kb = load()
    modalities = list(kb.screening.modalities)
    rows = [
        "| Item | What it is | Read from | " + " | ".join(f"`{m}`" for m in modalities) + " |",
        "|---|---|---|" + "---|" * len(modalities),
    ]
    for name, item in kb.screening.items.items():
        severities = []
        for m in modalities:
            entry = kb.screening.modalities[m].items.get(name)
            severities.append(entry.severity if entry else "—")
        source = f"`{item.field}`" + (" (derived)" if item.derived else "")
        rows.append(f"| `{name}` | {item.label} | {source} | " + " | ".join(severities) + " |")
    return "\n".join(rows) + "\n"


def _answer_rules() -> str:
    from kdsupport.records.answers import vocabulary_markdown

    return vocabulary_markdown()


GENERATORS: dict[str, Callable[[], str]] = {
    "answer-rules": _answer_rules,
    "drugs": drugs_table,
    "instruments": instruments_table,
    "screening-severities": screening_severities_table,
    "trd-definitions": trd_definitions_table,
    "outcome": outcome_table,
    "bp-tiers": bp_tiers_table,
    "session-checks": session_checks_table,
    "session-day-checks": session_day_checks_table,
    "dosing": dosing_table,
    "rems-form": rems_form_table,
}


# ---------------------------------------------------------------- rewriting a document
def rebuild(text: str) -> str:
    """A document with every generated section rewritten."""
    names = [m.group("name") for m in _SECTION.finditer(text)]
    if any(n.startswith("fields:") for n in names):
        missing = sorted(set(record_parts()) - {n.removeprefix("fields:") for n in names})
        if missing:
            raise ValueError(f"parts of the case record without a fields: section: {missing}")
        unused = sorted((set(FIELD_NOTES) | set(FIELD_MISSING)) - set(record_field_paths()))
        if unused:
            raise ValueError(f"FIELD_NOTES or FIELD_MISSING name fields the model lacks: {unused}")
    anchors = _anchors(text)

    def body(m: re.Match[str]) -> str:
        name = m.group("name")
        if name.startswith("fields:"):
            content = fields_table(name.removeprefix("fields:"), anchors)
        elif name in GENERATORS:
            content = GENERATORS[name]()
        else:
            raise ValueError(f"unknown generated section {name!r}")
        return f"{m.group('begin')}{_NOTICE}\n\n{content.rstrip()}\n\n{m.group('end')}"

    return _SECTION.sub(body, text)


def out_of_date() -> list[Path]:
    """The documents whose generated sections differ from what the code gives now."""
    return [p for p in DOCS if rebuild(p.read_text(encoding="utf-8")) != p.read_text("utf-8")]


def main(argv: list[str] | None = None) -> int:
    """Rewrite the generated sections (or, with ``--check``, only report stale ones)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="report, do not rewrite")
    args = parser.parse_args(argv)
    stale = out_of_date()
    if args.check:
        for p in stale:
            print(f"out of date: {p.relative_to(ROOT)} (run {REBUILD})")
        return 1 if stale else 0
    for p in stale:
        p.write_text(rebuild(p.read_text(encoding="utf-8")), encoding="utf-8")
        print(f"rewrote {p.relative_to(ROOT)}")
    if not stale:
        print("docs are up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
