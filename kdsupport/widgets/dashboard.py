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
from kdsupport.errors import KdsupportError

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


def build_instructor_dashboard(*, store: Any = "default", export_dir: Any = "default") -> W.VBox:
    """Refreshable summaries and figures of the attempt log, with a CSV export button.

    The export goes to a new, time-stamped file in ``export_dir``, a folder chosen by whoever
    started the server (``"default"``: ``$KDSUPPORT_EXPORT_DIR`` or ``var/exports``), and is
    offered as a browser download. Nothing on the page can choose a path.
    """
    import base64

    from kdsupport.plots import attempts_by_question_figure, attempts_by_trainee_figure
    from kdsupport.training.attempts import default_export_dir, open_store

    if isinstance(store, str):
        store = open_store(None if store == "default" else store)
    folder = Path(default_export_dir() if export_dir == "default" else export_dir)
    refresh = W.Button(description="Refresh", tooltip="Read the attempt log again")
    export = W.Button(
        description="Export CSV",
        tooltip="Write every attempt to a new CSV file in the server's export folder",
    )
    where = W.HTML(
        f"<p>Exports are written to the server's export folder <code>{H.esc(folder)}</code> "
        "and offered as a download.</p>"
    )
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
            + t["by_trainee"].to_html(index=False, border=1, escape=True)
            + "<h4>Hardest questions</h4>"
            + t["hardest"].to_html(index=False, border=1, escape=True)
        )
        figures.value = H.figure_html(
            attempts_by_question_figure(df), alt="Percent correct by question, hardest first"
        ) + H.figure_html(
            attempts_by_trainee_figure(df), alt="Answers by trainee, correct and not correct"
        )

    def do_export(_: Any) -> None:
        try:
            out = store.export_to_folder(folder)
        except KdsupportError as exc:
            status.value = H.save_status_html(f"the export was not written: {exc}", 0)
            return
        data = base64.b64encode(out.read_bytes()).decode("ascii")
        status.value = (
            f"<p role='status'>Exported {len(store.attempts())} attempts to "
            f"<code>{H.esc(out)}</code>. <a download='{H.esc(out.name)}' "
            f"href='data:text/csv;charset=utf-8;base64,{data}'>Download {H.esc(out.name)}</a></p>"
        )

    refresh.on_click(update)
    export.on_click(do_export)
    update()
    box = W.VBox([W.HBox([refresh]), summary, figures, where, W.HBox([export]), status])
    box.refresh_button, box.export_button, box.status, box.summary = (
        refresh,
        export,
        status,
        summary,
    )  # type: ignore[attr-defined]
    box.export_dir = folder  # type: ignore[attr-defined]
    return box
