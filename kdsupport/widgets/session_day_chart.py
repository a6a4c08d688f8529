"""Notebook 09 beside and below the drill: the session's chart, the schedule, the counselling.

* :func:`session_day_cases`: the curated cases whose sessions record a session day (the drill's
  case list);
* :func:`session_sheet_html`: the session as the record has it, revealed as the session goes on
  (before the first device the preparation and the minute-0 reading; then the course so far and
  the dose given; every reading and score; discharge; the form's own fields). What was recorded,
  never what the rules conclude; a missing value reads *not recorded*, never *no*.
* :func:`schedule_tables_html`: the label's dosing tables by indication and jurisdiction, with
  their sources.
* :func:`counselling_html`: what the nurse tells the patient (driving, cognition, bladder, abuse,
  the suicidal-ideation indication, IV infusions), each point with its short citations and
  verification status.

Every text is escaped. For training with synthetic patients; not a medical device.
"""

from __future__ import annotations

import functools
import re
from typing import TYPE_CHECKING, Any

from kdsupport.render import html as H

if TYPE_CHECKING:
    from kdsupport.knowledge import KnowledgeBase
    from kdsupport.records.case import CaseRecord, Session

__all__ = [
    "STAGES",
    "session_sheet_html",
    "schedule_tables_html",
    "counselling_html",
    "session_day_cases",
    "session_day_counselling_html",
    "session_day_schedule_html",
]

_NR = "<span class='kd-missing'>not recorded</span>"
#: How far into the session the chart goes at each step of the drill, in order.
STAGES = {
    "preparation": "before the first device",
    "dose": "the dose",
    "monitoring": "during monitoring",
    "discharge": "at discharge",
    "rems_form": "after the session: the form",
}


def _g(value: Any, unit: str = "") -> str:
    if value is None:
        return _NR
    text = f"{value:g}" if isinstance(value, float | int) and not isinstance(value, bool) else value
    return H.esc(f"{text} {unit}".strip())


def _yn(value: bool | None) -> str:
    return _NR if value is None else ("yes" if value else "no")


def _pairs(caption: str, pairs: list[tuple[str, str]]) -> str:
    rows = "".join(f"<tr><th scope='row'>{H.esc(k)}</th><td>{v}</td></tr>" for k, v in pairs)
    return (
        f"<div class='kd-scroll' role='region' tabindex='0' aria-label='{H.esc(caption)}'>"
        f"<table class='kd-data'><caption>{H.esc(caption)}</caption><tbody>{rows}</tbody>"
        "</table></div>"
    )


def _table(caption: str, header: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th scope='col'>{H.esc(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in rows)
    return (
        f"<div class='kd-scroll' role='region' tabindex='0' aria-label='{H.esc(caption)}'>"
        f"<table class='kd-data'><caption>{H.esc(caption)}</caption><thead><tr>{head}</tr>"
        f"</thead><tbody>{body}</tbody></table></div>"
    )


def _nasal(s: Session) -> str:
    v = s.nasal_steroid_or_decongestant_minutes_before
    if v == "not_used":
        return "none taken that day"
    return _g(v, "minutes before dosing") if v is not None else _NR


def _preparation(record: CaseRecord, s: Session, kb: KnowledgeBase) -> str:
    from kdsupport.knowledge.wording import modality_title

    con = s.concomitant
    meds = [
        (f"Taking: {item.label}", _yn(getattr(con, k) if con else None))
        for k, item in kb.session_day.concomitant.items()
    ]
    p = record.patient
    return _pairs(
        f"Session {s.number}: the patient and the preparation",
        [
            ("Patient", H.esc(f"age {p.age_years}, sex {p.sex or 'not recorded'}")),
            ("Way of giving ketamine", H.esc(modality_title(s.modality))),
            ("Date", _g(s.date)),
            ("Setting", _g(s.setting)),
            ("Indication", _g(s.indication and kb.session_day.schedule.indications[s.indication])),
            ("Hours since the last food", _g(s.fasting_food_hours, "h")),
            ("Minutes since the last drink", _g(s.fasting_liquid_minutes, "min")),
            ("Nasal corticosteroid or decongestant", _nasal(s)),
            *meds,
            ("Prescriber on site", _yn(s.prescriber_on_site)),
            ("Ride home arranged", _yn(s.ride_home_arranged)),
        ],
    )


def _readings(s: Session, upto_zero: bool) -> str:
    rows = [r for r in s.vitals or () if not upto_zero or r.minute == 0]
    if not rows:
        what = "The pre-dose (minute 0) reading" if upto_zero else "Vital signs"
        return f"<p>{what} of session {s.number}: {_NR}</p>"
    caption = (
        f"Session {s.number}: the pre-dose reading"
        if upto_zero
        else f"Session {s.number}: vital signs by minute from the start of the dose"
    )
    return _table(
        caption,
        ["Minute", "Systolic (mmHg)", "Diastolic (mmHg)", "Heart rate (bpm)", "SpO2 (%)"],
        [
            [
                _g(r.minute),
                _g(r.systolic_mmhg),
                _g(r.diastolic_mmhg),
                _g(r.heart_rate_bpm),
                _g(r.spo2_percent),
            ]
            for r in rows
        ],
    )


def _course(record: CaseRecord, s: Session) -> str:
    rows = [
        [
            H.esc(x.number) + (" (this session)" if x is s else ""),
            _g(x.date),
            _g(x.indication),
            _g(x.dose_mg, "mg"),
            _g(x.devices),
        ]
        for x in record.sessions or ()
        if x.modality == s.modality and x.number <= s.number
    ]
    dose = _pairs(
        f"Session {s.number}: the dose given",
        [
            ("Dose", _g(s.dose_mg, "mg")),
            ("Devices", _g(s.devices)),
            ("Minutes between devices", _g(s.minutes_between_devices, "min")),
        ],
    )
    course = _table(
        "The course so far: every session of this way of giving ketamine up to this one",
        ["Session", "Date", "Indication", "Dose", "Devices"],
        rows,
    )
    return course + dose


def _monitoring(s: Session) -> str:
    facts = [("CADSS total (dissociation)", _g(s.cadss_total))]
    if s.dose_mg_per_kg is not None or s.infusion_minutes is not None:
        adj = s.infusion_paused_or_slowed
        said = (
            _NR
            if adj is None
            else "neither paused nor slowed"
            if adj is False
            else H.esc(
                f"{adj.action} at minute {adj.minute:g}"
                + (f" ({adj.reason})" if adj.reason else "")
            )
        )
        facts = [
            ("Dose", _g(s.dose_mg_per_kg, "mg/kg")),
            ("Infusion length", _g(s.infusion_minutes, "min")),
            ("Infusion paused or slowed", said),
            *facts,
        ]
    if s.moaas:
        sed = _table(
            f"Session {s.number}: MOAA/S sedation score by minute (5 = responds readily to name)",
            ["Minute", "MOAA/S"],
            [[_g(m.minute), _g(m.score)] for m in s.moaas],
        )
    else:
        sed = f"<p>MOAA/S during session {s.number}: {_NR}</p>"
    return _readings(s, False) + sed + _pairs(f"Session {s.number}: during the session", facts)


def _discharge(s: Session) -> str:
    events = (
        _NR if s.adverse_events is None else (H.esc(", ".join(s.adverse_events)) or "none recorded")
    )
    return _pairs(
        f"Session {s.number}: discharge",
        [
            ("Observation time", _g(s.observation_minutes, "min")),
            ("Ready to leave (minutes from the start)", _g(s.ready_to_leave_minute)),
            ("Dissociation resolved (clinician)", _yn(s.dissociation_resolved)),
            ("Adverse events", events),
        ],
    )


def _form_facts(s: Session) -> str:
    return _pairs(
        f"Session {s.number}: for the form",
        [
            ("Monitored by", _g(s.monitored_by)),
            ("Device lot number", _g(s.device_lot)),
            ("Form submitted on", _g(s.rems_form_submitted_date)),
        ],
    )


def session_sheet_html(record: CaseRecord, index: int, stage: str, kb: KnowledgeBase) -> str:
    """The session's chart up to ``stage`` (a key of :data:`STAGES`): recorded values only."""
    s = (record.sessions or [])[index]
    order = list(STAGES)
    reached = order.index(stage)

    def since(name: str) -> bool:
        return reached >= order.index(name)

    parts = [_preparation(record, s, kb)]
    parts.append("" if since("monitoring") else _readings(s, True))
    if since("dose") and s.modality == "esketamine_nasal":
        parts.append(_course(record, s))
    if since("monitoring"):
        parts.append(_monitoring(s))
    if since("discharge"):
        parts.append(_discharge(s))
    if since("rems_form"):
        parts.append(_form_facts(s))
    return (
        f"<section class='kd-chart-part' id='kd-session-day-chart' tabindex='-1' "
        f"aria-labelledby='kd-sd-chart-h'><h2 id='kd-sd-chart-h'>The chart: session "
        f"{H.esc(s.number)} of case {H.esc(record.id)}</h2>"
        f"<p class='kd-muted'>What the record shows so far ({H.esc(STAGES[stage])}), nothing "
        "more: the rules' conclusions appear only in the feedback.</p>"
        f"{''.join(parts)}</section>"
    )


def schedule_tables_html(kb: KnowledgeBase) -> str:
    """The dosing tables of the knowledge base, one per indication, jurisdiction and age group."""
    sched = kb.session_day.schedule
    out = [f"<p>{H.esc(sched.title)}. {H.cite_html([sched.day_one_source.id])}</p>"]
    for t in sched.tables:
        ages = f", aged {t.min_age_years.value:g} and over" if t.min_age_years else ""
        caption = (
            f"{sched.indications[t.indication]}: {sched.jurisdictions[t.jurisdiction].label}{ages}"
        )
        if t.not_found:
            out.append(
                f"<h3>{H.esc(caption)}</h3><p>{H.esc(t.not_found)} "
                f"{H.cite_html(kb.source_ids(t.source))}</p>"
            )
            continue
        rows = [
            [
                H.esc(p.note),
                H.esc(", ".join(f"{d:g} mg" for d in p.doses_mg) or "none"),
                H.esc("not given" if p.max_sessions_per_week is None else p.max_sessions_per_week),
                H.cite_html(kb.source_ids(p.source)),
            ]
            for p in t.phases
        ]
        out.append(
            f"<h3>{H.esc(caption)}</h3>"
            + _table(caption, ["Phase", "Doses", "Sessions per week, at most", "Source"], rows)
        )
    return "<div class='kd-schedule'>" + "".join(out) + "</div>"


def counselling_html(kb: KnowledgeBase) -> str:
    """The counselling points, each with its short citations and verification status."""
    items = "".join(
        f"<section class='kd-counsel' aria-labelledby='kd-counsel-{H.esc(c.id)}'>"
        f"<h3 id='kd-counsel-{H.esc(c.id)}'>{H.esc(c.title)}</h3>"
        f"<p>{H.esc(c.text)} {H.cite_html(kb.source_ids(c.source))}</p></section>"
        for c in kb.session_day.counselling
    )
    return f"<div class='kd-counselling'>{items}</div>"


# A record key that only a session-day field has (a cheap first look before a case is parsed).
@functools.cache
def _key_pattern() -> re.Pattern[str]:
    from kdsupport.records.model import SESSION_DAY_FIELDS

    return re.compile(r"(?:^|[\s{,])(?:" + "|".join(SESSION_DAY_FIELDS) + r")\s*:", re.M)


def session_day_cases(data_dir: Any = None) -> list[tuple[str, str]]:
    """The curated cases (id, title) with at least one session that records session-day fields.

    A case file that names none of the session-day fields is not parsed at all.
    """
    from kdsupport.records.bundled import list_cases, load_case_by_id
    from kdsupport.rules.session_day import session_day_recorded

    out = []
    for c in list_cases(data_dir):
        try:
            text = c.path.read_text(encoding="utf-8")
        except OSError:
            continue
        if not _key_pattern().search(text):
            continue
        record = load_case_by_id(c.id, data_dir)
        if any(session_day_recorded(s) for s in record.sessions or ()):
            out.append((c.id, c.title))
    return out


def session_day_counselling_html() -> str:
    """What to tell the patient on a session day, with sources (the knowledge base's points)."""
    from kdsupport.knowledge import load

    return counselling_html(load())


def session_day_schedule_html() -> str:
    """The dosing schedule tables, with sources."""
    from kdsupport.knowledge import load

    return schedule_tables_html(load())
