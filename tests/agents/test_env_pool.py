"""EnvPool: reuse of idle envs, closing of broken ones, and nothing left open after close()."""

from __future__ import annotations

import threading
from typing import Any

import gymnasium as gym

from agents.env_pool import EnvPool


class CountingEnv(gym.Env):
    """A minimal env whose close() is observable."""

    made = 0

    def __init__(self) -> None:
        CountingEnv.made += 1
        self.closed = False

    def close(self) -> None:
        self.closed = True


def test_an_idle_env_is_reused_and_a_broken_one_closed() -> None:
    pool = EnvPool(CountingEnv)
    first = pool.take()
    pool.give_back(first)
    assert pool.take() is first  # idle: reused, not made again
    pool.give_back(first, reusable=False)
    assert first.closed  # type: ignore[attr-defined]
    second = pool.take()
    assert second is not first
    pool.close()
    assert second.closed  # type: ignore[attr-defined]


def test_threads_get_their_own_envs_and_close_reaches_borrowed_ones() -> None:
    pool = EnvPool(CountingEnv)
    taken: list[Any] = []
    barrier = threading.Barrier(3)

    def borrow() -> None:
        env = pool.take()
        taken.append(env)
        barrier.wait()  # all three hold an env at once

    threads = [threading.Thread(target=borrow) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({id(env) for env in taken}) == 3
    with pool:
        pass  # never given back: close() must still reach them
    assert all(env.closed for env in taken)
