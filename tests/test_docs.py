"""The docs stay in step with the code: generated sections, field lists, links, the example case."""

from __future__ import annotations

import difflib
import importlib.util
import re

import pytest
import yaml
from conftest import CASES, ROOT

from kdsupport.records.answers import COMMON_PATHS, DERIVED_RULES, answer_for, resolve
from kdsupport.records.case import load_case, validate_case
from kdsupport.rules.assess import assess

DOCS = ROOT / "docs"
AUTHORING = DOCS / "authoring.md"
REFERENCE = DOCS / "case-record.md"
REBUILD = ".venv/bin/python docs/build_docs.py"


def _build_docs():
    spec = importlib.util.spec_from_file_location("build_docs", DOCS / "build_docs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def build_docs():
    return _build_docs()


@pytest.fixture(scope="module")
def curated():
    """Every curated case with its assessment's JSON (default options)."""
    return [(p.stem, assess(load_case(p)).to_json()) for p in sorted(CASES.glob("*.yaml"))]


@pytest.mark.parametrize("path", [AUTHORING, REFERENCE], ids=lambda p: p.name)
def test_generated_sections_are_up_to_date(build_docs, path):
    text = path.read_text(encoding="utf-8")
    rebuilt = build_docs.rebuild(text)
    diff = "".join(
        list(
            difflib.unified_diff(
                text.splitlines(keepends=True),
                rebuilt.splitlines(keepends=True),
                "docs as committed",
                "docs from the code",
                n=1,
            )
        )[:40]
    )
    assert rebuilt == text, (
        f"{path.relative_to(ROOT)} is out of date with the code: run `{REBUILD}` and commit "
        f"the result.\n{diff}"
    )


def test_the_answer_rule_section_is_in_authoring():
    text = AUTHORING.read_text(encoding="utf-8")
    assert "<!-- answer-rules:begin -->" in text and "<!-- answer-rules:end -->" in text
    for name in DERIVED_RULES:
        assert f"`{name}`" in text, name


def test_a_derived_rule_without_a_docstring_stops_the_build(monkeypatch):
    from kdsupport.records import answers

    monkeypatch.setitem(answers.DERIVED_RULES, "sessions.anything", lambda a: [])
    with pytest.raises(ValueError, match="Answer:"):
        answers.vocabulary_markdown()


def test_every_case_record_field_is_in_the_reference(build_docs):
    text = REFERENCE.read_text(encoding="utf-8")
    missing = [f for f in build_docs.record_field_paths() if f"`{f}`" not in text]
    assert not missing, f"fields of CaseRecord not in docs/case-record.md: {missing}"
    assert "`sessions[].dissociation_resolved`" in text


def _keys(obj, under=""):
    if isinstance(obj, dict):
        for k, v in obj.items():
            if under != "sources":  # the bibliography is keyed by source id
                yield k
            yield from _keys(v, k)
    elif isinstance(obj, list):
        for x in obj:
            yield from _keys(x, under)


def test_every_assessment_key_is_in_the_reference(curated):
    text = REFERENCE.read_text(encoding="utf-8")
    keys = set()
    for _, a in curated:
        keys |= set(_keys(a))
    missing = sorted(k for k in keys if f"`{k}`" not in text)
    assert not missing, f"assessment keys not in docs/case-record.md: {missing}"
    assert "kdsupport/rules/assessment.schema.json" in text


def _expand(a, pattern):
    """The concrete paths of a COMMON_PATHS pattern in one assessment."""
    out = [""]
    for part in pattern.split("."):
        nxt = []
        for prefix in out:
            here = resolve(a, prefix) if prefix else a
            if part.startswith("<"):
                nxt += [f"{prefix}.{k}" if prefix else k for k in (here or {})]
                continue
            name, _, index = part.partition("[")
            path = f"{prefix}.{name}" if prefix else name
            try:
                value = resolve(a, path)
            except KeyError:
                continue
            if index == "N]":
                nxt += [f"{path}[{i}]" for i in range(len(value or []))]
            else:
                nxt.append(path + (f"[{index}" if index else ""))
        out = nxt
    return out


def test_common_paths_give_the_answers_listed(curated):
    unused, wrong = [], []
    for pattern, _, allowed in COMMON_PATHS:
        seen = 0
        for case_id, a in curated:
            for path in _expand(a, pattern):
                try:
                    got = answer_for(a, path)
                except KeyError:
                    continue
                seen += 1
                if isinstance(allowed, tuple) and got not in allowed:
                    wrong.append(f"{case_id} {path}: {got!r} is not listed in {allowed}")
        if not seen:
            unused.append(pattern)
    assert not unused, f"COMMON_PATHS that no curated case reaches: {unused}"
    assert not wrong, "\n".join(wrong)


def _example_case():
    text = AUTHORING.read_text(encoding="utf-8")
    block = re.search(
        r"<!-- example case, checked by tests/test_docs.py -->\n```yaml\n(.*?)```", text, re.S
    )
    assert block, "the worked example of docs/authoring.md §4 is missing its marker"
    return yaml.safe_load(block.group(1))


def test_the_worked_example_validates_and_its_answers_equal_the_rules():
    record = validate_case(_example_case(), source="docs/authoring.md §4")
    assert record.teaching and record.teaching.questions
    wrong = []
    for q in record.teaching.questions:
        opts = q.rule_options or {}
        a = assess(
            record, definition=opts.get("definition"), madrs_remission=opts.get("madrs_remission")
        )
        want = answer_for(a.to_json(), q.answer_rule)
        got = sorted(q.answer) if isinstance(q.answer, list) else q.answer
        if sorted(want) != got if isinstance(want, list) else want != got:
            wrong.append(f"{q.id} ({q.answer_rule}): example says {got!r}, rules say {want!r}")
    assert not wrong, "\n".join(wrong)


_ANCHOR = re.compile(r'<a id="([^"]+)"></a>')
_LINK = re.compile(r"\]\(((?:[a-z-]+\.md)?)#([^)\s]+)\)")


def test_links_and_section_numbers_resolve():
    docs = {p.name: p.read_text(encoding="utf-8") for p in (AUTHORING, REFERENCE)}
    anchors = {name: set(_ANCHOR.findall(text)) for name, text in docs.items()}
    broken = []
    for name, text in docs.items():
        for target, anchor in _LINK.findall(text):
            if anchor not in anchors[target or name]:
                broken.append(f"{name}: link to {target or name}#{anchor}")
        # "§2.4" refers to this file unless another file is named just before it
        own = re.sub(r"\[§[^]]*\]\([a-z-]+\.md#[^)]*\)", "", text)
        for number in re.findall(r"(?<!\.md )§(\d+(?:\.\d+)*)", own):
            if f"s{number}" not in anchors[name]:
                broken.append(f"{name}: §{number}")
        for other, number in re.findall(r"([a-z-]+\.md) §(\d+(?:\.\d+)*)", text):
            if f"s{number}" not in anchors.get(other, set()):
                broken.append(f"{name}: {other} §{number}")
    assert not broken, broken


def test_headings_are_in_order():
    for path in (AUTHORING, REFERENCE):
        text = re.sub(r"^```.*?^```", "", path.read_text(encoding="utf-8"), flags=re.M | re.S)
        levels = [len(m) for m in re.findall(r"^(#+) ", text, re.M)]
        assert levels[0] == 1 and levels.count(1) == 1, path.name
        jumps = [(a, b) for a, b in zip(levels, levels[1:], strict=False) if b > a + 1]
        assert not jumps, (path.name, jumps)


_CITED = re.compile(r"docs/case-record\.md`{0,2}\s*(?:section\s*|§)([0-9]+(?:\.[0-9]+)*)")


def test_what_the_code_cites_resolves_inside_the_repository():
    """Docstrings cite docs/case-record.md sections that exist, never the shared contract."""
    reference = REFERENCE.read_text(encoding="utf-8")
    anchors = set(_ANCHOR.findall(reference))
    outside, missing = [], []
    for path in sorted((ROOT / "kdsupport").rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        rel = path.relative_to(ROOT)
        if "shared/specs" in text or re.search(r"\b(?:case-record )?spec [0-9]", text):
            outside.append(str(rel))
        for number in _CITED.findall(text):
            if f"s{number}" not in anchors:
                missing.append(f"{rel}: §{number}")
    assert not outside, f"cite docs/case-record.md instead of the shared contract: {outside}"
    assert not missing, missing
