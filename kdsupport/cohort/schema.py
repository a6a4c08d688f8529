"""The cohort's tidy tables: each table's columns and their pandas dtypes.

Every table is built (:func:`frame`), written and read back with these dtypes; a generated
cohort's tables are the single source of truth for its records.

Synthetic data only; not a medical device.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import pandas as pd

__all__ = ["CSSRS_KEYS", "DtypeName", "TABLES", "frame"]

#: The C-SSRS answers of the ``cssrs`` table, in record order.
CSSRS_KEYS = (
    "wish_to_be_dead",
    "active_thoughts",
    "method",
    "intent",
    "plan",
    "behavior",
    "behavior_past_3_months",
)

#: The pandas dtypes the tables use, by name.
DtypeName = Literal["string", "Int64", "Float64", "boolean", "category"]

# Table schemas: column -> pandas dtype. Used to build, write and read back every table.
TABLES: dict[str, dict[str, DtypeName]] = {
    "patients": {
        "patient_id": "string",
        "age_years": "Int64",
        "sex": "category",
        "weight_kg": "Float64",
        "pregnant": "boolean",
        "breastfeeding": "boolean",
        "primary": "category",
        "current_episode_months": "Float64",
        "severity": "category",
        "psychotic_features": "boolean",
        "systolic_mmhg": "Float64",
        "diastolic_mmhg": "Float64",
        "heart_rate_bpm": "Float64",
        "spo2_percent": "Float64",
        "treatment_modality": "category",
    },
    "trials": {
        "patient_id": "string",
        "trial": "Int64",
        "drug": "category",
        "role": "category",
        "episode": "category",
        "dose_mg_per_day": "Float64",
        "serum_level_mmol_l": "Float64",
        "weeks": "Float64",
        "adherence": "category",
        "improvement_percent": "Float64",
        "dose_optimised": "boolean",
    },
    "ect": {
        "patient_id": "string",
        "course": "Int64",
        "episode": "category",
        "laterality": "category",
        "sessions": "Int64",
        "improvement_percent": "Float64",
    },
    "screening": {"patient_id": "string", "item": "category", "value": "boolean"},
    "assessments": {
        "patient_id": "string",
        "index": "Int64",
        "instrument": "category",
        "when": "string",
        "total": "Int64",
    },
    "assessment_items": {
        "patient_id": "string",
        "index": "Int64",
        "item": "Int64",
        "score": "Int64",
    },
    "cssrs": {
        "patient_id": "string",
        "index": "Int64",
        "wish_to_be_dead": "boolean",
        "active_thoughts": "boolean",
        "method": "boolean",
        "intent": "boolean",
        "plan": "boolean",
        "behavior": "boolean",
        "behavior_past_3_months": "boolean",
    },
    "sessions": {
        "patient_id": "string",
        "number": "Int64",
        "modality": "category",
        "dose_mg": "Float64",
        "dose_mg_per_kg": "Float64",
        "infusion_minutes": "Float64",
        "cadss_total": "Int64",
        "observation_minutes": "Float64",
        "adverse_events": "string",
    },
    "vitals": {
        "patient_id": "string",
        "number": "Int64",
        "minute": "Float64",
        "systolic_mmhg": "Float64",
        "diastolic_mmhg": "Float64",
        "heart_rate_bpm": "Float64",
        "spo2_percent": "Float64",
    },
    "moaas": {"patient_id": "string", "number": "Int64", "minute": "Float64", "score": "Int64"},
}


def frame(name: str, columns: dict[str, Any]) -> pd.DataFrame:
    """Build a table with its schema's dtypes; None or NaN become missing values."""
    schema = TABLES[name]
    data: dict[str, pd.api.extensions.ExtensionArray | pd.Series] = {}
    for col, dtype in schema.items():
        values = np.asarray(columns[col])
        if dtype in ("Int64", "Float64", "boolean"):
            mask = np.asarray(pd.isna(values), dtype=bool)
            filled = np.where(mask, 0, values)
            if dtype == "boolean":
                data[col] = pd.arrays.BooleanArray(filled.astype(bool), mask)
            elif dtype == "Int64":
                data[col] = pd.arrays.IntegerArray(filled.astype(np.int64), mask)
            else:
                data[col] = pd.arrays.FloatingArray(filled.astype(np.float64), mask)
        else:
            data[col] = pd.Series(values, dtype=object).astype(dtype)
    return pd.DataFrame(data)


# ---------------------------------------------------------------- generation
