"""The knowledge base: validated as a whole, every problem listed at once."""

from __future__ import annotations

import copy
import re
from pathlib import Path

import pytest

from kdsupport import knowledge
from kdsupport.errors import KnowledgeBaseError
from kdsupport.knowledge import loader

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
    monkeypatch.setattr(loader, "load_raw", lambda: raw)
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


def test_spravato_label_contraindications_are_the_label_four_plus_the_bp_warning(kb):
    # spec 5.2: the label's section 4 (four items) and, from its BP warning, three more
    esk = kb.screening.modalities["esketamine_nasal"].items
    ci = sorted(k for k, v in esk.items() if v.severity == "contraindication")
    assert ci == [
        "aneurysmal_vascular_disease",
        "arteriovenous_malformation",
        "intracerebral_hemorrhage_history",
        "ketamine_hypersensitivity",
        "predose_bp_severe",
        "raised_intracranial_pressure",
        "uncontrolled_hypertension",
        "unstable_cardiovascular_disease",
    ]
    label_four = {
        "aneurysmal_vascular_disease",
        "arteriovenous_malformation",
        "intracerebral_hemorrhage_history",
        "ketamine_hypersensitivity",
    }
    for item in label_four:
        assert "spravato_uspi_contraindications" in kb.source_ids(esk[item].source)
    for item in ("uncontrolled_hypertension", "unstable_cardiovascular_disease"):
        assert "spravato_label_bp_2021" in kb.source_ids(esk[item].source)
        assert "clinician confirms" in (esk[item].note or "")


# The mapping of case-record spec section 5.2 / 5.3 (5.8), written out from the spec text.
BASE4 = {
    "aneurysmal_vascular_disease",
    "arteriovenous_malformation",
    "intracerebral_hemorrhage_history",
    "ketamine_hypersensitivity",
}
BP3 = {
    "uncontrolled_hypertension",
    "unstable_cardiovascular_disease",
    "raised_intracranial_pressure",
}
SPEC_MAPPING = {
    "esketamine_nasal": {
        "contraindication": BASE4 | BP3 | {"predose_bp_severe"},
        "not_recommended": {
            "pregnant",
            "breastfeeding",
            "severe_hepatic_impairment",
            "age_under_18",
            "outside_indication",
        },
        "warning": {
            "moderate_hepatic_impairment",
            "psychosis_history",
            "current_psychosis_or_mania",
            "substance_use_disorder_active",
            "ketamine_misuse_history",
            "interstitial_cystitis",
            "cns_depressant_use",
            "maoi_or_psychostimulant_use",
            "age_65_or_over",
            "urgent_suicide_evaluation",
        },
    },
    "iv_ketamine": {
        "contraindication": BASE4 | BP3 | {"predose_bp_severe"},
        "not_recommended": {
            "pregnant",
            "breastfeeding",
            "severe_hepatic_impairment",
            "age_under_18",
        },
        "warning": {
            "moderate_hepatic_impairment",
            "psychosis_history",
            "current_psychosis_or_mania",
            "substance_use_disorder_active",
            "ketamine_misuse_history",
            "interstitial_cystitis",
            "cns_depressant_use",
            "maoi_or_psychostimulant_use",
            "outside_indication",
            "urgent_suicide_evaluation",
        },
    },
}
SPEC_MAPPING["at_home_ketamine"] = {
    "contraindication": SPEC_MAPPING["iv_ketamine"]["contraindication"]
    | {
        "age_under_18",
        "no_support_person",
        "substance_use_disorder_active",
        "ketamine_misuse_history",
        "suicide_risk_high",
        "urgent_suicide_evaluation",
    },
    "not_recommended": {"pregnant", "breastfeeding", "severe_hepatic_impairment"},
    "warning": {
        "moderate_hepatic_impairment",
        "psychosis_history",
        "current_psychosis_or_mania",
        "interstitial_cystitis",
        "cns_depressant_use",
        "maoi_or_psychostimulant_use",
        "outside_indication",
    },
}


@pytest.mark.parametrize("modality", sorted(SPEC_MAPPING))
def test_modality_severities_follow_spec_section_5(kb, modality):
    items = kb.screening.modalities[modality].items
    for severity, want in SPEC_MAPPING[modality].items():
        got = {k for k, v in items.items() if v.severity == severity}
        assert got == want, (modality, severity, got ^ want)
    assert set(items) == set().union(*SPEC_MAPPING[modality].values())


def test_outside_indication_derivation_differs_by_modality(kb):
    mods = kb.screening.modalities
    assert mods["esketamine_nasal"].items["outside_indication"].derivation == (
        "labelled_indications"
    )
    for m in ("iv_ketamine", "at_home_ketamine"):
        assert mods[m].items["outside_indication"].derivation == "diagnosis_mdd"


def test_the_project_contract_is_never_tagged_verified(kb):
    for s in kb.sources.values():
        assert (s.kind == "specification") == (s.verification == "project_contract"), s.id
        if s.kind == "assumption":
            assert s.verification == "unverified" and s.rationale, s.id
    # spec 5.7: a calculator site's Thase-Rush and a review's MGH-S panel are secondary digests
    assert kb.sources["medicalalgorithms_trsm"].verification == "secondary"
    assert kb.sources["plosone2020_panel1"].verification == "secondary"


def test_disputed_minimum_doses_name_the_other_value(kb):
    for drug, other in (("mirtazapine", 30), ("fluvoxamine", 100)):
        (dispute,) = kb.drugs.drugs[drug].min_adequate["atrq"].disputed_by
        assert dispute.mg_per_day == other
        assert kb.source_ids(dispute.source) == ("recalled_minimum_doses",)


def test_new_thresholds_are_sourced_and_site_defaults_are_assumptions(kb):
    g = kb.vitals.predose_bp_guide
    assert g.severe.default == "acc_aha_2017"
    d = g.severe.definitions["acc_aha_2017"]
    assert (d.systolic_above_mmhg.value, d.diastolic_above_mmhg.value) == (180, 120)
    assert g.severe.definitions["urgency_180_110"].diastolic_above_mmhg.value == 110
    checks = kb.vitals.session_monitoring.checks
    assert checks["desaturation"].spo2_below_percent.value == 90
    assert "assumption_desaturation_threshold" in kb.source_ids(
        checks["desaturation"].spo2_below_percent.source
    )
    assert checks["deep_sedation"].max_score.value == 2
    assert checks["loss_of_consciousness"].max_score.value == 0
    kinds = {n: c.kind for n, c in checks.items()}
    assert {n for n, k in kinds.items() if k == "finding"} == {
        "bp_rise",
        "bp_severe",
        "desaturation",
        "deep_sedation",
        "loss_of_consciousness",
    }
    for name in ("assumption_severe_bp_site_default", "assumption_discharge_bp_acceptable"):
        assert kb.sources[name].kind == "assumption"


def test_screening_items_match_the_case_record_fields(kb):
    from kdsupport.records.case import Patient, Screening

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
