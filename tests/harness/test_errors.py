"""A back-end that raises, times out or hangs gives errored episodes; the run goes on; retries fix them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rich.console import Console

from harness.runner import RunConfig, run


def _records(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "episodes.jsonl").read_text().splitlines()]


def test_backend_failures_are_recorded_and_retried(
    tmp_path: Path, toy_plugins: None, quiet_console: Console, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "run"
    config = RunConfig(
        agent="solver", envs=("toy",), limit=8, concurrency=2, out=str(out), episode_timeout=1.0
    )
    monkeypatch.setenv("TOY_FAIL", "add-0001:raise,add-0003:timeout,add-0006:hang")
    summary = run(config, quiet_console)

    records = {r["task_id"]: r for r in _records(out)}
    assert len(records) == 8
    assert records["add-0001"]["error"] == "RuntimeError: backend exploded"
    assert records["add-0003"]["error"] == "TimeoutError: backend gave no answer within 30 s"
    assert records["add-0006"]["error"] == "EpisodeTimeout: no result after 1 s"
    for tid in ("add-0001", "add-0003", "add-0006"):
        assert records[tid]["score"] == 0.0
    ok = [r for tid, r in records.items() if tid not in ("add-0001", "add-0003", "add-0006")]
    assert all(r["error"] is None and r["score"] == 1.0 for r in ok)
    assert summary["errors"] == 3 and summary["score"] == pytest.approx(5 / 8)
    assert summary["per_env"]["toy"]["errors"] == 3

    # The back-end is healthy again: --retry-errors runs exactly the three errored tasks.
    monkeypatch.delenv("TOY_FAIL")
    retried = run(RunConfig(**{**config.__dict__, "retry_errors": True}), quiet_console)
    lines = _records(out)
    assert len(lines) == 8 + 3
    assert sorted(r["task_id"] for r in lines[8:]) == ["add-0001", "add-0003", "add-0006"]
    assert all(r["error"] is None and r["score"] == 1.0 for r in lines[8:])
    # The latest record of each task wins in the summary.
    assert retried["episodes"] == 8 and retried["errors"] == 0 and retried["score"] == 1.0


def test_retry_errors_with_nothing_to_retry_runs_nothing(
    tmp_path: Path, toy_plugins: None, quiet_console: Console
) -> None:
    out = tmp_path / "run"
    run(RunConfig(agent="toy-oracle", envs=("toy",), limit=3, out=str(out)), quiet_console)
    # A larger limit would add tasks on --resume, but --retry-errors only redoes errored ones.
    run(RunConfig(agent="toy-oracle", envs=("toy",), limit=5, out=str(out), retry_errors=True), quiet_console)
    assert len(_records(out)) == 3
    run(RunConfig(agent="toy-oracle", envs=("toy",), limit=5, out=str(out), resume=True), quiet_console)
    assert sorted(r["task_id"] for r in _records(out)) == [f"add-{i:04d}" for i in range(5)]


def test_env_that_cannot_be_built_stops_the_run_before_any_episode(
    tmp_path: Path, toy_plugins: None, quiet_console: Console
) -> None:
    from harness.plugins import UsageError

    tasks = tmp_path / "tasks.json"
    tasks.write_text("{not json")
    # A tasks file that cannot be read is bad input (exit status 2), not a failure of the run.
    with pytest.raises(UsageError, match=f"cannot create env 'toy'.*tasks file {tasks}"):
        run(
            RunConfig(agent="solver", envs=("toy",), tasks_file=str(tasks), out=str(tmp_path / "run")),
            quiet_console,
        )
    assert not (tmp_path / "run" / "episodes.jsonl").exists()
