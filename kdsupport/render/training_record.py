"""A trainee's training record as a printable, self-contained HTML page for the staff file.

:func:`training_record_html` writes the page of one
:class:`~kdsupport.training.records.TrainingRecord` (any object of that shape: this layer reads
it through the protocols below). The page:

* says first, in a box of its own, that it is **not a REMS certification** (:data:`NOT_REMS`):
  it is the evidence a clinic keeps that a member of staff was trained on its procedures; the
  SPRAVATO REMS certifies healthcare settings and pharmacies;
* summarises the course (modules completed, the first-attempt score, when answers were given,
  the knowledge-base versions of the answers counted and the one in use now, the kdsupport
  versions), says how it counts (:data:`COUNTING`), then lists each module with a table of its
  cases (questions answered, first-attempt score, completed and when, knowledge-base version,
  sign-off), every sign-off with who signed and when, and lines to sign on paper;
* is self-contained (inline CSS, no script, no image, nothing loaded from the network), prints
  as it shows (print styles: no page-wide widths, table headers repeated, rows kept whole), and
  is accessible: one ``h1``, headings in order, every table with a caption and header cells
  (``scope``), text and background colours of at least 4.5:1 contrast (:data:`COLOURS`, WCAG
  2.1 AA), and words wherever a colour is used;
* escapes everything that was typed (trainee id, instructor's name, notes, case titles): names
  on one line with control characters shown as escapes and isolated (``<bdi>``) against
  right-to-left overrides; notes keep their line breaks. The page is checked to be inert
  (:func:`~kdsupport.render.escaping.require_inert_html`) before it is returned.

:func:`training_record_section_html` is the same record as a fragment for the instructor
dashboard (headings from a given level, styles scoped to ``.kd-training-record``).

For training with synthetic patients; not a medical device.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Protocol

from kdsupport.render.escaping import html_text, one_line, require_inert_html

__all__ = [
    "NOT_REMS",
    "NOT_REMS_SHORT",
    "COUNTING",
    "COLOURS",
    "training_record_css",
    "training_record_section_html",
    "training_record_html",
]

_H6 = 6  # the deepest HTML heading

#: One line for a CSV cell or a status message.
NOT_REMS_SHORT = "Training record; not a REMS certification"

#: The statement the record and the instructor's page make first (REFERENCE.md §3.1, the REMS).
NOT_REMS = (
    "This training record is not a REMS certification. It is the evidence a clinic keeps that a "
    "member of its staff was trained on its procedures, here with synthetic patients in the "
    "kdsupport course. The SPRAVATO REMS certifies healthcare settings and pharmacies; this "
    "record certifies neither, and does not show that a setting or a pharmacy meets the REMS "
    "requirements. A sign-off on it is an instructor's statement about this training only."
)

#: How the record counts, in the words it shows.
COUNTING = (
    "Score: the first answer to each question counts; later answers are practice, logged but "
    "not scored. The score is first answers correct of first answers given (n).",
    "A case is completed when each question of it has been answered at least once (for the "
    "session-day drill, each field of every step of as many of its sessions as it needs). The "
    "date completed is when the last of those first answers was given, in UTC.",
    "The knowledge-base version of a case is that of the first answers that completed it (of "
    "the first answers so far while it is not completed). When they were given under different "
    "versions, every version is listed and the record says they differ.",
    "A module is completed when all its cases are. A page that logs no answers has nothing to "
    "complete: only an instructor's sign-off records it.",
)

#: Text and background colour of each style; every pair has at least 4.5:1 contrast (WCAG 2.1
#: AA; tests/test_training_records.py computes it). Colour only repeats the words.
COLOURS = {
    "text": ("#1a1a1a", "#ffffff"),
    "muted": ("#4d4d4d", "#ffffff"),
    "head": ("#1a1a1a", "#e8e8e8"),
    "notice": ("#1a1a1a", "#fff3dc"),
    "done": ("#0b5d1e", "#e7f4ea"),
    "warn": ("#9e0b12", "#fdeaea"),
}


# ---------------------------------------------------------------- the shape of a record
class SignOffLike(Protocol):
    """An instructor's sign-off (:class:`kdsupport.training.store_base.SignOff`)."""

    @property
    def scope(self) -> str: ...
    @property
    def signed_by(self) -> str: ...
    @property
    def signed_at(self) -> str: ...
    @property
    def note(self) -> str: ...


class ScoreLike(Protocol):
    """First answers counted (:class:`kdsupport.training.scoring.Score`)."""

    @property
    def answered(self) -> int: ...
    @property
    def correct(self) -> int: ...
    @property
    def percent(self) -> float | None: ...


class CaseLike(Protocol):
    """A case's record (:class:`kdsupport.training.records.CaseResult`)."""

    @property
    def case_id(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def questions_answered(self) -> int: ...
    @property
    def questions_total(self) -> int: ...
    @property
    def score(self) -> ScoreLike: ...
    @property
    def completed(self) -> bool: ...
    @property
    def completed_at(self) -> str | None: ...
    @property
    def kb_versions(self) -> Sequence[str]: ...
    @property
    def parts_done(self) -> int: ...
    @property
    def parts_total(self) -> int: ...
    @property
    def parts_needed(self) -> int: ...
    @property
    def part_name(self) -> str: ...
    @property
    def unlisted_answers(self) -> int: ...
    @property
    def sign_offs(self) -> Sequence[SignOffLike]: ...
    @property
    def status(self) -> str: ...


class ModuleLike(Protocol):
    """A module's record (:class:`kdsupport.training.records.ModuleResult`)."""

    @property
    def module_id(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def counts(self) -> str: ...
    @property
    def cases(self) -> Sequence[CaseLike]: ...
    @property
    def score(self) -> ScoreLike: ...
    @property
    def cases_completed(self) -> int: ...
    @property
    def completed(self) -> bool | None: ...
    @property
    def completed_at(self) -> str | None: ...
    @property
    def kb_versions(self) -> Sequence[str]: ...
    @property
    def sign_offs(self) -> Sequence[SignOffLike]: ...


class RecordLike(Protocol):
    """A trainee's record (:class:`kdsupport.training.records.TrainingRecord`)."""

    @property
    def trainee_id(self) -> str: ...
    @property
    def modules(self) -> Sequence[ModuleLike]: ...
    @property
    def unlisted(self) -> Sequence[CaseLike]: ...
    @property
    def score(self) -> ScoreLike: ...
    @property
    def modules_completed(self) -> int: ...
    @property
    def modules_graded(self) -> int: ...
    @property
    def completed(self) -> bool: ...
    @property
    def completed_at(self) -> str | None: ...
    @property
    def kb_versions(self) -> Sequence[str]: ...
    @property
    def recorded_by_versions(self) -> Sequence[str]: ...
    @property
    def course_sign_offs(self) -> Sequence[SignOffLike]: ...
    @property
    def other_sign_offs(self) -> Sequence[SignOffLike]: ...
    @property
    def sign_offs(self) -> Sequence[SignOffLike]: ...
    @property
    def n_answers(self) -> int: ...
    @property
    def first_answer_at(self) -> str | None: ...
    @property
    def last_answer_at(self) -> str | None: ...
    @property
    def generated_at(self) -> str: ...
    @property
    def kdsupport_version(self) -> str: ...
    @property
    def kb_version(self) -> str: ...


# ---------------------------------------------------------------- text
def _t(value: object) -> str:
    """Typed text on one line (controls shown as escapes), HTML-escaped."""
    return html_text(one_line(value))


def _name(value: object) -> str:
    """A name or id: one line, escaped, isolated from the text around it (``<bdi>``)."""
    return f"<bdi>{_t(value)}</bdi>"


def _note(value: str) -> str:
    """A note as it was typed: its lines kept, each escaped (controls shown as escapes)."""
    lines = value.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return "<br>".join(_t(line) for line in lines)


def _when(value: str | None) -> str:
    """An ISO time as ``2026-03-04 10:05 UTC``; text that is not a time is shown escaped."""
    if not value:
        return ""
    try:
        t = dt.datetime.fromisoformat(value)
    except ValueError:
        return _t(value)
    if t.tzinfo is None:
        return _t(value)
    return html_text(t.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"))


def _score(s: ScoreLike) -> str:
    if not s.answered:
        return "no answers yet"
    return f"{s.correct} of {s.answered} correct ({s.percent:g} %), n = {s.answered}"


def _versions(versions: Sequence[str]) -> str:
    if not versions:
        return '<span class="muted">none yet</span>'
    shown = ", ".join(_name(v) for v in versions)
    if len(versions) == 1:
        return shown
    return f'{shown} <span class="warn">(differ: answers under {len(versions)} versions)</span>'


def _signed(sign_offs: Sequence[SignOffLike]) -> str:
    if not sign_offs:
        return '<span class="muted">not signed off</span>'
    return "<br>".join(
        f'<span class="done">signed off</span> by {_name(s.signed_by)}, {_when(s.signed_at)}'
        for s in sign_offs
    )


# ---------------------------------------------------------------- parts of the page
def training_record_css() -> str:
    """The record's styles, every rule under ``.kd-training-record`` (page body or fragment)."""
    c = {k: f"color:{fg};background:{bg}" for k, (fg, bg) in COLOURS.items()}
    rules = [
        (
            "",
            f"font-family:system-ui,sans-serif;{c['text']};line-height:1.45;max-width:66em",
        ),
        (" h1", "font-size:1.45em;margin:.2em 0"),
        (" h2", "font-size:1.2em;border-bottom:2px solid #595959;margin-top:1.4em"),
        (" h3", "font-size:1.05em;margin:1.2em 0 .3em"),
        (" h4,.kd-training-record h5", "font-size:1em;margin:1em 0 .3em"),
        (" table", "border-collapse:collapse;width:100%;margin:0 0 .6em"),
        (" caption", "text-align:left;font-weight:700;padding:.2em 0"),
        (
            " th,.kd-training-record td",
            "border:1px solid #767676;padding:4px 6px;vertical-align:top;text-align:left;"
            "overflow-wrap:break-word",
        ),
        (" .sign-here th", "width:12em"),
        (" thead th", c["head"]),
        (" .muted", c["muted"]),
        (" .done", f"{c['done']};font-weight:700;padding:0 3px"),
        (" .warn", f"{c['warn']};font-weight:700;padding:0 3px"),
        (
            " .not-rems",
            f"{c['notice']};border:3px solid #1a1a1a;padding:8px 12px;margin:.8em 0",
        ),
        (" .not-rems p", "margin:.2em 0"),
        (" table.summary th", "width:30%"),
        (" .wide", "overflow-x:auto"),
        (" .sign-here td", "height:2.4em"),
        (" footer", f"{c['muted']};font-size:.9em;margin-top:2em"),
    ]
    css = "".join(f".kd-training-record{sel}{{{decl}}}" for sel, decl in rules)
    return (
        css + "@media print{.kd-training-record{max-width:none;margin:0;font-size:10pt}"
        ".kd-training-record .wide{overflow:visible}"
        ".kd-training-record thead{display:table-header-group}"
        ".kd-training-record tr,.kd-training-record .not-rems{break-inside:avoid}"
        ".kd-training-record h2,.kd-training-record h3{break-after:avoid}"
        ".kd-training-record *{print-color-adjust:exact;-webkit-print-color-adjust:exact}}"
    )


def _summary(r: RecordLike, h: int) -> str:
    if r.completed:
        course = f'<span class="done">completed</span> on {_when(r.completed_at)}'
    else:
        course = (
            f"not completed: {r.modules_completed} of {r.modules_graded} modules that log "
            "answers completed"
        )
    answered = (
        f"{r.n_answers} answers logged, practice answers included"
        + (
            f", from {_when(r.first_answer_at)} to {_when(r.last_answer_at)}"
            if r.first_answer_at
            else ""
        )
        if r.n_answers
        else "none logged"
    )
    rows = [
        ("Trainee", _name(r.trainee_id)),
        ("Course", course),
        ("First-attempt score, whole course", _score(r.score)),
        ("Answers", answered),
        ("Knowledge-base version of the answers counted", _versions(r.kb_versions)),
        ("Knowledge-base version in use for this record", _name(r.kb_version)),
        (
            "kdsupport version that recorded the answers",
            ", ".join(_name(v) for v in r.recorded_by_versions) or "none",
        ),
        (
            "kdsupport version that made this record",
            f"{_name(r.kdsupport_version)}, {_when(r.generated_at)}",
        ),
        ("Whole-course sign-off", _signed(r.course_sign_offs)),
    ]
    items = "".join(f'<tr><th scope="row">{k}</th><td>{v}</td></tr>' for k, v in rows)
    return (
        f'<section aria-labelledby="kd-tr-summary"><h{h} id="kd-tr-summary">Summary</h{h}>'
        '<div class="wide" role="region" tabindex="0" aria-label="Summary">'
        f'<table class="summary"><caption>The course, trainee {_name(r.trainee_id)}</caption>'
        f"<tbody>{items}</tbody></table></div></section>"
    )


def _counting(r: RecordLike, h: int) -> str:
    pages = "".join(f"<li><b>{_t(m.title)}</b>: {_t(m.counts)}</li>" for m in r.modules if m.cases)
    silent = [m.title for m in r.modules if not m.cases]
    if silent:
        pages += (
            f"<li><b>{', '.join(_t(t) for t in silent)}</b>: these pages log no answers; only "
            "an instructor's sign-off records them.</li>"
        )
    rules = "".join(f"<li>{html_text(text)}</li>" for text in COUNTING)
    return (
        f'<section aria-labelledby="kd-tr-counting"><h{h} id="kd-tr-counting">How this record '
        f"counts</h{h}><ul>{rules}</ul><p>Page by page:</p><ul>{pages}</ul></section>"
    )


def _completed_cell(c: CaseLike) -> str:
    parts = ""
    if c.part_name and c.parts_total:
        parts = (
            f" ({c.parts_done} of {c.parts_total} {html_text(c.part_name)}s worked through; "
            f"{c.parts_needed} needed)"
        )
    if c.completed:
        return f'<span class="done">yes</span>{parts}'
    return f"no, {html_text(c.status)}{parts}"


def _cases_table(trainee: str, title: str, cases: Sequence[CaseLike], caption: str) -> str:
    head = "".join(
        f'<th scope="col">{h}</th>'
        for h in (
            "Case",
            "Title",
            "Questions answered",
            "First-attempt score",
            "Completed",
            "Date completed",
            "Knowledge-base version",
            "Sign-off",
        )
    )
    rows = []
    for c in cases:
        answered = f"{c.questions_answered} of {c.questions_total}"
        if c.unlisted_answers:
            answered += (
                f'<br><span class="muted">and {c.unlisted_answers} question(s) the case no '
                "longer asks (in the score)</span>"
            )
        rows.append(
            f'<tr><th scope="row">{_name(c.case_id)}</th><td>{_t(c.title)}</td>'
            f"<td>{answered}</td><td>{_score(c.score)}</td><td>{_completed_cell(c)}</td>"
            f"<td>{_when(c.completed_at) or '&mdash;'}</td><td>{_versions(c.kb_versions)}</td>"
            f"<td>{_signed(c.sign_offs)}</td></tr>"
        )
    return (
        f'<div class="wide" role="region" tabindex="0" aria-label="{html_text(caption)}">'
        f"<table><caption>{_caption(trainee, title, caption)}</caption><thead><tr>{head}"
        f"</tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
    )


def _caption(trainee: str, title: str, what: str) -> str:
    """A table caption naming the trainee, so that every printed page says whose it is."""
    return f"{html_text(what)}: {_t(title)}, trainee {_name(trainee)}"


def _module(r: RecordLike, n: int, m: ModuleLike, h: int) -> str:
    if m.completed is None:
        status = "This page logs no answers: only an instructor's sign-off records it."
    elif m.completed:
        status = (
            f'<span class="done">Completed</span> on {_when(m.completed_at)}: all '
            f"{len(m.cases)} case(s). First-attempt score: {_score(m.score)}."
        )
    else:
        status = (
            f"Not completed: {m.cases_completed} of {len(m.cases)} case(s) completed. "
            f"First-attempt score: {_score(m.score)}."
        )
    table = _cases_table(r.trainee_id, m.title, m.cases, "Cases") if m.cases else ""
    versions = f"<p>Knowledge-base version: {_versions(m.kb_versions)}</p>" if m.cases else ""
    return (
        f'<section aria-labelledby="kd-tr-m{n}"><h{h} id="kd-tr-m{n}">{_t(m.title)} '
        f'<span class="muted">({_name(m.module_id)})</span></h{h}><p>{status}</p>{versions}'
        f"<p>Module sign-off: {_signed(m.sign_offs)}</p>{table}</section>"
    )


def _sign_offs(r: RecordLike, h: int) -> str:
    titles = {m.module_id: f"module {m.title}" for m in r.modules}
    titles |= {c.case_id: f"case {c.title}" for m in r.modules for c in m.cases}
    others = {id(s) for s in r.other_sign_offs}
    if not r.sign_offs:
        body = "<p>No sign-off yet.</p>"
    else:
        rows = []
        for s in r.sign_offs:
            if s.scope == "whole course":
                covers = "the whole course"
            elif id(s) in others:
                covers = '<span class="warn">not a module or case of this course</span>'
            else:
                covers = _t(titles.get(s.scope, ""))
            rows.append(
                f'<tr><th scope="row">{_name(s.scope)}</th><td>{covers}</td>'
                f"<td>{_name(s.signed_by)}</td><td>{_when(s.signed_at)}</td>"
                f"<td>{_note(s.note) if s.note else '&mdash;'}</td></tr>"
            )
        head = "".join(
            f'<th scope="col">{x}</th>'
            for x in ("Scope", "What it covers", "Signed off by", "Signed at", "Note")
        )
        body = (
            '<div class="wide" role="region" tabindex="0" aria-label="Sign-offs">'
            f"<table><caption>Sign-offs, trainee {_name(r.trainee_id)}</caption>"
            f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
        )
    return (
        f'<section aria-labelledby="kd-tr-signoffs"><h{h} id="kd-tr-signoffs">Sign-offs</h{h}>'
        "<p>Each sign-off is an instructor's statement, recorded with their name and the time; "
        f"a sign-off is only ever added, never changed.</p>{body}</section>"
    )


def _for_the_file(h: int) -> str:
    cells = "".join(
        f'<tr class="sign-here"><th scope="row">{x}</th><td></td></tr>'
        for x in ("Filed by (name)", "Signature", "Date")
    )
    return (
        f'<section aria-labelledby="kd-tr-file"><h{h} id="kd-tr-file">For the staff file</h{h}>'
        "<table><caption>Signed on paper when filed</caption><tbody>"
        f"{cells}</tbody></table></section>"
    )


def training_record_section_html(
    record: RecordLike, *, level: int = 1, for_paper: bool = False
) -> str:
    """The record as HTML inside ``<div class="kd-training-record">``, headings from ``level``.

    ``for_paper`` adds lines to sign when the printed record is filed. The styles
    (:func:`training_record_css`) are the caller's to include.
    """
    h1, h2, h3 = level, min(level + 1, _H6), min(level + 2, _H6)
    r = record
    unlisted = ""
    if r.unlisted:
        unlisted = (
            f'<section aria-labelledby="kd-tr-unlisted"><h{h2} id="kd-tr-unlisted">Answers under '
            f"case ids the course does not list</h{h2}><p>Logged answers under case ids that "
            "are not in the course now (a case removed or renamed); kept here, not counted in "
            "the course.</p>"
            + _cases_table(r.trainee_id, "not in the course", r.unlisted, "Other case ids")
            + "</section>"
        )
    modules = "".join(_module(r, n, m, h3) for n, m in enumerate(r.modules, start=1))
    return (
        f'<div class="kd-training-record"><header><h{h1}>Training record: {_name(r.trainee_id)}'
        f'</h{h1}><p class="muted">The kdsupport course on ketamine and esketamine treatment, '
        f"made {_when(r.generated_at)} from the attempt log.</p>"
        f'<div class="not-rems" role="note"><p><strong>Not a REMS certification.</strong></p>'
        f"<p>{html_text(NOT_REMS)}</p></div></header>"
        f"<main>{_summary(r, h2)}{_counting(r, h2)}"
        f'<section aria-labelledby="kd-tr-modules"><h{h2} id="kd-tr-modules">Modules</h{h2}>'
        f"{modules}</section>{unlisted}{_sign_offs(r, h2)}"
        f"{_for_the_file(h2) if for_paper else ''}</main>"
        f"<footer><p>{html_text(NOT_REMS_SHORT)}. kdsupport {_name(r.kdsupport_version)}, "
        f"knowledge base {_name(r.kb_version)}. For training with synthetic patients; not a "
        "medical device and not clinical advice.</p></footer></div>"
    )


def training_record_html(record: RecordLike) -> str:
    """The record as a printable, self-contained HTML page.

    Raises
    ------
    kdsupport.render.escaping.UnsafeOutputError
        If the page would contain active markup (it never should: every text is escaped).
    """
    page = (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>Training record of {_t(record.trainee_id)} (not a REMS certification)</title>"
        f"<style>body{{margin:1em auto;padding:0 1em;max-width:66em}}{training_record_css()}"
        "</style></head>"
        f"<body>{training_record_section_html(record, level=1, for_paper=True)}</body></html>\n"
    )
    return require_inert_html(page, what="training record")
