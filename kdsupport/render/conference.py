"""Case conferences: sections of the conference notebook and the one-command HTML report.

``kdsupport conference CASE_ID`` executes ``notebooks/instructor/10_case_conference.ipynb`` with
papermill for the case and turns the executed notebook into one self-contained HTML file: no
code cells, figures embedded as PNG data URIs, inline CSS, no scripts and nothing fetched from
the network, so it opens offline and can be presented without editing.

Drawing a case's figures takes about a second (importing matplotlib, then four figures), and a
drawing depends on nothing but the record, its assessment and the code: so the figures' HTML is
kept in the page cache (:mod:`kdsupport.render.page_cache`), keyed by the sha256 of the record
and of its assessment, and a case shown again is not drawn again.

For case conferences with synthetic patients; not a medical device.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kdsupport.errors import KdsupportError
from kdsupport.files.safe_write import check_writable_target, write_atomically
from kdsupport.knowledge.wording import definition_label, modality_label
from kdsupport.render import html as H
from kdsupport.render.escaping import one_line, require_inert_html
from kdsupport.rules.result import CheckKind

if TYPE_CHECKING:
    from kdsupport.records.case import CaseRecord
    from kdsupport.rules.assessment import Assessment

__all__ = [
    "MAX_SESSION_FIGURES",
    "notebook_path",
    "timeline_section_html",
    "sessions_section_html",
    "trajectory_section_html",
    "discussion_html",
    "bibliography_html",
    "footer_html",
    "notebook_to_report_html",
    "render_conference",
]

NOTEBOOK = "10_case_conference.ipynb"
#: Sessions drawn one by one in the conference report's vitals figure (the first ones, in
#: record order); the checks table lists every session. A figure panel per session made a
#: 1000-session record (the case-record cap) take over five minutes to render.
MAX_SESSION_FIGURES = 24
#: Cases whose drawn figures the page cache keeps (for each section, the most recently drawn).
_CACHED_DRAWINGS = 64


def notebook_path(name: str = NOTEBOOK) -> Path:
    """An instructor notebook of the checkout (``$KDSUPPORT_NOTEBOOKS`` overrides the folder)."""
    default = Path(__file__).resolve().parents[2] / "notebooks" / "instructor"
    return Path(os.environ.get("KDSUPPORT_NOTEBOOKS", default)) / name


def _drawn(
    section: str,
    record: CaseRecord,
    assessment: Assessment,
    draw: Callable[[], dict[str, str]],
) -> dict[str, str]:
    """A section's figures (HTML by name), from the page cache when this case was drawn before.

    The key is the record and its assessment as JSON (the assessment carries the definition used
    and the knowledge-base version) with the code's fingerprint; a record that cannot be written
    as JSON is drawn and not cached.
    """
    import json

    from kdsupport.render.page_cache import cached_sections, page_key

    try:
        key: str | None = page_key(
            "conference",
            section,
            record.model_dump_json(),
            json.dumps(assessment.to_json(), sort_keys=True, default=str),
        )
    except (TypeError, ValueError):
        key = None
    sections, _ = cached_sections(
        f"conference-{section}", key, draw, names=_SECTION_FIGURES[section], keep=_CACHED_DRAWINGS
    )
    return sections


_SECTION_FIGURES = {
    "timeline": ("timeline",),
    "sessions": ("vitals", "sedation"),
    "trajectory": ("trajectory",),
}


def timeline_section_html(record: CaseRecord, assessment: Assessment) -> str:
    """The treatment-history figure: trials and ECT courses in record order, by verdict."""

    def draw() -> dict[str, str]:
        from kdsupport.render.plots import trial_timeline_figure

        return {
            "timeline": H.figure_html(
                trial_timeline_figure(record, assessment),
                alt="Medication trials and ECT courses in record order, coloured by adequacy "
                "and outcome",
            )
        }

    return _drawn("timeline", record, assessment, draw)["timeline"]


def sessions_section_html(record: CaseRecord, assessment: Assessment) -> str:
    """Per-session vitals, sedation and dissociation, and every session's checks.

    The vitals figure draws the first :data:`MAX_SESSION_FIGURES` sessions and says which are
    left out; the sedation figure and the checks table cover every session.
    """
    if not record.sessions:
        return "<p>No treatment sessions recorded.</p>"
    n = len(record.sessions)
    drawn = record.sessions[:MAX_SESSION_FIGURES]

    def draw() -> dict[str, str]:
        from kdsupport.render.plots import (
            sedation_dissociation_figure,
            sessions_vitals_grid_figure,
        )

        return {
            "vitals": H.figure_html(
                sessions_vitals_grid_figure(
                    record if n == len(drawn) else record.model_copy(update={"sessions": drawn})
                ),
                alt=f"Blood pressure and heart rate by minute for each of {len(drawn)} sessions",
            ),
            "sedation": H.figure_html(
                sedation_dissociation_figure(record),
                alt="Deepest MOAA/S and CADSS total for each session",
            ),
        }

    figures = _drawn("sessions", record, assessment, draw)
    parts = [figures["vitals"]]
    if n > len(drawn):
        rest = record.sessions[len(drawn) :]
        parts.append(
            f"<p><strong>Sessions {H.esc(str(rest[0].number))} to {H.esc(str(rest[-1].number))}"
            f"</strong> ({len(rest)} of {n} sessions) are not drawn one by one: the figure shows "
            f"the first {len(drawn)}. Every session is summarised in the table below.</p>"
        )
    parts.append(figures["sedation"])
    from kdsupport.knowledge import load
    from kdsupport.rules.monitoring import CHECK_ORDER

    titles = {n: c.title for n, c in load().session_check_info().items()}
    rows = []
    for s in assessment.sessions:
        cells = "".join(
            f"<td>{H.check_badge(s.checks[k], s.check_kinds[k])}</td>" for k in CHECK_ORDER
        )
        rows.append(
            f"<tr><th scope='row'>{s.number}</th>"
            f"<td>{H.esc(modality_label(s.modality))}</td>{cells}</tr>"
        )
    first = assessment.sessions[0]
    head = "".join(
        f"<th scope='col'>{H.esc(titles[k])}"
        f"{' (finding)' if first.check_kinds[k] is CheckKind.FINDING else ''}</th>"
        for k in CHECK_ORDER
    )
    parts.append(
        # a wide table scrolls inside its own focusable region, never the page (WCAG 1.4.10)
        "<div class='kd-scroll' role='region' tabindex='0' aria-label='Monitoring by session "
        "(table)' style='max-width:100%;overflow-x:auto'>"
        "<table border='1' style='border-collapse:collapse;font-size:90%'><caption "
        "style='text-align:left'>"
        "Monitoring by session: a check is 'done' when done as required; a finding that "
        "HAPPENED is a hazard (a large or severe BP reading, desaturation, deep sedation, loss "
        "of consciousness)</caption><thead><tr>"
        "<th scope='col'>#</th><th "
        f"scope='col'>way of giving ketamine</th>{head}</tr></thead><tbody>{''.join(rows)}"
        "</tbody></table></div>"
    )
    if any(s.session_day_recorded or s.rems_form is not None for s in assessment.sessions):
        from kdsupport.render.session_day import session_day_table_html

        parts.append(session_day_table_html(assessment))
    return "".join(parts)


def trajectory_section_html(record: CaseRecord, assessment: Assessment) -> str:
    """The symptom trajectory with response and remission lines, and the outcome's basis."""
    o = assessment.outcome
    if o is None:
        return (
            "<p>No instrument has both a baseline and a later administration: "
            "response cannot be judged.</p>"
        )

    def draw() -> dict[str, str]:
        from kdsupport.render.plots import symptom_trajectory_figure

        return {
            "trajectory": H.figure_html(
                symptom_trajectory_figure(record, assessment),
                alt=f"{o.instrument} totals over time with response and remission lines",
            )
        }

    return _drawn("trajectory", record, assessment, draw)["trajectory"] + H.reasons_html(o.reasons)


def discussion_html(record: CaseRecord, assessment: Assessment) -> str:
    """Questions for the conference: the case's teaching questions, its open unknowns."""
    items = [
        f"<li>{H.esc(q.prompt)}</li>"
        for q in (record.teaching.questions if record.teaching else ())
    ]
    unknown = [u.field for u in assessment.unknowns]
    if unknown:
        items.append(
            f"<li>What would it take to collect: {H.esc(', '.join(unknown[:8]))}"
            f"{' ...' if len(unknown) > 8 else ''}? Which conclusions would change?</li>"
        )
    items.append(
        "<li>Which findings rest on secondary or unverified sources, and does that change the "
        "plan?</li>"
    )
    points = "".join(
        f"<li>{H.esc(p.text)} {H.cite_html(p.sources)}</li>"
        for p in (record.teaching.teaching_points if record.teaching else ())
    )
    out = f"<ol>{''.join(items)}</ol>"
    if points:
        out += f"<h3>Teaching points</h3><ul>{points}</ul>"
    return out


def bibliography_html(assessment: Assessment) -> str:
    """Every source the assessment cites, with its verification status."""
    return H.sources_html([{"id": k, **v} for k, v in assessment.sources.items()])


def footer_html(assessment: Assessment) -> str:
    """Report footer: the caveat, the knowledge-base version and the definition used."""
    return (
        f"<hr>{H.CAVEAT_HTML}<p style='font-size:85%;color:#555'>kdsupport "
        f"{H.esc(assessment.kdsupport_version)}"
        f", knowledge base {H.esc(assessment.kb_version)}, TRD definition "
        f"{H.esc(definition_label(assessment.trd.definition))}. Synthetic patient.</p>"
    )


_CSS = """
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;max-width:72em;
margin:1.5em auto;padding:0 1em;line-height:1.45;color:#222}
h1{font-size:1.6em;border-bottom:2px solid #444}
h2{font-size:1.3em;margin-top:1.6em;border-bottom:1px solid #ccc}
table{margin:.5em 0}td,th{padding:2px 6px;vertical-align:top}img{max-width:100%}
@media print{h2{page-break-before:auto}img{page-break-inside:avoid}}
"""


def notebook_to_report_html(nb: Any, *, title: str) -> str:
    """An executed notebook as a self-contained HTML page without code or scripts."""
    from nbconvert.filters.markdown_mistune import markdown2html_mistune

    parts = []
    for cell in nb.cells:
        if "parameters" in cell.metadata.get(
            "tags", []
        ) or "injected-parameters" in cell.metadata.get("tags", []):
            continue
        if cell.cell_type == "markdown":
            parts.append(markdown2html_mistune(cell.source))
            continue
        if cell.cell_type != "code":
            continue
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            if "text/html" in data:
                parts.append("".join(data["text/html"]))
            elif "image/png" in data:
                parts.append(f'<img src="data:image/png;base64,{data["image/png"]}" alt="figure">')
            elif out.get("output_type") == "stream":
                parts.append(f"<pre>{H.esc(''.join(out.get('text', '')))}</pre>")
            elif "text/plain" in data:
                parts.append(f"<pre>{H.esc(''.join(data['text/plain']))}</pre>")
    body = re.sub(r"<a class=.anchor-link.[^>]*>[^<]*</a>", "", "\n".join(parts))
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    page = (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, "
        f"initial-scale=1'><title>{H.esc(title)}</title>"
        f"<meta name='generator' content='kdsupport'><style>{_CSS}</style></head><body>"
        f"{body}<p style='font-size:80%;color:#777'>Generated {stamp}.</p></body></html>\n"
    )
    return require_inert_html(page, what="conference report")


def render_conference(
    case_id: str,
    out: str | Path | None = None,
    *,
    data_dir: str | Path | None = None,
    definition: str | None = None,
    progress: bool = True,
) -> Path:
    """Execute the conference notebook for a case and write the HTML report; return its path.

    Raises
    ------
    InvalidInputError
        For an unknown case id (listing the available ones) or an unusable output path.
    """
    import nbformat
    import papermill as pm

    from kdsupport.records.bundled import data_dir as resolve_data_dir
    from kdsupport.records.bundled import load_case_by_id
    from kdsupport.server.kernels import IPCKernelManager

    record = load_case_by_id(case_id, data_dir)  # fails early, listing the available ids
    target = check_writable_target(Path(out) if out else Path(f"conference-{case_id}.html"))
    # absolute: the notebook runs in its own folder, not the caller's working folder
    params = {"case_id": case_id, "data_dir": str(resolve_data_dir(data_dir).absolute())}
    if definition:
        params["definition"] = definition
    nb_path = notebook_path()
    with tempfile.TemporaryDirectory(prefix="kdsupport-conference-") as tmp:
        executed = Path(tmp) / "executed.ipynb"
        try:
            pm.execute_notebook(
                str(nb_path),
                str(executed),
                parameters=params,
                cwd=str(nb_path.parent),
                kernel_name="python3",
                progress_bar=progress,
                log_output=False,
                kernel_manager_class=IPCKernelManager,
            )
        except pm.PapermillExecutionError as exc:
            raise ConferenceError(
                case_id, section_of_cell(nbformat.read(nb_path, as_version=4), exc), exc
            ) from None
        nb = nbformat.read(executed, as_version=4)
    html = notebook_to_report_html(nb, title=f"Case conference: {record.title or case_id}")
    write_atomically(target, html)  # never a half-written report, never litter
    return target


class ConferenceError(KdsupportError):
    """A section of the conference notebook failed; one line names the section and the error."""

    def __init__(self, case_id: str, section: str, cause: Any):
        self.case_id = case_id
        self.section = section
        self.error = f"{getattr(cause, 'ename', type(cause).__name__)}: " + one_line(
            getattr(cause, "evalue", str(cause)), max_chars=160
        )
        super().__init__(case_id, section, self.error)

    def __str__(self) -> str:
        return (
            f"conference for {self.case_id}: the section '{self.section}' failed ({self.error}); "
            "no report was written"
        )


def section_of_cell(nb: Any, exc: Any) -> str:
    """The heading above the failing cell of the conference notebook."""
    index = getattr(exc, "cell_index", None)
    heading = "set-up"
    for i, cell in enumerate(nb.cells):
        if index is not None and i > index:
            break
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("#"):
                    heading = line.lstrip("#").strip()
    return heading
