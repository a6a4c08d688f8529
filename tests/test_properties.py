"""Property tests of kdsupport (hypothesis): robustness, monotonicity and invalid input.

a. Random valid records never crash ``assess`` under any definition; the output is JSON; the
   input dict and the record model are never modified.
b. Filling in unknown values never flips a decided conclusion (met <-> not met and the like).
c. Adding a failed adequate antidepressant trial never lowers TRD status or the staging scores.
d. Random corruptions are always invalid input: ``validate_case`` raises and the CLI exits 2
   without a traceback.

Strategies live in ``strategies.py``; every threshold comes from the knowledge base.
"""

from __future__ import annotations

import copy
import io
import json
import tempfile
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, event, given, note, settings
from hypothesis import strategies as st
from strategies import (
    CORRUPTIONS,
    DEFINITIONS,
    corrupt,
    failed_adequate_trial,
    null_some,
    valid_records,
)

from kdsupport.cli import main
from kdsupport.errors import InvalidInputError
from kdsupport.records.case import validate_case
from kdsupport.render.text import to_text
from kdsupport.rules.assess import assess

SETTINGS = dict(
    deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)

KNOWN_TRIAL = {"adequacy": ("adequate", "not_adequate"), "outcome": ("failed", "not_failed")}
KNOWN_MODALITY = ("contraindicated", "not_recommended", "caution", "clear")
KNOWN_CHECK = ("met", "not_met")
TRD_ORDER = {"not_met": 0, "unknown": 1, "met": 2}


def _show(rec: dict[str, Any]) -> str:
    return json.dumps(rec, indent=1, sort_keys=True, default=str)


# ---------------------------------------------------------------- a. never crashes
@settings(max_examples=120, **SETTINGS)
@given(rec=valid_records())
def test_valid_records_assess_without_crash_or_mutation(rec):
    before = copy.deepcopy(rec)
    record = validate_case(rec)
    dumped = record.model_dump()
    for name in DEFINITIONS:
        typed = assess(record, definition=name)
        result = typed.to_json()
        text = json.dumps(result, allow_nan=False)  # strict JSON: no NaN or infinity
        assert json.loads(text)["trd"]["definition"] == name
        assert result["case_id"] == rec["id"]
        assert isinstance(to_text(typed, record=record), str)  # `--format text` too
    assert rec == before, "validate_case/assess modified the input dict"
    assert record.model_dump() == dumped, "assess modified the record"


# ---------------------------------------------------------------- b. unknown -> known
def _check_not_flipped(P: dict[str, Any], F: dict[str, Any], partial: dict[str, Any]) -> None:
    # TRD status
    if P["trd"]["status"] != "unknown":
        assert F["trd"]["status"] == P["trd"]["status"], "trd.status"
    # each trial (P keeps every trial when it keeps the list)
    if isinstance(partial.get("trials"), list):
        assert len(P["trd"]["trials"]) == len(F["trd"]["trials"])
        for i, (pt, ft) in enumerate(zip(P["trd"]["trials"], F["trd"]["trials"], strict=True)):
            for key, known in KNOWN_TRIAL.items():
                if pt[key] in known:
                    assert ft[key] == pt[key], f"trials[{i}].{key}"
    # pre-dose BP: a known tier never goes down; consider_delay with a missing value may still
    # become severe (spec 5.8.7), and then every modality carries predose_bp_severe (5.8.2)
    p_tier, f_tier = P["predose_bp"]["status"], F["predose_bp"]["status"]
    became_severe = p_tier != "severe" and f_tier == "severe"
    if p_tier == "consider_delay":
        assert f_tier in ("consider_delay", "severe"), "predose_bp"
    elif p_tier != "unknown":
        assert f_tier == p_tier, "predose_bp"
    # suicide-risk level (not the action: an unknown PHQ-9 item 9 counts as positive)
    if P["suicide_risk"]["level"] != "unknown":
        assert F["suicide_risk"]["level"] == P["suicide_risk"]["level"], "suicide_risk.level"
    # modalities
    for m, pm in P["modalities"].items():
        if became_severe:
            assert F["modalities"][m]["status"] == "contraindicated", f"modalities.{m}"
        elif pm["status"] in KNOWN_MODALITY:
            assert F["modalities"][m]["status"] == pm["status"], f"modalities.{m}"
    # session checks, by index
    if isinstance(partial.get("sessions"), list):
        assert len(P["sessions"]) == len(F["sessions"])
        for i, (ps, fs) in enumerate(zip(P["sessions"], F["sessions"], strict=True)):
            for name, status in ps["checks"].items():
                # desaturation is unknown only when a session has no SpO2 value at all (spec
                # 5.8.5), so a filled-in SpO2 may still turn not_met into met
                if status in KNOWN_CHECK and name != "desaturation":
                    assert fs["checks"][name] == status, f"sessions[{i}].{name}"
            if ps["checks"]["desaturation"] == "met":
                assert fs["checks"]["desaturation"] == "met", f"sessions[{i}].desaturation"
    # outcome: nulling values never removes an administration, so the instrument is the same
    po, fo = P["outcome"], F["outcome"]
    if po is not None:
        assert fo is not None and fo["instrument"] == po["instrument"], "outcome instrument"
        for key in ("response", "remission"):
            if po[key] is not None:
                assert fo[key] == po[key], f"outcome.{key}"
    # staging
    ptr, ftr = P["staging"]["thase_rush"], F["staging"]["thase_rush"]
    if ptr["complete"]:
        assert ftr["stage"] == ptr["stage"], "thase_rush complete"
    assert ptr["stage"] <= ftr["stage"] <= ptr["possible_max"], "thase_rush bounds"
    pm, fm = P["staging"]["mgh_s"], F["staging"]["mgh_s"]
    if pm["complete"]:
        assert fm["score"] == pm["score"], "mgh_s complete"
    assert pm["score"] <= fm["score"], "mgh_s lower bound"
    if pm["possible_max"] is not None:
        assert fm["score"] <= pm["possible_max"], "mgh_s possible_max"
    ps_, fs_ = P["staging"]["msm"], F["staging"]["msm"]
    if ps_["complete"] and ps_["score"] is not None:
        assert fs_["score"] == ps_["score"], "msm complete"


@settings(max_examples=200, **SETTINGS)
@given(rec=valid_records(), data=st.data())
def test_filling_unknowns_never_flips_a_known_conclusion(rec, data):
    partial = null_some(rec, data)
    note(f"partial record:\n{_show(partial)}")
    full_record = validate_case(rec)
    partial_record = validate_case(partial)  # the nulled copy must still be valid
    for name in DEFINITIONS:
        F = assess(full_record, definition=name).to_json()
        P = assess(partial_record, definition=name).to_json()
        note(f"definition {name}")
        _check_not_flipped(P, F, partial)
        if name == DEFINITIONS[0]:  # what was compared (--hypothesis-show-statistics)
            event(f"P trd {P['trd']['status']} -> F trd {F['trd']['status']}")
            event(f"P suicide level {P['suicide_risk']['level']}")
            event(f"P thase-rush complete {P['staging']['thase_rush']['complete']}")


# ---------------------------------------------------------------- c. one more failure
@settings(max_examples=120, **SETTINGS)
@given(rec=valid_records(trials_list=True), extra=failed_adequate_trial(), data=st.data())
def test_adding_a_failed_adequate_trial_never_lowers_trd_or_staging(rec, extra, data):
    more = copy.deepcopy(rec)
    pos = data.draw(st.integers(0, len(more["trials"])), label="insert at")
    more["trials"].insert(pos, extra)
    before_record, after_record = validate_case(rec), validate_case(more)
    for name in DEFINITIONS:
        B = assess(before_record, definition=name).to_json()
        A = assess(after_record, definition=name).to_json()
        note(f"definition {name}")
        assert A["trd"]["trials"][pos]["outcome"] == "failed", (
            "the added trial must be a failed adequate trial"
        )
        assert TRD_ORDER[A["trd"]["status"]] >= TRD_ORDER[B["trd"]["status"]], "trd.status lowered"
        assert A["staging"]["thase_rush"]["stage"] >= B["staging"]["thase_rush"]["stage"], (
            "thase_rush lowered"
        )
        assert A["staging"]["mgh_s"]["score"] >= B["staging"]["mgh_s"]["score"], "mgh_s lowered"
        a_msm, b_msm = A["staging"]["msm"]["score"], B["staging"]["msm"]["score"]
        if name == DEFINITIONS[0]:
            event(
                f"trd {B['trd']['status']} -> {A['trd']['status']}; msm scored {b_msm is not None}"
            )
        if a_msm is not None and b_msm is not None:
            assert a_msm >= b_msm, "msm lowered"


# ---------------------------------------------------------------- d. invalid input
def _cli_exit_code(bad: dict[str, Any], fmt: str) -> tuple[int, str]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"case.{fmt}"
        if fmt == "json":
            path.write_text(json.dumps(bad), encoding="utf-8")
        else:
            path.write_text(
                yaml.safe_dump(bad, allow_unicode=True, sort_keys=False), encoding="utf-8"
            )
        out, err = io.StringIO(), io.StringIO()
        with redirect_stdout(out), redirect_stderr(err):
            code = main(["assess", str(path)])
    return code, err.getvalue()


@pytest.mark.parametrize("kind", CORRUPTIONS)
@settings(max_examples=10, **SETTINGS)
@given(rec=valid_records(), data=st.data(), fmt=st.sampled_from(["json", "yaml"]))
def test_corrupted_records_are_invalid_input(kind, rec, data, fmt):
    bad, kind = corrupt(rec, data, kind)
    note(f"corruption {kind}:\n{_show(bad)}")
    with pytest.raises(InvalidInputError):
        validate_case(bad)
    code, err = _cli_exit_code(bad, fmt)
    assert "Traceback" not in err
    assert code == 2, err


# ---------------------------------------------------------------- e. safety (spec section 5)
# A modality status is never better after a reading got worse; from better to worse:
MODALITY_RANK = {
    "clear": 0,
    "caution": 1,
    "not_recommended": 2,
    "incomplete": 3,
    "contraindicated": 4,
}
# How good a check result is, by its kind (a finding that happened is the worst result).
GOODNESS = {
    "compliance": {"met": 2, "unknown": 1, "not_met": 0},
    "finding": {"not_met": 2, "unknown": 1, "met": 0},
}


def _worse_reading(reading: dict[str, Any], data: Any) -> dict[str, Any]:
    """The same reading, worse: higher BP, lower SpO2 (values that exist stay known)."""
    out = dict(reading)
    for key in ("systolic_mmhg", "diastolic_mmhg"):
        if out.get(key) is not None:
            out[key] = min(
                300 if key == "systolic_mmhg" else 200,
                out[key] + data.draw(st.integers(0, 80), label=f"raise {key}"),
            )
    if out.get("systolic_mmhg") is not None and out.get("diastolic_mmhg") is not None:
        if out["diastolic_mmhg"] >= out["systolic_mmhg"]:
            out["diastolic_mmhg"] = out["systolic_mmhg"] - 1
    if out.get("spo2_percent") is not None:
        out["spo2_percent"] = max(50, out["spo2_percent"] - data.draw(st.integers(0, 15)))
    return out


@settings(max_examples=150, **SETTINGS)
@given(rec=valid_records(), data=st.data())
def test_a_worse_reading_never_makes_a_status_or_a_check_better(rec, data):
    worse = copy.deepcopy(rec)
    if isinstance(worse.get("vitals"), dict):
        worse["vitals"] = _worse_reading(worse["vitals"], data)
    for s in worse.get("sessions") or []:
        # post-dose readings only: a higher minute-0 reading would make a later rise smaller
        s["vitals"] = [
            _worse_reading(r, data) if r["minute"] > 0 else r for r in s.get("vitals") or []
        ] or s.get("vitals")
        for m in s.get("moaas") or []:
            if m.get("score") is not None:
                m["score"] = max(0, m["score"] - data.draw(st.integers(0, 5), label="lower MOAA/S"))
    B, W = assess(validate_case(rec)).to_json(), assess(validate_case(worse)).to_json()
    note(f"worse record:\n{_show(worse)}")
    for m in B["modalities"]:
        assert (
            MODALITY_RANK[W["modalities"][m]["status"]]
            >= MODALITY_RANK[B["modalities"][m]["status"]]
        ), m
    tiers = {"ok": 0, "consider_delay": 1, "severe": 2}
    if B["predose_bp"]["status"] in tiers:
        assert tiers[W["predose_bp"]["status"]] >= tiers[B["predose_bp"]["status"]]
    for bs, ws in zip(B["sessions"], W["sessions"], strict=True):
        for name, status in bs["checks"].items():
            goodness = GOODNESS[bs["check_kinds"][name]]
            assert goodness[ws["checks"][name]] <= goodness[status], (bs["number"], name)


@settings(max_examples=120, **SETTINGS)
@given(rec=valid_records(), data=st.data())
def test_a_present_contraindication_item_always_gives_contraindicated(rec, data):
    from kdsupport.knowledge import load

    kb = load()
    modality = data.draw(st.sampled_from(sorted(kb.screening.modalities)), label="modality")
    items = kb.screening.modalities[modality].items
    candidates = sorted(
        name
        for name, spec in items.items()
        if spec.severity == "contraindication"
        and kb.screening.items[name].field.startswith("screening.")
    )
    name = data.draw(st.sampled_from(candidates), label="item")
    item = kb.screening.items[name]
    rec = copy.deepcopy(rec)
    rec.setdefault("screening", {})
    if rec["screening"] is None:
        rec["screening"] = {}
    rec["screening"][item.field.split(".")[1]] = item.present_when
    a = assess(validate_case(rec)).to_json()
    assert a["modalities"][modality]["status"] == "contraindicated"
    assert any(f["item"] == name and f["present"] for f in a["modalities"][modality]["findings"])


@settings(max_examples=80, **SETTINGS)
@given(rec=valid_records())
def test_a_met_finding_never_renders_in_the_success_style(rec):
    from kdsupport.render import html as H

    typed = assess(validate_case(rec))
    a = typed.to_json()
    text = to_text(typed, record=validate_case(rec))
    for i, s in enumerate(a["sessions"]):
        html = H.session_checks_html(typed, i)
        rows = html.split("<tr>")[2:]  # after the header row
        for (name, status), row in zip(s["checks"].items(), rows, strict=True):
            kind = s["check_kinds"][name]
            assert f"kd-{kind}-{status}" in row
            if kind == "finding" and status == "met":
                event("a finding happened")
                assert H.SUCCESS not in row and "&#10003;" not in row and ">done<" not in row
                assert "HAPPENED" in row
    # in the worksheet, findings that happened are listed under their own warning heading
    happened = [
        n
        for s in a["sessions"]
        for n, st_ in s["checks"].items()
        if (s["check_kinds"][n], st_) == ("finding", "met")
    ]
    if happened:
        assert (
            "!! FINDINGS THAT HAPPENED" in text
            and "checks done: " not in text.split("!! FINDINGS THAT HAPPENED")[1].split("\n")[0]
        )
    from kdsupport.rules.result import CheckKind, Status

    met, finding = Status.MET, CheckKind.FINDING
    for status in Status:
        assert H.SUCCESS not in H.check_badge(met, finding)
        assert "HAPPENED" in H.check_badge(met, finding)
        assert H.check_badge(status, finding) != H.check_badge(met, CheckKind.COMPLIANCE)
