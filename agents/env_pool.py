"""Envs shared by the episodes that several threads play: an episode borrows an idle env or makes one.

Why a pool: making an env can be costly (an OS env starts a container), and an env is not thread-safe, so each
thread needs its own while it plays. An env that raised inside its own call is closed instead of reused: its
state is unknown. ``close`` closes every env the pool made, borrowed or not, so nothing outlives the pool.
The harness's executor (``harness.executors``) adds timeouts and abandoned threads on top of the same idea.

Example::

    with EnvPool(lambda: envs.make("shop", split="train")) as pool:
        env = pool.take()
        outcome = run_episode(env, agent, env_name="shop", task_id=task_id, seed=seed)
        pool.give_back(env, reusable=outcome.env_ok)
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import gymnasium as gym


class EnvPool:
    """Idle envs handed out to callers on any thread; thread-safe."""

    def __init__(self, make_env: Callable[[], gym.Env]):
        self.make_env = make_env
        self._idle: list[gym.Env] = []
        self._made: list[gym.Env] = []
        self._lock = threading.Lock()

    def take(self) -> gym.Env:
        """An idle env, or a new one when none is idle."""
        with self._lock:
            if self._idle:
                return self._idle.pop()
        env = self.make_env()
        with self._lock:
            self._made.append(env)
        return env

    def give_back(self, env: gym.Env, reusable: bool = True) -> None:
        """Return ``env`` for the next episode, or close it when ``reusable`` is False."""
        if reusable:
            with self._lock:
                self._idle.append(env)
            return
        with self._lock:
            self._made.remove(env)
        env.close()

    def close(self) -> None:
        """Close every env the pool made."""
        with self._lock:
            made, self._made, self._idle = self._made, [], []
        for env in made:
            env.close()

    def __enter__(self) -> EnvPool:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
