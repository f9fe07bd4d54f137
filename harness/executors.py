"""Where episodes run: threads in this process (``LocalExecutor``) or tasks on a Ray cluster (``RayExecutor``).

Both keep at most ``concurrency`` episodes in flight, hand each finished record to ``on_record`` in the
driver (which alone writes the results file), and turn anything that goes wrong into an errored record:
an episode that outlives ``episode_timeout`` seconds is recorded as ``EpisodeTimeout`` and its slot is
freed (a local thread cannot be killed, so it is abandoned and its env dropped; a Ray task is cancelled).
``LocalExecutor.close`` also closes the envs of episodes still in flight, abandoned or interrupted: their
threads are daemons that die with the process, and an env left open would outlive it (a container).

Example::

    executor = LocalExecutor(env_factory, agent, concurrency=4)
    executor.run([EpisodeJob("web", "web-test-0000", 7)], on_record=log.append)
    executor.close()
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import gymnasium as gym

from agents.base import Agent
from agents.env_pool import EnvPool, close_quietly
from agents.rollout import (
    DEFAULT_MAX_TURNS,
    EpisodeOutcome,
    EpisodeRecord,
    error_record,
    run_episode,
    utc_now,
)
from harness.plugins import AgentFactory, EnvFactory

#: How often the driver wakes to check deadlines when no episode has a timeout.
_POLL_S = 0.5
#: How long ``LocalExecutor.close`` waits for threads whose env it closed, so that they stop using it.
_CLOSE_GRACE_S = 5.0


@dataclass(frozen=True)
class EpisodeJob:
    """One episode to run: which task, with which reset seed."""

    env_name: str
    task_id: str
    seed: int


class Executor(Protocol):
    """Runs jobs and hands each finished record to ``on_record``, in the calling thread."""

    def run(self, jobs: Sequence[EpisodeJob], on_record: Callable[[EpisodeRecord], None]) -> None: ...

    def close(self) -> None: ...


def _timeout_record(agent_name: str, job: EpisodeJob, started: str, timeout: float | None) -> EpisodeRecord:
    """The errored record of an episode given up at its deadline; both executors write the same one."""
    seconds = float(timeout or 0.0)
    return error_record(
        agent_name,
        job.env_name,
        job.task_id,
        job.seed,
        f"EpisodeTimeout: no result after {seconds:g} s",
        started_at=started,
        wall_s=seconds,
    )


class LocalExecutor:
    """Episodes in threads of this process; each thread takes its own env instance from a pool.

    The agent is shared (agents are thread-safe; back-ends batch concurrent calls). Env instances are
    reused across episodes; one whose reset or step raised is closed and replaced by a fresh one.
    """

    def __init__(
        self,
        env_factory: EnvFactory | Callable[[], gym.Env],
        agent: Agent,
        *,
        concurrency: int = 1,
        max_turns: int = DEFAULT_MAX_TURNS,
        episode_timeout: float | None = None,
        envs: Sequence[gym.Env] = (),
    ):
        if concurrency < 1:
            raise ValueError(f"concurrency must be >= 1, got {concurrency}")
        self.agent = agent
        self.concurrency = concurrency
        self.max_turns = max_turns
        self.episode_timeout = episode_timeout
        self._envs = EnvPool(env_factory, envs)
        self._threads: list[threading.Thread] = []
        self._threads_lock = threading.Lock()

    def _work(self, key: int, job: EpisodeJob, results: queue.Queue[Any]) -> None:
        env: gym.Env | None = None
        started = utc_now()
        try:
            env = self._envs.take()
            outcome = run_episode(
                env,
                self.agent,
                env_name=job.env_name,
                task_id=job.task_id,
                seed=job.seed,
                max_turns=self.max_turns,
            )
        except Exception as exc:  # building the env failed, or a bug: still a record, never a hang
            record = error_record(
                self.agent.name,
                job.env_name,
                job.task_id,
                job.seed,
                f"{type(exc).__name__}: {exc}",
                started_at=started,
            )
            outcome = EpisodeOutcome(record=record, env_ok=False)
        results.put((key, outcome, env))

    def run(self, jobs: Sequence[EpisodeJob], on_record: Callable[[EpisodeRecord], None]) -> None:
        results: queue.Queue[Any] = queue.Queue()
        pending = deque(enumerate(jobs))
        inflight: dict[int, tuple[EpisodeJob, float, str]] = {}  # key -> (job, deadline, started_at)
        abandoned: set[int] = set()
        while pending or inflight:
            while pending and len(inflight) < self.concurrency:
                key, job = pending.popleft()
                deadline = time.monotonic() + self.episode_timeout if self.episode_timeout else float("inf")
                inflight[key] = (job, deadline, utc_now())
                # Daemon threads: a hung back-end cannot keep the process alive after the run ends.
                thread = threading.Thread(target=self._work, args=(key, job, results), daemon=True)
                with self._threads_lock:
                    self._threads = [t for t in self._threads if t.is_alive()]
                    self._threads.append(thread)
                thread.start()
            next_deadline = min(d for _, d, _ in inflight.values())
            wait = min(_POLL_S, max(0.0, next_deadline - time.monotonic()))
            try:
                key, outcome, env = results.get(timeout=wait if wait > 0 else 0.001)
            except queue.Empty:
                self._expire(inflight, abandoned, on_record)
                continue
            if key in abandoned:
                abandoned.discard(key)
                self._envs.give_back(env, reusable=False)  # finished too late: its state is unknown
                continue
            inflight.pop(key)
            self._envs.give_back(env, reusable=outcome.env_ok)
            on_record(outcome.record)
            self._expire(inflight, abandoned, on_record)

    def _expire(
        self,
        inflight: dict[int, tuple[EpisodeJob, float, str]],
        abandoned: set[int],
        on_record: Callable[[EpisodeRecord], None],
    ) -> None:
        now = time.monotonic()
        for key, (job, deadline, started) in list(inflight.items()):
            if now >= deadline:
                del inflight[key]
                abandoned.add(key)
                on_record(_timeout_record(self.agent.name, job, started, self.episode_timeout))

    def close(self) -> None:
        """Close every env: idle ones, and those of episodes still running (timed out or interrupted).

        Closing an env under a running episode makes its next env call fail, which ends the thread; the
        threads get a short grace to do so, then each of their envs is closed once more in case a reset was
        still acquiring resources during the first close.
        """
        busy = self._envs.borrowed()
        self._envs.close()
        with self._threads_lock:
            threads, self._threads = self._threads, []
        deadline = time.monotonic() + _CLOSE_GRACE_S
        for thread in threads:
            thread.join(timeout=max(0.0, deadline - time.monotonic()))
        for env in busy:
            close_quietly(env)


# --- Ray -----------------------------------------------------------------------------------------------

# Per worker process: Ray reuses a worker for many tasks, so each builds its env and agent once.
_WORKER_ENVS: dict[EnvFactory, gym.Env] = {}
_WORKER_AGENTS: dict[AgentFactory, Agent] = {}


def _ray_episode(
    env_factory: EnvFactory, agent_factory: AgentFactory, job: EpisodeJob, max_turns: int
) -> EpisodeRecord:
    """The body of one Ray task: run one episode in this worker with its cached env and agent."""
    agent = _WORKER_AGENTS.get(agent_factory)
    if agent is None:
        agent = _WORKER_AGENTS[agent_factory] = agent_factory()
    env = _WORKER_ENVS.pop(env_factory, None)
    started = utc_now()
    try:
        env = env if env is not None else env_factory()
    except Exception as exc:
        return error_record(
            agent.name,
            job.env_name,
            job.task_id,
            job.seed,
            f"{type(exc).__name__}: {exc}",
            started_at=started,
        )
    outcome = run_episode(
        env, agent, env_name=job.env_name, task_id=job.task_id, seed=job.seed, max_turns=max_turns
    )
    if outcome.env_ok:
        _WORKER_ENVS[env_factory] = env
    else:
        close_quietly(env)
    return outcome.record


def _ray_build_agent(agent_factory: AgentFactory) -> str:
    """A Ray task that builds (and caches) the agent in a worker: a bad model fails once, before any episode."""
    agent = _WORKER_AGENTS.get(agent_factory)
    if agent is None:
        agent = _WORKER_AGENTS[agent_factory] = agent_factory()
    return agent.name


class AgentBuildError(RuntimeError):
    """The agent could not be built (bad model path, missing adapter, ...); nothing was run."""


def init_ray() -> tuple[Any, bool]:
    """Import Ray and connect: to ``RAY_ADDRESS`` when set, else a local instance. Returns (ray, started)."""
    try:
        import ray
    except ImportError:
        raise RuntimeError("the ray executor needs Ray: pip install 'promptless[ray]'") from None
    if ray.is_initialized():
        return ray, False
    ray.init(include_dashboard=False, logging_level=logging.WARNING)
    return ray, True


class RayExecutor:
    """Episodes as Ray tasks; workers build their own env and agent from the picklable factories.

    ``num_cpus`` is what each task reserves: lower it (e.g. 0.25) when episodes wait on a remote model
    server rather than compute.
    """

    def __init__(
        self,
        env_factory: EnvFactory,
        agent_factory: AgentFactory,
        *,
        concurrency: int = 1,
        max_turns: int = DEFAULT_MAX_TURNS,
        episode_timeout: float | None = None,
        num_cpus: float = 1.0,
    ):
        if concurrency < 1:
            raise ValueError(f"concurrency must be >= 1, got {concurrency}")
        self.env_factory = env_factory
        self.agent_factory = agent_factory
        self.concurrency = concurrency
        self.max_turns = max_turns
        self.episode_timeout = episode_timeout
        self.num_cpus = num_cpus
        self._ray: Any = None
        self._started_ray = False

    def run(self, jobs: Sequence[EpisodeJob], on_record: Callable[[EpisodeRecord], None]) -> None:
        if self._ray is None:
            self._ray, self._started_ray = init_ray()
        ray = self._ray
        if not jobs:
            return
        build = ray.remote(num_cpus=self.num_cpus, max_retries=0)(_ray_build_agent)
        try:
            ray.get(build.remote(self.agent_factory))
        except Exception as exc:
            cause = getattr(exc, "cause", None) or exc  # RayTaskError wraps the worker's exception
            raise AgentBuildError(f"{type(cause).__name__}: {cause}") from exc
        remote = ray.remote(num_cpus=self.num_cpus, max_retries=0)(_ray_episode)
        name = self.agent_factory.name
        pending = deque(jobs)
        inflight: dict[Any, tuple[EpisodeJob, float, str]] = {}
        while pending or inflight:
            while pending and len(inflight) < self.concurrency:
                job = pending.popleft()
                ref = remote.remote(self.env_factory, self.agent_factory, job, self.max_turns)
                deadline = time.monotonic() + self.episode_timeout if self.episode_timeout else float("inf")
                inflight[ref] = (job, deadline, utc_now())
            next_deadline = min(d for _, d, _ in inflight.values())
            wait = max(0.001, min(_POLL_S, next_deadline - time.monotonic()))
            ready, _ = ray.wait(list(inflight), num_returns=1, timeout=wait)
            for ref in ready:
                job, _, started = inflight.pop(ref)
                try:
                    record = ray.get(ref)
                except Exception as exc:  # the task died (worker crash, cancelled, OOM): an errored episode
                    record = error_record(
                        name,
                        job.env_name,
                        job.task_id,
                        job.seed,
                        f"{type(exc).__name__}: {exc}",
                        started_at=started,
                    )
                on_record(record)
            now = time.monotonic()
            for ref, (job, deadline, started) in list(inflight.items()):
                if now >= deadline:
                    del inflight[ref]
                    ray.cancel(ref, force=True)
                    on_record(_timeout_record(name, job, started, self.episode_timeout))

    def close(self) -> None:
        if self._ray is not None and self._started_ray:
            self._ray.shutdown()
        self._ray = None
