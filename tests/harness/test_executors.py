"""The local executor: at most K episodes in flight, one env instance per thread, instances reused."""

from __future__ import annotations

import threading
import time

import gymnasium as gym

from agents.base import EpisodeState, Reply
from agents.rollout import EpisodeRecord
from harness.executors import EpisodeJob, LocalExecutor
from harness.stats import mean, stderr
from tests.harness.toy_env import AddEnv


class CountingOracle:
    """The oracle, slowed down, counting how many of its calls overlap."""

    name = "oracle"

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.active = 0
        self.peak = 0

    def reply(self, state: EpisodeState) -> Reply:
        with self.lock:
            self.active += 1
            self.peak = max(self.peak, self.active)
        time.sleep(0.03)
        with self.lock:
            self.active -= 1
        assert state.oracle is not None  # the agent named "oracle" is given the solution
        return Reply(state.oracle())


def test_concurrency_bound_and_env_pool() -> None:
    built: list[gym.Env] = []

    def factory() -> gym.Env:
        env = AddEnv(limit=12)
        built.append(env)
        return env

    agent = CountingOracle()
    executor = LocalExecutor(factory, agent, concurrency=3)
    jobs = [EpisodeJob("toy", f"add-{i:04d}", i) for i in range(12)]
    records: list[EpisodeRecord] = []
    executor.run(jobs, records.append)
    executor.close()
    assert sorted(r.task_id for r in records) == [j.task_id for j in jobs]
    assert all(r.score == 1.0 for r in records)
    assert agent.peak == 3
    assert len(built) == 3, "each of the 3 threads builds one env, then reuses it"


def test_broken_env_is_replaced() -> None:
    built: list[gym.Env] = []

    def factory() -> gym.Env:
        built.append(AddEnv(limit=2))
        return built[-1]

    executor = LocalExecutor(factory, CountingOracle(), concurrency=1)
    records: list[EpisodeRecord] = []
    jobs = [
        EpisodeJob("toy", "add-0000", 0),
        EpisodeJob("toy", "missing", 0),
        EpisodeJob("toy", "add-0001", 0),
    ]
    executor.run(jobs, records.append)
    assert [r.error is None for r in records] == [True, False, True]
    assert len(built) == 2, "the env whose reset raised is dropped and a fresh one built"


def test_mean_and_stderr_edge_cases() -> None:
    assert mean([]) == 0.0 and stderr([]) == 0.0 and stderr([1.0]) == 0.0
    assert stderr([0.0, 1.0]) == 0.5  # sd sqrt(0.5) over sqrt(2)
