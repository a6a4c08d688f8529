"""The cohort-outcomes page's figures (notebook 11), in plain matplotlib.

Rates with their 95 % intervals by group, the blood-pressure rise by minute, dissociation over a
course and the sessions that crossed a monitoring threshold, each drawn from a table of
:mod:`kdsupport.cohort.outcomes`. Plain matplotlib, so that the page never imports seaborn.
As every figure of :mod:`kdsupport.render.plots` (which re-exports these): built without pyplot,
labelled axes with units, thresholds from the knowledge base, and each modality a colour with a
line style, a marker or a hatch, so that the figures read in greyscale too.

Synthetic data only: these figures describe the generator's assumptions, not real patients.
Not a medical device.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kdsupport.knowledge.wording import check_title, modality_label
from kdsupport.render.escaping import plot_label
from kdsupport.render.vitals_figures import new_figure

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

    from kdsupport.knowledge import KnowledgeBase

__all__ = [
    "COLUMN_WORDS",
    "value_words",
    "rates_figure",
    "bp_rise_figure",
    "cadss_course_figure",
    "crossings_figure",
]

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
    fig, ax = new_figure(7.5, 3.6)
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
    fig, ax = new_figure(8, 3.8)
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

    fig, ax = new_figure(7.5, 3.6)
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

    fig, ax = new_figure(8, 3.8)
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
