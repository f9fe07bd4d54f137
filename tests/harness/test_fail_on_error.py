"""A run whose episodes mostly errored fails (``--fail-on-error``) instead of ending "complete" with zeros."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
from rich.console import Console

from harness.error_threshold import describe, failure, parse_threshold, reached
from harness.runner import RunConfig, run
from tests.harness.conftest import run_cli


def _closed_port() -> int:
    """A local port nothing listens on: a dead model server."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_dead_server_fails_the_run_with_status_3(tmp_path: Path) -> None:
    out = tmp_path / "run"
    url = f"http://127.0.0.1:{_closed_port()}"
    proc = run_cli(
        "--agent", "teacher", "--env", "toy", "--limit", "3", "--out", str(out), "--model", url,
        "--model-retries", "0",
    )  # fmt: skip
    assert proc.returncode == 3, proc.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] == "failed" and summary["errors"] == 3 and summary["score_ok"] is None
    assert "toy: 3 of 3 episodes errored" in summary["failure"]
    assert "error: the run failed: too many errored episodes" in proc.stderr
    # The closing lines say the zeros are errors, not the agent's score.
    assert "teacher toy: score 0.000 ± 0.000 (3 episodes, 3 errors; every episode errored)" in proc.stdout
    assert "(failed)" in proc.stdout


def test_never_keeps_the_old_behaviour_and_a_count_is_a_number_of_episodes(
    tmp_path: Path, toy_plugins: None, quiet_console: Console, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TOY_FAIL", "add-0001:raise,add-0003:raise")
    base = RunConfig(agent="solver", envs=("toy",), limit=8, out=str(tmp_path / "a"))
    assert run(base, quiet_console)["status"] == "complete"  # 2 of 8 < 50%
    counted = run(
        RunConfig(**{**base.__dict__, "out": str(tmp_path / "b"), "fail_on_error": 2}), quiet_console
    )
    assert counted["status"] == "failed" and "toy: 2 of 8 episodes errored" in counted["failure"]
    monkeypatch.setenv("TOY_FAIL", ",".join(f"add-{i:04d}:raise" for i in range(8)))
    never = run(
        RunConfig(**{**base.__dict__, "out": str(tmp_path / "c"), "fail_on_error": None}), quiet_console
    )
    assert never["status"] == "complete" and never["errors"] == 8
    # Fixed back-end: --retry-errors redoes the errored episodes and the run is complete again.
    monkeypatch.delenv("TOY_FAIL")
    retried = run(
        RunConfig(**{**base.__dict__, "out": str(tmp_path / "b"), "fail_on_error": 2, "retry_errors": True}),
        quiet_console,
    )
    assert retried["status"] == "complete" and "failure" not in retried and retried["score"] == 1.0


def test_threshold_values() -> None:
    assert parse_threshold("0.5") == 0.5 and parse_threshold("3") == 3.0 and parse_threshold("never") is None
    for bad in ("0", "-1", "2.5", "nan", "lots"):
        with pytest.raises(ValueError, match="--fail-on-error"):
            parse_threshold(bad)
    assert reached(5, 10, 0.5) and not reached(4, 10, 0.5)  # a share is reached at, not only above, it
    assert reached(1, 100, 1) and not reached(0, 100, 1) and not reached(10, 10, None)
    assert describe(0.5) == "50% of an env's episodes" and describe(3) == "3 episodes of an env"
    per_env = {"os": {"episodes": 10, "errors": 9}, "web": {"episodes": 10, "errors": 0}}
    assert failure(per_env, 0.5) is not None and "web" not in failure(per_env, 0.5)


def test_bad_threshold_on_the_command_line_is_one_line(tmp_path: Path) -> None:
    proc = run_cli("--agent", "solver", "--env", "toy", "--fail-on-error", "0", "--out", str(tmp_path / "r"))
    assert proc.returncode == 2 and proc.stderr.strip().count("\n") == 0
    assert "--fail-on-error must be a share of episodes" in proc.stderr
