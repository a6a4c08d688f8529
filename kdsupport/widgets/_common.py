"""Shared widget helpers: labels, tri-state choices, case pickers, the trainee id. Wiring only.

For training with synthetic patients; not a medical device.
"""

from __future__ import annotations

from typing import Any

import ipywidgets as W

from kdsupport.render import html as H
from kdsupport.server.identity import hub_user

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


class SignedInTrainee(W.HBox):
    """The trainee id under JupyterHub: the hub user's name, shown and never editable.

    ``value`` is a plain read-only attribute, not a widget state: nothing a browser sends can
    change it, so every page that reads ``.value`` records and reads the signed-in trainee's
    attempts only.
    """

    def __init__(self, user: str, **kwargs: Any):
        self._owner = user
        super().__init__([W.HTML(f"Signed in as <b>{H.esc(user)}</b>")], **kwargs)

    @property
    def value(self) -> str:
        """The hub user's name (the trainee id)."""
        return self._owner


def trainee_box(trainee_id: str = "", *, layout: Any = None) -> W.Widget:
    """The trainee id control of a page, with ``.value`` the id (class ``kd-trainee-id``).

    Without a hub: a text box pre-filled with ``trainee_id``, for the trainee to type in.
    Under JupyterHub: no box, the hub user's name (``Signed in as``), which no request changes;
    ``trainee_id`` is then ignored (:func:`kdsupport.server.identity.trainee_id`).
    """
    layout = layout or W.Layout(width="auto", max_width="100%")
    user = hub_user()
    box: W.Widget
    if user is not None:
        box = SignedInTrainee(user, layout=layout)
    else:
        box = W.Text(
            value=trainee_id,
            description="Your trainee ID",
            placeholder="e.g. your initials and a number",
            style=LABEL,
            layout=layout,
        )
    box.add_class("kd-trainee-id")
    return box
