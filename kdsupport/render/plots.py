"""Figures for notebooks and reports (seaborn on matplotlib).

Every function returns a :class:`matplotlib.figure.Figure` built without pyplot (no global
state, no display backend needed), with labelled axes and units; thresholds are drawn from the
knowledge base and labelled with what they are. Colours are paired with line styles and
markers so that figures read in greyscale too.

For training and case conferences with synthetic patients; not a medical device.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kdsupport.knowledge.wording import check_title, modality_label
from kdsupport.render.escaping import plot_label

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

    from kdsupport.knowledge import KnowledgeBase
    from kdsupport.records.case import CaseRecord, Session
    from kdsupport.rules.assessment import Assessment
    from kdsupport.rules.result import Status

__all__ = [
    "session_vitals_figure",
    "attempts_by_question_figure",
    "attempts_by_trainee_figure",
]

_FINDING = "#a50f15"  # a hazard that happened: the warning colour, never a pass
_PALETTE = {
    "systolic": "#b2182b",
    "diastolic": "#2166ac",
    "heart rate": "#4d4d4d",
    "SpO2": "#1b7837",
}


def _figure(width: float, height: float, rows: int = 1, sharex: bool = False) -> tuple[Figure, Any]:
    """A new figure (no pyplot, no global style change) with light grid axes."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), layout="constrained")
    axes = fig.subplots(rows, 1, sharex=sharex)
    for ax in axes if rows > 1 else [axes]:
        _style(ax)
    return fig, axes


def _values(readings: list[Any], name: str) -> list[float]:
    """One vital sign of each reading, NaN where not recorded (a gap in the line)."""
    return [float("nan") if getattr(r, name) is None else getattr(r, name) for r in readings]


def _style(ax: Any) -> None:
    """A white, lightly gridded axes (what seaborn's whitegrid looks like), set locally."""
    ax.set_facecolor("white")
    ax.grid(True, color="#e3e3e3", linewidth=0.8)
    ax.set_axisbelow(True)
    for spine in ax.spines.values():
        spine.set_color("#bbbbbb")


def _outside_legend(ax: Any, handles: list[Any], labels: list[str]) -> None:
    """A legend beside the axes, never on top of the data."""
    if handles:
        ax.legend(
            handles, labels, loc="upper left", bbox_to_anchor=(1.02, 1), fontsize=8, frameon=False
        )


def session_vitals_figure(
    record: CaseRecord,
    session: Session,
    kb: KnowledgeBase | None = None,
    *,
    marked: bool = True,
) -> Figure:
    """Blood pressure, heart rate and SpO2 by minute for one session, against the thresholds.

    Draws the label's pre-dose guide (dotted) and the severe range (dashed), circles readings the
    rules find a large rise in, marks readings in the severe range and SpO2 readings below the
    desaturation line (both findings: hazards that happened), and notes the MOAA/S readings.
    SpO2 has a fixed clinical axis, so a 1-point change never looks like a collapse. Legends
    sit beside the axes.

    With ``marked=False`` the figure shows the recorded data only, on the same axes: no
    thresholds and no findings, so that a trainee reads the chart before the rules answer.
    """
    from kdsupport.rules.monitoring import large_rise_size, reading_flags
    from kdsupport.rules.result import Status

    if kb is None:
        from kdsupport.knowledge import load

        kb = load()
    from matplotlib.figure import Figure as _Fig

    fig = _Fig(figsize=(9.0, 6.8), layout="constrained")
    ax_bp, ax_hr, ax_mo = fig.subplots(
        3, 1, sharex=True, gridspec_kw={"height_ratios": [3, 2.2, 1.4]}
    )
    for ax in (ax_bp, ax_hr, ax_mo):
        _style(ax)
    flags = reading_flags(session, kb)
    vitals = [f.reading for f in flags]
    minutes = [r.minute for r in vitals]
    g = kb.vitals.predose_bp_guide
    _, sev = g.severe_definition()
    desat = kb.vitals.session_monitoring.checks["desaturation"].spo2_below_percent
    assert desat is not None
    spo2_axis = kb.vitals.plot_ranges.spo2_percent
    if not vitals:
        ax_bp.text(
            0.5,
            0.5,
            "no vitals recorded for this session",
            ha="center",
            va="center",
            transform=ax_bp.transAxes,
        )
    elif not marked:
        _data_only_axes(ax_bp, ax_hr, vitals, minutes, spo2_axis)
    else:
        ax_bp.plot(
            minutes,
            _values(vitals, "systolic_mmhg"),
            "o-",
            color=_PALETTE["systolic"],
            label="systolic",
        )
        ax_bp.plot(
            minutes,
            _values(vitals, "diastolic_mmhg"),
            "s--",
            color=_PALETTE["diastolic"],
            label="diastolic",
        )
        for value, colour, what in (
            (g.systolic_above_mmhg.value, _PALETTE["systolic"], "systolic"),
            (g.diastolic_above_mmhg.value, _PALETTE["diastolic"], "diastolic"),
        ):
            ax_bp.axhline(
                value, color=colour, ls=":", lw=1, label=f"pre-dose guide, {what} {value:g}"
            )
        ax_bp.axhline(
            sev.systolic_above_mmhg.value,
            color=_FINDING,
            ls="--",
            lw=1,
            label=f"severe range ({sev.label}): above {sev.systolic_above_mmhg.value:g}/"
            f"{sev.diastolic_above_mmhg.value:g}",
        )
        ax_bp.axhline(sev.diastolic_above_mmhg.value, color=_FINDING, ls="--", lw=1)
        big = [f.reading for f in flags if f.large_rise is Status.MET]
        if big:
            size = "/".join(f"{x:g}" for x in large_rise_size(kb))
            ax_bp.scatter(
                [r.minute for r in big],
                _values(big, "systolic_mmhg"),
                s=170,
                facecolors="none",
                edgecolors="black",
                linewidths=2,
                zorder=5,
                label=f"FINDING: a rise of {size} mmHg or more",
            )
        severe = [f.reading for f in flags if f.severe is Status.MET]
        if severe:
            ax_bp.scatter(
                [r.minute for r in severe],
                _values(severe, "systolic_mmhg"),
                marker="X",
                s=140,
                color=_FINDING,
                zorder=6,
                label="FINDING: in the severe range",
            )
        ax_hr.plot(
            minutes,
            _values(vitals, "heart_rate_bpm"),
            "^-",
            color=_PALETTE["heart rate"],
            label="heart rate (bpm)",
        )
        ax_sp = ax_hr.twinx()
        ax_sp.plot(
            minutes, _values(vitals, "spo2_percent"), "d:", color=_PALETTE["SpO2"], label="SpO2 (%)"
        )
        ax_sp.axhline(
            desat.value,
            color=_FINDING,
            ls="--",
            lw=1,
            label=f"desaturation: below {desat.value:g} %",
        )
        low = [f.reading for f in flags if f.desaturated is Status.MET]
        if low:
            ax_sp.scatter(
                [r.minute for r in low],
                _values(low, "spo2_percent"),
                marker="X",
                s=140,
                color=_FINDING,
                zorder=6,
                label="FINDING: desaturation",
            )
        ax_sp.set_ylim(spo2_axis.min, spo2_axis.max)
        ax_sp.set_ylabel("SpO2 (%)")
        ax_sp.grid(False)
        h1, l1 = ax_hr.get_legend_handles_labels()
        h2, l2 = ax_sp.get_legend_handles_labels()
        ax_sp.legend(
            h1 + h2, l1 + l2, loc="upper left", bbox_to_anchor=(1.12, 1), fontsize=8, frameon=False
        )
    _moaas_axis(ax_mo, session, kb, marked=marked)
    ax_bp.set_ylabel("blood pressure (mmHg)")
    ax_bp.set_title(
        plot_label(
            f"{record.id}, session {session.number} ({modality_label(session.modality)})",
            max_chars=80,
        )
    )
    _outside_legend(ax_bp, *ax_bp.get_legend_handles_labels())
    ax_hr.set_ylabel("heart rate (bpm)")
    ax_mo.set_xlabel("minutes from the start of the dose")
    return fig


def _data_only_axes(
    ax_bp: Any, ax_hr: Any, vitals: list[Any], minutes: list[float], spo2_axis: Any
) -> None:
    """The recorded BP, heart rate and SpO2 without thresholds or findings (the chart view)."""
    ax_bp.plot(
        minutes,
        _values(vitals, "systolic_mmhg"),
        "o-",
        color=_PALETTE["systolic"],
        label="systolic",
    )
    ax_bp.plot(
        minutes,
        _values(vitals, "diastolic_mmhg"),
        "s--",
        color=_PALETTE["diastolic"],
        label="diastolic",
    )
    ax_hr.plot(
        minutes,
        _values(vitals, "heart_rate_bpm"),
        "^-",
        color=_PALETTE["heart rate"],
        label="heart rate (bpm)",
    )
    ax_sp = ax_hr.twinx()
    ax_sp.plot(
        minutes, _values(vitals, "spo2_percent"), "d:", color=_PALETTE["SpO2"], label="SpO2 (%)"
    )
    ax_sp.set_ylim(spo2_axis.min, spo2_axis.max)
    ax_sp.set_ylabel("SpO2 (%)")
    ax_sp.grid(False)
    h1, l1 = ax_hr.get_legend_handles_labels()
    h2, l2 = ax_sp.get_legend_handles_labels()
    ax_sp.legend(
        h1 + h2, l1 + l2, loc="upper left", bbox_to_anchor=(1.12, 1), fontsize=8, frameon=False
    )


def _moaas_axis(ax: Any, session: Session, kb: KnowledgeBase, *, marked: bool = True) -> None:
    """MOAA/S readings on their own 0-5 axis, with the deep-sedation band (a finding)."""
    from kdsupport.rules.monitoring import moaas_at_most
    from kdsupport.rules.result import Status

    scale = kb.scales.instruments["moaas"].total
    deep = kb.vitals.session_monitoring.checks["deep_sedation"].max_score
    assert scale is not None and deep is not None
    readings = [m for m in session.moaas or () if m.score is not None]
    if marked:
        ax.axhspan(
            scale.min - 0.5,
            deep.value + 0.5,
            color=_FINDING,
            alpha=0.08,
            label=f"deep sedation: MOAA/S {deep.value:g} or less",
        )
    if readings:
        ax.plot(
            [m.minute for m in readings],
            [m.score for m in readings],
            "o-",
            color="#5e3c99",
            label="MOAA/S",
        )
        low = [m for m in readings if moaas_at_most(m.score, "deep_sedation", kb) is Status.MET]
        if low and marked:
            ax.scatter(
                [m.minute for m in low],
                [m.score for m in low],
                marker="X",
                s=120,
                color=_FINDING,
                zorder=6,
                label="FINDING: deep sedation",
            )
    else:
        ax.text(0.5, 0.5, "no MOAA/S recorded", ha="center", va="center", transform=ax.transAxes)
    ax.set_ylim(scale.min - 0.5, scale.max + 0.5)
    ax.set_yticks(range(int(scale.min), int(scale.max) + 1))
    ax.set_ylabel("MOAA/S")
    _outside_legend(ax, *ax.get_legend_handles_labels())


def attempts_by_question_figure(by_question: pd.DataFrame, *, top: int = 20) -> Figure:
    """Percent of first answers correct for the ``top`` hardest questions.

    ``by_question`` is the dashboard's table (:func:`kdsupport.widgets.dashboard.dashboard_tables`):
    columns ``case``, ``question``, ``trainees``, ``first answers correct``, ``percent correct``.
    """
    import seaborn as sns

    if by_question.empty:
        fig, ax = _figure(7.5, 2.5)
        ax.text(0.5, 0.5, "no attempts yet", ha="center", va="center", transform=ax.transAxes)
        return fig
    by = (
        by_question.assign(
            label=(by_question["case"] + " " + by_question["question"]).map(plot_label)
        )
        .sort_values(["percent correct", "trainees", "label"], ascending=[True, False, True])
        .head(top)
    )
    fig, ax = _figure(7.5, max(2.5, 0.28 * len(by) + 1))
    sns.barplot(data=by, y="label", x="percent correct", ax=ax, color="#4393c3")
    ax.set_xlim(0, 100)
    ax.set_xlabel("first answers correct (%)")
    ax.set_ylabel("case and question")
    ax.set_title(f"First answers correct by question: the {len(by)} hardest")
    return fig


def attempts_by_trainee_figure(by_trainee: pd.DataFrame) -> Figure:
    """Percent of first answers correct per trainee, with the number of questions answered.

    ``by_trainee`` is the dashboard's table: columns ``trainee``, ``questions answered``,
    ``first answers correct``, ``percent correct``.
    """
    import seaborn as sns

    fig, ax = _figure(7.5, max(2.5, 0.35 * len(by_trainee) + 1))
    if by_trainee.empty:
        ax.text(0.5, 0.5, "no attempts yet", ha="center", va="center", transform=ax.transAxes)
        return fig
    data = by_trainee.assign(
        label=[
            plot_label(f"{t} ({c} of {n})")  # ids as plain text
            for t, n, c in zip(
                by_trainee["trainee"],
                by_trainee["questions answered"],
                by_trainee["first answers correct"],
                strict=True,
            )
        ]
    )
    sns.barplot(data=data, y="label", x="percent correct", ax=ax, color="#1b7837")
    ax.set_xlim(0, 100)
    ax.set_xlabel("first answers correct (%)")
    ax.set_ylabel("trainee (first answers correct of questions answered)")
    ax.set_title("First answers correct by trainee")
    return fig


# ---------------------------------------------------------------- case conference figures
_OUTCOME_COLOURS = {
    "adequate, failed": "#b2182b",
    "adequate, not failed": "#1b7837",
    "not adequate": "#bababa",
    "unknown": "#8073ac",
}
_OUTCOME_HATCH = {
    "adequate, failed": "",
    "adequate, not failed": "//",
    "not adequate": "..",
    "unknown": "xx",
}


def _category(adequacy: Status, outcome: Status) -> str:
    """A trial's legend category from its adequacy (met = adequate) and outcome (met = failed)."""
    from kdsupport.rules.result import Status

    if adequacy is Status.NOT_MET:
        return "not adequate"
    if adequacy is Status.MET:
        return (
            "adequate, failed"
            if outcome is Status.MET
            else ("adequate, not failed" if outcome is Status.NOT_MET else "unknown")
        )
    return "unknown"


def trial_timeline_figure(record: CaseRecord, assessment: Assessment) -> Figure:
    """Medication trials and ECT courses in record order, coloured by adequacy and outcome.

    Bars are placed one after another (the record keeps order, not dates); a bar's length is the
    trial's weeks, and a trial with unknown weeks is drawn hatched at a nominal length.
    """
    from matplotlib.patches import Patch

    trials = assessment.trd.trials
    courses = list(record.ect or ())
    n = len(trials) + len(courses)
    fig, ax = _figure(8, max(2.2, 0.45 * n + 1.4))
    if n == 0:
        ax.text(
            0.5,
            0.5,
            "no medication trials or ECT recorded",
            ha="center",
            va="center",
            transform=ax.transAxes,
        )
        ax.set_axis_off()
        return fig
    known = [t.inputs["weeks"] for t in trials if t.inputs["weeks"] is not None]
    nominal = sorted(known)[len(known) // 2] if known else 6  # only for drawing an unknown length
    start, labels, y = 0.0, [], 0
    for t in trials:
        weeks = t.inputs["weeks"]
        length = weeks if weeks is not None else nominal
        cat = _category(t.adequacy, t.outcome)
        ax.barh(
            y,
            length,
            left=start,
            color=_OUTCOME_COLOURS[cat],
            hatch=_OUTCOME_HATCH[cat],
            edgecolor="black",
            alpha=0.9 if weeks is not None else 0.5,
        )
        i = t.inputs
        amount = (
            f"{i['serum_level_mmol_l']} mmol/L"
            if i["serum_level_mmol_l"] is not None
            else f"{i['dose_mg_per_day']} mg/d"
            if i["dose_mg_per_day"] is not None
            else "dose ?"
        )
        prev = " (previous episode)" if t.episode == "previous" else ""
        labels.append(f"{t.index + 1}. {t.drug} {amount}, {t.role}{prev}")
        ax.text(
            start + length + 0.3,
            y,
            "weeks ?" if weeks is None else f"{weeks:g} wk",
            va="center",
            fontsize=8,
        )
        start += length
        y += 1
    for k, c in enumerate(courses):
        length = nominal / 2
        ax.barh(y, length, left=start, color="#f4a582", edgecolor="black", hatch="\\\\")
        imp = "?" if c.improvement_percent is None else f"{c.improvement_percent:g} %"
        labels.append(
            f"ECT {k + 1}: {c.laterality or 'laterality ?'}, {c.sessions or '?'} sessions, "
            f"improvement {imp}"
        )
        start += length
        y += 1
    ax.set_yticks(range(n))
    ax.set_yticklabels(labels, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("weeks (trials in record order; bar length = weeks at that dose)")
    ax.set_title(f"Treatment history ({assessment.trd.definition})")
    handles = [
        Patch(facecolor=_OUTCOME_COLOURS[k], hatch=_OUTCOME_HATCH[k], edgecolor="black", label=k)
        for k in _OUTCOME_COLOURS
    ]
    if courses:
        handles.append(
            Patch(facecolor="#f4a582", hatch="\\\\", edgecolor="black", label="ECT course")
        )
    ax.set_xlim(0, start * 1.08 + 1)
    fig.legend(handles=handles, loc="outside lower center", ncol=len(handles), fontsize=8)
    return fig


def sessions_vitals_grid_figure(record: CaseRecord, kb: KnowledgeBase | None = None) -> Figure:
    """Systolic, diastolic and heart rate by minute for every session, small multiples.

    The pre-dose guide is drawn (dotted); post-dose readings with a rise of the label's size
    from minute 0 are circled.
    """
    import math

    if kb is None:
        from kdsupport.knowledge import load

        kb = load()
    sessions = list(record.sessions or ())
    cols = min(4, max(1, len(sessions)))
    rows = max(1, math.ceil(len(sessions) / cols))
    from matplotlib.figure import Figure

    fig = Figure(figsize=(3.0 * cols + 1, 2.4 * rows + 0.8), layout="constrained")
    axes = fig.subplots(rows, cols, sharey=True, squeeze=False)
    for ax in axes.flat:
        _style(ax)
    from kdsupport.rules.monitoring import large_rise_size, reading_flags
    from kdsupport.rules.result import Status

    g = kb.vitals.predose_bp_guide
    rise_s, rise_d = large_rise_size(kb)
    for k, ax in enumerate(axes.flat):
        if k >= len(sessions):
            ax.set_axis_off()
            continue
        s = sessions[k]
        v = list(s.vitals or ())
        ax.set_title(f"session {s.number}", fontsize=9)
        if not v:
            ax.text(
                0.5,
                0.5,
                "no vitals recorded",
                ha="center",
                va="center",
                transform=ax.transAxes,
                fontsize=8,
            )
            ax.set_xticks([])
            continue
        m = [r.minute for r in v]
        ax.plot(
            m,
            [r.systolic_mmhg for r in v],
            "o-",
            color=_PALETTE["systolic"],
            ms=3,
            label="systolic (mmHg)",
        )
        ax.plot(
            m,
            [r.diastolic_mmhg for r in v],
            "s--",
            color=_PALETTE["diastolic"],
            ms=3,
            label="diastolic (mmHg)",
        )
        ax.plot(
            m,
            [r.heart_rate_bpm for r in v],
            "^:",
            color=_PALETTE["heart rate"],
            ms=3,
            label="heart rate (bpm)",
        )
        ax.axhline(g.systolic_above_mmhg.value, color=_PALETTE["systolic"], ls=":", lw=0.8)
        ax.axhline(g.diastolic_above_mmhg.value, color=_PALETTE["diastolic"], ls=":", lw=0.8)
        flags = reading_flags(s, kb)
        for f in flags:
            if f.large_rise is Status.MET:
                ax.scatter(
                    [f.reading.minute],
                    [f.reading.systolic_mmhg],
                    s=120,
                    facecolors="none",
                    edgecolors="black",
                    lw=1.5,
                )
            if f.severe is Status.MET:
                ax.scatter(
                    [f.reading.minute], [f.reading.systolic_mmhg], marker="X", s=90, color=_FINDING
                )
        hazards = [
            word
            for word, flag in (
                ("severe BP", any(f.severe is Status.MET for f in flags)),
                ("desaturation", any(f.desaturated is Status.MET for f in flags)),
            )
            if flag
        ]
        if hazards:
            ax.set_title(
                f"session {s.number}: FINDING {', '.join(hazards)}", fontsize=9, color=_FINDING
            )
        ax.tick_params(labelsize=8)
    for ax in axes[-1]:
        ax.set_xlabel("minute", fontsize=8)
    for ax in axes[:, 0]:
        ax.set_ylabel("mmHg / bpm", fontsize=8)
    handles, labels = axes.flat[0].get_legend_handles_labels()
    if handles:
        fig.legend(handles, labels, loc="outside lower center", ncol=3, fontsize=8)
    fig.suptitle(
        f"Session vitals by minute (dotted: pre-dose guide {g.systolic_above_mmhg.value:g}/"
        f"{g.diastolic_above_mmhg.value:g} mmHg; circled: a rise of "
        f"{rise_s:g}/{rise_d:g} mmHg or more; "
        "X: a reading in the severe range; findings are hazards that happened)",
        fontsize=9,
    )
    return fig


def sedation_dissociation_figure(record: CaseRecord, kb: KnowledgeBase | None = None) -> Figure:
    """Deepest MOAA/S (with the deep-sedation band) and the CADSS total for each session."""
    if kb is None:
        from kdsupport.knowledge import load

        kb = load()
    sessions = list(record.sessions or ())
    fig, (ax1, ax2) = _figure(7.5, 4.2, rows=2, sharex=True)
    nums = [s.number for s in sessions]
    lowest = [
        min((m.score for m in s.moaas or () if m.score is not None), default=None) for s in sessions
    ]
    scale = kb.scales.instruments["moaas"].total
    checks = kb.vitals.session_monitoring.checks
    deep, loc = checks["deep_sedation"].max_score, checks["loss_of_consciousness"].max_score
    alert = checks["sedation_resolved"].alert_score
    assert scale is not None and deep is not None and loc is not None and alert is not None
    ax1.plot(nums, [x if x is not None else float("nan") for x in lowest], "o-", color="#5e3c99")
    ax1.axhspan(
        scale.min - 0.5,
        deep.value + 0.5,
        color=_FINDING,
        alpha=0.08,
        label=f"FINDING: deep sedation (MOAA/S {deep.value:g} or less)",
    )
    ax1.set_ylim(scale.min - 0.5, scale.max + 0.5)
    ax1.set_ylabel(
        f"deepest MOAA/S\n({alert.value:g} = alert, {loc.value:g} = no response to pain)"
    )
    _outside_legend(ax1, *ax1.get_legend_handles_labels())
    ax1.set_title("Sedation and dissociation over the course")
    cadss = [s.cadss_total if s.cadss_total is not None else float("nan") for s in sessions]
    ax2.bar(nums, cadss, color="#4393c3", edgecolor="black")
    ax2.set_ylabel("CADSS total (points)")
    ax2.set_xlabel("session number")
    ax2.set_xticks(nums)
    return fig


def symptom_trajectory_figure(
    record: CaseRecord, assessment: Assessment, kb: KnowledgeBase | None = None
) -> Figure:
    """The outcome instrument's totals over time with the response and remission lines."""
    from kdsupport.rules.scales import remission_cutoff, response_boundary

    if kb is None:
        from kdsupport.knowledge import load

        kb = load()
    o = assessment.outcome
    fig, ax = _figure(7.5, 3.6)
    if o is None:
        ax.text(
            0.5,
            0.5,
            "no instrument with a baseline and a later administration",
            ha="center",
            va="center",
            transform=ax.transAxes,
        )
        ax.set_axis_off()
        return fig
    ins = o.instrument
    points = [(s.when, s.total) for s in assessment.scales if s.instrument == ins]
    xs = list(range(len(points)))
    ax.plot(
        xs,
        [t if t is not None else float("nan") for _, t in points],
        "o-",
        color="#2166ac",
        label=ins.upper(),
    )
    ax.set_xticks(xs)
    ax.set_xticklabels([w for w, _ in points], rotation=30, ha="right", fontsize=8)
    resp_pct = kb.scales.outcome.response.min_reduction_percent
    if o.baseline:
        ax.axhline(
            response_boundary(o.baseline, kb),
            color="#b35806",
            ls="--",
            label=f"response: {resp_pct:g} % below baseline",
        )
    _, cut = remission_cutoff(kb, ins, o.remission_definition)
    ax.axhline(
        cut.value,
        color="#1b7837",
        ls=":",
        label=f"remission: {cut.comparison} {cut.value:g} ({o.remission_definition})",
    )
    spec = kb.scales.instruments[ins]
    assert spec.total is not None  # a scored instrument has one (checked when the KB loads)
    ax.set_ylim(spec.total.min, spec.total.max)
    ax.set_ylabel(f"{ins.upper()} total (points)")
    ax.set_xlabel("administration")
    ax.set_title(f"Symptom trajectory ({spec.title})")
    ax.legend(fontsize=8, loc="upper right", title="way of giving ketamine")
    return fig


# ---------------------------------------------------------------- cohort figures
# The generator's outcome shares per modality are anchored on studies of different design
# (synthetic.yaml, treatment.outcome): RCTs for esketamine and IV ketamine, an uncontrolled
# open-label study for at-home ketamine. A figure that shows the at-home modality says so.
_AT_HOME = "at_home_ketamine"
_ANCHOR_NOTE = (
    "Not comparable across modalities: esketamine and IV ketamine are anchored on RCTs\n"
    "(ESCAPE-TRD, ELEKT-D), at-home ketamine on an uncontrolled open-label study (Hull 2022)"
)


# Column names of the cohort tables in words.
COLUMN_WORDS = {
    "modality": "way of giving ketamine",
    "age_group": "age group",
    "sex": "sex",
    "severity": "baseline severity",
}


def value_words(column: str, value: Any) -> str:
    """A cohort table value in words (modality and check codes by their knowledge-base labels)."""
    if column == "modality":
        return modality_label(str(value))
    if column == "check":
        return check_title(str(value))
    return str(value).replace("_", " ")


def rates_figure(rates: pd.DataFrame, *, group: str, title: str, hue: str | None = None) -> Figure:
    """Rates with 95 % intervals per group (error bars), optionally split by a second column.

    When the at-home modality is shown, a note under the title says that its anchor is an
    uncontrolled open-label study while the others are RCTs, so the modalities are not comparable.
    """
    fig, ax = _figure(7.5, 3.6)
    if rates.empty:
        ax.text(0.5, 0.5, "no data", ha="center", va="center", transform=ax.transAxes)
        return fig
    groups = list(dict.fromkeys(rates[group].astype(str)))
    hues = list(dict.fromkeys(rates[hue].astype(str))) if hue else [None]
    width = 0.8 / len(hues)
    colours = ["#2166ac", "#b2182b", "#1b7837", "#5e3c99", "#b35806", "#4d4d4d"]
    markers = ["o", "s", "^", "D", "v", "P"]
    for j, h in enumerate(hues):
        sub = rates if h is None else rates[rates[hue].astype(str) == h]
        xs, ys, lo, hi = [], [], [], []
        for _, r in sub.iterrows():
            xs.append(groups.index(str(r[group])) + (j - (len(hues) - 1) / 2) * width)
            ys.append(100 * r["rate"])
            # at a rate of 0 or 1 the interval's end equals the rate up to float rounding
            lo.append(max(0, 100 * (r["rate"] - r["ci_low"])))
            hi.append(max(0, 100 * (r["ci_high"] - r["rate"])))
        ax.errorbar(
            xs,
            ys,
            yerr=[lo, hi],
            fmt=markers[j % 6],
            color=colours[j % 6],
            capsize=4,
            label=value_words(hue, h) if hue and h is not None else None,
        )
    ax.set_xticks(range(len(groups)))
    ax.set_xticklabels([value_words(group, g) for g in groups])
    ax.set_ylim(0, 100)
    ax.set_ylabel("patients (%) with 95 % interval")
    ax.set_xlabel(COLUMN_WORDS.get(group, group.replace("_", " ")))
    if _AT_HOME in groups + hues:
        ax.set_title(title, pad=30)
        ax.annotate(
            _ANCHOR_NOTE,
            (0.5, 1.0),
            xycoords="axes fraction",
            xytext=(0, 4),
            textcoords="offset points",
            ha="center",
            va="bottom",
            fontsize=8,
            color="#333333",
        )
    else:
        ax.set_title(title)
    if hue:
        ax.legend(title=COLUMN_WORDS.get(hue, hue.replace("_", " ")), fontsize=8)
    return fig


def bp_rise_figure(rises: pd.DataFrame, kb: KnowledgeBase | None = None) -> Figure:
    """Distribution of the systolic rise from minute 0 by minute, per modality (boxes).

    ``rises`` is :func:`kdsupport.cohort.outcomes.bp_rise_by_minute`'s table; post-dose readings
    are shown, with the label's large systolic rise (the rules' threshold) as a line.
    """
    import seaborn as sns

    from kdsupport.rules.monitoring import is_post_dose, large_rise_size

    if kb is None:
        from kdsupport.knowledge import load

        kb = load()
    fig, ax = _figure(8, 3.8)
    data = rises[is_post_dose(rises["minute"])].assign(
        minute=lambda d: d["minute"].astype(int),
        modality=lambda d: d["modality"].map(modality_label),
    )
    sns.boxplot(
        data=data,
        x="minute",
        y="systolic_rise_mmhg",
        hue="modality",
        ax=ax,
        fliersize=1.5,
        palette=["#2166ac", "#b2182b", "#1b7837"],
    )
    big, _ = large_rise_size(kb)
    ax.axhline(big, color="black", ls=":", lw=1, label=f"label's large rise: {big:g} mmHg")
    ax.axhline(0, color="#777", lw=0.8)
    ax.set_xlabel("minutes from the start of the dose")
    ax.set_ylabel("systolic rise from minute 0 (mmHg)")
    ax.set_title("Blood-pressure rise by minute")
    ax.legend(fontsize=8, loc="upper right", title="way of giving ketamine")
    return fig


def cadss_course_figure(cadss: pd.DataFrame) -> Figure:
    """Mean CADSS total by session number per modality, with 95 % intervals."""
    import seaborn as sns

    fig, ax = _figure(7.5, 3.6)
    cadss = cadss.assign(modality=cadss["modality"].map(modality_label))
    sns.lineplot(
        data=cadss,
        x="number",
        y="cadss_total",
        hue="modality",
        style="modality",
        markers=True,
        errorbar=("ci", 95),
        seed=0,  # the bootstrap interval is the same on every drawing of the same cohort
        ax=ax,
        palette=["#2166ac", "#b2182b", "#1b7837"],
    )
    ax.set_xlabel("session number")
    ax.set_ylabel("CADSS total (points)")
    ax.set_title("Dissociation over a course (mean and 95 % interval)")
    ax.legend(title="way of giving ketamine", fontsize=8)
    return fig


def crossings_figure(crossings: pd.DataFrame) -> Figure:
    """Share of sessions per modality that crossed each monitoring threshold or missed a check."""
    import seaborn as sns

    fig, ax = _figure(8, 3.8)
    crossings = crossings.assign(
        check=crossings["check"].map(check_title),
        modality=crossings["modality"].map(modality_label),
    )
    sns.barplot(
        data=crossings,
        y="check",
        x="percent",
        hue="modality",
        ax=ax,
        palette=["#2166ac", "#b2182b", "#1b7837"],
    )
    ax.set_xlabel("sessions (%) needing attention")
    ax.set_ylabel("monitoring check")
    ax.set_title("Sessions that crossed a monitoring threshold or missed a check")
    ax.legend(title="way of giving ketamine", fontsize=8)
    return fig
