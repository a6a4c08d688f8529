"""The cohort-outcomes page (notebook 11): every table and figure, drawn once per cohort.

:func:`cohort_outcomes_page` reads a generated cohort, computes its outcomes with
:mod:`kdsupport.cohort.outcomes` (response and remission with 95 % Wilson intervals, the
blood-pressure rise by minute, dissociation over a course with the 95 % interval of each mean,
and every session's monitoring checks by the column-wise twins of the rules that
``kdsupport assess`` runs) and draws them with :mod:`kdsupport.render.cohort_figures`.

Reading the cohort and drawing eight figures takes a couple of seconds, and the result depends
on nothing but the cohort's tables and the code: so the drawn sections are kept in the page cache
(:mod:`kdsupport.render.page_cache`), keyed by the sha256 of each table that the cohort's
``manifest.json`` records. A table that no longer matches its manifest digest is
never cached: the page is then drawn from the tables as they are.

Synthetic data only: these numbers describe the generator's assumptions, not real patients.
Not a medical device.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, fields
from pathlib import Path

__all__ = ["CohortOutcomesPage", "cohort_outcomes_page", "cohort_directory"]

_PAGE = "cohort-outcomes"
#: Cohorts whose drawn page is kept (the bundled one, and a few an instructor points at).
_KEEP = 4


@dataclass(frozen=True)
class CohortOutcomesPage:
    """The HTML of each section of the cohort-outcomes page, in page order."""

    #: response and remission by way of giving ketamine: counts, rates and 95 % intervals
    response_table: str
    remission_table: str
    response_figure: str
    remission_figure: str
    response_by_sex: str
    response_by_age_group: str
    response_by_severity: str
    #: the systolic rise from minute 0 by minute and modality
    bp_rise_figure: str
    #: mean CADSS total by session number and modality
    cadss_figure: str
    #: sessions that crossed each monitoring threshold or missed a check
    crossings_table: str
    crossings_figure: str
    #: whether the sections were read from the page cache rather than drawn now
    from_cache: bool = False


_SECTIONS = tuple(f.name for f in fields(CohortOutcomesPage) if f.name != "from_cache")


def cohort_directory(directory: str | Path | None = None) -> Path:
    """The cohort folder :func:`kdsupport.cohort.storage.load_cohort` reads for ``directory``."""
    from kdsupport.records.bundled import data_dir

    base = Path(directory) if directory is not None else data_dir() / "cohort"
    if not (base / "manifest.json").exists() and (base / "cohort" / "manifest.json").exists():
        base = base / "cohort"
    return base


def _cohort_key(base: Path) -> str | None:
    """The page-cache key of a cohort: its manifest's table digests, checked against the files.

    None (do not cache) when the manifest cannot be read, lists no table, lists other tables
    than the cohort's ``tables/`` folder holds, or a table differs from its recorded digest.
    """
    from kdsupport.render.page_cache import page_key

    prefix = "tables/"
    try:
        manifest = json.loads((base / "manifest.json").read_text(encoding="utf-8"))
        tables = {
            k.removeprefix(prefix): v for k, v in manifest["files"].items() if k.startswith(prefix)
        }
        if not tables or set(tables) != {p.name for p in (base / "tables").iterdir()}:
            return None
        for name, digest in tables.items():
            if hashlib.sha256((base / "tables" / name).read_bytes()).hexdigest() != digest:
                return None
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    return page_key(_PAGE, json.dumps(sorted(tables.items())))


def _draw(base: Path) -> dict[str, str]:
    """Every section of the page, computed and drawn from the cohort's tables."""
    from kdsupport.cohort.outcomes import (
        bp_rise_by_minute,
        cadss_by_session,
        means_with_ci,
        outcomes,
        rates_with_ci,
        session_checks,
        threshold_crossings,
    )
    from kdsupport.cohort.storage import load_cohort
    from kdsupport.knowledge import load
    from kdsupport.render.cohort_figures import (
        bp_rise_figure,
        cadss_course_figure,
        crossings_figure,
        rates_figure,
    )
    from kdsupport.render.html import crossings_table_html, figure_html, rates_table_html

    kb = load()
    tables = load_cohort(base)
    treated = outcomes(tables, kb)
    checks = session_checks(tables, kb)
    response = rates_with_ci(treated, "modality", "response")
    remission = rates_with_ci(treated, "modality", "remission")
    cut = kb.scales.outcome.response.min_reduction_percent

    def subgroup(column: str, title: str, alt: str) -> str:
        rates = rates_with_ci(treated, [column, "modality"], "response")
        return figure_html(rates_figure(rates, group=column, hue="modality", title=title), alt=alt)

    crossings = threshold_crossings(checks)
    return {
        "response_table": rates_table_html(
            response, caption="Response by way of giving ketamine", outcome="responding"
        ),
        "remission_table": rates_table_html(
            remission, caption="Remission by way of giving ketamine", outcome="in remission"
        ),
        "response_figure": figure_html(
            rates_figure(
                response,
                group="modality",
                title=f"Response (MADRS, {cut:g} % or more below baseline)",
            ),
            alt="Response rate by modality with 95 % intervals",
        ),
        "remission_figure": figure_html(
            rates_figure(remission, group="modality", title="Remission (MADRS, default cut-off)"),
            alt="Remission rate by modality with 95 % intervals",
        ),
        "response_by_sex": subgroup("sex", "Response by sex", "Response by sex and modality"),
        "response_by_age_group": subgroup(
            "age_group", "Response by age group", "Response by age group and modality"
        ),
        "response_by_severity": subgroup(
            "severity", "Response by baseline severity", "Response by severity and modality"
        ),
        "bp_rise_figure": figure_html(
            bp_rise_figure(bp_rise_by_minute(tables), kb),
            alt="Systolic rise from minute 0 by minute and modality",
        ),
        "cadss_figure": figure_html(
            cadss_course_figure(
                means_with_ci(cadss_by_session(tables), ["modality", "number"], "cadss_total")
            ),
            alt="Mean CADSS total by session number and modality",
        ),
        "crossings_table": crossings_table_html(crossings),
        "crossings_figure": figure_html(
            crossings_figure(crossings),
            alt="Share of sessions needing attention by check and modality",
        ),
    }


def cohort_outcomes_page(
    directory: str | Path | None = None, *, use_cache: bool = True
) -> CohortOutcomesPage:
    """The cohort-outcomes page of a generated cohort (default: the bundled one).

    ``directory`` is a cohort folder (with ``manifest.json``) or a data folder holding
    ``cohort/``, as for :func:`kdsupport.cohort.storage.load_cohort`. The sections come from the
    page cache when this cohort was drawn before by the same code; ``use_cache=False`` draws
    them now (and stores nothing).
    """
    from kdsupport.render.page_cache import cached_sections

    base = cohort_directory(directory)
    key = _cohort_key(base) if use_cache else None
    sections, hit = cached_sections(_PAGE, key, lambda: _draw(base), names=_SECTIONS, keep=_KEEP)
    return CohortOutcomesPage(**{n: sections[n] for n in _SECTIONS}, from_cache=hit)
