"""Which envs and agents the harness can run: the built-in ones, plus users' own named in env vars.

Built-in envs come from ``envs`` (``os``, ``web``, ``shop``), built-in agents from ``agents.registry``.
A user adds their own without touching the package::

    PROMPTLESS_EXTRA_ENVS="mypkg.envs:MazeEnv"            # name = MazeEnv.env_name
    PROMPTLESS_EXTRA_AGENTS="greedy=mypkg.agents:Greedy"  # name given explicitly
    python -m harness.run --agent greedy --env maze

An extra env is a ``envs.core.TextEnv`` subclass whose constructor takes ``split`` and, when given,
``tasks_file``, ``scripts_dir`` and ``limit``; an optional class attribute ``max_turns`` is its turn limit.
An extra agent is any callable ``factory(env_name=..., model=..., adapter=..., **options) -> Agent``
(a class works). An agent reads the task's privileged solution only if it is called ``oracle`` or sets
``uses_oracle = True``.

Factories are frozen dataclasses so that Ray can ship them to its workers, which build their own envs
and agents from them.
"""

from __future__ import annotations

import importlib
import os
from dataclasses import dataclass
from typing import Any

import gymnasium as gym

import envs
from agents.base import Agent
from envs import lazy
from envs.lazy import did_you_mean

EXTRA_ENVS_VAR = "PROMPTLESS_EXTRA_ENVS"
EXTRA_AGENTS_VAR = "PROMPTLESS_EXTRA_AGENTS"


class UsageError(Exception):
    """Bad input from the user: the CLI prints the message as one line and exits with status 2."""


def load_object(target: str) -> Any:
    """``envs.lazy.load_object``, its failure a one-line usage error (the CLI exits with status 2)."""
    try:
        return lazy.load_object(target)
    except lazy.TargetError as exc:
        raise UsageError(str(exc)) from None


def _parse_entry_points(var: str, name_attr: str) -> dict[str, str]:
    """Parse ``[name=]module:attr`` items, comma-separated; a missing name is read from the object."""
    found: dict[str, str] = {}
    for item in os.environ.get(var, "").split(","):
        item = item.strip()
        if not item:
            continue
        name, sep, target = item.partition("=")
        if not sep:
            target = item
            name = str(getattr(load_object(target), name_attr, "") or "")
            if not name:
                raise UsageError(f"{var}: {target!r} has no {name_attr!r}; write it as 'name={target}'")
        found[name.strip()] = target.strip()
    return found


def extra_envs() -> dict[str, str]:
    """Users' envs from ``PROMPTLESS_EXTRA_ENVS``: name -> ``module:Class``."""
    return _parse_entry_points(EXTRA_ENVS_VAR, "env_name")


def extra_agents() -> dict[str, str]:
    """Users' agents from ``PROMPTLESS_EXTRA_AGENTS``: name -> ``module:factory``."""
    return _parse_entry_points(EXTRA_AGENTS_VAR, "name")


def env_names() -> list[str]:
    """Every env the harness can run: the built-in three first, then users' own."""
    return [*envs.ENV_NAMES, *(name for name in extra_envs() if name not in envs.ENV_NAMES)]


def registry_agents() -> list[tuple[str, str]]:
    """``(name, description)`` of the built-in agents; a clear error if ``agents.registry`` is missing."""
    return _registry().list_agents()


def _registry() -> Any:
    try:
        return importlib.import_module("agents.registry")
    except ModuleNotFoundError as exc:
        if exc.name in ("agents.registry", "agents"):
            raise UsageError(
                "the agents registry (agents/registry.py) is not installed; only agents named in "
                f"{EXTRA_AGENTS_VAR} can run"
            ) from None
        raise


def agent_names() -> list[str]:
    """Every agent name the harness knows: built-in (when the registry exists) and users' own."""
    names = list(extra_agents())
    try:
        names += [name for name, _ in registry_agents() if name not in names]
    except UsageError:
        pass  # no registry yet: only the extras exist
    return names


@dataclass(frozen=True)
class EnvFactory:
    """Builds one instance of an env; picklable, hashable (a Ray worker caches its instances by it)."""

    name: str
    kwargs: tuple[tuple[str, Any], ...] = ()
    entry_point: str | None = None  # "module:Class" for a user's env; None for a built-in one

    def __call__(self) -> gym.Env:
        kwargs = dict(self.kwargs)
        if self.entry_point is None:
            return envs.make(self.name, **kwargs)
        return gym.make(register_extra_env(self.name, self.entry_point), **kwargs)


def register_extra_env(name: str, entry_point: str) -> str:
    """Register a user's env with Gymnasium as ``promptless-extra/<name>`` (its ``max_turns`` as the turn
    limit) and return the id, so that everything that asks the env class (``envs.env_class``: its parser,
    generation limits, turn limit) finds it as it finds a built-in one."""
    gym_id = f"promptless-extra/{name}"
    if gym_id not in gym.registry:
        cls = load_object(entry_point)
        gym.register(
            id=gym_id,
            entry_point=entry_point,
            max_episode_steps=getattr(cls, "max_turns", None),
            disable_env_checker=True,
        )
    return gym_id


def env_factory(name: str, **kwargs: Any) -> EnvFactory:
    """The factory of env ``name`` (built-in or extra); keyword arguments that are None are left out."""
    names = env_names()
    if name not in names:
        raise UsageError(f"unknown env {name!r}{did_you_mean(name, names)}; choose from {names}")
    given = tuple(sorted((k, v) for k, v in kwargs.items() if v is not None))
    entry = None if name in envs.ENV_NAMES else extra_envs()[name]
    return EnvFactory(name=name, kwargs=given, entry_point=entry)


@dataclass(frozen=True)
class AgentFactory:
    """Builds the agent for one env; picklable, hashable (a Ray worker caches its agent by it)."""

    name: str
    env_name: str
    model: str | None = None
    adapter: str | None = None
    entry_point: str | None = None  # "module:factory" for a user's agent; None for a built-in one
    options: tuple[tuple[str, Any], ...] = ()

    def __call__(self) -> Agent:
        kwargs: dict[str, Any] = dict(self.options)
        extra = extra_envs().get(self.env_name)
        if extra is not None:  # the agent asks its env class for its generation limits
            register_extra_env(self.env_name, extra)
        if self.entry_point is None:
            make = _registry().make_agent
            agent = make(self.name, env_name=self.env_name, model=self.model, adapter=self.adapter, **kwargs)
        else:
            make = load_object(self.entry_point)
            agent = make(env_name=self.env_name, model=self.model, adapter=self.adapter, **kwargs)
        if not isinstance(agent, Agent):
            raise TypeError(f"agent factory for {self.name!r} returned {type(agent).__name__}, not an Agent")
        return agent


def agent_factory(
    name: str, *, env_name: str, model: str | None = None, adapter: str | None = None, **options: Any
) -> AgentFactory:
    """The factory of agent ``name`` for env ``env_name`` (users' agents shadow built-in ones)."""
    extras = extra_agents()
    if name not in extras:
        try:
            known = [n for n, _ in registry_agents()]
        except UsageError as missing:
            raise UsageError(f"unknown agent {name!r}{did_you_mean(name, extras)}: {missing}") from None
        if name not in known:
            choices = sorted({*known, *extras})
            raise UsageError(f"unknown agent {name!r}{did_you_mean(name, choices)}; choose from {choices}")
    return AgentFactory(
        name=name,
        env_name=env_name,
        model=model,
        adapter=adapter,
        entry_point=extras.get(name),
        options=tuple(sorted(options.items())),
    )


def is_extra_agent(name: str) -> bool:
    """Whether ``name`` is a user's agent (the runner then resolves no default model for it)."""
    return name in extra_agents()
