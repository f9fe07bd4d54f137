"""``promptless/WebBrowse-v0`` end to end: Gymnasium checks, oracle, random agent, tournament, errors."""

from __future__ import annotations

import random
import warnings
from pathlib import Path

import gymnasium as gym
import pytest
from gymnasium.utils.env_checker import check_env

import envs  # noqa: F401  (registers the promptless/* ids)
from envs.core import TaskError
from envs.web_browse.env import DONE_OBSERVATION, WebBrowseEnv
from envs.web_browse.protocol import (
    CHOICE_LETTERS,
    OPERATIONS,
    PROMPT_VARIANTS,
    WebAction,
    parse_reply,
    render_action,
)

SAMPLE = Path(__file__).parent / "data" / "mind2web_sample.json"


def play(env: WebBrowseEnv, task_id: str, agent, seed: int = 0) -> tuple[list[str], dict]:  # type: ignore[no-untyped-def]
    obs, info = env.reset(seed=seed, options={"task_id": task_id})
    observations = [obs]
    for _ in range(50):
        obs, reward, terminated, truncated, info = env.step(agent(obs))
        assert not truncated
        if terminated:
            assert reward == info["score"]
            return observations, info
        assert reward == 0.0
        observations.append(obs)
    raise AssertionError("episode did not end")


def test_check_env_and_registration() -> None:
    env = gym.make("promptless/WebBrowse-v0", split="test", render_mode="ansi")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # render_fps is the base class's business
        check_env(env.unwrapped)
    obs, _ = env.reset(seed=3)
    assert env.unwrapped.render() == obs


@pytest.mark.parametrize("variant", PROMPT_VARIANTS)
def test_oracle_solves_every_test_episode(variant: str) -> None:
    env = WebBrowseEnv(split="test", prompt_variant=variant)
    ids = env.task_ids()
    assert len(ids) == 100
    turns = 0
    for task_id in ids:
        observations, info = play(env, task_id, lambda _obs: env.oracle_reply())
        turns += len(observations)
        assert info["score"] == 1.0 and info["element_acc"] == 1.0 and info["op_f1"] == 1.0, task_id
        assert info["picked"] == env._episode.step.gold  # type: ignore[union-attr]
    assert 2.0 <= turns / len(ids) <= 3.0  # 10 candidates: two groups; the gold is the only pick


@pytest.mark.parametrize("variant", PROMPT_VARIANTS)
def test_random_agent_scores_near_zero(variant: str) -> None:
    rng = random.Random(7)
    values = ["Boston", "2 guests", "May 12", "Search", "new york"]

    def agent(_obs: str) -> str:
        letter = rng.choice(CHOICE_LETTERS)
        if letter == "A":
            return render_action(WebAction("A", thought="none"), variant)
        op = rng.choice(OPERATIONS)
        return render_action(
            WebAction(letter, op, "" if op == "CLICK" else rng.choice(values), "guess"), variant
        )

    env = WebBrowseEnv(split="test", prompt_variant=variant)
    scores = [play(env, task_id, agent, seed=i)[1]["score"] for i, task_id in enumerate(env.task_ids())]
    assert sum(scores) / len(scores) < 0.1


def test_observation_is_the_query_turn() -> None:
    env = WebBrowseEnv(split="test")
    obs, info = env.reset(seed=0, options={"task_id": "web-test-0004"})
    episode = env._episode
    assert episode is not None
    assert obs.startswith("'''\n<html> ") and f"Task: {episode.task.goal}\n" in obs
    assert "A. None of the above\nB. <" in obs
    assert info == {"task_id": "web-test-0004", "num_candidates": 10, "round": 1, "group": 1}
    # page ids stay private: the model reads only id=N
    assert "backend_node_id" not in obs and f"id={episode.step.gold}" not in obs


def test_same_seed_same_observations_and_shuffle_depends_on_seed() -> None:
    def observations(seed: int) -> list[str]:
        env = WebBrowseEnv(split="test", prompt_variant="json")
        return play(env, "web-test-0010", lambda _o: env.oracle_reply(), seed=seed)[0]

    assert observations(5) == observations(5)
    firsts = {observations(s)[0] for s in range(6)}
    assert len(firsts) > 1  # the candidates are shuffled by the reset seed


def test_tournament_queue_and_invalid_replies() -> None:
    env = WebBrowseEnv(split="test", num_negatives=11)  # 12 candidates
    obs, info = env.reset(seed=1, options={"task_id": "web-test-0001"})
    assert info["num_candidates"] == 12
    gold = env._episode.step  # type: ignore[union-attr]
    # Mind2Web's queue: a pick goes to the back, so the third question asks the last two first-seen
    # candidates with the two picks (4 choices), not a group of 2
    obs, _, term, _, info = env.step("Answer: B.\nAction: CLICK")
    assert not term and info["action_valid"] and (info["round"], info["group"]) == (1, 2)
    obs, _, term, _, info = env.step("Answer: C.\nAction: TYPE\nValue: hello")
    assert not term and (info["round"], info["group"]) == (1, 3)
    assert "E. " in obs and "F. " not in obs
    # a wrong syntax counts as A: the queue is empty, so there is no answer although picks were made
    obs, _, term, _, info = env.step("Action: choose[B] CLICK")
    assert not info["action_valid"] and "invalid reply (agentbench syntax)" in info["last_action_error"]
    assert term and info["picked"] is None and info["score"] == 0.0 and info["op_f1"] == 0.0
    assert obs == DONE_OBSERVATION
    assert gold.operation in OPERATIONS
    with pytest.raises(RuntimeError, match="call reset"):
        env.step("Answer: A.")
    with pytest.raises(RuntimeError, match="call reset"):
        env.oracle_reply()


def test_letter_not_offered_counts_as_a() -> None:
    env = WebBrowseEnv(split="test", num_negatives=6)  # 7 candidates: a group of 5, then 2 + the pick
    env.reset(seed=1, options={"task_id": "web-test-0001"})
    _, _, term, _, info = env.step("Answer: B.\nAction: CLICK")
    assert not term and (info["round"], info["group"]) == (1, 2)
    _, _, term, _, info = env.step("Answer: E.\nAction: CLICK")  # three choices: B-D
    assert term and not info["action_valid"]
    assert "not offered (this turn's choices are A-D)" in info["last_action_error"]
    assert info["picked"] is None and info["score"] == 0.0


@pytest.mark.parametrize("round2_correct", [True, False])
def test_final_answer_uses_last_pick_operation(round2_correct: bool) -> None:
    env = WebBrowseEnv(split="test", num_negatives=9)
    _, info = env.reset(seed=0, options={"task_id": "web-test-0002"})
    round_no = 1
    while True:
        action = parse_reply(env.oracle_reply(), "agentbench")
        if round_no == 1:
            # every round-1 group picks something (the gold with a wrong operation), so a round 2 follows
            action = WebAction("B" if action.choice == "A" else action.choice, "TYPE", "zzz")
        elif not round2_correct and action.choice != "A":
            action = WebAction(action.choice, "TYPE", "zzz")
        _, _, terminated, _, info = env.step(render_action(action, "agentbench"))
        if terminated:
            break
        round_no = info["round"]
    assert info["rounds"] == 2 and info["element_acc"] == 1.0
    assert info["score"] == (1.0 if round2_correct else 0.0)


def test_mind2web_file_runs() -> None:
    env = WebBrowseEnv(tasks_file=str(SAMPLE), prompt_variant="react")
    assert env.task_ids()[0] == "sample-tock-01-0" and len(env.task_ids()) == 5
    for task_id in env.task_ids():
        _, info = play(env, task_id, lambda _o: env.oracle_reply())
        assert info["score"] == 1.0
    assert len(WebBrowseEnv(tasks_file=str(SAMPLE), limit=2).task_ids()) == 2


def test_constructor_and_reset_errors(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown prompt variant"):
        WebBrowseEnv(prompt_variant="xml")
    with pytest.raises(ValueError, match="unknown split"):
        WebBrowseEnv(split="holdout")
    with pytest.raises(ValueError, match="num_negatives"):
        WebBrowseEnv(num_negatives=-1)
    bad = tmp_path / "bad.json"
    bad.write_text('[{"annotation_id": "x"}]')
    with pytest.raises(TaskError, match="missing field 'website'"):
        WebBrowseEnv(tasks_file=str(bad))
    env = WebBrowseEnv(split="test", limit=3)
    assert env.task_ids() == ["web-test-0000", "web-test-0001", "web-test-0002"]
    with pytest.raises(ValueError, match="unknown task_id 'web-test-0003'"):
        env.reset(options={"task_id": "web-test-0003"})
    with pytest.raises(ValueError, match="unknown task_id 'web-dev-0000'"):
        env.reset(options={"task_id": "web-dev-0000"})
    env.reset(seed=0)
    with pytest.raises(TypeError, match="reply text"):
        env.step(3)  # type: ignore[arg-type]


def test_train_split_is_lazy() -> None:
    env = WebBrowseEnv(split="train")
    obs, info = env.reset(seed=11)
    assert info["task_id"].startswith("web-train-") and obs.startswith("'''")
    assert env._ids is None  # a million ids were never listed
