"""Figures for notebooks and reports (seaborn on matplotlib).

Every function returns a :class:`matplotlib.figure.Figure` built without pyplot (no global
state, no display backend needed), with labelled axes and units; thresholds are drawn from the
knowledge base and labelled with what they are. Colours are paired with line styles and
markers so that figures read in greyscale too.

For training and case conferences with synthetic patients; not a medical device.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

    from kdsupport.case import CaseRecord, Session
    from kdsupport.knowledge import KnowledgeBase

__all__ = [
    "session_vitals_figure",
    "attempts_by_question_figure",
    "attempts_by_trainee_figure",
]

_PALETTE = {
    "systolic": "#b2182b",
    "diastolic": "#2166ac",
    "heart rate": "#4d4d4d",
    "SpO2": "#1b7837",
}


def _figure(width: float, height: float, rows: int = 1, sharex: bool = False) -> tuple[Figure, Any]:
    import seaborn as sns
    from matplotlib.figure import Figure

    sns.set_theme(style="whitegrid", context="notebook")
    fig = Figure(figsize=(width, height), layout="constrained")
    axes = fig.subplots(rows, 1, sharex=sharex)
    return fig, axes


def session_vitals_figure(
    record: CaseRecord, session: Session, kb: KnowledgeBase | None = None
) -> Figure:
    """Blood pressure, heart rate and SpO2 by minute for one session, against the guide.

    Draws the label's pre-dose guide (dotted), marks post-dose readings whose rise from minute 0
    reaches the label's large-rise size, and notes the MOAA/S readings.
    """
    import pandas as pd

    if kb is None:
        from kdsupport.knowledge import load

        kb = load()
    fig, (ax_bp, ax_hr) = _figure(7.5, 5.2, rows=2, sharex=True)
    rows = [r.model_dump() for r in session.vitals or ()]
    df = pd.DataFrame(
        rows,
        columns=["minute", "systolic_mmhg", "diastolic_mmhg", "heart_rate_bpm", "spo2_percent"],
    )
    g = kb.vitals.predose_bp_guide
    rise = kb.vitals.session_monitoring.checks["bp_rise"]
    if df.empty:
        ax_bp.text(
            0.5,
            0.5,
            "no vitals recorded for this session",
            ha="center",
            va="center",
            transform=ax_bp.transAxes,
        )
    else:
        ax_bp.plot(
            df["minute"], df["systolic_mmhg"], "o-", color=_PALETTE["systolic"], label="systolic"
        )
        ax_bp.plot(
            df["minute"],
            df["diastolic_mmhg"],
            "s--",
            color=_PALETTE["diastolic"],
            label="diastolic",
        )
        ax_bp.axhline(
            g.systolic_above_mmhg.value,
            color=_PALETTE["systolic"],
            ls=":",
            lw=1,
            label=f"pre-dose guide, systolic {g.systolic_above_mmhg.value:g}",
        )
        ax_bp.axhline(
            g.diastolic_above_mmhg.value,
            color=_PALETTE["diastolic"],
            ls=":",
            lw=1,
            label=f"pre-dose guide, diastolic {g.diastolic_above_mmhg.value:g}",
        )
        base = df[df["minute"] == 0]
        if not base.empty:
            s0, d0 = base.iloc[0]["systolic_mmhg"], base.iloc[0]["diastolic_mmhg"]
            post = df[df["minute"] > 0]
            size = f"{rise.systolic_rise_mmhg.value:g}/{rise.diastolic_rise_mmhg.value:g}"
            big = post[
                ((post["systolic_mmhg"] - s0) >= rise.systolic_rise_mmhg.value)
                | ((post["diastolic_mmhg"] - d0) >= rise.diastolic_rise_mmhg.value)
            ]
            if not big.empty:
                ax_bp.scatter(
                    big["minute"],
                    big["systolic_mmhg"],
                    s=160,
                    facecolors="none",
                    edgecolors="black",
                    linewidths=2,
                    zorder=5,
                    label=f"rise of {size} mmHg or more",
                )
        ax_hr.plot(
            df["minute"],
            df["heart_rate_bpm"],
            "^-",
            color=_PALETTE["heart rate"],
            label="heart rate (bpm)",
        )
        ax_sp = ax_hr.twinx()
        ax_sp.plot(df["minute"], df["spo2_percent"], "d:", color=_PALETTE["SpO2"], label="SpO2 (%)")
        ax_sp.set_ylabel("SpO2 (%)")
        ax_sp.grid(False)
        h1, l1 = ax_hr.get_legend_handles_labels()
        h2, l2 = ax_sp.get_legend_handles_labels()
        ax_hr.legend(h1 + h2, l1 + l2, loc="lower right", fontsize=8)
    for m in session.moaas or ():
        ax_bp.annotate(
            f"MOAA/S {m.score if m.score is not None else '?'}",
            (m.minute, ax_bp.get_ylim()[0]),
            xytext=(0, 6),
            textcoords="offset points",
            ha="center",
            fontsize=8,
            color="#5e3c99",
        )
    ax_bp.set_ylabel("blood pressure (mmHg)")
    ax_bp.set_title(f"{record.id}, session {session.number} ({session.modality.replace('_', ' ')})")
    if ax_bp.get_legend_handles_labels()[0]:
        ax_bp.legend(loc="upper right", fontsize=8)
    ax_hr.set_ylabel("heart rate (bpm)")
    ax_hr.set_xlabel("minutes from the start of the dose")
    return fig


def attempts_by_question_figure(df: pd.DataFrame) -> Figure:
    """Share of correct answers per question, hardest first (one bar per case and question)."""
    import seaborn as sns

    fig, ax = _figure(
        7.5, max(2.5, 0.28 * df[["case_id", "question_id"]].drop_duplicates().shape[0] + 1)
    )
    if df.empty:
        ax.text(0.5, 0.5, "no attempts yet", ha="center", va="center", transform=ax.transAxes)
        return fig
    by = (
        df.assign(question=df["case_id"] + " " + df["question_id"])
        .groupby("question", as_index=False)["correct"]
        .mean()
        .sort_values("correct")
    )
    by["percent correct"] = by["correct"] * 100
    sns.barplot(data=by, y="question", x="percent correct", ax=ax, color="#4393c3")
    ax.set_xlim(0, 100)
    ax.set_xlabel("answers correct (%)")
    ax.set_ylabel("case and question")
    ax.set_title("Correct answers by question (hardest first)")
    return fig


def attempts_by_trainee_figure(df: pd.DataFrame) -> Figure:
    """Answers per trainee, split into correct and not correct."""
    import seaborn as sns

    fig, ax = _figure(7.5, max(2.5, 0.35 * df["trainee_id"].nunique() + 1))
    if df.empty:
        ax.text(0.5, 0.5, "no attempts yet", ha="center", va="center", transform=ax.transAxes)
        return fig
    counts = (
        df.assign(result=df["correct"].map({True: "correct", False: "not correct"}))
        .groupby(["trainee_id", "result"], as_index=False)
        .size()
    )
    sns.barplot(
        data=counts,
        y="trainee_id",
        x="size",
        hue="result",
        ax=ax,
        palette={"correct": "#1b7837", "not correct": "#b2182b"},
    )
    ax.set_xlabel("answers (count)")
    ax.set_ylabel("trainee")
    ax.set_title("Answers by trainee")
    return fig
