"""Staging side by side (notebook 02): Thase-Rush, MGH-S and Maudsley on one history.

For training with synthetic patients; not a medical device.
"""

from __future__ import annotations

from typing import Any

import ipywidgets as W

from kdsupport.render import html as H
from kdsupport.widgets._common import case_picker, definition_picker

__all__ = ["build_staging_comparison"]


def build_staging_comparison(
    case_id: str | None = None, *, definition: str | None = None, data_dir: Any = None
) -> W.VBox:
    """A case picker and a definition picker above the three staging models side by side."""
    from kdsupport.records.bundled import load_case_by_id
    from kdsupport.rules.assess import assess

    picker = case_picker(case_id, data_dir=data_dir, only=lambda r: bool(r.trials))
    defn = definition_picker(definition)
    out = W.HTML()

    def update(_: Any = None) -> None:
        record = load_case_by_id(picker.value, data_dir)
        a = assess(record, definition=defn.value)
        out.value = (
            f"<p><b>{H.esc(record.title)}</b></p>{H.staging_html(a)}"
            f"<details><summary>The trials behind the staging</summary>{H.trd_html(a)}</details>"
        )

    picker.observe(update, names="value")
    defn.observe(update, names="value")
    update()
    box = W.VBox([picker, defn, out])
    box.case_picker, box.definition, box.result = picker, defn, out
    return box
