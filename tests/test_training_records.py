"""Training records: the record's counting, its HTML page and CSV, the instructor's panel.

The record is computed from hand-made attempts (the first-attempt rule, the date completed,
mixed knowledge-base versions, the drill's sessions), then from answers the real pages logged.
"""

from __future__ import annotations

import csv
import io
import re
from html import unescape
from html.parser import HTMLParser
from pathlib import Path

from kdsupport.render.escaping import find_active_markup
from kdsupport.render.training_record import (
    COLOURS,
    NOT_REMS,
    training_record_html,
)
from kdsupport.training.attempts import Attempt, SignOff, SQLiteAttemptStore
from kdsupport.training.records import (
    CSV_COLUMNS,
    NOT_IN_COURSE,
    WHOLE_COURSE,
    CaseSpec,
    ModuleSpec,
    Part,
    Syllabus,
    record_from_store,
    records_csv_text,
    records_from_store,
    training_record,
)
from kdsupport.widgets.course import COURSE
from kdsupport.widgets.course_syllabus import course_syllabus

ROOT = Path(__file__).resolve().parents[1]
KB1, KB2 = "2026.11.5", "2026.12.1"

SYLLABUS = Syllabus(
    (
        ModuleSpec("00_home", "Home", (), "nothing is logged here."),
        ModuleSpec(
            "05_cases",
            "Cases",
            (
                CaseSpec("c1", "Case one", (Part("", (("q1",), ("q2",), ("q3",))),)),
                CaseSpec("c2", "Case two", (Part("", (("q1",),)),)),
            ),
            "each question once.",
        ),
        ModuleSpec(
            "09_drill",
            "Drill",
            (
                CaseSpec(
                    "session-day:c1",
                    "Drill one",
                    (
                        Part("session 1", (("s1.a",), ("s1.dose-us.x", "s1.dose-eu.x"))),
                        Part("session 2", (("s2.a",), ("s2.dose-us.x", "s2.dose-eu.x"))),
                    ),
                    parts_needed=1,
                    part_name="session",
                ),
            ),
            "one session worked through.",
        ),
    ),
    KB2,
)


def at(minute: int, day: int = 1) -> str:
    return f"2026-03-{day:02d}T10:{minute:02d}:00+00:00"


def a(q: str, minute: int, correct=True, case="c1", kb=KB1, who="t1", day=1) -> Attempt:
    return Attempt(who, case, q, "x", correct, at(minute, day), kb, "0.1.0")


def case_of(record, case_id):
    return next(c for m in record.modules for c in m.cases if c.case_id == case_id)


def module_of(record, module_id):
    return next(m for m in record.modules if m.module_id == module_id)


# ---------------------------------------------------------------- counting
def test_the_first_answer_counts_and_later_answers_are_practice():
    log = [a("q1", 1, False), a("q1", 2, True), a("q2", 3, True), a("q2", 4, False)]
    c = case_of(training_record(SYLLABUS, log, [], trainee_id="t1"), "c1")
    assert (c.score.answered, c.score.correct) == (2, 1)
    assert (c.questions_answered, c.questions_total) == (2, 3)
    assert not c.completed and c.completed_at is None and c.status == "in progress"


def test_of_two_answers_at_the_same_second_the_one_recorded_first_counts():
    log = [a("q1", 1, False), a("q1", 1, True)]
    c = case_of(training_record(SYLLABUS, log, [], trainee_id="t1"), "c1")
    assert c.score.correct == 0


def test_the_date_completed_is_the_last_first_answer_needed():
    # recorded out of order (a retried answer arrives late): times decide, not log order;
    # practice after completion does not move the date
    log = [a("q3", 7), a("q1", 2), a("q2", 9), a("q2", 30, False), a("q1", 45), a("q2", 1, day=2)]
    log.insert(2, a("q2", 5))  # earlier than minute 9: this is q2's first answer
    c = case_of(training_record(SYLLABUS, log, [], trainee_id="t1"), "c1")
    assert c.completed and c.status == "completed"
    assert c.completed_at == at(7)  # q1 at 2, q2 at 5, q3 at 7
    assert c.score.answered == 3


def test_mixed_knowledge_base_versions_are_all_listed_and_said_to_differ():
    log = [a("q1", 1, kb=KB1), a("q2", 2, kb=KB2), a("q3", 3, kb=KB1), a("q1", 9, kb="later")]
    r = training_record(SYLLABUS, log, [], trainee_id="t1")
    c = case_of(r, "c1")
    assert c.kb_versions == (KB1, KB2) and c.mixed_kb  # the practice answer's version is not
    assert module_of(r, "05_cases").kb_versions == (KB1, KB2)
    page = training_record_html(r)
    assert "differ: answers under 2 versions" in page
    one = case_of(training_record(SYLLABUS, log[:1], [], trainee_id="t1"), "c1")
    assert one.kb_versions == (KB1,) and not one.mixed_kb


def test_a_drill_case_is_completed_by_one_session_worked_through():
    d = "session-day:c1"
    log = [
        a("s2.a", 1, case=d, kb=KB2),
        a("s1.a", 2, case=d),
        a("s1.dose-eu.x", 5, case=d, correct=False),  # either dosing table answers it
        a("s2.dose-us.x", 8, case=d, kb=KB2),
        a("s1.dose-us.x", 9, case=d),  # the same question under the other table: scored too
    ]
    r = training_record(SYLLABUS, log, [], trainee_id="t1")
    c = case_of(r, d)
    assert c.completed and c.completed_at == at(5)  # session 1 was done first
    assert (c.parts_done, c.parts_total, c.parts_needed) == (2, 2, 1)
    assert c.kb_versions == (KB1,)  # the answers of the session that completed it
    assert (c.questions_answered, c.questions_total) == (4, 4)
    assert (c.score.answered, c.score.correct) == (5, 4)
    assert module_of(r, "09_drill").completed
    one = case_of(training_record(SYLLABUS, log[:3], [], trainee_id="t1"), d)
    assert one.completed and one.parts_done == 1 and one.completed_at == at(5)
    none = case_of(training_record(SYLLABUS, log[:2], [], trainee_id="t1"), d)
    assert not none.completed and none.parts_done == 0 and none.kb_versions == (KB2, KB1)


def test_modules_the_course_and_what_is_not_in_the_course():
    log = [a("q1", 1), a("q2", 2), a("q3", 3), a("q1", 4, case="c2")]
    log += [a("s1.a", 5, case="session-day:c1"), a("s1.dose-us.x", 6, case="session-day:c1")]
    log += [a("q9", 7), a("old", 8, case="gone-case"), a("q1", 9, who="someone-else")]
    signed = [
        SignOff("t1", WHOLE_COURSE, "Dr A", at(30)),
        SignOff("t1", "00_home", "Dr A", at(31)),
        SignOff("t1", "c2", "Dr B", at(32), "seen"),
        SignOff("t1", "no-such-scope", "Dr B", at(33)),
        SignOff("someone-else", "c1", "Dr B", at(34)),
    ]
    r = training_record(SYLLABUS, log, signed, trainee_id="t1")
    assert r.completed and r.completed_at == at(6)
    assert (r.modules_completed, r.modules_graded) == (2, 2)
    home = module_of(r, "00_home")
    assert home.completed is None and not home.graded and [s.signed_by for s in home.sign_offs]
    assert [s.note for s in case_of(r, "c2").sign_offs] == ["seen"]
    assert [s.scope for s in r.course_sign_offs] == [WHOLE_COURSE]
    assert [s.scope for s in r.other_sign_offs] == ["no-such-scope"]
    assert len(r.sign_offs) == 4  # another trainee's is not theirs
    assert case_of(r, "c1").unlisted_answers == 1  # q9: not asked, in the score
    assert case_of(r, "c1").score.answered == 4
    assert [(c.case_id, c.status) for c in r.unlisted] == [("gone-case", "not in the course")]
    assert r.n_answers == 8 and r.first_answer_at == at(1) and r.last_answer_at == at(8)
    assert r.score.answered == 7  # the course's cases only
    assert r.kb_version == KB2 and r.recorded_by_versions == ("0.1.0",)


def test_a_trainee_with_nothing_logged_has_a_record_of_nothing():
    r = training_record(SYLLABUS, [], [], trainee_id="new")
    assert not r.completed and r.score.answered == 0 and r.n_answers == 0
    assert all(c.status == "not started" for m in r.modules for c in m.cases)
    assert "no answers yet" in training_record_html(r)


# ---------------------------------------------------------------- the course's syllabus
def test_the_syllabus_follows_the_course_and_what_its_pages_log():
    from kdsupport.knowledge import load
    from kdsupport.records.bundled import list_cases

    s = course_syllabus()
    assert [m.module_id for m in s.modules] == [name for name, _, _ in COURSE]
    graded = {m.module_id: m for m in s.modules if m.graded}
    assert set(graded) == {"05_case_walkthrough", "06_evidence_and_claims", "09_session_day"}
    walk = graded["05_case_walkthrough"].cases
    assert [c.case_id for c in walk] == [c.id for c in list_cases() if c.n_questions]
    assert all(c.n_questions == n.n_questions for c, n in zip(walk, list_cases(), strict=False))
    (claims,) = graded["06_evidence_and_claims"].cases
    assert claims.case_id == "claims" and claims.n_questions == len(load().evidence.claims)
    for c in graded["09_session_day"].cases:
        assert c.case_id.startswith("session-day:") and c.parts_needed == 1 and c.parts
    scopes = dict(s.scopes())
    assert scopes[WHOLE_COURSE] == "Whole course" and "tr-001" in scopes and "claims" in scopes


def _any(f):
    if f.optional:
        return ""
    if f.kind == "text":
        return "not recorded"
    return [f.options[0][0]] if f.kind == "multiple" else f.options[0][0]


def test_what_the_real_pages_log_is_what_the_record_counts(tmp_path):
    """Work a case, the claims quiz and one drill session on the pages; the record agrees."""
    from kdsupport.widgets import build_case_walkthrough, build_claim_quiz
    from kdsupport.widgets.session_day import build_session_day_drill

    store = SQLiteAttemptStore(tmp_path / "a.sqlite")
    w = build_case_walkthrough("tr-001", trainee_id="nurse-1", store=store, figures="none")
    n = len(w.loaded.teaching.questions)
    for k in range(n):
        w.submit(w.question.answer if w.question.kind != "numeric" else str(w.question.answer))
        if k < n - 1:
            w.card.next_request = {"n": k + 1}
    quiz = build_claim_quiz(trainee_id="nurse-1", store=store)
    for claim_id in list(quiz.cards)[:-1]:
        quiz.submit(claim_id, "accurate")
    d = build_session_day_drill("tr-036", trainee_id="nurse-1", store=store)
    for k in range(len(d.steps)):
        d.submit({f.id: _any(f) for f in d.step.fields})
        assert d.card.phase == "answered", d.card.notice
        d.card.next_request = {"n": k + 1}
    r = record_from_store(store, "nurse-1", course_syllabus())
    case = case_of(r, "tr-001")
    assert case.completed and case.questions_answered == n == case.score.answered
    quiz_case = case_of(r, "claims")
    assert not quiz_case.completed
    assert quiz_case.questions_answered == quiz_case.questions_total - 1
    drill = case_of(r, "session-day:tr-036")
    assert drill.completed and drill.parts_done == 1 and drill.unlisted_answers == 0
    assert r.unlisted == () and drill.kb_versions == (r.kb_version,)


# ---------------------------------------------------------------- the HTML page
HOSTILE_ID = "<script>alert(1)</script>\u202eevil\x1b[2J"
HOSTILE_NOTE = '=HYPERLINK("http://x.example")\n<img src=x onerror=alert(1)>\r\n&amp; \'q\' "dq"'


class Page(HTMLParser):
    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.headings: list[int] = []
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.lang = None
        self.title = ""
        self._in_title = False
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag == "html":
            self.lang = dict(attrs).get("lang")
        if re.fullmatch(r"h[1-6]", tag):
            self.headings.append(int(tag[1]))
        self._in_title = tag == "title"

    def handle_endtag(self, tag):
        if tag == "title":
            self._in_title = False

    def handle_data(self, data):
        if self._in_title:
            self.title += data


def hostile_record():
    log = [a("q1", 1, who=HOSTILE_ID), a("q1", 2, case="=evil<b>", who=HOSTILE_ID)]
    signed = [
        SignOff(HOSTILE_ID, WHOLE_COURSE, "Dr <i>O'Brien</i>", at(3), HOSTILE_NOTE),
        SignOff(HOSTILE_ID, "<b>scope</b>", "@SUM(1)", at(4), ""),
    ]
    return training_record(SYLLABUS, log, signed, trainee_id=HOSTILE_ID)


def test_hostile_ids_names_and_notes_stay_text():
    page = training_record_html(hostile_record())
    assert find_active_markup(page) == []
    body = page.split("<body>", 1)[1]
    for raw in ("<script>", "<img", "<i>O'Brien", "<b>scope", "=evil<b>", "\x1b", "\r"):
        assert raw not in body, raw
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    assert "&lt;img src=x onerror=alert(1)&gt;" in body and "&amp;amp;" in body
    assert "\\x1b[2J" in body  # a control character is shown as an escape
    assert "<bdi>&lt;script&gt;alert(1)&lt;/script&gt;\u202eevil\\x1b[2J</bdi>" in body
    # the note keeps its lines
    assert "=HYPERLINK(&quot;http://x.example&quot;)<br>&lt;img" in body
    assert "not a module or case of this course" in body
    assert "=evil&lt;b&gt;" in body  # an id the course does not list, shown escaped


def test_the_page_is_self_contained_accessible_and_says_it_is_not_a_rems_certification():
    r = training_record(
        SYLLABUS, [a("q1", 1)], [SignOff("t1", "c1", "Dr A", at(2))], trainee_id="t1"
    )
    page = training_record_html(r)
    p = Page(page)
    assert p.lang == "en" and "t1" in p.title and "not a REMS certification" in p.title
    assert p.headings[0] == 1 and p.headings.count(1) == 1
    assert all(b - a <= 1 for a, b in zip(p.headings, p.headings[1:], strict=False))
    ths = [attrs for tag, attrs in p.tags if tag == "th"]
    assert {t.get("scope") for t in ths} == {"col", "row"}
    tables = sum(1 for tag, _ in p.tags if tag == "table")
    assert sum(1 for tag, _ in p.tags if tag == "caption") == tables
    for tag in ("script", "link", "img", "iframe", "object"):
        assert f"<{tag}" not in page
    assert "http://" not in page and "https://" not in page and "url(" not in page
    assert "@media print" in page
    assert "For the staff file" in page and "Signature" in page
    # prominent: right after the title, in a box of its own, before anything else
    body = page.split("<body>", 1)[1]
    assert body.index("Not a REMS certification.") < body.index("Summary")
    assert 'class="not-rems" role="note"' in body and unescape(body).count(NOT_REMS) == 1
    assert "healthcare settings and pharmacies" in NOT_REMS
    assert "kdsupport <bdi>0.1.0</bdi>" in body
    assert f"knowledge base <bdi>{KB2}</bdi>" in body
    assert "Dr A" in body and "2026-03-01 10:02 UTC" in body  # who signed off, and when


def _luminance(hex_colour: str) -> float:
    rgb = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def contrast(fg: str, bg: str) -> float:
    hi, lo = sorted((_luminance(fg), _luminance(bg)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def test_contrast_is_aa_and_the_page_uses_the_tested_colours():
    log = [a("q1", 1, kb=KB1), a("q2", 2, kb=KB2), a("q3", 3)]
    page = training_record_html(
        training_record(SYLLABUS, log, [SignOff("t1", "c1", "Dr A", at(2))], trainee_id="t1")
    )
    for name, (fg, bg) in COLOURS.items():
        assert contrast(fg, bg) >= 4.5, (name, fg, bg)
        assert f"color:{fg};background:{bg}" in page, name


# ---------------------------------------------------------------- the CSV
def test_the_csv_has_one_row_per_trainee_module_and_case_and_is_spreadsheet_safe():
    r = hostile_record()
    text = records_csv_text([r, training_record(SYLLABUS, [], [], trainee_id="plain")])
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0]) == CSV_COLUMNS
    mine = [row for row in rows if row["trainee_id"] != "plain"]
    # 1 page without answers, 2 cases, 1 drill case, 1 id not in the course, 1 other scope
    assert len(mine) == 6 and len(rows) == 6 + 4
    assert [row["case_id"] for row in mine] == [
        "",
        "c1",
        "c2",
        "session-day:c1",
        "'=evil<b>",
        "<b>scope</b>",
    ]
    assert {row["module_id"] for row in mine[-2:]} == {NOT_IN_COURSE}
    assert mine[0]["status"] == "no graded questions"
    assert mine[1]["first_answers"] == "1" and mine[1]["completed"] == "no"
    assert mine[1]["kb_versions"] == KB1 and mine[1]["kb_versions_differ"] == "no"
    for row in rows:
        for value in row.values():
            assert value[:1] not in ("=", "+", "-", "@"), value  # never a formula
    assert HOSTILE_NOTE.replace("\r\n", "\n") in mine[0]["course_sign_offs"].replace("\r\n", "\n")
    assert mine[-1]["case_sign_offs"].startswith("'@SUM(1) at ")
    assert all(row["what_this_is"] == "Training record; not a REMS certification" for row in rows)


# ---------------------------------------------------------------- the store, both ways
def test_records_from_a_store_are_the_records_of_its_trainees(tmp_path):
    store = SQLiteAttemptStore(tmp_path / "a.sqlite")
    store.record_many([a("q1", 1), a("q1", 2, who="t2"), a("q2", 3)])
    store.sign_off("t3", WHOLE_COURSE, "Dr A")
    records = records_from_store(store, SYLLABUS)
    assert [r.trainee_id for r in records] == ["t1", "t2", "t3"]
    one = record_from_store(store, "t1", SYLLABUS)
    assert one.score == records[0].score and one.n_answers == 2


# ---------------------------------------------------------------- the instructor's panel
def test_the_panel_signs_off_then_exports(tmp_path):
    from kdsupport.widgets.training_records import build_training_records

    store = SQLiteAttemptStore(tmp_path / "a.sqlite")
    store.record_many([a("q1", 1, case="tr-001", who="nurse-2"), a("q1", 2, case="tr-001")])
    exports = tmp_path / "exports"
    w = build_training_records(store=store, export_dir=str(exports))
    assert list(w.trainee.options) == ["nurse-2", "t1"] and w.trainee.value == "nurse-2"
    assert "Not a REMS certification." in w.children[0].value
    assert "Training record: <bdi>nurse-2</bdi>" in w.record_view.value
    w.trainee.value = "t1"
    w.scope.value = "tr-001"
    w.sign_button.click()  # no name yet: refused, nothing stored
    assert "Nothing was signed off" in w.sign_status.value and store.sign_offs() == []
    w.signer.value = "Dr <b>Kim</b>"
    w.note.value = HOSTILE_NOTE
    w.sign_button.click()
    (s,) = store.sign_offs()
    assert (s.trainee_id, s.scope, s.signed_by, s.note) == (
        "t1",
        "tr-001",
        "Dr <b>Kim</b>",
        HOSTILE_NOTE,
    )
    assert "Signed off" in w.sign_status.value and "not completed" in w.sign_status.value
    assert "<b>Kim</b>" not in w.sign_status.value and w.note.value == ""
    assert "Dr &lt;b&gt;Kim&lt;/b&gt;" in w.record_view.value
    assert "For the staff file" not in w.record_view.value  # lines to sign: on paper only
    w.export_html_button.click()
    (page,) = exports.glob("training-record-*.html")
    assert "data:text/html" in w.export_status.value and page.name in w.export_status.value
    html = page.read_text()
    assert find_active_markup(html) == [] and "Dr &lt;b&gt;Kim&lt;/b&gt;" in html
    w.export_csv_button.click()
    (one,) = exports.glob("training-record-*.csv")
    assert {row["trainee_id"] for row in csv.DictReader(one.open())} == {"t1"}
    w.export_all_button.click()
    (everyone,) = exports.glob("training-records-all-*.csv")
    assert {row["trainee_id"] for row in csv.DictReader(everyone.open())} == {"nurse-2", "t1"}
    assert not any("nurse" in p.name or "t1" in p.name for p in exports.iterdir())
    assert not list(exports.glob(".*"))  # no temporary file left behind


def test_the_panel_signs_as_the_given_instructor_and_refuses_an_empty_log(tmp_path):
    from kdsupport.widgets.training_records import build_training_records

    store = SQLiteAttemptStore(tmp_path / "a.sqlite")
    empty = build_training_records(store=store, export_dir=tmp_path / "x")
    assert "No trainee in the attempt log yet" in empty.record_view.value
    empty.sign_button.click()
    assert "Choose a trainee first" in empty.sign_status.value
    assert empty.export("html") is None and not (tmp_path / "x").exists()
    store.record(a("q1", 1))
    w = build_training_records(store=store, export_dir=tmp_path / "x", signed_by="hub-instructor")
    assert "Signing as <b>hub-instructor</b>" in w.signer_row.value
    w.signer.value = "someone else"  # the box is not shown; its value is ignored
    w.sign_button.click()
    assert [s.signed_by for s in store.sign_offs()] == ["hub-instructor"]
