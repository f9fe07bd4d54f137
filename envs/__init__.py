"""The three promptless environments, registered with Gymnasium under the ``promptless/`` namespace.

Example::

    import gymnasium as gym
from gymnasium.envs.registration import load_env_creator
    import envs

    env = gym.make("promptless/OS-v0", split="test")

``make("os" | "web" | "shop", **kwargs)`` is the short form the harness uses. This package imports no ML
library: an env is usable and testable on its own.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gymnasium as gym
from gymnasium.envs.registration import load_env_creator

from envs.core import AGENTBENCH, SPLITS, InvalidAction, Message, TaskError, TextEnv, TextSpace, get_split

#: Short name -> (Gymnasium id, entry point, turn limit). The turn limit is written here only: the envs read
#: it back (``TextEnv.turn_limit``), and a test checks it against the AgentBench configs' round limits.
ENV_SPECS: dict[str, tuple[str, str, int | None]] = {
    "os": ("promptless/OS-v0", "envs.os_shell.env:OSEnv", 8),
    "web": ("promptless/WebBrowse-v0", "envs.web_browse.env:WebBrowseEnv", None),
    "shop": ("promptless/WebShop-v0", "envs.web_shop.env:WebShopEnv", 10),
}
ENV_NAMES: tuple[str, ...] = tuple(ENV_SPECS)

for _name, (_id, _entry, _limit) in ENV_SPECS.items():
    if _id not in gym.registry:
        gym.register(id=_id, entry_point=_entry, max_episode_steps=_limit, disable_env_checker=True)


def env_id(name: str) -> str:
    """Map a short name ("os", "web", "shop") or a full id to the registered Gymnasium id."""
    if name in ENV_SPECS:
        return ENV_SPECS[name][0]
    for short, (gym_id, _, _) in ENV_SPECS.items():
        if name == gym_id:
            return gym_id
        if name.lower() == short:
            return gym_id
    raise ValueError(f"unknown env {name!r}; choose one of {list(ENV_SPECS)}")


def env_class(name: str) -> type[TextEnv]:
    """The ``TextEnv`` subclass of env ``name``: a built-in short name, or any registered Gymnasium id (a
    user's env registers under ``promptless-extra/<name>``). Code above the envs asks it, never a table."""
    gym_id = env_id(name) if name in ENV_SPECS or name.startswith("promptless/") else name
    if gym_id not in gym.registry and f"promptless-extra/{name}" in gym.registry:
        gym_id = f"promptless-extra/{name}"
    if gym_id not in gym.registry:
        raise ValueError(f"unknown env {name!r}; choose one of {list(ENV_SPECS)} or register it first")
    entry_point = gym.spec(gym_id).entry_point
    cls = load_env_creator(entry_point) if isinstance(entry_point, str) else entry_point
    if not (isinstance(cls, type) and issubclass(cls, TextEnv)):
        raise ValueError(f"env {name!r} ({entry_point!r}) is not a TextEnv subclass")
    return cls


def reply_parser(name: str) -> Callable[[str, str], Any]:
    """``parse_reply(reply, variant)`` of env ``name``: a reply -> the action it names, equal by value to
    the oracle's; ``InvalidAction`` (a ``ValueError``) when the reply is not in the variant's format."""
    return env_class(name).parse_reply


def generation_defaults(name: str) -> dict[str, Any]:
    """``max_new_tokens`` and ``stop`` sized to env ``name``'s replies, as its class declares them."""
    cls = env_class(name)
    return {"max_new_tokens": cls.max_new_tokens, "stop": tuple(cls.stop_sequences)}


def make(name: str, **kwargs: Any) -> gym.Env:
    """Create an env by short name or id, e.g. ``make("shop", split="test")``."""
    return gym.make(env_id(name), **kwargs)


__all__ = [
    "AGENTBENCH",
    "ENV_NAMES",
    "ENV_SPECS",
    "SPLITS",
    "InvalidAction",
    "Message",
    "TaskError",
    "TextEnv",
    "TextSpace",
    "env_class",
    "env_id",
    "generation_defaults",
    "get_split",
    "make",
    "reply_parser",
]
