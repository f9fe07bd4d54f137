"""Any OpenAI-compatible ``/v1/chat/completions`` server as a back-end (vLLM, llama.cpp server, Ollama, ours),
called through the official ``openai`` SDK.

The SDK does the retries and reads the key: connection errors, timeouts, HTTP 408, 409, 429 and 5xx answers
are retried ``retries`` times with its exponential back-off (0.5 s doubled each try, at most 8 s, with
jitter), a ``Retry-After`` (or ``retry-after-ms``) of up to 120 s is honoured instead, and a longer one is not
retried; any other 4xx fails at once with the server's message. The API key is ``api_key``, else the
``OPENAI_API_KEY`` environment variable, else none (no ``Authorization`` header: local servers need none).

What is added around the SDK, and why:

- Each attempt has a total deadline of ``timeout`` seconds, from connecting to the last byte of the answer.
  The SDK's (httpx's) timeout bounds each read and restarts at every byte, so a server that trickles bytes
  could hold a call for ever; a transport under the SDK's client reads the whole answer within the deadline.
- Calls are synchronous and thread-safe: one ``AsyncOpenAI`` client (one connection pool) runs on a shared
  event loop in a daemon thread, since only an async request can be cancelled at a deadline wherever it is.
- The answer is read as JSON, not through the SDK's types, so that usage that a server writes oddly and the
  ``x_promptless`` extension are both read.

Requests are greedy (``temperature: 0``) unless a ``temperature`` is given, and pass ``stop`` through. Usage
comes from the response: ``usage.prompt_tokens``, ``usage.completion_tokens`` and
``usage.prompt_tokens_details.cached_tokens`` (0 when absent). A usage that cannot be read (not an object,
counts that are not non-negative integers) does not cost the reply: the reply is kept and its token counts
are recorded as 0, with a warning in the log. ``wall_s`` is measured here (the network included). FLOPs come,
in this order, from the ``x_promptless.flops`` extension that ``python -m agents.serve`` adds to its
responses, from ``model_dims`` given by the user (``agents.accounting.call_flops``), else are unknown
(``None``): a foreign server's FLOPs are never reported as 0.

Example::

    backend = OpenAIBackend("http://127.0.0.1:8000")            # "/v1" is appended when missing
    completion = backend.generate(messages, max_new_tokens=96, stop=["\\nObservation:"])
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import math
import os
import threading
import time
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import Any, TypeVar

import httpx
import openai

from agents.accounting import ModelDims, call_flops
from agents.backends.base import FINISH_REASONS, BackendError, Completion, normalize_base_url
from agents.base import Usage
from envs.core import Message

_log = logging.getLogger(__name__)
_T = TypeVar("_T")
# Attempts made by the call running in this task: the SDK retries inside one call and does not say how often.
_ATTEMPTS: contextvars.ContextVar[list[int]] = contextvars.ContextVar("openai_backend_attempts")


class _EventLoop:
    """One event loop in a daemon thread, shared by every back-end of the process.

    Why: only an async request can be cancelled at a deadline wherever it is (connecting, waiting for
    headers, reading a body byte by byte); callers stay synchronous and thread-safe by handing their
    coroutines to this loop.
    """

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock = threading.Lock()

    def _get(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                threading.Thread(target=loop.run_forever, name="openai-backend-loop", daemon=True).start()
                self._loop = loop
            return self._loop

    def run(self, coroutine: Coroutine[Any, Any, _T]) -> _T:
        """Run ``coroutine`` on the loop and wait for its result in the calling thread."""
        return asyncio.run_coroutine_threadsafe(coroutine, self._get()).result()


_LOOP = _EventLoop()


class _DeadlineTransport(httpx.AsyncBaseTransport):
    """An HTTP transport that reads each whole answer within ``deadline_s`` or raises a timeout.

    The SDK sees a timeout like any other (and retries it); the answer it gets is already in memory.
    """

    def __init__(self, deadline_s: float):
        self.deadline_s = deadline_s
        self._inner = httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        attempts = _ATTEMPTS.get(None)
        if attempts is not None:
            attempts[0] += 1
        try:
            return await asyncio.wait_for(self._whole(request), self.deadline_s)
        except asyncio.TimeoutError:
            raise httpx.TimeoutException(
                f"no complete answer within {self.deadline_s:g} s", request=request
            ) from None

    async def _whole(self, request: httpx.Request) -> httpx.Response:
        response = await self._inner.handle_async_request(request)
        try:
            raw = b"".join([chunk async for chunk in response.stream])  # type: ignore[union-attr]
        finally:
            await response.aclose()
        # The raw bytes with the original headers: the client still decodes any content encoding.
        return httpx.Response(
            response.status_code, headers=response.headers, content=raw, extensions=response.extensions
        )

    async def aclose(self) -> None:
        await self._inner.aclose()


class OpenAIBackend:
    """A chat-completions endpoint behind the ``Backend`` protocol; thread-safe (one pooled SDK client)."""

    def __init__(
        self,
        base_url: str,
        model: str | None = None,
        api_key: str | None = None,
        timeout: float = 60,
        retries: int = 3,
        temperature: float = 0.0,
        *,
        model_dims: ModelDims | None = None,
    ):
        if not base_url.startswith(("http://", "https://")):
            raise ValueError(f"base_url must be an http(s) URL, got {base_url!r}")
        if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
            raise ValueError(f"retries must be an integer >= 0, got {retries!r}")
        if not isinstance(timeout, (int, float)) or not math.isfinite(timeout) or timeout <= 0:
            raise ValueError(f"timeout must be a finite number of seconds > 0, got {timeout!r}")
        if not isinstance(temperature, (int, float)) or not math.isfinite(temperature) or temperature < 0:
            raise ValueError(f"temperature must be a finite number >= 0 (0 is greedy), got {temperature!r}")
        self.base_url = normalize_base_url(base_url)
        self.temperature = float(temperature)
        self.timeout = float(timeout)
        self.retries = retries
        self.model_dims = model_dims
        if api_key is None:
            api_key = os.environ.get("OPENAI_API_KEY") or None
        # httpx's timeout bounds each read; the transport's deadline bounds the whole attempt.
        http_client = httpx.AsyncClient(transport=_DeadlineTransport(self.timeout), timeout=self.timeout)
        self._client = openai.AsyncOpenAI(
            base_url=self.base_url,
            api_key=api_key or "unused",  # without a key: never sent, each request omits the header
            timeout=self.timeout,
            max_retries=retries,
            http_client=http_client,  # type: ignore[arg-type]
        )
        self._headers: dict[str, Any] = {} if api_key else {"Authorization": openai.Omit()}
        self._closed = False
        self._model = model
        self._model_lock = threading.Lock()
        self._warned_usage = False

    @property
    def model(self) -> str:
        """The served model's id: as given, else the first one the server lists at ``/v1/models``."""
        with self._model_lock:
            if self._model is None:
                listing = self._request(
                    "GET",
                    "/models",
                    lambda: self._client.models.with_raw_response.list(extra_headers=self._headers),
                )
                try:
                    self._model = str(listing["data"][0]["id"])
                except (KeyError, IndexError, TypeError):
                    raise BackendError(f"{self.base_url}/models lists no model: {listing!r}") from None
            return self._model

    @property
    def name(self) -> str:
        return self.model

    def generate(
        self, messages: list[Message], *, max_new_tokens: int, stop: Sequence[str] = ()
    ) -> Completion:
        if isinstance(stop, str):
            raise TypeError("stop must be a list of strings, not a string")
        body: dict[str, Any] = {
            "model": self.model,
            "messages": [{"role": m["role"], "content": m["content"]} for m in messages],
            "max_tokens": max_new_tokens,
            "temperature": self.temperature,
        }
        stops = [s for s in stop if s]
        if stops:
            body["stop"] = stops
        started = time.monotonic()
        data = self._request(
            "POST",
            "/chat/completions",
            lambda: self._client.chat.completions.with_raw_response.create(
                **body, extra_headers=self._headers
            ),
        )
        wall_s = time.monotonic() - started
        choice, text = self._choice(data)
        counts = _usage_counts(data.get("usage"))
        if counts is None:
            self._warn_usage(data.get("usage"))
            counts = (0, 0, 0)
        prompt_tokens, generated, cached = counts
        flops = _extension_flops(data.get("x_promptless"))
        if flops is None and self.model_dims is not None:
            flops = call_flops(
                self.model_dims,
                prompt_tokens=prompt_tokens,
                cached_tokens=min(cached, prompt_tokens),
                generated_tokens=generated,
            )
        reason = choice.get("finish_reason")
        return Completion(
            text=text,
            usage=Usage(
                calls=1,
                prompt_tokens=prompt_tokens,
                cached_tokens=cached,
                generated_tokens=generated,
                wall_s=wall_s,
                flops=flops,
            ),
            finish_reason=reason if reason in FINISH_REASONS else "stop",
        )

    def _choice(self, data: Any) -> tuple[dict[str, Any], str]:
        """The first choice and its text; a BackendError when the answer holds no usable reply."""
        try:
            choice = data["choices"][0]
            text = choice["message"]["content"] or ""
        except (KeyError, IndexError, TypeError) as exc:
            raise BackendError(
                f"malformed chat completion from {self.base_url}: {exc!r} in {data!r}"
            ) from None
        if not isinstance(text, str):
            raise BackendError(
                f"malformed chat completion from {self.base_url}: the content is a "
                f"{type(text).__name__}, not a string, in {data!r}"
            )
        return choice, text

    def _warn_usage(self, usage: Any) -> None:
        if not self._warned_usage:  # once per back-end: a server that sends it once sends it every time
            self._warned_usage = True
            _log.warning(
                "%s sent a usage that cannot be read (%.200r): token counts of such replies are recorded "
                "as 0",
                self.base_url,
                usage,
            )

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            _LOOP.run(self._client.close())

    def _request(self, method: str, path: str, call: Callable[[], Awaitable[Any]]) -> Any:
        """The JSON answer of one SDK call (with the SDK's retries); a BackendError that names the last
        error and the number of attempts otherwise."""
        what = f"{method} {self.base_url}{path}"
        if self._closed:
            raise BackendError(f"the back-end for {self.base_url} is closed")

        async def attempt() -> tuple[Any, int]:
            attempts = [0]
            _ATTEMPTS.set(attempts)  # this coroutine runs as its own task: the counter is this call's
            try:
                return await call(), attempts[0]
            except openai.OpenAIError as exc:
                return exc, attempts[0]

        outcome, attempts = _LOOP.run(attempt())
        if isinstance(outcome, openai.OpenAIError):
            last = _describe(outcome)
            if _retried(outcome):
                raise BackendError(f"{what} failed after {attempts} attempts; last error: {last}") from None
            raise BackendError(f"{what} failed: {last}") from None
        try:
            return outcome.http_response.json()
        except ValueError:
            raise BackendError(f"{what} answered non-JSON: {outcome.text[:200]!r}") from None


def _retried(exc: openai.OpenAIError) -> bool:
    """Whether the SDK retries this kind of error (so that the attempts are worth naming)."""
    if isinstance(exc, openai.APIStatusError):
        return exc.status_code in (408, 409, 429) or exc.status_code >= 500
    return isinstance(exc, openai.APIConnectionError)  # APITimeoutError is one too


def _describe(exc: openai.OpenAIError) -> str:
    """The server's status and message, or the network error under the SDK's own."""
    if isinstance(exc, openai.APIStatusError):
        return f"HTTP {exc.status_code}: {_error_message(exc.response)}"
    cause = exc.__cause__
    if cause is not None:
        return f"{type(cause).__name__}: {cause}"
    return f"{type(exc).__name__}: {exc}"


def _count(value: Any) -> int | None:
    """A token count as servers write it (a number, or a numeric string); None when it is not one."""
    if value is None:
        return 0
    if isinstance(value, bool):
        return None
    try:
        count = int(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return count if count >= 0 else None


def _usage_counts(usage: Any) -> tuple[int, int, int] | None:
    """(prompt, completion, cached) tokens of a usage object; None when it cannot be read."""
    if not usage:
        return 0, 0, 0
    if not isinstance(usage, dict):
        return None
    details = usage.get("prompt_tokens_details") or {}
    if not isinstance(details, dict):
        return None
    counts = (
        _count(usage.get("prompt_tokens")),
        _count(usage.get("completion_tokens")),
        _count(details.get("cached_tokens")),
    )
    if any(c is None for c in counts):
        return None
    return counts  # type: ignore[return-value]


def _extension_flops(extension: Any) -> float | None:
    """FLOPs from our server's ``x_promptless`` extension; None when absent or not a finite number."""
    if not isinstance(extension, dict) or "flops" not in extension:
        return None
    try:
        flops = float(extension["flops"])
    except (TypeError, ValueError, OverflowError):
        return None
    return flops if math.isfinite(flops) and flops >= 0 else None


def _error_message(response: Any) -> str:
    try:
        data = response.json()
    except ValueError:
        return str(response.text)[:200]
    error = data.get("error") if isinstance(data, dict) else None
    if isinstance(error, dict):
        return str(error.get("message", error))
    return str(error if error is not None else data)[:200]
