"""The type checker is part of the tests: ``python -m mypy`` with the ``[tool.mypy]`` of pyproject.toml.

mypy keeps its cache in ``.mypy_cache`` at the repository root, so a run after a small change takes seconds;
the first run on a fresh checkout takes about a minute.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_mypy_reports_no_errors() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "mypy", "--config-file", str(ROOT / "pyproject.toml")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    report = proc.stdout + proc.stderr
    assert proc.returncode == 0, f"mypy found errors (exit {proc.returncode}):\n{report}"
    assert "Success: no issues found" in proc.stdout, report
