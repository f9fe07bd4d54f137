"""Serve a local model (``HFBackend``) over an OpenAI-compatible HTTP API (FastAPI on uvicorn).

Usage::

    python -m agents.serve --model models/tiny [--adapter adapters/os] [--host 127.0.0.1] [--port 8000]
                           [--prefix-cache] [--api-key KEY]

Then any OpenAI client (the ``openai`` SDK, ``OpenAIBackend("http://127.0.0.1:8000")``) can call it.
Endpoints:

- ``GET /v1/models``: the one served model.
- ``POST /v1/chat/completions``: ``messages`` (required), ``max_tokens`` (or ``max_completion_tokens``),
  ``stop`` (a string or a list), ``stream``, ``stream_options.include_usage``. Decoding is always greedy:
  ``temperature``, ``top_p`` and ``seed`` are accepted and ignored, ``model`` is not checked; ``n`` > 1 is
  refused. The response has ``choices[0].message.content``, ``finish_reason``, ``usage`` (with
  ``prompt_tokens_details.cached_tokens``) and the extension ``x_promptless: {flops, cached_tokens, wall_s}``.

With ``stream: true`` the answer is server-sent events in OpenAI's ``chat.completion.chunk`` format: a chunk
with the assistant role, the content in chunks of about one word, a chunk with ``finish_reason``, with
``stream_options: {"include_usage": true}`` a chunk with ``usage`` (and ``x_promptless``) and no choices,
then ``data: [DONE]``. The back-end generates the whole reply first (it batches requests and does not yield
tokens one by one), so the first chunk arrives when the reply is complete; what streaming buys here is that
clients written for streaming work unchanged. A request that fails does so before any chunk is sent, as a
plain JSON error.

A bad request gets HTTP 400 with ``{"error": {"message": ...}}``. With an API key (``--api-key``, else the
environment variable ``PROMPTLESS_SERVE_API_KEY``) every request must carry ``Authorization: Bearer KEY`` or
gets HTTP 401 in the same error shape; without one the server is open, so it binds loopback unless told
otherwise. Requests from concurrent connections are batched by the back-end (each runs in a worker thread,
and the back-end groups the calls that arrive together). ``--port 0`` picks a free port. The line
``listening on http://HOST:PORT/v1`` is printed once the model is loaded and the socket is bound.
"""

from __future__ import annotations

import argparse
import hmac
import json
import os
import re
import socket
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, StreamingResponse
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from agents.backends.base import Backend, BackendError, Completion

_MAX_BODY_BYTES = 64 * 1024 * 1024
_ROLES = frozenset({"system", "user", "assistant"})
API_KEY_VAR = "PROMPTLESS_SERVE_API_KEY"
# A word with the spaces after it, or a run of spaces alone: the pieces of a streamed reply.
_PIECE = re.compile(r"\S+\s*|\s+")


class BadRequest(ValueError):
    """The request body is not a chat completion request we can serve; the message says why."""


@dataclass(frozen=True)
class ChatRequest:
    """What a valid chat completion request asks for."""

    messages: list[dict[str, str]]
    max_tokens: int
    stop: list[str]
    stream: bool = False
    include_usage: bool = False  # with ``stream``: send a last chunk with the usage


def parse_request(body: Any, default_max_tokens: int) -> ChatRequest:
    """Validate a chat completion request."""
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
    stream = body.get("stream") or False
    if not isinstance(stream, bool):
        raise BadRequest(f"'stream' must be true or false, got {stream!r}")
    options = body.get("stream_options")
    options = {} if options is None else options
    if not isinstance(options, dict):
        raise BadRequest("'stream_options' must be an object")
    return ChatRequest(messages, max_tokens, stop, stream, bool(options.get("include_usage")))


def _content_text(content: Any, index: int) -> str:
    if isinstance(content, str):
        return content
    # OpenAI's list-of-parts form: only text parts can be served by a text model.
    if isinstance(content, list) and all(isinstance(p, dict) and p.get("type") == "text" for p in content):
        return "".join(str(p.get("text", "")) for p in content)
    raise BadRequest(f"messages[{index}].content must be a string or a list of text parts")


def make_app(backend: Backend, model_id: str, api_key: str | None = None) -> FastAPI:
    """The ASGI app that answers the OpenAI chat API with ``backend``; ``api_key`` set: Bearer auth."""
    default_max_tokens = int(getattr(backend, "max_new_tokens", 512))
    app = FastAPI(title="promptless serve", docs_url=None, redoc_url=None, openapi_url=None)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        return _error(exc.status_code, f"{exc.detail}: {request.method} {request.url.path}")

    @app.middleware("http")
    async def authenticate(request: Request, call_next: Any) -> Any:
        if api_key is not None and not _authorized(request.headers.get("authorization"), api_key):
            return _error(
                401,
                "missing or wrong API key: send the header 'Authorization: Bearer KEY'",
                code="invalid_api_key",
            )
        return await call_next(request)

    @app.get("/v1/models")
    async def models() -> dict[str, Any]:
        return {"object": "list", "data": [_model_card(model_id, int(time.time()))]}

    @app.post("/v1/chat/completions")
    async def chat_completions(request: Request) -> Any:
        raw = await _read_body(request)
        if raw is None:
            return _error(400, f"the body must be 1 to {_MAX_BODY_BYTES} bytes of JSON")
        try:
            chat = parse_request(json.loads(raw), default_max_tokens)
            completion = await run_in_threadpool(
                backend.generate,
                chat.messages,  # type: ignore[arg-type]
                max_new_tokens=chat.max_tokens,
                stop=chat.stop,
            )
        except json.JSONDecodeError as exc:
            return _error(400, f"the body is not valid JSON: {exc}")
        except (BadRequest, ValueError, TypeError) as exc:  # includes "prompt too long for the model"
            return _error(400, str(exc))
        except Exception as exc:  # a model failure: tell the client rather than drop the connection
            message = str(exc) if isinstance(exc, BackendError) else f"{type(exc).__name__}: {exc}"
            return _error(500, message, kind="server_error")
        reply_id, created = f"chatcmpl-{uuid.uuid4().hex}", int(time.time())
        if chat.stream:
            events = _stream(completion, reply_id, created, model_id, chat.include_usage)
            return StreamingResponse(events, media_type="text/event-stream")
        return {
            "id": reply_id,
            "object": "chat.completion",
            "created": created,
            "model": model_id,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": completion.text},
                    "finish_reason": completion.finish_reason,
                }
            ],
            "usage": _usage(completion),
            "x_promptless": _extension(completion),
        }

    return app


async def _read_body(request: Request) -> bytes | None:
    """The body, or None when it is empty or larger than the limit (read no further than the limit)."""
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > _MAX_BODY_BYTES):
        return None
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > _MAX_BODY_BYTES:
            return None
        chunks.append(chunk)
    return b"".join(chunks) if size else None


def _authorized(header: str | None, api_key: str) -> bool:
    scheme, _, token = (header or "").partition(" ")
    # compare_digest: the time taken does not tell how much of a guessed key was right.
    return scheme.lower() == "bearer" and hmac.compare_digest(token.strip().encode(), api_key.encode())


def _stream(
    completion: Completion, reply_id: str, created: int, model_id: str, include_usage: bool
) -> Iterator[str]:
    """The server-sent events of a finished completion, in OpenAI's ``chat.completion.chunk`` format."""

    def event(choices: list[dict[str, Any]], **extra: Any) -> str:
        chunk = {
            "id": reply_id,
            "object": "chat.completion.chunk",
            "created": created,
            "model": model_id,
            "choices": choices,
            **extra,
        }
        return f"data: {json.dumps(chunk)}\n\n"

    yield event([{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}])
    for piece in _PIECE.findall(completion.text):
        yield event([{"index": 0, "delta": {"content": piece}, "finish_reason": None}])
    yield event([{"index": 0, "delta": {}, "finish_reason": completion.finish_reason}])
    if include_usage:
        yield event([], usage=_usage(completion), x_promptless=_extension(completion))
    yield "data: [DONE]\n\n"


def _usage(completion: Completion) -> dict[str, Any]:
    usage = completion.usage
    return {
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.generated_tokens,
        "total_tokens": usage.prompt_tokens + usage.generated_tokens,
        "prompt_tokens_details": {"cached_tokens": usage.cached_tokens},
    }


def _extension(completion: Completion) -> dict[str, Any]:
    usage = completion.usage
    return {"flops": usage.flops, "cached_tokens": usage.cached_tokens, "wall_s": usage.wall_s}


def _model_card(model_id: str, created: int) -> dict[str, Any]:
    return {"id": model_id, "object": "model", "created": created, "owned_by": "promptless"}


def _error(
    status: int, message: str, kind: str = "invalid_request_error", code: str | None = None
) -> JSONResponse:
    return JSONResponse({"error": {"message": message, "type": kind, "code": code}}, status_code=status)


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port`` (port 0: a free one), so that the port is known before serving."""
    family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(address)
    sock.listen(128)
    return sock


def api_key_from(flag: str | None) -> str | None:
    """The key clients must send: the ``--api-key`` flag, else ``$PROMPTLESS_SERVE_API_KEY``, else none."""
    return flag or os.environ.get(API_KEY_VAR) or None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m agents.serve", description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True, help="local model folder")
    parser.add_argument("--adapter", help="peft adapter folder to apply on top")
    parser.add_argument(
        "--host", default="127.0.0.1", help="bind address (default loopback: open to this machine only)"
    )
    parser.add_argument("--port", type=int, default=8000, help="0 picks a free port")
    parser.add_argument(
        "--api-key",
        help=f"require 'Authorization: Bearer KEY' on every request (default: ${API_KEY_VAR}, else none)",
    )
    parser.add_argument(
        "--prefix-cache", action="store_true", help="reuse the KV cache of shared prompt prefixes"
    )
    parser.add_argument("--device", help="e.g. cpu, cuda, cuda:1 (default: cuda when present)")
    parser.add_argument("--dtype", help="bfloat16, float16 or float32 (default: bf16 on CUDA, fp32 on CPU)")
    parser.add_argument("--no-4bit", action="store_true", help="on CUDA, load full weights instead of NF4")
    parser.add_argument("--max-batch", type=int, default=8, help="most concurrent requests per forward pass")
    parser.add_argument("--max-new-tokens", type=int, default=512, help="default when a request gives none")
    args = parser.parse_args(argv)
    api_key = api_key_from(args.api_key)

    import uvicorn

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
    try:
        sock = bind(args.host, args.port)
    except OSError as exc:
        backend.close()
        print(f"error: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 2
    host, port = sock.getsockname()[:2]
    app = make_app(backend, backend.name, api_key)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))
    print(f"promptless serve: {backend.name} listening on http://{host}:{port}/v1", flush=True)
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
        backend.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
