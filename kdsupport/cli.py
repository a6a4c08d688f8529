"""The ``kdsupport`` command line.

Commands::

    kdsupport assess CASE [--format json|text] [RULE OPTIONS] [--data-dir DIR]
    kdsupport validate CASE [CASE ...] [--show-answers] [--data-dir DIR]
    kdsupport summary CASE [--kind referral] [--format md|html] [--out FILE] [RULE OPTIONS]
    kdsupport conference CASE [--out FILE.html] [--definition NAME] [--data-dir DIR]
    kdsupport rems-form CASE --session N [--out FILE.html] [RULE OPTIONS] [--data-dir DIR]
    kdsupport screen DIR_OR_TABLES [--out results.csv] [--definition NAME] [--severe-bp NAME]
    kdsupport generate --n N --seed S --out DIR [--format csv|parquet]
    kdsupport schema
    kdsupport kb [--check] [--sources]
    kdsupport records (--trainee ID | --all) [--format csv|html] [--out FILE] [--attempts LOG]

One grammar: every CASE is a curated case id (``tr-001``, looked up in ``--data-dir``, by
default the bundled cases) or the path of a case-record file (YAML or JSON). RULE OPTIONS are
``--definition NAME`` (TRD), ``--madrs-remission NAME`` and ``--severe-bp NAME``, named the same
on every command that assesses.

Exit status: 0 success; 2 invalid input (one line per problem naming the field path, never a
traceback); 1 an unexpected internal error (set KDSUPPORT_DEBUG=1 for the traceback).

For training and case conferences with synthetic patients; not a medical device.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from kdsupport._version import __version__
from kdsupport.errors import InvalidInputError, KdsupportError, KnowledgeBaseError

if TYPE_CHECKING:
    from kdsupport.records.case import CaseRecord

__all__ = ["main", "build_parser"]

EXIT_OK, EXIT_INTERNAL, EXIT_INVALID = 0, 1, 2

_CAVEAT = (
    "Training and decision-support tool for ketamine / esketamine in treatment-resistant "
    "depression. Synthetic patients only; not a medical device; outputs need a clinician's "
    "own judgement."
)


def _kb_choices() -> tuple[list[str], list[str]]:
    from kdsupport.knowledge import load

    kb = load()
    return sorted(kb.trd.definitions), sorted(kb.scales.outcome.remission["madrs"].definitions)


def _severe_choices() -> list[str]:
    from kdsupport.knowledge import load

    return sorted(load().vitals.predose_bp_guide.severe.definitions)


def _session_day_choices() -> tuple[list[str], list[str]]:
    from kdsupport.knowledge import load

    sd = load().session_day
    return sorted(sd.schedule.jurisdictions), sorted(sd.infusion_bp.definitions)


def _add_definition(parser: argparse.ArgumentParser, definitions: list[str]) -> None:
    parser.add_argument(
        "--definition",
        choices=definitions,
        default=None,
        metavar="NAME",
        help=f"TRD definition: {', '.join(definitions)} (default: the knowledge base's default)",
    )


def _add_case(parser: argparse.ArgumentParser, *, many: bool = False) -> None:
    """The CASE argument (a curated id or a file) and ``--data-dir``, the same on every command."""
    what = "a curated case id (e.g. tr-001) or a case-record file (YAML or JSON)"
    if many:
        parser.add_argument("cases", metavar="CASE", nargs="+", help=what)
    else:
        parser.add_argument("case", metavar="CASE", help=what)
    parser.add_argument(
        "--data-dir",
        metavar="DIR",
        help="where curated case ids are looked up (default: the bundled synthetic data)",
    )


def _add_rule_options(
    parser: argparse.ArgumentParser, definitions: list[str], remissions: list[str]
) -> None:
    """The rules' named choices, the same on every command that runs the rules.

    ``--definition``, ``--severe-bp``, ``--madrs-remission``, ``--jurisdiction``, ``--infusion-bp``.
    """
    _add_definition(parser, definitions)
    severe = _severe_choices()
    parser.add_argument(
        "--severe-bp",
        choices=severe,
        default=None,
        metavar="NAME",
        help=f"severe blood-pressure tier: {', '.join(severe)} (default: the knowledge base's)",
    )
    parser.add_argument(
        "--madrs-remission",
        choices=remissions,
        default=None,
        metavar="NAME",
        help=f"MADRS remission cut-off: {', '.join(remissions)}",
    )
    where, infusion = _session_day_choices()
    parser.add_argument(
        "--jurisdiction",
        choices=where,
        default=None,
        metavar="NAME",
        help=f"esketamine dosing table: {', '.join(where)} (default: the knowledge base's)",
    )
    parser.add_argument(
        "--infusion-bp",
        choices=infusion,
        default=None,
        metavar="NAME",
        help=f"IV infusion BP threshold: {', '.join(infusion)} (default: the knowledge base's)",
    )


def _rule_kwargs(args: argparse.Namespace) -> dict[str, Any]:
    """The rule options of a command, as :func:`kdsupport.rules.assess.assess` takes them."""
    return {
        "definition": args.definition,
        "madrs_remission": args.madrs_remission,
        "severe_bp": args.severe_bp,
        "jurisdiction": args.jurisdiction,
        "infusion_bp": args.infusion_bp,
    }


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (also used to document the commands)."""
    definitions, remissions = _kb_choices()
    p = argparse.ArgumentParser(
        prog="kdsupport",
        description=_CAVEAT,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Run 'kdsupport COMMAND --help' for a command's options.",
    )
    p.add_argument("--version", action="version", version=f"kdsupport {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", title="commands")

    a = sub.add_parser(
        "assess",
        help="assess a case record: TRD, staging, scales, suicide risk, BP, screening, sessions",
        description="Assess a synthetic case record and print the assessment with its basis.",
    )
    _add_case(a)
    a.add_argument(
        "--format",
        choices=("json", "text"),
        default="json",
        help=(
            "json (the kdsupport-assessment/2 object) or text (a clinician's worksheet); default "
            "json"
        ),
    )
    _add_rule_options(a, definitions, remissions)

    v = sub.add_parser(
        "validate",
        help="check case records and list every problem",
        description="Validate case records; exit 2 if any is invalid.",
    )
    _add_case(v, many=True)
    v.add_argument(
        "--show-answers",
        action="store_true",
        help="also print each teaching question with the answer the rules give and why "
        "(exit 2 if the case file's answer disagrees)",
    )

    sub.add_parser(
        "schema",
        help="print the JSON Schema of a case record",
        description="Print the JSON Schema of the case-record format (kdsupport-case/1).",
    )

    g = sub.add_parser(
        "generate",
        help="generate a reproducible synthetic cohort (tables + one case record per patient)",
        description="Generate a synthetic cohort: tidy tables (CSV or Parquet), one JSON case "
        "record per patient and a manifest with sha256 hashes. The same seed gives the same bytes.",
    )
    g.add_argument("--n", type=int, required=True, help="number of patients")
    g.add_argument("--seed", type=int, required=True, help="random seed (a non-negative integer)")
    g.add_argument(
        "--out",
        required=True,
        metavar="DIR",
        help="output directory (replaced if it holds a cohort)",
    )
    g.add_argument(
        "--format",
        dest="table_format",
        choices=("csv", "parquet"),
        default="csv",
        help="table format (default csv)",
    )
    g.add_argument("--no-records", action="store_true", help="write the tables only")
    g.add_argument(
        "--summary",
        action="store_true",
        help="print headline statistics against their expected ranges",
    )
    g.add_argument("--quiet", action="store_true", help="no progress bar")

    c = sub.add_parser(
        "conference",
        help="render a curated case into a self-contained HTML case-conference report",
        description="Execute notebooks/instructor/10_case_conference.ipynb for a case and write a "
        "code-free, "
        "self-contained HTML report (figures embedded, no network needed to view it).",
    )
    _add_case(c)
    c.add_argument("--out", metavar="FILE.html", help="output file (default conference-ID.html)")
    _add_definition(c, definitions)
    c.add_argument("--quiet", action="store_true", help="no progress bar")

    s = sub.add_parser(
        "summary",
        help="write a one-page treatment-history summary (referral / prior authorisation)",
        description="Summarise a case's treatment history for a referral or a prior-authorisation "
        "request, as Markdown or HTML.",
    )
    _add_case(s)
    s.add_argument("--kind", choices=("referral",), default="referral", help="the kind of summary")
    s.add_argument(
        "--out", metavar="FILE", help="output file (.md or .html); default: Markdown on stdout"
    )
    s.add_argument(
        "--format",
        dest="summary_format",
        choices=("md", "html"),
        default=None,
        help="md or html (default: from the --out extension, else md)",
    )
    _add_rule_options(s, definitions, remissions)

    r = sub.add_parser(
        "rems-form",
        help="write one esketamine session's REMS Patient Monitoring Form (a training copy) as "
        "a printable HTML page",
        description="Fill in the SPRAVATO REMS Patient Monitoring Form of one esketamine session "
        "from the case record and write it as a self-contained, printable HTML page: its status "
        "(required, complete or the fields still needed, deadline), every field's answer or 'not "
        "recorded', hazards flagged in words, and the sources. A training copy: never submitted.",
    )
    _add_case(r)
    r.add_argument(
        "--session",
        type=int,
        required=True,
        metavar="N",
        help="the session's number (its 'number' in the record)",
    )
    r.add_argument(
        "--out",
        metavar="FILE.html",
        help="output file (default rems-form-ID-session-N.html in the working folder)",
    )
    _add_rule_options(r, definitions, remissions)

    sc = sub.add_parser(
        "screen",
        help="screen a cohort (tables) or a directory of case records: one row per patient",
        description="Assess every patient of a cohort directory (its tidy tables) or of a "
        "directory "
        "of case records and write one row per patient. Invalid records are reported by id and "
        "field and left out; the run goes on. Exit status 2 when any record was invalid.",
    )
    sc.add_argument(
        "path", metavar="DIR_OR_TABLES", help="cohort directory, records directory or one record"
    )
    sc.add_argument(
        "--out",
        metavar="results.csv",
        default="results.csv",
        help="results file (default results.csv)",
    )
    sc.add_argument(
        "--workers",
        type=int,
        default=1,
        help="processes for a directory of records (default 1); a cohort's tables are screened "
        "column-wise in one process, which is faster",
    )
    _add_definition(sc, definitions)
    severe = _severe_choices()
    sc.add_argument(
        "--severe-bp",
        choices=severe,
        default=None,
        metavar="NAME",
        help=f"severe blood-pressure tier: {', '.join(severe)} (default: the knowledge base's)",
    )
    sc.add_argument("--quiet", action="store_true", help="no progress bar")

    k = sub.add_parser(
        "kb",
        help="summarise or check the knowledge base",
        description="Summarise the packaged knowledge base; --check validates it.",
    )
    k.add_argument(
        "--check", action="store_true", help="validate and list every problem (exit 1 if any)"
    )
    k.add_argument(
        "--sources", action="store_true", help="list every source with its verification status"
    )

    rec = sub.add_parser(
        "records",
        help="write a trainee's training record (printable HTML or CSV), or everyone's as CSV",
        description="Write a trainee's training record from the attempt log: each module and "
        "case with the first-attempt score, the date completed and the knowledge-base version, "
        "and the instructors' sign-offs; as a printable, self-contained HTML page or as CSV. "
        "--all writes every trainee's record as one CSV. A training record is the evidence a "
        "clinic keeps that staff were trained on its procedures; it is not a REMS certification.",
    )
    who = rec.add_mutually_exclusive_group(required=True)
    who.add_argument("--trainee", metavar="ID", help="the trainee id, as the attempt log has it")
    who.add_argument("--all", action="store_true", help="every trainee's record, as one CSV")
    rec.add_argument(
        "--format",
        dest="records_format",
        choices=("csv", "html"),
        default=None,
        help="html or csv (default: from the --out extension, else html for one trainee and "
        "csv for --all)",
    )
    rec.add_argument("--out", metavar="FILE", help="output file (default: standard output)")
    rec.add_argument(
        "--attempts",
        metavar="LOG",
        help="the attempt log: a file, sqlite:///path or postgresql://... (default: "
        "$KDSUPPORT_ATTEMPTS, else the app's var/attempts.sqlite); never created",
    )
    rec.add_argument(
        "--data-dir",
        metavar="DIR",
        help="where the curated cases are (default: the bundled synthetic data)",
    )
    return p


def _say(text: str) -> None:
    """One line on stderr: control characters in paths or messages can never forge a line."""
    from kdsupport.render.escaping import one_line

    print(one_line(text), file=sys.stderr)


def _print_invalid(exc: InvalidInputError) -> None:
    prefix = f"{exc.source}: " if exc.source else ""
    for problem in exc.problems:
        _say(f"error: {prefix}{problem}")
    n = len(exc.problems)
    _say(f"kdsupport: {n} problem{'s' if n != 1 else ''}; nothing was assessed.")


def _read_case(text: str, data_dir: str | None) -> CaseRecord:
    """A CASE argument: an existing file, else a curated case id; never a guess between them."""
    from pathlib import Path

    from kdsupport.errors import Problem
    from kdsupport.records.bundled import list_cases, load_case_by_id
    from kdsupport.records.case import load_case

    looks_like_file = Path(text).suffix.lower() in (".yaml", ".yml", ".json") or "/" in text
    if looks_like_file or os.path.lexists(text):
        return load_case(text)
    try:
        known = {c.id for c in list_cases(data_dir)}
    except InvalidInputError:
        known = set()
    if text not in known:
        shown = ", ".join(sorted(known)[:12]) + (" ..." if len(known) > 12 else "")
        raise InvalidInputError(
            [
                Problem(
                    "CASE",
                    f"{text!r} is neither a case-record file (.yaml, .yml or .json) nor a "
                    f"curated case id; curated cases: {shown or 'none found'}",
                )
            ]
        )
    return load_case_by_id(text, data_dir)


def _cmd_assess(args: argparse.Namespace) -> int:
    from kdsupport.render.text import to_text
    from kdsupport.rules.assess import assess

    record = _read_case(args.case, args.data_dir)
    result = assess(record, **_rule_kwargs(args))
    out = (
        json.dumps(result.to_json(), indent=2, ensure_ascii=False) + "\n"
        if args.format == "json"
        else to_text(result, record=record)
    )
    sys.stdout.write(out)
    return EXIT_OK


def _cmd_validate(args: argparse.Namespace) -> int:
    status = EXIT_OK
    for text in args.cases:
        try:
            record = _read_case(text, args.data_dir)
        except InvalidInputError as exc:
            _print_invalid(exc)
            status = EXIT_INVALID
            continue
        print(f"ok: {text} ({record.id})")
        if args.show_answers and not _show_answers(record):
            status = EXIT_INVALID
    return status


def _show_answers(record: CaseRecord) -> bool:
    """Print each teaching question with the rules' answer and reason; False on a mismatch."""
    from kdsupport.render.escaping import one_line
    from kdsupport.training.grading import grade, option_label

    questions = record.teaching.questions if record.teaching else []
    if not questions:
        print("  no teaching questions")
        return True
    agree = True
    for q in questions:
        try:
            fb = grade(record, q, q.answer)
        except KeyError as exc:  # a path the case's assessment does not have
            agree = False
            _say(
                f"error: {record.id}: teaching.questions[{q.id}].answer_rule: "
                f"{one_line(str(exc.args[0]) if exc.args else exc)}; this question cannot be "
                "graded (docs/authoring.md §5 lists the rules and paths)"
            )
            continue
        print(
            f"  {one_line(q.id)} ({q.kind}, rule {one_line(q.answer_rule)}): {one_line(q.prompt)}"
        )
        print(f"    the rules' answer: {one_line(option_label(q, fb.expected))}")
        if not fb.correct:
            agree = False
            _say(
                f"error: {record.id}: teaching.questions[{q.id}].answer: the case file says "
                f"{option_label(q, q.answer)!r}, the rules say {option_label(q, fb.expected)!r}"
            )
        for r in fb.reasons[:3]:
            print(f"    why: {one_line(r.message)}")
        if len(fb.reasons) > 3:
            print(f"    ... and {len(fb.reasons) - 3} more reasons")
    return agree


def _cmd_schema(_: argparse.Namespace) -> int:
    from kdsupport.records.case import case_json_schema

    sys.stdout.write(json.dumps(case_json_schema(), indent=2) + "\n")
    return EXIT_OK


def _cmd_generate(args: argparse.Namespace) -> int:
    from kdsupport.cohort.generate_cli import generate_to_directory
    from kdsupport.errors import Problem

    problems = []
    if args.n < 1:
        problems.append(Problem("--n", f"must be >= 1, got {args.n}"))
    if args.seed < 0:
        problems.append(Problem("--seed", f"must be >= 0, got {args.seed}"))
    if problems:
        raise InvalidInputError(problems)
    return generate_to_directory(
        n=args.n,
        seed=args.seed,
        out=args.out,
        table_format=args.table_format,
        records=not args.no_records,
        summary=args.summary,
        quiet=args.quiet,
    )


def _cmd_conference(args: argparse.Namespace) -> int:
    import tempfile
    from pathlib import Path

    from kdsupport.render.conference import render_conference

    record = _read_case(args.case, args.data_dir)  # validated before any kernel starts
    with tempfile.TemporaryDirectory(prefix="kdsupport-conference-") as tmp:
        data_dir = args.data_dir
        if record.id != args.case:  # a file: the report's notebook reads it from a data folder
            (Path(tmp) / "cases").mkdir()
            # JSON is YAML: the bundled-case loader reads ``cases/*.yaml``
            (Path(tmp) / "cases" / f"{record.id}.yaml").write_text(
                record.model_dump_json(by_alias=True, exclude_none=True), encoding="utf-8"
            )
            data_dir = tmp
        out = render_conference(
            record.id,
            args.out,
            data_dir=data_dir,
            definition=args.definition,
            progress=not args.quiet,
        )
    print(f"wrote {out} ({out.stat().st_size / 1024:.0f} KiB)")
    return EXIT_OK


def _cmd_summary(args: argparse.Namespace) -> int:
    from kdsupport.files.safe_write import check_writable_target, write_atomically
    from kdsupport.render.summary import referral_html, referral_markdown
    from kdsupport.rules.assess import assess

    fmt = args.summary_format
    if fmt is None:
        fmt = "html" if args.out and args.out.lower().endswith((".html", ".htm")) else "md"
    if args.out:
        check_writable_target(args.out)
    record = _read_case(args.case, args.data_dir)
    a = assess(record, **_rule_kwargs(args))
    text = referral_html(record, a) if fmt == "html" else referral_markdown(record, a)
    if args.out:
        out = write_atomically(args.out, text)
        print(f"wrote {out}")
    else:
        sys.stdout.write(text)
    return EXIT_OK


def _cmd_rems_form(args: argparse.Namespace) -> int:
    from kdsupport.files.safe_write import check_writable_target, write_atomically
    from kdsupport.render.rems_form import (
        filled_form,
        form_session_index,
        rems_form_html,
        status_line,
    )
    from kdsupport.rules.assess import assess

    if args.out:
        check_writable_target(args.out)
    record = _read_case(args.case, args.data_dir)
    index = form_session_index(record, args.session, option="--session")
    target = check_writable_target(args.out or f"rems-form-{record.id}-session-{args.session}.html")
    a = assess(record, **_rule_kwargs(args))
    page = rems_form_html(record, a, index)
    out = write_atomically(target, page)
    print(f"wrote {out}: {status_line(filled_form(record, a, index))}")
    return EXIT_OK


def _cmd_screen(args: argparse.Namespace) -> int:
    import time

    from kdsupport.batch.screen import screen_path
    from kdsupport.errors import Problem
    from kdsupport.files.safe_write import atomic_writer, check_writable_target

    if args.workers < 1:
        raise InvalidInputError([Problem("--workers", f"must be >= 1, got {args.workers}")])
    out = check_writable_target(args.out)
    errors = check_writable_target(out.with_name(out.stem + ".errors.csv"))
    progress = None
    if not args.quiet:
        from functools import partial

        from tqdm import tqdm

        progress = partial(tqdm, file=sys.stderr, dynamic_ncols=True)
    t0 = time.perf_counter()
    results, problems = screen_path(
        args.path,
        workers=args.workers,
        definition=args.definition,
        severe_bp=args.severe_bp,
        progress=progress,
    )
    elapsed = time.perf_counter() - t0
    with atomic_writer(out, newline="") as fh:
        results.to_csv(fh, index=False)
    if problems:
        import csv

        from kdsupport.render.escaping import spreadsheet_cell

        with atomic_writer(errors, newline="") as fh:
            w = csv.writer(fh)
            w.writerow(["id", "field", "message"])
            w.writerows([spreadsheet_cell(cell) for cell in row] for row in problems)
        for pid, field, message in problems[:20]:
            _say(f"invalid: {pid or '(empty id)'}: {field}: {message}")
        if len(problems) > 20:
            _say(f"... and {len(problems) - 20} more in {errors}")
    elif errors.exists():
        errors.unlink()
    counts = results["trd_status"].value_counts().to_dict() if len(results) else {}
    rate = len(results) / elapsed if elapsed else float("inf")
    print(
        f"screened {len(results)} patients in {elapsed:.2f} s ({rate:,.0f} per second); TRD: "
        + ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
        + f"; wrote {out}"
    )
    if problems:
        ids = {p[0] for p in problems}
        n_bad = len(ids - {"*"})
        whole = "; some problems concern whole tables" if "*" in ids else ""
        _say(f"{n_bad} invalid record(s) left out{whole}; see {errors}")
        return EXIT_INVALID
    return EXIT_OK


def _cmd_kb(args: argparse.Namespace) -> int:
    from kdsupport import knowledge

    if args.check:
        problems = knowledge.find_problems(knowledge.load_raw())
        for p in problems:
            print(f"problem: {p}")
        print(f"knowledge base: {len(problems)} problem(s)")
        return EXIT_INTERNAL if problems else EXIT_OK
    kb = knowledge.load()
    counts: dict[str, int] = {}
    for s in kb.sources.values():
        counts[s.verification] = counts.get(s.verification, 0) + 1
    drugs = kb.drugs.drugs
    ad = [n for n, d in drugs.items() if kb.drugs.classes[d.drug_class].antidepressant]
    print(f"kdsupport knowledge base {kb.version} ({kb.manifest.compiled_from})")
    print(
        f"drugs: {len(drugs)} ({len(ad)} antidepressants, {len(drugs) - len(ad)} augmentation "
        "agents)"
    )
    names = [n + (" (default)" if n == kb.trd.default else "") for n in kb.trd.definitions]
    print(f"TRD definitions: {', '.join(names)}")
    print(f"instruments: {', '.join(kb.scales.instruments)}")
    print(f"modalities: {', '.join(kb.screening.modalities)}")
    print(
        f"sources: {len(kb.sources)} ("
        + ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
        + ")"
    )
    if args.sources:
        for s in kb.sources.values():
            print(f"  [{s.verification:<10}] {s.id}: {s.citation} ({s.year or 'year not stated'})")
    return EXIT_OK


def _cmd_records(args: argparse.Namespace) -> int:
    from pathlib import Path

    from kdsupport.errors import Problem
    from kdsupport.files.safe_write import check_writable_target, write_atomically
    from kdsupport.render.training_record import NOT_REMS_SHORT, training_record_html
    from kdsupport.training.attempts import default_store_location, open_store
    from kdsupport.training.records import record_from_store, records_csv_text, records_from_store
    from kdsupport.widgets.course_syllabus import course_syllabus

    fmt = args.records_format
    if fmt is None and args.out:
        suffix = Path(args.out).suffix.lower()
        fmt = "html" if suffix in (".html", ".htm") else "csv" if suffix == ".csv" else None
    fmt = fmt or ("csv" if args.all else "html")
    if args.all and fmt == "html":
        raise InvalidInputError(
            [Problem("--format", "--all writes one CSV of every trainee; use --format csv")]
        )
    if args.out:
        check_writable_target(args.out)
    location = args.attempts or default_store_location()
    path = location.removeprefix("sqlite:///")
    if "://" not in path and not Path(path).is_file():  # opening a log that is not there makes one
        raise InvalidInputError([Problem("--attempts", f"no attempt log at {path}")])
    store = open_store(location)
    try:
        syllabus = course_syllabus(args.data_dir)
        if args.all:
            records = records_from_store(store, syllabus)
            text, what = records_csv_text(records), f"{len(records)} trainees' records"
        else:
            if args.trainee not in store.trainee_ids():
                raise InvalidInputError(
                    [
                        Problem(
                            "--trainee",
                            f"no answers or sign-offs recorded for trainee {args.trainee!r} in "
                            f"attempt log {store.location}",
                        )
                    ]
                )
            record = record_from_store(store, args.trainee, syllabus)
            text = training_record_html(record) if fmt == "html" else records_csv_text([record])
            what = "the training record"
    finally:
        store.close()
    if args.out:
        out = write_atomically(args.out, text)
        print(f"wrote {out}: {what}, {fmt.upper()} ({NOT_REMS_SHORT})")
    else:
        sys.stdout.write(text)
    return EXIT_OK


_COMMANDS = {
    "assess": _cmd_assess,
    "validate": _cmd_validate,
    "schema": _cmd_schema,
    "generate": _cmd_generate,
    "conference": _cmd_conference,
    "summary": _cmd_summary,
    "rems-form": _cmd_rems_form,
    "screen": _cmd_screen,
    "kb": _cmd_kb,
    "records": _cmd_records,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``kdsupport`` console script; returns the exit status."""
    try:
        parser = build_parser()
    except KnowledgeBaseError as exc:
        print(f"kdsupport: {exc}", file=sys.stderr)
        return EXIT_INTERNAL
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return EXIT_INVALID
    try:
        return _COMMANDS[args.command](args)
    except InvalidInputError as exc:
        _print_invalid(exc)
        return EXIT_INVALID
    except KdsupportError as exc:
        _say(f"kdsupport: {exc}")
        return EXIT_INTERNAL
    except BrokenPipeError:
        return EXIT_OK
    except KeyboardInterrupt:
        _say("kdsupport: interrupted; nothing was written half-way")
        return 130
    except Exception as exc:  # a bug: say so plainly, keep the traceback for developers
        if os.environ.get("KDSUPPORT_DEBUG"):
            raise
        _say(
            f"kdsupport: internal error ({type(exc).__name__}: {exc}); "
            "set KDSUPPORT_DEBUG=1 for the traceback"
        )
        return EXIT_INTERNAL


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
