"""Any OpenAI-compatible ``/v1/chat/completions`` server as a back-end (vLLM, llama.cpp server, Ollama, ours).

Requests are greedy (``temperature: 0``) unless a ``temperature`` is given, and pass ``stop`` through. The API
key is ``api_key``, else the ``OPENAI_API_KEY`` environment variable (as OpenAI's own clients read it), else
none. Each attempt has a total deadline of
``timeout`` seconds, from connecting to the last byte of the answer: a server that trickles bytes cannot hold
a call longer (a per-read timeout would restart at every byte). Connection errors, timeouts, HTTP 429 and
5xx answers are retried ``retries`` times with exponential back-off (``backoff_s``, doubled each try; a
429's ``Retry-After`` is honoured up to 30 s); any other 4xx fails at once with the server's message.

Usage comes from the response: ``usage.prompt_tokens``, ``usage.completion_tokens`` and
``usage.prompt_tokens_details.cached_tokens`` (0 when absent). A usage that cannot be read (not an object,
counts that are not non-negative integers) does not cost the reply: the reply is kept and its token counts
are recorded as unknown, that is 0, like the FLOPs of a foreign server, with a warning in the log.
``wall_s`` is measured here (the network included). FLOPs come, in this order, from the ``x_promptless.flops`` extension that ``python -m agents.serve``
adds to its responses, from ``model_dims`` given by the user (``agents.accounting.call_flops``), else are
reported as 0.0: a foreign server's FLOPs are unknown unless you describe its model.

Example::

    backend = OpenAIBackend("http://127.0.0.1:8000")            # "/v1" is appended when missing
    completion = backend.generate(messages, max_new_tokens=96, stop=["\\nObservation:"])
"""

from __future__ import annotations

import asyncio
import logging
import math
import os
import threading
import time
from collections.abc import Coroutine, Sequence
from typing import Any, TypeVar

import httpx

from agents.accounting import ModelDims, call_flops
from agents.backends.base import FINISH_REASONS, BackendError, Completion, normalize_base_url
from agents.base import Usage
from envs.core import Message

_RETRY_STATUS = frozenset({429, 500, 502, 503, 504})
_MAX_RETRY_AFTER_S = 30.0
_log = logging.getLogger(__name__)
_T = TypeVar("_T")


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


class OpenAIBackend:
    """A chat-completions endpoint behind the ``Backend`` protocol; thread-safe (one pooled HTTP client)."""

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
        backoff_s: float = 0.5,
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
        if api_key is None:
            api_key = os.environ.get("OPENAI_API_KEY") or None
        self.timeout = float(timeout)
        self.retries = retries
        self.backoff_s = backoff_s
        self.model_dims = model_dims
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        # httpx's own timeout bounds each read; the deadline in _send bounds the whole attempt.
        self._client = httpx.AsyncClient(timeout=self.timeout, headers=headers)
        self._closed = False
        self._model = model
        self._model_lock = threading.Lock()
        self._warned_usage = False

    @property
    def model(self) -> str:
        """The served model's id: as given, else the first one the server lists at ``/v1/models``."""
        with self._model_lock:
            if self._model is None:
                listing = self._request("GET", "/models")
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
        data = self._request("POST", "/chat/completions", json=body)
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
                flops=flops or 0.0,
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
                "as unknown (0)",
                self.base_url,
                usage,
            )

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            _LOOP.run(self._client.aclose())

    async def _attempt(self, method: str, url: str, kwargs: dict[str, Any]) -> httpx.Response:
        return await asyncio.wait_for(self._client.request(method, url, **kwargs), self.timeout)

    def _send(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        """One attempt, from connecting to the answer's last byte, given up after ``timeout`` seconds."""
        if self._closed:
            raise BackendError(f"the back-end for {self.base_url} is closed")
        try:
            return _LOOP.run(self._attempt(method, url, kwargs))
        except asyncio.TimeoutError:  # the deadline; httpx's own timeouts are TransportErrors
            raise httpx.TimeoutException(f"no complete answer within {self.timeout:g} s") from None

    def _request(self, method: str, path: str, **kwargs: Any) -> Any:
        url = self.base_url + path
        attempts = self.retries + 1
        last = ""
        for attempt in range(attempts):
            wait = self.backoff_s * 2**attempt
            try:
                response = self._send(method, url, **kwargs)
            except httpx.TransportError as exc:  # connection refused/reset, timeouts
                last = f"{type(exc).__name__}: {exc}"
            else:
                if response.status_code < 400:
                    try:
                        return response.json()
                    except ValueError:
                        raise BackendError(
                            f"{method} {url} answered non-JSON: {response.text[:200]!r}"
                        ) from None
                last = f"HTTP {response.status_code}: {_error_message(response)}"
                if response.status_code not in _RETRY_STATUS:
                    raise BackendError(f"{method} {url} failed: {last}")
                retry_after = response.headers.get("retry-after")
                if response.status_code == 429 and retry_after:
                    try:
                        wait = min(float(retry_after), _MAX_RETRY_AFTER_S)
                    except ValueError:
                        pass  # an HTTP-date: keep the exponential wait
            if attempt + 1 < attempts:
                time.sleep(wait)
        raise BackendError(f"{method} {url} failed after {attempts} attempts; last error: {last}")


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


def _error_message(response: httpx.Response) -> str:
    try:
        data = response.json()
    except ValueError:
        return response.text[:200]
    error = data.get("error") if isinstance(data, dict) else None
    if isinstance(error, dict):
        return str(error.get("message", error))
    return str(error if error is not None else data)[:200]
