"""Per-request overhead of the OpenAI-compatible client (the ``openai`` SDK under ``OpenAIBackend``) against a
bare pooled ``httpx`` POST, both calling ``agents.serve``'s app with an instant back-end.

The server runs in a child process (uvicorn, one worker) and answers every chat at once with a fixed reply,
so the figures are the HTTP stack's cost on each side, not a model's. Sequential calls give the latency each
request pays; ``--threads`` calls at once give throughput.

Usage::

    .venv/bin/python bench/openai_client.py [--calls 500] [--threads 8] [--also OTHER_CLIENT.py]

``--also`` adds the ``OpenAIBackend`` of another file to the table (for instance an earlier version taken
from git), so that a change of client can be measured on the same server in the same run.
"""

from __future__ import annotations

import argparse
import functools
import importlib.util
import multiprocessing
import statistics
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx

from agents.backends.base import Completion
from agents.backends.openai_compat import OpenAIBackend
from agents.base import Usage

MESSAGES = [{"role": "user", "content": "count the files in /etc " * 20}]


class Instant:
    """A back-end that answers at once: only the HTTP stack is measured."""

    max_new_tokens = 16

    def generate(self, messages: object, *, max_new_tokens: int, stop: list[str]) -> Completion:
        return Completion("Act: answer(42)", Usage(calls=1, prompt_tokens=40, generated_tokens=5, flops=1.0))


def _serve(port: multiprocessing.Value) -> None:  # type: ignore[valid-type]
    import uvicorn

    from agents.serve import bind, make_app

    sock = bind("127.0.0.1", 0)
    port.value = sock.getsockname()[1]  # type: ignore[attr-defined]
    uvicorn.Server(uvicorn.Config(make_app(Instant(), "instant"), log_level="warning")).run(sockets=[sock])


def _timed(call: Callable[[], object], n: int) -> list[float]:
    times = []
    for _ in range(n):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return times


def _throughput(call: Callable[[], object], n: int, threads: int) -> float:
    def work() -> None:
        for _ in range(n // threads):
            call()

    workers = [threading.Thread(target=work) for _ in range(threads)]
    started = time.perf_counter()
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return (n // threads) * threads / (time.perf_counter() - started)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--calls", type=int, default=500)
    p.add_argument("--threads", type=int, default=8)
    p.add_argument("--also", action="append", default=[], help="a file with another OpenAIBackend to time")
    args = p.parse_args()
    port = multiprocessing.Value("i", 0)
    server = multiprocessing.Process(target=_serve, args=(port,), daemon=True)
    server.start()
    while not port.value:
        time.sleep(0.05)
    url = f"http://127.0.0.1:{port.value}/v1"
    time.sleep(0.5)  # uvicorn starts serving the bound socket

    body = {"model": "instant", "messages": MESSAGES, "max_tokens": 16, "temperature": 0}
    raw = httpx.Client(timeout=30)
    sdk = OpenAIBackend(url, model="instant", timeout=30, retries=0)
    clients: dict[str, Callable[[], object]] = {
        "httpx POST + JSON (baseline)": lambda: raw.post(url + "/chat/completions", json=body).json(),
        "OpenAIBackend (openai SDK)": lambda: sdk.generate(MESSAGES, max_new_tokens=16),  # type: ignore[arg-type]
    }
    for i, path in enumerate(args.also):
        spec = importlib.util.spec_from_file_location(f"other_client_{i}", path)
        assert spec is not None and spec.loader is not None, path
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        other = module.OpenAIBackend(url, model="instant", timeout=30, retries=0)
        clients[f"OpenAIBackend of {Path(path).name}"] = functools.partial(
            other.generate, MESSAGES, max_new_tokens=16
        )
    print(f"{args.calls} sequential calls, then {args.calls} over {args.threads} threads; server: {url}")
    width = max(len(name) for name in clients)
    print(f"{'client':<{width}} {'p50 ms':>8} {'p95 ms':>8} {'calls/s, threads':>17}")
    for name, call in clients.items():
        _timed(call, 20)  # warm up connections and imports
        times = sorted(_timed(call, args.calls))
        p50, p95 = statistics.median(times), times[int(0.95 * len(times)) - 1]
        rate = _throughput(call, args.calls, args.threads)
        print(f"{name:<{width}} {p50 * 1e3:>8.2f} {p95 * 1e3:>8.2f} {rate:>17.0f}")
    sdk.close()
    raw.close()
    server.terminate()
    return 0


if __name__ == "__main__":
    sys.exit(main())
