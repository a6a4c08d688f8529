"""Golden vignettes: hand-derived expected conclusions, checked through the CLI."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from typing import Any

import pytest
import yaml
from conftest import CASES, EXPECTED

EXPECTATIONS = sorted(EXPECTED.glob("*.yaml"))
_TOKEN = re.compile(r"([^.\[\]]+)|\[(\*|\d+)\]")


def resolve(obj: Any, path: str) -> Any:
    """Follow `a.b[0].c` / `a[*].c` through nested JSON."""
    tokens = [(name, idx) for name, idx in _TOKEN.findall(path)]
    return _walk(obj, tokens)


def _walk(obj: Any, tokens: list[tuple[str, str]]) -> Any:
    if not tokens:
        return obj
    (name, idx), rest = tokens[0], tokens[1:]
    if name:
        return _walk(obj[name], rest)
    if idx == "*":
        return [_walk(x, rest) for x in obj]
    return _walk(obj[int(idx)], rest)


def cli_assess(case_path, options) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, "-m", "kdsupport", "assess", str(case_path), "--format", "json", *options],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_there_are_at_least_twelve_golden_vignettes():
    assert len(EXPECTATIONS) >= 12
    for exp in EXPECTATIONS:
        assert (CASES / f"{exp.stem}.yaml").exists(), exp.name


@pytest.mark.parametrize("expected_file", EXPECTATIONS, ids=[p.stem for p in EXPECTATIONS])
def test_golden_vignette(expected_file):
    spec = yaml.safe_load(expected_file.read_text())
    case = CASES / f"{spec['case']}.yaml"
    for run in spec["runs"]:
        result = cli_assess(case, run["options"])
        assert result["case_id"] == spec["case"]
        failures = []
        for key, want in run["expect"].items():
            if key.endswith(" contains"):
                got = resolve(result, key[: -len(" contains")])
                missing = [w for w in want if w not in got]
                if missing:
                    failures.append(f"{key}: {missing} not in {got}")
                continue
            got = resolve(result, key)
            if got != want:
                failures.append(f"{key}: expected {want!r}, got {got!r}")
        assert not failures, f"{spec['case']} {run['options']}:\n" + "\n".join(failures)
