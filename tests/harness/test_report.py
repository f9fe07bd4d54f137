"""The closing table fits 80 columns and shows errors; progress is plain lines when not on a terminal."""

from __future__ import annotations

import io
import re

from rich.console import Console

from harness.report import print_summary, result_lines
from tests.harness.conftest import run_cli

WIDE = {
    "episodes": 1000,
    "errors": 250,
    "score": 0.4567,
    "stderr": 0.0123,
    "score_ok": 0.609,
    "stderr_ok": 0.01,
    "prompt_tokens": 123456.0,
    "generated_tokens": 12345.0,
    "flops_per_episode": 1.234e15,
    "latency_s": 1234.56,
}


def test_closing_table_fits_80_columns_and_shows_errors() -> None:
    summary = {
        "agent": "seqkd-kld",
        "split": "test",
        "status": "complete",
        "per_env": {"os": WIDE, "web": WIDE, "shop": {**WIDE, "errors": 0}},
    }
    out = io.StringIO()
    print_summary(summary, Console(file=out, width=80))
    lines = out.getvalue().splitlines()
    table = lines[:-3]
    assert max(len(line) for line in table) <= 80
    assert "…" not in out.getvalue()  # nothing cut
    header = next(line for line in table if "errors" in line)
    for column in ("env", "n", "errors", "score", "ok score", "prompt", "gen", "FLOPs", "model s"):
        assert column in header
    assert any("1.23e+15" in line and "0.609" in line for line in table)
    assert "'ok score' leaves them out" in " ".join(table)
    assert lines[-3] == (
        "seqkd-kld os: score 0.457 ± 0.012 (1000 episodes, 250 errors; 0.609 over the 750 without error)"
    )
    assert lines[-1] == "seqkd-kld shop: score 0.457 ± 0.012 (1000 episodes, 0 errors)"


def test_result_line_when_every_episode_errored() -> None:
    s = {**WIDE, "episodes": 3, "errors": 3, "score": 0.0, "score_ok": None}
    assert result_lines({"agent": "a", "per_env": {"os": s}}) == [
        "a os: score 0.000 ± 0.012 (3 episodes, 3 errors; every episode errored)"
    ]


def test_progress_lines_on_stderr_when_output_is_not_a_terminal(tmp_path) -> None:
    proc = run_cli(
        "--agent", "toy-oracle", "--env", "toy", "--limit", "6", "--out", str(tmp_path / "run"),
        PROMPTLESS_PROGRESS_S="0.2", TOY_AGENT_DELAY="0.15",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.startswith("toy-oracle toy: ")]
    pattern = re.compile(r"toy-oracle toy: (\d)/6 episodes, score \d\.\d{3}, 0 errors, \d+ s")
    assert all(pattern.fullmatch(line) for line in lines), lines
    done = [int(pattern.fullmatch(line)[1]) for line in lines]
    assert done[0] == 0 and done[-1] == 6 and len(lines) >= 4 and done == sorted(done)
    assert "━" not in proc.stdout + proc.stderr  # no bar drawn into a pipe


def test_closing_table_says_unknown_flops_are_unknown() -> None:
    summary = {
        "agent": "teacher",
        "split": "test",
        "status": "complete",
        "per_env": {"os": {**WIDE, "flops_per_episode": None}, "web": WIDE},
    }
    out = io.StringIO()
    print_summary(summary, Console(file=out, width=80))
    rows = {line.split()[0]: line.split() for line in out.getvalue().splitlines() if line.strip()}
    assert rows["os"][8] == "?" and rows["web"][8] == "1.23e+15"  # the FLOPs column
    assert "? unknown" in out.getvalue()
