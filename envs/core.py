"""The contract every promptless environment obeys, and the pieces they share.

An environment is a Gymnasium env whose observations and actions are text: the action is the agent's raw
reply, and the env parses it with its benchmark's own rules. Beyond Gymnasium's API each env offers:

- ``prompt_messages()``: the fixed conversation prefix (the AgentBench prompt, or another variant's);
  only prompted agents put it in front of the conversation;
- ``task_ids()``: the ids of the tasks of the env's split, in a fixed order; ``reset(options={"task_id": id})``
  starts that task, ``reset(seed=s)`` without options draws one from ``self.np_random``;
- ``oracle_reply()``: the scripted reply of an agent that reads the task's privileged solution. It proves that
  each task is solvable and makes training transcripts; it never stands in for a model's score.

Example::

    import gymnasium as gym
    import envs  # registers the promptless/* ids

    env = gym.make("promptless/WebShop-v0", split="test")
    obs, info = env.reset(options={"task_id": env.unwrapped.task_ids()[0]})
    obs, reward, terminated, truncated, info = env.step(env.unwrapped.oracle_reply())

An env whose rounds are independent queries sets ``independent_turns = True``: agents then see the fixed
prompt plus the latest observation only, as AgentBench does for web browsing.

``info`` keys shared by all envs: ``task_id`` (every call), ``action_valid`` and ``last_action_error`` (every
step; the error is "" when the action was valid) and, once the episode has ended, ``score`` (a float in
[0, 1]) plus the env's own metrics. No wall-clock timings go into ``info``: the runner measures those.
"""

from __future__ import annotations

import string
from abc import abstractmethod
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol, TypedDict, cast

import gymnasium as gym
import numpy as np

#: Default prompt variant: the prompt and action syntax of AgentBench v0.2.
AGENTBENCH = "agentbench"


class Message(TypedDict):
    """One chat turn; ``role`` is "user" or "assistant" (envs speak as the user)."""

    role: str
    content: str


class TextSpace(gym.Space[str]):
    """Any Python string up to ``max_length`` characters.

    Gymnasium's own ``Text`` space only admits a fixed charset, which real HTML, shell output and model
    replies break. Sampling draws short printable strings, which every env treats as an invalid action.
    """

    def __init__(self, max_length: int = 1_000_000, seed: int | np.random.Generator | None = None):
        super().__init__(shape=None, dtype=None, seed=seed)
        self.max_length = max_length

    def sample(self, mask: Any = None, probability: Any = None) -> str:
        alphabet = list(string.printable)
        length = int(self.np_random.integers(0, 64))
        return "".join(self.np_random.choice(alphabet, size=length))

    def contains(self, x: Any) -> bool:
        return isinstance(x, str) and len(x) <= self.max_length

    @property
    def is_np_flattenable(self) -> bool:
        return False

    def __repr__(self) -> str:
        return f"TextSpace(max_length={self.max_length})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TextSpace) and other.max_length == self.max_length


class TaskError(ValueError):
    """A task file or task record is malformed; the message names the file, the item and the field."""


class InvalidAction(ValueError):
    """A reply that holds no valid action under its variant's syntax; the message says what is wrong.

    Every env's parser raises this one error, so that code above the envs (the rollout, the agreement replay,
    the students' explainer) tells a malformed reply from a bug without knowing which env it talks to."""


class ReplySyntax(Protocol):
    """How one prompt variant writes actions: ``parse`` reads a reply (``InvalidAction`` when it holds no
    valid action) and ``render`` writes an action back, so that ``parse(render(a, t)) == a``."""

    @property
    def name(self) -> str:
        """The prompt variant this syntax belongs to."""
        ...

    def parse(self, reply: str) -> Any: ...

    def render(self, action: Any, thought: str) -> str: ...


def syntax_table(syntaxes: Iterable[ReplySyntax]) -> dict[str, ReplySyntax]:
    """Variant name -> syntax, the table an env's protocol module hands to its env class."""
    return {syntax.name: syntax for syntax in syntaxes}


def pick_syntax(table: Mapping[str, ReplySyntax], variant: str, env_name: str) -> ReplySyntax:
    """The syntax of ``variant`` in ``table``, with a clear error for an unknown variant."""
    try:
        return table[variant]
    except KeyError:
        raise ValueError(
            f"unknown prompt variant {variant!r} for env {env_name!r}; choose one of {list(table)}"
        ) from None


def parse_with(table: Mapping[str, ReplySyntax], reply: object, variant: str, env_name: str) -> Any:
    """Parse ``reply`` under ``variant``; a reply that is not a string is an invalid action, not a crash."""
    syntax = pick_syntax(table, variant, env_name)
    if not isinstance(reply, str):
        raise InvalidAction(f"a reply must be a string, got {type(reply).__name__}")
    return syntax.parse(reply)


@dataclass(frozen=True)
class Split:
    """A named, seeded slice of a generator: seeds ``[start, start + size)``, disjoint from other splits."""

    name: str
    start: int
    size: int

    def seeds(self, limit: int | None = None) -> range:
        n = self.size if limit is None else min(limit, self.size)
        return range(self.start, self.start + n)


#: Seed ranges shared by every generator, so that splits can never overlap. ``train`` is effectively
#: unbounded; ``dev`` and ``test`` are fixed (bump the env's version if their content changes).
SPLITS: dict[str, Split] = {
    "train": Split("train", 1_000_000, 1_000_000),
    "dev": Split("dev", 10_000, 50),
    "test": Split("test", 0, 100),
}


def get_split(name: str) -> Split:
    """Return the split called ``name``, with a clear error for an unknown one."""
    try:
        return SPLITS[name]
    except KeyError:
        raise ValueError(f"unknown split {name!r}; choose one of {sorted(SPLITS)}") from None


class TextEnv(gym.Env[str, str]):
    """Base class of the environments: text in, text out, one task per episode.

    Subclasses set ``env_name`` and ``prompt_variants`` (the first is the default, ``"agentbench"`` for the
    built-in envs), ``syntaxes`` (the reply syntax of each variant), and the generation limits that fit their
    reply format, and implement the abstract methods below. They call ``super().reset(seed=seed)`` first in
    ``reset`` and draw every random choice from ``self.np_random``.

    Everything above the envs asks the env class for what is specific to it (``parse_reply``,
    ``max_new_tokens``, ``stop_sequences``, ``max_turns``, ``independent_turns``), so that a user's own env
    gets every feature, students included, without a change elsewhere.
    """

    metadata: dict[str, Any] = {"render_modes": ["ansi"]}  # noqa: RUF012 (Gymnasium declares it so)
    env_name: ClassVar[str] = ""
    prompt_variants: ClassVar[tuple[str, ...]] = (AGENTBENCH,)
    #: True when each observation is a self-contained query that the agent answers without the episode's
    #: earlier turns (AgentBench's web browsing sends every round of choices as a fresh conversation). The
    #: runner then shows the agent only the latest observation.
    independent_turns: ClassVar[bool] = False
    #: Reply syntax of each prompt variant (see ``syntax_table``); empty: the env parses replies itself and
    #: ``parse_reply`` is unavailable.
    syntaxes: ClassVar[Mapping[str, ReplySyntax]] = {}
    #: Generation limits sized to the env's replies: ``stop_sequences`` end a reply where the model would
    #: start to write the env's next observation itself; ``max_new_tokens`` fits the longest valid reply.
    max_new_tokens: ClassVar[int] = 256
    stop_sequences: ClassVar[tuple[str, ...]] = ()
    #: The episode's turn limit, registered as Gymnasium's ``max_episode_steps``; None: the env ends its
    #: episodes itself.
    max_turns: ClassVar[int | None] = None

    @classmethod
    def turn_limit(cls) -> int | None:
        """The turn limit this env is registered with (Gymnasium's ``max_episode_steps``), else ``max_turns``.

        The registration is the one place that holds the number; the env's own round counting reads it here,
        so that its own end of episode and Gymnasium's ``TimeLimit`` agree."""
        for klass in cls.__mro__:
            entry_point = f"{klass.__module__}:{klass.__qualname__}"
            for spec in gym.registry.values():
                if spec.entry_point == entry_point and spec.max_episode_steps is not None:
                    return int(spec.max_episode_steps)
        return cls.max_turns

    @classmethod
    def parse_reply(cls, reply: object, variant: str = AGENTBENCH) -> Any:
        """The action ``reply`` names under ``variant``'s syntax; ``InvalidAction`` when it names none."""
        if not cls.syntaxes:
            raise NotImplementedError(f"env {cls.env_name!r} declares no reply syntaxes")
        return parse_with(cls.syntaxes, reply, variant, cls.env_name)

    def __init__(self, prompt_variant: str = AGENTBENCH, render_mode: str | None = None):
        if prompt_variant not in self.prompt_variants:
            raise ValueError(
                f"unknown prompt variant {prompt_variant!r} for env {self.env_name!r}; "
                f"choose one of {list(self.prompt_variants)}"
            )
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"unsupported render_mode {render_mode!r}")
        self.prompt_variant = prompt_variant
        self.render_mode = render_mode
        self.observation_space = TextSpace()
        self.action_space = TextSpace()

    @abstractmethod
    def prompt_messages(self) -> list[Message]:
        """The fixed conversation prefix of this env's protocol under ``self.prompt_variant``."""

    @abstractmethod
    def task_ids(self) -> list[str]:
        """Ids of the tasks this env instance can run, in a fixed order."""

    @abstractmethod
    def oracle_reply(self) -> str:
        """The next reply of the scripted agent that reads the current task's privileged solution."""

    def pick_task_id(self, options: dict[str, Any] | None) -> str:
        """Resolve ``options["task_id"]``, or draw a task from ``self.np_random`` when none is given."""
        ids = self.task_ids()
        if options and options.get("task_id") is not None:
            task_id = str(options["task_id"])
            if task_id not in self._task_id_set():
                raise ValueError(f"unknown task_id {task_id!r} for env {self.env_name!r}")
            return task_id
        if not ids:
            raise ValueError(f"env {self.env_name!r} has no tasks")
        return ids[int(self.np_random.integers(0, len(ids)))]

    def _task_id_set(self) -> frozenset[str]:
        cached = getattr(self, "_task_id_cache", None)
        if cached is None:
            cached = frozenset(self.task_ids())
            self._task_id_cache = cached
        return cached


def text_env(env: gym.Env) -> TextEnv:
    """The ``TextEnv`` under an env's Gymnasium wrappers (TimeLimit, order enforcing), typed as such: every
    env the harness makes is one, and its protocol methods live on the unwrapped object."""
    return cast(TextEnv, env.unwrapped)
