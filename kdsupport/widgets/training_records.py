"""Training records on the instructor dashboard (notebook 08): see, sign off, export.

Pick a trainee from the attempt log, read their training record
(:mod:`kdsupport.training.records`, shown as :mod:`kdsupport.render.training_record` prints it),
sign off a module, a case or the whole course, and export the record as a printable HTML page
or CSV, or everyone's records as one CSV. Wiring only.

The instructor's name on a sign-off is typed in a box for now; ``signed_by`` fixes it (under
JupyterHub, the hub user's name) and the box is not shown. Exports go to a new, time-stamped
file in the server's export folder (``$KDSUPPORT_EXPORT_DIR`` or ``var/exports``), chosen by
whoever started the server, and are offered as a download; nothing on the page chooses a path,
and no file name holds a trainee id. The page says, first, that a training record is not a
REMS certification.

For training with synthetic patients; not a medical device.
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import TYPE_CHECKING, Any

import ipywidgets as W

from kdsupport.errors import InvalidInputError, KdsupportError
from kdsupport.render import html as H
from kdsupport.render.training_record import (
    NOT_REMS,
    training_record_css,
    training_record_section_html,
)

if TYPE_CHECKING:
    from kdsupport.training.attempts import AttemptStore
    from kdsupport.training.records import Syllabus, TrainingRecord

__all__ = ["TrainingRecords", "build_training_records"]

LABEL = {"description_width": "initial"}
_WIDE = W.Layout(width="auto", max_width="100%")


def _alert(text: str) -> str:
    return (
        '<div role="alert" style="border:2px solid #9e0b12;border-radius:6px;padding:6px 10px;'
        f'margin:6px 0;color:#1a1a1a;background:#fdeaea"><b>&#9888;</b> {H.esc(text)}</div>'
    )


def _status(html: str) -> str:
    return f'<div role="status" aria-live="polite">{html}</div>'


class TrainingRecords(W.VBox):
    """The training-records panel (see :func:`build_training_records`)."""

    def __init__(
        self,
        *,
        store: AttemptStore,
        syllabus: Syllabus,
        export_dir: Path,
        signed_by: str | None,
    ):
        self.store = store
        self.syllabus = syllabus
        self.export_dir = export_dir
        self.fixed_signer = signed_by.strip() if signed_by and signed_by.strip() else None
        intro = W.HTML(
            "<h2>Training records</h2>"
            '<div role="note" style="border:3px solid #1a1a1a;padding:6px 10px;margin:6px 0;'
            f'color:#1a1a1a;background:#fff3dc"><b>Not a REMS certification.</b> '
            f"{H.esc(NOT_REMS)}</div>"
            "<p>Choose a trainee to see their record: each module and case with the first-attempt "
            "score, the date completed and the knowledge-base version. Sign off a module, a case "
            "or the whole course, and export the record for the staff file.</p>"
        )
        self.trainee = W.Dropdown(
            description="Trainee", style=LABEL, layout=W.Layout(width="28em", max_width="100%")
        )
        self.refresh_button = W.Button(
            description="Refresh", tooltip="Read the attempt log again (trainees and records)"
        )
        self.record_view = W.HTML()
        self.scope = W.Dropdown(
            options=[(label, scope) for scope, label in syllabus.scopes()],
            description="Sign off",
            style=LABEL,
            layout=_WIDE,
        )
        self.signer = W.Text(
            description="Your name (instructor)",
            placeholder="as it should appear on the record",
            style=LABEL,
            layout=_WIDE,
        )
        self.signer_row: W.Widget = self.signer
        if self.fixed_signer is not None:
            self.signer.value = self.fixed_signer
            self.signer_row = W.HTML(f"<p>Signing as <b>{H.esc(self.fixed_signer)}</b>.</p>")
        self.note = W.Textarea(
            description="Note (optional)",
            placeholder="e.g. observed a session day in person",
            style=LABEL,
            layout=W.Layout(width="auto", max_width="100%", min_height="4em"),
        )
        self.sign_button = W.Button(
            description="Sign off",
            button_style="primary",
            tooltip="Record your sign-off of the chosen part for this trainee (never undone)",
        )
        self.sign_status = W.HTML()
        self.export_html_button = W.Button(
            description="Export record (HTML)",
            tooltip="Write this trainee's printable record to a new file in the export folder",
            layout=W.Layout(width="auto"),
        )
        self.export_csv_button = W.Button(
            description="Export record (CSV)",
            tooltip="Write this trainee's record as CSV to a new file in the export folder",
            layout=W.Layout(width="auto"),
        )
        self.export_all_button = W.Button(
            description="Export everyone (CSV)",
            tooltip="Write every trainee's record as one CSV file in the export folder",
            layout=W.Layout(width="auto"),
        )
        self.export_status = W.HTML()
        where = W.HTML(
            f"<p>Exports are written to the server's export folder <code>{H.esc(export_dir)}"
            "</code> and offered as a download.</p>"
        )
        self.refresh_button.on_click(lambda _: self.refresh())
        self._quiet = False
        self.trainee.observe(lambda _: None if self._quiet else self.show(), names="value")
        self.sign_button.on_click(lambda _: self.sign())
        self.export_html_button.on_click(lambda _: self.export("html"))
        self.export_csv_button.on_click(lambda _: self.export("csv"))
        self.export_all_button.on_click(lambda _: self.export("all"))
        sign_box = W.VBox(
            [
                W.HTML("<h3>Sign off</h3>"),
                self.scope,
                self.signer_row,
                self.note,
                W.HBox([self.sign_button]),
                self.sign_status,
            ]
        )
        exports = W.VBox(
            [
                W.HTML("<h3>Export</h3>"),
                where,
                W.HBox(
                    [self.export_html_button, self.export_csv_button, self.export_all_button],
                    layout=W.Layout(flex_flow="row wrap"),
                ),
                self.export_status,
            ]
        )
        super().__init__(
            [
                intro,
                W.HBox([self.trainee, self.refresh_button]),
                sign_box,
                exports,
                self.record_view,
            ]
        )
        self.add_class("kd-training-records")
        self.refresh()

    # ------------------------------------------------------------------ reading
    def refresh(self) -> None:
        """Read the trainees again, keep the one chosen if still there, and show the record."""
        try:
            ids = self.store.trainee_ids()
        except KdsupportError as exc:
            self.record_view.value = _alert(f"The attempt log could not be read: {exc}")
            return
        current = self.trainee.value
        self._quiet = True  # changing the options would show a record for each step
        try:
            self.trainee.options = ids
            self.trainee.value = current if current in ids else (ids[0] if ids else None)
        finally:
            self._quiet = False
        self.show()

    def record(self) -> TrainingRecord | None:
        """The chosen trainee's record, read now (None when no trainee is chosen)."""
        from kdsupport.training.records import record_from_store

        if not self.trainee.value:
            return None
        return record_from_store(self.store, self.trainee.value, self.syllabus)

    def show(self) -> None:
        """Show the chosen trainee's record."""
        if not self.trainee.value:
            self.record_view.value = "<p>No trainee in the attempt log yet.</p>"
            return
        try:
            record = self.record()
        except KdsupportError as exc:
            self.record_view.value = _alert(f"The attempt log could not be read: {exc}")
            return
        assert record is not None
        self.record_view.value = (
            f"<style>{training_record_css()}</style>"
            + training_record_section_html(record, level=3)
        )

    # ------------------------------------------------------------------ signing off
    def sign(self) -> None:
        """Record the instructor's sign-off of the chosen scope for the chosen trainee."""
        trainee = self.trainee.value
        if not trainee:
            self.sign_status.value = _alert("Choose a trainee first. Nothing was signed off.")
            return
        name = self.fixed_signer or self.signer.value
        scope = self.scope.value
        if not name.strip():
            self.sign_status.value = _alert(
                "Type your name in the box 'Your name (instructor)' first. Nothing was signed off."
            )
            return
        self.sign_button.disabled = True
        try:
            s = self.store.sign_off(trainee, scope, name, note=self.note.value)
        except InvalidInputError as exc:
            problems = "; ".join(str(p) for p in exc.problems)
            self.sign_status.value = _alert(f"Nothing was signed off: {problems}.")
            return
        except KdsupportError as exc:
            self.sign_status.value = _alert(f"The sign-off was NOT recorded: {exc}")
            return
        finally:
            self.sign_button.disabled = False
        self.note.value = ""
        self.show()
        label = self.syllabus.scope_label(scope) or scope
        self.sign_status.value = _status(
            f"<p>Signed off <b>{H.esc(label)}</b> for trainee <b>{H.esc(trainee)}</b> as "
            f"<b>{H.esc(s.signed_by)}</b> at {H.esc(s.signed_at)}.{self._unfinished(scope)}</p>"
        )

    def _unfinished(self, scope: str) -> str:
        """A sentence when the part signed off is not completed in the attempt log."""
        from kdsupport.training.records import WHOLE_COURSE

        record = self.record()
        if record is None:
            return ""
        if scope == WHOLE_COURSE:
            done, what = record.completed, "the course"
        else:
            found = [(m.completed, m.title) for m in record.modules if m.module_id == scope]
            found += [
                (c.completed, c.case_id)
                for m in record.modules
                for c in m.cases
                if c.case_id == scope
            ]
            if not found or found[0][0] is None:
                return ""
            done, what = bool(found[0][0]), found[0][1]
        if done:
            return ""
        return (
            f" Note: {H.esc(what)} is not completed in the attempt log; the record shows "
            "your sign-off beside what was done."
        )

    # ------------------------------------------------------------------ exporting
    def export(self, kind: str) -> Path | None:
        """Write ``html`` or ``csv`` (this trainee) or ``all`` (everyone, CSV); the file."""
        from kdsupport.files.safe_write import write_atomically
        from kdsupport.render.training_record import training_record_html
        from kdsupport.training.records import (
            new_export_path,
            records_csv_text,
            records_from_store,
        )

        try:
            if kind == "all":
                records = records_from_store(self.store, self.syllabus)
                if not records:
                    self.export_status.value = _alert("No trainee in the attempt log yet.")
                    return None
                out = new_export_path(self.export_dir, "training-records-all", ".csv")
                text, mime = records_csv_text(records), "text/csv"
                what = f"{len(records)} trainees' records"
            else:
                record = self.record()
                if record is None:
                    self.export_status.value = _alert("Choose a trainee first.")
                    return None
                out = new_export_path(self.export_dir, "training-record", f".{kind}")
                if kind == "html":
                    text, mime = training_record_html(record), "text/html"
                else:
                    text, mime = records_csv_text([record]), "text/csv"
                what = f"the record of {record.trainee_id}"
            write_atomically(out, text, option="export")
        except KdsupportError as exc:
            self.export_status.value = _alert(f"The export was not written: {exc}")
            return None
        data = base64.b64encode(out.read_bytes()).decode("ascii")
        self.export_status.value = _status(
            f"<p>Exported {H.esc(what)} to <code>{H.esc(out)}</code>. "
            f"<a download='{H.esc(out.name)}' href='data:{mime};charset=utf-8;base64,{data}'>"
            f"Download {H.esc(out.name)}</a></p>"
        )
        return out


def build_training_records(
    *,
    store: Any = "default",
    export_dir: Any = "default",
    data_dir: Any = None,
    signed_by: str | None = None,
) -> TrainingRecords:
    """The training-records panel of the instructor dashboard.

    ``store``: an attempt store, a path or URL, or ``"default"``; ``export_dir``: the server's
    export folder (``"default"``: ``$KDSUPPORT_EXPORT_DIR`` or ``var/exports``); ``data_dir``:
    where the curated cases are (default: the bundled ones); ``signed_by``: the instructor's
    name, fixed (e.g. the hub user), or None for a box to type it in.
    """
    from kdsupport.training.attempts import default_export_dir, open_store
    from kdsupport.widgets.course_syllabus import course_syllabus

    if isinstance(store, str | Path):
        store = open_store(None if store == "default" else store)
    folder = Path(default_export_dir() if export_dir == "default" else export_dir)
    return TrainingRecords(
        store=store, syllabus=course_syllabus(data_dir), export_dir=folder, signed_by=signed_by
    )
