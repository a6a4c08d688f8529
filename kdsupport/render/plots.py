"""Figures for notebooks and reports (matplotlib; seaborn for the dashboard's bar charts).

The cohort figures are plain matplotlib, so that the cohort-outcomes page never imports seaborn.
Every function returns a :class:`matplotlib.figure.Figure` built without pyplot (no global
state, no display backend needed), with labelled axes and units; thresholds are drawn from the
knowledge base and labelled with what they are. Colours are paired with line styles and
markers so that figures read in greyscale too. The session vitals figures live in
:mod:`kdsupport.render.vitals_figures` (re-exported here), with the axes style, the legend
placement and the finding colour that the figures here use too.

For training and case conferences with synthetic patients; not a medical device.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kdsupport.knowledge.wording import check_title, modality_label
from kdsupport.render.escaping import plot_label
from kdsupport.render.vitals_figures import (
    FINDING_COLOUR,
    outside_legend,
    session_vitals_figure,
    sessions_vitals_grid_figure,
    style_axes,
)

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

    from kdsupport.knowledge import KnowledgeBase
    from kdsupport.records.case import CaseRecord
    from kdsupport.rules.assessment import Assessment
    from kdsupport.rules.result import Status

__all__ = [
    "session_vitals_figure",
    "sessions_vitals_grid_figure",
    "attempts_by_question_figure",
    "attempts_by_trainee_figure",
]


def _figure(width: float, height: float, rows: int = 1, sharex: bool = False) -> tuple[Figure, Any]:
    """A new figure (no pyplot, no global style change) with light grid axes."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), layout="constrained")
    axes = fig.subplots(rows, 1, sharex=sharex)
    for ax in axes if rows > 1 else [axes]:
        style_axes(ax)
    return fig, axes


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


# One colour, line style, marker and hatch per modality, in the order the figures list them.
_MODALITY_COLOURS = ("#2166ac", "#b2182b", "#1b7837")
_MODALITY_LINES = ("-", "--", ":")
_MODALITY_MARKERS = ("o", "X", "s")
_MODALITY_HATCHES = ("", "//", "..")


def _modality_look(k: int) -> dict[str, str]:
    """The k-th modality's colour, line style, marker and hatch (repeating after the third)."""
    k %= len(_MODALITY_COLOURS)
    return {
        "color": _MODALITY_COLOURS[k],
        "ls": _MODALITY_LINES[k],
        "marker": _MODALITY_MARKERS[k],
        "hatch": _MODALITY_HATCHES[k],
    }


def _dodge(k: int, n: int, width: float = 0.8) -> float:
    """The offset of the k-th of n side-by-side marks within a category ``width`` wide."""
    return (k - (n - 1) / 2) * width / n


def bp_rise_figure(rises: pd.DataFrame, kb: KnowledgeBase | None = None) -> Figure:
    """Distribution of the systolic rise from minute 0 by minute, per modality (boxes).

    ``rises`` is :func:`kdsupport.cohort.outcomes.bp_rise_by_minute`'s table; post-dose readings
    are shown, with the label's large systolic rise (the rules' threshold) as a line. A box
    spans the middle half of the rises, its line is the median, whiskers reach the furthest
    rise within 1.5 box lengths and dots are the rises beyond them.
    """
    import numpy as np
    from matplotlib.patches import Patch

    from kdsupport.rules.monitoring import is_post_dose, large_rise_size

    if kb is None:
        from kdsupport.knowledge import load

        kb = load()
    fig, ax = _figure(8, 3.8)
    data = rises[is_post_dose(rises["minute"])]
    minutes = sorted({int(m) for m in data["minute"]})
    modalities = sorted({str(m) for m in data["modality"]})
    values = data["systolic_rise_mmhg"].to_numpy(dtype=float)
    minute = data["minute"].to_numpy(dtype=float)
    modality = data["modality"].astype(str).to_numpy()
    handles: list[Any] = []
    for k, m in enumerate(modalities):
        look = _modality_look(k)
        boxes, places = [], []
        for j, t in enumerate(minutes):
            sel = values[(modality == m) & (minute == t)]
            sel = sel[~np.isnan(sel)]
            if len(sel):
                boxes.append(sel)
                places.append(j + _dodge(k, len(modalities)))
        if boxes:
            ax.boxplot(
                boxes,
                positions=places,
                widths=0.8 / len(modalities) * 0.9,
                patch_artist=True,
                manage_ticks=False,
                boxprops={"facecolor": look["color"], "hatch": look["hatch"], "edgecolor": "#333"},
                medianprops={"color": "#333", "lw": 1.2},
                whiskerprops={"color": "#333"},
                capprops={"color": "#333"},
                flierprops={"marker": "o", "markersize": 1.5, "markerfacecolor": "#333"},
            )
        handles.append(
            Patch(
                facecolor=look["color"],
                hatch=look["hatch"],
                edgecolor="#333",
                label=plot_label(modality_label(m)),
            )
        )
    big, _ = large_rise_size(kb)
    handles.append(
        ax.axhline(big, color="black", ls=":", lw=1, label=f"label's large rise: {big:g} mmHg")
    )
    ax.axhline(0, color="#777", lw=0.8)
    ax.set_xticks(range(len(minutes)))
    ax.set_xticklabels([str(t) for t in minutes])
    ax.set_xlim(-0.5, len(minutes) - 0.5)
    ax.set_xlabel("minutes from the start of the dose")
    ax.set_ylabel("systolic rise from minute 0 (mmHg)")
    ax.set_title("Blood-pressure rise by minute")
    ax.legend(handles=handles, fontsize=8, loc="upper right", title="way of giving ketamine")
    return fig


def cadss_course_figure(means: pd.DataFrame) -> Figure:
    """Mean CADSS total by session number per modality, with the 95 % interval of each mean.

    ``means`` is :func:`kdsupport.cohort.outcomes.means_with_ci` of the CADSS totals by
    ``modality`` and ``number``: the band is mean ± t·SE, as the legend says.
    """
    from matplotlib.patches import Patch

    fig, ax = _figure(7.5, 3.6)
    modalities = list(dict.fromkeys(means["modality"].astype(str)))
    for k, m in enumerate(modalities):
        look = _modality_look(k)
        sub = means[means["modality"].astype(str) == m].sort_values("number")
        x = sub["number"].to_numpy(dtype=float)
        ax.fill_between(
            x,
            sub["ci_low"].to_numpy(dtype=float),
            sub["ci_high"].to_numpy(dtype=float),
            color=look["color"],
            alpha=0.2,
            lw=0,
        )
        ax.plot(
            x,
            sub["mean"].to_numpy(dtype=float),
            color=look["color"],
            ls=look["ls"],
            marker=look["marker"],
            label=plot_label(modality_label(m)),
        )
    handles, labels = ax.get_legend_handles_labels()
    band = "shaded: 95 % interval of the mean\n(mean ± t·SE, t with n - 1 degrees of freedom)"
    handles.append(Patch(facecolor="#999999", alpha=0.4, lw=0))
    labels.append(band)
    if len(means):
        ax.set_xticks(sorted({int(n) for n in means["number"]}))
    ax.set_xlabel("session number")
    ax.set_ylabel("CADSS total (points)")
    ax.set_title("Dissociation over a course (mean and 95 % interval of the mean)")
    ax.legend(handles, labels, title="way of giving ketamine", fontsize=8)
    return fig


def crossings_figure(crossings: pd.DataFrame) -> Figure:
    """Share of sessions per modality that crossed each monitoring threshold or missed a check."""
    from matplotlib.patches import Patch

    fig, ax = _figure(8, 3.8)
    checks = list(dict.fromkeys(crossings["check"].astype(str)))
    modalities = list(dict.fromkeys(crossings["modality"].astype(str)))
    height = 0.8 / max(1, len(modalities))
    handles = []
    for k, m in enumerate(modalities):
        look = _modality_look(k)
        sub = crossings[crossings["modality"].astype(str) == m]
        ax.barh(
            [checks.index(str(c)) + _dodge(k, len(modalities)) for c in sub["check"]],
            sub["percent"].to_numpy(dtype=float),
            height=height,
            color=look["color"],
            hatch=look["hatch"],
            edgecolor="white",
        )
        handles.append(
            Patch(
                facecolor=look["color"],
                hatch=look["hatch"],
                edgecolor="white",
                label=plot_label(modality_label(m)),
            )
        )
    ax.set_yticks(range(len(checks)))
    ax.set_yticklabels([plot_label(check_title(c), max_chars=60) for c in checks])
    ax.invert_yaxis()  # the first check on top
    ax.set_xlim(0, None)
    ax.set_xlabel("sessions (%) needing attention")
    ax.set_ylabel("monitoring check")
    ax.set_title("Sessions that crossed a monitoring threshold or missed a check")
    ax.legend(handles=handles, title="way of giving ketamine", fontsize=8)
    return fig
