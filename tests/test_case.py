"""Case-record validation: every problem, by field path, with allowed values."""

from __future__ import annotations

import json

import pytest
from conftest import make_record, trial

from kdsupport.errors import InvalidInputError
from kdsupport.records.case import case_json_schema, load_case, validate_case


def problems(rec) -> list[str]:
    with pytest.raises(InvalidInputError) as info:
        validate_case(rec)
    return [str(p) for p in info.value.problems]


def test_valid_record_round_trips():
    record = validate_case(make_record())
    assert record.id == "test-case" and record.trials[0].drug == "sertraline"


def test_missing_means_unknown_not_default():
    rec = make_record()
    for key in ("diagnosis", "trials", "ect", "screening", "vitals", "assessments", "sessions"):
        rec.pop(key)
    record = validate_case(rec)
    assert record.trials is None and record.screening is None and record.vitals is None


@pytest.mark.parametrize(
    ("change", "path", "fragment"),
    [
        ({"synthetic": False}, "synthetic", "synthetic records only"),
        ({"format": "kdsupport-case/2"}, "format", "'kdsupport-case/1'"),
        ({"id": "TR 14"}, "id", "lower-case letters, digits and '-'"),
        ({"colour": "blue"}, "colour", "unknown field"),
    ],
)
def test_top_level_problems(change, path, fragment):
    found = problems(make_record(**change))
    assert any(p.startswith(f"{path}:") and fragment in p for p in found), found


def test_record_without_synthetic_is_refused():
    rec = make_record()
    del rec["synthetic"]
    found = problems(rec)
    assert found == [
        "synthetic: must be true: kdsupport accepts synthetic records only, this record is refused (field missing)"
    ]


def test_field_errors_name_path_value_and_allowed_values():
    rec = make_record()
    rec["patient"].update(age_years=9, sex="man", pregnant="yes")
    rec["trials"][1]["weeks"] = -3
    rec["trials"][0]["adherence"] = "good"
    found = problems(rec)
    assert "patient.age_years: must be >= 12, got 9" in found
    assert (
        "patient.sex: must be one of 'female', 'male', 'intersex' or 'unknown' (or null when not known), got 'man'"
        in found
    )
    assert "patient.pregnant: must be true or false (or null when not known), got 'yes'" in found
    assert "trials[1].weeks: must be > 0, got -3" in found
    assert any(
        p.startswith("trials[0].adherence: must be one of 'adequate' or 'inadequate'")
        for p in found
    )
    assert len(found) == 5  # every problem at once


def test_integers_are_integers():
    rec = make_record()
    rec["patient"]["age_years"] = 40.0
    rec["assessments"].append(
        {"instrument": "phq9", "when": "baseline", "items": [1, 1, 1, 1, 1, 1, 1, 1, 1.5]}
    )
    found = problems(rec)
    assert "patient.age_years: must be a whole number, got 40.0" in found
    assert (
        "assessments[1].items[8]: must be a whole number (or null when not known), got 1.5" in found
    )


def test_unknown_drug_suggests_the_closest_generic_name():
    rec = make_record(trials=[{**trial("sertraline"), "drug": "Setraline"}])
    assert problems(rec) == ["trials[0].drug: unknown drug 'Setraline'; did you mean 'sertraline'?"]


def test_brand_name_lists_known_generics():
    rec = make_record(trials=[{**trial("sertraline"), "drug": "zoloft"}])
    (msg,) = problems(rec)
    assert msg.startswith("trials[0].drug: unknown drug 'zoloft'; use a generic name, one of: ")
    assert "sertraline" in msg and "citalopram" in msg


def test_drug_names_are_case_insensitive():
    record = validate_case(make_record(trials=[{**trial("sertraline"), "drug": "SERTRALINE"}]))
    assert record.trials[0].drug == "sertraline"


def test_augmentation_agent_must_have_augmentation_role():
    rec = make_record(trials=[trial("aripiprazole", role="monotherapy")])
    assert problems(rec) == [
        "trials[0].role: aripiprazole is an augmentation agent (Atypical antipsychotic (augmentation "
        "agent)), so role must be 'augmentation', got 'monotherapy'"
    ]


def test_serum_level_only_for_lithium():
    rec = make_record(trials=[trial("sertraline", serum_level_mmol_l=0.6)])
    assert problems(rec) == [
        "trials[0].serum_level_mmol_l: only lithium is judged on a serum level; give dose_mg_per_day for sertraline"
    ]
    validate_case(make_record(trials=[trial("lithium", dose_mg_per_day=800)]))  # a dose is allowed


def test_male_cannot_be_pregnant():
    rec = make_record()
    rec["patient"].update(sex="male", pregnant=True)
    assert problems(rec) == ["patient.pregnant: cannot be true when sex is 'male'"]


def test_diastolic_must_be_below_systolic():
    rec = make_record(vitals={"systolic_mmhg": 120, "diastolic_mmhg": 120})
    rec["sessions"] = [
        {
            "number": 1,
            "modality": "esketamine_nasal",
            "vitals": [{"minute": 0, "systolic_mmhg": 100, "diastolic_mmhg": 110}],
        }
    ]
    found = problems(rec)
    assert "vitals.diastolic_mmhg: must be below systolic_mmhg (120), got 120" in found
    assert (
        "sessions[0].vitals[0].diastolic_mmhg: must be below systolic_mmhg (100), got 110" in found
    )


@pytest.mark.parametrize(
    ("adm", "want"),
    [
        (
            {"instrument": "phq9", "when": "baseline", "items": [1] * 8},
            "assessments[1].items: phq9 has 9 items, got 8",
        ),
        (
            {"instrument": "madrs", "when": "baseline", "items": [7] + [0] * 9},
            "assessments[1].items[0]: madrs item scores are 0-6, got 7",
        ),
        (
            {"instrument": "gad7", "when": "baseline", "total": 22},
            "assessments[1].total: gad7 totals are 0-21, got 22",
        ),
        (
            {"instrument": "phq9", "when": "baseline", "items": [1] * 9, "total": 10},
            "assessments[1].total: 10 does not match the total of the items (9)",
        ),
        (
            {"instrument": "phq9", "when": "baseline", "items": [1] * 8 + [None], "total": 8},
            "assessments[1].total: cannot be combined with items that contain null (no proration): give all items, or the total alone",
        ),
        (
            {"instrument": "cssrs_screener", "when": "baseline", "total": 3},
            "assessments[1].total: cssrs_screener has no total; give its answers",
        ),
        (
            {"instrument": "madrs", "when": "baseline", "total": 20, "answers": {"plan": True}},
            "assessments[1].answers: answers belong to cssrs_screener, not madrs",
        ),
        (
            {"instrument": "hamd17", "when": "baseline", "total": 10},
            "assessments[1].instrument: must be one of",
        ),
        (
            {"instrument": "madrs", "when": "week 3", "total": 10},
            "assessments[1].when: must be 'baseline', 'session-N', 'day-N' or an ISO date (YYYY-MM-DD), got 'week 3'",
        ),
        (
            {"instrument": "madrs", "when": "2024-02-30", "total": 10},
            "assessments[1].when: '2024-02-30' is not a real calendar date",
        ),
    ],
)
def test_scale_problems(adm, want):
    rec = make_record()
    rec["assessments"].append(adm)
    found = problems(rec)
    assert any(p.startswith(want) for p in found), found


def test_qids_total_is_checked_against_domains():
    items = [0, 1, 3, 0, 2, 2, 0, 1, 0, 2, 1, 1, 2, 2, 1, 2]  # REFERENCE 5.3 worked example: 17
    rec = make_record()
    rec["assessments"].append(
        {"instrument": "qids_sr16", "when": "baseline", "items": items, "total": 17}
    )
    validate_case(rec)
    rec["assessments"][-1]["total"] = 24  # the plain sum, not the domain score
    assert problems(rec) == ["assessments[1].total: 24 does not match the total of the items (17)"]


def test_session_problems():
    rec = make_record(
        sessions=[
            {
                "number": 1,
                "modality": "esketamine_nasal",
                "moaas": [{"minute": 40, "score": 6}],
                "cadss_total": 93,
            },
            {
                "number": 1,
                "modality": "iv_ketamine",
                "vitals": [{"minute": -5, "systolic_mmhg": 120}],
            },
            {"number": 2, "modality": "home"},
        ]
    )
    found = problems(rec)
    assert "sessions[0].moaas[0].score: MOAA/S scores are 0-5, got 6" in found
    assert "sessions[0].cadss_total: CADSS totals are 0-92, got 93" in found
    assert "sessions[1].number: duplicate session number 1 (also sessions[0])" in found
    assert "sessions[1].vitals[0].minute: must be >= 0, got -5" in found
    assert any(
        p.startswith("sessions[2].modality: must be one of 'esketamine_nasal'") for p in found
    )


def test_unknown_nested_key_suggests_the_right_one():
    rec = make_record()
    rec["trials"][0]["weks"] = 5
    (msg,) = problems(rec)
    assert msg.startswith(
        "trials[0].weks: unknown field; did you mean 'weeks'? (allowed here: drug, role, episode"
    )


def test_problems_are_listed_in_record_order():
    rec = make_record()
    rec["assessments"].append({"instrument": "gad7", "when": "baseline", "total": 30})
    rec["patient"]["age_years"] = 200
    rec["id"] = "BAD"
    found = problems(rec)
    assert [p.split(":")[0] for p in found] == ["id", "patient.age_years", "assessments[1].total"]


def test_not_a_mapping():
    with pytest.raises(InvalidInputError) as info:
        validate_case(["a", "list"])
    assert "a case record must be a mapping" in str(info.value)


def test_yaml_dates_stay_text_and_json_loads(tmp_path):
    rec = make_record()
    rec["assessments"].append({"instrument": "madrs", "when": "2024-03-01", "total": 20})
    path = tmp_path / "c.json"
    path.write_text(json.dumps(rec))
    assert load_case(path).assessments[1].when == "2024-03-01"
    ypath = tmp_path / "c.yaml"
    ypath.write_text(path.read_text().replace('"2024-03-01"', "2024-03-01"))
    assert load_case(ypath).assessments[1].when == "2024-03-01"


def test_unreadable_files(tmp_path):
    with pytest.raises(InvalidInputError, match="file not found"):
        load_case(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("a: [\n")
    with pytest.raises(InvalidInputError, match=r"not valid YAML \(line 2, column 1\)"):
        load_case(bad)


def test_invalid_input_error_is_picklable():
    import pickle

    with pytest.raises(InvalidInputError) as info:
        validate_case(make_record(synthetic=False))
    again = pickle.loads(pickle.dumps(info.value))
    assert again.problems == info.value.problems


def test_json_schema_describes_the_record():
    schema = case_json_schema()
    assert schema["properties"]["format"]["const"] == "kdsupport-case/1"
    assert set(schema["required"]) == {"format", "id", "synthetic", "patient"}
    assert "trials" in schema["properties"]
    assert schema["additionalProperties"] is False
