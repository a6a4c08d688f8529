"""The JSON Schema (draft 2020-12) of the ``kdsupport-assessment/2`` JSON.

Built from the enums of :mod:`kdsupport.rules.assessment`, so the schema's vocabularies are the
code's. ``kdsupport/rules/assessment.schema.json`` holds the output; ``python -m
kdsupport.rules.schema`` rewrites it, and a test fails when it is out of step.

For training and case conferences with synthetic patients; not a medical device.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from kdsupport.knowledge.models.session_day import INDICATIONS, JURISDICTIONS
from kdsupport.rules.assessment import BPTier, CheckKind, ModalityStatus, Severity
from kdsupport.rules.result import Status

__all__ = ["assessment_schema", "SCHEMA_PATH"]

SCHEMA_PATH = Path(__file__).with_name("assessment.schema.json")

_STR = {"type": "string"}
_INT = {"type": "integer"}
_NUM = {"type": "number"}
_BOOL = {"type": "boolean"}


def _nullable(t: dict[str, Any]) -> dict[str, Any]:
    return {"anyOf": [t, {"type": "null"}]}


def _obj(props: dict[str, Any], *, optional: tuple[str, ...] = ()) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": props,
        "required": [k for k in props if k not in optional],
        "additionalProperties": False,
    }


def _array(items: dict[str, Any]) -> dict[str, Any]:
    return {"type": "array", "items": items}


def _enum(e: Any) -> dict[str, Any]:
    return {"enum": [m.value for m in e]}


def assessment_schema() -> dict[str, Any]:
    """The schema as a JSON-ready mapping."""
    reason = _obj(
        {
            "code": _STR,
            "message": _STR,
            "fields": _array(_STR),
            "sources": _array(_STR),
            "missing": _array(_STR),
        },
        optional=("missing",),
    )
    reasons = _array({"$ref": "#/$defs/reason"})
    status = _enum(Status)
    tri = _nullable(_BOOL)
    score = {
        "type": "object",
        "properties": {
            "stage": _nullable(_NUM),
            "score": _nullable(_NUM),
            "complete": _BOOL,
            "band": _nullable(_STR),
            "possible_max": _nullable(_NUM),
            "components": {"type": "object"},
            "reasons": reasons,
        },
        "required": ["complete", "possible_max", "components", "reasons"],
        "additionalProperties": False,
    }
    trial = _obj(
        {
            "index": _INT,
            "drug": _STR,
            "class": _STR,
            "role": _STR,
            "episode": _nullable(_STR),
            "counts_toward_trd": _BOOL,
            "adequacy": {"enum": ["adequate", "not_adequate", "unknown"]},
            "outcome": {"enum": ["failed", "not_failed", "unknown"]},
            "inputs": {"type": "object"},
            "reasons": _array(_STR),
            "details": reasons,
        }
    )
    finding = _obj(
        {
            "item": _STR,
            "label": _STR,
            "field": _STR,
            "severity": _enum(Severity),
            "present": tri,
            "applicable": _BOOL,
            "note": _nullable(_STR),
            "sources": _array(_STR),
        }
    )
    schedule = _obj(
        {
            "indication": _nullable({"enum": list(INDICATIONS)}),
            "jurisdiction": {"enum": list(JURISDICTIONS)},
            "course_week": _nullable(_INT),
            "day_one": _nullable(_STR),
            "phase": _nullable(_STR),
            "allowed_doses_mg": _nullable(_array(_NUM)),
            "max_sessions_per_week": _nullable(_INT),
            "note": _nullable(_STR),
        }
    )
    rems_form = _obj(
        {
            "required": {"enum": ["yes", "no", "unknown"]},
            "status": {"enum": ["complete", "incomplete", "not_required", "not_applicable"]},
            "missing_fields": _array(_STR),
            "deadline": _nullable(_STR),
            "submitted": _nullable(_STR),
        }
    )
    session = _obj(
        {
            "number": _INT,
            "modality": _STR,
            "checks": {"type": "object", "additionalProperties": status},
            "check_kinds": {"type": "object", "additionalProperties": _enum(CheckKind)},
            "details": {"type": "object", "additionalProperties": reasons},
            "session_day_recorded": _BOOL,
            "not_applicable": {
                "type": "object",
                "additionalProperties": {"$ref": "#/$defs/reason"},
            },
            "schedule": _nullable(schedule),
            "rems_form": _nullable(rems_form),
        }
    )
    source = {
        "type": "object",
        "properties": {
            "citation": _STR,
            "short": _nullable(_STR),
            "section": _nullable(_STR),
            "year": _nullable(_INT),
            "url": _nullable(_STR),
            "kind": _STR,
            "verification": {"enum": ["verified", "secondary", "unverified", "project_contract"]},
            "rationale": _STR,
        },
        "required": ["citation", "kind", "verification"],
        "additionalProperties": False,
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://kdsupport.invalid/schemas/kdsupport-assessment-2.json",
        "title": "kdsupport assessment (kdsupport-assessment/2)",
        "description": (
            "What `kdsupport assess --format json` prints: every conclusion three-valued, with "
            "its reasons and sources. For training with synthetic patients; not a medical device."
        ),
        "$defs": {"reason": reason},
        **_obj(
            {
                "format": {"const": "kdsupport-assessment/2"},
                "case_id": _STR,
                "kb_version": _STR,
                "kdsupport_version": _STR,
                "definition": _obj(
                    {
                        "name": _STR,
                        "title": _STR,
                        "summary": _STR,
                        "min_failed_antidepressants": _NUM,
                        "min_weeks": _NUM,
                        "failure": _STR,
                        "dose_table": _STR,
                        "sources": _array(_STR),
                    }
                ),
                "trd": _obj(
                    {
                        "status": status,
                        "definition": _STR,
                        "failed_adequate_antidepressants": _INT,
                        "unknown_trials": _INT,
                        "failed_drugs": _array(_STR),
                        "trials": _array(trial),
                        "reasons": reasons,
                    }
                ),
                "staging": _obj({"thase_rush": score, "mgh_s": score, "msm": score}),
                "scales": _array(
                    _obj(
                        {
                            "index": _INT,
                            "instrument": _STR,
                            "when": _STR,
                            "total": _nullable(_INT),
                            "band": _nullable(_STR),
                            "flags": _array(_STR),
                            "scored_from": {"enum": ["items", "total", "answers"]},
                            "reasons": reasons,
                        }
                    )
                ),
                "outcome": _nullable(
                    _obj(
                        {
                            "instrument": _STR,
                            "baseline": _nullable(_INT),
                            "latest": _nullable(_INT),
                            "baseline_when": _STR,
                            "latest_when": _STR,
                            "reduction_percent": _nullable(_NUM),
                            "response": tri,
                            "remission": tri,
                            "remission_definition": _STR,
                            "reasons": reasons,
                        }
                    )
                ),
                "suicide_risk": _obj(
                    {
                        "level": _STR,
                        "action": _STR,
                        "at_least": _nullable(_STR),
                        "screener": _nullable(_STR),
                        "reasons": _array(_STR),
                        "details": reasons,
                    }
                ),
                "alerts": _array(_obj({"code": _STR, "message": _STR, "sources": _array(_STR)})),
                "predose_bp": _obj(
                    {
                        "status": _enum(BPTier),
                        "systolic_mmhg": _nullable(_NUM),
                        "diastolic_mmhg": _nullable(_NUM),
                        "severe_definition": _STR,
                        "reasons": reasons,
                    }
                ),
                "modalities": {
                    "type": "object",
                    "additionalProperties": _obj(
                        {
                            "status": _enum(ModalityStatus),
                            "title": _STR,
                            "regulatory_status": _STR,
                            "findings": _array(finding),
                            "items_assessed": _INT,
                            "reasons": reasons,
                        }
                    ),
                },
                "sessions": _array(session),
                "unknowns": _array(_obj({"field": _STR, "needed_for": _array(_STR)})),
                "sources": {"type": "object", "additionalProperties": source},
                "disclaimer": _STR,
            }
        ),
    }


def main() -> int:
    """Rewrite ``assessment.schema.json`` from the code."""
    from kdsupport.files.safe_write import write_atomically

    write_atomically(SCHEMA_PATH, (json.dumps(assessment_schema(), indent=1) + "\n").encode())
    print(f"wrote {SCHEMA_PATH}", file=sys.stderr)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
