"""OpenAIBackend (the ``openai`` SDK underneath) against small real HTTP servers on 127.0.0.1 that misbehave
on purpose."""

from __future__ import annotations

import time
from typing import Any

import pytest

from agents.accounting import ModelDims, call_flops
from agents.backends.base import BackendError
from agents.backends.openai_compat import OpenAIBackend
from tests.agents.conftest import fake_openai_server as fake_server

MESSAGES = [{"role": "user", "content": "hello"}]
OK_BODY = {
    "choices": [
        {"index": 0, "message": {"role": "assistant", "content": "Act: finish"}, "finish_reason": "stop"}
    ],
    "usage": {"prompt_tokens": 40, "completion_tokens": 5, "prompt_tokens_details": {"cached_tokens": 32}},
}


def test_usage_and_request_shape() -> None:
    with fake_server(lambda path, body, n: (200, OK_BODY, {})) as (url, seen):
        backend = OpenAIBackend(url, model="m")
        completion = backend.generate(MESSAGES, max_new_tokens=7, stop=["\nObservation:"])
    assert completion.text == "Act: finish" and completion.finish_reason == "stop"
    usage = completion.usage
    assert (usage.calls, usage.prompt_tokens, usage.cached_tokens, usage.generated_tokens) == (1, 40, 32, 5)
    assert usage.flops is None  # a foreign server, and no model_dims given: unknown, not 0
    body = seen[0]["body"]
    assert body["max_tokens"] == 7 and body["stop"] == ["\nObservation:"] and body["temperature"] == 0
    assert body["model"] == "m" and body["messages"] == MESSAGES


def test_flops_from_model_dims_or_from_our_extension() -> None:
    dims = ModelDims.from_config(
        {
            "num_hidden_layers": 2,
            "hidden_size": 32,
            "num_attention_heads": 4,
            "intermediate_size": 64,
            "vocab_size": 9,
        }
    )
    with fake_server(lambda path, body, n: (200, OK_BODY, {})) as (url, _):
        flops = (
            OpenAIBackend(url, model="m", model_dims=dims).generate(MESSAGES, max_new_tokens=7).usage.flops
        )
    assert flops == call_flops(dims, prompt_tokens=40, cached_tokens=32, generated_tokens=5)
    extended = {**OK_BODY, "x_promptless": {"flops": 1234.0}}
    with fake_server(lambda path, body, n: (200, extended, {})) as (url, _):
        assert (
            OpenAIBackend(url, model="m", model_dims=dims).generate(MESSAGES, max_new_tokens=7).usage.flops
            == 1234
        )


def test_model_id_discovered_and_v1_appended() -> None:
    def behaviour(path: str, body: Any, n: int) -> tuple[int, Any, dict[str, str]]:
        if path == "/v1/models":
            return 200, {"object": "list", "data": [{"id": "served-model"}]}, {}
        assert path == "/v1/chat/completions"
        return 200, OK_BODY, {}

    with fake_server(behaviour) as (url, seen):
        backend = OpenAIBackend(url + "/")
        backend.generate(MESSAGES, max_new_tokens=3)
    assert backend.base_url == url + "/v1"
    assert [s["path"] for s in seen] == ["/v1/models", "/v1/chat/completions"]
    assert seen[1]["body"]["model"] == "served-model"


def test_server_errors_are_retried_then_reported() -> None:
    with fake_server(lambda path, body, n: (500, {"error": {"message": "CUDA out of memory"}}, {})) as (
        url,
        seen,
    ):
        backend = OpenAIBackend(url, model="m", retries=2)
        with pytest.raises(BackendError, match=r"after 3 attempts.*HTTP 500: CUDA out of memory"):
            backend.generate(MESSAGES, max_new_tokens=3)
    assert len(seen) == 3


def test_rate_limit_waits_as_long_as_retry_after_says() -> None:
    def behaviour(path: str, body: Any, n: int) -> tuple[int, Any, dict[str, str]]:
        return (429, {"error": "slow down"}, {"Retry-After": "0.05"}) if n == 1 else (200, OK_BODY, {})

    with fake_server(behaviour) as (url, seen):
        started = time.monotonic()
        completion = OpenAIBackend(url, model="m").generate(MESSAGES, max_new_tokens=3)
        elapsed = time.monotonic() - started
    assert completion.text == "Act: finish" and len(seen) == 2
    assert elapsed < 0.35, f"waited {elapsed:.2f} s: the back-off (>= 0.375 s), not the 0.05 s Retry-After"

    def longer(path: str, body: Any, n: int) -> tuple[int, Any, dict[str, str]]:
        return (503, {"error": "warming up"}, {"Retry-After": "1"}) if n == 1 else (200, OK_BODY, {})

    with fake_server(longer) as (url, seen):
        started = time.monotonic()
        OpenAIBackend(url, model="m").generate(MESSAGES, max_new_tokens=3)
        assert time.monotonic() - started >= 0.95 and len(seen) == 2


def test_timeouts_are_retried_then_reported() -> None:
    def behaviour(path: str, body: Any, n: int) -> tuple[int, Any, dict[str, str]]:
        time.sleep(0.6)
        return 200, OK_BODY, {}

    with fake_server(behaviour) as (url, seen):
        backend = OpenAIBackend(url, model="m", timeout=0.15, retries=1)
        started = time.monotonic()
        with pytest.raises(BackendError, match=r"after 2 attempts.*Timeout"):
            backend.generate(MESSAGES, max_new_tokens=3)
        assert time.monotonic() - started < 2  # 2 x 0.15 s and one back-off of at most 0.5 s
    assert len(seen) == 2


def test_client_errors_fail_at_once_with_the_server_message() -> None:
    with fake_server(
        lambda path, body, n: (400, {"error": {"message": "'messages' must be a list"}}, {})
    ) as (url, seen):
        with pytest.raises(BackendError, match="HTTP 400: 'messages' must be a list"):
            OpenAIBackend(url, model="m").generate(MESSAGES, max_new_tokens=3)
    assert len(seen) == 1


def test_unreachable_server_and_bad_answers() -> None:
    with fake_server(lambda path, body, n: (200, OK_BODY, {})) as (url, _):
        pass  # closed again: nothing listens on that port now
    with pytest.raises(BackendError, match=r"after 2 attempts.*ConnectError"):
        OpenAIBackend(url, model="m", retries=1).generate(MESSAGES, max_new_tokens=3)
    with fake_server(lambda path, body, n: (200, {"choices": []}, {})) as (url, _):
        with pytest.raises(BackendError, match="malformed chat completion"):
            OpenAIBackend(url, model="m").generate(MESSAGES, max_new_tokens=3)
    with pytest.raises(ValueError, match="http"):
        OpenAIBackend("localhost:8000")


def test_a_trickling_server_cannot_hold_a_call_past_its_deadline() -> None:
    # ~200 bytes at 50 ms each is ~10 s of answer; every read returns well within the 0.5 s timeout.
    with fake_server(lambda path, body, n: (200, OK_BODY, {}), trickle_s=0.05) as (url, _):
        backend = OpenAIBackend(url, model="m", timeout=0.5, retries=1)
        started = time.monotonic()
        with pytest.raises(BackendError, match=r"after 2 attempts.*Timeout.*within 0.5 s"):
            backend.generate(MESSAGES, max_new_tokens=3)
        elapsed = time.monotonic() - started
        backend.close()
    # two attempts of 0.5 s and one back-off of at most 0.5 s; without the deadline it would be ~20 s
    assert elapsed < 2.5, f"two attempts of 0.5 s took {elapsed:.1f} s"


def test_deadline_leaves_a_slow_but_timely_answer_alone() -> None:
    with fake_server(lambda path, body, n: (200, OK_BODY, {}), trickle_s=0.001) as (url, _):
        completion = OpenAIBackend(url, model="m", timeout=5).generate(MESSAGES, max_new_tokens=3)
    assert completion.text == "Act: finish" and completion.usage.prompt_tokens == 40


@pytest.mark.parametrize(
    "usage",
    [
        "lots",
        ["prompt_tokens", 40],
        {"prompt_tokens": "forty", "completion_tokens": 5},
        {"prompt_tokens": 40, "completion_tokens": -5},
        {"prompt_tokens": 1e400, "completion_tokens": 5},
        {"prompt_tokens": 40, "completion_tokens": 5, "prompt_tokens_details": "all"},
        {"prompt_tokens": 40, "completion_tokens": 5, "prompt_tokens_details": {"cached_tokens": [1]}},
    ],
    ids=["string", "list", "word", "negative", "infinite", "details-string", "cached-list"],
)
def test_unreadable_usage_keeps_the_reply_with_unknown_usage(
    usage: Any, caplog: pytest.LogCaptureFixture
) -> None:
    body = {**OK_BODY, "usage": usage, "x_promptless": {"flops": "many"}}
    with fake_server(lambda path, b, n: (200, body, {})) as (url, seen):
        backend = OpenAIBackend(url, model="m", retries=0)
        with caplog.at_level("WARNING"):
            first = backend.generate(MESSAGES, max_new_tokens=3)
            second = backend.generate(MESSAGES, max_new_tokens=3)
    assert first.text == second.text == "Act: finish" and len(seen) == 2
    u = first.usage
    assert (u.calls, u.prompt_tokens, u.cached_tokens, u.generated_tokens, u.flops) == (1, 0, 0, 0, None)
    warnings = [r for r in caplog.records if "cannot be read" in r.getMessage()]
    assert len(warnings) == 1  # once per back-end, not once per call


def test_timeout_and_retries_are_checked() -> None:
    for bad in (0, -1, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="timeout"):
            OpenAIBackend("http://127.0.0.1:1", model="m", timeout=bad)
    with pytest.raises(ValueError, match="retries"):
        OpenAIBackend("http://127.0.0.1:1", model="m", retries=-1)
    backend = OpenAIBackend("http://127.0.0.1:1", model="m")
    backend.close()
    with pytest.raises(BackendError, match="closed"):
        backend.generate(MESSAGES, max_new_tokens=3)


def test_temperature_and_api_key_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    backend = OpenAIBackend("http://127.0.0.1:9/v1/chat/completions/", model="m", temperature=0.7)
    assert backend.base_url == "http://127.0.0.1:9/v1" and backend.temperature == 0.7
    with fake_server(lambda path, body, n: (200, OK_BODY, {})) as (url, seen):
        monkeypatch.delenv("OPENAI_API_KEY", raising=False)
        OpenAIBackend(url, model="m").generate(MESSAGES, max_new_tokens=7)  # no key: no header
        monkeypatch.setenv("OPENAI_API_KEY", "sk-from-env")
        OpenAIBackend(url, model="m", temperature=0.7).generate(MESSAGES, max_new_tokens=7)
        OpenAIBackend(url, model="m", api_key="sk-flag").generate(MESSAGES, max_new_tokens=7)
    assert [s["auth"] for s in seen] == [None, "Bearer sk-from-env", "Bearer sk-flag"]
    assert [s["body"]["temperature"] for s in seen] == [0, 0.7, 0]
    with pytest.raises(ValueError, match="temperature must be a finite number >= 0"):
        OpenAIBackend(url, model="m", temperature=float("nan"))


@pytest.mark.parametrize(
    "spelling",
    [
        "http://h:8000",
        "http://h:8000/",
        "http://h:8000/v1",
        "http://h:8000/v1/",
        "http://h:8000/v1/chat/completions",
    ],
)
def test_one_spelling_per_server(spelling: str) -> None:
    from agents.backends.base import normalize_base_url

    assert normalize_base_url(spelling) == "http://h:8000/v1"
