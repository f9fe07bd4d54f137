"""What an agent is: a function from an episode's state to its next reply, with the cost of that reply.

The runner owns the episode loop; an agent only answers. A prompted agent puts the env's fixed prompt in
front of the episode's own turns, a prompt-less one does not. The oracle alone calls ``state.oracle``.

Example::

    state = EpisodeState(env_name="shop", task_id="shop-test-0000", prompt=env.prompt_messages(),
                         messages=[{"role": "user", "content": first_observation}])
    reply = agent.reply(state)       # reply.text goes to env.step(); reply.usage to the episode's costs
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import Protocol, runtime_checkable

from agents.accounting import sum_flops
from envs.core import Message


@dataclass(frozen=True)
class Usage:
    """Cost of one or more model calls. Summing is field by field (``a + b``).

    ``flops`` is None when unknown (a server that does not report them); a sum with an unknown part is unknown.
    """

    calls: int = 0
    prompt_tokens: int = 0
    cached_tokens: int = 0  # prompt tokens served from a KV cache, not recomputed
    generated_tokens: int = 0
    wall_s: float = 0.0
    flops: float | None = 0.0

    def __add__(self, other: Usage) -> Usage:
        summed = {
            f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(self) if f.name != "flops"
        }
        return Usage(**summed, flops=sum_flops((self.flops, other.flops)))

    def as_dict(self) -> dict[str, float | None]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass(frozen=True)
class Reply:
    """An agent's reply text and what producing it cost."""

    text: str
    usage: Usage = field(default_factory=Usage)


@dataclass
class EpisodeState:
    """Everything an agent may see before its next turn.

    ``messages`` are the episode's own turns, starting with the env's first observation (role "user") and
    ending with the latest observation. ``prompt`` is the env's fixed prefix; whether it is used is the
    agent's business. ``oracle`` is privileged: it returns the scripted solution's next reply and is only
    set for the oracle agent.
    """

    env_name: str
    task_id: str
    prompt: list[Message]
    messages: list[Message]
    oracle: Callable[[], str] | None = None


@runtime_checkable
class Agent(Protocol):
    """Anything with a ``name`` and a ``reply``; back-ends may batch concurrent ``reply`` calls."""

    name: str

    def reply(self, state: EpisodeState) -> Reply: ...


#: The scripted agent's name: an agent of this name, or one with ``uses_oracle = True``, is given the task's
#: privileged solution by the rollout.
ORACLE = "oracle"


def uses_oracle(agent: Agent) -> bool:
    """Whether the rollout gives this agent the task's privileged solution (``EpisodeState.oracle``)."""
    return agent.name == ORACLE or bool(getattr(agent, "uses_oracle", False))
