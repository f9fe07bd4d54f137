"""The three promptless environments, registered with Gymnasium under the ``promptless/`` namespace.

Example::

    import gymnasium as gym
    import envs

    env = gym.make("promptless/OS-v0", split="test")

``make("os" | "web" | "shop", **kwargs)`` is the short form the harness uses. This package imports no ML
library: an env is usable and testable on its own.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

import gymnasium as gym

from envs.core import AGENTBENCH, SPLITS, Message, TaskError, TextEnv, TextSpace, get_split

#: Short name -> (Gymnasium id, entry point, turn limit).
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


def reply_parser(name: str) -> Callable[[str, str], Any]:
    """The ``parse_reply(reply, variant)`` of env ``name``'s protocol module: a reply -> the action it
    names, equal by value to the oracle's; ``ValueError`` when the reply is not in the variant's format.

    Why: tools that judge replies outside an episode (``train.probe``) need each env's parser without a
    second map of env names to modules; every env package keeps its parser in ``<package>.protocol``."""
    entry_point = str(gym.spec(env_id(name)).entry_point)  # "envs.os_shell.env:OSEnv"
    package = entry_point.split(":")[0].rsplit(".", 1)[0]
    return importlib.import_module(f"{package}.protocol").parse_reply


def make(name: str, **kwargs: Any) -> gym.Env:
    """Create an env by short name or id, e.g. ``make("shop", split="test")``."""
    return gym.make(env_id(name), **kwargs)


__all__ = [
    "AGENTBENCH",
    "ENV_NAMES",
    "ENV_SPECS",
    "SPLITS",
    "Message",
    "TaskError",
    "TextEnv",
    "TextSpace",
    "env_id",
    "get_split",
    "make",
    "reply_parser",
]
