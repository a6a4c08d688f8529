"""The instructor dashboard (notebook 08).

Attempts by trainee and by question, the hardest questions, and a CSV export. Wiring only;
figures from :mod:`kdsupport.plots`.

For training with synthetic patients; not a medical device.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import ipywidgets as W

from kdsupport import report_html as H
from kdsupport.widgets._common import LABEL

__all__ = ["build_instructor_dashboard", "dashboard_tables"]


def dashboard_tables(df: Any) -> dict[str, Any]:
    """Summary tables of an attempts DataFrame: by trainee, by question, hardest questions."""
    if df.empty:
        return {"by_trainee": df, "by_question": df, "hardest": df}
    first = (
        df.sort_values("answered_at")
        .groupby(["trainee_id", "case_id", "question_id"], as_index=False)
        .first()
    )
    by_trainee = (
        first.groupby("trainee_id")
        .agg(questions=("question_id", "size"), correct=("correct", "sum"))
        .assign(percent_correct=lambda d: (100 * d["correct"] / d["questions"]).round(1))
        .reset_index()
    )
    by_question = (
        first.groupby(["case_id", "question_id"])
        .agg(trainees=("trainee_id", "nunique"), correct=("correct", "sum"))
        .assign(percent_correct=lambda d: (100 * d["correct"] / d["trainees"]).round(1))
        .reset_index()
    )
    hardest = by_question.sort_values(
        ["percent_correct", "trainees"], ascending=[True, False]
    ).head(10)
    return {"by_trainee": by_trainee, "by_question": by_question, "hardest": hardest}


def build_instructor_dashboard(
    *, store: Any = "default", export_path: str = "attempts_export.csv"
) -> W.VBox:
    """Refreshable summaries and figures of the attempt log, with a CSV export button."""
    from kdsupport.plots import attempts_by_question_figure, attempts_by_trainee_figure
    from kdsupport.training.attempts import open_store

    if isinstance(store, str):
        store = open_store(None if store == "default" else store)
    refresh = W.Button(description="Refresh", tooltip="Read the attempt log again")
    path = W.Text(
        value=export_path, description="Export to (CSV)", style=LABEL, layout=W.Layout(width="40em")
    )
    export = W.Button(description="Export CSV", tooltip="Write every attempt to the CSV file")
    status = W.HTML()
    summary = W.HTML()
    figures = W.HTML()

    def update(_: Any = None) -> None:
        df = store.to_dataframe()
        t = dashboard_tables(df)
        if df.empty:
            summary.value = "<p>No attempts recorded yet.</p>"
            figures.value = ""
            return
        n_questions = df[["case_id", "question_id"]].drop_duplicates().shape[0]
        bt = t["by_trainee"]
        pct = 100 * bt["correct"].sum() / max(1, bt["questions"].sum())
        summary.value = (
            f"<p><b>{len(df)}</b> answers from <b>{df['trainee_id'].nunique()}</b> trainee(s) on "
            f"<b>{n_questions}</b> question(s); first answers correct: <b>{pct:.0f} %</b>.</p>"
            "<h4>By trainee (first answer to each question)</h4>"
            + t["by_trainee"].to_html(index=False, border=1)
            + "<h4>Hardest questions</h4>"
            + t["hardest"].to_html(index=False, border=1)
        )
        figures.value = H.figure_html(
            attempts_by_question_figure(df), alt="Percent correct by question, hardest first"
        ) + H.figure_html(
            attempts_by_trainee_figure(df), alt="Answers by trainee, correct and not correct"
        )

    def do_export(_: Any) -> None:
        out = store.export_csv(Path(path.value))
        status.value = (
            f"<p role='status'>Exported {len(store.attempts())} attempts to "
            f"<code>{H.esc(out)}</code>.</p>"
        )

    refresh.on_click(update)
    export.on_click(do_export)
    update()
    box = W.VBox([W.HBox([refresh]), summary, figures, W.HBox([path, export]), status])
    box.refresh_button, box.export_button, box.export_path, box.status, box.summary = (
        refresh,
        export,
        path,
        status,
        summary,
    )  # type: ignore[attr-defined]
    return box
