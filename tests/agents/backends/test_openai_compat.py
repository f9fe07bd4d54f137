"""OpenAIBackend against small real HTTP servers on 127.0.0.1 that misbehave on purpose."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from agents.accounting import ModelDims, call_flops
from agents.backends.base import BackendError
from agents.backends.openai_compat import OpenAIBackend

MESSAGES = [{"role": "user", "content": "hello"}]
OK_BODY = {
    "choices": [
        {"index": 0, "message": {"role": "assistant", "content": "Act: finish"}, "finish_reason": "stop"}
    ],
    "usage": {"prompt_tokens": 40, "completion_tokens": 5, "prompt_tokens_details": {"cached_tokens": 32}},
}

# Each handler gets (path, request body or None, attempt number) and returns (status, payload, headers).
Behaviour = Callable[[str, Any, int], tuple[int, Any, dict[str, str]]]


@contextmanager
def fake_server(behaviour: Behaviour) -> Iterator[tuple[str, list[Any]]]:
    seen: list[Any] = []

    class Handler(BaseHTTPRequestHandler):
        def _answer(self, body: Any) -> None:
            seen.append(body)
            status, payload, headers = behaviour(self.path, body, len(seen))
            data = payload.encode() if isinstance(payload, str) else json.dumps(payload).encode()
            try:
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (timeout test)

        def do_GET(self) -> None:
            self._answer(None)

        def do_POST(self) -> None:
            self._answer(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()


def test_usage_and_request_shape() -> None:
    with fake_server(lambda path, body, n: (200, OK_BODY, {})) as (url, seen):
        backend = OpenAIBackend(url, model="m")
        completion = backend.generate(MESSAGES, max_new_tokens=7, stop=["\nObservation:"])
    assert completion.text == "Act: finish" and completion.finish_reason == "stop"
    usage = completion.usage
    assert (usage.calls, usage.prompt_tokens, usage.cached_tokens, usage.generated_tokens) == (1, 40, 32, 5)
    assert usage.flops == 0.0  # a foreign server, and no model_dims given
    body = seen[0]
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
    assert seen[1]["model"] == "served-model"


def test_server_errors_are_retried_then_reported() -> None:
    with fake_server(lambda path, body, n: (500, {"error": {"message": "CUDA out of memory"}}, {})) as (
        url,
        seen,
    ):
        backend = OpenAIBackend(url, model="m", retries=2, backoff_s=0.01)
        with pytest.raises(BackendError, match=r"after 3 attempts.*HTTP 500: CUDA out of memory"):
            backend.generate(MESSAGES, max_new_tokens=3)
    assert len(seen) == 3


def test_rate_limit_then_success() -> None:
    def behaviour(path: str, body: Any, n: int) -> tuple[int, Any, dict[str, str]]:
        return (429, {"error": "slow down"}, {"Retry-After": "0.05"}) if n == 1 else (200, OK_BODY, {})

    with fake_server(behaviour) as (url, seen):
        completion = OpenAIBackend(url, model="m", backoff_s=5).generate(MESSAGES, max_new_tokens=3)
    assert completion.text == "Act: finish" and len(seen) == 2


def test_timeouts_are_retried_then_reported() -> None:
    def behaviour(path: str, body: Any, n: int) -> tuple[int, Any, dict[str, str]]:
        time.sleep(0.6)
        return 200, OK_BODY, {}

    with fake_server(behaviour) as (url, seen):
        backend = OpenAIBackend(url, model="m", timeout=0.15, retries=1, backoff_s=0.01)
        started = time.monotonic()
        with pytest.raises(BackendError, match=r"after 2 attempts.*Timeout"):
            backend.generate(MESSAGES, max_new_tokens=3)
        assert time.monotonic() - started < 2
    assert len(seen) == 2


def test_client_errors_fail_at_once_with_the_server_message() -> None:
    with fake_server(
        lambda path, body, n: (400, {"error": {"message": "'messages' must be a list"}}, {})
    ) as (url, seen):
        with pytest.raises(BackendError, match="HTTP 400: 'messages' must be a list"):
            OpenAIBackend(url, model="m", backoff_s=0.01).generate(MESSAGES, max_new_tokens=3)
    assert len(seen) == 1


def test_unreachable_server_and_bad_answers() -> None:
    with fake_server(lambda path, body, n: (200, OK_BODY, {})) as (url, _):
        pass  # closed again: nothing listens on that port now
    with pytest.raises(BackendError, match=r"after 2 attempts.*ConnectError"):
        OpenAIBackend(url, model="m", retries=1, backoff_s=0.01).generate(MESSAGES, max_new_tokens=3)
    with fake_server(lambda path, body, n: (200, {"choices": []}, {})) as (url, _):
        with pytest.raises(BackendError, match="malformed chat completion"):
            OpenAIBackend(url, model="m").generate(MESSAGES, max_new_tokens=3)
    with pytest.raises(ValueError, match="http"):
        OpenAIBackend("localhost:8000")


@contextmanager
def trickling_server(delay_s: float) -> Iterator[str]:
    """A server that sends a valid answer one byte every ``delay_s`` seconds: no single read ever waits long."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers["Content-Length"]))
            data = json.dumps(OK_BODY).encode()
            try:
                self.send_response(200)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                for i in range(len(data)):
                    self.wfile.write(data[i : i + 1])
                    self.wfile.flush()
                    time.sleep(delay_s)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up at its deadline

        def do_GET(self) -> None:  # the model listing answers at once
            data = json.dumps({"object": "list", "data": [{"id": "trickle"}]}).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_a_trickling_server_cannot_hold_a_call_past_its_deadline() -> None:
    # ~200 bytes at 50 ms each is ~10 s of answer; every read returns well within the 0.5 s timeout.
    with trickling_server(0.05) as url:
        backend = OpenAIBackend(url, model="m", timeout=0.5, retries=1, backoff_s=0.01)
        started = time.monotonic()
        with pytest.raises(BackendError, match=r"after 2 attempts.*Timeout.*within 0.5 s"):
            backend.generate(MESSAGES, max_new_tokens=3)
        elapsed = time.monotonic() - started
        backend.close()
    assert elapsed < 2.0, f"two attempts of 0.5 s took {elapsed:.1f} s"


def test_deadline_leaves_a_slow_but_timely_answer_alone() -> None:
    with trickling_server(0.001) as url:
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
    assert (u.calls, u.prompt_tokens, u.cached_tokens, u.generated_tokens, u.flops) == (1, 0, 0, 0, 0.0)
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
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-env")
    backend = OpenAIBackend("http://127.0.0.1:9/v1/chat/completions/", model="m", temperature=0.7)
    assert backend.base_url == "http://127.0.0.1:9/v1" and backend.temperature == 0.7
    assert backend._client.headers["Authorization"] == "Bearer sk-from-env"
    explicit = OpenAIBackend("http://127.0.0.1:9", model="m", api_key="sk-flag")
    assert explicit._client.headers["Authorization"] == "Bearer sk-flag" and explicit.temperature == 0.0
    with fake_server(lambda path, body, n: (200, OK_BODY, {})) as (url, seen):
        OpenAIBackend(url, model="m", temperature=0.7).generate(MESSAGES, max_new_tokens=7)
    assert seen[0]["temperature"] == 0.7
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
