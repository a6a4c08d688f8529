"""Scales: every band boundary, flags, missing items; response and remission."""

from __future__ import annotations

import pytest
from conftest import make_record, run


def scored(adm):
    rec = make_record(assessments=[adm])
    return run(rec)["scales"][0]


def items_summing_to(total, count, top):
    out = []
    for _ in range(count):
        v = min(top, total)
        out.append(v)
        total -= v
    assert total == 0
    return out


BANDS = {
    "phq9": (
        9,
        3,
        [
            (0, "minimal"),
            (4, "minimal"),
            (5, "mild"),
            (9, "mild"),
            (10, "moderate"),
            (14, "moderate"),
            (15, "moderately_severe"),
            (19, "moderately_severe"),
            (20, "severe"),
            (27, "severe"),
        ],
    ),
    "madrs": (
        10,
        6,
        [
            (0, "normal"),
            (6, "normal"),
            (7, "mild"),
            (19, "mild"),
            (20, "moderate"),
            (34, "moderate"),
            (35, "severe"),
            (60, "severe"),
        ],
    ),
    "gad7": (
        7,
        3,
        [
            (0, "minimal"),
            (4, "minimal"),
            (5, "mild"),
            (9, "mild"),
            (10, "moderate"),
            (14, "moderate"),
            (15, "severe"),
            (21, "severe"),
        ],
    ),
}


@pytest.mark.parametrize(
    ("instrument", "total", "band"),
    [(ins, t, b) for ins, (_, _, cases) in BANDS.items() for t, b in cases],
)
def test_band_boundaries_from_total_and_from_items(instrument, total, band):
    count, top, _ = BANDS[instrument]
    assert scored({"instrument": instrument, "when": "baseline", "total": total})["band"] == band
    # items chosen so item 9 of the PHQ-9 stays 0 unless needed
    items = items_summing_to(total, count, top)
    s = scored({"instrument": instrument, "when": "baseline", "items": items})
    assert (s["total"], s["band"]) == (total, band)


@pytest.mark.parametrize(
    ("total", "band"),
    [
        (0, "none"),
        (5, "none"),
        (6, "mild"),
        (10, "mild"),
        (11, "moderate"),
        (15, "moderate"),
        (16, "severe"),
        (20, "severe"),
        (21, "very_severe"),
        (27, "very_severe"),
    ],
)
def test_qids_bands(total, band):
    assert scored({"instrument": "qids_sr16", "when": "baseline", "total": total})["band"] == band


def test_qids_reference_worked_example():
    """REFERENCE 5.3: sleep 3, mood 2, appetite 2, concentration 2, self 1, suicide 1,
    interest 2, energy 2, psychomotor 2 = 17, severe."""
    items = [2, 1, 3, 0, 2, 2, 0, 1, 0, 2, 1, 1, 2, 2, 1, 2]
    s = scored({"instrument": "qids_sr16", "when": "baseline", "items": items})
    assert (s["total"], s["band"]) == (17, "severe")


def test_phq9_item9_flag_and_unknown_item():
    s = scored({"instrument": "phq9", "when": "baseline", "items": [0] * 8 + [1]})
    assert s["flags"] == ["item9_positive"]
    s = scored({"instrument": "phq9", "when": "baseline", "items": [0] * 8 + [0]})
    assert s["flags"] == []
    s = scored({"instrument": "phq9", "when": "baseline", "items": [2] * 8 + [None]})
    assert (s["total"], s["band"], s["flags"]) == (None, None, ["item9_positive_unknown"])
    missing = {m for r in s["reasons"] for m in r.get("missing", [])}
    assert "assessments[0].items[8]" in missing


def test_total_only_skips_item_checks_and_says_so():
    s = scored({"instrument": "phq9", "when": "baseline", "total": 12})
    assert s["flags"] == [] and s["scored_from"] == "total"
    assert any(r["code"] == "scales.flags_skipped" for r in s["reasons"])


def test_no_items_no_total_is_unknown():
    s = scored({"instrument": "madrs", "when": "baseline"})
    assert (s["total"], s["band"]) == (None, None)


def test_moaas_bands_and_loss_of_consciousness():
    s = scored({"instrument": "moaas", "when": "session-1", "items": [0]})
    assert (s["total"], s["band"], s["flags"]) == (
        0,
        "no_response_to_pain",
        ["loss_of_consciousness"],
    )
    s = scored(
        {"instrument": "moaas", "when": "session-1", "total": 0}
    )  # one item: the total is the item
    assert s["flags"] == ["loss_of_consciousness"]
    assert scored({"instrument": "moaas", "when": "session-1", "total": 5})["band"] == "alert"


def test_cadss_total_has_no_band_and_is_marked_unverified():
    s = scored({"instrument": "cadss", "when": "session-1", "items": [1] * 23})
    assert (s["total"], s["band"]) == (23, None)
    codes = {r["code"] for r in s["reasons"]}
    assert "scales.scoring_unverified" in codes


def test_cssrs_is_listed_with_null_total():
    s = scored(
        {"instrument": "cssrs_screener", "when": "baseline", "answers": {"wish_to_be_dead": False}}
    )
    assert (s["total"], s["band"], s["scored_from"]) == (None, None, "answers")


# ---------------------------------------------------------------- outcome
def outcome(assessments, **kw):
    return run(make_record(assessments=assessments), **kw)["outcome"]


def madrs(when, total):
    return {"instrument": "madrs", "when": when, "total": total}


@pytest.mark.parametrize(("latest", "response"), [(18, True), (19, False), (0, True)])
def test_response_at_fifty_percent(latest, response):
    o = outcome([madrs("baseline", 36), madrs("session-8", latest)])
    assert o["response"] is response


@pytest.mark.parametrize(
    ("latest", "definition", "remission"),
    [
        (12, None, True),
        (13, None, False),
        (11, "madrs_le10_escape_trd", False),
        (10, "madrs_le10_escape_trd", True),
    ],
)
def test_madrs_remission_cutoffs(latest, definition, remission):
    o = outcome([madrs("baseline", 30), madrs("day-28", latest)], madrs_remission=definition)
    assert o["remission"] is remission
    assert o["remission_definition"] == (definition or "madrs_le12_janssen")


@pytest.mark.parametrize(("latest", "remission"), [(4, True), (5, False)])
def test_phq9_remission_below_five(latest, remission):
    o = outcome(
        [
            {"instrument": "phq9", "when": "baseline", "total": 20},
            {"instrument": "phq9", "when": "day-28", "total": latest},
        ]
    )
    assert (o["instrument"], o["remission"]) == ("phq9", remission)


@pytest.mark.parametrize(("latest", "remission"), [(5, True), (6, False)])
def test_qids_remission_five_or_less(latest, remission):
    o = outcome(
        [
            {"instrument": "qids_sr16", "when": "baseline", "total": 16},
            {"instrument": "qids_sr16", "when": "day-21", "total": latest},
        ]
    )
    assert o["remission"] is remission


def test_outcome_instrument_priority_and_latest():
    adms = [
        {"instrument": "phq9", "when": "baseline", "total": 20},
        {"instrument": "phq9", "when": "day-28", "total": 3},
        {"instrument": "qids_sr16", "when": "baseline", "total": 16},
        {"instrument": "qids_sr16", "when": "day-14", "total": 12},
        {"instrument": "qids_sr16", "when": "day-28", "total": 8},
        {"instrument": "madrs", "when": "baseline", "total": 30},  # no later MADRS: skipped
    ]
    o = outcome(adms)
    assert (o["instrument"], o["baseline"], o["latest"], o["latest_when"], o["response"]) == (
        "qids_sr16",
        16,
        8,
        "day-28",
        True,
    )


def test_no_outcome_without_baseline_and_later():
    assert outcome([madrs("day-1", 30), madrs("day-8", 10)]) is None
    assert outcome([madrs("baseline", 30)]) is None


def test_baseline_zero_gives_null_response():
    o = outcome([madrs("baseline", 0), madrs("day-8", 0)])
    assert (o["response"], o["remission"]) == (None, True)


def test_missing_total_gives_unknown_response():
    o = outcome(
        [
            {"instrument": "phq9", "when": "baseline", "items": [2] * 8 + [None]},
            {"instrument": "phq9", "when": "day-8", "total": 3},
        ]
    )
    assert (o["baseline"], o["response"], o["remission"]) == (None, None, True)
