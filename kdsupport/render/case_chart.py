"""The case record as a clinician's chart: what was recorded, never what the rules conclude.

The walkthrough shows this chart beside its questions so that every question can be answered
from the page: patient and diagnosis, the treatment history (trials and ECT), screening answers
as present / absent / **not assessed**, the pre-dose vitals, every scale administration (the
C-SSRS answers in words) and each session's vitals, MOAA/S, CADSS, observation time, adverse
events and the clinician's discharge judgement, each session also as a figure drawn without
thresholds or findings.

Nothing here calls a rule: no adequacy, no status, no flag. A missing value reads "not
recorded" (or "not assessed" for a screening item, "not asked" for a C-SSRS question), never
"no". Every text is escaped.

Which part of the chart a question is about comes from its ``answer_rule`` alone
(:func:`sections_for_rule`), the same for every case, so it cannot hint at the answer.

For training with synthetic patients; not a medical device.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kdsupport.knowledge.wording import modality_title
from kdsupport.records.model import SESSION_DAY_FIELDS
from kdsupport.render.html import esc

if TYPE_CHECKING:
    from kdsupport.records.case import CaseRecord, Session

__all__ = [
    "SECTIONS",
    "sections_for_rule",
    "section_of_field",
    "section_html",
    "session_figure_html",
    "anchor",
]

# The chart's parts, in the order a clinician reads a chart.
SECTIONS: dict[str, str] = {
    "presentation": "Presentation",
    "patient": "Patient and diagnosis",
    "trials": "Treatment history",
    "screening": "Screening answers",
    "vitals": "Vital signs before treatment",
    "scales": "Rating scales",
    "sessions": "Treatment sessions",
}

# Which parts of the chart each family of answer rules reads. Static, so that the list never
# depends on a case's answer. A test checks that every record field a rule's reasons cite lies
# in one of the parts its questions point to.
_RULE_SECTIONS: list[tuple[str, tuple[str, ...]]] = [
    ("trd.", ("trials", "patient")),
    ("staging.msm", ("trials", "patient")),
    ("staging.", ("trials",)),
    ("modalities.", ("screening", "patient", "vitals", "scales")),
    ("predose_bp.", ("vitals", "screening")),
    ("suicide_risk.", ("scales",)),
    ("scales", ("scales",)),
    ("outcome.", ("scales",)),
    ("sessions", ("sessions",)),
    ("alerts.", ("vitals", "scales")),
]
# Words of the session rules that read the dosing schedule (docs/authoring.md §5).
_SCHEDULE_WORDS = ("schedule", "too_many_in_week", "allowed_doses", "dose_off", "problem_checks")
# Record fields by the part of the chart that shows them.
_FIELD_SECTIONS = {
    "patient": "patient",
    "diagnosis": "patient",
    "trials": "trials",
    "ect": "trials",
    "screening": "screening",
    "vitals": "vitals",
    "assessments": "scales",
    "sessions": "sessions",
}

_NOT_RECORDED = "<span class='kd-missing'>not recorded</span>"
_NOT_ASKED = "<b class='kd-missing'>not asked</b>"
_DIAGNOSIS_WORDS = {
    "mdd": "major depressive disorder",
    "bipolar_depression": "bipolar depression",
    "other": "other",
}


def anchor(section: str) -> str:
    """The HTML id of a chart part (for in-page links)."""
    return f"kd-chart-{section}"


def sections_for_rule(rule: str) -> tuple[str, ...]:
    """The parts of the chart a question with ``answer_rule`` ``rule`` is about."""
    if rule.startswith("sessions") and any(w in rule for w in _SCHEDULE_WORDS):
        return ("sessions", "patient")  # the dosing table depends on the patient's age
    for prefix, sections in _RULE_SECTIONS:
        if rule.startswith(prefix):
            return sections
    return tuple(s for s in SECTIONS if s != "presentation")


def section_of_field(path: str) -> str | None:
    """The chart part that shows a record field (``sessions[0].vitals`` -> ``sessions``)."""
    head = path.split(".")[0].split("[")[0]
    return _FIELD_SECTIONS.get(head)


def _g(value: Any, unit: str = "") -> str:
    """A recorded number (or 'not recorded'), with its unit."""
    if value is None:
        return _NOT_RECORDED
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return f"{esc(value)}{(' ' + esc(unit)) if unit else ''}"


def _yes_no(value: bool | None, *, missing: str = _NOT_RECORDED) -> str:
    return missing if value is None else ("yes" if value else "no")


def _table(caption: str, header: list[str], rows: list[list[str]]) -> str:
    """A data table in a focusable scroll region (it may be wider than a phone screen)."""
    head = "".join(f"<th scope='col'>{esc(h)}</th>" for h in header)
    body = "".join(
        "<tr>"
        + "".join(
            (f"<th scope='row'>{c}</th>" if i == 0 else f"<td>{c}</td>") for i, c in enumerate(r)
        )
        + "</tr>"
        for r in rows
    )
    return (
        f"<div class='kd-scroll' role='region' tabindex='0' aria-label='{esc(caption)} (table)'>"
        f"<table class='kd-data'><caption>{esc(caption)}</caption><thead><tr>{head}</tr></thead>"
        f"<tbody>{body}</tbody></table></div>"
    )


def _pairs(caption: str, pairs: list[tuple[str, str]]) -> str:
    """A two-column table of labelled values."""
    rows = "".join(f"<tr><th scope='row'>{esc(k)}</th><td>{v}</td></tr>" for k, v in pairs)
    return (
        f"<table class='kd-data kd-pairs'><caption>{esc(caption)}</caption>"
        f"<tbody>{rows}</tbody></table>"
    )


# ---------------------------------------------------------------- the parts
def _presentation(record: CaseRecord) -> str:
    return (
        f"<p class='kd-case-title'><b>{esc(record.title or record.id)}</b></p>"
        f"<p class='kd-vignette'>{esc(record.vignette or 'No vignette.')}</p>"
        f"<p class='kd-muted'>Case {esc(record.id)}: a synthetic patient.</p>"
    )


def _patient(record: CaseRecord) -> str:
    p = record.patient
    d = record.diagnosis
    patient = _pairs(
        "Patient",
        [
            ("Age", _g(p.age_years, "years")),
            ("Sex", _g(p.sex)),
            ("Weight", _g(p.weight_kg, "kg")),
            ("Pregnant", _yes_no(p.pregnant)),
            ("Breastfeeding", _yes_no(p.breastfeeding)),
        ],
    )
    if d is None:
        return patient + "<p>Diagnosis: " + _NOT_RECORDED + "</p>"
    diagnosis = _pairs(
        "Diagnosis and current episode",
        [
            (
                "Primary diagnosis",
                _NOT_RECORDED if d.primary is None else esc(_DIAGNOSIS_WORDS[d.primary]),
            ),
            ("ICD-10 code", _g(d.icd10)),
            ("Current episode", _g(d.current_episode_months, "months")),
            ("Severity", _g(d.severity)),
            ("Psychotic features", _yes_no(d.psychotic_features)),
        ],
    )
    return patient + diagnosis


def _trials(record: CaseRecord) -> str:
    out = []
    trials = list(record.trials or ())
    if record.trials is None:
        out.append(f"<p>Medication trials: {_NOT_RECORDED}</p>")
    elif not trials:
        out.append("<p>No medication trials recorded.</p>")
    else:
        rows = []
        for i, t in enumerate(trials, start=1):
            dose = (
                _g(t.serum_level_mmol_l, "mmol/L (serum level)")
                if t.serum_level_mmol_l is not None
                else _g(t.dose_mg_per_day, "mg/day")
            )
            rows.append(
                [
                    esc(i),
                    esc(t.drug),
                    esc(t.role),
                    _g(t.episode),
                    dose,
                    _g(t.weeks),
                    _g(t.adherence),
                    _g(t.improvement_percent, "%"),
                    _yes_no(t.dose_optimised),
                    esc(t.stopped_early_for.replace("_", " ")) if t.stopped_early_for else "no",
                ]
            )
        out.append(
            _table(
                "Medication trials, oldest first",
                [
                    "#",
                    "Drug",
                    "Role",
                    "Episode",
                    "Dose",
                    "Weeks at that dose",
                    "Adherence",
                    "Improvement",
                    "Dose optimised",
                    "Stopped early for",
                ],
                rows,
            )
        )
    if record.ect is None:
        out.append(f"<p>ECT: {_NOT_RECORDED}</p>")
    elif not record.ect:
        out.append("<p>No ECT recorded.</p>")
    else:
        rows = [
            [
                esc(i),
                _g(e.episode),
                _g(e.laterality),
                _g(e.sessions),
                _g(e.improvement_percent, "%"),
            ]
            for i, e in enumerate(record.ect, start=1)
        ]
        out.append(
            _table(
                "Electroconvulsive therapy (ECT) courses",
                ["#", "Episode", "Laterality", "Sessions", "Improvement"],
                rows,
            )
        )
    return "".join(out)


def _screening(record: CaseRecord) -> str:
    from kdsupport.knowledge import load
    from kdsupport.records.case import Screening

    items = load().screening.items
    s = record.screening
    rows = []
    for name in Screening.model_fields:
        item = items.get(name)
        value = None if s is None else getattr(s, name)
        if item is not None and item.field_label:
            label, words = item.field_label, ("yes", "no")
        else:
            label, words = (item.label if item else name.replace("_", " ")), ("present", "absent")
        answer = (
            "<b class='kd-missing'>not assessed</b>"
            if value is None
            else (f"<b>{words[0]}</b>" if value else words[1])
        )
        rows.append([esc(label), answer])
    note = (
        "<p><b class='kd-missing'>No screening recorded:</b> every item is not assessed.</p>"
        if s is None
        else ""
    )
    return note + _table("Screening answers", ["Item", "Answer"], rows)


def _vitals(record: CaseRecord) -> str:
    v = record.vitals
    if v is None:
        return f"<p>Vital signs before treatment: {_NOT_RECORDED}</p>"
    bp = (
        _NOT_RECORDED
        if v.systolic_mmhg is None and v.diastolic_mmhg is None
        else f"{_g(v.systolic_mmhg)}/{_g(v.diastolic_mmhg)} mmHg"
    )
    return _pairs(
        "The most recent reading before treatment",
        [
            ("Blood pressure (systolic/diastolic)", bp),
            ("Heart rate", _g(v.heart_rate_bpm, "bpm")),
            ("SpO2", _g(v.spo2_percent, "%")),
        ],
    )


def _when(when: str) -> str:
    if when == "baseline":
        return "baseline"
    kind, _, n = when.partition("-")
    return f"{kind} {n}" if kind in ("session", "day") and n else when


def _scales(record: CaseRecord) -> str:
    from kdsupport.knowledge import load

    kb = load()
    adm = list(record.assessments or ())
    if record.assessments is None:
        return f"<p>Rating scales: {_NOT_RECORDED}</p>"
    if not adm:
        return "<p>No rating scales recorded.</p>"
    questions = kb.suicide.cssrs_screener.questions
    rows = []
    for a in adm:
        title = kb.scales.instruments[a.instrument].title
        if a.instrument == "cssrs_screener":
            if a.answers is None:
                detail = f"answers {_NOT_RECORDED}"
            else:
                lis = "".join(
                    f"<li>Question {q.number}, {esc(q.text)}: "
                    f"{_yes_no(getattr(a.answers, q.key), missing=_NOT_ASKED)}</li>"
                    for q in questions
                )
                detail = f"<ul class='kd-answers'>{lis}</ul>"
        else:
            parts = []
            if a.items is not None:
                items = ", ".join("not recorded" if x is None else str(x) for x in a.items)
                parts.append(f"items {esc(items)}")
            parts.append(f"total {_g(a.total)}")
            detail = "; ".join(parts)
        rows.append([esc(_when(a.when)), esc(title), detail])
    return _table(
        "Rating scale administrations, in record order", ["When", "Scale", "Result"], rows
    )


def _session_block(s: Session, figure: str | None) -> str:
    dose = []
    if s.dose_mg is not None:
        dose.append(_g(s.dose_mg, "mg"))
    if s.dose_mg_per_kg is not None:
        dose.append(_g(s.dose_mg_per_kg, "mg/kg"))
    if s.infusion_minutes is not None:
        dose.append(f"over {_g(s.infusion_minutes, 'minutes')}")
    facts = _pairs(
        f"Session {s.number}: dose, observation and discharge",
        [
            ("Way of giving ketamine", esc(modality_title(s.modality))),
            ("Dose", " ".join(dose) or _NOT_RECORDED),
            ("Observation time", _g(s.observation_minutes, "minutes")),
            ("CADSS total (dissociation)", _g(s.cadss_total)),
            (
                "Adverse events",
                _NOT_RECORDED
                if s.adverse_events is None
                else (esc(", ".join(s.adverse_events)) or "none recorded"),
            ),
            (
                "Dissociation resolved before discharge (clinician)",
                _yes_no(s.dissociation_resolved),
            ),
        ],
    )
    if s.vitals is None or not s.vitals:
        vit = f"<p>Vital signs during session {s.number}: {_NOT_RECORDED}</p>"
    else:
        vit = _table(
            f"Session {s.number}: vital signs by minute from the start of the dose",
            ["Minute", "Systolic (mmHg)", "Diastolic (mmHg)", "Heart rate (bpm)", "SpO2 (%)"],
            [
                [
                    _g(r.minute),
                    _g(r.systolic_mmhg),
                    _g(r.diastolic_mmhg),
                    _g(r.heart_rate_bpm),
                    _g(r.spo2_percent),
                ]
                for r in s.vitals
            ],
        )
    if s.moaas is None or not s.moaas:
        sed = f"<p>MOAA/S during session {s.number}: {_NOT_RECORDED}</p>"
    else:
        sed = _table(
            f"Session {s.number}: MOAA/S sedation score by minute (5 = responds readily to name)",
            ["Minute", "MOAA/S"],
            [[_g(m.minute), _g(m.score)] for m in s.moaas],
        )
    fig = (
        f"<div class='kd-figure' data-session='{s.number}'>{figure}</div>"
        if figure is not None
        else ""
    )
    return (
        f"<div class='kd-session' id='kd-session-{s.number}'>"
        f"<h4>Session {s.number}</h4>{facts}{_session_day(s)}{vit}{sed}{fig}</div>"
    )


_CONCOMITANT_WORDS = {
    "benzodiazepine": "Taking a benzodiazepine",
    "non_benzodiazepine_hypnotic": "Taking a non-benzodiazepine sedative hypnotic",
    "psychostimulant": "Taking a psychostimulant",
    "maoi": "Taking an MAOI",
}


def _session_day(s: Session) -> str:
    """What was recorded on the session day (docs/case-record.md §2.9), as recorded."""
    if not any(getattr(s, f) is not None for f in SESSION_DAY_FIELDS):
        return ""
    nasal = s.nasal_steroid_or_decongestant_minutes_before
    adj = s.infusion_paused_or_slowed
    if adj is None:
        adjusted = _NOT_RECORDED
    elif adj is False:
        adjusted = "no"
    else:
        why = f": {esc(adj.reason)}" if adj.reason else ""
        adjusted = f"{esc(adj.action)} at minute {_g(adj.minute)}{why}"
    con = s.concomitant
    pairs = [
        ("Date", esc(s.date) if s.date else _NOT_RECORDED),
        ("Setting", esc(s.setting) if s.setting else _NOT_RECORDED),
        ("Indication", esc(s.indication) if s.indication else _NOT_RECORDED),
    ]
    if s.modality == "esketamine_nasal":
        pairs += [
            ("Devices", _g(s.devices)),
            ("Device lot", esc(s.device_lot) if s.device_lot else _NOT_RECORDED),
            ("Rest between devices", _g(s.minutes_between_devices, "minutes")),
        ]
    pairs += [
        (words, _yes_no(getattr(con, k) if con else None))
        for k, words in _CONCOMITANT_WORDS.items()
    ]
    pairs += [
        ("Last food before dosing", _g(s.fasting_food_hours, "hours")),
        ("Last drink before dosing", _g(s.fasting_liquid_minutes, "minutes")),
        (
            "Nasal corticosteroid or decongestant",
            "none taken that day"
            if nasal == "not_used"
            else _g(nasal if not isinstance(nasal, str) else None, "minutes before dosing"),
        ),
        ("Prescriber on site", _yes_no(s.prescriber_on_site)),
        ("Monitored by", esc(s.monitored_by) if s.monitored_by else _NOT_RECORDED),
        ("Ride home arranged", _yes_no(s.ride_home_arranged)),
        ("Ready to leave (REMS evaluation)", _g(s.ready_to_leave_minute, "minutes")),
        (
            "REMS form submitted",
            esc(s.rems_form_submitted_date) if s.rems_form_submitted_date else _NOT_RECORDED,
        ),
    ]
    if s.modality == "iv_ketamine":
        pairs.append(("Infusion paused or slowed", adjusted))
    return _pairs(f"Session {s.number}: the session day", pairs)


def _sessions(record: CaseRecord, figures: dict[int, str] | None = None) -> str:
    if record.sessions is None:
        return f"<p>Treatment sessions: {_NOT_RECORDED}</p>"
    if not record.sessions:
        return "<p>No treatment sessions recorded.</p>"
    figures = figures or {}
    return "".join(_session_block(s, figures.get(s.number)) for s in record.sessions)


_RENDERERS = {
    "presentation": _presentation,
    "patient": _patient,
    "trials": _trials,
    "screening": _screening,
    "vitals": _vitals,
    "scales": _scales,
}


def section_html(record: CaseRecord, section: str, *, figures: dict[int, str] | None = None) -> str:
    """One part of the chart as HTML (``figures``: session number -> figure HTML)."""
    if section == "sessions":
        return _sessions(record, figures)
    return _RENDERERS[section](record)


def session_figure_html(record: CaseRecord, session: Session) -> str:
    """Page 04's session figure drawn with the data only (no thresholds, no findings)."""
    from kdsupport.render.html import figure_html
    from kdsupport.render.plots import session_vitals_figure

    fig = session_vitals_figure(record, session, marked=False)
    return figure_html(
        fig,
        alt=(
            f"Figure of session {session.number}: blood pressure, heart rate, SpO2 and MOAA/S "
            "by minute, the same readings as the tables above."
        ),
    )
