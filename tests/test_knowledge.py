"""The knowledge base: validated as a whole, every problem listed at once."""

from __future__ import annotations

import copy
import re
from pathlib import Path

import pytest

from kdsupport import knowledge
from kdsupport.errors import KnowledgeBaseError

REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "clinical" / "REFERENCE.md"


def test_packaged_knowledge_base_has_no_problems():
    problems = knowledge.find_problems(knowledge.load_raw())
    assert problems == [], "knowledge base problems:\n" + "\n".join(map(str, problems))


def test_kb_version_is_set(kb):
    assert re.fullmatch(r"\d{4}\.\d{1,2}\.\d+", kb.version)


def _broken(mutate) -> list[str]:
    raw = copy.deepcopy(knowledge.load_raw())
    mutate(raw)
    return [str(p) for p in knowledge.find_problems(raw)]


def test_unknown_key_is_reported():
    def m(raw):
        raw["drugs.yaml"]["drugs"]["sertraline"]["colour"] = "blue"

    assert any("drugs.sertraline.colour" in p and "Extra inputs" in p for p in _broken(m))


def test_unresolved_source_id_is_reported():
    def m(raw):
        raw["scales.yaml"]["instruments"]["phq9"]["bands"]["source"] = {"id": "no_such_paper"}

    assert any("unresolved source id 'no_such_paper'" in p for p in _broken(m))


def test_number_without_source_is_reported():
    def m(raw):
        del raw["trd_definitions.yaml"]["definitions"]["eupearl2022"]["min_weeks"]["source"]

    problems = _broken(m)
    assert any(
        "definitions.eupearl2022.min_weeks.value: number without a source" in p for p in problems
    )


def test_overlapping_and_gapped_bands_are_reported():
    def m(raw):
        bands = raw["scales.yaml"]["instruments"]["phq9"]["bands"]["bands"]
        bands[1]["min"] = 4  # overlaps minimal 0-4
        bands[3]["min"] = 16  # gap after moderate 10-14 ... 15 missing

    problems = _broken(m)
    assert any("overlap" in p and "'minimal' / 'mild'" in p for p in problems)
    assert any("gap between 14" in p for p in problems)


def test_real_domain_band_boundary_must_be_included_once():
    def m(raw):
        raw["staging.yaml"]["msm"]["duration_months"]["bands"][1]["min_inclusive"] = True

    assert any("exactly one side must include it" in p for p in _broken(m))


def test_unordered_range_is_reported():
    def m(raw):
        raw["drugs.yaml"]["drugs"]["sertraline"]["usual_mg_per_day"]["low"] = 500

    assert any("unordered range: low 500 > high 200" in p for p in _broken(m))


def test_band_coverage_must_match_total_range():
    def m(raw):
        raw["scales.yaml"]["instruments"]["gad7"]["bands"]["bands"][-1]["max"] = 20

    assert any("bands end at 20" in p for p in _broken(m))


def test_assumption_needs_rationale_and_ids_are_unique():
    def m(raw):
        srcs = raw["sources.yaml"]["sources"]
        for s in srcs:
            if s["kind"] == "assumption":
                s.pop("rationale")
                break
        srcs.append(copy.deepcopy(srcs[0]))

    problems = _broken(m)
    assert any("assumption without rationale" in p for p in problems)
    assert any("duplicate source id" in p for p in problems)


def test_all_problems_listed_at_once():
    def m(raw):
        raw["drugs.yaml"]["drugs"]["sertraline"]["colour"] = "blue"
        raw["scales.yaml"]["instruments"]["phq9"]["bands"]["source"] = {"id": "no_such_paper"}
        raw["drugs.yaml"]["drugs"]["sertraline"]["usual_mg_per_day"]["low"] = 500
        raw["screening.yaml"]["modalities"]["iv_ketamine"]["items"]["made_up_item"] = {
            "severity": "warning",
            "source": {"id": "case_record_spec_v1"},
        }

    problems = _broken(m)
    assert len(problems) >= 4
    assert any("made_up_item" in p for p in problems)


def test_load_raises_with_every_problem(monkeypatch):
    raw = copy.deepcopy(knowledge.load_raw())
    raw["drugs.yaml"]["drugs"]["sertraline"]["class"] = "nonsense"
    raw["trd_definitions.yaml"]["default"] = "nope"
    monkeypatch.setattr(knowledge, "load_raw", lambda: raw)
    knowledge.load.cache_clear()
    try:
        with pytest.raises(KnowledgeBaseError) as info:
            knowledge.load()
        text = str(info.value)
        assert "unknown class 'nonsense'" in text and "unknown definition 'nope'" in text
    finally:
        knowledge.load.cache_clear()


def test_definitions_named_and_parameterised(kb):
    defs = kb.trd.definitions
    assert kb.trd.default == "label_atrq"
    assert {"label_atrq", "eupearl2022", "fava2020"} <= set(defs)
    # the three definitions differ exactly where the sources differ
    assert (
        defs["label_atrq"].min_weeks.value,
        defs["label_atrq"].failure.comparison,
        defs["label_atrq"].failure.percent,
    ) == (6, "<=", 25)
    assert (
        defs["eupearl2022"].min_weeks.value,
        defs["eupearl2022"].failure.comparison,
        defs["eupearl2022"].failure.percent,
    ) == (4, "<", 25)
    assert (
        defs["fava2020"].min_weeks.value,
        defs["fava2020"].failure.comparison,
        defs["fava2020"].failure.percent,
    ) == (6, "<", 50)


def test_atrq_dose_column_matches_reference_table(kb):
    """REFERENCE 1.3b, the project's default dose table (mg/day)."""
    table = {
        "citalopram": 20,
        "escitalopram": 10,
        "fluoxetine": 20,
        "paroxetine": 20,
        "sertraline": 50,
        "fluvoxamine": 50,
        "venlafaxine": 150,
        "desvenlafaxine": 50,
        "duloxetine": 60,
        "levomilnacipran": 40,
        "bupropion": 300,
        "mirtazapine": 15,
        "vortioxetine": 10,
        "vilazodone": 40,
        "trazodone": 300,
        "amitriptyline": 150,
        "clomipramine": 150,
        "desipramine": 150,
        "imipramine": 150,
        "nortriptyline": 75,
        "phenelzine": 45,
        "tranylcypromine": 30,
        "quetiapine": 150,
    }
    for drug, dose in table.items():
        entry = kb.drugs.drugs[drug].min_adequate["atrq"]
        assert entry.mg_per_day == dose, drug
        assert {kb.sources[s.id].verification for s in entry.source} == {"secondary"}, drug


@pytest.mark.parametrize("drug", ["aripiprazole", "lithium", "liothyronine"])
def test_values_missing_from_the_transcription_are_unverified(kb, drug):
    entry = kb.drugs.drugs[drug].min_adequate["atrq"]
    assert "unverified" in {kb.sources[s.id].verification for s in entry.source}


def test_unverified_reference_facts_are_encoded_unverified(kb):
    v = kb.verification_of
    assert v("thase_rush_1997") == "unverified"  # citation UNVERIFIED in 2.1
    assert v("fava2003_mghs") == "unverified"
    assert v("cadss_item_scoring") == "unverified"  # CADSS 0-4 / 0-92 UNVERIFIED in 5.7
    assert v("cssrs_moderate_tier") == "unverified"
    assert v("rxnorm_recalled") == "unverified"
    cadss = kb.scales.instruments["cadss"]
    assert "unverified" in {v(s.id) for s in cadss.total.source}
    moderate = next(t for t in kb.suicide.cssrs_screener.tiers if t.level == "moderate")
    assert "unverified" in {v(s.id) for s in moderate.source}


def test_every_assumption_has_a_rationale(kb):
    for s in kb.sources.values():
        if s.kind == "assumption":
            assert s.rationale and len(s.rationale) > 40, s.id
            assert s.verification == "unverified", s.id


def test_spravato_contraindications_are_the_label_three(kb):
    esk = kb.screening.modalities["esketamine_nasal"].items
    ci = sorted(k for k, v in esk.items() if v.severity == "contraindication")
    assert ci == [
        "aneurysmal_vascular_disease",
        "arteriovenous_malformation",
        "intracerebral_hemorrhage_history",
        "ketamine_hypersensitivity",
    ]


def test_modality_severities_follow_the_spec(kb):
    items = set(kb.screening.items)
    mods = kb.screening.modalities
    base4 = {
        "aneurysmal_vascular_disease",
        "arteriovenous_malformation",
        "intracerebral_hemorrhage_history",
        "ketamine_hypersensitivity",
    }
    iv_ci = base4 | {"uncontrolled_hypertension", "unstable_cardiovascular_disease"}
    home_ci = iv_ci | {
        "no_support_person",
        "substance_use_disorder_active",
        "ketamine_misuse_history",
        "suicide_risk_high",
    }
    for name, want in (
        ("esketamine_nasal", base4),
        ("iv_ketamine", iv_ci),
        ("at_home_ketamine", home_ci),
    ):
        got = {k for k, v in mods[name].items.items() if v.severity == "contraindication"}
        assert got == want, name
    # every record screening item except the at-home-only support person is screened for all
    common = items - {"no_support_person", "suicide_risk_high"}
    for name in mods:
        assert common <= set(mods[name].items), name


def test_screening_items_match_the_case_record_fields(kb):
    from kdsupport.case import Patient, Screening

    for name, item in kb.screening.items.items():
        head, _, field = item.field.partition(".")
        if head == "screening":
            assert field in Screening.model_fields, name
        elif head == "patient":
            assert field in Patient.model_fields, name
    record_items = {
        i.field.split(".")[1]
        for i in kb.screening.items.values()
        if i.field.startswith("screening.")
    }
    assert record_items == set(Screening.model_fields)


@pytest.mark.skipif(not REFERENCE.exists(), reason="shared/clinical/REFERENCE.md not present")
def test_every_source_points_to_a_reference_section(kb):
    text = REFERENCE.read_text(encoding="utf-8")
    for s in kb.sources.values():
        if s.kind == "specification" or (s.kind == "assumption" and s.reference is None):
            continue
        assert s.reference, s.id
        for sec in re.split(r",\s*", s.reference):
            assert re.search(rf"^#+ {re.escape(sec)}\b", text, re.M), f"{s.id}: section {sec}"
