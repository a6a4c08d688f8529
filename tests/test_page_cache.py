"""The page cache: a drawing is reused only while nothing it depends on has changed."""

from __future__ import annotations

import json

import numpy as np
import pytest

from kdsupport.render import page_cache
from kdsupport.render.page_cache import cached_sections, page_key


@pytest.fixture
def cache(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    monkeypatch.setenv("KDSUPPORT_CACHE_DIR", str(folder))
    return folder


def _builder(calls: list[int], text: str = "<p>drawn</p>"):
    def build() -> dict[str, str]:
        calls.append(1)
        return {"only": text}

    return build


def test_a_second_view_comes_from_the_cache(cache):
    calls: list[int] = []
    key = page_key("case", "tr-001")
    first, hit1 = cached_sections("p", key, _builder(calls), names=["only"], keep=2)
    second, hit2 = cached_sections("p", key, _builder(calls), names=["only"], keep=2)
    assert (hit1, hit2) == (False, True) and first == second and len(calls) == 1
    assert len(list(cache.glob("page-p-*.json"))) == 1


def test_other_data_is_drawn_afresh_and_old_entries_are_pruned(cache):
    calls: list[int] = []
    for i in range(4):
        _, hit = cached_sections("p", page_key(str(i)), _builder(calls), names=["only"], keep=2)
        assert hit is False
    assert len(calls) == 4 and len(list(cache.glob("page-p-*.json"))) == 2


def test_a_damaged_or_foreign_entry_is_never_shown(cache):
    calls: list[int] = []
    key = page_key("x")
    cached_sections("p", key, _builder(calls), names=["only"], keep=2)
    (entry,) = cache.glob("page-p-*.json")
    entry.write_text("{not json")
    _, hit = cached_sections("p", key, _builder(calls), names=["only"], keep=2)
    assert hit is False and len(calls) == 2
    data = json.loads(entry.read_text())
    data["key"] = page_key("someone else")  # an entry drawn for other data
    entry.write_text(json.dumps(data))
    shown, hit = cached_sections("p", key, _builder(calls, "<p>new</p>"), names=["only"], keep=2)
    assert hit is False and shown == {"only": "<p>new</p>"}


def test_caching_turned_off_draws_every_time_and_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv("KDSUPPORT_CACHE_DIR", "")
    calls: list[int] = []
    for _ in range(2):
        _, hit = cached_sections("p", page_key("x"), _builder(calls), names=["only"], keep=2)
        assert hit is False
    assert len(calls) == 2 and page_cache.cache_folder() is None


def test_a_key_depends_on_the_code(monkeypatch):
    key = page_key("same data")
    monkeypatch.setattr(page_cache, "code_fingerprint", lambda: "other code")
    assert page_key("same data") != key


@pytest.mark.slow
def test_the_cohort_page_is_cached_until_a_table_changes(cache, tmp_path):
    from kdsupport.cohort.generator import generate_cohort
    from kdsupport.cohort.storage import write_cohort
    from kdsupport.render.cohort_page import cohort_outcomes_page

    folder = tmp_path / "cohort"
    write_cohort(generate_cohort(60, np.random.default_rng(2)), folder, seed=2)
    first = cohort_outcomes_page(folder)
    second = cohort_outcomes_page(folder)
    assert (first.from_cache, second.from_cache) == (False, True)
    assert first.response_table == second.response_table
    table = folder / "tables" / "patients.csv"
    table.write_bytes(table.read_bytes().replace(b"\n", b"\r\n", 1))  # no longer the manifest's
    third = cohort_outcomes_page(folder)
    assert third.from_cache is False
