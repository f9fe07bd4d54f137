"""One episode: reset the env on a task, let the agent answer until the env says stop, keep the record.

This is the one rollout loop of the project: the harness runs benchmark episodes with it, and ``train/``
plays its synthesis episodes (oracle corpora, teacher transcripts) with it. The agent only answers
(``agents.base``). Any exception from the env, the agent
or its back-end ends the episode as an errored record (score 0, ``error`` = type and message): one bad
episode never stops a run.

Example::

    outcome = run_episode(env, agent, env_name="os", task_id="os-test-0001", seed=7)
    print(outcome.record.score, outcome.record.usage["generated_tokens"])
"""

from __future__ import annotations

import hashlib
import numbers
import time
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from typing import Any

import gymnasium as gym

from agents.base import Agent, EpisodeState, Usage, uses_oracle
from envs.core import Message, text_env


def utc_now() -> str:
    """The current time as a timezone-aware UTC ISO string (milliseconds)."""
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


@dataclass(frozen=True)
class EpisodeRecord:
    """One finished episode, typed from the rollout to the leaderboard (one line of ``episodes.jsonl``).

    ``score`` is 0 when ``error`` is set. ``metrics`` are the numeric fields of the final ``info``.
    ``transcript`` starts with the first observation; each assistant turn carries the env's verdict on it
    (``action_valid``, ``last_action_error``). ``env_s`` and ``agent_s`` are the wall time spent inside
    the env (reset, step) and the agent (reply); the rest of ``wall_s`` is the runner's own overhead.
    """

    env: str
    task_id: str
    agent: str
    score: float
    error: str | None
    metrics: dict[str, float]
    transcript: list[dict[str, Any]]
    usage: dict[str, float | None]  # flops None: unknown
    turns: int
    truncated: bool
    wall_s: float
    env_s: float
    agent_s: float
    started_at: str
    finished_at: str
    seed: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


#: Safety net for an env without its own turn limit: an episode this long is recorded as an error.
DEFAULT_MAX_TURNS = 100


class TurnLimitError(RuntimeError):
    """The episode ran past the runner's turn cap without the env ending it."""


def episode_seed(run_seed: int, env_name: str, task_id: str) -> int:
    """The reset seed of one task: fixed by the run's seed and the task, whatever the order or concurrency."""
    digest = hashlib.sha256(f"{run_seed}\0{env_name}\0{task_id}".encode()).digest()
    return int.from_bytes(digest[:4], "little")


def numeric_fields(info: dict[str, Any]) -> dict[str, float]:
    """The numeric fields of an ``info`` dict (booleans left out: they are flags, not metrics)."""
    return {
        key: float(value)
        for key, value in info.items()
        if isinstance(value, numbers.Real) and not isinstance(value, bool)
    }


@dataclass(frozen=True)
class EpisodeOutcome:
    """The record, and whether the env may be reused (False after the env itself raised)."""

    record: EpisodeRecord
    env_ok: bool


def run_episode(
    env: gym.Env,
    agent: Agent,
    *,
    env_name: str,
    task_id: str,
    seed: int,
    max_turns: int = DEFAULT_MAX_TURNS,
) -> EpisodeOutcome:
    """Run ``agent`` on task ``task_id`` of ``env`` and return its record; never raises for episode errors."""
    started_at = utc_now()
    t_start = time.perf_counter()
    env_s = agent_s = 0.0
    usage = Usage()
    transcript: list[dict[str, Any]] = []
    turns = 0
    score = 0.0
    metrics: dict[str, float] = {}
    truncated = False
    error: str | None = None
    env_ok = True
    in_env = False
    try:
        in_env = True
        t = time.perf_counter()
        obs, info = env.reset(seed=seed, options={"task_id": task_id})
        base = text_env(env)
        prompt = list(base.prompt_messages())
        env_s += time.perf_counter() - t
        in_env = False
        messages: list[Message] = [{"role": "user", "content": obs}]
        transcript.append(dict(messages[0]))
        oracle = base.oracle_reply if uses_oracle(agent) else None
        # Envs whose rounds are independent queries (web browsing) show the agent only the latest one.
        independent = bool(getattr(base, "independent_turns", False))
        while True:
            if turns >= max_turns:
                raise TurnLimitError(f"no end after {max_turns} turns (the runner's cap)")
            state = EpisodeState(
                env_name=env_name, task_id=task_id, prompt=prompt, messages=list(messages), oracle=oracle
            )
            t = time.perf_counter()
            reply = agent.reply(state)
            agent_s += time.perf_counter() - t
            usage = usage + reply.usage
            turns += 1
            in_env = True
            t = time.perf_counter()
            obs, _reward, terminated, truncated, info = env.step(reply.text)
            env_s += time.perf_counter() - t
            in_env = False
            messages.append({"role": "assistant", "content": reply.text})
            transcript.append(
                {
                    "role": "assistant",
                    "content": reply.text,
                    "action_valid": bool(info.get("action_valid", True)),
                    "last_action_error": str(info.get("last_action_error", "")),
                }
            )
            if obs:
                if independent:
                    messages.clear()
                messages.append({"role": "user", "content": obs})
                transcript.append({"role": "user", "content": obs})
            if terminated or truncated:
                break
        # A turn limit imposed by a wrapper ends the episode without the env's verdict: that is a failure.
        score = float(info.get("score", 0.0))
        metrics = numeric_fields(info)
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"
        score = 0.0
        env_ok = not in_env
    wall_s = time.perf_counter() - t_start
    record = EpisodeRecord(
        env=env_name,
        task_id=task_id,
        agent=agent.name,
        score=score,
        error=error,
        metrics=metrics,
        transcript=transcript,
        usage=usage.as_dict(),
        turns=turns,
        truncated=bool(truncated),
        wall_s=wall_s,
        env_s=env_s,
        agent_s=agent_s,
        started_at=started_at,
        finished_at=utc_now(),
        seed=seed,
    )
    return EpisodeOutcome(record=record, env_ok=env_ok)


def error_record(
    agent_name: str,
    env_name: str,
    task_id: str,
    seed: int,
    error: str,
    *,
    started_at: str | None = None,
    wall_s: float = 0.0,
) -> EpisodeRecord:
    """The record of an episode that gave no outcome (env not built, timed out, worker died)."""
    now = utc_now()
    return EpisodeRecord(
        env=env_name,
        task_id=task_id,
        agent=agent_name,
        score=0.0,
        error=error,
        metrics={},
        transcript=[],
        usage=Usage().as_dict(),
        turns=0,
        truncated=False,
        wall_s=wall_s,
        env_s=0.0,
        agent_s=0.0,
        started_at=started_at or now,
        finished_at=now,
        seed=seed,
    )
