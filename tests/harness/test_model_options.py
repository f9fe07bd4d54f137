"""A real model is configured from ``harness.run``'s command line, and every setting reaches the server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from harness.run import main
from tests.agents.conftest import fake_openai_server

REPLY = {
    "choices": [
        {"index": 0, "message": {"role": "assistant", "content": "Answer: 0"}, "finish_reason": "stop"}
    ],
    "usage": {"prompt_tokens": 10, "completion_tokens": 3},
}


def chat_server() -> Any:
    """An OpenAI-compatible server on 127.0.0.1 that lists one model and answers every chat with ``REPLY``."""

    def behaviour(path: str, body: Any, n: int) -> tuple[int, Any, dict[str, str]]:
        return 200, REPLY if body is not None else {"object": "list", "data": [{"id": "listed-model"}]}, {}

    return fake_openai_server(behaviour)


@pytest.fixture(autouse=True)
def fresh_backends() -> Iterator[None]:
    from agents.registry import clear_backends

    clear_backends()
    yield
    clear_backends()


def _run(*argv: str) -> int:
    try:
        return main(list(argv))
    except SystemExit as exc:
        return int(exc.code or 0)


def test_model_name_tokens_temperature_and_key_reach_the_server(
    tmp_path: Path, toy_plugins: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-env")
    out = tmp_path / "run"
    with chat_server() as (url, seen):
        status = _run(
            "--agent", "teacher", "--env", "toy", "--limit", "1", "--out", str(out), "--model", url,
            "--model-name", "served-x", "--max-new-tokens", "33", "--temperature", "0.7",
        )  # fmt: skip
        assert status == 0
        chats = [s for s in seen if s["path"] == "/v1/chat/completions"]
        assert chats and all(s["auth"] == "Bearer sk-from-env" for s in chats)
        body = chats[0]["body"]
        assert (body["model"], body["max_tokens"], body["temperature"]) == ("served-x", 33, 0.7)
        assert not any(s["path"] == "/v1/models" for s in seen)  # the given name, not the listing

        seen.clear()
        out2 = tmp_path / "run2"
        assert _run("--agent", "teacher", "--env", "toy", "--limit", "1", "--out", str(out2), "--model",
                    url, "--api-key", "sk-flag") == 0  # fmt: skip
        chats = [s for s in seen if s["path"] == "/v1/chat/completions"]
        assert chats[0]["auth"] == "Bearer sk-flag" and chats[0]["body"]["temperature"] == 0  # greedy
        assert chats[0]["body"]["model"] == "listed-model"
    summary = json.loads((out / "summary.json").read_text())
    assert summary["model"] == url + "/v1"
    assert summary["agent_options"] == {"model_name": "served-x", "max_new_tokens": 33, "temperature": 0.7}
    # A foreign server reports no FLOPs: unknown in the records and the summary, not 0.
    record = json.loads((out / "episodes.jsonl").read_text().splitlines()[0])
    assert record["usage"]["flops"] is None and record["usage"]["calls"] >= 1
    assert summary["per_env"]["toy"]["flops_per_episode"] is None
    for folder in (out, out2):  # the key is a secret: never in the results
        assert "sk-" not in (folder / "summary.json").read_text()


def test_url_with_and_without_v1_resume_into_each_other(
    tmp_path: Path, toy_plugins: None, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "run"
    with chat_server() as (url, _):
        common = ["--agent", "teacher", "--env", "toy", "--out", str(out)]
        assert _run(*common, "--limit", "1", "--model", url) == 0
        assert _run(*common, "--limit", "2", "--model", url + "/v1/", "--resume") == 0
        records = (out / "episodes.jsonl").read_text().splitlines()
        assert len(records) == 2
        capsys.readouterr()
        # A different temperature changes the results: it may not be mixed into the same run.
        assert _run(*common, "--limit", "3", "--model", url, "--resume", "--temperature", "1") == 2
        assert "temperature: None -> 1.0" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--model", "http://127.0.0.1:9", "--dtype", "bfloat16"], "--dtype apply to a local model folder"),
        (["--model-name", "x"], "--model-name apply to a model server"),
        (["--api-key", "k"], "--api-key apply to a model server"),
        (
            ["--model", "http://127.0.0.1:9", "--temperature", "-1"],
            "--temperature must be 0 (greedy) or more",
        ),
        (["--model", "http://127.0.0.1:9", "--max-new-tokens", "0"], "--max-new-tokens must be at least 1"),
    ],
)
def test_model_options_where_they_cannot_apply_are_one_line(
    argv: list[str], message: str, tmp_path: Path, toy_plugins: None, capsys: pytest.CaptureFixture[str]
) -> None:
    status = _run("--agent", "solver", "--env", "toy", "--out", str(tmp_path / "r"), *argv)
    err = capsys.readouterr().err
    assert status == 2 and message in err and err.strip().count("\n") == 0
