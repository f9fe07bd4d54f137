"""``python -m harness.view``: the page is self-contained, escapes every text, and renders in a real browser.

The browser tests open the page from disk in headless Chromium (Debian's ``chromium`` package, which
``scripts/setup.sh`` installs) and assert on the DOM after the page's script ran.
"""

from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from rich.console import Console

from harness.records import EpisodeLog
from harness.runner import RunConfig, run
from harness.view import load_run, main, render, unique_labels

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None,
    reason="chromium is not installed (apt-get install chromium; scripts/setup.sh installs it)",
)
#: Text that would become elements, or end the data's <script>, if the page did not escape it.
HOSTILE = '</script><img id="pwned" src=x onerror="document.title=1"><b id="bold">shell output</b>'


def _hostile_run(folder: Path) -> None:
    """A run folder written by hand: a web-like observation and a reply full of markup."""
    record = {
        "env": "toy",
        "task_id": "add-0001",
        "agent": "hand",
        "score": 0.0,
        "error": None,
        "metrics": {"score": 0.0},
        "transcript": [
            {"role": "user", "content": f"<html><body>{HOSTILE}</body></html>"},
            {
                "role": "assistant",
                "content": HOSTILE,
                "action_valid": False,
                "last_action_error": "no 'Answer:' line in <reply>",
            },
        ],
        "usage": {"calls": 1, "prompt_tokens": 3, "generated_tokens": 4, "wall_s": 0.1, "flops": 10.0},
        "turns": 1,
        "truncated": False,
        "wall_s": 0.2,
        "env_s": 0.05,
        "agent_s": 0.1,
        "started_at": "2026-01-01T00:00:00.000+00:00",
        "finished_at": "2026-01-01T00:00:01.000+00:00",
        "seed": 1,
    }
    with EpisodeLog(folder / "episodes.jsonl") as log:
        log.append(record)


@pytest.fixture
def two_runs(tmp_path: Path, toy_plugins: None, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """A teacher-like and a student-like run of the same four toy tasks; the student errors on one."""
    quiet = Console(file=io.StringIO(), width=80)
    left, right = tmp_path / "toy-oracle", tmp_path / "solver"
    run(RunConfig(agent="toy-oracle", envs=("toy",), limit=4, out=str(left)), quiet)
    monkeypatch.setenv("TOY_FAIL", "add-0002:raise")
    run(RunConfig(agent="solver", envs=("toy",), limit=4, out=str(right)), quiet)
    return left, right


def test_page_is_one_self_contained_file(two_runs: tuple[Path, Path], tmp_path: Path) -> None:
    out = tmp_path / "page.html"
    assert main([*map(str, two_runs), "--out", str(out)]) == 0
    page = out.read_text()
    # Nothing is fetched: no external script, stylesheet, image or font.
    assert not re.search(r"<(script|link|img|iframe)[^>]+(src|href)=", page)
    assert "http://" not in page and "https://" not in page
    data = json.loads(re.search(r'<script type="application/json" id="data">(.*?)</script>', page, re.S)[1])
    assert [r["label"] for r in data["runs"]] == ["toy-oracle", "solver"]
    assert data["runs"][1]["summary"]["per_env"]["toy"]["errors"] == 1


def test_embedded_data_cannot_close_its_script(tmp_path: Path) -> None:
    _hostile_run(tmp_path / "hand")
    page = render([load_run(tmp_path / "hand")])
    assert page.count("</script>") == 2  # the data's and the code's own, nothing from the transcript
    assert "<img" not in page and 'id="pwned"' not in page


def test_missing_folder_is_one_line_and_status_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(tmp_path / "nope"), "--out", str(tmp_path / "x.html")]) == 2
    assert capsys.readouterr().err.strip() == f"error: run folder not found: {tmp_path / 'nope'}"


def test_labels_grow_only_where_names_clash(tmp_path: Path) -> None:
    a, b, c = tmp_path / "x" / "gcd", tmp_path / "y" / "gcd", tmp_path / "teacher"
    assert unique_labels([a, b, c]) == ["x/gcd", "y/gcd", f"{tmp_path.name}/teacher"]
    assert unique_labels([a, c]) == ["gcd", "teacher"]


def _dom(page: Path, fragment: str = "", tmp: Path | None = None) -> str:
    """The DOM of ``page`` after its script ran, as headless Chromium renders it from disk."""
    assert CHROMIUM is not None
    profile = (tmp or page.parent) / "chromium-profile"
    proc = subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",  # tests run as root in CI, where Chromium's sandbox refuses to start
            "--disable-gpu",
            f"--user-data-dir={profile}",
            "--dump-dom",
            page.resolve().as_uri() + fragment,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


@needs_chromium
@pytest.mark.slow
def test_browser_renders_runs_side_by_side_with_filters(two_runs: tuple[Path, Path], tmp_path: Path) -> None:
    out = tmp_path / "page.html"
    assert main([*map(str, two_runs), "--out", str(out)]) == 0

    dom = _dom(out)
    # Both runs' settings and scores.
    assert dom.count('class="run"') == 2 and "toy-oracle" in dom and "solver" in dom
    assert "<td>fail_on_error</td><td>0.5</td>" in dom
    # Every task once, each with the two runs side by side.
    assert dom.count('<article class="task"') == 4 and dom.count('class="cols two"') == 4
    assert "4 of 4 tasks" in dom
    # The judge's verdict and the env's word on each reply.
    assert "error: RuntimeError: backend exploded" in dom
    assert "invalid action" in dom and "env: " in dom and "metrics: score=1" in dom

    failed = _dom(out, "#failed=1")
    assert failed.count('<article class="task"') == 1 and 'data-task="add-0002"' in failed
    one = _dom(out, "#env=toy&task=add-0003&right=-1")
    assert one.count('<article class="task"') == 1 and 'data-task="add-0003"' in one
    assert 'class="cols two"' not in one and "1 of 4 tasks" in one
    none = _dom(out, "#env=os")
    assert '<article class="task"' not in none and "0 of 4 tasks" in none


@needs_chromium
@pytest.mark.slow
def test_browser_shows_markup_in_transcripts_as_text(tmp_path: Path) -> None:
    _hostile_run(tmp_path / "hand")
    out = tmp_path / "page.html"
    assert main([str(tmp_path / "hand"), "--out", str(out)]) == 0
    dom = _dom(out)
    assert "<img" not in dom and '<b id="bold"' not in dom  # no element came from the transcript
    assert '&lt;img id="pwned" src=x onerror="document.title=1"&gt;' in dom
    assert "no 'Answer:' line in &lt;reply&gt;" in dom
    assert "<title>promptless runs</title>" in dom  # the onerror never ran
