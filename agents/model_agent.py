"""An agent that asks a model back-end for its reply, with or without the env's fixed prompt.

The teacher is ``ModelAgent(use_prompt=True)``; the prompt-less baseline and every trained student are
``use_prompt=False`` (a student's knowledge of the prompt lives in its adapter). Generation limits default
to what the env declares (``max_new_tokens`` and ``stop_sequences`` on its ``TextEnv`` class, through
``generation_for``): each is sized to the env's reply format, and its stop strings end a reply where the
model would start to invent the env's next observation.

Example::

    agent = ModelAgent("teacher", backend, use_prompt=True, **generation_for("shop"))
    reply = agent.reply(state)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from agents.backends.base import Backend
from agents.base import EpisodeState, Reply

#: For an env that no registry can name: a generous limit and no stop string.
FALLBACK_GENERATION: dict[str, Any] = {"max_new_tokens": 256, "stop": ()}


def generation_for(env_name: str) -> dict[str, Any]:
    """``max_new_tokens`` and ``stop`` as env ``env_name`` declares them (``envs.generation_defaults``)."""
    import envs

    try:
        return envs.generation_defaults(env_name)
    except ValueError:
        return dict(FALLBACK_GENERATION)


class ModelAgent:
    """Builds the message list (the env's prompt first when ``use_prompt``), calls the back-end, replies."""

    def __init__(
        self,
        name: str,
        backend: Backend,
        use_prompt: bool,
        max_new_tokens: int = 256,
        stop: Sequence[str] = (),
    ):
        if max_new_tokens < 1:
            raise ValueError(f"max_new_tokens must be >= 1, got {max_new_tokens}")
        if isinstance(stop, str):
            raise TypeError("stop must be a sequence of strings, not a string")
        self.name = name
        self.backend = backend
        self.use_prompt = use_prompt
        self.max_new_tokens = max_new_tokens
        self.stop = tuple(stop)

    def messages(self, state: EpisodeState) -> list[dict[str, str]]:
        """What the model sees: the prompt (when used) followed by the episode's own turns."""
        if not state.messages:
            raise ValueError(
                f"episode {state.task_id!r} has no messages yet; the first observation comes first"
            )
        if state.messages[-1]["role"] != "user":
            raise ValueError(
                f"episode {state.task_id!r} must end with an observation (role 'user') to reply to"
            )
        prefix = list(state.prompt) if self.use_prompt else []
        return [{"role": m["role"], "content": m["content"]} for m in prefix + list(state.messages)]

    def reply(self, state: EpisodeState) -> Reply:
        messages = self.messages(state)  # validated before any model time is spent
        completion = self.backend.generate(
            messages,  # type: ignore[arg-type]
            max_new_tokens=self.max_new_tokens,
            stop=list(self.stop),
        )
        return Reply(text=completion.text, usage=completion.usage)

    def __repr__(self) -> str:
        return f"ModelAgent(name={self.name!r}, use_prompt={self.use_prompt}, backend={self.backend!r})"
