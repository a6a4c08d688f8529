"""The session vitals figures: one session in full, and every session of a case as a grid.

Both draw a session's panel with :func:`_session_panel` (blood pressure and heart rate by
minute, the label's thresholds and the rules' findings); a :class:`_Look` says how large and how
labelled that panel is. Thresholds come from the knowledge base and findings from the rules
(:func:`kdsupport.rules.monitoring.reading_flags`), never from numbers here.

A new figure with styled axes, the axes style, the legend beside the axes and the finding
colour live here too, and every figure in :mod:`kdsupport.render.plots` (which re-exports these
figures) and :mod:`kdsupport.render.cohort_figures` uses them.

For training and case conferences with synthetic patients; not a medical device.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kdsupport.knowledge.wording import modality_label
from kdsupport.render.escaping import plot_label

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from kdsupport.knowledge import KnowledgeBase
    from kdsupport.records.case import CaseRecord, Session
    from kdsupport.rules.monitoring import ReadingFlags

__all__ = [
    "FINDING_COLOUR",
    "new_figure",
    "outside_legend",
    "style_axes",
    "session_vitals_figure",
    "sessions_vitals_grid_figure",
]

FINDING_COLOUR = "#a50f15"  # a hazard that happened: the warning colour, never a pass
_PALETTE = {
    "systolic": "#b2182b",
    "diastolic": "#2166ac",
    "heart rate": "#4d4d4d",
    "SpO2": "#1b7837",
}
_GRID_COLUMNS = 4  # at most four session panels in a row


def new_figure(
    width: float, height: float, rows: int = 1, sharex: bool = False
) -> tuple[Figure, Any]:
    """A new figure (no pyplot, no global style change) with ``rows`` light grid axes."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), layout="constrained")
    axes = fig.subplots(rows, 1, sharex=sharex)
    for ax in axes if rows > 1 else [axes]:
        style_axes(ax)
    return fig, axes


def style_axes(ax: Any) -> None:
    """A white, lightly gridded axes (what seaborn's whitegrid looks like), set locally."""
    ax.set_facecolor("white")
    ax.grid(True, color="#e3e3e3", linewidth=0.8)
    ax.set_axisbelow(True)
    for spine in ax.spines.values():
        spine.set_color("#bbbbbb")


def outside_legend(ax: Any, handles: list[Any], labels: list[str], *, x: float = 1.02) -> None:
    """A legend beside the axes (its left edge at ``x`` axes widths), never on top of the data."""
    if handles:
        ax.legend(
            handles, labels, loc="upper left", bbox_to_anchor=(x, 1), fontsize=8, frameon=False
        )


@dataclass(frozen=True)
class _Look:
    """How a session panel is drawn: one session's full figure, or one panel of the grid.

    ``full`` panels label their thresholds and findings for the legend, draw the severe range
    and mark each kind of finding at once; the grid's small panels mark reading by reading and
    leave the thresholds to the figure's title.
    """

    labels: tuple[str, str, str]  # legend labels of the systolic, diastolic and heart-rate lines
    heart_rate: str  # the heart-rate line's format
    line: Mapping[str, Any]  # more keywords for the three lines
    guide: Mapping[str, Any]  # more keywords for the pre-dose guide lines
    circle: Mapping[str, Any]  # more keywords for a large rise's circle
    cross: Mapping[str, Any]  # more keywords for a finding's cross
    full: bool


_FULL = _Look(
    labels=("systolic", "diastolic", "heart rate (bpm)"),
    heart_rate="^-",
    line={},
    guide={"lw": 1},
    circle={"s": 170, "linewidths": 2, "zorder": 5},
    cross={"s": 140, "zorder": 6},
    full=True,
)
_SMALL = _Look(
    labels=("systolic (mmHg)", "diastolic (mmHg)", "heart rate (bpm)"),
    heart_rate="^:",
    line={"ms": 3},
    guide={"lw": 0.8},
    circle={"s": 120, "lw": 1.5},
    cross={"s": 90},
    full=False,
)


def _values(readings: list[Any], name: str) -> list[float]:
    """One vital sign of each reading, NaN where not recorded (a gap in the line)."""
    return [float("nan") if getattr(r, name) is None else getattr(r, name) for r in readings]


def _new_figure(size: tuple[float, float], rows: int, cols: int, **grid: Any) -> tuple[Any, Any]:
    """A new figure (no pyplot, no global style change) and its styled ``rows`` x ``cols`` axes."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=size, layout="constrained")
    axes = fig.subplots(rows, cols, **grid)
    for ax in axes.flat:
        style_axes(ax)
    return fig, axes


def _no_data(ax: Any, text: str, **font: Any) -> None:
    """A note in the middle of empty axes."""
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, **font)


# ---------------------------------------------------------------- threshold lines and markers
def _finding_line(ax: Any, value: float, label: str | None = None) -> None:
    """A threshold whose crossing is a finding (dashed, in the finding colour)."""
    ax.axhline(value, color=FINDING_COLOUR, ls="--", lw=1, label=label)


def _bp_thresholds(ax: Any, kb: KnowledgeBase, look: _Look) -> None:
    """The label's pre-dose guide (dotted) and, in a full panel, the severe range (dashed)."""
    g = kb.vitals.predose_bp_guide
    for value, what in (
        (g.systolic_above_mmhg.value, "systolic"),
        (g.diastolic_above_mmhg.value, "diastolic"),
    ):
        label = f"pre-dose guide, {what} {value:g}" if look.full else None
        ax.axhline(value, color=_PALETTE[what], ls=":", label=label, **look.guide)
    if look.full:
        _, sev = g.severe_definition()
        s, d = sev.systolic_above_mmhg.value, sev.diastolic_above_mmhg.value
        _finding_line(ax, s, f"severe range ({sev.label}): above {s:g}/{d:g}")
        _finding_line(ax, d)


def _cross(ax: Any, readings: list[Any], name: str, label: str | None, **kw: Any) -> None:
    """An X in the finding colour on each reading's ``name`` value (a hazard that happened)."""
    ax.scatter(
        [r.minute for r in readings],
        _values(readings, name),
        marker="X",
        color=FINDING_COLOUR,
        label=label,
        **kw,
    )


def _circle(ax: Any, readings: list[Any], label: str | None, **kw: Any) -> None:
    """An open circle around each reading's systolic value (a large rise)."""
    ax.scatter(
        [r.minute for r in readings],
        _values(readings, "systolic_mmhg"),
        facecolors="none",
        edgecolors="black",
        label=label,
        **kw,
    )


def _bp_findings(ax: Any, flags: list[ReadingFlags], kb: KnowledgeBase, look: _Look) -> None:
    """Circles on readings with a large rise and crosses on readings in the severe range.

    A full panel marks each kind at once, with a legend label; a small panel reading by reading.
    """
    from kdsupport.rules.monitoring import large_rise_size
    from kdsupport.rules.result import Status

    if look.full:
        size = "/".join(f"{x:g}" for x in large_rise_size(kb))
        labels: tuple[str | None, str | None] = (
            f"FINDING: a rise of {size} mmHg or more",
            "FINDING: in the severe range",
        )
        batches = [flags]
    else:
        labels, batches = (None, None), [[f] for f in flags]
    for batch in batches:
        big = [f.reading for f in batch if f.large_rise is Status.MET]
        if big:
            _circle(ax, big, labels[0], **look.circle)
        severe = [f.reading for f in batch if f.severe is Status.MET]
        if severe:
            _cross(ax, severe, "systolic_mmhg", labels[1], **look.cross)


# ---------------------------------------------------------------- the session panel
def _session_panel(
    ax: Any,
    flags: list[ReadingFlags],
    kb: KnowledgeBase,
    look: _Look,
    *,
    marked: bool = True,
    ax_hr: Any = None,
) -> None:
    """One session's systolic, diastolic and heart rate by minute, on ``ax``.

    The heart rate goes on ``ax_hr`` when given. With ``marked`` the pre-dose guide (and the
    severe range) and the rules' blood-pressure findings are drawn too.
    """
    vitals = [f.reading for f in flags]
    minutes = [r.minute for r in vitals]
    ax_hr = ax if ax_hr is None else ax_hr
    for target, name, fmt, colour, label in (
        (ax, "systolic_mmhg", "o-", _PALETTE["systolic"], look.labels[0]),
        (ax, "diastolic_mmhg", "s--", _PALETTE["diastolic"], look.labels[1]),
        (ax_hr, "heart_rate_bpm", look.heart_rate, _PALETTE["heart rate"], look.labels[2]),
    ):
        target.plot(minutes, _values(vitals, name), fmt, color=colour, label=label, **look.line)
    if marked:
        _bp_thresholds(ax, kb, look)
        _bp_findings(ax, flags, kb, look)


def _spo2_axis(ax_hr: Any, flags: list[ReadingFlags], kb: KnowledgeBase, *, marked: bool) -> None:
    """SpO2 on a twin of the heart-rate axes, on its fixed clinical range; one legend for both.

    With ``marked`` the desaturation line and the desaturated readings are drawn too.
    """
    from kdsupport.rules.result import Status

    vitals = [f.reading for f in flags]
    ax_sp = ax_hr.twinx()
    ax_sp.plot(
        [r.minute for r in vitals],
        _values(vitals, "spo2_percent"),
        "d:",
        color=_PALETTE["SpO2"],
        label="SpO2 (%)",
    )
    if marked:
        desat = kb.vitals.session_monitoring.checks["desaturation"].spo2_below_percent
        assert desat is not None
        _finding_line(ax_sp, desat.value, f"desaturation: below {desat.value:g} %")
        low = [f.reading for f in flags if f.desaturated is Status.MET]
        if low:
            _cross(ax_sp, low, "spo2_percent", "FINDING: desaturation", **_FULL.cross)
    spo2_axis = kb.vitals.plot_ranges.spo2_percent
    ax_sp.set_ylim(spo2_axis.min, spo2_axis.max)
    ax_sp.set_ylabel("SpO2 (%)")
    ax_sp.grid(False)
    h1, l1 = ax_hr.get_legend_handles_labels()
    h2, l2 = ax_sp.get_legend_handles_labels()
    outside_legend(ax_sp, h1 + h2, l1 + l2, x=1.12)


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
            color=FINDING_COLOUR,
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
            _cross(ax, low, "score", "FINDING: deep sedation", s=120, zorder=6)
    else:
        _no_data(ax, "no MOAA/S recorded")
    ax.set_ylim(scale.min - 0.5, scale.max + 0.5)
    ax.set_yticks(range(int(scale.min), int(scale.max) + 1))
    ax.set_ylabel("MOAA/S")
    outside_legend(ax, *ax.get_legend_handles_labels())


# ---------------------------------------------------------------- the figures
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
    from kdsupport.rules.monitoring import reading_flags

    if kb is None:
        from kdsupport.knowledge import load

        kb = load()
    fig, (ax_bp, ax_hr, ax_mo) = _new_figure(
        (9.0, 6.8), 3, 1, sharex=True, gridspec_kw={"height_ratios": [3, 2.2, 1.4]}
    )
    flags = reading_flags(session, kb)
    if not flags:
        _no_data(ax_bp, "no vitals recorded for this session")
    else:
        _session_panel(ax_bp, flags, kb, _FULL, marked=marked, ax_hr=ax_hr)
        _spo2_axis(ax_hr, flags, kb, marked=marked)
    _moaas_axis(ax_mo, session, kb, marked=marked)
    ax_bp.set_ylabel("blood pressure (mmHg)")
    ax_bp.set_title(
        plot_label(
            f"{record.id}, session {session.number} ({modality_label(session.modality)})",
            max_chars=80,
        )
    )
    outside_legend(ax_bp, *ax_bp.get_legend_handles_labels())
    ax_hr.set_ylabel("heart rate (bpm)")
    ax_mo.set_xlabel("minutes from the start of the dose")
    return fig


def _grid_panel(ax: Any, session: Session, kb: KnowledgeBase) -> None:
    """One session's small panel of the grid; its title names the findings (hazards) if any."""
    from kdsupport.rules.monitoring import reading_flags
    from kdsupport.rules.result import Status

    ax.set_title(f"session {session.number}", fontsize=9)
    flags = reading_flags(session, kb)
    if not flags:
        _no_data(ax, "no vitals recorded", fontsize=8)
        ax.set_xticks([])
        return
    _session_panel(ax, flags, kb, _SMALL)
    hazards = [
        word
        for word, kind in (("severe BP", "severe"), ("desaturation", "desaturated"))
        if any(getattr(f, kind) is Status.MET for f in flags)
    ]
    if hazards:
        ax.set_title(
            f"session {session.number}: FINDING {', '.join(hazards)}",
            fontsize=9,
            color=FINDING_COLOUR,
        )
    ax.tick_params(labelsize=8)


def sessions_vitals_grid_figure(record: CaseRecord, kb: KnowledgeBase | None = None) -> Figure:
    """Systolic, diastolic and heart rate by minute for every session, small multiples.

    The pre-dose guide is drawn (dotted); post-dose readings with a rise of the label's size
    from minute 0 are circled.
    """
    import math

    from kdsupport.rules.monitoring import large_rise_size

    if kb is None:
        from kdsupport.knowledge import load

        kb = load()
    sessions = list(record.sessions or ())
    cols = min(_GRID_COLUMNS, max(1, len(sessions)))
    rows = max(1, math.ceil(len(sessions) / cols))
    fig, axes = _new_figure(
        (3.0 * cols + 1, 2.4 * rows + 0.8), rows, cols, sharey=True, squeeze=False
    )
    for k, ax in enumerate(axes.flat):
        if k < len(sessions):
            _grid_panel(ax, sessions[k], kb)
        else:
            ax.set_axis_off()
    for ax in axes[-1]:
        ax.set_xlabel("minute", fontsize=8)
    for ax in axes[:, 0]:
        ax.set_ylabel("mmHg / bpm", fontsize=8)
    handles, labels = axes.flat[0].get_legend_handles_labels()
    if handles:
        fig.legend(handles, labels, loc="outside lower center", ncol=3, fontsize=8)
    g = kb.vitals.predose_bp_guide
    rise_s, rise_d = large_rise_size(kb)
    fig.suptitle(
        f"Session vitals by minute (dotted: pre-dose guide {g.systolic_above_mmhg.value:g}/"
        f"{g.diastolic_above_mmhg.value:g} mmHg; circled: a rise of "
        f"{rise_s:g}/{rise_d:g} mmHg or more; "
        "X: a reading in the severe range; findings are hazards that happened)",
        fontsize=9,
    )
    return fig
