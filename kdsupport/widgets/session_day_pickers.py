"""The controls above the session-day drill (notebook 09): case, session, dosing table, trainee.

The case list holds only cases whose sessions record a session day; the session list only those
sessions. The dosing table is the one asked for (the URL's ``jurisdiction``) for every case, else
each case's own (the table its questions are asked under, e.g. the EU table for a clinic that
follows it), else the knowledge base's default. Wiring only.

For training with synthetic patients; not a medical device.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import ipywidgets as W

from kdsupport.widgets._common import LABEL, trainee_box

if TYPE_CHECKING:
    from kdsupport.knowledge import KnowledgeBase
    from kdsupport.records.case import CaseRecord

__all__ = ["SessionDayPickers"]

_WIDE = W.Layout(width="auto", max_width="100%")


def _as_int(value: Any) -> int | None:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None


class SessionDayPickers(W.Box):
    """The case, session and dosing-table pickers and the trainee id box, in one row."""

    def __init__(
        self,
        cases: list[tuple[str, str]],
        case_id: str,
        *,
        session: Any,
        jurisdiction: str | None,
        trainee_id: str,
        kb: KnowledgeBase,
    ):
        from kdsupport.rules.dosing import jurisdiction as pick

        self.kb = kb
        self.wanted_session = _as_int(session)
        try:  # a table asked for holds for every case; else each case's own
            self.wanted_jurisdiction = pick(kb, jurisdiction) if jurisdiction else None
        except KeyError:
            self.wanted_jurisdiction = None
        ids = [c for c, _ in cases]
        self.case = W.Dropdown(
            options=[(f"{c}: {t}", c) for c, t in cases],
            value=case_id if case_id in ids else None,
            description="Case",
            style=LABEL,
            layout=_WIDE,
        )
        self.session = W.Dropdown(description="Session", style=LABEL, layout=_WIDE)
        sched = kb.session_day.schedule
        self.jurisdiction = W.Dropdown(
            options=[(j.label, k) for k, j in sched.jurisdictions.items()],
            value=self.wanted_jurisdiction or sched.default_jurisdiction,
            description="Dosing table",
            style=LABEL,
            layout=_WIDE,
        )
        self.trainee = trainee_box(trainee_id, layout=_WIDE)
        super().__init__(
            [self.case, self.session, self.jurisdiction, self.trainee],
            layout=W.Layout(flex_flow="row wrap", grid_gap="0.5em 1.5em"),
        )

    def case_jurisdiction(self, record: CaseRecord) -> str:
        """The table the case's own questions are asked under, else the knowledge base's."""
        named = {
            (q.rule_options or {}).get("jurisdiction")
            for q in (record.teaching.questions if record.teaching else ())
        } - {None}
        tables = self.kb.session_day.schedule
        if len(named) == 1 and (one := named.pop()) in tables.jurisdictions:
            return str(one)
        return tables.default_jurisdiction

    def show_case(self, record: CaseRecord) -> bool:
        """List the case's sessions with session-day data and pick one; False when there is none.

        The session asked for when it is one of them, else the first; the dosing table as the
        module docstring says.
        """
        from kdsupport.knowledge.wording import modality_label
        from kdsupport.rules.session_day import session_day_recorded

        sessions = [s for s in record.sessions or () if session_day_recorded(s)]
        numbers = [s.number for s in sessions]
        if not numbers:
            return False
        self.session.options = [
            (
                f"session {s.number}, {s.date or 'date not recorded'}, "
                f"{modality_label(s.modality)}",
                s.number,
            )
            for s in sessions
        ]
        want = self.wanted_session
        self.session.value = want if want in numbers else numbers[0]
        self.jurisdiction.value = self.wanted_jurisdiction or self.case_jurisdiction(record)
        return True
