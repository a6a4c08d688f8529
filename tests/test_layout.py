"""The layout shows the design: layers (import-linter), no import cycles, no borrowed private names.

`make lint` runs the same checks; the contracts live in ``pyproject.toml``.
"""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "kdsupport"


def _tool(name: str) -> str:
    return shutil.which(name) or str(Path(sys.executable).with_name(name))


def test_import_linter_contracts_are_kept():
    proc = subprocess.run(
        [_tool("lint-imports"), "--no-cache"], cwd=ROOT, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert "0 broken" in proc.stdout


def _cycle(graph: grimp.ImportGraph) -> list[str] | None:
    """One import cycle among kdsupport's modules (package ``__init__`` files included)."""
    edges = {m: sorted(graph.find_modules_directly_imported_by(m)) for m in graph.modules}
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(m: str) -> list[str] | None:
        state[m] = 1
        stack.append(m)
        for n in edges.get(m, ()):
            if state.get(n) == 1:
                return [*stack[stack.index(n) :], n]
            if n not in state and (found := visit(n)):
                return found
        stack.pop()
        state[m] = 2
        return None

    for m in sorted(edges):
        if m not in state and (found := visit(m)):
            return found
    return None


def test_no_module_imports_itself_in_a_circle():
    graph = grimp.build_graph("kdsupport", cache_dir=None)
    assert _cycle(graph) is None, " -> ".join(_cycle(graph) or [])


def test_the_cycle_finder_finds_a_cycle():
    graph = grimp.ImportGraph()
    for m in ("p.a", "p.b", "p.c"):
        graph.add_module(m)
    graph.add_import(importer="p.a", imported="p.b")
    graph.add_import(importer="p.b", imported="p.c")
    assert _cycle(graph) is None
    graph.add_import(importer="p.c", imported="p.a")
    assert _cycle(graph) == ["p.a", "p.b", "p.c", "p.a"]


def _private_imports(path: Path) -> list[str]:
    """``from kdsupport.x import _name`` where ``_name`` belongs to another module."""
    out = []
    here = ".".join(path.relative_to(ROOT).with_suffix("").parts)
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("kdsupport"):
            for alias in node.names:
                if alias.name.startswith("_") and not alias.name.startswith("__"):
                    if node.module != here:
                        out.append(f"{path.relative_to(ROOT)}:{node.lineno}: {alias.name}")
        elif isinstance(node, ast.Attribute) and node.attr.startswith("_"):
            pass  # attribute access on objects is the object's business
    return out


def test_no_module_imports_another_modules_private_name():
    found = [hit for p in sorted(PACKAGE.rglob("*.py")) for hit in _private_imports(p)]
    assert not found, "\n".join(found)


def test_the_private_name_check_catches_one(tmp_path):
    fake = ROOT / "kdsupport" / "_layout_probe.py"
    try:
        fake.write_text("from kdsupport.rules.trd import _secret\n")
        assert _private_imports(fake) == ["kdsupport/_layout_probe.py:1: _secret"]
    finally:
        fake.unlink()


@pytest.mark.parametrize("package", ["records", "rules", "render", "cohort", "batch", "files"])
def test_each_role_is_a_package(package):
    assert (PACKAGE / package / "__init__.py").is_file()


def test_batch_screening_holds_no_rule_of_its_own():
    """Each rule's column-wise twin lives beside its scalar rule in kdsupport/rules/."""
    tree = ast.parse((PACKAGE / "batch" / "screen.py").read_text(encoding="utf-8"))
    reads = {
        node.attr
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id == "kb"
    }
    assert not reads & {"drugs", "staging", "scales", "suicide", "screening", "vitals"}, reads
    from kdsupport.rules import screening, staging, suicide_risk, trd

    for module, twin in (
        (trd, "trd_columns"),
        (staging, "thase_rush_columns"),
        (staging, "mgh_s_columns"),
        (staging, "msm_columns"),
        (suicide_risk, "suicide_columns"),
        (screening, "modality_columns"),
    ):
        assert callable(getattr(module, twin)), (module.__name__, twin)


def test_mypy_finds_no_type_errors():
    """Types are checked: mypy (configured in pyproject.toml) reports 0 errors."""
    proc = subprocess.run(
        [_tool("mypy"), "--no-incremental"], cwd=ROOT, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert "Success: no issues found" in proc.stdout


def test_every_type_ignore_says_why():
    """No bare ``# type: ignore``: each names its error code and gives a reason."""
    import re

    bare = [
        f"{p.relative_to(ROOT)}:{i}"
        for p in sorted(PACKAGE.rglob("*.py"))
        for i, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
        if "type: ignore" in line and not re.search(r"type: ignore\[[a-z, -]+\]\s+#\s*\S", line)
    ]
    assert not bare, bare
