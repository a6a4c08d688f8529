"""Safety screening explorer (notebook 03).

Contraindications and warnings per modality, blood pressure before dosing, and C-SSRS triage,
all on one editable copy of a case.

Each screening item and screener answer is yes / no / not recorded; the statuses are
recomputed by the rules after every change. Wiring only.

For training with synthetic patients; not a medical device.
"""

from __future__ import annotations

import copy
from typing import Any

import ipywidgets as W

from kdsupport.render import html as H
from kdsupport.widgets._common import LABEL, case_picker, tri_dropdown

__all__ = ["SafetyExplorer", "build_safety_explorer"]


class SafetyExplorer(W.VBox):
    """See :func:`build_safety_explorer`."""

    def __init__(self, case_id: str | None, data_dir: Any):
        from kdsupport.knowledge import load

        self.kb = load()
        self.data_dir = data_dir
        self.case_picker = case_picker(case_id, data_dir=data_dir)
        # each control edits a record field, so it is labelled by the field (for the support
        # person: "available", the field's own meaning, not the item "no support person")
        fields = [
            (i.field.split(".")[1], i.field_label or i.label)
            for i in self.kb.screening.items.values()
            if i.field.startswith("screening.")
        ]
        self.items = {f: tri_dropdown(label, None) for f, label in fields}
        self.sex = W.Dropdown(
            options=[
                ("female", "female"),
                ("male", "male"),
                ("intersex", "intersex"),
                ("unknown", "unknown"),
                ("not recorded", None),
            ],
            description="Sex",
            style=LABEL,
        )
        self.pregnant = tri_dropdown("Pregnant", None)
        self.breastfeeding = tri_dropdown("Breastfeeding", None)
        self.systolic = W.Text(
            description="Systolic (mmHg)", style=LABEL, layout=W.Layout(width="16em")
        )
        self.diastolic = W.Text(
            description="Diastolic (mmHg)", style=LABEL, layout=W.Layout(width="16em")
        )
        # the screener's questions, numbered and worded as in the knowledge base
        questions = self.kb.suicide.cssrs_screener.questions
        self.answers = {q.key: tri_dropdown(f"{q.number}. {q.text}", None) for q in questions}
        self.screening_result = W.HTML()
        self.bp_result = W.HTML()
        self.cssrs_result = W.HTML()
        tabs = W.Tab(
            children=[
                W.VBox(
                    [
                        W.HTML("<p>Set each item; 'not recorded' means not assessed.</p>"),
                        W.HBox([self.sex, self.pregnant, self.breastfeeding]),
                        W.GridBox(
                            list(self.items.values()),
                            layout=W.Layout(grid_template_columns="repeat(2, 1fr)"),
                        ),
                        self.screening_result,
                    ]
                ),
                W.VBox(
                    [
                        W.HTML("<p>The most recent reading before treatment.</p>"),
                        W.HBox([self.systolic, self.diastolic]),
                        self.bp_result,
                    ]
                ),
                W.VBox(
                    [
                        W.HTML(
                            "<p>The screener's answers; when question 2 is 'no', questions 3-5 "
                            "are skipped.</p>"
                        ),
                        *self.answers.values(),
                        self.cssrs_result,
                    ]
                ),
            ]
        )
        for i, title in enumerate(
            ["Contraindications and warnings", "Blood pressure before dosing", "C-SSRS triage"]
        ):
            tabs.set_title(i, title)
        self.tabs = tabs
        super().__init__([self.case_picker, tabs])
        self._loading = False
        self.case_picker.observe(lambda ch: self.load(ch["new"]), names="value")
        for w in (
            *self.items.values(),
            self.sex,
            self.pregnant,
            self.breastfeeding,
            self.systolic,
            self.diastolic,
            *self.answers.values(),
        ):
            w.observe(lambda _: self.update(), names="value")
        self.load(self.case_picker.value)

    def load(self, case_id: str) -> None:
        """Fill the controls from a curated case."""
        from kdsupport.records.bundled import load_case_by_id

        self.record = load_case_by_id(case_id, self.data_dir).model_dump(
            by_alias=True, exclude_none=False
        )
        self._loading = True
        try:
            scr = self.record.get("screening") or {}
            for f, w in self.items.items():
                w.value = scr.get(f)
            p = self.record["patient"]
            self.sex.value, self.pregnant.value, self.breastfeeding.value = (
                p.get("sex"),
                p.get("pregnant"),
                p.get("breastfeeding"),
            )
            v = self.record.get("vitals") or {}
            self.systolic.value = (
                "" if v.get("systolic_mmhg") is None else f"{v['systolic_mmhg']:g}"
            )
            self.diastolic.value = (
                "" if v.get("diastolic_mmhg") is None else f"{v['diastolic_mmhg']:g}"
            )
            screeners = [
                a
                for a in self.record.get("assessments") or []
                if a["instrument"] == "cssrs_screener"
            ]
            ans = (screeners[-1].get("answers") or {}) if screeners else {}
            for k, w in self.answers.items():
                w.value = ans.get(k)
        finally:
            self._loading = False
        self.update()

    def _edited(self) -> tuple[dict[str, Any] | None, list[str]]:
        rec = copy.deepcopy(self.record)
        rec.pop("teaching", None)
        rec["screening"] = {f: w.value for f, w in self.items.items()}
        rec["patient"].update(
            sex=self.sex.value, pregnant=self.pregnant.value, breastfeeding=self.breastfeeding.value
        )
        problems = []
        vit = dict(rec.get("vitals") or {})
        for key, w in (("systolic_mmhg", self.systolic), ("diastolic_mmhg", self.diastolic)):
            text = w.value.strip()
            try:
                vit[key] = float(text) if text else None
            except ValueError:
                problems.append(f"{w.description}: '{text}' is not a number")
        rec["vitals"] = vit
        adms = [a for a in rec.get("assessments") or [] if a["instrument"] != "cssrs_screener"]
        adms.append(
            {
                "instrument": "cssrs_screener",
                "when": "baseline",
                "answers": {k: w.value for k, w in self.answers.items()},
            }
        )
        rec["assessments"] = adms
        return (None if problems else rec), problems

    def update(self) -> None:
        """Recompute every status from the edited copy."""
        if self._loading:
            return
        from kdsupport.errors import InvalidInputError
        from kdsupport.records.case import validate_case
        from kdsupport.rules.assess import assess

        rec, problems = self._edited()
        if rec is not None:
            try:
                a = assess(validate_case(rec))
            except InvalidInputError as exc:
                problems = [str(p) for p in exc.problems]
        if problems:
            msg = (
                "<div role='status'><b>Fix these entries first:</b><ul>"
                + "".join(f"<li>{H.esc(p)}</li>" for p in problems)
                + "</ul></div>"
            )
            self.screening_result.value = self.bp_result.value = self.cssrs_result.value = msg
            return
        live = "<div role='status' aria-live='polite'>{}</div>"
        self.screening_result.value = live.format(H.modalities_html(a))
        self.bp_result.value = live.format(H.predose_html(a))
        self.cssrs_result.value = live.format(H.suicide_html(a))


def build_safety_explorer(case_id: str | None = None, *, data_dir: Any = None) -> SafetyExplorer:
    """Build the safety explorer, starting from a curated case."""
    return SafetyExplorer(case_id, data_dir)
