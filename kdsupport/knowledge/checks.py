"""Whole-knowledge-base checks beyond the per-file schemas.

:func:`raw_checks` works on the parsed YAML (so it runs even when a file fails its schema);
:func:`model_checks` works on the typed knowledge base. Both return every problem found.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, TypeGuard

from kdsupport.errors import Problem
from kdsupport.knowledge.session_day_checks import session_day_checks

if TYPE_CHECKING:
    from kdsupport.knowledge.models.staging import BandTable

# sources.yaml holds bibliographic years, not clinical numbers.
_NUMBER_CHECK_EXEMPT = {"sources.yaml", "manifest.yaml"}


def _is_number(v: Any) -> TypeGuard[int | float]:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _join(path: str, key: Any) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else str(key)


def _walk_refs(node: Any, path: str) -> Iterator[tuple[str, Any]]:
    """Yield (path, ref) for every source reference under a node."""
    if isinstance(node, dict):
        for k, v in node.items():
            p = _join(path, k)
            if k == "source" or (isinstance(k, str) and k.endswith("_source")):
                for i, ref in enumerate(v if isinstance(v, list) else [v]):
                    yield (f"{p}[{i}]" if isinstance(v, list) else p), ref
            elif k == "modality_sources" and isinstance(v, dict):
                for mk, ref in v.items():
                    yield _join(p, mk), ref
            else:
                yield from _walk_refs(v, p)
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _walk_refs(v, _join(path, i))


def _unsourced_numbers(node: Any, path: str, sourced: bool) -> Iterator[str]:
    """Yield the path of every number with no ``source`` on it or an enclosing mapping."""
    if isinstance(node, dict):
        here = sourced or ("source" in node and bool(path))
        for k, v in node.items():
            if k == "source" or (isinstance(k, str) and k.endswith("_source")):
                continue
            covered = here or (isinstance(k, str) and f"{k}_source" in node)
            p = _join(path, k)
            if _is_number(v) and not covered:
                yield p
            else:
                yield from _unsourced_numbers(v, p, covered)
    elif isinstance(node, list):
        for i, v in enumerate(node):
            p = _join(path, i)
            if _is_number(v) and not sourced:
                yield p
            else:
                yield from _unsourced_numbers(v, p, sourced)


def _ranges(node: Any, path: str) -> Iterator[Problem]:
    """Yield a problem for every mapping whose min > max or low > high."""
    if isinstance(node, dict):
        numeric_keys = {k for k, v in node.items() if _is_number(v)}
        for lo_key, hi_key in (("min", "max"), ("low", "high")):
            lo, hi = node.get(lo_key), node.get(hi_key)
            if lo_key == "low" and numeric_keys - {"low", "high"}:
                continue  # a table that merely has keys called low and high (e.g. risk levels)
            if _is_number(lo) and _is_number(hi) and lo > hi:
                yield Problem(path, f"unordered range: {lo_key} {lo} > {hi_key} {hi}")
        for k, v in node.items():
            yield from _ranges(v, _join(path, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _ranges(v, _join(path, i))


def raw_checks(raw: dict[str, Any]) -> list[Problem]:
    """Checks on the parsed YAML: sources, unsourced numbers, ranges, manifest."""
    problems: list[Problem] = []
    source_entries = (raw.get("sources.yaml") or {}).get("sources") or []
    ids: list[Any] = [s.get("id") for s in source_entries if isinstance(s, dict)]
    known = set(ids)
    for sid in sorted({i for i in ids if ids.count(i) > 1}, key=str):
        problems.append(Problem(f"sources.yaml: {sid}", "duplicate source id"))
    shorts: list[Any] = [s.get("short") for s in source_entries if isinstance(s, dict)]
    for short in sorted({x for x in shorts if x and shorts.count(x) > 1}, key=str):
        problems.append(
            Problem(f"sources.yaml: short {short!r}", "two sources share one short citation")
        )
    for i, s in enumerate(source_entries):
        if isinstance(s, dict) and (s.get("kind") == "specification") != (
            s.get("verification") == "project_contract"
        ):
            problems.append(
                Problem(
                    f"sources.yaml: sources[{i}] ({s.get('id')})",
                    "the project's own contract (kind specification), and only it, is tagged "
                    "project_contract (docs/case-record.md §3.10)",
                )
            )
        if (
            isinstance(s, dict)
            and s.get("kind") == "assumption"
            and s.get("verification") != ("unverified")
        ):
            problems.append(
                Problem(
                    f"sources.yaml: sources[{i}] ({s.get('id')})", "an assumption is unverified"
                )
            )
        if isinstance(s, dict) and s.get("kind") == "assumption" and not s.get("rationale"):
            problems.append(
                Problem(
                    f"sources.yaml: sources[{i}] ({s.get('id')})", "assumption without rationale"
                )
            )

    cited: set[str] = set()
    for name, data in raw.items():
        if name == "sources.yaml" or data is None:
            continue
        for p, ref in _walk_refs(data, ""):
            rid = ref.get("id") if isinstance(ref, dict) else None
            if rid is None:
                problems.append(Problem(f"{name}: {p}", "source reference without an id"))
            elif rid not in known:
                problems.append(Problem(f"{name}: {p}", f"unresolved source id {rid!r}"))
            else:
                cited.add(rid)
        if name not in _NUMBER_CHECK_EXEMPT:
            for p in _unsourced_numbers(data, "", False):
                problems.append(Problem(f"{name}: {p}", "number without a source"))
        problems += [Problem(f"{name}: {pr.path}", pr.message) for pr in _ranges(data, "")]
    for sid in ids:
        if sid in known and sid not in cited:
            problems.append(Problem(f"sources.yaml: {sid}", "source is never cited"))

    manifest = raw.get("manifest.yaml") or {}
    from kdsupport.knowledge.models.common import KB_FILES

    listed = tuple(manifest.get("files") or ())
    expected = tuple(f for f in KB_FILES if f != "manifest.yaml")
    if listed != expected:
        problems.append(
            Problem("manifest.yaml: files", f"must list {list(expected)}, got {list(listed)}")
        )
    return problems


def _band_problems(
    where: str, table: BandTable, lo: float | None = None, hi: float | None = None
) -> list[Problem]:
    """Gaps, overlaps and coverage of one band table."""
    out: list[Problem] = []
    bands = table.bands
    if not bands:
        return [Problem(where, "band table has no bands")]
    lo = table.min if lo is None else lo
    hi = table.max if hi is None else hi
    for i, b in enumerate(bands):
        if b.min is None and i != 0:
            out.append(Problem(f"{where}[{i}]", "only the first band may be open below"))
        if b.max is None and i != len(bands) - 1:
            out.append(Problem(f"{where}[{i}]", "only the last band may be open above"))
        if table.domain == "integer":
            for end in (b.min, b.max):
                if end is not None and end != int(end):
                    out.append(Problem(f"{where}[{i}]", f"integer band with bound {end}"))
            if not (b.min_inclusive and b.max_inclusive):
                out.append(Problem(f"{where}[{i}]", "integer bands use inclusive bounds"))
    for i in range(1, len(bands)):
        prev, cur = bands[i - 1], bands[i]
        if prev.max is None or cur.min is None:
            continue
        label = f"{where}: {prev.label!r} / {cur.label!r}"
        if table.domain == "integer":
            if cur.min <= prev.max:
                out.append(Problem(label, f"overlap: {prev.max} and {cur.min}"))
            elif cur.min > prev.max + 1:
                out.append(Problem(label, f"gap between {prev.max} and {cur.min}"))
        else:
            if cur.min < prev.max:
                out.append(Problem(label, f"overlap: {cur.min} < {prev.max}"))
            elif cur.min > prev.max:
                out.append(Problem(label, f"gap between {prev.max} and {cur.min}"))
            elif prev.max_inclusive == cur.min_inclusive:
                what = "overlap" if prev.max_inclusive else "gap"
                out.append(Problem(label, f"{what} at {cur.min}: exactly one side must include it"))
    if lo is not None and bands[0].min != lo:
        out.append(Problem(where, f"bands start at {bands[0].min}, range starts at {lo}"))
    if hi is not None and bands[-1].max != hi:
        out.append(Problem(where, f"bands end at {bands[-1].max}, range ends at {hi}"))
    return out


def model_checks(models: dict[str, Any]) -> list[Problem]:
    """Cross-file consistency of the typed files that passed their schema.

    Each group of checks runs when the files it needs are valid, so one broken file does not
    hide the problems of the others.
    """
    p: list[Problem] = []
    for needs, check in _GROUPS:
        if all(n in models for n in needs):
            p += check(*(models[n] for n in needs))
    return p


def _drug_checks(d: Any, trd: Any) -> list[Problem]:
    p: list[Problem] = []
    for name, cls in d.classes.items():
        tr = cls.thase_rush_class
        if cls.antidepressant and tr not in d.thase_rush_classes:
            p.append(Problem(f"drugs.yaml: classes.{name}", f"unknown thase_rush_class {tr!r}"))
        if not cls.antidepressant and tr is not None:
            p.append(Problem(f"drugs.yaml: classes.{name}", "augmentation class with a TRSM class"))
    used_tables = {defn.dose_table for defn in trd.definitions.values()}
    for table in sorted(used_tables - set(d.dose_tables)):
        p.append(Problem("trd_definitions.yaml", f"unknown dose_table {table!r}"))
    for name, drug in d.drugs.items():
        where = f"drugs.yaml: drugs.{name}"
        if name != name.lower():
            p.append(Problem(where, "drug names are lower case"))
        if drug.drug_class not in d.classes:
            p.append(Problem(where, f"unknown class {drug.drug_class!r}"))
        for table in sorted(used_tables - set(drug.min_adequate)):
            p.append(Problem(where, f"no minimum adequate dose in table {table!r}"))
        for table, m in drug.min_adequate.items():
            if table not in d.dose_tables:
                p.append(Problem(f"{where}.min_adequate", f"unknown dose table {table!r}"))
            if (m.mg_per_day is None) == (m.serum_level_mmol_l is None):
                p.append(
                    Problem(
                        f"{where}.min_adequate.{table}",
                        "give exactly one of mg_per_day or serum_level_mmol_l",
                    )
                )
    return p


def _definition_checks(trd: Any) -> list[Problem]:
    if trd.default not in trd.definitions:
        return [Problem("trd_definitions.yaml: default", f"unknown definition {trd.default!r}")]
    return []


def _staging_checks(staging: Any, d: Any) -> list[Problem]:
    p: list[Problem] = []
    stages = staging.thase_rush.stages
    if [s.stage for s in stages] != list(range(len(stages))):
        p.append(Problem("staging.yaml: thase_rush.stages", "stages must be numbered 0, 1, 2, ..."))
    for s in stages:
        if s.requires.failed_class and s.requires.failed_class not in d.thase_rush_classes:
            p.append(
                Problem(
                    f"staging.yaml: thase_rush.stages[{s.stage}]",
                    f"unknown class {s.requires.failed_class!r}",
                )
            )
    msm = staging.msm
    p += _band_problems("staging.yaml: msm.duration_months", msm.duration_months, lo=0)
    p += _band_problems("staging.yaml: msm.failed_antidepressants", msm.failed_antidepressants)
    p += _band_problems("staging.yaml: msm.total", msm.total)
    return p


def _scale_checks(scales: Any) -> list[Problem]:
    p: list[Problem] = []
    for name, ins in scales.instruments.items():
        where = f"scales.yaml: instruments.{name}"
        if ins.scoring == "none":
            if ins.items or ins.total or ins.bands:
                p.append(
                    Problem(where, "an instrument without a total has no items, total or bands")
                )
            continue
        if ins.items is None or ins.total is None:
            p.append(Problem(where, "items and total are required"))
            continue
        n, lo, hi = ins.items.count, ins.items.min, ins.items.max
        if ins.scoring == "sum":
            want = (n * lo, n * hi)
        else:
            doms = ins.domains or ()
            covered = sorted(i for dom in doms for i in dom.items)
            if covered != list(range(1, n + 1)):
                p.append(Problem(f"{where}.domains", f"domains must cover items 1..{n} once each"))
            want = (len(doms) * lo, len(doms) * hi)
        if (ins.total.min, ins.total.max) != want:
            p.append(
                Problem(
                    f"{where}.total",
                    f"range {ins.total.min}-{ins.total.max} does not match the items "
                    f"({want[0]}-{want[1]})",
                )
            )
        if ins.bands is None:
            if not ins.bands_note:
                p.append(Problem(where, "bands: null needs a bands_note saying why"))
        else:
            p += _band_problems(f"{where}.bands", ins.bands, ins.total.min, ins.total.max)
        for f in ins.flags:
            if not 1 <= f.item <= n:
                p.append(Problem(f"{where}.flags.{f.code}", f"item {f.item} outside 1..{n}"))
            if f.min < lo or f.max > hi:
                p.append(Problem(f"{where}.flags.{f.code}", f"range outside item range {lo}-{hi}"))
    out = scales.outcome
    for name in out.instrument_priority:
        if name not in scales.instruments:
            p.append(
                Problem("scales.yaml: outcome.instrument_priority", f"unknown instrument {name!r}")
            )
        if name not in out.remission:
            p.append(Problem("scales.yaml: outcome.remission", f"no remission rule for {name!r}"))
    for name, rs in out.remission.items():
        if rs.default not in rs.definitions:
            p.append(
                Problem(f"scales.yaml: outcome.remission.{name}", f"unknown default {rs.default!r}")
            )
    return p


def _suicide_checks(suicide: Any, scales: Any) -> list[Problem]:
    p: list[Problem] = []
    c = suicide.cssrs_screener
    keys = {q.key for q in c.questions}
    derived = {"behavior_not_recent"}
    for t in c.tiers:
        for k in t.any_of:
            if k not in keys | derived:
                p.append(Problem(f"suicide_risk.yaml: tiers.{t.level}", f"unknown answer {k!r}"))
    levels = [t.level for t in c.tiers] + [c.none_level, "unknown"]
    if sorted(c.actions) != sorted(levels):
        p.append(Problem("suicide_risk.yaml: actions", f"must give an action for each of {levels}"))
    for action in set(c.actions.values()) | {c.phq9_item9_escalation.to_action}:
        if action not in c.action_descriptions:
            p.append(
                Problem("suicide_risk.yaml: action_descriptions", f"no description for {action!r}")
            )
    for rule_name, rule in (("skip_rule", c.skip_rule), ("behavior_rule", c.behavior_rule)):
        for k in (rule.when_no, *rule.skipped):
            if k not in keys:
                p.append(Problem(f"suicide_risk.yaml: {rule_name}", f"unknown answer {k!r}"))
    esc = c.phq9_item9_escalation
    esc_ins = scales.instruments.get(esc.instrument)
    if esc_ins is None or esc.flag not in {f.code for f in esc_ins.flags}:
        p.append(
            Problem(
                "suicide_risk.yaml: phq9_item9_escalation",
                f"unknown flag {esc.instrument}.{esc.flag}",
            )
        )
    return p


def _screening_checks(screening: Any) -> list[Problem]:
    p: list[Problem] = []
    items = screening.items
    for name, it in items.items():
        where = f"screening.yaml: items.{name}"
        if (it.derived is None) == (it.present_when is None):
            p.append(Problem(where, "give exactly one of present_when or derived"))
        if it.field.split(".")[0] not in {
            "screening",
            "patient",
            "suicide_risk",
            "diagnosis",
            "vitals",
        }:
            p.append(Problem(where, f"field {it.field!r} is not a record or derived path"))
        if it.present_when is False and not it.field_label:
            p.append(
                Problem(where, "present when the field is false: give the field's own field_label")
            )
        if it.derived in ("age_under_18", "age_65_or_over") and it.threshold is None:
            p.append(Problem(where, f"{it.derived} needs a sourced threshold"))
    for mname, mod in screening.modalities.items():
        if mod.inherits is not None and mod.inherits not in screening.modalities:
            p.append(
                Problem(f"screening.yaml: modalities.{mname}", f"inherits unknown {mod.inherits!r}")
            )
        for iname, mi in mod.items.items():
            if iname not in items:
                p.append(
                    Problem(f"screening.yaml: modalities.{mname}.items", f"unknown item {iname!r}")
                )
            elif (items[iname].derived == "outside_indication") != (mi.derivation is not None):
                p.append(
                    Problem(
                        f"screening.yaml: modalities.{mname}.items.{iname}",
                        "outside_indication, and only it, needs a derivation",
                    )
                )
    return p


def _vitals_checks(vitals: Any, screening: Any) -> list[Problem]:
    p: list[Problem] = []
    for holder, where in (
        (vitals.predose_bp_guide.modality_sources, "predose_bp_guide"),
        (vitals.session_monitoring.modality_sources, "session_monitoring"),
    ):
        for m in holder:
            if m not in screening.modalities:
                p.append(
                    Problem(f"vitals.yaml: {where}.modality_sources", f"unknown modality {m!r}")
                )
    needs = {
        "bp_rechecked": ("window_minutes",),
        "bp_rise": ("systolic_rise_mmhg", "diastolic_rise_mmhg"),
        "observed_2h": ("min_observation_minutes",),
        "bp_predischarge": ("window_before_end_minutes",),
        "sedation_resolved": ("alert_score",),
        "desaturation": ("spo2_below_percent",),
        "deep_sedation": ("max_score",),
        "loss_of_consciousness": ("max_score",),
    }
    severe = vitals.predose_bp_guide.severe
    if severe.default not in severe.definitions:
        p.append(
            Problem("vitals.yaml: predose_bp_guide.severe.default", f"unknown {severe.default!r}")
        )
    guide = vitals.predose_bp_guide
    for dname, d in severe.definitions.items():
        if (
            d.systolic_above_mmhg.value <= guide.systolic_above_mmhg.value
            or d.diastolic_above_mmhg.value <= guide.diastolic_above_mmhg.value
        ):
            p.append(
                Problem(
                    f"vitals.yaml: predose_bp_guide.severe.definitions.{dname}",
                    "the severe tier must lie above the guide",
                )
            )
    checks = vitals.session_monitoring.checks
    for name, fields in needs.items():
        if name not in checks:
            p.append(Problem("vitals.yaml: session_monitoring.checks", f"missing check {name!r}"))
            continue
        for f in fields:
            if getattr(checks[name], f) is None:
                p.append(Problem(f"vitals.yaml: session_monitoring.checks.{name}", f"needs {f}"))
    return p


def _synthetic_checks(syn: Any, screening: Any) -> list[Problem]:
    """Probability tables sum to 1, probabilities lie in 0..1, names match the KB."""
    p: list[Problem] = []
    mods = set(screening.modalities)
    tables = {
        "patients.sex": syn.patients.sex,
        "diagnosis.primary": syn.diagnosis.primary,
        "diagnosis.severity": syn.diagnosis.severity,
        "history.antidepressant_trials": syn.history.antidepressant_trials,
        "assessments.cssrs_level": syn.assessments.cssrs_level,
        "treatment.modality": syn.treatment.modality,
        "sedation.moaas_at_40": syn.sedation.moaas_at_40,
        "assessments.phq9_item_probabilities": dict(
            enumerate(syn.assessments.phq9_item_probabilities)
        ),
    }
    for where, table in tables.items():
        if abs(sum(table.values()) - 1) > 1e-9:
            p.append(
                Problem(
                    f"synthetic.yaml: {where}",
                    f"probabilities sum to {sum(table.values()):g}, not 1",
                )
            )
    for where, table in (
        ("treatment.modality", syn.treatment.modality),
        ("treatment.sessions", syn.treatment.sessions),
        ("treatment.vitals_minutes", syn.treatment.vitals_minutes),
        ("treatment.outcome.remission", syn.treatment.outcome.remission),
        ("expected_ranges.response_rate", syn.expected_ranges.response_rate),
    ):
        if set(table) != mods:
            p.append(
                Problem(
                    f"synthetic.yaml: {where}", f"must name exactly the modalities {sorted(mods)}"
                )
            )
    fields = {
        i.field.split(".")[1] for i in screening.items.values() if i.field.startswith("screening.")
    }
    if set(syn.screening.prevalence) != fields:
        p.append(Problem("synthetic.yaml: screening.prevalence", "must name every screening field"))
    for m in mods & set(syn.treatment.outcome.remission):
        total = syn.treatment.outcome.remission[
            m
        ] + syn.treatment.outcome.response_without_remission.get(m, 0)
        if total > 1:
            p.append(Problem(f"synthetic.yaml: treatment.outcome.{m}", "outcome shares exceed 1"))
    minutes = {float(k) for k in syn.session_vitals.fraction_of_peak_by_minute}
    for m, mins in syn.treatment.vitals_minutes.items():
        if set(mins) - minutes:
            p.append(
                Problem(
                    f"synthetic.yaml: treatment.vitals_minutes.{m}",
                    "minutes without a BP time-course value",
                )
            )
    return p


_GROUPS: list[tuple[tuple[str, ...], Any]] = [
    (("drugs.yaml", "trd_definitions.yaml"), _drug_checks),
    (("trd_definitions.yaml",), _definition_checks),
    (("staging.yaml", "drugs.yaml"), _staging_checks),
    (("scales.yaml",), _scale_checks),
    (("suicide_risk.yaml", "scales.yaml"), _suicide_checks),
    (("screening.yaml",), _screening_checks),
    (("vitals.yaml", "screening.yaml"), _vitals_checks),
    (("synthetic.yaml", "screening.yaml"), _synthetic_checks),
    (("session_day.yaml",), session_day_checks),
]
