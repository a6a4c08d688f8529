"""Interactive trial-history builder (notebook 01).

The trainee edits a medication history row by row; after every change the history is turned
into a case record, validated and judged by :func:`kdsupport.rules.trd.evaluate_trd` under the
chosen definition, and the three-valued verdict with its basis is shown. An empty field is *not
recorded* (unknown), never zero. Wiring only.

For training with synthetic patients; not a medical device.
"""

from __future__ import annotations

from typing import Any

import ipywidgets as W

from kdsupport.render import html as H
from kdsupport.widgets._common import LABEL, definition_picker

__all__ = ["TrialHistoryBuilder", "build_trial_history_builder"]

_ROLE = ["monotherapy", "combination", "augmentation"]
_EPISODE = [("current", "current"), ("previous", "previous"), ("not recorded", None)]
_ADHERENCE = [("adequate", "adequate"), ("inadequate", "inadequate"), ("not recorded", None)]


class _TrialRow(W.HBox):
    def __init__(
        self, number: int, trial: dict[str, Any], drugs: list[str], on_change: Any, on_remove: Any
    ):
        small = W.Layout(width="9em")
        self.drug = W.Dropdown(
            options=drugs,
            value=trial.get("drug", drugs[0]),
            description=f"Trial {number}: drug",
            style=LABEL,
            layout=W.Layout(width="18em"),
        )
        self.role = W.Dropdown(
            options=_ROLE,
            value=trial.get("role", "monotherapy"),
            description="role",
            style=LABEL,
            layout=W.Layout(width="13em"),
        )
        self.episode = W.Dropdown(
            options=_EPISODE,
            value=trial.get("episode", "current"),
            description="episode",
            style=LABEL,
            layout=W.Layout(width="13em"),
        )
        amount = (
            trial.get("serum_level_mmol_l")
            if trial.get("serum_level_mmol_l") is not None
            else trial.get("dose_mg_per_day")
        )
        self.dose = W.Text(
            value=_txt(amount), description="dose", placeholder="mg/day", style=LABEL, layout=small
        )
        self.weeks = W.Text(
            value=_txt(trial.get("weeks")), description="weeks", style=LABEL, layout=small
        )
        self.adherence = W.Dropdown(
            options=_ADHERENCE,
            value=trial.get("adherence"),
            description="adherence",
            style=LABEL,
            layout=W.Layout(width="14em"),
        )
        self.improvement = W.Text(
            value=_txt(trial.get("improvement_percent")),
            description="improvement %",
            style=LABEL,
            layout=W.Layout(width="12em"),
        )
        self.remove = W.Button(
            description="Remove", tooltip=f"Remove trial {number}", layout=W.Layout(width="7em")
        )
        self.remove.on_click(lambda _: on_remove(self))
        for w in (
            self.drug,
            self.role,
            self.episode,
            self.dose,
            self.weeks,
            self.adherence,
            self.improvement,
        ):
            w.observe(lambda _: on_change(), names="value")
        super().__init__(
            [
                self.drug,
                self.role,
                self.episode,
                self.dose,
                self.weeks,
                self.adherence,
                self.improvement,
                self.remove,
            ],
            layout=W.Layout(flex_flow="row wrap"),
        )


def _txt(x: Any) -> str:
    if x is None:
        return ""
    return f"{x:g}" if isinstance(x, (int, float)) else str(x)


class TrialHistoryBuilder(W.VBox):
    """See :func:`build_trial_history_builder`."""

    def __init__(self, trials: list[dict[str, Any]], definition: str | None, primary: str | None):
        from kdsupport.knowledge import load

        self.kb = load()
        self.drugs = sorted(self.kb.drugs.drugs)
        self.definition = definition_picker(definition)
        self.primary = W.Dropdown(
            options=[
                ("major depressive disorder", "mdd"),
                ("bipolar depression", "bipolar_depression"),
                ("other", "other"),
                ("not recorded", None),
            ],
            value=primary,
            description="Primary diagnosis",
            style=LABEL,
        )
        self.rows_box = W.VBox()
        self.add_button = W.Button(
            description="Add a trial", tooltip="Add another medication trial"
        )
        self.verdict = W.HTML()
        self.add_button.on_click(lambda _: self.add_trial({"drug": "sertraline"}))
        self.definition.observe(lambda _: self.update(), names="value")
        self.primary.observe(lambda _: self.update(), names="value")
        super().__init__(
            [
                self.definition,
                self.primary,
                self.rows_box,
                self.add_button,
                W.HTML("<h3>Verdict</h3>"),
                self.verdict,
            ]
        )
        self._rows: list[_TrialRow] = []
        for t in trials:
            self.add_trial(t, update=False)
        self.update()

    @property
    def rows(self) -> list[_TrialRow]:
        """The trial rows on screen, in order."""
        return list(self._rows)

    def add_trial(self, trial: dict[str, Any], *, update: bool = True) -> None:
        """Add a row for one trial."""
        row = _TrialRow(len(self._rows) + 1, trial, self.drugs, self.update, self._remove)
        self._rows.append(row)
        self.rows_box.children = tuple(self._rows)
        if update:
            self.update()

    def _remove(self, row: _TrialRow) -> None:
        self._rows.remove(row)
        self.rows_box.children = tuple(self._rows)
        self.update()

    def record(self) -> tuple[dict[str, Any] | None, list[str]]:
        """The history as a case-record mapping, or the problems preventing one."""
        problems, trials = [], []
        for i, row in enumerate(self._rows, 1):
            t: dict[str, Any] = {
                "drug": row.drug.value,
                "role": row.role.value,
                "episode": row.episode.value,
                "adherence": row.adherence.value,
            }
            serum = (
                self.kb.drugs.drugs[row.drug.value]
                .min_adequate[self.kb.trd.definitions[self.definition.value].dose_table]
                .serum_level_mmol_l
                is not None
            )
            for field, widget in (
                ("serum_level_mmol_l" if serum else "dose_mg_per_day", row.dose),
                ("weeks", row.weeks),
                ("improvement_percent", row.improvement),
            ):
                text = widget.value.strip()
                if not text:
                    t[field] = None
                    continue
                try:
                    t[field] = float(text)
                except ValueError:
                    problems.append(f"trial {i}, {widget.description}: '{text}' is not a number")
            row.dose.placeholder = "mmol/L" if serum else "mg/day"
            trials.append(t)
        if problems:
            return None, problems
        rec = {
            "format": "kdsupport-case/1",
            "id": "trial-builder",
            "synthetic": True,
            "patient": {"age_years": 40},
            "diagnosis": {"primary": self.primary.value},
            "trials": trials,
        }
        return rec, []

    def update(self) -> None:
        """Re-judge the history and show the verdict."""
        from kdsupport.errors import InvalidInputError
        from kdsupport.records.case import validate_case
        from kdsupport.rules.assess import assess

        rec, problems = self.record()
        if rec is not None:
            try:
                a = assess(validate_case(rec), definition=self.definition.value)
            except InvalidInputError as exc:
                problems = [str(p).replace("trials[", "trial index [") for p in exc.problems]
        if problems:
            self.verdict.value = (
                "<div role='status'><b>Fix these entries first:</b><ul>"
                + "".join(f"<li>{H.esc(p)}</li>" for p in problems)
                + "</ul></div>"
            )
            return
        self.verdict.value = f"<div role='status' aria-live='polite'>{H.trd_html(a)}</div>"


def build_trial_history_builder(
    case_id: str | None = None, *, definition: str | None = None, data_dir: Any = None
) -> TrialHistoryBuilder:
    """Build the trial-history builder, starting from a curated case's trials (or empty)."""
    trials: list[dict[str, Any]] = []
    primary: str | None = "mdd"
    if case_id:
        from kdsupport.records.bundled import load_case_by_id

        record = load_case_by_id(case_id, data_dir)
        trials = [t.model_dump() for t in record.trials or ()]
        primary = record.diagnosis.primary if record.diagnosis else None
    return TrialHistoryBuilder(trials, definition, primary)
