"""Resuming: a run killed with SIGKILL continues where it stopped, nothing lost and nothing repeated."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from harness.records import ResultsError, latest, read_records, repair_tail
from tests.harness.conftest import REPO, cli_env, run_cli

TASKS = [f"add-{i:04d}" for i in range(16)]


def _lines(path: Path) -> list[bytes]:
    return path.read_bytes().splitlines(keepends=True) if path.exists() else []


def test_resume_after_sigkill_loses_and_repeats_nothing(tmp_path: Path) -> None:
    out = tmp_path / "run"
    log = out / "episodes.jsonl"
    args = ["--agent", "toy-oracle", "--env", "toy", "--limit", str(len(TASKS)), "--concurrency", "2"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "harness.run", *args, "--out", str(out)],
        cwd=REPO,
        env=cli_env(TOY_AGENT_DELAY="0.1"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while len(_lines(log)) < 4 and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.02)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=10)
    assert proc.returncode == -signal.SIGKILL
    before = _lines(log)
    assert 4 <= len(before) < len(TASKS), "the kill should land mid-run"
    # A kill in the middle of a write leaves half a line behind; make sure the run copes with one.
    with open(log, "ab") as f:
        f.write(b'{"env": "toy", "task_id": "add-00')

    resumed = run_cli(*args, "--out", str(out), "--resume")
    assert resumed.returncode == 0, resumed.stderr
    assert "cut a torn last line" in resumed.stdout
    assert f"{len(TASKS) - len(before)} episodes to run ({len(before)} done earlier)" in resumed.stdout

    after = _lines(log)
    assert after[: len(before)] == before, "finished episodes must stay as they were"
    ids = [json.loads(line)["task_id"] for line in after]
    assert sorted(ids) == TASKS and len(ids) == len(set(ids))
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] == "complete" and summary["episodes"] == len(TASKS) and summary["score"] == 1.0


def test_repair_tail_cuts_only_the_torn_line(tmp_path: Path) -> None:
    path = tmp_path / "episodes.jsonl"
    good = b'{"env": "toy", "task_id": "a"}\n{"env": "toy", "task_id": "b"}\n'
    path.write_bytes(good + b'{"env": "to')
    with pytest.warns(UserWarning, match="torn last line"):
        assert [r["task_id"] for r in read_records(path)] == ["a", "b"]
    assert repair_tail(path) == len(b'{"env": "to')
    assert path.read_bytes() == good
    assert repair_tail(path) == 0 and path.read_bytes() == good
    path.write_bytes(b'{"env": "t')  # torn first line: nothing survives, and that is right
    assert repair_tail(path) == 10 and path.read_bytes() == b""


def test_damage_inside_the_file_is_reported_not_skipped(tmp_path: Path) -> None:
    path = tmp_path / "episodes.jsonl"
    path.write_bytes(b'{"env": "toy", "task_id": "a"}\nnot json\n{"env": "toy", "task_id": "b"}\n')
    with pytest.raises(ResultsError, match=r"episodes.jsonl:2"):
        read_records(path)
    with pytest.warns(UserWarning, match=r"episodes.jsonl:2"):
        assert len(read_records(path, strict=False)) == 2


def test_latest_record_of_a_task_wins() -> None:
    recs = [
        {"env": "toy", "task_id": "a", "error": "RuntimeError: x"},
        {"env": "toy", "task_id": "b", "error": None},
        {"env": "toy", "task_id": "a", "error": None},
    ]
    result = latest(recs)
    assert list(result) == [("toy", "a"), ("toy", "b")]
    assert result[("toy", "a")]["error"] is None


def test_resume_refuses_another_agent_or_config(tmp_path: Path) -> None:
    out = tmp_path / "run"
    assert run_cli("--agent", "toy-oracle", "--env", "toy", "--limit", "2", "--out", str(out)).returncode == 0
    other_agent = run_cli("--agent", "solver", "--env", "toy", "--limit", "2", "--out", str(out), "--resume")
    assert other_agent.returncode == 2 and "holds episodes of agent 'toy-oracle'" in other_agent.stderr
    other_split = run_cli(
        "--agent", "toy-oracle", "--env", "toy", "--split", "dev", "--out", str(out), "--resume"
    )
    assert other_split.returncode == 2 and "split: 'test' -> 'dev'" in other_split.stderr


def test_resume_refuses_a_model_folder_replaced_in_place(tmp_path: Path) -> None:
    """A new default model ships in the same folder: the old run's episodes must not mix with the new model's."""
    from harness.plugins import UsageError
    from harness.run_config import RunConfig
    from harness.run_folder import check_resumable, resolved_fields

    model = tmp_path / "default-cpu"
    model.mkdir()
    (model / "COMPLETE").write_text(json.dumps({"preset_fingerprint": "aaaa"}))
    config = RunConfig(agent="teacher", model=str(model), resume=True)
    out = tmp_path / "run"
    out.mkdir()
    (out / "summary.json").write_text(json.dumps(resolved_fields(config)))
    assert check_resumable(config, out, [])["model_label"] == "default-cpu@aaaa"
    (model / "COMPLETE").write_text(json.dumps({"preset_fingerprint": "bbbb"}))
    with pytest.raises(UsageError, match=r"is now 'default-cpu@bbbb', the run began with 'default-cpu@aaaa'"):
        check_resumable(config, out, [])
