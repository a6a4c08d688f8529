"""Training records: per trainee, each module and case of the course, for the staff file.

A training record is computed from the attempt log (:mod:`kdsupport.training.attempts`) and a
:class:`Syllabus`, the course's modules (its notebooks) and, for each page that logs answers,
its cases and their questions (built by :func:`kdsupport.widgets.course_syllabus.course_syllabus`,
which knows the pages). For each case it gives:

* **questions answered / total**: the questions of the case answered at least once;
* **the first-attempt score**: the first answer to each question counts, as everywhere in the
  app (:mod:`kdsupport.training.scoring`): correct of answered, and ``n``, how many first
  answers were counted (questions the case no longer asks included, and said);
* **completed, and when**: a case is completed when each question of a part of it has been
  answered at least once, for as many parts as the case needs (a curated case and the claims
  quiz are one part: every question; a session-day drill case needs one of its sessions worked
  through, every field of every step). The date completed is when the last first answer that
  was needed was given (UTC, as recorded);
* **the knowledge-base version(s)**: the ``kb_version`` of the first answers that completed the
  case (of the first answers so far while it is not completed), oldest first; when they differ,
  all are listed and :attr:`CaseResult.mixed_kb` says so;
* **sign-offs**: an instructor's sign-off (:class:`~kdsupport.training.store_base.SignOff`) of a
  case, a module or ``whole course``.

A module is completed when all its cases are; a page that logs no answers has nothing to
complete, and only a sign-off records it. Answers logged under a case id that the course does
not list (a case since removed) are kept apart in :attr:`TrainingRecord.unlisted`, never hidden.

Exports: :func:`records_csv_text` (one row per trainee, module and case, spreadsheet-safe) and
the printable HTML record of :mod:`kdsupport.render.training_record`; :func:`new_export_path`
names a new file in the server's export folder. A training record is **not a REMS
certification** (:data:`kdsupport.render.training_record.NOT_REMS`).

For training with synthetic patients; not a medical device.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from kdsupport._version import __version__
from kdsupport.render.escaping import spreadsheet_cell
from kdsupport.render.training_record import NOT_REMS_SHORT
from kdsupport.training.scoring import Score, first_answers
from kdsupport.training.store_base import Attempt, AttemptStore, SignOff

__all__ = [
    "WHOLE_COURSE",
    "NOT_IN_COURSE",
    "CSV_COLUMNS",
    "Part",
    "CaseSpec",
    "ModuleSpec",
    "Syllabus",
    "CaseResult",
    "ModuleResult",
    "TrainingRecord",
    "training_record",
    "record_from_store",
    "records_from_store",
    "records_csv_text",
    "new_export_path",
]

#: The sign-off scope of a trainee's whole course.
WHOLE_COURSE = "whole course"
#: The module id of answers logged under case ids the course does not list.
NOT_IN_COURSE = "(not in the course)"


# ---------------------------------------------------------------- what the course asks
@dataclass(frozen=True)
class Part:
    """A part of a case that is worked as a whole (a drill's session; a curated case is one).

    ``questions``: each question as the question ids its answers are logged under (one id, or
    one per dosing table for the session-day drill's dose step: any of them answers it).
    """

    label: str
    questions: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class CaseSpec:
    """A case as the course asks it: its id in the attempt log, its title, its parts."""

    case_id: str
    title: str
    parts: tuple[Part, ...]
    #: How many parts must be answered in full for the case to count as completed.
    parts_needed: int = 1
    #: What a part is called on the record ("session"), or "" for a case of one part.
    part_name: str = ""

    @property
    def n_questions(self) -> int:
        """Every question of every part."""
        return sum(len(p.questions) for p in self.parts)


@dataclass(frozen=True)
class ModuleSpec:
    """A course module (a notebook of the course) and the cases it logs answers under."""

    module_id: str
    title: str
    cases: tuple[CaseSpec, ...]
    #: How completion is counted on this page, in words (shown on the record).
    counts: str

    @property
    def graded(self) -> bool:
        """Whether the page logs answers (else only a sign-off records it)."""
        return bool(self.cases)


@dataclass(frozen=True)
class Syllabus:
    """The course's modules in course order, and the knowledge base they were read with."""

    modules: tuple[ModuleSpec, ...]
    kb_version: str

    def scopes(self) -> list[tuple[str, str]]:
        """Every sign-off scope with a label: the whole course, each module, each case."""
        out = [(WHOLE_COURSE, "Whole course")]
        for m in self.modules:
            out.append((m.module_id, f"Module: {m.title}"))
            out += [(c.case_id, f"{m.title}, case {c.case_id}: {c.title}") for c in m.cases]
        return out

    def scope_label(self, scope: str) -> str | None:
        """The label of a scope the course knows, else None."""
        return dict(self.scopes()).get(scope)


# ---------------------------------------------------------------- what the trainee did
@dataclass(frozen=True)
class CaseResult:
    """One trainee's record on one case."""

    module_id: str
    case_id: str
    title: str
    questions_answered: int
    questions_total: int
    score: Score
    completed: bool
    #: When the last first answer needed for completion was given (as recorded), else None.
    completed_at: str | None
    #: The knowledge-base versions of the first answers that completed the case (of the first
    #: answers so far while it is not completed), oldest first.
    kb_versions: tuple[str, ...]
    parts_done: int
    parts_total: int
    parts_needed: int
    part_name: str
    #: First answers to questions this case does not ask (any more); counted in the score.
    unlisted_answers: int
    sign_offs: tuple[SignOff, ...]

    @property
    def mixed_kb(self) -> bool:
        """Whether the answers counted were given under more than one knowledge-base version."""
        return len(self.kb_versions) > 1

    @property
    def status(self) -> str:
        """``completed``, ``in progress``, ``not started`` or ``not in the course``."""
        if self.module_id == NOT_IN_COURSE:
            return "not in the course"
        if self.completed:
            return "completed"
        return "in progress" if self.score.answered else "not started"


@dataclass(frozen=True)
class ModuleResult:
    """One trainee's record on one module."""

    module_id: str
    title: str
    counts: str
    cases: tuple[CaseResult, ...]
    score: Score
    cases_completed: int
    #: None for a page that logs no answers (nothing to complete).
    completed: bool | None
    completed_at: str | None
    kb_versions: tuple[str, ...]
    sign_offs: tuple[SignOff, ...]

    @property
    def graded(self) -> bool:
        """Whether the page logs answers."""
        return self.completed is not None

    @property
    def mixed_kb(self) -> bool:
        """Whether the module's answers counted span more than one knowledge-base version."""
        return len(self.kb_versions) > 1


@dataclass(frozen=True)
class TrainingRecord:
    """One trainee's training record: the course module by module, and the sign-offs."""

    trainee_id: str
    modules: tuple[ModuleResult, ...]
    #: Cases with answers logged under case ids the course does not list.
    unlisted: tuple[CaseResult, ...]
    score: Score
    modules_completed: int
    modules_graded: int
    completed: bool
    completed_at: str | None
    kb_versions: tuple[str, ...]
    #: The kdsupport versions that recorded the trainee's answers, oldest first.
    recorded_by_versions: tuple[str, ...]
    course_sign_offs: tuple[SignOff, ...]
    #: Sign-offs of scopes the course does not list (kept, and shown apart).
    other_sign_offs: tuple[SignOff, ...]
    #: Every sign-off, in the order it was made.
    sign_offs: tuple[SignOff, ...]
    #: Every answer logged, practice answers included.
    n_answers: int
    first_answer_at: str | None
    last_answer_at: str | None
    generated_at: str
    kdsupport_version: str
    kb_version: str

    @property
    def mixed_kb(self) -> bool:
        """Whether the answers counted span more than one knowledge-base version."""
        return len(self.kb_versions) > 1


# ---------------------------------------------------------------- computing a record
def _versions(answers: Iterable[Attempt]) -> tuple[str, ...]:
    """Distinct knowledge-base versions, in the order of the answers' times (oldest first)."""
    seen: dict[str, str] = {}
    for a in answers:
        if a.kb_version not in seen or a.answered_at < seen[a.kb_version]:
            seen[a.kb_version] = a.answered_at
    return tuple(sorted(seen, key=lambda v: (seen[v], v)))


def _merge_versions(groups: Iterable[tuple[str, ...]]) -> tuple[str, ...]:
    out: list[str] = []
    for g in groups:
        out += [v for v in g if v not in out]
    return tuple(out)


def _case_result(
    module_id: str, spec: CaseSpec, attempts: list[Attempt], sign_offs: tuple[SignOff, ...]
) -> CaseResult:
    """A case's record from the trainee's attempts on it (in log order)."""
    order = {id(a): i for i, a in enumerate(attempts)}
    firsts = {q: a for (_, _, q), a in first_answers(attempts).items()}
    asked = {qid for p in spec.parts for question in p.questions for qid in question}
    answered = 0
    done: list[tuple[str, list[Attempt]]] = []  # (completed at, the first answers needed)
    for part in spec.parts:
        needed: list[Attempt] = []
        for question in part.questions:
            given = [firsts[q] for q in question if q in firsts]
            if given:
                answered += 1
                needed.append(min(given, key=lambda a: (a.answered_at, order[id(a)])))
        if part.questions and len(needed) == len(part.questions):
            done.append((max(a.answered_at for a in needed), needed))
    done.sort(key=lambda d: d[0])
    completed = spec.parts_needed > 0 and len(done) >= spec.parts_needed
    if completed:
        completing = done[: spec.parts_needed]
        completed_at: str | None = completing[-1][0]
        versions = _versions(a for _, needed in completing for a in needed)
    else:
        completed_at = None
        versions = _versions(firsts.values())
    return CaseResult(
        module_id=module_id,
        case_id=spec.case_id,
        title=spec.title,
        questions_answered=answered,
        questions_total=spec.n_questions,
        score=Score(len(firsts), sum(1 for a in firsts.values() if a.correct)),
        completed=completed,
        completed_at=completed_at,
        kb_versions=versions,
        parts_done=len(done),
        parts_total=len(spec.parts),
        parts_needed=spec.parts_needed,
        part_name=spec.part_name,
        unlisted_answers=sum(1 for q in firsts if q not in asked),
        sign_offs=sign_offs,
    )


def _sum(scores: Iterable[Score]) -> Score:
    items = list(scores)
    return Score(sum(s.answered for s in items), sum(s.correct for s in items))


def _latest(times: Iterable[str | None]) -> str | None:
    known = [t for t in times if t]
    return max(known) if known else None


def training_record(
    syllabus: Syllabus,
    attempts: Iterable[Attempt],
    sign_offs: Iterable[SignOff],
    *,
    trainee_id: str,
    generated_at: str | None = None,
) -> TrainingRecord:
    """One trainee's record from their attempts and sign-offs (others' are ignored).

    ``attempts`` in the order they were recorded (a store's order): of two first answers at
    the same second, the one recorded first counts.
    """
    mine = [a for a in attempts if a.trainee_id == trainee_id]
    signed = tuple(s for s in sign_offs if s.trainee_id == trainee_id)
    by_case: dict[str, list[Attempt]] = {}
    for a in mine:
        by_case.setdefault(a.case_id, []).append(a)

    def signed_for(scope: str) -> tuple[SignOff, ...]:
        return tuple(s for s in signed if s.scope == scope)

    modules: list[ModuleResult] = []
    known_scopes = {WHOLE_COURSE}
    for m in syllabus.modules:
        known_scopes.add(m.module_id)
        cases = []
        for c in m.cases:
            known_scopes.add(c.case_id)
            cases.append(
                _case_result(m.module_id, c, by_case.get(c.case_id, []), signed_for(c.case_id))
            )
        n_done = sum(1 for c in cases if c.completed)
        complete = n_done == len(cases) if m.graded else None
        modules.append(
            ModuleResult(
                module_id=m.module_id,
                title=m.title,
                counts=m.counts,
                cases=tuple(cases),
                score=_sum(c.score for c in cases),
                cases_completed=n_done,
                completed=complete,
                completed_at=_latest(c.completed_at for c in cases) if complete else None,
                kb_versions=_merge_versions(c.kb_versions for c in cases),
                sign_offs=signed_for(m.module_id),
            )
        )
    listed = {c.case_id for m in syllabus.modules for c in m.cases}
    unlisted = tuple(
        _case_result(NOT_IN_COURSE, CaseSpec(case_id, "", ()), by_case[case_id], ())
        for case_id in sorted(set(by_case) - listed)
    )
    graded = [m for m in modules if m.graded]
    n_complete = sum(1 for m in graded if m.completed)
    course_done = bool(graded) and n_complete == len(graded)
    times = [a.answered_at for a in mine]
    return TrainingRecord(
        trainee_id=trainee_id,
        modules=tuple(modules),
        unlisted=unlisted,
        score=_sum(m.score for m in graded),
        modules_completed=n_complete,
        modules_graded=len(graded),
        completed=course_done,
        completed_at=_latest(m.completed_at for m in graded) if course_done else None,
        kb_versions=_merge_versions(m.kb_versions for m in graded),
        recorded_by_versions=tuple(dict.fromkeys(a.kdsupport_version for a in mine)),
        course_sign_offs=signed_for(WHOLE_COURSE),
        other_sign_offs=tuple(s for s in signed if s.scope not in known_scopes),
        sign_offs=signed,
        n_answers=len(mine),
        first_answer_at=min(times) if times else None,
        last_answer_at=max(times) if times else None,
        generated_at=generated_at or Attempt.now(),
        kdsupport_version=__version__,
        kb_version=syllabus.kb_version,
    )


def record_from_store(store: AttemptStore, trainee_id: str, syllabus: Syllabus) -> TrainingRecord:
    """One trainee's record from a store (their attempts and sign-offs only are read)."""
    return training_record(
        syllabus,
        store.attempts(trainee_id=trainee_id),
        store.sign_offs(trainee_id=trainee_id),
        trainee_id=trainee_id,
    )


def records_from_store(store: AttemptStore, syllabus: Syllabus) -> list[TrainingRecord]:
    """Every trainee's record (sorted by trainee id), from one read of the store."""
    attempts = store.attempts()
    sign_offs = store.sign_offs()
    by_trainee: dict[str, list[Attempt]] = {}
    for a in attempts:
        by_trainee.setdefault(a.trainee_id, []).append(a)
    signed: dict[str, list[SignOff]] = {}
    for s in sign_offs:
        signed.setdefault(s.trainee_id, []).append(s)
    now = Attempt.now()
    return [
        training_record(
            syllabus,
            by_trainee.get(t, []),
            signed.get(t, []),
            trainee_id=t,
            generated_at=now,
        )
        for t in sorted(set(by_trainee) | set(signed))
    ]


# ---------------------------------------------------------------- the CSV export
CSV_COLUMNS = [
    "trainee_id",
    "module_id",
    "module_title",
    "case_id",
    "case_title",
    "questions_answered",
    "questions_total",
    "first_answers",
    "first_answers_correct",
    "percent_correct",
    "status",
    "completed",
    "completed_at",
    "parts_done",
    "parts_needed",
    "parts_total",
    "kb_versions",
    "kb_versions_differ",
    "case_sign_offs",
    "module_sign_offs",
    "course_sign_offs",
    "kdsupport_version",
    "generated_at",
    "what_this_is",
]


_NOT_IN_COURSE_TITLE = "case ids the course does not list"


def _signed_text(sign_offs: Sequence[SignOff]) -> str:
    """Sign-offs in one cell: ``name at time: note`` joined by `` | ``."""
    return " | ".join(
        f"{s.signed_by} at {s.signed_at}" + (f": {s.note}" if s.note else "") for s in sign_offs
    )


def _csv_rows(r: TrainingRecord) -> Iterable[list[object]]:
    """A record's rows: each case of each module; one row for a page that logs no answers."""
    course = _signed_text(r.course_sign_offs)
    groups: list[tuple[str, str, Sequence[CaseResult], str]] = [
        (m.module_id, m.title, m.cases, _signed_text(m.sign_offs)) for m in r.modules
    ]
    if r.unlisted:
        groups.append((NOT_IN_COURSE, _NOT_IN_COURSE_TITLE, r.unlisted, ""))
    for module_id, title, cases, module_signed in groups:
        head = [r.trainee_id, module_id, title]
        tail = [module_signed, course, r.kdsupport_version, r.generated_at, NOT_REMS_SHORT]
        if not cases:
            yield [*head, "", "", "", "", "", "", "", "no graded questions", *[""] * 8, *tail]
            continue
        for c in cases:
            yield [
                *head,
                c.case_id,
                c.title,
                c.questions_answered,
                c.questions_total,
                c.score.answered,
                c.score.correct,
                "" if c.score.percent is None else c.score.percent,
                c.status,
                "yes" if c.completed else "no",
                c.completed_at or "",
                c.parts_done,
                c.parts_needed,
                c.parts_total,
                "; ".join(c.kb_versions),
                "yes" if c.mixed_kb else "no",
                _signed_text(c.sign_offs),
                *tail,
            ]
    tail = ["", course, r.kdsupport_version, r.generated_at, NOT_REMS_SHORT]
    for scope in dict.fromkeys(s.scope for s in r.other_sign_offs):
        signed = _signed_text([s for s in r.other_sign_offs if s.scope == scope])
        head = [r.trainee_id, NOT_IN_COURSE, _NOT_IN_COURSE_TITLE, scope, ""]
        yield [*head, *[""] * 5, "signed off; not in the course", *[""] * 7, signed, *tail]


def records_csv_text(records: Iterable[TrainingRecord]) -> str:
    """Training records as CSV text: a header, then one row per trainee, module and case.

    Every text cell is spreadsheet-safe (:func:`~kdsupport.render.escaping.spreadsheet_cell`:
    text a spreadsheet would run as a formula gets a leading ``'``); line breaks in notes stay
    inside their quoted cell. Answers and sign-offs under ids the course does not list are in
    rows of the module ``(not in the course)``.
    """
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(CSV_COLUMNS)
    for r in records:
        for row in _csv_rows(r):
            assert len(row) == len(CSV_COLUMNS)
            w.writerow([spreadsheet_cell(v) for v in row])
    return buf.getvalue()


def new_export_path(folder: str | Path, stem: str, suffix: str) -> Path:
    """A new, time-stamped file name in the export folder (``stem-20260102T030405Z.csv``).

    The name never holds a trainee id or anything else typed on a page.
    """
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    base = Path(folder)
    out = base / f"{stem}-{stamp}{suffix}"
    n = 1
    while out.exists():
        n += 1
        out = base / f"{stem}-{stamp}-{n}{suffix}"
    return out
