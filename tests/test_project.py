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
RULE_MODULES = [
    "trd.py",
    "staging.py",
    "scales.py",
    "suicide_risk.py",
    "screening.py",
    "monitoring.py",
    "assess.py",
]
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
