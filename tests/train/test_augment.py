"""Name-swap copies of OS transcripts: consistent in every turn, never touching shell or system words."""

from __future__ import annotations

import random
import re

from envs.os_shell.protocol import parse_reply
from train.augment import KEEP, renamed_copy, swappable_names, with_renamed_copies


def _record(description: str, command: str, output: str, answer: str) -> dict:
    return {
        "env": "os",
        "kind": "agent",
        "variant": "agentbench",
        "task_id": "os-train-0001",
        "prompt": [{"role": "user", "content": "You are an assistant that will act like a person."}],
        "messages": [
            {
                "role": "user",
                "content": f"Now, I will start a new problem in a new OS. My problem is:\n\n{description}",
            },
            {"role": "assistant", "content": f"Think: run it.\n\nAct: bash\n\n```bash\n{command}\n```"},
            {"role": "user", "content": f"The output of the OS:\n\n{output}\n"},
            {"role": "assistant", "content": f"Think: The answer is {answer}.\n\nAct: answer({answer})"},
        ],
    }


RECORD = _record(
    "Which file in /srv/willow_data was modified most recently? Answer with the file name only.",
    "ls -t /srv/willow_data | head -1",
    "juniper_notes.txt",
    "juniper_notes.txt",
)


def test_only_names_the_task_states_and_a_reply_repeats_are_swapped():
    assert swappable_names(RECORD) == ["willow"]  # "juniper" is only in the output, "srv"/"data" are kept
    assert {"srv", "data", "head", "file"} <= KEEP


def test_a_copy_renames_every_turn_consistently_and_still_parses():
    copy = renamed_copy(RECORD, random.Random(0))
    assert copy is not None and copy["augmented"] == "renamed"
    new = re.search(r"/srv/(\w+)_data", copy["messages"][0]["content"]).group(1)
    assert new != "willow" and new.isalpha() and 4 <= len(new) <= 6
    assert "willow" not in " ".join(m["content"] for m in copy["messages"])
    command = parse_reply(copy["messages"][1]["content"], "agentbench")
    assert command.content == f"ls -t /srv/{new}_data | head -1"  # the command follows the renamed task
    assert copy["prompt"] == RECORD["prompt"] and RECORD["messages"][1]["content"].count("willow") == 1


def test_copies_are_seeded_and_only_for_the_os_agent_side():
    nothing = _record("How many users are there?", "getent passwd | wc -l", "12", "12")
    web = {**RECORD, "env": "web"}
    env_side = {**RECORD, "kind": "env"}
    out = with_renamed_copies([RECORD, nothing, web, env_side], copies=3, seed=7)
    assert len(out) == 4 + 3  # three copies of RECORD; nothing to swap in the other OS record
    assert out[4:] == with_renamed_copies([RECORD], copies=3, seed=7)[1:]
    assert len({c["messages"][1]["content"] for c in out[4:]}) == 3  # each copy draws new names
    assert renamed_copy(nothing, random.Random(0)) is None
