"""EnvPool: reuse of idle envs, closing of broken ones, and nothing left open after close()."""

from __future__ import annotations

import threading
from typing import Any

import gymnasium as gym
import pytest

from agents.env_pool import EnvPool, PoolClosed


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


def test_a_closed_pool_hands_out_nothing_and_closes_what_comes_back() -> None:
    ready = CountingEnv()
    pool = EnvPool(CountingEnv, [ready])
    borrowed = pool.take()
    assert borrowed is ready and pool.borrowed() == [ready]  # a ready-made env is handed out first
    pool.close()
    assert ready.closed
    with pytest.raises(PoolClosed):
        pool.take()
    late = CountingEnv()
    pool.give_back(late)  # an episode that ends after the close: its env is closed, not kept
    assert late.closed and pool.borrowed() == []


def test_an_env_made_while_the_pool_closes_is_closed_and_not_handed_out() -> None:
    made: list[CountingEnv] = []
    pool: EnvPool

    def make_while_closing() -> CountingEnv:
        env = CountingEnv()
        made.append(env)
        pool.close()  # the pool closes while this env is being made (a container starting)
        return env

    pool = EnvPool(make_while_closing)
    with pytest.raises(PoolClosed):
        pool.take()
    assert made[0].closed
