"""Shared widget helpers: labels, tri-state choices, case pickers. Wiring only.

For training with synthetic patients; not a medical device.
"""

from __future__ import annotations

from typing import Any

import ipywidgets as W

LABEL = {"description_width": "initial"}
WIDE = W.Layout(width="auto", max_width="60em")
# A tri-state answer: None means "not assessed / not recorded", never "no".
TRI_OPTIONS = [("not recorded", None), ("yes", True), ("no", False)]


def tri_dropdown(description: str, value: bool | None) -> W.Dropdown:
    """A yes / no / not recorded choice with a readable label."""
    return W.Dropdown(
        options=TRI_OPTIONS,
        value=value,
        description=description,
        style=LABEL,
        layout=W.Layout(width="auto"),
    )


def case_picker(
    case_id: str | None, *, data_dir: Any = None, only: Any = None, description: str = "Case"
) -> W.Dropdown:
    """A dropdown of curated cases (optionally filtered by a predicate on the record)."""
    from kdsupport.records.bundled import list_cases, load_case_by_id

    options = []
    for c in list_cases(data_dir):
        if only is None or only(load_case_by_id(c.id, data_dir)):
            options.append((f"{c.id}: {c.title}", c.id))
    ids = [v for _, v in options]
    value = case_id if case_id in ids else (ids[0] if ids else None)
    return W.Dropdown(
        options=options, value=value, description=description, style=LABEL, layout=WIDE
    )


def definition_picker(value: str | None = None) -> W.Dropdown:
    """A dropdown of the knowledge base's TRD definitions."""
    from kdsupport.knowledge import load

    kb = load()
    return W.Dropdown(
        options=[(f"{d.label}: {d.title}", n) for n, d in kb.trd.definitions.items()],
        value=value or kb.trd.default,
        description="TRD definition",
        style=LABEL,
        layout=WIDE,
    )
