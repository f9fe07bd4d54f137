"""``python -m harness.run`` end to end on the toy env, as a subprocess, and its answers to bad input."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

from harness.run import main
from tests.harness.conftest import run_cli


def _records(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "episodes.jsonl").read_text().splitlines()]


def test_cli_runs_episodes_and_writes_results(tmp_path: Path) -> None:
    out = tmp_path / "run"
    proc = run_cli(
        "--agent", "solver", "--env", "toy", "--limit", "6", "--concurrency", "3", "--out", str(out)
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "solver toy: score 1.000 ± 0.000 (6 episodes, 0 errors)"

    records = _records(out)
    assert sorted(r["task_id"] for r in records) == [f"add-{i:04d}" for i in range(6)]
    rec = records[0]
    assert rec["env"] == "toy" and rec["agent"] == "solver" and rec["error"] is None and rec["score"] == 1.0
    # The solver thinks once (an invalid action), then answers: two turns, each judged by the env.
    assert rec["turns"] == 2
    roles = [m["role"] for m in rec["transcript"]]
    assert roles == ["user", "assistant", "user", "assistant", "user"]
    assert rec["transcript"][0]["content"].startswith("What is ")
    assert (
        rec["transcript"][1]["action_valid"] is False
        and "Answer" in rec["transcript"][1]["last_action_error"]
    )
    assert rec["transcript"][3]["action_valid"] is True and rec["transcript"][3]["last_action_error"] == ""
    assert rec["metrics"] == {"score": 1.0, "correct": 1.0, "turns_used": 2.0}
    # Usage is summed over the episode's two calls (the solver's counts are deterministic).
    first_obs_words = len(rec["transcript"][0]["content"].split())
    second_call_words = sum(len(m["content"].split()) for m in rec["transcript"][:3])
    assert rec["usage"]["calls"] == 2
    assert rec["usage"]["prompt_tokens"] == first_obs_words + second_call_words
    assert rec["usage"]["generated_tokens"] == 3 + 2
    assert rec["wall_s"] >= rec["env_s"] + rec["agent_s"]
    started = datetime.fromisoformat(rec["started_at"])
    assert started.utcoffset() is not None and started.utcoffset().total_seconds() == 0
    assert isinstance(rec["seed"], int)

    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] == "complete" and summary["agent"] == "solver" and summary["env"] == "toy"
    assert summary["episodes"] == 6 and summary["score"] == 1.0 and summary["errors"] == 0
    per = summary["per_env"]["toy"]
    assert per["prompt_tokens"] == pytest.approx(sum(r["usage"]["prompt_tokens"] for r in records) / 6)
    assert per["flops_per_episode"] == pytest.approx(
        1000.0 * (per["prompt_tokens"] + per["generated_tokens"])
    )
    assert summary["versions"]["python"] and summary["versions"]["promptless"]


def test_cli_refuses_a_used_folder_without_resume(tmp_path: Path) -> None:
    out = tmp_path / "run"
    assert run_cli("--agent", "toy-oracle", "--env", "toy", "--limit", "2", "--out", str(out)).returncode == 0
    again = run_cli("--agent", "toy-oracle", "--env", "toy", "--limit", "2", "--out", str(out))
    assert again.returncode == 2
    assert again.stderr.strip().count("\n") == 0 and "--resume" in again.stderr
    assert len(_records(out)) == 2


def test_tasks_file_and_seeds(tmp_path: Path, toy_plugins: None, capsys: pytest.CaptureFixture[str]) -> None:
    tasks = tmp_path / "tasks.json"
    tasks.write_text(json.dumps([{"id": "small", "a": 1, "b": 2}, {"id": "big", "a": 500, "b": 600}]))
    out = tmp_path / "run"
    assert (
        main(["--agent", "solver", "--env", "toy", "--tasks", str(tasks), "--out", str(out), "--seed", "5"])
        == 0
    )
    records = _records(out)
    assert [r["task_id"] for r in records] == ["small", "big"]
    assert records[1]["transcript"][0]["content"] == "What is 500 + 600?"
    assert records[1]["transcript"][3]["content"] == "Answer: 1100"
    # The reset seed depends on the run seed and the task, not on the order the tasks ran in.
    other = tmp_path / "other"
    assert (
        main(["--agent", "solver", "--env", "toy", "--tasks", str(tasks), "--out", str(other), "--seed", "6"])
        == 0
    )
    assert {r["seed"] for r in records}.isdisjoint({r["seed"] for r in _records(other)})
    assert records[0]["seed"] != records[1]["seed"]


BAD_INPUT = [
    (["--agent", "solvr", "--env", "toy"], "unknown agent 'solvr' (did you mean 'solver'?)"),
    (["--agent", "solver", "--env", "tyo"], "unknown env 'tyo' (did you mean 'toy'?)"),
    (["--agent", "solver", "--env", "toy", "--split", "tset"], "unknown split 'tset' (did you mean 'test'?)"),
    (["--agent", "solver", "--env", "toy", "--tasks", "/no/such/tasks.json"], "tasks file not found"),
    (["--agent", "solver", "--env", "toy,os", "--tasks", "x.json"], "exactly one --env"),
    (["--agent", "solver", "--env", "toy", "--limit", "0"], "--limit must be at least 1"),
    (["--agent", "solver", "--env", "toy", "--concurrency", "0"], "--concurrency must be at least 1"),
    (["--agent", "solver", "--env", "toy", "--executor", "dask"], "invalid choice: 'dask'"),
    (["--env", "toy"], "--agent is required"),
    (
        ["--agent", "solver", "--env", "toy", "--episode-timeout", "nan"],
        "--episode-timeout must be a positive",
    ),
    (
        ["--agent", "solver", "--env", "toy", "--episode-timeout", "inf"],
        "--episode-timeout must be a positive",
    ),
    (
        ["--agent", "solver", "--env", "toy", "--model-timeout", "5"],
        "--model-timeout apply to a model server",
    ),
    (
        ["--agent", "solver", "--env", "toy", "--model", "http://127.0.0.1:1", "--model-retries", "-1"],
        "--model-retries must be at least 0",
    ),
    (
        ["--agent", "solver", "--env", "toy", "--model", "http://127.0.0.1:1", "--model-timeout", "inf"],
        "--model-timeout must be a positive",
    ),
]


def _status(argv: list[str]) -> int:
    try:
        return main(argv)
    except SystemExit as exc:  # argparse's own errors exit from inside main
        return int(exc.code or 0)


@pytest.mark.parametrize(("argv", "message"), BAD_INPUT, ids=[m for _, m in BAD_INPUT])
def test_bad_input_is_one_line_and_status_2(
    argv: list[str], message: str, tmp_path: Path, toy_plugins: None, capsys: pytest.CaptureFixture[str]
) -> None:
    status = _status([*argv, "--out", str(tmp_path / "run")])
    err = capsys.readouterr().err
    assert status == 2
    assert message in err
    assert err.strip().count("\n") == 0 and "Traceback" not in err
    assert not (tmp_path / "run" / "episodes.jsonl").exists()


def test_bad_tasks_file_content_fails_before_any_episode(tmp_path: Path) -> None:
    tasks = tmp_path / "tasks.json"
    tasks.write_text(json.dumps([{"id": "x", "a": 1}]))
    proc = run_cli("--agent", "solver", "--env", "toy", "--tasks", str(tasks), "--out", str(tmp_path / "run"))
    assert proc.returncode == 2  # bad input, as the CLI documents
    assert "cannot create env 'toy': TaskError" in proc.stderr and "task 0" in proc.stderr
    assert "Traceback" not in proc.stderr and proc.stderr.strip().count("\n") == 0


def _one_line_error(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    status = _status(argv)
    err = capsys.readouterr().err
    assert status == 2, err
    assert err.strip().count("\n") == 0 and "Traceback" not in err
    return err


def test_out_naming_a_file_is_bad_input(
    tmp_path: Path, toy_plugins: None, capsys: pytest.CaptureFixture[str]
) -> None:
    a_file = tmp_path / "results.txt"
    a_file.write_text("not a folder\n")
    err = _one_line_error(["--agent", "solver", "--env", "toy", "--out", str(a_file)], capsys)
    assert f"--out {a_file} is a file" in err
    under = _one_line_error(["--agent", "solver", "--env", "toy", "--out", str(a_file / "run")], capsys)
    assert "lies under one" in under and a_file.read_text() == "not a folder\n"


def test_summary_that_is_not_an_object_is_bad_input(
    tmp_path: Path, toy_plugins: None, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "run"
    assert main(["--agent", "toy-oracle", "--env", "toy", "--limit", "2", "--out", str(out)]) == 0
    capsys.readouterr()  # that run's progress lines, which go to stderr when it is not a terminal
    (out / "summary.json").write_text("[1, 2, 3]\n")
    argv = ["--agent", "toy-oracle", "--env", "toy", "--limit", "3", "--out", str(out), "--resume"]
    err = _one_line_error(argv, capsys)
    assert "summary.json holds a JSON list, not the run summary object" in err


def test_binary_tasks_file_is_bad_input_naming_the_file(
    tmp_path: Path, toy_plugins: None, capsys: pytest.CaptureFixture[str]
) -> None:
    tasks = tmp_path / "tasks.json"
    tasks.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    argv = ["--agent", "solver", "--env", "toy", "--tasks", str(tasks), "--out", str(tmp_path / "run")]
    err = _one_line_error(argv, capsys)
    assert f"tasks file {tasks} is binary" in err
    assert not (tmp_path / "run").exists()


def test_empty_task_list_warns(tmp_path: Path, toy_plugins: None, capsys: pytest.CaptureFixture[str]) -> None:
    tasks = tmp_path / "tasks.json"
    tasks.write_text("[]\n")
    out = tmp_path / "run"
    assert main(["--agent", "solver", "--env", "toy", "--tasks", str(tasks), "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert f"warning: env 'toy' has no tasks (tasks file {tasks} lists none): nothing to run" in err
    assert json.loads((out / "summary.json").read_text())["episodes"] == 0


def test_model_timeout_and_retries_reach_the_server_backend(
    tmp_path: Path, toy_plugins: None, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("agents.registry")
    from agents.registry import clear_backends
    from tests.agents.backends.test_openai_compat import OK_BODY
    from tests.agents.conftest import fake_openai_server

    out = tmp_path / "run"
    with fake_openai_server(lambda path, body, n: (200, OK_BODY, {}), trickle_s=0.05) as (url, _):
        argv = ["--agent", "teacher", "--env", "toy", "--limit", "1", "--out", str(out), "--model", url]
        argv += ["--model-timeout", "0.4", "--model-retries", "0"]
        started = datetime.now()
        try:
            # Its only episode errored: the run fails (--fail-on-error's default), status 3.
            assert main(argv) == 3
        finally:
            clear_backends()
        elapsed = (datetime.now() - started).total_seconds()
    (record,) = _records(out)
    assert "after 1 attempts" in record["error"] and "no complete answer within 0.4 s" in record["error"]
    assert elapsed < 10
    summary = json.loads((out / "summary.json").read_text())
    assert summary["agent_options"] == {"timeout": 0.4, "retries": 0}
    assert summary["status"] == "failed"


def test_missing_default_model_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    from harness.plugins import UsageError
    from harness.runner import RunConfig, resolve_model

    # As if train/default_model.py were not installed (another part of the project provides it).
    monkeypatch.setitem(sys.modules, "train.default_model", None)
    with pytest.raises(UsageError, match=r"embedded default model is missing.*--model PATH_OR_URL"):
        resolve_model(RunConfig(agent="teacher"))
    assert resolve_model(RunConfig(agent="teacher", model="/models/x")) == "/models/x"
    assert resolve_model(RunConfig(agent="oracle")) is None


def test_list_names_agents_envs_and_splits(toy_plugins: None, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--list"]) == 0
    out = capsys.readouterr().out
    for name in ("solver", "toy-oracle", "os", "web", "shop", "toy", "train", "dev", "test"):
        assert f"  {name} " in out


def test_built_in_oracle_agent_on_a_user_env(
    tmp_path: Path, toy_plugins: None, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("agents.registry")
    assert main(["--agent", "oracle", "--env", "toy", "--limit", "3", "--out", str(tmp_path / "run")]) == 0
    assert (
        capsys.readouterr().out.strip().splitlines()[-1]
        == "oracle toy: score 1.000 ± 0.000 (3 episodes, 0 errors)"
    )
