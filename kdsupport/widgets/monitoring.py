"""Session monitoring (notebook 04).

One session's vitals, sedation and dissociation against the monitoring checks. Wiring only.

For training with synthetic patients; not a medical device.
"""

from __future__ import annotations

from typing import Any

import ipywidgets as W

from kdsupport.knowledge.wording import modality_label
from kdsupport.render import html as H
from kdsupport.render.session_day import session_day_block_html
from kdsupport.widgets._common import LABEL, case_picker

__all__ = ["build_session_monitor", "checks_explained_html"]


def checks_explained_html() -> str:
    """What each monitoring check means, with its sources (from the knowledge base)."""
    from kdsupport.knowledge import load, source_refs_in
    from kdsupport.knowledge.wording import modality_label

    kb = load()
    sm = kb.vitals.session_monitoring
    items = []
    for c in sm.checks.values():
        refs = source_refs_in(c)
        items.append(
            f"<li><b>{H.esc(c.title)}</b>: {H.esc(c.description)} "
            f"{H.cite_html(kb.source_ids(refs))}</li>"
        )
    site = "; ".join(
        f"{H.esc(modality_label(m))} {H.cite_html([r.id])}" for m, r in sm.modality_sources.items()
    )
    return (
        f"<p>{H.esc(sm.title)}.</p><ul>{''.join(items)}</ul>"
        "<p style='font-size:90%'>For IV and at-home ketamine these are site defaults: "
        f"{site}.</p>"
    )


def build_session_monitor(
    case_id: str | None = None, *, session: int = 1, data_dir: Any = None
) -> W.VBox:
    """A case and session picker above the session's vitals figure and its checks."""
    from kdsupport.records.bundled import load_case_by_id
    from kdsupport.render.plots import session_vitals_figure
    from kdsupport.rules.assess import assess

    picker = case_picker(case_id, data_dir=data_dir, only=lambda r: bool(r.sessions))
    sess = W.Dropdown(description="Session", style=LABEL)
    figure = W.HTML()
    checks = W.HTML()
    state: dict[str, Any] = {}

    def load_case(_: Any = None) -> None:
        record = load_case_by_id(picker.value, data_dir)
        state["record"], state["assessment"] = record, assess(record)
        numbers = [s.number for s in record.sessions or ()]
        state["loading"] = True  # setting the options and value would redraw twice
        try:
            sess.options = [(f"session {n}", n) for n in numbers]
            sess.value = session if session in numbers else numbers[0]
        finally:
            state["loading"] = False
        show()

    def show(_: Any = None) -> None:
        record, a = state["record"], state["assessment"]
        if sess.value is None or state.get("loading"):
            return
        idx = [s.number for s in record.sessions].index(sess.value)
        s = record.sessions[idx]
        fig = session_vitals_figure(record, s)
        dose = (
            f"{s.dose_mg_per_kg:g} mg/kg over {s.infusion_minutes or 0:g} min"
            if s.dose_mg_per_kg
            else f"{s.dose_mg:g} mg"
            if s.dose_mg
            else "dose not recorded"
        )
        observed = (
            "not recorded"
            if s.observation_minutes is None
            else f"{s.observation_minutes:g} minutes"
        )
        cadss = "not recorded" if s.cadss_total is None else s.cadss_total
        facts = (
            f"<p><b>{H.esc(modality_label(s.modality))}</b>, {H.esc(dose)}; observation "
            f"{H.esc(observed)}; CADSS total {H.esc(cadss)}; adverse events: "
            f"{H.esc(', '.join(s.adverse_events or []) or 'none recorded')}.</p>"
        )
        figure.value = facts + H.figure_html(
            fig, alt=f"Blood pressure, heart rate and SpO2 by minute for session {s.number}"
        )
        checks.value = H.session_checks_html(a, idx) + session_day_block_html(a.sessions[idx])

    picker.observe(load_case, names="value")
    sess.observe(show, names="value")
    load_case()
    box = W.VBox([picker, sess, figure, checks])
    box.case_picker, box.session_picker, box.figure, box.checks = picker, sess, figure, checks
    return box
