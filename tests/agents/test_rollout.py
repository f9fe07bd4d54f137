"""The episode loop on the toy env: what the agent sees, what the record keeps, how failures end up."""

from __future__ import annotations

import gymnasium as gym
import pytest

from agents.base import EpisodeState, Reply, Usage
from agents.rollout import TurnLimitError, episode_seed, numeric_fields, run_episode
from tests.harness.toy_agents import Solver, ToyOracle
from tests.harness.toy_env import AddEnv


class Recorder:
    """Answers wrongly-formatted text forever and keeps every state it was shown."""

    name = "recorder"

    def __init__(self) -> None:
        self.states: list[EpisodeState] = []

    def reply(self, state: EpisodeState) -> Reply:
        self.states.append(state)
        return Reply("no idea", Usage(calls=1, prompt_tokens=10, generated_tokens=2, wall_s=0.25, flops=7.0))


def _env() -> gym.Env:
    return gym.wrappers.TimeLimit(AddEnv(limit=3), max_episode_steps=10)


def test_agent_sees_growing_history_and_no_oracle() -> None:
    agent = Recorder()
    outcome = run_episode(_env(), agent, env_name="toy", task_id="add-0002", seed=1)
    rec = outcome.record
    # The toy env ends the episode after three invalid replies, with score 0.
    assert rec.error is None and rec.score == 0.0 and rec.turns == 3 and outcome.env_ok
    assert [len(s.messages) for s in agent.states] == [1, 3, 5]
    assert all(s.oracle is None for s in agent.states)
    assert agent.states[0].prompt == AddEnv().prompt_messages()
    assert agent.states[0].messages[0]["content"].startswith("What is ")
    assert rec.usage == {
        "calls": 3,
        "prompt_tokens": 30,
        "cached_tokens": 0,
        "generated_tokens": 6,
        "wall_s": 0.75,
        "flops": 21.0,
    }
    assert [m["action_valid"] for m in rec.transcript if m["role"] == "assistant"] == [False] * 3
    assert rec.transcript[-1] == {"role": "user", "content": "Out of turns."}


def test_independent_turns_show_only_the_latest_observation() -> None:
    class IndependentAddEnv(AddEnv):
        independent_turns = True

    agent = Recorder()
    env = gym.wrappers.TimeLimit(IndependentAddEnv(limit=3), max_episode_steps=10)
    rec = run_episode(env, agent, env_name="toy", task_id="add-0002", seed=1).record
    assert [len(s.messages) for s in agent.states] == [1, 1, 1]
    assert agent.states[1].messages[0]["role"] == "user"
    assert agent.states[1].messages[0]["content"] != agent.states[0].messages[0]["content"]
    # The record still keeps the whole episode.
    assert len(rec.transcript) == 7


def test_oracle_agent_gets_the_solution() -> None:
    rec = run_episode(_env(), ToyOracle(env_name="toy"), env_name="toy", task_id="add-0001", seed=1).record
    assert rec.score == 1.0 and rec.turns == 1 and rec.metrics["correct"] == 1.0


def test_model_agent_cannot_reach_the_oracle() -> None:
    rec = run_episode(_env(), Solver(env_name="toy"), env_name="toy", task_id="add-0001", seed=1).record
    assert rec.error is None and rec.score == 1.0 and rec.turns == 2


def test_runner_turn_cap_and_wrapper_truncation() -> None:
    rec = run_episode(
        AddEnv(limit=2), Recorder(), env_name="toy", task_id="add-0000", seed=0, max_turns=2
    ).record
    assert rec.error is not None and rec.error.startswith(TurnLimitError.__name__) and rec.score == 0.0
    # A wrapper's turn limit truncates without the env's verdict: a failure, not an error.
    short = gym.wrappers.TimeLimit(AddEnv(limit=2), max_episode_steps=2)
    rec = run_episode(short, Recorder(), env_name="toy", task_id="add-0000", seed=0).record
    assert rec.error is None and rec.truncated and rec.score == 0.0 and rec.turns == 2


def test_env_failure_marks_the_env_unusable() -> None:
    env = AddEnv(limit=2)
    outcome = run_episode(env, Recorder(), env_name="toy", task_id="add-9999", seed=0)
    assert outcome.record.error == "ValueError: unknown task_id 'add-9999' for env 'toy'"
    assert not outcome.env_ok

    class Broken(Recorder):
        def reply(self, state: EpisodeState) -> Reply:
            raise ConnectionError("server went away")

    outcome = run_episode(env, Broken(), env_name="toy", task_id="add-0000", seed=0)
    assert outcome.record.error == "ConnectionError: server went away" and outcome.env_ok


def test_helpers() -> None:
    assert episode_seed(0, "toy", "a") == episode_seed(0, "toy", "a") != episode_seed(1, "toy", "a")
    assert numeric_fields({"score": 1, "ok": True, "name": "x", "f1": 0.5}) == {"score": 1.0, "f1": 0.5}
    with pytest.raises(ValueError):
        AddEnv(split="nope")
