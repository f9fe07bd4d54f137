"""Serve a local model (``HFBackend``) over an OpenAI-compatible HTTP API.

Usage::

    python -m agents.serve --model models/tiny [--adapter adapters/os] [--host 127.0.0.1] [--port 8000]
                           [--prefix-cache]

Then any OpenAI client, or ``OpenAIBackend("http://127.0.0.1:8000")``, can call it. Endpoints:

- ``GET /v1/models``: the one served model.
- ``POST /v1/chat/completions``: ``messages`` (required), ``max_tokens`` (or ``max_completion_tokens``),
  ``stop`` (a string or a list). Decoding is always greedy: ``temperature``, ``top_p`` and ``seed`` are
  accepted and ignored, ``model`` is not checked; ``n`` > 1 and ``stream: true`` are refused. The response has
  ``choices[0].message.content``, ``finish_reason``, ``usage`` (with ``prompt_tokens_details.cached_tokens``)
  and the extension ``x_promptless: {flops, cached_tokens, wall_s}``.

A bad request gets HTTP 400 with ``{"error": {"message": ...}}``. Requests from concurrent connections are
batched by the back-end. It binds loopback unless told otherwise (it has no authentication); ``--port 0``
picks a free port. The line ``listening on http://HOST:PORT/v1`` is printed once the model is loaded and the
socket is bound.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from agents.backends.base import Backend, BackendError

_MAX_BODY_BYTES = 64 * 1024 * 1024
_ROLES = frozenset({"system", "user", "assistant"})


class BadRequest(ValueError):
    """The request body is not a chat completion request we can serve; the message says why."""


def parse_request(body: Any, default_max_tokens: int) -> tuple[list[dict[str, str]], int, list[str]]:
    """Validate a chat completion request; return (messages, max new tokens, stop strings)."""
    if not isinstance(body, dict):
        raise BadRequest("the request body must be a JSON object")
    raw_messages = body.get("messages")
    if not isinstance(raw_messages, list) or not raw_messages:
        raise BadRequest("'messages' must be a non-empty list")
    messages = []
    for i, message in enumerate(raw_messages):
        if not isinstance(message, dict) or message.get("role") not in _ROLES:
            raise BadRequest(f"messages[{i}] needs a 'role' among {sorted(_ROLES)}")
        messages.append({"role": message["role"], "content": _content_text(message.get("content"), i)})
    max_tokens = body.get("max_completion_tokens", body.get("max_tokens"))
    if max_tokens is None:
        max_tokens = default_max_tokens
    if isinstance(max_tokens, bool) or not isinstance(max_tokens, int) or max_tokens < 1:
        raise BadRequest(f"'max_tokens' must be a positive integer, got {max_tokens!r}")
    stop = body.get("stop")
    if stop is None:
        stop = []
    elif isinstance(stop, str):
        stop = [stop]
    elif not (isinstance(stop, list) and all(isinstance(s, str) for s in stop)):
        raise BadRequest("'stop' must be a string or a list of strings")
    if body.get("n", 1) != 1:
        raise BadRequest("only n = 1 is supported")
    if body.get("stream"):
        raise BadRequest("streaming is not supported")
    return messages, max_tokens, stop


def _content_text(content: Any, index: int) -> str:
    if isinstance(content, str):
        return content
    # OpenAI's list-of-parts form: only text parts can be served by a text model.
    if isinstance(content, list) and all(isinstance(p, dict) and p.get("type") == "text" for p in content):
        return "".join(str(p.get("text", "")) for p in content)
    raise BadRequest(f"messages[{index}].content must be a string or a list of text parts")


def make_server(
    backend: Backend, model_id: str, host: str = "127.0.0.1", port: int = 8000
) -> ThreadingHTTPServer:
    """An HTTP server (not yet serving) that answers the OpenAI chat API with ``backend``."""
    default_max_tokens = int(getattr(backend, "max_new_tokens", 512))

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            if self.path.rstrip("/") != "/v1/models":
                self._send(404, _error(f"no route GET {self.path}"))
                return
            created = int(time.time())
            self._send(200, {"object": "list", "data": [_model_card(model_id, created)]})

        def do_POST(self) -> None:
            if self.path.rstrip("/") != "/v1/chat/completions":
                self._send(404, _error(f"no route POST {self.path}"))
                return
            try:
                length = int(self.headers.get("Content-Length", "0"))
            except ValueError:
                self._send(400, _error("bad Content-Length"))
                return
            if length <= 0 or length > _MAX_BODY_BYTES:
                self._send(400, _error(f"the body must be 1 to {_MAX_BODY_BYTES} bytes of JSON"))
                return
            raw = self.rfile.read(length)
            try:
                messages, max_tokens, stop = parse_request(json.loads(raw), default_max_tokens)
                completion = backend.generate(messages, max_new_tokens=max_tokens, stop=stop)  # type: ignore[arg-type]
            except json.JSONDecodeError as exc:
                self._send(400, _error(f"the body is not valid JSON: {exc}"))
                return
            except (BadRequest, ValueError, TypeError) as exc:  # includes "prompt too long for the model"
                self._send(400, _error(str(exc)))
                return
            except Exception as exc:  # a model failure: tell the client rather than drop the connection
                message = str(exc) if isinstance(exc, BackendError) else f"{type(exc).__name__}: {exc}"
                self._send(500, _error(message, "server_error"))
                return
            usage = completion.usage
            self._send(
                200,
                {
                    "id": f"chatcmpl-{uuid.uuid4().hex}",
                    "object": "chat.completion",
                    "created": int(time.time()),
                    "model": model_id,
                    "choices": [
                        {
                            "index": 0,
                            "message": {"role": "assistant", "content": completion.text},
                            "finish_reason": completion.finish_reason,
                        }
                    ],
                    "usage": {
                        "prompt_tokens": usage.prompt_tokens,
                        "completion_tokens": usage.generated_tokens,
                        "total_tokens": usage.prompt_tokens + usage.generated_tokens,
                        "prompt_tokens_details": {"cached_tokens": usage.cached_tokens},
                    },
                    "x_promptless": {
                        "flops": usage.flops,
                        "cached_tokens": usage.cached_tokens,
                        "wall_s": usage.wall_s,
                    },
                },
            )

        def _send(self, status: int, payload: dict[str, Any]) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # one line per request would drown the caller's progress output

    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    return server


def _model_card(model_id: str, created: int) -> dict[str, Any]:
    return {"id": model_id, "object": "model", "created": created, "owned_by": "promptless"}


def _error(message: str, kind: str = "invalid_request_error") -> dict[str, Any]:
    return {"error": {"message": message, "type": kind}}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m agents.serve", description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True, help="local model folder")
    parser.add_argument("--adapter", help="peft adapter folder to apply on top")
    parser.add_argument("--host", default="127.0.0.1", help="bind address (default loopback: no auth here)")
    parser.add_argument("--port", type=int, default=8000, help="0 picks a free port")
    parser.add_argument(
        "--prefix-cache", action="store_true", help="reuse the KV cache of shared prompt prefixes"
    )
    parser.add_argument("--device", help="e.g. cpu, cuda, cuda:1 (default: cuda when present)")
    parser.add_argument("--dtype", help="bfloat16, float16 or float32 (default: bf16 on CUDA, fp32 on CPU)")
    parser.add_argument("--no-4bit", action="store_true", help="on CUDA, load full weights instead of NF4")
    parser.add_argument("--max-batch", type=int, default=8, help="most concurrent requests per forward pass")
    parser.add_argument("--max-new-tokens", type=int, default=512, help="default when a request gives none")
    args = parser.parse_args(argv)

    from agents.backends.hf import HFBackend  # heavy import (torch) only once the arguments are valid

    backend = HFBackend(
        args.model,
        adapter=args.adapter,
        device=args.device,
        dtype=args.dtype,
        load_in_4bit=False if args.no_4bit else None,
        max_new_tokens=args.max_new_tokens,
        prefix_cache=args.prefix_cache,
        max_batch=args.max_batch,
    )
    server = make_server(backend, backend.name, args.host, args.port)
    host, port = str(server.server_address[0]), server.server_address[1]
    print(f"promptless serve: {backend.name} listening on http://{host}:{port}/v1", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        backend.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
