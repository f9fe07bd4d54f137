"""The agreement figure: the student's parsed action against the teacher's, on the teacher's histories."""

from __future__ import annotations

import pytest

from agents.base import EpisodeState, Reply
from harness.agreement import agreement, replay_turns

SEARCH = "Thought:\nI think I should search.\n\nAction:\nsearch[green tea]"
CLICK = "Thought:\nI think I should click.\n\nAction:\nclick[b0001]"
RECORD = {
    "task_id": "shop-test-0000",
    "error": None,
    "transcript": [
        {"role": "user", "content": "WebShop [SEP] Instruction: [SEP] green tea [SEP] Search"},
        {"role": "assistant", "content": SEARCH},
        {"role": "user", "content": "results page"},
        {"role": "assistant", "content": "I buy it now"},  # not in the format: no action to agree with
        {"role": "user", "content": "unchanged page"},
    ],
}


class Fixed:
    """A student that always gives the same reply, and notes the histories it was shown."""

    def __init__(self, name: str, text: str):
        self.name, self.text, self.seen = name, text, []

    def reply(self, state: EpisodeState) -> Reply:
        self.seen.append([m["content"] for m in state.messages])
        return Reply(text=self.text)


def test_replay_turns_gives_each_turn_its_history() -> None:
    turns = replay_turns(RECORD, independent=False)
    assert [len(history) for history, _ in turns] == [1, 3]
    assert turns[1][0][-1]["content"] == "results page" and turns[1][1] == "I buy it now"
    independent = replay_turns(RECORD, independent=True)
    assert [len(history) for history, _ in independent] == [1, 1]


def test_agreement_counts_equal_parsed_actions_on_valid_teacher_turns() -> None:
    same = Fixed("gcd", "Thought:\nsearch it\n\nAction:\nsearch[green tea]")  # other thought, same action
    figures = agreement([RECORD], same, "shop", [], "agentbench", independent=False)
    assert figures["agreement"] == 1.0
    assert figures["teacher_valid_turns"] == 1 and figures["teacher_invalid_turns"] == 1
    assert same.seen == [[RECORD["transcript"][0]["content"]]]  # only valid teacher turns are replayed
    other = Fixed("gcd", CLICK)
    assert agreement([RECORD], other, "shop", [], "agentbench", independent=False)["agreement"] == 0.0


def test_agreement_records_every_turn_with_both_actions() -> None:
    figures = agreement([RECORD], Fixed("gcd", CLICK), "shop", [], "agentbench", independent=False)
    first, second = figures["turns"]
    assert (first["task_id"], first["turn"], first["agree"]) == ("shop-test-0000", 0, False)
    assert "search" in first["teacher_action"] and "green tea" in first["teacher_action"]
    assert "click" in first["student_action"] and first["student_reply"] == CLICK
    assert second["turn"] == 1 and second["agree"] is None and second["teacher_action"] is None


def test_the_command_replays_the_chosen_env_and_episodes(tmp_path, capsys) -> None:
    import json

    from agents.registry import clear_backends
    from harness.agreement import main
    from tests.agents.conftest import build_tiny_model

    model = build_tiny_model(tmp_path / "tiny", max_positions=4096)
    teacher = tmp_path / "teacher"
    teacher.mkdir()
    records = [{**RECORD, "task_id": f"shop-test-000{i}", "env": "shop"} for i in range(3)]
    records.append({**RECORD, "task_id": "os-test-0000", "env": "os"})
    (teacher / "episodes.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    (teacher / "summary.json").write_text(json.dumps({"model": str(model), "split": "test"}))
    out = tmp_path / "noprompt"
    args = ["--agent", "noprompt", "--teacher-run", str(teacher), "--out", str(out)]
    assert main([*args, "--env", "shop", "--limit", "2"]) == 0
    clear_backends()
    figures = json.loads((out / "agreement.json").read_text())
    assert list(figures) == ["shop"] and figures["shop"]["episodes"] == 2
    assert figures["shop"]["teacher_valid_turns"] == 2  # one valid turn per replayed episode
    assert "turns" not in figures["shop"]
    turns = [json.loads(line) for line in (out / "agreement_turns.jsonl").read_text().splitlines()]
    assert [(t["task_id"], t["turn"]) for t in turns] == [
        (f"shop-test-000{i}", j) for i in (0, 1) for j in (0, 1)
    ]
    assert main([*args, "--env", "os"]) == 0  # another env's turns join the file; the shop's stay
    clear_backends()
    turns = [json.loads(line) for line in (out / "agreement_turns.jsonl").read_text().splitlines()]
    assert sorted({t["env"] for t in turns}) == ["os", "shop"] and len(turns) == 4 + 2
    capsys.readouterr()
    assert main([*args, "--env", "web"]) == 2
    assert "no episodes of env(s) ['web']" in capsys.readouterr().err


def test_mcnemar_exact_p_matches_hand_values() -> None:
    from harness.stats import mcnemar_exact_p

    # 0 of 5 discordant turns for A: 2 * (1/32) = 0.0625; an even split is p = 1; none discordant is p = 1.
    assert mcnemar_exact_p(0, 5) == 0.0625 and mcnemar_exact_p(5, 0) == 0.0625
    assert mcnemar_exact_p(3, 3) == 1.0 and mcnemar_exact_p(0, 0) == 1.0
    # 2 of 10: 2 * (1 + 10 + 45) / 1024
    assert abs(mcnemar_exact_p(2, 8) - 2 * 56 / 1024) < 1e-12


def _turns(agrees: list[bool | None]) -> list[dict]:
    return [
        {
            "env": "shop",
            "task_id": "t",
            "turn": i,
            "teacher_action": None if a is None else "search[x]",
            "agree": a,
        }
        for i, a in enumerate(agrees)
    ]


def test_compare_turns_pairs_the_same_teacher_turns(tmp_path, capsys) -> None:
    import json

    from harness.agreement import compare_turns, main

    a = _turns([True, True, True, False, None])
    b = _turns([True, False, False, True, None])
    figures = compare_turns(a, b)
    assert (figures["turns"], figures["both"], figures["only_a"], figures["only_b"], figures["neither"]) == (
        4,
        1,
        2,
        1,
        0,
    )
    assert figures["p_value"] == 1.0  # 2 against 1 of 3 discordant turns
    with pytest.raises(ValueError, match="different teacher turns"):
        compare_turns(a, _turns([True, False]))
    for name, turns in (("gcd", a), ("seqkd", b)):
        (tmp_path / name).mkdir()
        (tmp_path / name / "agreement_turns.jsonl").write_text("".join(json.dumps(t) + "\n" for t in turns))
    assert main(["--compare", str(tmp_path / "gcd"), str(tmp_path / "seqkd")]) == 0
    out = capsys.readouterr().out
    assert (
        "gcd 0.750, seqkd 0.500 on 4 teacher turns" in out and "only gcd agrees on 2, only seqkd on 1" in out
    )
    assert "(exact McNemar p = 1.000)" in out
    assert main(["--compare", str(tmp_path / "gcd"), str(tmp_path / "nope")]) == 2
    assert "does not exist" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["--agent", "gcd"])
    assert "--teacher-run, --out" in capsys.readouterr().err
