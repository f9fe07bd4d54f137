"""What a model back-end is: chat messages in, one completion with its cost out.

Back-ends are interchangeable behind this protocol: a local Hugging Face model (``agents.backends.hf``) or any
OpenAI-compatible server (``agents.backends.openai_compat``). They are thread-safe; a back-end may batch calls
that arrive concurrently from several episodes.

Example::

    completion = backend.generate([{"role": "user", "content": "ls"}], max_new_tokens=64, stop=["\\n\\n"])
    print(completion.text, completion.usage.flops)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from agents.base import Usage
from envs.core import Message

#: Why generation ended: "stop" (a stop string or the end-of-turn token) or "length" (the token limit).
FINISH_REASONS = ("stop", "length")


class BackendError(RuntimeError):
    """A back-end could not produce a completion (server unreachable, bad answer, model error)."""


@dataclass(frozen=True)
class Completion:
    """The generated text (cut before the first stop string) and the call's cost."""

    text: str
    usage: Usage
    finish_reason: str = "stop"


@runtime_checkable
class Backend(Protocol):
    """Anything that turns chat messages into a completion. ``stop`` strings are not part of the text."""

    def generate(self, messages: list[Message], *, max_new_tokens: int, stop: list[str]) -> Completion: ...


def normalize_base_url(url: str) -> str:
    """The one spelling of an OpenAI-compatible server's base URL: ``http://h:8000``, ``http://h:8000/``,
    ``http://h:8000/v1/`` and ``.../v1/chat/completions`` all become ``http://h:8000/v1``.

    Why: the same server written two ways must be the same model for resuming a run and for the leaderboard.
    """
    if not url.startswith(("http://", "https://")):
        raise ValueError(f"a server URL must start with http:// or https://, got {url!r}")
    url = url.rstrip("/")
    for suffix in ("/chat/completions", "/completions"):
        if url.endswith(suffix):
            url = url[: -len(suffix)].rstrip("/")
    return url if url.endswith("/v1") else url + "/v1"


def cut_at_stop(text: str, stop: list[str]) -> tuple[str, bool]:
    """Cut ``text`` before the earliest occurrence of any stop string; say whether one was found."""
    cut = min((i for i in (text.find(s) for s in stop if s) if i >= 0), default=-1)
    return (text[:cut], True) if cut >= 0 else (text, False)
