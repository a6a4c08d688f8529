"""Checks of a session's session-day fields that need several fields or the knowledge base.

The devices match the dose, the REMS form is not submitted before the session, an infusion is
adjusted within the infusion, session dates follow the session numbers, and fields that belong
to one modality are not recorded for another (docs/case-record.md §2.9). Tolerant of wrong
types: the model reports those.

For training and case conferences with synthetic patients; not a medical device.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from kdsupport.errors import Problem
from kdsupport.records.shapes import is_number, items_of

if TYPE_CHECKING:
    from kdsupport.knowledge import KnowledgeBase

__all__ = ["session_day_problems"]

# Fields that only make sense for one modality.
_ONLY_FOR = {
    "devices": "esketamine_nasal",
    "device_lot": "esketamine_nasal",
    "minutes_between_devices": "esketamine_nasal",
    "infusion_paused_or_slowed": "iv_ketamine",
}


def _date(v: Any) -> dt.date | None:
    if not isinstance(v, str):
        return None
    try:
        return dt.date.fromisoformat(v)
    except ValueError:
        return None


def _one(sess: dict[str, Any], where: str, mg_per_device: float) -> list[Problem]:
    problems: list[Problem] = []
    modality = sess.get("modality")
    for name, only in _ONLY_FOR.items():
        if sess.get(name) is not None and isinstance(modality, str) and modality != only:
            problems.append(
                Problem(f"{where}.{name}", f"only for {only} sessions; this one is {modality}")
            )
    devices, dose = sess.get("devices"), sess.get("dose_mg")
    if isinstance(devices, int) and not isinstance(devices, bool) and is_number(dose):
        if devices * mg_per_device != dose:
            problems.append(
                Problem(
                    f"{where}.devices",
                    f"{devices} device(s) of {mg_per_device:g} mg give {devices * mg_per_device:g}"
                    f" mg, but dose_mg is {dose:g}",
                )
            )
    day, sent = _date(sess.get("date")), _date(sess.get("rems_form_submitted_date"))
    if day and sent and sent < day:
        problems.append(
            Problem(
                f"{where}.rems_form_submitted_date",
                f"must not be before the session's date ({day.isoformat()}), "
                f"got {sent.isoformat()}",
            )
        )
    adj, length = sess.get("infusion_paused_or_slowed"), sess.get("infusion_minutes")
    if isinstance(adj, dict) and is_number(adj.get("minute")) and is_number(length):
        if adj["minute"] > length:
            problems.append(
                Problem(
                    f"{where}.infusion_paused_or_slowed.minute",
                    f"must be within the infusion (0-{length:g} minutes), got {adj['minute']:g}",
                )
            )
    return problems


def session_day_problems(data: dict[str, Any], kb: KnowledgeBase) -> list[Problem]:
    """Problems of the session-day fields of every session, in record order."""
    mg = kb.session_day.administration.mg_per_device.value
    problems: list[Problem] = []
    dated: list[tuple[int, dt.date, int]] = []
    for i, sess in items_of(data, "sessions"):
        problems += _one(sess, f"sessions[{i}]", mg)
        num, day = sess.get("number"), _date(sess.get("date"))
        if isinstance(num, int) and not isinstance(num, bool) and day:
            dated.append((num, day, i))
    dated.sort()
    for (n1, d1, _), (n2, d2, i2) in zip(dated, dated[1:], strict=False):
        if d2 < d1:
            problems.append(
                Problem(
                    f"sessions[{i2}].date",
                    f"session {n2} is dated {d2.isoformat()}, before session {n1} "
                    f"({d1.isoformat()}): dates must follow the session numbers",
                )
            )
    return problems
