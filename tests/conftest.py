"""Shared fixtures: the knowledge base and a fully specified synthetic record to vary."""

from __future__ import annotations

import copy
import os
import tempfile
from pathlib import Path
from typing import Any

import pytest

from kdsupport.knowledge import load
from kdsupport.records.case import validate_case
from kdsupport.rules.assess import assess

# Notebook kernels started by the tests (papermill, nbval) inherit this: their attempts go to a
# throw-away log, never to the user's own.
os.environ.setdefault(
    "KDSUPPORT_ATTEMPTS",
    os.path.join(tempfile.mkdtemp(prefix="kdsupport-tests-"), "attempts.sqlite"),
)

ROOT = Path(__file__).resolve().parents[1]
CASES = ROOT / "data" / "synthetic" / "cases"
EXPECTED = ROOT / "data" / "synthetic" / "expected"

ALL_SCREENING_FALSE = {
    "aneurysmal_vascular_disease": False,
    "arteriovenous_malformation": False,
    "intracerebral_hemorrhage_history": False,
    "ketamine_hypersensitivity": False,
    "uncontrolled_hypertension": False,
    "unstable_cardiovascular_disease": False,
    "raised_intracranial_pressure": False,
    "psychosis_history": False,
    "current_psychosis_or_mania": False,
    "substance_use_disorder_active": False,
    "ketamine_misuse_history": False,
    "severe_hepatic_impairment": False,
    "moderate_hepatic_impairment": False,
    "interstitial_cystitis": False,
    "cns_depressant_use": False,
    "maoi_or_psychostimulant_use": False,
    "support_person_available": True,
}

NO_RISK = {
    "wish_to_be_dead": False,
    "active_thoughts": False,
    "method": False,
    "intent": False,
    "plan": False,
    "behavior": False,
    "behavior_past_3_months": False,
}


def trial(drug: str, **kw: Any) -> dict[str, Any]:
    """A failed adequate current-episode trial unless overridden."""
    base = {
        "drug": drug,
        "role": "monotherapy",
        "episode": "current",
        "dose_mg_per_day": None,
        "weeks": 8,
        "adherence": "adequate",
        "improvement_percent": 10,
        "dose_optimised": False,
    }
    kb = load()
    minimum = kb.drugs.drugs[drug].min_adequate["atrq"]
    if minimum.serum_level_mmol_l is not None:
        base["serum_level_mmol_l"] = minimum.serum_level_mmol_l
    else:
        base["dose_mg_per_day"] = minimum.mg_per_day
    if not kb.drugs.classes[kb.drugs.drugs[drug].drug_class].antidepressant:
        base["role"] = "augmentation"
    base.update(kw)
    return base


def make_record(**overrides: Any) -> dict[str, Any]:
    """A complete record where every conclusion is decided; override top-level keys."""
    rec: dict[str, Any] = {
        "format": "kdsupport-case/1",
        "id": "test-case",
        "synthetic": True,
        "patient": {
            "age_years": 40,
            "sex": "female",
            "weight_kg": 70.0,
            "pregnant": False,
            "breastfeeding": False,
        },
        "diagnosis": {
            "primary": "mdd",
            "current_episode_months": 18,
            "severity": "moderate",
            "psychotic_features": False,
        },
        "trials": [trial("sertraline"), trial("venlafaxine")],
        "ect": [],
        "screening": dict(ALL_SCREENING_FALSE),
        "vitals": {
            "systolic_mmhg": 120,
            "diastolic_mmhg": 80,
            "heart_rate_bpm": 70,
            "spo2_percent": 98,
        },
        "assessments": [
            {"instrument": "cssrs_screener", "when": "baseline", "answers": dict(NO_RISK)},
        ],
        "sessions": [],
    }
    rec.update(copy.deepcopy(overrides))
    return rec


def rehash(cohort: Path) -> None:
    """Rewrite a cohort manifest's sha256 values after a test edited its tables on purpose.

    This stands for a producer that wrote bad cells and a manifest that matches them; a table
    changed behind the manifest's back is refused (see test_hostile_inputs.py).
    """
    import hashlib
    import json

    path = cohort / "manifest.json"
    manifest = json.loads(path.read_text())
    for rel in manifest["files"]:
        if (cohort / rel).exists():
            manifest["files"][rel] = hashlib.sha256((cohort / rel).read_bytes()).hexdigest()
    path.write_text(json.dumps(manifest, indent=1) + "\n")


def run(rec: dict[str, Any], **kw: Any) -> dict[str, Any]:
    """Validate and assess a record dict; the assessment's JSON (the contract's format)."""
    return assess(validate_case(rec), **kw).to_json()


def run_typed(rec: dict[str, Any], **kw: Any) -> Any:
    """Validate and assess a record dict; the typed :class:`Assessment`."""
    return assess(validate_case(rec), **kw)


@pytest.fixture(scope="session")
def kb():
    return load()
