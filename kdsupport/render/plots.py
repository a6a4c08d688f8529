"""Figures for notebooks and reports (seaborn on matplotlib for the dashboard's bar charts).

Every function returns a :class:`matplotlib.figure.Figure` built without pyplot (no global
state, no display backend needed), with labelled axes and units; thresholds are drawn from the
knowledge base and labelled with what they are. Colours are paired with line styles and
markers so that figures read in greyscale too. The session vitals figures live in
:mod:`kdsupport.render.vitals_figures`, with the new figure, the axes style, the legend
placement and the finding colour that the figures here use too; the cohort figures in
:mod:`kdsupport.render.cohort_figures` (plain matplotlib); both are re-exported here.

For training and case conferences with synthetic patients; not a medical device.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kdsupport.render.cohort_figures import (
    COLUMN_WORDS,
    bp_rise_figure,
    cadss_course_figure,
    crossings_figure,
    rates_figure,
    value_words,
)
from kdsupport.render.escaping import plot_label
from kdsupport.render.vitals_figures import (
    FINDING_COLOUR,
    new_figure,
    outside_legend,
    session_vitals_figure,
    sessions_vitals_grid_figure,
)

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

    from kdsupport.knowledge import KnowledgeBase
    from kdsupport.records.case import CaseRecord
    from kdsupport.rules.assessment import Assessment
    from kdsupport.rules.result import Status

__all__ = [
    "COLUMN_WORDS",
    "value_words",
    "rates_figure",
    "bp_rise_figure",
    "cadss_course_figure",
    "crossings_figure",
    "session_vitals_figure",
    "sessions_vitals_grid_figure",
    "attempts_by_question_figure",
    "attempts_by_trainee_figure",
]


def attempts_by_question_figure(by_question: pd.DataFrame, *, top: int = 20) -> Figure:
    """Percent of first answers correct for the ``top`` hardest questions.

    ``by_question`` is the dashboard's table (:func:`kdsupport.widgets.dashboard.dashboard_tables`):
    columns ``case``, ``question``, ``trainees``, ``first answers correct``, ``percent correct``.
    """
    import seaborn as sns

    if by_question.empty:
        fig, ax = new_figure(7.5, 2.5)
        ax.text(0.5, 0.5, "no attempts yet", ha="center", va="center", transform=ax.transAxes)
        return fig
    by = (
        by_question.assign(
            label=(by_question["case"] + " " + by_question["question"]).map(plot_label)
        )
        .sort_values(["percent correct", "trainees", "label"], ascending=[True, False, True])
        .head(top)
    )
    fig, ax = new_figure(7.5, max(2.5, 0.28 * len(by) + 1))
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

    fig, ax = new_figure(7.5, max(2.5, 0.35 * len(by_trainee) + 1))
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
    fig, ax = new_figure(8, max(2.2, 0.45 * n + 1.4))
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


def sedation_dissociation_figure(record: CaseRecord, kb: KnowledgeBase | None = None) -> Figure:
    """Deepest MOAA/S (with the deep-sedation band) and the CADSS total for each session."""
    if kb is None:
        from kdsupport.knowledge import load

        kb = load()
    sessions = list(record.sessions or ())
    fig, (ax1, ax2) = new_figure(7.5, 4.2, rows=2, sharex=True)
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
        color=FINDING_COLOUR,
        alpha=0.08,
        label=f"FINDING: deep sedation (MOAA/S {deep.value:g} or less)",
    )
    ax1.set_ylim(scale.min - 0.5, scale.max + 0.5)
    ax1.set_ylabel(
        f"deepest MOAA/S\n({alert.value:g} = alert, {loc.value:g} = no response to pain)"
    )
    outside_legend(ax1, *ax1.get_legend_handles_labels())
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
    fig, ax = new_figure(7.5, 3.6)
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
