"""The REMS Patient Monitoring Form page (render/rems_form.py) and ``kdsupport rems-form``.

Every session of every curated case renders with no field silently blank; hostile text in the
record stays text; the page is accessible (lang, title, headings in order, table headers,
contrast, words not colour only); the command writes the file whole, names its errors and
never shows a traceback. Records with session-day data are curated cases copied and extended
here (the model is strict, so only real fields are added).
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml
from conftest import CASES

from kdsupport.errors import InvalidInputError
from kdsupport.knowledge import load
from kdsupport.records.bundled import list_cases, load_case_by_id
from kdsupport.records.case import validate_case
from kdsupport.render.escaping import find_active_markup, one_line
from kdsupport.render.rems_form import (
    COLOURS,
    filled_form,
    form_session_index,
    rems_form_html,
    status_line,
)
from kdsupport.rules.assess import assess

KB = load()
FIELD_IDS = [f.id for f in KB.session_day.rems_form.fields]
CURATED = [c.id for c in list_cases()]
SUCCESS_GREEN = "#1b7837"  # render/html.py's colour of a passed check

SESSION_DAY = {
    "date": "2026-01-05",
    "setting": "outpatient",
    "indication": "trd",
    "devices": 2,
    "device_lot": "LOT-A1234",
    "minutes_between_devices": 5,
    "concomitant": {
        "benzodiazepine": False,
        "non_benzodiazepine_hypnotic": False,
        "psychostimulant": False,
        "maoi": False,
    },
    "fasting_food_hours": 3,
    "fasting_liquid_minutes": 45,
    "nasal_steroid_or_decongestant_minutes_before": "not_used",
    "prescriber_on_site": True,
    "monitored_by": "RN A. Example",
    "ride_home_arranged": True,
    "ready_to_leave_minute": 100,
    "rems_form_submitted_date": "2026-01-08",
}
HOSTILE = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "<svg onload=alert(1)>",
    "javascript:alert(1)",
    "</td></tr></table><a href='https://evil.example'>x</a>",
    "line\nbreak\x1b[31m\u202eevil",
]


# ---------------------------------------------------------------- helpers
def curated_data(case_id: str = "tr-001") -> dict:
    return yaml.safe_load((CASES / f"{case_id}.yaml").read_text(encoding="utf-8"))


def with_session_day(index: int = 0, case_id: str = "tr-001", **changes) -> dict:
    """A curated case whose ``sessions[index]`` records the whole session day."""
    data = copy.deepcopy(curated_data(case_id))
    data["sessions"][index].update(copy.deepcopy(SESSION_DAY), **changes)
    return data


def page_of(data: dict, index: int = 0, **rule_options) -> str:
    record = validate_case(data)
    return rems_form_html(record, assess(record, **rule_options), index)


class Page(HTMLParser):
    """What the tests read from a page: tags, headings, rows of the form, cell texts."""

    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, tuple[str, ...]]] = []
        self.attrs: list[dict[str, str | None]] = []
        self.headings: list[int] = []
        self.rows: dict[str, list[tuple[str, str]]] = {}  # field id -> [(cell class, text)]
        self.title = ""
        self.lang = None
        self._row: str | None = None
        self._cell: list[str] | None = None
        self._cell_class = ""
        self._in_title = False
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append((tag, tuple(sorted(a))))
        self.attrs.append(a)
        if tag == "html":
            self.lang = a.get("lang")
        if tag in ("h1", "h2", "h3", "h4", "h5", "h6"):
            self.headings.append(int(tag[1]))
        if tag == "title":
            self._in_title = True
        if tag == "tr" and a.get("data-field"):
            self._row = a["data-field"]
            self.rows[self._row] = []
        if tag in ("td", "th") and self._row is not None:
            self._cell, self._cell_class = [], a.get("class") or ""

    def handle_endtag(self, tag):
        if tag == "title":
            self._in_title = False
        if tag in ("td", "th") and self._row is not None and self._cell is not None:
            self.rows[self._row].append((self._cell_class, " ".join("".join(self._cell).split())))
            self._cell = None
        if tag == "tr":
            self._row = None

    def handle_data(self, data):
        if self._in_title:
            self.title += data
        if self._cell is not None:
            self._cell.append(data)


def answer_cell(page: Page, field: str) -> tuple[str, str]:
    return page.rows[field][1]  # [0] is the field's row header


def text_before_sources(html: str) -> str:
    return html.split('<section aria-labelledby="sources">')[0]


# ---------------------------------------------------------------- every curated session
@pytest.mark.parametrize("case_id", CURATED)
def test_every_session_of_every_curated_case_renders_with_no_blank_field(case_id):
    record = load_case_by_id(case_id)
    a = assess(record)
    for index, session in enumerate(record.sessions or ()):
        html = rems_form_html(record, a, index)
        form = filled_form(record, a, index)
        page = Page(html)
        assert not find_active_markup(html), (case_id, session.number)
        assert list(page.rows) == FIELD_IDS, (case_id, session.number)
        for answer in form.answers:
            cls, text = answer_cell(page, answer.id)
            assert text, (case_id, session.number, answer.id)
            if answer.answer is None:
                assert "not recorded" in text and cls in ("missing", "flagged"), answer.id
            else:
                assert one_line(answer.answer) in text, (answer.id, text)
            if answer.flagged:
                assert cls == "flagged" and "\u26a0" in text, (answer.id, text)
        assert SUCCESS_GREEN not in text_before_sources(html)
        if session.modality != "esketamine_nasal":
            assert "not an esketamine (Spravato) session" in html
        elif not a.sessions[index].session_day_recorded:
            assert "Monitoring-only record" in html


def test_curated_cases_exist_and_include_a_non_esketamine_session():
    assert len(CURATED) >= 32
    modalities = {s.modality for c in CURATED for s in load_case_by_id(c).sessions or ()}
    assert {"esketamine_nasal", "iv_ketamine"} <= modalities


# ---------------------------------------------------------------- what the page shows
def test_a_complete_outpatient_form_shows_status_deadline_and_submission():
    data = with_session_day()
    record = validate_case(data)
    form = filled_form(record, assess(record), 0)
    assert form.status.status == "complete" and form.status.required == "yes"
    html = page_of(data)
    page = Page(html)
    deadline = (dt.date(2026, 1, 5) + dt.timedelta(days=7)).isoformat()
    assert deadline == "2026-01-12"
    assert f"{deadline} (the session date plus 7 days)" in html
    assert "Complete:</strong> every required field is recorded" in html
    assert "2026-01-08 (submitted 3 day(s) after the session: within the 7 days allowed)" in html
    assert answer_cell(page, "device_lot") == ("answer", "LOT-A1234")
    assert answer_cell(page, "monitored_by") == ("answer", "RN A. Example")
    assert answer_cell(page, "dose") == ("answer", "56 mg")
    # the one hazard of tr-001's first session: an adverse event (nausea)
    assert answer_cell(page, "adverse_events") == (
        "flagged",
        "nausea \u26a0 adverse event(s) recorded",
    )
    assert "form complete; 1 answer(s) flagged; due 2026-01-12" == status_line(form)


def test_missing_fields_are_listed_before_submission_and_marked_not_recorded():
    data = with_session_day()
    for key in ("device_lot", "monitored_by", "date"):
        del data["sessions"][0][key]
    html = page_of(data)
    page = Page(html)
    assert "INCOMPLETE: 3 required field(s) still needed before it can be submitted" in html
    for field in ("device_lot", "monitored_by", "treatment_date"):
        assert f'<li><a href="#field-{field}">' in html
        cls, text = answer_cell(page, field)
        assert cls == "missing"
        assert text == "\u26a0 not recorded (required before the form can be submitted)"
    assert "cannot be set: the session date is not recorded" in html


@pytest.mark.parametrize(
    "change, field, words",
    [
        (
            {"observation_minutes": 100},
            "monitoring_minutes",
            "Observed for at least 2 hours: NOT done",
        ),
        (
            {"ready_to_leave_minute": 130},
            "ready_to_leave",
            "Monitored until ready to leave: NOT done",
        ),
        (
            {"concomitant": {**SESSION_DAY["concomitant"], "benzodiazepine": True}},
            "concomitant_benzodiazepine",
            "taken: more sedation",
        ),
        ({"dose_mg": 84, "devices": 3}, "dose", "Dose fits the label's schedule: NOT done"),
        (
            {"dissociation_resolved": False},
            "dissociation",
            "Dissociation resolved before discharge: NOT done",
        ),
    ],
)
def test_a_flagged_answer_is_a_warning_in_words_never_a_pass(change, field, words):
    data = with_session_day()
    data["sessions"][0].update(change)
    page = Page(page_of(data))
    cls, text = answer_cell(page, field)
    assert cls == "flagged"
    assert f"\u26a0 {words}" in text
    assert "\u2713" not in text and " met" not in text


def test_a_late_submission_is_flagged_in_words():
    html = page_of(with_session_day(rems_form_submitted_date="2026-01-20"))
    assert (
        '2026-01-20 <span class="warn">&#9888; submitted 15 day(s) after the session: AFTER' in html
    )


def test_an_inpatient_session_says_plainly_the_form_is_not_required():
    data = with_session_day(setting="inpatient")
    record = validate_case(data)
    html = page_of(data)
    assert "The REMS Patient Monitoring Form is not required for inpatient settings" in html
    assert "none: the form is not submitted for this session" in html
    assert status_line(filled_form(record, assess(record), 0)) == "not required: inpatient session"
    assert list(Page(html).rows) == FIELD_IDS


def test_an_unknown_setting_says_it_cannot_tell_whether_the_form_is_required():
    html = page_of(curated_data("tr-001"))
    assert "cannot tell: the setting is not recorded" in html


def test_sources_show_their_verification_status():
    html = page_of(with_session_day())
    page = Page(html)
    source = page.rows["device_lot"][3]
    assert source == (
        "cite",
        "Spravato REMS monitoring form 2021, \u201clot number\u201d (verified)",
    )
    assert "(secondary source)" in page.rows["sedation"][3][1]
    assert "&ldquo;lot number&rdquo;" in html  # where in the source
    tail = html.split('<section aria-labelledby="sources">')[1]
    for sid in (
        "rems_patient_monitoring_form_2021",
        "rems_monitoring_form_fields",
        "spravato_rems",
    ):
        assert f"source id: {sid}" in tail
    assert "never submitted anywhere" in html  # the knowledge base's caveat


# ---------------------------------------------------------------- hostile text
@pytest.mark.parametrize("payload", HOSTILE)
def test_hostile_text_in_the_record_stays_text(payload):
    plain = with_session_day(adverse_events=["headache"])
    hostile = with_session_day(
        device_lot=payload, monitored_by=payload, adverse_events=[payload, "headache"]
    )
    hostile["title"] = payload
    plain["title"] = "plain title"
    html, base = page_of(hostile), page_of(plain)
    assert not find_active_markup(html)
    assert "<script" not in html and "<img" not in html and "<svg" not in html
    assert "<a href='https" not in html
    assert Page(html).tags == Page(base).tags  # the same elements and attributes
    shown = one_line(payload)
    page = Page(html)
    assert answer_cell(page, "device_lot") == ("answer", " ".join(shown.split()))
    assert "\x1b" not in html


def test_the_longest_allowed_text_wraps_instead_of_breaking_the_page():
    html = page_of(with_session_day(device_lot="X" * 500))
    assert "overflow-wrap:anywhere" in html
    assert "X" * 500 in html


# ---------------------------------------------------------------- accessibility
def _luminance(hex_colour: str) -> float:
    rgb = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def contrast(fg: str, bg: str) -> float:
    hi, lo = sorted((_luminance(fg), _luminance(bg)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def test_contrast_is_aa():
    assert contrast("#000000", "#ffffff") == pytest.approx(21)
    for name, (fg, bg) in COLOURS.items():
        assert contrast(fg, bg) >= 4.5, (name, fg, bg, contrast(fg, bg))
        assert fg in page_of(with_session_day()), name  # the page uses the tested colours


def test_page_is_accessible_and_self_contained():
    html = page_of(with_session_day(observation_minutes=100))
    page = Page(html)
    assert page.lang == "en"
    assert "REMS Patient Monitoring Form" in page.title and "tr-001" in page.title
    assert page.headings[0] == 1 and page.headings.count(1) == 1
    assert all(b - a <= 1 for a, b in zip(page.headings, page.headings[1:], strict=False))
    cols = [a for t, a in zip(page.tags, page.attrs, strict=True) if t[0] == "th"]
    assert {a.get("scope") for a in cols} == {"col", "row"}
    assert sum(a.get("scope") == "row" for a in cols) == len(FIELD_IDS)
    for tag in ("script", "link", "img", "iframe"):
        assert f"<{tag}" not in html
    assert "http://" not in html.split("<body>")[0] and "https://" not in html.split("<body>")[0]
    assert "@media print" in html
    # at 320 CSS px the page reflows; each wide table scrolls in its own labelled region
    assert html.count('<div class="wide" role="region" tabindex="0" aria-labelledby="section-') == (
        len({f.section for f in KB.session_day.rems_form.fields})
    )
    # the status is said in words, colour only repeats it
    assert "\u26a0" in html or "&#9888;" in html
    assert "&#9888; INCOMPLETE: 2 required field(s)" in html
    assert '<span class="flag">&#9888; Observed for at least 2 hours: NOT done' in html


# ---------------------------------------------------------------- choosing the session
def test_an_unknown_session_names_the_option_and_the_sessions_that_exist():
    record = load_case_by_id("tr-001")
    with pytest.raises(InvalidInputError) as err:
        form_session_index(record, 99)
    msg = str(err.value.problems[0])
    assert msg.startswith("--session: ") and "no session 99" in msg and "1, 2, 3" in msg


def test_a_non_esketamine_session_is_refused_with_the_reason():
    record = load_case_by_id("tr-011")
    with pytest.raises(InvalidInputError) as err:
        form_session_index(record, 1)
    msg = str(err.value.problems[0])
    assert "--session" in msg and "esketamine (Spravato) sessions only" in msg


# ---------------------------------------------------------------- the command
def kdsupport(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "kdsupport", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
    )


def test_cli_writes_the_default_file_in_the_working_folder(tmp_path):
    proc = kdsupport("rems-form", "tr-001", "--session", "2", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    out = tmp_path / "rems-form-tr-001-session-2.html"
    assert sorted(p.name for p in tmp_path.iterdir()) == [out.name]  # no temporary leftovers
    assert f"wrote {out.name}:" in proc.stdout and "INCOMPLETE" in proc.stdout
    html = out.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and html.endswith("</html>\n")
    assert list(Page(html).rows) == FIELD_IDS


def test_cli_out_file_and_a_case_file_with_rule_options(tmp_path):
    case = tmp_path / "in" / "case.json"
    case.parent.mkdir()
    case.write_text(json.dumps(with_session_day(setting="inpatient")), encoding="utf-8")
    out = tmp_path / "forms" / "form.html"
    proc = kdsupport(
        "rems-form",
        str(case),
        "--session",
        "1",
        "--out",
        str(out),
        "--jurisdiction",
        "eu",
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert "not required: inpatient session" in proc.stdout
    assert sorted(p.name for p in out.parent.iterdir()) == ["form.html"]
    html = out.read_text(encoding="utf-8")
    assert "not required for inpatient settings" in html and html.endswith("</html>\n")


def test_cli_rewrites_an_existing_file_whole(tmp_path):
    out = tmp_path / "form.html"
    out.write_text("old", encoding="utf-8")
    proc = kdsupport("rems-form", "tr-001", "--session", "1", "--out", str(out), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert out.read_text(encoding="utf-8").endswith("</html>\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["form.html"]


@pytest.mark.parametrize(
    "args, words",
    [
        (["tr-001", "--session", "42"], ["--session", "no session 42", "1, 2, 3, 4"]),
        (["tr-011", "--session", "1"], ["--session", "esketamine (Spravato) sessions only"]),
        (["tr-999", "--session", "1"], ["neither a case-record file"]),
        (["tr-001", "--session", "1", "--out", "."], ["--out"]),
    ],
)
def test_cli_errors_exit_2_with_a_clear_message_and_write_nothing(tmp_path, args, words):
    proc = kdsupport("rems-form", *args, cwd=tmp_path)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    for w in words:
        assert w in proc.stderr
    assert list(tmp_path.iterdir()) == []


def test_cli_needs_the_session_option(tmp_path):
    proc = kdsupport("rems-form", "tr-001", cwd=tmp_path)
    assert proc.returncode == 2 and "--session" in proc.stderr
    assert "Traceback" not in proc.stderr
