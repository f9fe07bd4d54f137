"""The OS env's Docker-free parts: reply parsers and renderers of every prompt variant, the AgentBench protocol
data, the task-file loader's validation, the match judge, and the seeded generator's determinism."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from envs.core import SPLITS, TaskError
from envs.os_shell.env import OSEnv
from envs.os_shell.generator import FAMILY_NAMES
from envs.os_shell.judge import judge_match
from envs.os_shell.protocol import (
    VARIANTS,
    Action,
    InvalidAction,
    first_observation,
    format_observation,
    load_protocol,
    parse_reply,
    prompt_messages,
    protocol_file,
    render_action,
    truncate_output,
)
from envs.os_shell.tasks import (
    GENERATOR_VERSION,
    TEST_SPLIT_SHA256,
    CheckEval,
    MatchEval,
    agentbench_dev_file,
    generate_split,
    generate_task,
    load_agentbench,
    split_digest,
)

# -- AgentBench syntax -------------------------------------------------------------------------------------------


def test_agentbench_bash_joins_every_fenced_block():
    reply = "Think: two steps.\n\n```bash\ncd /tmp\n```\ntext\n```bash\nls -1 | wc -l\n```\n\nAct: bash"
    assert parse_reply(reply) == Action("bash", "cd /tmp\n\nls -1 | wc -l")


def test_agentbench_last_act_line_wins():
    reply = "Think: x\nAct: bash\n```bash\nls\n```\nAct: answer(42)"
    assert parse_reply(reply) == Action("answer", "42")
    assert parse_reply("Think: done\n\nAct: finish") == Action("finish")
    assert parse_reply("Think: x\n\nAct: Bash\n\n```bash\npwd\n```") == Action("bash", "pwd")


def test_agentbench_answer_takes_first_open_and_last_close_parenthesis():
    assert parse_reply("Act: answer(f(x) = (1))") == Action("answer", "f(x) = (1)")
    assert parse_reply("Act: answer( 7 )") == Action("answer", " 7 ")


def test_agentbench_answer_without_parentheses_falls_back_to_earlier_act():
    # AgentBench walks the Act lines from the last one back and skips an answer it cannot read.
    assert parse_reply("Act: finish\nAct: answer 42") == Action("finish")
    with pytest.raises(InvalidAction, match="names no valid action"):
        parse_reply("Think: the answer is 42\nAct: answer 42")


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        ("The answer is 42.", 'no line starting with "Act:"'),
        ("Think: hm\nAct: run\n```bash\nls\n```", "names no valid action"),
        ("", 'no line starting with "Act:"'),
        ('{"thought": "x", "action": "finish", "input": ""}', 'no line starting with "Act:"'),
        ("Thought: x\nAction: finish[]", 'no line starting with "Act:"'),
    ],
)
def test_agentbench_malformed_replies_are_invalid_with_a_clear_message(reply, message):
    with pytest.raises(InvalidAction, match=message):
        parse_reply(reply, "agentbench")


def test_agentbench_bash_without_block_parses_to_empty_script():
    assert parse_reply("Think: x\nAct: bash\nls -l") == Action("bash", "")


# -- JSON syntax -------------------------------------------------------------------------------------------------


def test_json_reply_may_reason_before_its_json_line():
    reply = 'Let me count.\n{"thought": "count", "action": "bash", "input": "ls -1 /etc | wc -l"}'
    assert parse_reply(reply, "json") == Action("bash", "ls -1 /etc | wc -l")
    assert parse_reply('{"action": "finish"}', "json") == Action("finish")
    assert parse_reply('{"thought": "t", "action": "answer", "input": "220"}', "json") == Action(
        "answer", "220"
    )


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        ("Act: answer(3)", "no JSON object line"),
        ('{"thought": "x", "action": "bash", "input": "ls"', "not valid JSON"),
        ('{"thought": "x", "action": "run", "input": "ls"}', '"action" must be one of'),
        ('{"thought": "x", "action": "bash", "input": ["ls"]}', '"input" must be a string'),
        ("Thought: x\nAction: bash[ls]", "no JSON object line"),
    ],
)
def test_json_malformed_replies_are_invalid_with_a_clear_message(reply, message):
    with pytest.raises(InvalidAction, match=message):
        parse_reply(reply, "json")


# -- ReAct syntax ------------------------------------------------------------------------------------------------


def test_react_argument_spans_lines_and_last_action_wins():
    reply = (
        "Thought: a\nAction: bash[ls]\nThought: no, better\nAction: bash[for f in a b; do\n  echo [$f]\ndone]"
    )
    assert parse_reply(reply, "react") == Action("bash", "for f in a b; do\n  echo [$f]\ndone")
    assert parse_reply("Thought: done\nAction: finish[]", "react") == Action("finish")
    assert parse_reply("Action: Answer[ /usr/bin ]", "react") == Action("answer", " /usr/bin ")


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        ("Thought: x\nAct: finish", 'no line starting with "Action:"'),
        ("Thought: x\nAction: bash ls", "has no \\[argument\\]"),
        ("Thought: x\nAction: run[ls]", "unknown action 'run'"),
        ('{"thought": "x", "action": "finish", "input": ""}', 'no line starting with "Action:"'),
    ],
)
def test_react_malformed_replies_are_invalid_with_a_clear_message(reply, message):
    with pytest.raises(InvalidAction, match=message):
        parse_reply(reply, "react")


# -- rendering ---------------------------------------------------------------------------------------------------

ROUND_TRIP_ACTIONS = [
    Action("bash", "ls -1 /etc | wc -l"),
    Action("bash", "for f in *.log; do\n  echo \"[$f]\" 'x(y)'\ndone"),
    Action("bash", 'python3 -c "print({\\"a\\": 1})"'),
    Action("answer", "220"),
    Action("answer", 'f(x) [1] {2} "q"'),
    Action("answer", "/usr/local/bin"),
    Action("finish"),
]


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("action", ROUND_TRIP_ACTIONS, ids=lambda a: f"{a.kind}:{a.content[:12]}")
def test_parse_inverts_render_for_every_variant_and_action(variant, action):
    reply = render_action(action, "Some thought,\nover two lines.", variant)
    assert parse_reply(reply, variant) == action
    for other in VARIANTS:
        if other != variant:
            with pytest.raises(InvalidAction):
                parse_reply(reply, other)


def test_render_refuses_what_the_agentbench_syntax_cannot_carry():
    with pytest.raises(ValueError, match="one line"):
        render_action(Action("answer", "a\nb"), "t", "agentbench")
    with pytest.raises(ValueError, match="fenced"):
        render_action(Action("bash", "cat <<EOF\n```\nEOF"), "t", "agentbench")
    with pytest.raises(ValueError, match="unknown prompt variant"):
        render_action(Action("finish"), "t", "xml")
    with pytest.raises(ValueError, match="no content"):
        Action("finish", "x")


# -- protocol data and prompts -----------------------------------------------------------------------------------


def test_agentbench_prompt_is_the_data_file_verbatim():
    raw = json.loads(protocol_file().read_text())
    assert prompt_messages("agentbench") == raw["turns"]
    p = load_protocol()
    assert (p.round_limit, p.truncate_over, p.truncate_keep) == (8, 800, 780)
    assert (
        first_observation("How many?")
        == "Now, I will start a new problem in a new OS. My problem is:\n\nHow many?"
    )


@pytest.mark.parametrize("variant", VARIANTS)
def test_every_variant_has_an_instruction_and_a_demo_in_its_own_syntax(variant):
    messages = prompt_messages(variant)
    assert [m["role"] for m in messages] == ["user", "assistant", "user", "assistant", "user", "assistant"]
    parsed = [parse_reply(m["content"], variant) for m in messages[1::2]]
    assert parsed == [
        Action("bash", "ls /etc"),
        Action("bash", "ls -1 /etc | wc -l"),
        Action("answer", "220"),
    ]
    for kind in ("bash", "answer", "finish"):
        assert kind in messages[0]["content"]
    # Same environment side for every variant: the demo's observations are AgentBench's.
    assert [m["content"] for m in messages[2::2]] == [
        m["content"] for m in prompt_messages("agentbench")[2::2]
    ]
    assert messages is not prompt_messages(variant)


def test_variant_instructions_differ():
    firsts = {prompt_messages(v)[0]["content"] for v in VARIANTS}
    assert len(firsts) == len(VARIANTS)


def test_truncation_and_observation_templates():
    assert truncate_output("x" * 800) == "x" * 800
    cut = truncate_output("y" * 801)
    assert cut == "y" * 780 + "\n[truncated because the output is too long]"
    assert format_observation("") == "The output of the OS is empty."
    assert format_observation("220\n") == "The output of the OS:\n\n220\n"
    assert format_observation("z" * 2000).endswith("[truncated because the output is too long]")


# -- judge (match) -----------------------------------------------------------------------------------------------


def test_match_judge_strips_and_supports_regex():
    assert judge_match(MatchEval(answer="12"), " 12\n").score == 1.0
    assert judge_match(MatchEval(answer="12"), "12 files").score == 0.0
    assert judge_match(MatchEval(answer="12", strip=False), " 12").score == 0.0
    assert judge_match(MatchEval(regex=r"^\d+ KB$"), "40 KB").score == 1.0
    assert judge_match(MatchEval(regex=r"^\d+ KB$"), "40 MB").score == 0.0
    verdict = judge_match(MatchEval(answer="12"), None)
    assert verdict.score == 0.0 and "no answer" in verdict.detail


# -- AgentBench task files ---------------------------------------------------------------------------------------


def test_dev_set_loads_with_a_reference_for_every_item():
    tasks = load_agentbench(agentbench_dev_file())
    assert len(tasks) == 26
    assert tasks[7].id == "agentbench-dev-0007"
    assert all(t.reference for t in tasks), [t.id for t in tasks if not t.reference]
    calc = tasks[3]
    assert isinstance(calc.evaluation, CheckEval) and not calc.expects_answer
    assert calc.evaluation.scripts[0].name == "check/0.sh"
    hidden = tasks[6]
    assert isinstance(hidden.evaluation, CheckEval) and hidden.evaluation.scripts[0] is None
    assert hidden.expects_answer and hidden.reference == hidden.evaluation.example.code
    assert tasks[0].start and "time.sleep(1)" in tasks[0].start
    assert tasks[25].init[0].name == "init/stock-log.sh"
    assert tasks[10].init == ()  # its "create" is a list, which AgentBench ignores


def _write_tasks(tmp_path: Path, items: object, name: str = "mine.json") -> Path:
    (tmp_path / "scripts" / "check").mkdir(parents=True, exist_ok=True)
    (tmp_path / "scripts" / "check" / "ok.py").write_text("import sys\nsys.exit(0)\n")
    path = tmp_path / name
    path.write_text(json.dumps(items))
    return path


GOOD = {"description": "How many?", "evaluation": {"match": "3"}}


@pytest.mark.parametrize(
    ("item", "field", "problem"),
    [
        ({"evaluation": {"match": "3"}}, "description", "missing"),
        ({"description": "d"}, "evaluation", "missing"),
        ({"description": "d", "evaluation": {"exact": "3"}}, "evaluation", "needs 'match' or 'check'"),
        ({"description": "d", "evaluation": {"match": 3}}, "evaluation.match", "expected a string"),
        (
            {"description": "d", "evaluation": {"match": {"regex": "("}}},
            "evaluation.match.regex",
            "invalid regular",
        ),
        ({"description": "d", "evaluation": {"check": [None]}}, "evaluation.example", "null check entry"),
        (
            {"description": "d", "evaluation": {"check": {"file": "check/missing.py", "language": "python"}}},
            "evaluation.check[0].file",
            "does not exist",
        ),
        (
            {"description": "d", "evaluation": {"check": {"code": "int main(){}", "language": "c++"}}},
            "evaluation.check[0].language",
            "unsupported language",
        ),
        (
            {"description": "d", "create": {"init": {"lang": "x"}}, "evaluation": {"match": "1"}},
            "create.init[0]",
            "needs",
        ),
        ({"description": "d", "evaluation": {"match": "1"}, "labels": "file"}, "labels", "list of strings"),
        ("just text", "<item>", "expected an object"),
    ],
)
def test_malformed_items_name_the_file_the_item_and_the_field(tmp_path, item, field, problem):
    path = _write_tasks(tmp_path, [GOOD, item])
    with pytest.raises(TaskError) as err:
        load_agentbench(path)
    message = str(err.value)
    assert str(path) in message and "item 1" in message and repr(field) in message and problem in message


def test_loader_accepts_objects_jsonl_and_a_scripts_dir(tmp_path):
    item = {"description": "d", "evaluation": {"check": [{"file": "check/ok.py", "language": "python"}]}}
    path = _write_tasks(tmp_path, item, "single.json")
    (task,) = load_agentbench(path)
    assert task.id == "agentbench-single-0000" and task.evaluation.scripts[0].language == "python"
    lines = tmp_path / "many.jsonl"
    lines.write_text(json.dumps(GOOD) + "\n\n" + json.dumps(item) + "\n")
    tasks = load_agentbench(lines, scripts_dir=tmp_path / "scripts")
    assert [t.id for t in tasks] == ["agentbench-many-0000", "agentbench-many-0001"]
    with pytest.raises(TaskError, match="not found"):
        load_agentbench(tmp_path / "nope.json")
    bad = tmp_path / "bad.json"
    bad.write_text("[{")
    with pytest.raises(TaskError, match="not valid JSON"):
        load_agentbench(bad)


# -- generator ---------------------------------------------------------------------------------------------------


def test_generated_tasks_are_deterministic_across_processes():
    code = "from envs.os_shell.tasks import generate_split, split_digest; print(split_digest(generate_split('test')))"
    digests = set()
    for hash_seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
        )
        digests.add(out.stdout.strip())
    assert digests == {split_digest(generate_split("test"))}
    assert generate_task("train", 123).to_json() == generate_task("train", 123).to_json()


def test_test_split_is_pinned_to_its_version():
    tasks = generate_split("test")
    assert len(tasks) == 100 and tasks[0].id == "os-test-0000" and tasks[99].id == "os-test-0099"
    assert split_digest(tasks) == TEST_SPLIT_SHA256, (
        f"test split changed: bump GENERATOR_VERSION ({GENERATOR_VERSION})"
    )


def test_splits_never_share_a_task():
    def content(task):
        return (task.description, task.init, task.start)

    test = {content(t) for t in generate_split("test")}
    dev = {content(t) for t in generate_split("dev")}
    train = {content(t) for t in generate_split("train", limit=300)}
    assert len(test) == 100 and len(dev) == SPLITS["dev"].size
    assert not test & dev and not test & train and not dev & train


def test_every_family_appears_and_both_task_kinds_are_mixed():
    tasks = generate_split("test")
    assert len(FAMILY_NAMES) >= 15
    assert {t.family for t in tasks} == set(FAMILY_NAMES)
    answers = [t for t in tasks if t.expects_answer]
    changes = [t for t in tasks if not t.expects_answer]
    assert len(answers) >= 50 and len(changes) >= 10
    assert all(isinstance(t.evaluation, CheckEval) for t in changes)
    for t in tasks:
        assert t.reference and t.description and t.init and t.labels[0] == t.family
        if isinstance(t.evaluation, MatchEval):
            assert t.evaluation.answer and "\n" not in t.evaluation.answer


def test_families_vary_their_wording():
    tasks = generate_split("train", limit=len(FAMILY_NAMES) * 12)
    by_family: dict[str, set[str]] = {}
    for t in tasks:
        # The phrasing is the description with its numbers and paths blurred out.
        by_family.setdefault(t.family, set()).add(" ".join(w for w in t.description.split()[:3]))
    assert all(len(openings) >= 2 for openings in by_family.values()), by_family


def test_unknown_index_and_split_are_clear_errors():
    with pytest.raises(IndexError, match="outside split 'test'"):
        generate_task("test", 100)
    with pytest.raises(ValueError, match="unknown split"):
        generate_task("valid", 0)


# -- env construction (no container is started) ------------------------------------------------------------------


def test_env_lists_tasks_and_prompts_without_docker():
    env = OSEnv(split="test", limit=5, prompt_variant="react")
    assert env.task_ids() == [f"os-test-{i:04d}" for i in range(5)]
    assert env.prompt_messages() == prompt_messages("react")
    assert env.task("os-test-0003").family == FAMILY_NAMES[3]
    dev = OSEnv(split="agentbench-dev")
    assert len(dev.task_ids()) == 26 and dev.task_ids()[0] == "agentbench-dev-0000"
    assert OSEnv(tasks_file=agentbench_dev_file(), limit=3).task_ids()[-1] == "agentbench-dev-0002"
    with pytest.raises(ValueError, match="unknown prompt variant"):
        OSEnv(prompt_variant="xml")
    with pytest.raises(ValueError, match="unknown split"):
        OSEnv(split="validation")
    with pytest.raises(ValueError, match="unknown task_id"):
        env.task("os-test-0042")
    with pytest.raises(RuntimeError, match="call reset"):
        env.step("Act: finish")
