"""Envs shared by the episodes that several threads play: an episode borrows an idle env or makes one.

Why a pool: making an env can be costly (an OS env starts a container), and an env is not thread-safe, so each
thread needs its own while it plays. An env that raised inside its own call is closed instead of reused: its
state is unknown. ``close`` closes every env the pool made, borrowed or not, so nothing outlives the pool;
once closed, the pool closes every env handed back and refuses to hand out more. The harness's executor
(``harness.executors``) adds timeouts and abandoned threads on top of it.

Example::

    with EnvPool(lambda: envs.make("shop", split="train")) as pool:
        env = pool.take()
        outcome = run_episode(env, agent, env_name="shop", task_id=task_id, seed=seed)
        pool.give_back(env, reusable=outcome.env_ok)
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Callable, Iterable
from typing import Any

import gymnasium as gym


class PoolClosed(RuntimeError):
    """The pool was closed before an env could be handed out."""


def close_quietly(env: gym.Env | None) -> None:
    """Close ``env``, turning a failing close into a warning: it must not lose an episode's results."""
    if env is None:
        return
    try:
        env.close()
    except Exception as exc:
        warnings.warn(f"closing env failed: {type(exc).__name__}: {exc}", stacklevel=2)


class EnvPool:
    """Idle envs handed out to callers on any thread; thread-safe."""

    def __init__(self, make_env: Callable[[], gym.Env], envs: Iterable[gym.Env] = ()):
        self.make_env = make_env
        self._idle: list[gym.Env] = list(envs)  # ready-made envs, handed out before any is made
        self._made: list[gym.Env] = list(self._idle)
        self._lock = threading.Lock()
        self._closed = False

    def take(self) -> gym.Env:
        """An idle env, or a new one when none is idle; ``PoolClosed`` once the pool is closed."""
        with self._lock:
            if self._closed:
                raise PoolClosed("the env pool was closed")
            if self._idle:
                return self._idle.pop()
        env = self.make_env()
        with self._lock:
            if not self._closed:
                self._made.append(env)
                return env
        close_quietly(env)  # the pool closed while this env was made: nobody would close it later
        raise PoolClosed("the env pool was closed while an env was made")

    def give_back(self, env: gym.Env | None, reusable: bool = True) -> None:
        """Return ``env`` for the next episode, or close it when ``reusable`` is False or the pool closed."""
        if env is None:
            return
        with self._lock:
            if reusable and not self._closed:
                self._idle.append(env)
                return
            if env in self._made:
                self._made.remove(env)
        close_quietly(env)

    def borrowed(self) -> list[gym.Env]:
        """The envs handed out and not given back yet."""
        with self._lock:
            return [env for env in self._made if all(env is not idle for idle in self._idle)]

    def close(self) -> None:
        """Close every env the pool made, borrowed or idle; later ``take`` calls raise ``PoolClosed``."""
        with self._lock:
            self._closed = True
            made, self._made, self._idle = self._made, [], []
        for env in made:
            close_quietly(env)

    def __enter__(self) -> EnvPool:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
