"""AgentBench's candidate ranking (top-k of Mind2Web's ranks) and Mind2Web's question loop."""

from __future__ import annotations

import json
import os
import pickle
from pathlib import Path

import pytest

from envs.core import TaskError
from envs.web_browse.candidates import Pick, Tournament, load_ranks, shown_candidates
from envs.web_browse.env import WebBrowseEnv
from envs.web_browse.protocol import CHOICE_LETTERS
from envs.web_browse.tasks import load_mind2web, mind2web_episodes

DATA = Path(__file__).parent / "data"
ROWS = DATA / "mind2web_rows_sample.jsonl"
SCORES = DATA / "mind2web_scores_sample.json"


def test_top_k_keeps_positives_and_negatives_ranked_below_k() -> None:
    ranks = {"p": 3, "n0": 0, "n1": 1, "n2": 2, "n9": 9, "n10": 10}
    negatives = ("n0", "n1", "n2", "n9", "n10")
    assert shown_candidates(("p",), negatives, ranks, top_k=10) == ["p", "n0", "n1", "n2", "n9"]
    # the positive ranked at k or worse is not shown: the step cannot be answered right
    assert shown_candidates(("p",), negatives, ranks, top_k=3) == ["n0", "n1", "n2"]
    # unranked data: the positives, then the first num_negatives negatives
    assert shown_candidates(("p",), negatives, None, num_negatives=2) == ["p", "n0", "n1"]
    assert shown_candidates(("p",), negatives, {}, num_negatives=0) == ["p"]


def test_tournament_is_mind2web_queue() -> None:
    game = Tournament([f"c{i}" for i in range(7)])
    assert game.group == ["c0", "c1", "c2", "c3", "c4"] and (game.round, game.group_no) == (1, 1)
    game.answer(Pick("c3", "CLICK", ""))
    # the pick goes behind the two first-seen candidates left
    assert game.group == ["c5", "c6", "c3"] and (game.round, game.group_no) == (1, 2)
    game.answer(Pick("c3", "TYPE", "x"))
    assert game.done and game.result == Pick("c3", "TYPE", "x")
    with pytest.raises(RuntimeError, match="over"):
        game.answer(None)


def test_tournament_without_picks_or_with_a_last_none() -> None:
    game = Tournament([f"c{i}" for i in range(6)])
    game.answer(None)  # one candidate left, never asked: no prediction, as upstream
    assert game.done and game.result is None
    game = Tournament([f"c{i}" for i in range(10)])
    game.answer(Pick("c1", "CLICK", ""))
    game.answer(Pick("c7", "CLICK", ""))
    assert game.group == ["c1", "c7"] and (game.round, game.group_no) == (2, 1)
    game.answer(None)  # "None of the above" in the final: nothing is left, so no answer
    assert game.done and game.result is None
    single = Tournament(["only"])  # asked anyway (an episode needs a question)
    assert single.group == ["only"]
    single.answer(Pick("only", "CLICK", ""))
    assert single.result == Pick("only", "CLICK", "")


def test_load_ranks_json_and_pickle(tmp_path: Path) -> None:
    ranks = load_ranks(SCORES)
    assert ranks["hand-books-01_hb-a0"]["5"] == 3 and len(ranks) == 3
    pkl = tmp_path / "scores_all_data.pkl"
    pkl.write_bytes(pickle.dumps(json.loads(SCORES.read_text())))
    assert load_ranks(pkl) == ranks


class _Evil:
    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (os.system, ("echo pwned",))


def test_load_ranks_refuses_code_and_bad_files(tmp_path: Path) -> None:
    evil = tmp_path / "evil.pkl"
    evil.write_bytes(pickle.dumps({"ranks": _Evil()}))
    with pytest.raises(TaskError, match=r"evil\.pkl: not a Mind2Web scores file.*system"):
        load_ranks(evil)
    bad = tmp_path / "bad.json"
    bad.write_text('{"scores": {}}')
    with pytest.raises(TaskError, match=r"bad\.json: a scores file is an object with a 'ranks' object"):
        load_ranks(bad)
    bad.write_text('{"ranks": {"a_b": {"1": "first"}}}')
    with pytest.raises(TaskError, match="must be integers"):
        load_ranks(bad)
    with pytest.raises(TaskError, match="cannot read"):
        load_ranks(tmp_path / "missing.pkl")


def test_ranks_reach_the_steps_and_the_env() -> None:
    tasks = load_mind2web(ROWS, load_ranks(SCORES))
    step = tasks[0].steps[0]
    assert step.positives == ("5",) and step.negatives[:3] == ("6", "4", "8")  # ordered by rank
    assert dict(step.ranks)["17"] == 11
    env = WebBrowseEnv(tasks_file=str(ROWS), ranks_file=str(SCORES))
    _, info = env.reset(seed=0, options={"task_id": "hand-books-01-0"})
    assert info["num_candidates"] == 10  # ranks 0-9: the positive (3) and nine negatives; 16 and 17 are out
    shown = set(env._game.group) | set(env._game._queue)  # type: ignore[union-attr]
    assert shown == {"5", "6", "4", "8", "9", "10", "11", "12", "13", "15"}
    narrow = WebBrowseEnv(tasks_file=str(ROWS), ranks_file=str(SCORES), top_k=3)
    _, info = narrow.reset(seed=0, options={"task_id": "hand-books-01-0"})
    assert info["num_candidates"] == 3
    # the positive is out of the top 3: whatever the agent answers, the step fails
    for letter in CHOICE_LETTERS[:4]:
        narrow.reset(seed=0, options={"task_id": "hand-books-01-0"})
        _, reward, terminated, _, info = narrow.step(f"Answer: {letter}.\nAction: TYPE\nValue: tide atlas")
        assert terminated and reward == 0.0


def test_oracle_solves_the_rows_sample_with_ranks() -> None:
    env = WebBrowseEnv(tasks_file=str(ROWS), ranks_file=str(SCORES), prompt_variant="json")
    assert env.task_ids() == ["hand-books-01-0", "hand-books-01-2", "hand-garden-01-0"]
    assert [ep.episode_id for ep in mind2web_episodes(load_mind2web(ROWS))] == env.task_ids()
    for task_id in env.task_ids():
        env.reset(seed=1, options={"task_id": task_id})
        while True:
            _, _, terminated, _, info = env.step(env.oracle_reply())
            if terminated:
                break
        assert info["score"] == 1.0, task_id


def test_ranks_file_errors(tmp_path: Path) -> None:
    partial = tmp_path / "scores.json"
    data = json.loads(SCORES.read_text())
    del data["ranks"]["hand-books-01_hb-a2"]
    partial.write_text(json.dumps(data))
    with pytest.raises(TaskError, match=r"line 2: the ranks file has no sample 'hand-books-01_hb-a2'"):
        WebBrowseEnv(tasks_file=str(ROWS), ranks_file=str(partial))
    data = json.loads(SCORES.read_text())
    del data["ranks"]["hand-garden-01_hg-a0"]["43"]
    partial.write_text(json.dumps(data))
    with pytest.raises(TaskError, match="line 3: the ranks file has no rank for candidate '43'"):
        WebBrowseEnv(tasks_file=str(ROWS), ranks_file=str(partial))
    with pytest.raises(ValueError, match="give both"):
        WebBrowseEnv(ranks_file=str(SCORES))
    with pytest.raises(ValueError, match="top_k"):
        WebBrowseEnv(top_k=0)
