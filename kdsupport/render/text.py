"""Renderings of an assessment for people: a clinician's text worksheet.

:func:`to_text` turns the :class:`~kdsupport.rules.assessment.Assessment` returned by
:func:`kdsupport.rules.assess.assess` into a plain-text worksheet: each conclusion with the
inputs it used, the threshold, the source and its verification status; the unknowns with what
to collect next; the bibliography. It reads only the assessment, so the text and the JSON can
never disagree.

For training and case conferences with synthetic patients; not a medical device.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence
from functools import cache
from typing import TYPE_CHECKING, Any

from kdsupport.render.escaping import one_line
from kdsupport.rules.result import Status

if TYPE_CHECKING:
    from kdsupport.rules.assessment import Assessment, CheckKind, StagingScore
    from kdsupport.rules.result import Reason

__all__ = ["to_text"]

WIDTH = 100
_TRI = {Status.MET: "MET", Status.NOT_MET: "NOT MET", Status.UNKNOWN: "UNKNOWN"}
_YES_NO = {Status.MET: "yes", Status.NOT_MET: "no", Status.UNKNOWN: "unknown"}
ROMAN = ["0", "I", "II", "III", "IV", "V"]


@cache
def _check_groups() -> tuple[tuple[tuple[CheckKind, Status], str, bool], ...]:
    """How a session check reads in the worksheet, by its kind and result.

    See docs/case-record.md §3.7.

    Each group is (kind, result), its heading and whether each check's reasons are listed. A
    finding that happened is listed first, in capitals, never with the words of a check passed.
    (The enums' module is imported here: it is loaded already wherever there is an Assessment,
    and importing this module for :func:`msm_text` or :data:`ROMAN` need not load it.)
    """
    from kdsupport.rules.assessment import CheckKind

    return (
        ((CheckKind.FINDING, Status.MET), "!! FINDINGS THAT HAPPENED", True),
        ((CheckKind.COMPLIANCE, Status.NOT_MET), "CHECKS NOT DONE", True),
        (
            (CheckKind.FINDING, Status.UNKNOWN),
            "findings that cannot be ruled out (data missing)",
            True,
        ),
        ((CheckKind.COMPLIANCE, Status.UNKNOWN), "checks not recorded", False),
        ((CheckKind.COMPLIANCE, Status.MET), "checks done", False),
        ((CheckKind.FINDING, Status.NOT_MET), "findings not observed", False),
    )


def roman(stage: float | int | None) -> str:
    """A Thase-Rush stage (a whole number from 0 to 5) as a Roman numeral."""
    if not isinstance(stage, int):
        raise TypeError(f"a Thase-Rush stage is a whole number, got {stage!r}")
    return ROMAN[stage]


class _Doc:
    def __init__(self, sources: Mapping[str, Mapping[str, Any]]):
        self.lines: list[str] = []
        self.sources = sources

    def add(self, text: str = "", indent: int = 0, hang: int = 2) -> None:
        text = one_line(text)  # record text never adds a line or a terminal escape
        if not text:
            self.lines.append("")
            return
        pad = " " * indent
        self.lines.extend(
            textwrap.wrap(
                text,
                WIDTH,
                initial_indent=pad,
                subsequent_indent=pad + " " * hang,
                break_on_hyphens=False,
            )
            or [pad]
        )

    def heading(self, number: int, title: str, verdict: str = "") -> None:
        self.add()
        left = f"{number}. {title.upper()}"
        if verdict:
            dots = "." * max(3, WIDTH - len(left) - len(verdict) - 2)
            self.lines.append(f"{left} {dots} {verdict}")
        else:
            self.lines.append(left)

    def cite(self, ids: Sequence[str]) -> str:
        parts = []
        for sid in ids:
            ver = self.sources.get(sid, {}).get("verification", "?")
            kind = self.sources.get(sid, {}).get("kind")
            tag = "UNVERIFIED" if ver == "unverified" else ver
            if kind == "assumption":
                tag = "assumption, unverified"
            elif kind == "specification":
                tag = "project contract"
            parts.append(f"{sid}: {tag}")
        return f"[{'; '.join(parts)}]" if parts else ""

    def reason(self, r: Reason, indent: int = 3, bullet: str = "- ", prefix: str = "") -> None:
        """One reason as a bullet: ``prefix``, its message and its cited sources."""
        self.add(
            f"{bullet}{prefix}{r.message} {self.cite(r.sources)}".rstrip(),
            indent,
            len(bullet),
        )


def _check_titles() -> dict[str, str]:
    """Each session check's title from the knowledge base (thresholds live there)."""
    from kdsupport.knowledge import load

    return {n: c.title for n, c in load().session_check_info().items()}


def _alerts(doc: _Doc, a: Assessment) -> None:
    """What must be seen before anything else, in capitals (docs/case-record.md §4.8)."""
    if not a.alerts:
        return
    doc.add()
    doc.add("!! FIRST, BEFORE ANY WAY OF GIVING KETAMINE:", 0)
    for x in a.alerts:
        doc.add(f"!! {x.message} {doc.cite(x.sources)}", 3, 3)


def _g(x: Any, unit: str = "") -> str:
    if x is None:
        return "--"
    if isinstance(x, float):
        x = f"{x:g}"
    return f"{x}{unit}"


def _table(doc: _Doc, header: list[str], rows: list[list[str]], indent: int = 3) -> None:
    widths = [max(len(str(c)) for c in col) for col in zip(header, *rows, strict=True)]
    fmt = " " * indent + "  ".join(f"{{:<{w}}}" for w in widths)
    doc.lines.append(fmt.format(*header).rstrip())
    doc.lines.append(" " * indent + "  ".join("-" * w for w in widths))
    for r in rows:
        doc.lines.append(fmt.format(*r).rstrip())


def _trd_section(doc: _Doc, a: Assessment, record: Any) -> None:
    """Section: trd."""
    t = a.trd
    doc.heading(1, "Treatment-resistant depression", _TRI[t.status])
    for r in t.reasons:
        doc.reason(r)
    doc.add(
        f"Failed adequate antidepressants (distinct drugs): {t.failed_adequate_antidepressants}"
        f"   unknown trials: {t.unknown_trials}",
        3,
    )
    if t.trials:
        doc.add()
        rows = []
        for trial in t.trials:
            i = trial.inputs
            dose = _g(i["dose_mg_per_day"], " mg/d")
            if i["serum_level_mmol_l"] is not None:
                dose = f"{_g(i['serum_level_mmol_l'])} mmol/L"
            rows.append(
                [
                    str(trial.index + 1),
                    trial.drug + ("*" if trial.counts_toward_trd else ""),
                    trial.role,
                    _g(trial.episode),
                    dose,
                    _g(i["weeks"]),
                    _g(i["adherence"]),
                    _g(i["improvement_percent"], " %"),
                    trial.adequacy_label,
                    trial.outcome_label,
                ]
            )
        _table(
            doc,
            [
                "#",
                "drug",
                "role",
                "episode",
                "dose",
                "weeks",
                "adherence",
                "improv.",
                "adequacy",
                "outcome",
            ],
            rows,
        )
        doc.add("* counts toward TRD (an antidepressant given as monotherapy or in combination)", 3)
        doc.add()
        doc.add("Basis of each trial:", 3)
        for trial in t.trials:
            doc.add(
                f"{trial.index + 1}. {trial.drug} ({trial.adequacy_label}, {trial.outcome_label})",
                3,
            )
            for r in trial.reasons:
                doc.reason(r, indent=6)
    elif t.status is Status.UNKNOWN:
        doc.add("No medication trials recorded.", 3)


def _staging_section(doc: _Doc, a: Assessment) -> None:
    """Section: staging."""
    s = a.staging
    doc.heading(2, "Staging of treatment resistance")
    tr = s.thase_rush
    doc.add(
        f"Thase-Rush: stage {roman(tr.value)}"
        + ("" if tr.complete else f" (confirmed; could be up to {roman(tr.possible_max)})"),
        3,
    )
    for r in tr.reasons:
        doc.reason(r, indent=5)
    m = s.mgh_s
    doc.add(
        f"MGH-S: {_g(m.value)}"
        + (
            ""
            if m.complete
            else f" (confirmed items only; could be up to {_g(m.possible_max)})"
            if m.possible_max is not None
            else " (confirmed items only)"
        ),
        3,
    )
    for r in m.reasons:
        doc.reason(r, indent=5)
    ms = s.msm
    if ms.band == "not_applicable":
        head = "Maudsley (MSM): not applicable"
    elif ms.value is None:
        known = ", ".join(f"{k} {v}" for k, v in ms.components.items() if v is not None)
        head = f"Maudsley (MSM): no total (a component is unknown); known: {known or 'none'}"
    else:
        head = f"Maudsley (MSM): {ms.value}, {ms.band}" + (
            "" if ms.complete else f" (could be up to {ms.possible_max})"
        )
    doc.add(head, 3)
    for r in ms.reasons:
        doc.reason(r, indent=5)


def _scales_section(doc: _Doc, a: Assessment, record: Any) -> None:
    """Section: scales."""
    doc.heading(3, "Rating scales")
    if a.scales:
        rows = [
            [
                sc.when,
                sc.instrument,
                _g(sc.total),
                _g(sc.band),
                ", ".join(sc.flags) or "--",
                sc.scored_from,
            ]
            for sc in a.scales
        ]
        _table(doc, ["when", "instrument", "total", "band", "flags", "from"], rows)
        for sc in a.scales:
            for r in sc.reasons:
                if r.code.startswith(
                    (
                        "scales.flag",
                        "scales.item_missing",
                        "scales.scoring_unverified",
                        "scales.total_missing",
                    )
                ):
                    doc.reason(r, indent=3)
    else:
        doc.add("No rating scales recorded.", 3)


def _outcome_section(doc: _Doc, a: Assessment) -> None:
    """Section: outcome."""
    o = a.outcome
    if o is None:
        doc.heading(4, "Response and remission", "NOT ASSESSABLE")
        doc.add(
            "No instrument (MADRS, QIDS-SR16, PHQ-9) has both a baseline and a later "
            "administration.",
            3,
        )
    else:
        doc.heading(
            4,
            "Response and remission",
            f"response {_YES_NO[o.response]} / remission {_YES_NO[o.remission]}",
        )
        for r in o.reasons:
            doc.reason(r)


def _suicide_risk_section(doc: _Doc, a: Assessment) -> None:
    """Section: suicide risk."""
    sr = a.suicide_risk
    doc.heading(5, "Suicide risk (C-SSRS screener triage)", f"{sr.level.upper()} -> {sr.action}")
    for r in sr.reasons:
        doc.reason(r)


def _predose_bp_section(doc: _Doc, a: Assessment) -> None:
    """Section: predose bp."""
    bp = a.predose_bp
    doc.heading(6, "Blood pressure before dosing", bp.status.value.upper().replace("_", " "))
    for r in bp.reasons:
        doc.reason(r)


def _screening_section(doc: _Doc, a: Assessment) -> None:
    """Section: screening."""
    doc.heading(7, "Screening by way of giving ketamine")
    _alerts(doc, a)
    for name, mod in a.modalities.items():
        status = mod.status.value.upper().replace("_", " ")
        doc.add(f"{mod.title} ({name}): {status}", 3)
        doc.add(mod.regulatory_status, 5)
        present = [f for f in mod.findings if f.present is True]
        gaps = [f for f in mod.findings if f.present is None]
        for f in present:
            word = f.severity.value.replace("_", " ")
            note = f": {f.note}" if f.note else ""
            doc.add(f"- present, {word}: {f.label}{note} {doc.cite(f.sources)}", 5, 2)
        for f in gaps:
            word = f.severity.value.replace("_", " ")
            doc.add(f"- NOT ASSESSED ({word} item): {f.label} ({f.field})", 5, 2)
        absent = mod.items_assessed - len(present) - len(gaps)
        doc.add(f"{absent} item(s) assessed and absent or not applicable.", 5)


def _sessions_section(doc: _Doc, a: Assessment, record: Any) -> None:
    """Section: sessions."""
    from kdsupport.rules.assessment import CheckKind  # loaded already with the Assessment

    happened = sum(
        1
        for x in a.sessions
        for n, st in x.checks.items()
        if x.check_kinds[n] is CheckKind.FINDING and st is Status.MET
    )
    doc.heading(
        8,
        "Treatment sessions: monitoring",
        f"{happened} FINDING(S) HAPPENED" if happened else "",
    )
    if a.sessions:
        titles = _check_titles()
        for x in a.sessions:
            doc.add(f"Session {x.number} ({x.modality.replace('_', ' ')})", 3)
            for key, heading, detailed in _check_groups():
                names = [n for n, st in x.checks.items() if (x.check_kinds[n], st) == key]
                if not names:
                    continue
                if detailed:
                    doc.add(f"{heading}:", 5)
                    for n in names:
                        for r in x.details[n]:
                            doc.reason(r, 7, prefix=f"{titles[n]}: ")
                else:
                    doc.add(f"{heading}: " + "; ".join(titles[n] for n in names), 5, 4)
            _session_day_lines(doc, x, titles)
        doc.add(
            "A check is done when it was done as required; a finding is a hazard that "
            "happened (a large or severe blood-pressure reading, desaturation, deep sedation, "
            "loss of consciousness): it calls for a clinician's review, whatever else was done.",
            3,
        )
    else:
        doc.add("No treatment sessions recorded.", 3)


def _session_day_lines(doc: _Doc, x: Any, titles: dict[str, str]) -> None:
    """The session day of one session: schedule, checks that do not apply, the REMS form.

    See docs/case-record.md §3.8 and §3.9.
    """
    esketamine = x.rems_form is not None
    if not x.session_day_recorded:
        if esketamine:
            doc.add(
                "session day NOT RECORDED (no date, preparation, schedule or REMS field): "
                "no session-day check could be made",
                5,
                4,
            )
        return
    p = x.schedule
    if p is not None:
        if p.phase is None:
            doc.add(f"schedule ({p.jurisdiction}): the course week or indication is not known", 5)
        else:
            doc.add(
                f"schedule ({p.jurisdiction}, {p.indication}): course week {p.course_week}: "
                f"{p.note}",
                5,
                4,
            )
    for n, r in x.not_applicable.items():
        doc.reason(r, 5, prefix=f"not applicable: {titles[n]}: ")
    form = x.rems_form
    if form is not None and form.status != "not_applicable":
        if form.status == "not_required":
            doc.add("REMS form: not required (inpatient setting)", 5)
            return
        need = {"yes": "required", "unknown": "required if outpatient (setting not recorded)"}
        state = (
            "complete"
            if form.status == "complete"
            else "INCOMPLETE, still needed: " + ", ".join(form.missing_fields)
        )
        due = f"; due {form.deadline}" if form.deadline else "; due 7 days after the session"
        sent = f"; submitted {form.submitted}" if form.submitted else "; submission not recorded"
        doc.add(f"REMS form: {need.get(form.required, form.required)}; {state}{due}{sent}", 5, 4)


def _unknowns_section(doc: _Doc, a: Assessment) -> None:
    """Section: unknowns."""
    doc.heading(9, "Unknowns: what to collect next", str(len(a.unknowns)) if a.unknowns else "none")
    for u in a.unknowns:
        doc.add(f"- {u.field}  -> needed for {', '.join(u.needed_for)}", 3, 2)


def _sources_section(doc: _Doc, a: Assessment) -> None:
    """Section: sources."""
    doc.heading(10, "Sources cited")
    for sid, src in a.sources.items():
        ver = (
            src["verification"].upper()
            if src["verification"] == "unverified"
            else src["verification"]
        )
        kind = src["kind"]
        year = src["year"] if src["year"] is not None else "year not stated"
        doc.add(
            f"[{sid}] ({kind}; {ver}) {src['citation']}"
            + (f", {src['section']}" if src["section"] else "")
            + f" ({year})"
            + (f" {src['url']}" if src["url"] else ""),
            3,
            4,
        )
        if src.get("rationale"):
            doc.add(f"Rationale: {src['rationale']}", 7)
    doc.add()
    doc.lines.append("=" * WIDTH)


def to_text(a: Assessment, *, record: Any = None) -> str:
    """Render an assessment as a clinician's worksheet (plain text, 100 columns)."""
    doc = _Doc(a.sources)
    d = a.definition
    doc.lines.append("=" * WIDTH)
    doc.lines.append(f"KDSUPPORT ASSESSMENT  {a.case_id}  (synthetic record)")
    title = getattr(record, "title", None)
    if title:
        doc.add(f"Title: {title}")  # labelled, so a title can never pass for a heading
    doc.lines.append(f"knowledge base {a.kb_version} | kdsupport {a.kdsupport_version}")
    doc.lines.append("=" * WIDTH)
    doc.add(a.disclaimer)
    _alerts(doc, a)
    doc.add()
    doc.add(f"TRD definition: {d.name} - {d.title}")
    doc.add(
        f"Thresholds: >= {d.min_failed_antidepressants} distinct antidepressants with a failed "
        f"adequate trial in the current episode; adequate = dose at least the {d.dose_table} "
        f"minimum, >= {d.min_weeks} weeks, adherence adequate; failed = {d.failure}. "
        f"{doc.cite(d.sources)}",
        2,
    )

    _trd_section(doc, a, record)
    _staging_section(doc, a)
    _scales_section(doc, a, record)
    _outcome_section(doc, a)
    _suicide_risk_section(doc, a)
    _predose_bp_section(doc, a)
    _screening_section(doc, a)
    _sessions_section(doc, a, record)
    _unknowns_section(doc, a)
    _sources_section(doc, a)
    return "\n".join(doc.lines) + "\n"


def definitions_text(kb: Any) -> str:
    """One line per TRD definition: what it needs and its sources (for notebooks)."""
    lines = []
    for name, d in kb.trd.definitions.items():
        default = " (default)" if name == kb.trd.default else ""
        lines.append(
            f"{name}{default}: >= {d.min_failed_antidepressants.value:g} antidepressants failed; "
            f"adequate = {d.dose_table} minimum dose for >= {d.min_weeks.value:g} weeks with "
            "adequate "
            f"adherence; failed = improvement {d.failure.comparison} {d.failure.percent:g} % "
            f"[{', '.join(kb.source_ids(d.failure.source))}]"
        )
    return "\n".join(lines)


def msm_text(msm: StagingScore) -> str:
    """The Maudsley result in words: score and band, not applicable, or no total."""
    if msm.band == "not_applicable":
        return "not applicable"
    if msm.value is None:
        return "no total (a component is unknown)"
    return f"{msm.value} ({msm.band})"


def glance_text(a: Assessment) -> str:
    """The headline conclusions of an assessment as plain text (for notebooks and nbval)."""
    s = a.staging
    msm_txt = msm_text(s.msm)
    lines = [
        f"case {a.case_id}",
        f"TRD ({a.trd.definition}): {a.trd.status.value}, "
        f"{a.trd.failed_adequate_antidepressants} failed adequate antidepressant(s)",
        f"Thase-Rush stage {roman(s.thase_rush.value)}"
        + ("" if s.thase_rush.complete else " (could be higher)")
        + f" | MGH-S {_g(s.mgh_s.value)}"
        + ("" if s.mgh_s.complete else " (confirmed items only)")
        + f" | Maudsley {msm_txt}",
        f"suicide risk: {a.suicide_risk.level} -> {a.suicide_risk.action}",
        f"pre-dose BP: {a.predose_bp.status.value}",
        "modalities: " + ", ".join(f"{m} {v.status.value}" for m, v in a.modalities.items()),
    ]
    return "\n".join(lines)
