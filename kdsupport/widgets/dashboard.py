"""The instructor dashboard (notebook 08).

Attempts by trainee and by question, the hardest questions, and a CSV export. Wiring only;
figures from :mod:`kdsupport.render.plots`.

The tables are counted in plain Python; the two figures (pandas, matplotlib and seaborn, about
a second to import and draw) are kept in the page cache (:mod:`kdsupport.render.page_cache`),
keyed by the tables they draw, so opening the page again before anyone answers again does not
draw them again.

For training with synthetic patients; not a medical device.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ipywidgets as W

from kdsupport.errors import KdsupportError
from kdsupport.render import html as H

__all__ = ["build_instructor_dashboard", "dashboard_tables"]


_BY_TRAINEE = ["trainee", "questions answered", "first answers correct", "percent correct"]
_BY_QUESTION = ["case", "question", "trainees", "first answers correct", "percent correct"]
#: How many of the hardest questions the table lists.
_HARDEST = 10
#: Drawn dashboards the page cache keeps (the latest states of the attempt log).
_KEEP_DRAWN = 4


@dataclass(frozen=True)
class _Rows:
    """The dashboard's tables as rows of plain values (columns as in :func:`dashboard_tables`)."""

    by_trainee: list[tuple[Any, ...]]
    by_question: list[tuple[Any, ...]]
    hardest: list[tuple[Any, ...]]


def _rows(attempts: list[Any]) -> _Rows:
    """The tables, all counted by the one retake rule (first answers), without pandas."""
    from kdsupport.training.scoring import question_scores, trainee_scores

    by_trainee = [
        (t, sc.answered, sc.correct, sc.percent) for t, sc in trainee_scores(attempts).items()
    ]
    by_question = [
        (c, q, sc.answered, sc.correct, sc.percent)
        for (c, q), sc in question_scores(attempts).items()
    ]
    hardest = sorted(by_question, key=lambda row: _hardest_first(*row))[:_HARDEST]
    return _Rows(by_trainee, by_question, hardest)


def _hardest_first(
    case: str, question: str, trainees: int, correct: int, percent: float | None
) -> tuple[Any, ...]:
    """Sort key: the lowest percent correct first (none last), then the most trainees, then ids.

    The order of :func:`dashboard_tables`' ``hardest`` table (pandas puts a missing value last).
    """
    return (percent is None, percent or 0, -trainees, case, question)


def dashboard_tables(attempts: list[Any]) -> dict[str, Any]:
    """The dashboard's tables, all counted by the one retake rule (first answers).

    Returns DataFrames ``by_trainee`` (trainee, questions answered, first answers correct,
    percent correct), ``by_question`` (case, question, trainees, first answers correct, percent
    correct) and ``hardest`` (the ten hardest questions). The figures draw these same tables.
    """
    return _frames(_rows(attempts))


def _frames(rows: _Rows) -> dict[str, Any]:
    import pandas as pd

    by_question = pd.DataFrame(rows.by_question, columns=_BY_QUESTION)
    hardest = by_question.sort_values(
        ["percent correct", "trainees", "case", "question"], ascending=[True, False, True, True]
    ).head(_HARDEST)
    return {
        "by_trainee": pd.DataFrame(rows.by_trainee, columns=_BY_TRAINEE),
        "by_question": by_question,
        "hardest": hardest,
    }


def _figures_html(rows: _Rows) -> str:
    """Both figures as HTML, from the page cache when these same tables were drawn before."""
    import json

    from kdsupport.render.page_cache import cached_sections, page_key

    def draw() -> dict[str, str]:
        from kdsupport.render.plots import attempts_by_question_figure, attempts_by_trainee_figure

        t = _frames(rows)
        return {
            "figures": H.figure_html(
                attempts_by_question_figure(t["by_question"]),
                alt="Percent of first answers correct by question, hardest first (the table above)",
            )
            + H.figure_html(
                attempts_by_trainee_figure(t["by_trainee"]),
                alt="Percent of first answers correct by trainee (the table above)",
            )
        }

    key = page_key("dashboard", json.dumps([rows.by_question, rows.by_trainee]))
    sections, _ = cached_sections("dashboard", key, draw, names=["figures"], keep=_KEEP_DRAWN)
    return sections["figures"]


def _table_html(columns: list[str], rows: list[tuple[Any, ...]], caption: str) -> str:
    """An escaped HTML table with a caption, in a focusable scroll region."""
    head = "".join(f"<th scope='col'>{H.esc(c)}</th>" for c in columns)
    body = "".join("<tr>" + "".join(f"<td>{H.esc(v)}</td>" for v in row) + "</tr>" for row in rows)
    return (
        f"<div role='region' tabindex='0' aria-label='{H.esc(caption)}' "
        "style='max-width:100%;overflow-x:auto'><table border='1' "
        f"style='border-collapse:collapse'><caption style='text-align:left'>{H.esc(caption)}"
        f"</caption><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>"
    )


def build_instructor_dashboard(
    *, store: Any = "default", export_dir: Any = "default", demo_attempts: int = 0
) -> W.VBox:
    """Refreshable summaries and figures of the attempt log, with a CSV export button.

    The export goes to a new, time-stamped file in ``export_dir``, a folder chosen by whoever
    started the server (``"default"``: ``$KDSUPPORT_EXPORT_DIR`` or ``var/exports``), and is
    offered as a browser download. Nothing on the page can choose a path. ``demo_attempts``
    adds that many demonstration trainees first (ids starting ``demo-``), to preview the page.
    """
    import base64

    from kdsupport.training.attempts import default_export_dir, open_store

    if isinstance(store, str):
        store = open_store(None if store == "default" else store)
    if demo_attempts:
        from kdsupport.training.demo import add_demo_attempts

        add_demo_attempts(store, demo_attempts)
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
        from kdsupport.training.scoring import RETAKE_RULE, first_answers, score_of

        attempts = store.attempts()
        if not attempts:
            summary.value = "<p>No attempts recorded yet.</p>"
            figures.value = ""
            return
        t = _rows(attempts)
        firsts = first_answers(attempts)
        overall = score_of(firsts.values())
        n_trainees = len({a.trainee_id for a in attempts})
        summary.value = (
            f"<p><b>{len(attempts)}</b> answers from <b>{n_trainees}</b> trainee(s) on "
            f"<b>{len(t.by_question)}</b> question(s). Every table and figure counts the "
            f"first answer of each trainee to each question: {H.esc(overall.text())}.</p>"
            f"<p class='kd-muted'>The rule trainees are told: {H.esc(RETAKE_RULE)}</p>"
            "<h2>By trainee</h2>"
            + _table_html(_BY_TRAINEE, t.by_trainee, "First answers by trainee")
            + "<h2>Hardest questions</h2>"
            + _table_html(
                _BY_QUESTION,
                t.hardest,
                "The ten questions with the fewest first answers correct",
            )
        )
        figures.value = _figures_html(t)

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
    )
    box.export_dir = folder
    return box
