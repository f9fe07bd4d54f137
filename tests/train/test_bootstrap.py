"""The micro preset trains end to end in seconds, saves a loadable folder and generates through HFBackend."""

from __future__ import annotations

import json

import pytest
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer, LlamaConfig, LlamaForCausalLM

from agents.backends.hf import HFBackend
from train.batching import (
    Sample,
    batch_loss,
    batches,
    collate,
    encode_sample,
    mixed_batches,
)
from train.bootstrap import (
    MARKER,
    BootstrapConfig,
    train,
)
from train.build_steps import lr_at
from train.presets import get_preset, with_overrides
from train.tokenizer import train_tokenizer

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def micro_model(tiny_corpus, tmp_path_factory):
    out = tmp_path_factory.mktemp("micro")
    info = {"path": str(tiny_corpus.path), "data_hash": tiny_corpus.data_hash}
    config = BootstrapConfig(preset=get_preset("micro"), out=out, seed=0, progress=False)
    return train(tiny_corpus.records(), info, config)


def test_saved_folder_is_complete_and_records_its_run(micro_model, tiny_corpus):
    assert (micro_model / MARKER).is_file()
    train_config = json.loads((micro_model / "train_config.json").read_text())
    metrics = json.loads((micro_model / "metrics.json").read_text())
    assert train_config["corpus"]["data_hash"] == tiny_corpus.data_hash
    assert train_config["seed"] == 0 and train_config["preset"]["name"] == "micro"
    assert train_config["data"]["dropped_too_long"] == 0
    assert len(metrics["loss"]) == get_preset("micro").steps == metrics["steps_done"]
    assert all(loss > 0 for loss in metrics["loss"]) and metrics["tokens_per_s"] > 0


def test_folder_loads_with_auto_classes_and_generates_through_hf_backend(micro_model, tiny_corpus):
    model = AutoModelForCausalLM.from_pretrained(micro_model)
    tok = AutoTokenizer.from_pretrained(micro_model)
    assert model.config.vocab_size == len(tok)
    assert model.generation_config.eos_token_id == tok.eos_token_id
    record = tiny_corpus.records()[0]
    messages = [*record["prompt"], record["messages"][0]]
    with HFBackend(micro_model) as backend:
        completion = backend.generate(messages, max_new_tokens=8)
    assert isinstance(completion.text, str)
    assert 1 <= completion.usage.generated_tokens <= 8
    assert completion.usage.prompt_tokens == len(
        tok.apply_chat_template(messages, add_generation_prompt=True)["input_ids"]
    )


def test_same_seed_gives_same_weights(tiny_corpus, tmp_path):
    info = {"data_hash": tiny_corpus.data_hash}
    records = tiny_corpus.records()
    runs = []
    for name in ("a", "b"):
        config = BootstrapConfig(preset=get_preset("micro"), out=tmp_path / name, seed=3, progress=False)
        folder = train(records, info, config)
        runs.append(
            (
                json.loads((folder / "metrics.json").read_text())["loss"],
                AutoModelForCausalLM.from_pretrained(folder),
            )
        )
    assert runs[0][0] == runs[1][0]
    for p, q in zip(runs[0][1].parameters(), runs[1][1].parameters(), strict=True):
        assert torch.equal(p, q)


def test_the_seed_is_the_presets_unless_given_and_a_given_one_is_part_of_the_fingerprint(tmp_path):
    preset = with_overrides(get_preset("micro"), seed=5)
    config = BootstrapConfig(preset=preset, out=tmp_path)
    assert config.seed == 5 and config.corpus_config().seed == 5 and config.preset == preset
    other = BootstrapConfig(preset=preset, out=tmp_path, seed=3)
    assert other.seed == 3 and other.preset.seed == 3 and other.corpus_config().seed == 3
    # a build with another seed is not the preset's model: its fingerprint says so
    assert other.preset.fingerprint() != preset.fingerprint()
    assert BootstrapConfig(preset=preset, out=tmp_path, seed=5).preset.fingerprint() == preset.fingerprint()


def test_conversation_without_prompt_is_refused(tiny_corpus, tmp_path):
    record = dict(tiny_corpus.records()[0], prompt=[])
    config = BootstrapConfig(preset=get_preset("micro"), out=tmp_path, progress=False)
    with pytest.raises(ValueError, match="has no prompt"):
        train([record], {}, config)


def _tiny_samples(tok, n: int) -> list[Sample]:
    prompt = [{"role": "user", "content": "You are an agent. Reply with Act: answer(N)."}]
    records = [
        {
            "prompt": prompt,
            "messages": [{"role": "user", "content": "hello " * k}, {"role": "assistant", "content": "x"}],
        }
        for k in range(1, n + 1)
    ]
    return [encode_sample(tok, r) for r in records]


def test_batches_share_one_prompt_respect_the_budget_and_target_only_replies():
    tok = train_tokenizer(["hello world 123", "Act: answer(7)", "You are an agent."] * 10, vocab_size=300)
    data = _tiny_samples(tok, 29)
    prompt_len = len(data[0].prompt)
    stream = batches(data, batch_tokens=prompt_len + 120, seed=0, pad_id=tok.pad_token_id)
    seen = 0
    for _ in range(20):
        batch = next(stream)
        assert batch.prompt.shape == (1, prompt_len)
        assert batch.ids.numel() <= 120 or batch.ids.shape[0] == 1
        assert (batch.targets <= batch.real).all()
        # each row's targets are exactly the assistant reply "x" and its <|end|>
        assert int(batch.targets.sum()) == 2 * batch.ids.shape[0]
        seen += batch.ids.shape[0]
    assert seen >= len(data)


def test_a_large_budget_fills_batches_past_64_conversations_and_a_small_one_keeps_windows_of_64():
    from train.batching import sort_window

    tok = train_tokenizer(["hello world 123", "Act: answer(7)", "You are an agent."] * 10, vocab_size=300)
    data = [s for s in _tiny_samples(tok, 4) for _ in range(100)]  # 400 short conversations, one prompt
    prompt_len, longest = len(data[0].prompt), max(len(s.ids) for s in data)
    budget = prompt_len + 300 * longest  # room for 300 rows of any length
    batch = next(batches(data, budget, seed=0, pad_id=tok.pad_token_id))
    # a fixed window of 64 capped every batch at 64 rows whatever the budget (the gpu preset's OS batches)
    assert batch.ids.shape[0] > 64
    assert prompt_len + batch.ids.numel() <= budget
    assert sort_window(prompt_len, longest, budget) >= 2 * 300
    # the cpu preset's budgets hold fewer than 32 typical conversations: its windows stay at 64
    assert sort_window(315, 132, 3365) == 64 and sort_window(939, 1127, 6144) == 64


def test_step_share_sets_each_envs_share_of_the_steps_whatever_its_lengths():
    from dataclasses import replace

    tok = train_tokenizer(["hello world 123", "Act: answer(7)", "You are an agent."] * 10, vocab_size=300)
    short = [replace(s, env="os") for s in _tiny_samples(tok, 40)[:5]]  # many fit one batch
    long = [replace(s, env="web") for s in _tiny_samples(tok, 40)[-5:]]  # one per batch
    budget = len(short[0].prompt) + 60
    shared = [next(batches(short + long, budget, seed, tok.pad_token_id)) for seed in range(200)]
    share = {"os": 0.5, "web": 0.5}
    stream = mixed_batches(short + long, budget, 0, tok.pad_token_id, share)
    drawn = [next(stream) for _ in range(400)]

    def is_os(batch) -> bool:
        return batch.ids.shape[1] < 20  # the "os" rows are the short ones

    # without shares the long env takes most steps; with 50/50 shares each gets about half
    assert sum(map(is_os, shared)) < 0.45 * len(shared)
    assert 0.4 < sum(map(is_os, drawn)) / len(drawn) < 0.6
    assert list(mixed_batches(short + long, budget, 0, tok.pad_token_id, {}).__next__().ids.shape)
    with pytest.raises(ValueError, match="no weight"):
        next(mixed_batches(short, budget, 0, tok.pad_token_id, {"shop": 1.0}))


def test_shared_prompt_loss_and_gradient_equal_separate_full_conversations():
    tok = train_tokenizer(["hello world 123", "Act: answer(7)", "You are an agent."] * 10, vocab_size=300)
    data = _tiny_samples(tok, 3)
    config = LlamaConfig(
        vocab_size=len(tok), hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
        num_key_value_heads=2, max_position_embeddings=256,
    )  # fmt: skip
    torch.manual_seed(0)
    model = LlamaForCausalLM(config)
    shared, reply = batch_loss(model, collate(data, tok.pad_token_id))
    shared.backward()
    grads = [p.grad.clone() for p in model.parameters()]
    model.zero_grad()
    total, count = 0.0, 0
    for sample in data:
        ids = torch.tensor([[*sample.prompt, *sample.ids]])
        mask = torch.tensor([[False] * len(sample.prompt) + list(sample.targets)])
        logits = model(input_ids=ids).logits[0, :-1]
        nll = torch.nn.functional.cross_entropy(logits, ids[0, 1:], reduction="none")
        total = total + (nll * mask[0, 1:]).sum()
        count += int(mask[0, 1:].sum())
    separate = total / count
    separate.backward()
    assert shared.item() == pytest.approx(separate.item(), rel=1e-5) and reply == pytest.approx(shared.item())
    for g, p in zip(grads, model.parameters(), strict=True):
        assert torch.allclose(g, p.grad, atol=1e-6)


def test_schedule_warms_up_then_decays_to_min_lr():
    preset = with_overrides(get_preset("micro"), steps=100, warmup_steps=10, lr=1.0, min_lr=0.1)
    assert lr_at(0, preset) == pytest.approx(0.1)
    assert lr_at(9, preset) == pytest.approx(1.0)
    assert lr_at(10, preset) == pytest.approx(1.0)
    assert lr_at(55, preset) == pytest.approx(0.55)
    assert lr_at(100, preset) == pytest.approx(0.1)


def test_env_batch_tokens_lets_long_envs_hold_several_conversations_per_batch():
    from dataclasses import replace

    tok = train_tokenizer(["hello world 123", "Act: answer(7)", "You are an agent."] * 10, vocab_size=300)
    long = [replace(s, env="web") for s in _tiny_samples(tok, 40)[-8:]]
    budget = len(long[0].prompt) + max(len(s.ids) for s in long) + 1  # room for one conversation
    one = next(mixed_batches(long, budget, 0, tok.pad_token_id, {"web": 1.0}))
    several = next(mixed_batches(long, budget, 0, tok.pad_token_id, {"web": 1.0}, {"web": 4 * budget}))
    assert one.ids.shape[0] == 1 and several.ids.shape[0] >= 3
    # a smaller per-env budget never shrinks the shared one (which always fits the longest conversation)
    same = next(mixed_batches(long, budget, 0, tok.pad_token_id, {"web": 1.0}, {"web": 10}))
    assert same.ids.shape[0] == 1


def test_cpu_bf16_follows_the_cpu_flags_unless_forced(monkeypatch):
    from train.bootstrap import cpu_has_bf16

    monkeypatch.setenv("PROMPTLESS_CPU_BF16", "0")
    assert cpu_has_bf16() is False
    monkeypatch.setenv("PROMPTLESS_CPU_BF16", "1")
    assert cpu_has_bf16() is True
    monkeypatch.delenv("PROMPTLESS_CPU_BF16")
    from pathlib import Path

    flags = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    assert cpu_has_bf16() == (" avx512_bf16" in flags or " amx_bf16" in flags)


def train_micro(tiny_corpus, tmp_path, **overrides):
    """(model folder, preset) of the micro preset with ``overrides`` trained on the tiny corpus, seed 0."""
    preset = with_overrides(get_preset("micro"), **overrides)
    config = BootstrapConfig(preset=preset, out=tmp_path / "m", seed=0, progress=False)
    return train(tiny_corpus.records(), {"data_hash": tiny_corpus.data_hash}, config), preset


def test_copy_warm_up_and_copy_loss_train_and_are_recorded(tiny_corpus, tmp_path):
    folder, preset = train_micro(
        tiny_corpus, tmp_path, copy_warmup_steps=30, copy_weight=0.5, copy_span=8, lr=1e-2
    )
    metrics = json.loads((folder / "metrics.json").read_text())
    warm = metrics["copy_warmup_loss"]
    assert len(warm) == 30 and metrics["steps_done"] == preset.steps
    assert sum(warm[-5:]) / 5 < sum(warm[:5]) / 5  # the copy drill is learned, not just run


def test_the_warm_up_runs_on_until_the_drill_is_learnt_and_no_further(tiny_corpus, tmp_path):
    from train.build_steps import copy_formed

    assert not copy_formed([0.1] * 49, 1.0) and copy_formed([0.1] * 50, 1.0)
    assert not copy_formed([5.0] * 50 + [0.1] * 10, 1.0) and not copy_formed([0.1] * 50, 0.0)
    # a bar no micro model reaches: every extra step runs, each at the full shift
    folder, _ = train_micro(
        tiny_corpus,
        tmp_path / "a",
        copy_warmup_steps=4,
        copy_extra_steps=5,
        copy_formed_loss=1e-6,
        copy_span=8,
    )
    assert len(json.loads((folder / "metrics.json").read_text())["copy_warmup_loss"]) == 9
    # a bar already met after the fixed steps (50 of them, mean far under 1e6): none runs
    folder, _ = train_micro(
        tiny_corpus,
        tmp_path / "b",
        copy_warmup_steps=50,
        copy_extra_steps=5,
        copy_formed_loss=1e6,
        copy_span=8,
    )
    assert len(json.loads((folder / "metrics.json").read_text())["copy_warmup_loss"]) == 50


def test_the_warm_up_grows_the_copy_rows_shift_and_training_keeps_the_whole_of_it(
    tiny_corpus, tmp_path, monkeypatch
):
    import train.build_steps as steps_module

    shifts: list[float] = []
    real_copy_batch = steps_module.copy_batch

    def spying_copy_batch(rng, vocab_size, first_id, rows, span, shift=0.0):
        shifts.append(shift)
        return real_copy_batch(rng, vocab_size, first_id, rows, span, shift)

    monkeypatch.setattr(steps_module, "copy_batch", spying_copy_batch)
    _, preset = train_micro(
        tiny_corpus, tmp_path, copy_warmup_steps=5, copy_weight=0.5, copy_span=8, copy_shift=0.8
    )
    assert shifts[:5] == pytest.approx([0.0, 0.2, 0.4, 0.6, 0.8])
    assert shifts[5:] == [0.8] * preset.steps


def test_copy_bos_opens_every_bare_copy_row_with_bos_and_marks_no_target_on_it(
    tiny_corpus, tmp_path, monkeypatch
):
    import train.build_steps as steps_module

    seen: list[tuple[torch.Tensor, torch.Tensor]] = []
    real_copy_loss = steps_module.copy_loss

    def spying_copy_loss(model, ids, targets):
        seen.append((ids.clone(), targets.clone()))
        return real_copy_loss(model, ids, targets)

    monkeypatch.setattr(steps_module, "copy_loss", spying_copy_loss)
    folder, preset = train_micro(
        tiny_corpus, tmp_path, copy_warmup_steps=3, copy_weight=0.5, copy_span=8, copy_bos=True
    )
    bos = AutoTokenizer.from_pretrained(folder).bos_token_id
    assert len(seen) == 3 + preset.steps
    for ids, targets in seen:
        assert ids.shape == (preset.copy_rows, 1 + 2 * 8)
        assert (ids[:, 0] == bos).all() and (ids[:, 1:] != bos).all()
        assert not targets[:, :10].any() and targets[:, 10:].all()  # the repeat after bos + x, as before


def test_format_tag_names_the_variant_and_keeps_the_episode():
    from train.ablate import with_format_tag

    record = {"variant": "json", "prompt": [{"role": "user", "content": "long prompt"}], "messages": [1, 2]}
    tagged = with_format_tag(record)
    assert tagged["prompt"] == [{"role": "system", "content": "Reply format: json."}]
    assert tagged["messages"] == [1, 2] and record["prompt"][0]["content"] == "long prompt"


def test_copy_warmup_fp32_runs_the_warm_up_outside_autocast_and_the_main_phase_inside(
    tiny_corpus, tmp_path, monkeypatch
):
    import train.build_steps as steps_module

    monkeypatch.setenv("PROMPTLESS_CPU_BF16", "1")  # the main phase under bf16 autocast on any CPU
    seen: list[bool] = []  # whether autocast was on at each copy drill: warm-up steps, then main steps
    real_drill = steps_module.drill_loss

    def spying_drill(*args, **kwargs):
        seen.append(torch.is_autocast_enabled("cpu"))
        return real_drill(*args, **kwargs)

    monkeypatch.setattr(steps_module, "drill_loss", spying_drill)
    _, preset = train_micro(
        tiny_corpus, tmp_path, copy_warmup_steps=3, copy_weight=0.5, copy_span=8, copy_warmup_fp32=True
    )
    assert seen == [False] * 3 + [True] * preset.steps


def test_the_stretch_stage_runs_only_after_a_learnt_drill_with_filler_growing_to_its_bound(
    tiny_corpus, tmp_path, monkeypatch
):
    import train.build_steps as steps_module

    shapes: list[tuple[int, int]] = []  # each drill batch's (rows, length)
    real_copy_loss = steps_module.copy_loss

    def spying_copy_loss(model, ids, targets):
        shapes.append(tuple(ids.shape))
        if ids.shape[0] == 1:  # behind filler: <|bos|>, the filler, then the 8 rows of 16 packed in one
            assert not targets[:, : ids.shape[1] - 8 * 16].any()  # no target on <|bos|> or the filler
            assert targets[:, ids.shape[1] - 8 * 16 :].sum() == 8 * 7  # every row's copy is a target
        return real_copy_loss(model, ids, targets)

    monkeypatch.setattr(steps_module, "copy_loss", spying_copy_loss)
    stretch = {"copy_span": 8, "copy_bos": True, "copy_filler_tokens": 40, "copy_filler_steps": 10}
    # a bar every micro model meets (50-step mean far under 1e6): 50 warm-up steps, then 10 stretch steps
    folder, preset = train_micro(
        tiny_corpus, tmp_path / "a", copy_warmup_steps=50, copy_formed_loss=1e6, copy_weight=0.5, **stretch
    )
    metrics = json.loads((folder / "metrics.json").read_text())
    assert len(metrics["copy_stretch_loss"]) == 10
    assert shapes[:50] == [(8, 17)] * 50  # bos + 2 x 8 tokens per row, no filler in the warm-up
    packed = [length - 1 - 8 * 16 for rows, length in shapes[50:60] if rows == 1]
    unpacked = [shape for shape in shapes[50:60] if shape[0] != 1]
    assert all(shape == (8, 17) for shape in unpacked)  # a filler of 0 drawn: the plain rows
    assert all(1 <= n <= 40 for n in packed) and max(packed) > 20  # the bound grows to 40
    # without ``copy_filler_main`` the main phase's drill has no filler
    assert shapes[60:] == [(8, 17)] * preset.steps
    # with it, filler up to the bound there too
    shapes.clear()
    train_micro(
        tiny_corpus,
        tmp_path / "c",
        copy_warmup_steps=50,
        copy_formed_loss=1e6,
        copy_weight=0.5,
        copy_filler_main=True,
        **stretch,
    )
    assert len(shapes) == 60 + preset.steps and any(rows == 1 for rows, _ in shapes[60:])
    # a bar no micro model reaches: the drill was not learnt, so no stretch step runs and no filler is used
    shapes.clear()
    folder, _ = train_micro(
        tiny_corpus,
        tmp_path / "b",
        copy_warmup_steps=50,
        copy_formed_loss=1e-6,
        copy_weight=0.5,
        copy_filler_main=True,
        **stretch,
    )
    assert json.loads((folder / "metrics.json").read_text())["copy_stretch_loss"] == []
    assert shapes == [(8, 17)] * (50 + preset.steps)


def test_a_killed_build_continues_from_its_checkpoint_to_the_same_weights(tiny_corpus, tmp_path, monkeypatch):
    import train.build_steps as steps_module
    from train.build_checkpoint import CHECKPOINT_DIR, STATE_FILE

    preset = with_overrides(get_preset("micro"), steps=12, copy_warmup_steps=3, copy_weight=0.5, copy_span=8)
    records, info = tiny_corpus.records(), {"data_hash": tiny_corpus.data_hash}

    def build(out):
        config = BootstrapConfig(preset=preset, out=out, seed=0, progress=False, checkpoint_every=4)
        return train(records, info, config)

    whole = build(tmp_path / "whole")
    assert not (whole / CHECKPOINT_DIR).exists()  # a finished build leaves no checkpoint behind

    real_batch_loss = steps_module.batch_loss
    calls: list[int] = []

    def dying_batch_loss(model, batch):  # killed during main step 9, after the checkpoint at step 8
        calls.append(1)
        if len(calls) == 10:
            raise KeyboardInterrupt
        return real_batch_loss(model, batch)

    monkeypatch.setattr(steps_module, "batch_loss", dying_batch_loss)
    with pytest.raises(KeyboardInterrupt):
        build(tmp_path / "killed")
    assert (tmp_path / "killed" / CHECKPOINT_DIR / STATE_FILE).is_file()
    assert not (tmp_path / "killed" / MARKER).exists()

    calls.clear()
    drills: list[int] = []
    real_drill = steps_module.drill_loss
    monkeypatch.setattr(steps_module, "batch_loss", lambda m, b: calls.append(1) or real_batch_loss(m, b))
    monkeypatch.setattr(steps_module, "drill_loss", lambda *a, **k: drills.append(1) or real_drill(*a, **k))
    continued = build(tmp_path / "killed")
    assert len(calls) == len(drills) == 4  # steps 8-11 only: no warm-up step, no finished step again
    assert json.loads((continued / "train_config.json").read_text())["continued_from_step"] == 8
    assert not (continued / CHECKPOINT_DIR).exists()
    loss = [json.loads((f / "metrics.json").read_text())["loss"] for f in (whole, continued)]
    assert loss[0] == loss[1] and len(loss[0]) == 12
    for p, q in zip(
        AutoModelForCausalLM.from_pretrained(whole).parameters(),
        AutoModelForCausalLM.from_pretrained(continued).parameters(),
        strict=True,
    ):
        assert torch.equal(p, q)


def test_a_checkpoint_of_another_build_is_ignored(tmp_path, monkeypatch):
    from train import build_checkpoint
    from train.build_checkpoint import checkpoint_key, load_checkpoint, save_checkpoint

    tok = train_tokenizer(["Act: bash", "Answer: A", "search[red shoes]"] * 10, vocab_size=300)
    micro = get_preset("micro")
    key = checkpoint_key(micro, "abc", tok, bf16=False, threads=2)
    save_checkpoint(tmp_path, key, {"next_step": 4})
    assert load_checkpoint(tmp_path, key) == {"next_step": 4}
    for other in (
        checkpoint_key(with_overrides(micro, steps=micro.steps + 1), "abc", tok, bf16=False, threads=2),
        checkpoint_key(micro, "another corpus", tok, bf16=False, threads=2),
        checkpoint_key(micro, "abc", tok, bf16=True, threads=2),
        checkpoint_key(micro, "abc", tok, bf16=False, threads=1),
    ):
        assert other != key and load_checkpoint(tmp_path, other) is None
    assert load_checkpoint(tmp_path / "empty", key) is None
    monkeypatch.setattr(build_checkpoint, "CHECKPOINT_FORMAT", build_checkpoint.CHECKPOINT_FORMAT + 1)
    assert checkpoint_key(micro, "abc", tok, bf16=False, threads=2) != key  # another state layout
