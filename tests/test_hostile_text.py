"""Hostile text through every free-text field into every output format: it never becomes markup.

A hypothesis strategy builds text from markup, script and link fragments, newlines, mathtext,
control characters and up to 5,000 characters. It is put into every free-text field of a case
record (title, vignette, ICD-10 code, adverse events, learning objectives, teaching points,
question prompts, option labels, rationales, units) and the record is rendered as the text
worksheet, the assessment JSON, the referral summary (Markdown and HTML), the trainee app's
HTML snippets, the case-conference sections and plot labels. Each rendering must have exactly
the markup of the same record with plain text in those fields: same elements, same attributes,
nothing active, no extra lines.
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from typing import Any

import mistune
import pytest
from conftest import CASES
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kdsupport.records.case import load_case, validate_case
from kdsupport.render import html as H
from kdsupport.render.conference import discussion_html
from kdsupport.render.escaping import (
    find_active_markup,
    markdown_code,
    markdown_text,
    one_line,
    plot_label,
)
from kdsupport.render.summary import referral_html, referral_markdown
from kdsupport.render.text import to_text
from kdsupport.rules.assess import assess
from kdsupport.training.grading import grade
from kdsupport.widgets.feedback import feedback_html, summary_html

FRAGMENTS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "<svg onload=alert(1)>",
    "javascript:alert(1)",
    "[click](javascript:alert(1))",
    "![x](https://evil.example/x.png)",
    "<a href='https://evil.example'>x</a>",
    "<https://evil.example>",
    "https://example.org/page",
    "www.example.org",
    "\n# Forged heading\n",
    "\n\n## Forged section\n",
    "\r\n- forged item",
    "| a | b |\n|---|---|",
    "$\\foo$",
    "$x^2$",
    "**bold** _em_ ~~strike~~",
    "`code` ``x``",
    "&lt;b&gt;",
    "&#x3C;script&#x3E;",
    "<!-- comment",
    "<style>@import url(//evil.example)</style>",
    "\x1b[31m",
    "\x00",
    "\u2028",
    "\u202e",
    "\\",
    "'\"",
    "{{ 7*7 }}",
    "%s%n",
]
hostile = st.lists(
    st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=12)), min_size=1, max_size=10
).map("".join) | st.just("<b>" * 1250)  # 5,000 characters of markup
SETTINGS = dict(
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    max_examples=60,
)


def structure(html: str) -> list[tuple[str, tuple[str, ...]]]:
    """The elements of an HTML document with their attribute names, in order."""
    out: list[tuple[str, tuple[str, ...]]] = []

    class P(HTMLParser):
        def handle_starttag(self, tag, attrs):
            out.append((tag, tuple(sorted(a for a, _ in attrs))))

    p = P()
    p.feed(html)
    p.close()
    return out


BASE = load_case(CASES / "tr-011.yaml").model_dump(mode="json", exclude_none=True)


def with_text(text: str) -> dict[str, Any]:
    """tr-011 with ``text`` in every free-text field (within the record's length limits)."""
    rec = json.loads(json.dumps(BASE))
    short = text[:500]
    rec["title"] = short
    rec["vignette"] = text
    rec["diagnosis"]["icd10"] = short
    for s in rec["sessions"]:
        s["adverse_events"] = [short, "nausea"]
    t = rec["teaching"]
    t["learning_objectives"] = [text]
    for p in t["teaching_points"]:
        p["text"] = text
    for q in t["questions"]:
        q["prompt"] = text
        q["rationale"] = text
        if q.get("unit") is not None:
            q["unit"] = short
        for o in q.get("options") or []:
            o["label"] = short
    return rec


def renderings(text: str) -> dict[str, str]:
    record = validate_case(with_text(text))
    a = assess(record)
    q = record.teaching.questions[0]
    fb = grade(record, q, q.options[0].value if q.options else "1")
    return {
        "summary_html": referral_html(record, a),
        "summary_md_as_html": mistune.create_markdown(
            escape=False, plugins=["table", "url", "strikethrough"]
        )(referral_markdown(record, a)),
        "vignette": H.vignette_html(record),
        "feedback": feedback_html(q, fb),
        "walkthrough_summary": summary_html(record, [(q, fb)], a),
        "discussion": discussion_html(record, a),
        "trd": H.trd_html(a),
        "modalities": H.modalities_html(a),
    }


PLAIN = {k: structure(v) for k, v in renderings("plain words").items()}


@settings(**SETTINGS)
@given(text=hostile)
def test_hostile_text_never_becomes_markup(text):
    for name, html in renderings(text).items():
        assert structure(html) == PLAIN[name], name
        assert find_active_markup(html) == [], name


@settings(**SETTINGS)
@given(text=hostile)
def test_hostile_text_never_forges_a_line_or_heading(text):
    record = validate_case(with_text(text))
    a = assess(record)
    md = referral_markdown(record, a)
    plain = referral_markdown(validate_case(with_text("plain words")), a)
    headings = [line for line in md.splitlines() if line.startswith("#")]
    assert headings == [line for line in plain.splitlines() if line.startswith("#")]
    assert len(md.splitlines()) == len(plain.splitlines())
    worksheet = to_text(a, record=record)
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]", worksheet)
    assert not any(line.startswith(("# Forged", "- forged")) for line in worksheet.splitlines())
    sections = re.compile(r"^[0-9]+\. [A-Z]")
    plain_sheet = to_text(a, record=validate_case(with_text("plain words")))
    assert [x for x in worksheet.splitlines() if sections.match(x)] == [
        x for x in plain_sheet.splitlines() if sections.match(x)
    ]
    again = json.loads(json.dumps(a.to_json(), ensure_ascii=False))
    assert again == a.to_json()


@settings(**SETTINGS)
@given(text=hostile)
def test_the_escapers_hold_for_any_text(text):
    assert "\n" not in one_line(text) and "\x1b" not in one_line(text)
    rendered = mistune.create_markdown(escape=False, plugins=["table", "url", "strikethrough"])
    for md in (markdown_text(text), markdown_code(text)):
        html = rendered(md)
        tags = {t for t, _ in structure(html)}
        assert tags <= {"p", "code"}, (md, html)
    label = plot_label(text)
    assert "\n" not in label and len(label) <= 40
    assert not re.search(r"(?<!\\)\$", label), "an unescaped $ would start mathtext"


@settings(max_examples=8, deadline=None)
@given(ids=st.lists(hostile, min_size=1, max_size=3))
def test_trainee_ids_are_plain_text_in_plots(ids):
    import pandas as pd
    from matplotlib.text import Text

    from kdsupport.render.plots import attempts_by_question_figure, attempts_by_trainee_figure

    n = len(ids)
    by_trainee = pd.DataFrame(
        {
            "trainee": ids,
            "questions answered": [1] * n,
            "first answers correct": [1] * n,
            "percent correct": [100.0] * n,
        }
    )
    by_question = pd.DataFrame(
        {
            "case": ids,
            "question": ids,
            "trainees": [1] * n,
            "first answers correct": [1] * n,
            "percent correct": [100.0] * n,
        }
    )
    for fig in (attempts_by_trainee_figure(by_trainee), attempts_by_question_figure(by_question)):
        fig.canvas.draw()  # mathtext parse errors would raise here
        for t in fig.findobj(Text):
            assert not t._preprocess_math(t.get_text())[1], t.get_text()


def test_the_inert_check_finds_active_markup_in_tags_not_in_text():
    safe = "<p>&lt;script&gt; see https://example.org and javascript:alert(1)</p>"
    assert find_active_markup(safe) == []
    assert find_active_markup('<img src="data:image/png;base64,AAAA" alt="f">') == []
    for bad in (
        "<script>1</script>",
        "<img src=x onerror=alert(1)>",
        "<a href=' java\tscript:alert(1)'>x</a>",
        "<a href='https://evil.example'>x</a>",
        "<img src='//evil.example/x.png'>",
        "<iframe src=x></iframe>",
        "<meta http-equiv=refresh content='0;url=x'>",
        "<style>body{background:url(https://evil.example)}</style>",
        "<div style='background:url(x)'>",
    ):
        assert find_active_markup(bad), bad


@pytest.mark.parametrize("bad", ["<script>", '"><img src=x onerror=1>', "x\ny"])
def test_hostile_trainee_ids_in_the_course_home_are_escaped(bad, tmp_path):
    from kdsupport.training.attempts import SQLiteAttemptStore
    from kdsupport.widgets import build_course_home

    home = build_course_home(trainee_id=bad, store=SQLiteAttemptStore(tmp_path / "a.sqlite"))
    assert find_active_markup(home.progress.value) == []
    assert structure(home.progress.value) == structure(
        build_course_home(
            trainee_id="plain", store=SQLiteAttemptStore(tmp_path / "b.sqlite")
        ).progress.value
    )
