"""Project hygiene: dependency lists in step, no clinical numbers in rule code, fast import."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
RULE_MODULES = sorted(
    str(p.relative_to(ROOT / "kdsupport")) for p in (ROOT / "kdsupport" / "rules").glob("*.py")
)
# 0 and 1 are counting and indexing; 100 converts a fraction to a percentage.
ALLOWED_NUMBERS = {0, 1, 100}


def _norm(req: str) -> str:
    name, spec = re.match(r"^\s*([A-Za-z0-9_.\-]+)\s*(.*)$", req).groups()
    return name.lower().replace("_", "-") + spec.replace(" ", "")


def test_environment_yml_mirrors_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        reqs += [r for r in extra if not r.startswith("kdsupport[")]
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda = [
        d for d in env["dependencies"] if isinstance(d, str) and not d.startswith(("python", "pip"))
    ]
    assert sorted(set(map(_norm, reqs))) == sorted(set(map(_norm, conda)))
    pip_part = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert "-e ." in pip_part


def test_python_requirement():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["requires-python"] == ">=3.11"


def test_no_clinical_number_literals_in_rule_code():
    offenders = []
    for name in RULE_MODULES:
        tree = ast.parse((ROOT / "kdsupport" / name).read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and type(node.value) in (int, float):
                if node.value not in ALLOWED_NUMBERS:
                    offenders.append(f"{name}:{node.lineno}: {node.value!r}")
    assert not offenders, "clinical numbers belong in the knowledge base:\n" + "\n".join(offenders)


# Modules that render, generate or screen but hold no rule of their own: a clinical number in
# them would restate a rule. They may use numbers for layout (figure sizes, indents), but never
# in a comparison, a threshold line or an axis limit, and never inside text next to a clinical
# unit (case-record spec 5, issue 10): those come from the knowledge base.
RESTATING_MODULES = sorted(
    str(p.relative_to(ROOT / "kdsupport"))
    for p in (ROOT / "kdsupport").rglob("*.py")
    if p.parent.name != "rules"
)
_THRESHOLD_CALLS = {"axhline", "axvline", "axhspan", "axvspan", "set_ylim", "set_xlim", "clip"}
_UNIT = re.compile(
    r"(?<![\w.])\d+(?:\.\d+)?\s?(?:mmHg|mg\b|mg/|minutes?\b|hours?\b|weeks?\b|mmol|months?\b)"
    r"|(?<![\w.])\d+(?:\.\d+)? %(?! (?:confidence )?interval)|MOAA/S \d|SpO2 \d|minutes? [1-9]"
)
# Layout and bookkeeping numbers that sit in a comparison on purpose, by module and value.
_NOT_CLINICAL = {
    ("render/plots.py", 2.5): "the smallest figure height (inches)",
    ("render/plots.py", 2.2): "the smallest figure height (inches)",
    ("render/text.py", 3): "the fewest dots of a leader line",
    ("render/conference.py", 8): "how many unknown fields a discussion question names",
    ("render/escaping.py", 256): "control characters below U+0100 are shown as \\xNN",
    ("render/escaping.py", 3): "how many hostile-text findings a message names",
    ("cohort/generator.py", 6): "the digits of a patient id",
    ("cohort/generator.py", 0.0): "no minimum dose or serum level; a share of no sessions",
    ("cohort/schema.py", 6): "the digits of a patient id",
    ("cohort/storage.py", 500): "how often the progress bar moves",
    ("cohort/tables.py", 2): "integers beyond 2**53 lose precision as float",
    ("cohort/tables.py", 53): "integers beyond 2**53 lose precision as float",
    ("batch/screen.py", 2): "a worker pool needs at least two patients per worker",
    ("training/grading.py", 1e-09): "float tolerance of a numeric answer",
    ("knowledge/checks.py", 1e-09): "float tolerance when bands meet",
    ("training/demo.py", 0.05): "the demo trainees do a little worse on each later question",
    ("training/scoring.py", 2): "compares the first two fields of a sort key",
    ("records/messages.py", 60): "a longer value is shortened in an error message",
    ("cli.py", 20): "how many invalid rows are printed before a summary",
    ("cli.py", 12): "how many curated case ids an error message lists",
    ("cli.py", 3): "how many reasons validate --show-answers prints per question",
    ("app.py", 5): "the kernel culler checks at most every 30 s, at least every 5 s",
    ("app.py", 30): "the kernel culler checks at most every 30 s, at least every 5 s",
}


def _docstrings(tree: ast.AST) -> set[int]:
    out = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr):
            if isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str):
                out.add(id(body[0].value))
    return out


# Modules with no number of their own: every distribution, probability, count, minute or dose
# they use comes from the knowledge base (synthetic.yaml, each a sourced assumption). Any float
# literal in them, and any other number than counting and indexing, is flagged wherever it
# stands, unless _NOT_CLINICAL lists it as bookkeeping.
NO_NUMBER_MODULES = ("cohort/generator.py", "cohort/courses.py", "cohort/draws.py")


def _literal_offenders(name: str, tree: ast.AST) -> list[str]:
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and type(node.value) in (int, float):
            if type(node.value) is float or node.value not in ALLOWED_NUMBERS:
                if (name, node.value) not in _NOT_CLINICAL:
                    out.append(f"{name}:{node.lineno}: the literal {node.value!r}")
    return out


def test_the_generator_holds_no_number_of_its_own():
    offenders = []
    for name in NO_NUMBER_MODULES:
        offenders += _literal_offenders(name, ast.parse((ROOT / "kdsupport" / name).read_text()))
    assert not offenders, "distribution numbers belong in knowledge/synthetic.yaml:\n" + "\n".join(
        offenders
    )


def test_no_rule_is_restated_in_renderers_generator_or_widgets():
    offenders = []
    for name in RESTATING_MODULES:
        tree = ast.parse((ROOT / "kdsupport" / name).read_text())
        docs = _docstrings(tree)

        def flag(node, what, name=name):
            value = node.value if isinstance(node, ast.Constant) else None
            if (name, value) not in _NOT_CLINICAL:
                offenders.append(f"{name}:{node.lineno}: {what}")

        for node in ast.walk(tree):
            if isinstance(node, ast.Compare):
                for n in ast.walk(node):
                    if isinstance(n, ast.Constant) and type(n.value) in (int, float):
                        if n.value not in ALLOWED_NUMBERS:
                            flag(n, f"{n.value!r} in a comparison")
            elif isinstance(node, ast.Call):
                f = node.func
                fname = f.attr if isinstance(f, ast.Attribute) else getattr(f, "id", "")
                if fname in _THRESHOLD_CALLS | {"min", "max", "minimum", "maximum"}:
                    for arg in node.args:
                        if isinstance(arg, ast.Constant) and type(arg.value) in (int, float):
                            if arg.value not in ALLOWED_NUMBERS:
                                flag(arg, f"{fname}({arg.value!r})")
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                if id(node) not in docs and _UNIT.search(node.value):
                    flag(node, f"clinical number in text: {_UNIT.search(node.value).group()!r}")
    assert not offenders, "restated rules belong in the knowledge base:\n" + "\n".join(offenders)


def test_the_hygiene_check_catches_what_it_is_for(tmp_path):
    # a restated threshold in each form the check looks for is found
    samples = {
        "x >= 140": "comparison",
        "ax.axhline(90)": "axhline",
        "ax.set_ylim(80, 100)": "set_ylim",
        "msg = 'a reading between minutes 30 and 60'": "text",
        "msg = 'last MOAA/S 5'": "text",
        "msg = 'observed for 2 hours'": "text",
    }
    for code in samples:
        tree = ast.parse(code)
        found = False
        for node in ast.walk(tree):
            if isinstance(node, ast.Compare) or (
                isinstance(node, ast.Call) and getattr(node.func, "attr", "") in _THRESHOLD_CALLS
            ):
                found = True
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                found = found or bool(_UNIT.search(node.value))
        assert found, code
    assert not _UNIT.search("font-size:90%") and not _UNIT.search("mean and 95 % interval")
    # in a module with no numbers of its own, any float and any number beyond counting is found
    for code in ("x = np.round(w, 2)", "p = 0.03", "d = x or 0.5", "n = rng.integers(0, 7, k)"):
        assert _literal_offenders("cohort/generator.py", ast.parse(code)), code
    for code in ("width = max(6, len(str(n)))", "i = np.arange(1, n + 1)", "x or 0.0"):
        assert not _literal_offenders("cohort/generator.py", ast.parse(code)), code


def test_import_is_light():
    code = "import sys, kdsupport; print(sorted(m for m in ('pandas', 'pydantic', 'yaml', 'numpy') if m in sys.modules))"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"


def test_modules_state_the_caveat():
    for path in (ROOT / "kdsupport").rglob("*.py"):
        if path.name in ("__main__.py", "_version.py", "checks.py"):
            continue
        doc = " ".join((ast.get_docstring(ast.parse(path.read_text())) or "").split())
        assert "not a medical device" in doc.lower(), path.name


def test_ruff_lint_is_clean():
    import shutil

    ruff = shutil.which("ruff") or str(Path(sys.executable).with_name("ruff"))
    proc = subprocess.run(
        [ruff, "check", "kdsupport", "tests", "benchmarks"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
