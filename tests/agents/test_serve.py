"""The OpenAI-compatible round trip: ``python -m agents.serve`` as a real subprocess (with an API key), and
OpenAIBackend, the official ``openai`` SDK and plain HTTP as its clients."""

from __future__ import annotations

import queue
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import openai
import pytest

from agents.backends.base import BackendError
from agents.backends.hf import HFBackend
from agents.backends.openai_compat import OpenAIBackend
from agents.serve import API_KEY_VAR, BadRequest, api_key_from, parse_request

REPO = Path(__file__).resolve().parents[2]
KEY = "sk-serve-test"
AUTH = {"Authorization": f"Bearer {KEY}"}
MESSAGES = [
    {"role": "user", "content": "You are an assistant that acts like a person. Think, then act. " * 2},
    {"role": "assistant", "content": "Ok."},
    {"role": "user", "content": "tell me how many files are in /etc"},
]


@pytest.fixture(scope="module")
def server_url(tiny_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    log = tmp_path_factory.mktemp("serve") / "stderr.log"
    with log.open("w") as stderr:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "agents.serve",
                "--model",
                str(tiny_model),
                "--port",
                "0",
                "--prefix-cache",
                "--api-key",
                KEY,
            ],
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
        )
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in process.stdout], daemon=True).start()
    try:
        try:
            line = lines.get(timeout=90)
        except queue.Empty:
            pytest.fail(f"the server printed nothing in 90 s; stderr:\n{log.read_text()[-2000:]}")
        assert "listening on http://127.0.0.1:" in line, f"{line!r}; stderr:\n{log.read_text()[-2000:]}"
        yield line.split("listening on ", 1)[1].strip()
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.mark.slow
def test_round_trip_matches_the_local_backend(server_url: str, tiny_model: Path) -> None:
    assert server_url.endswith("/v1")
    with HFBackend(tiny_model, device="cpu") as local:
        expected = local.generate(MESSAGES, max_new_tokens=20, stop=[])
        stop = expected.text[6:9]
        expected_cut = local.generate(MESSAGES, max_new_tokens=20, stop=[stop])
    remote = OpenAIBackend(server_url, api_key=KEY, timeout=30)
    assert remote.model == tiny_model.name
    got = remote.generate(MESSAGES, max_new_tokens=20, stop=[])
    assert got.text == expected.text
    assert got.usage.prompt_tokens == expected.usage.prompt_tokens
    assert got.usage.generated_tokens == expected.usage.generated_tokens
    assert got.usage.flops == expected.usage.flops  # from the server's x_promptless extension
    assert got.finish_reason == expected.finish_reason
    got_cut = remote.generate(MESSAGES, max_new_tokens=20, stop=[stop])
    assert got_cut.text == expected_cut.text
    # the server runs with --prefix-cache: the third call with this prompt reuses the shared prefix
    third = remote.generate(MESSAGES, max_new_tokens=20, stop=[])
    assert third.text == expected.text
    assert third.usage.cached_tokens > 0 and third.usage.flops < expected.usage.flops


@pytest.mark.slow
def test_bad_requests_get_400_with_a_message(server_url: str) -> None:
    with httpx.Client(timeout=30, headers=AUTH) as client:
        bad_json = client.post(
            server_url + "/chat/completions", content=b"{nope", headers={"Content-Type": "application/json"}
        )
        assert bad_json.status_code == 400 and "not valid JSON" in bad_json.json()["error"]["message"]
        no_messages = client.post(server_url + "/chat/completions", json={"max_tokens": 3})
        assert no_messages.status_code == 400 and "'messages'" in no_messages.json()["error"]["message"]
        too_long = client.post(
            server_url + "/chat/completions",
            json={"messages": [{"role": "user", "content": "count files " * 400}]},
        )
        assert too_long.status_code == 400 and "positions" in too_long.json()["error"]["message"]
        bad_stream = client.post(
            server_url + "/chat/completions",
            json={"messages": [{"role": "user", "content": "x"}], "stream": "yes"},
        )
        assert bad_stream.status_code == 400 and "'stream'" in bad_stream.json()["error"]["message"]
        nope = client.get(server_url + "/nope")
        assert nope.status_code == 404 and "/v1/nope" in nope.json()["error"]["message"]
        models = client.get(server_url + "/models").json()
        assert models["data"][0]["object"] == "model"


@pytest.mark.slow
def test_the_openai_sdk_gets_a_plain_and_a_streamed_reply(server_url: str, tiny_model: Path) -> None:
    client = openai.OpenAI(base_url=server_url, api_key=KEY, max_retries=0, timeout=30)
    assert [m.id for m in client.models.list()] == [tiny_model.name]
    ask = {"model": tiny_model.name, "messages": MESSAGES, "max_tokens": 20, "temperature": 0}
    plain = client.chat.completions.create(**ask)  # type: ignore[call-overload]
    text = plain.choices[0].message.content
    assert text and plain.usage is not None and plain.usage.completion_tokens > 0
    chunks = list(
        client.chat.completions.create(**ask, stream=True, stream_options={"include_usage": True})  # type: ignore[call-overload]
    )
    pieces = [c.choices[0].delta.content for c in chunks if c.choices and c.choices[0].delta.content]
    assert "".join(pieces) == text and len(pieces) > 1  # greedy: the same reply, sent in several chunks
    assert chunks[0].choices[0].delta.role == "assistant"
    reasons = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
    assert reasons == [plain.choices[0].finish_reason]
    assert not chunks[-1].choices and chunks[-1].usage is not None  # the usage chunk comes last
    assert chunks[-1].usage.completion_tokens == plain.usage.completion_tokens
    # On the wire: server-sent events that end with [DONE].
    with httpx.Client(timeout=30, headers=AUTH) as raw:
        wire = raw.post(server_url + "/chat/completions", json={**ask, "stream": True})
    assert wire.headers["content-type"].startswith("text/event-stream")
    assert wire.text.startswith("data: {") and wire.text.endswith("data: [DONE]\n\n")


@pytest.mark.slow
def test_requests_without_the_key_get_401(server_url: str, tiny_model: Path) -> None:
    with httpx.Client(timeout=30) as client:
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": KEY}):
            answer = client.get(server_url + "/models", headers=headers)
            assert answer.status_code == 401, headers
            assert "API key" in answer.json()["error"]["message"]
        assert client.get(server_url + "/models", headers=AUTH).status_code == 200
    wrong = openai.OpenAI(base_url=server_url, api_key="sk-wrong", max_retries=0, timeout=30)
    with pytest.raises(openai.AuthenticationError) as caught:
        wrong.chat.completions.create(model=tiny_model.name, messages=[{"role": "user", "content": "hi"}])
    assert caught.value.status_code == 401
    keyless = OpenAIBackend(server_url, model=tiny_model.name, api_key=None, retries=0)
    with pytest.raises(BackendError, match="HTTP 401"):
        keyless.generate(MESSAGES, max_new_tokens=3)


def test_api_key_from_the_flag_else_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(API_KEY_VAR, raising=False)
    assert api_key_from(None) is None
    monkeypatch.setenv(API_KEY_VAR, "from-env")
    assert api_key_from(None) == "from-env" and api_key_from("from-flag") == "from-flag"


def test_parse_request_rules() -> None:
    chat = parse_request(
        {
            "messages": [{"role": "user", "content": [{"type": "text", "text": "hi"}]}],
            "stop": "\n",
            "temperature": 1,
        },
        default_max_tokens=64,
    )
    assert chat.messages == [{"role": "user", "content": "hi"}] and chat.max_tokens == 64
    assert chat.stop == ["\n"] and not chat.stream
    streamed = parse_request(
        {
            "messages": [{"role": "user", "content": "x"}],
            "stream": True,
            "stream_options": {"include_usage": True},
        },
        default_max_tokens=64,
    )
    assert streamed.stream and streamed.include_usage
    for body, message in [
        ({"messages": [{"role": "tool", "content": "x"}]}, "role"),
        ({"messages": [{"role": "user", "content": "x"}], "max_tokens": 0}, "max_tokens"),
        ({"messages": [{"role": "user", "content": "x"}], "stop": [1]}, "stop"),
        ({"messages": [{"role": "user", "content": "x"}], "n": 2}, "n = 1"),
        ({"messages": [{"role": "user", "content": "x"}], "stream": 1}, "'stream' must be true or false"),
        ({"messages": [{"role": "user", "content": "x"}], "stream_options": []}, "stream_options"),
        ([], "JSON object"),
    ]:
        with pytest.raises(BadRequest, match=message):
            parse_request(body, default_max_tokens=64)


@pytest.mark.slow
def test_concurrent_requests_are_batched_in_process(tiny_model: Path) -> None:
    import uvicorn

    from agents.serve import bind, make_app

    # A long batch window: the four requests below must meet in one forward pass, however slow this machine.
    backend = HFBackend(tiny_model, device="cpu", batch_wait_s=0.5, max_batch=8)
    sock = bind("127.0.0.1", 0)
    server = uvicorn.Server(uvicorn.Config(make_app(backend, "tiny"), log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{sock.getsockname()[1]}/v1"
    try:
        asks = [[{"role": "user", "content": f"count files in /tmp/{i}"}] for i in range(4)]
        client = OpenAIBackend(url, model="tiny", timeout=60, retries=0)  # no key set: an open server
        replies: list[str] = [""] * len(asks)

        def ask(i: int) -> None:
            replies[i] = client.generate(asks[i], max_new_tokens=5).text  # type: ignore[arg-type]

        workers = [threading.Thread(target=ask, args=(i,)) for i in range(len(asks))]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(timeout=120)
        assert backend.requests_run == 4 and backend.batches_run < 4, backend.batches_run
        alone = [backend.generate(m, max_new_tokens=5).text for m in asks]  # type: ignore[arg-type]
        assert replies == alone
        client.close()
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()
        backend.close()
