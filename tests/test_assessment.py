"""The typed Assessment: frozen, enums for every status, JSON that matches its published schema."""

from __future__ import annotations

import copy
import dataclasses
import json
import subprocess
import sys

import jsonschema
import pytest
from conftest import CASES

from kdsupport.knowledge import load
from kdsupport.records.case import load_case
from kdsupport.rules.assess import assess
from kdsupport.rules.assessment import (
    Assessment,
    BPTier,
    CheckKind,
    ModalityStatus,
    Severity,
    published_schema,
)
from kdsupport.rules.result import Status
from kdsupport.rules.schema import SCHEMA_PATH, assessment_schema
from kdsupport.rules.screening import MODALITY_STATUSES

CASE_FILES = sorted(CASES.glob("*.yaml"))


@pytest.fixture(scope="module")
def validator():
    schema = published_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def test_the_published_schema_is_the_codes():
    assert published_schema() == assessment_schema(), (
        f"{SCHEMA_PATH} is out of date: run python -m kdsupport.rules.schema"
    )


@pytest.mark.parametrize("path", CASE_FILES, ids=lambda p: p.stem)
def test_every_curated_assessment_matches_the_schema(path, validator):
    kb = load()
    record = load_case(path)
    for name in kb.trd.definitions:
        a = assess(record, definition=name)
        assert isinstance(a, Assessment)
        data = json.loads(json.dumps(a.to_json()))
        errors = sorted(validator.iter_errors(data), key=str)
        assert not errors, [f"{list(e.path)}: {e.message}" for e in errors[:5]]


def test_the_schema_refuses_what_the_contract_does_not_allow(validator):
    good = json.loads(json.dumps(assess(load_case(CASE_FILES[0])).to_json()))
    assert validator.is_valid(good)
    for path, value in (
        (("trd", "status"), "maybe"),
        (("predose_bp", "status"), "fine"),
        (("format",), "kdsupport-assessment/1"),
    ):
        bad = copy.deepcopy(good)
        target = bad
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
        assert not validator.is_valid(bad), path
    bad = copy.deepcopy(good)
    next(iter(bad["modalities"].values()))["status"] = "safe"
    assert not validator.is_valid(bad)
    bad = copy.deepcopy(good)
    del bad["disclaimer"]
    assert not validator.is_valid(bad)


def test_the_assessment_is_frozen():
    a = assess(load_case(CASES / "tr-011.yaml"))
    with pytest.raises(dataclasses.FrozenInstanceError):
        a.case_id = "other"  # type: ignore[misc]  # the point of the test
    with pytest.raises(dataclasses.FrozenInstanceError):
        a.trd.status = Status.MET  # type: ignore[misc]  # the point of the test
    with pytest.raises(TypeError):
        a.modalities["esketamine_nasal"] = a.modalities["iv_ketamine"]  # type: ignore[index]
    with pytest.raises(TypeError):
        bool(a.trd.status)  # unknown can never silently become false


def test_statuses_are_enums_not_strings():
    a = assess(load_case(CASES / "tr-011.yaml"))
    assert isinstance(a.trd.status, Status)
    assert isinstance(a.predose_bp.status, BPTier)
    for m in a.modalities.values():
        assert isinstance(m.status, ModalityStatus)
        assert all(isinstance(f.severity, Severity) for f in m.findings)
    for s in a.sessions:
        assert all(isinstance(v, Status) for v in s.checks.values())
        assert all(isinstance(k, CheckKind) for k in s.check_kinds.values())
    assert a.session(a.sessions[0].number) is a.sessions[0]
    with pytest.raises(KeyError, match="no session 999"):
        a.session(999)


def test_the_knowledge_bases_vocabularies_are_the_enums():
    kb = load()
    assert set(MODALITY_STATUSES) == {s.value for s in ModalityStatus}
    severities = {i.severity for m in kb.screening.modalities.values() for i in m.items.values()}
    assert severities <= {s.value for s in Severity}
    assert {c.kind for c in kb.vitals.session_monitoring.checks.values()} == {
        k.value for k in CheckKind
    }
    guide = kb.vitals.predose_bp_guide
    assert {guide.above_status, guide.within_status, guide.severe.status} <= {
        t.value for t in BPTier
    }


def test_the_cli_prints_the_assessments_json():
    path = CASES / "tr-024.yaml"
    out = subprocess.run(
        [sys.executable, "-m", "kdsupport", "assess", str(path)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert json.loads(out) == json.loads(json.dumps(assess(load_case(path)).to_json()))
