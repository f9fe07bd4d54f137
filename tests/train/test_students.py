"""The student pipeline on a tiny random model: examples, losses, stage resume, training resume.

A tiny random Llama (tests.agents.conftest) stands in for the base model: these tests check the mechanics
(what is trained, what is cached, what resumes), not what a student learns.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch
from transformers import AutoTokenizer, TrainerCallback

import envs
from agents.registry import clear_backends, get_backend
from tests.agents.conftest import build_tiny_model
from train.students.config import StudentConfig
from train.students.dataset import Collator, build_rows
from train.students.examples import IGNORE, TooLong, encode_chat, pg_example, prompt_text
from train.students.losses import gather_rows, joint, token_ce, token_kl
from train.students.stages import Stage
from train.students.synthesis import environment_view, synthesize_inputs, synthesize_outputs
from train.students.trainer import train_adapter

PROMPT = [
    {"role": "user", "content": "You shop. Reply with Thought: then Action: search[...] or click[...]."},
    {"role": "assistant", "content": "Ok."},
]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_model(tmp_path_factory.mktemp("tiny"), max_positions=4096)


@pytest.fixture(scope="module")
def tokenizer(tiny: Path):
    return AutoTokenizer.from_pretrained(tiny)


def decode_trained(tokenizer, ex) -> str:
    return tokenizer.decode([ex.input_ids[i] for i in ex.trained])


def test_sft_labels_cover_assistant_turns_only(tokenizer) -> None:
    messages = [
        {"role": "user", "content": "WebShop [SEP] Instruction: tea"},
        {"role": "assistant", "content": "Action:\nsearch[tea]"},
        {"role": "user", "content": "results"},
        {"role": "assistant", "content": "Action:\nclick[b01]"},
    ]
    ex = encode_chat(tokenizer, messages)
    trained = decode_trained(tokenizer, ex)
    assert "search[tea]" in trained and "click[b01]" in trained
    assert "Instruction" not in trained and "results" not in trained
    # the in-context prompt's own assistant turn is never trained
    with_prompt = encode_chat(tokenizer, PROMPT + messages, skip=len(PROMPT))
    assert "Ok." not in decode_trained(tokenizer, with_prompt)
    assert decode_trained(tokenizer, with_prompt) == trained


def test_pg_target_is_the_whole_prompt_then_the_reason(tokenizer) -> None:
    long_input = "tea " * 600  # the question is cut to fit, never the answer
    ex = pg_example(tokenizer, PROMPT, long_input, "bad", "Action:\nsearch[tea]", "It searches.", max_len=900)
    assert len(ex.input_ids) <= 900
    target = decode_trained(tokenizer, ex)
    assert prompt_text(PROMPT) in target
    assert target.index(prompt_text(PROMPT)) < target.index("It searches.")
    with pytest.raises(TooLong, match="the prompt is never cut"):
        pg_example(tokenizer, PROMPT, "x", "bad", "good", "reason", max_len=20)


def test_environment_view_swaps_roles_after_the_instruction() -> None:
    instruction = [{"role": "user", "content": "Act as the shop."}]
    messages = [
        {"role": "user", "content": "first page"},
        {"role": "assistant", "content": "search[tea]"},
    ]
    view = environment_view(instruction, messages)
    assert view == [
        {"role": "user", "content": "Act as the shop."},
        {"role": "assistant", "content": "first page"},
        {"role": "user", "content": "search[tea]"},
    ]


def test_joint_loss_and_token_ce_on_a_hand_example() -> None:
    # vocab 2; position 0 predicts token 1 with logits (0, ln 3): p = 3/4, loss = -ln(3/4)
    logits = torch.tensor([[[0.0, math.log(3.0)], [5.0, 5.0]]])
    labels = torch.tensor([[IGNORE, 1]])
    assert token_ce(logits, labels).item() == pytest.approx(-math.log(0.75), abs=1e-6)
    pg, sft = torch.tensor(2.0), torch.tensor(1.0)
    assert joint(pg, sft, 0.7).item() == pytest.approx(0.3 * 2.0 + 0.7 * 1.0)
    assert joint(pg, sft, 1.0).item() == 1.0 and joint(pg, sft, 0.0).item() == 2.0
    assert joint(None, sft, 0.3).item() == 1.0


def test_token_kl_against_a_hand_computed_value() -> None:
    teacher = torch.log(torch.tensor([[0.5, 0.5], [0.9, 0.1]]))
    student = torch.log(torch.tensor([[0.25, 0.75], [0.9, 0.1]]))
    expected = 0.5 * math.log(0.5 / 0.25) + 0.5 * math.log(0.5 / 0.75)  # second row: KL 0
    mask = torch.tensor([True, True])
    assert token_kl(teacher, student, mask).item() == pytest.approx(expected / 2, abs=1e-6)
    only_first = torch.tensor([True, False])
    assert token_kl(teacher, student, only_first).item() == pytest.approx(expected, abs=1e-6)
    rows = gather_rows(torch.arange(12.0).reshape(1, 3, 4), torch.tensor([[2, -1]]))
    assert rows[0].tolist() == [8.0, 9.0, 10.0, 11.0]


def conversation() -> dict:
    return {
        "key": "t1",
        "error": None,
        "messages": [
            {"role": "user", "content": "WebShop [SEP] Instruction: tea"},
            {"role": "assistant", "content": "Action:\nsearch[tea]"},
            {"role": "user", "content": "final page"},
        ],
    }


@pytest.mark.parametrize("method", ["gcd", "seqkd", "seqkd-kld", "prepend-100"])
def test_rows_carry_the_parts_of_each_method(tokenizer, method: str) -> None:
    config = StudentConfig.default(method, "shop")
    outputs = [{"key": "t1", "input": "tea", "as_is": "buy", "to_be": "Action:\nsearch[tea]"}]
    reasons = [{"key": "t1", "reason": "format"}]
    rows, counts = build_rows(
        config, tokenizer, PROMPT, [conversation()], outputs, reasons, max_len=4096, independent_turns=False
    )
    assert len(rows) == 1 and counts["conversations"] == 1
    assert ("pg" in rows[0]) == (method == "gcd")
    assert ("teacher" in rows[0]) == (method == "seqkd-kld")
    prompt_in_context = "You shop" in tokenizer.decode(rows[0]["sft"].input_ids)
    assert prompt_in_context == (method == "prepend-100")
    batch = Collator(0)(rows + rows)
    assert batch["sft"]["input_ids"].shape[0] == 2


def test_interrupted_synthesis_resumes_without_repeating(tmp_path: Path, tiny: Path) -> None:
    config = StudentConfig.default("gcd", "shop", n_inputs=4)
    make_env = lambda: envs.make("shop", split="train", limit=4)  # noqa: E731
    inputs = synthesize_inputs(Stage(tmp_path / "inputs", {}), config, make_env)
    assert len(inputs) == 4
    stage = Stage(tmp_path / "outputs", {})
    with stage.writer() as write:  # two items finished, then a kill in the middle of the third line
        for item in inputs[:2]:
            write({**item, "as_is": "a", "to_be": "b"})
    with open(stage.path, "a") as f:
        f.write('{"key": "torn')
    backend = get_backend(str(tiny))
    before = backend.requests_run
    outputs = synthesize_outputs(stage, config, str(tiny), inputs, PROMPT)
    assert backend.requests_run - before == 2 * 2  # AS-IS and TO-BE for the two unfinished inputs only
    assert sorted(o["key"] for o in outputs) == sorted(i["key"] for i in inputs)
    assert stage.complete
    clear_backends()


class StopAfter(TrainerCallback):
    def __init__(self, step: int):
        self.step = step

    def on_step_end(self, args, state, control, **kwargs):
        if state.global_step == self.step:
            raise KeyboardInterrupt


def test_interrupted_training_resumes_from_its_checkpoint(tmp_path: Path, tiny: Path, tokenizer) -> None:
    config = StudentConfig.default("seqkd", "shop", epochs=4.0, batch_size=2)
    rows, _ = build_rows(
        config, tokenizer, PROMPT, [conversation()] * 4, [], [], max_len=4096, independent_turns=False
    )
    out = tmp_path / "adapter"
    with pytest.raises(KeyboardInterrupt):  # killed after step 5; checkpoints every 2 steps
        train_adapter(config, tiny, rows, out, progress=False, callbacks=[StopAfter(5)])
    assert not (out / "adapter_config.json").exists()
    metrics = train_adapter(config, tiny, rows, out, progress=False)
    assert metrics["resumed_from"] == "checkpoint-4"
    assert metrics["steps"] == 8
    assert (out / "adapter_config.json").is_file()


def test_inputs_from_a_model_are_numbered_items_without_duplicates(tmp_path: Path) -> None:
    from tests.agents.conftest import fake_openai_server as fake_server

    def behaviour(path: str, body, n: int):
        if path.endswith("/models"):
            return 200, {"data": [{"id": "inventor"}]}, {}
        text = f"Here you go:\n1. buy green tea {n}\n2) buy a red mug\n3. buy a red mug\nnot an item"
        choice = {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}
        return 200, {"choices": [choice], "usage": {"prompt_tokens": 1, "completion_tokens": 1}}, {}

    with fake_server(behaviour) as (url, seen):
        config = StudentConfig.default(
            "gcd", "shop", inputs="llm", input_model=url, conversations="roleplay", n_inputs=5
        )
        make_env = lambda: envs.make("shop", split="train", limit=5)  # noqa: E731
        items = synthesize_inputs(Stage(tmp_path / "inputs", {}), config, make_env)
    clear_backends()
    texts = [item["input"] for item in items]
    assert len(texts) == 5 and len(set(texts)) == 5
    assert texts.count("buy a red mug") == 1 and "not an item" not in texts
    request = next(s["body"] for s in seen if s["body"])["messages"][0]["content"]
    assert "numbered list" in request and "Instruction" in request  # the prompt and the examples are shown


def test_cpu_recipe_trains_every_method_for_the_same_steps() -> None:
    gcd = StudentConfig.default("gcd", "shop", device="cpu")
    seqkd = StudentConfig.default("seqkd", "shop", device="cpu")
    assert gcd.total_steps(200) == seqkd.total_steps(40) == 40
    # passes over the data asked for: the step count follows from them (2 rows of 8 for 16 rows, 3 passes)
    assert StudentConfig.default("seqkd", "shop", device="cpu", epochs=3.0).total_steps(16) == 6
    assert StudentConfig.default("gcd", "shop", device="cuda").total_steps(640) == 10 * 640 // 32
    with pytest.raises(ValueError, match="steps must be at least 1"):
        StudentConfig.default("gcd", "shop", steps=0)


def test_invented_inputs_default_to_roleplay_conversations() -> None:
    # The real env can only play its own tasks, so --inputs llm alone must pick role-play, not fail.
    url = "http://127.0.0.1:9"
    assert StudentConfig.default("gcd", "os", inputs="llm", input_model=url).conversations == "roleplay"
    assert StudentConfig.default("gcd", "os").conversations == "env"
    with pytest.raises(ValueError, match="env conversations play the env's own tasks"):
        StudentConfig.default("gcd", "os", inputs="llm", input_model=url, conversations="env")


def test_train_seed_varies_the_build_but_not_the_data() -> None:
    base = StudentConfig.default("gcd", "shop", device="cpu")
    other = StudentConfig.default("gcd", "shop", device="cpu", train_seed=1)
    assert other.data_fingerprint() == base.data_fingerprint()  # the same synthesis is reused
    assert other.train_fingerprint() != base.train_fingerprint()  # a new adapter
    assert (base.training_seed, other.training_seed) == (0, 1)
    # the synthesis seed moves both, and is the training's seed when no train_seed is set
    reseeded = StudentConfig.default("gcd", "shop", device="cpu", seed=2)
    assert reseeded.data_fingerprint() != base.data_fingerprint() and reseeded.training_seed == 2
    # naming the training seed the synthesis seed already gives is still its own key
    assert StudentConfig.default("gcd", "shop", device="cpu", train_seed=0).train_fingerprint() != (
        base.train_fingerprint()
    )
