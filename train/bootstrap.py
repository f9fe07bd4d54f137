"""Train the embedded default model from scratch: a small Llama on the oracles' transcripts, in one sitting.

Read top to bottom: config, data (corpus -> tokenizer -> token ids with loss only on the assistant turns ->
length-bucketed batches), model (``LlamaForCausalLM`` from a preset), AdamW with a cosine schedule and
warm-up, the loop (grad clipping, a progress bar), and the checkpoint (``save_pretrained`` + tokenizer +
``train_config.json`` + ``metrics.json``; the ``COMPLETE`` marker is written last).

Every training conversation carries one of its env's prompt variants, and the replies follow that variant's
format: nothing is ever trained without a prompt, so the model must read its prompt to act well.

Example::

    python -m train.bootstrap                      # the default preset (cpu, or gpu when CUDA is present)
    python -m train.bootstrap --preset micro --out /tmp/micro --envs web,shop

Determinism: the same seed, preset, corpus and thread count give the same weights on the same machine
(seeded init, seeded data order, fixed threads). Not removed: OS observations can carry wall-clock details
(dates in ``ls -l``), which changes the corpus hash between builds; CUDA kernels are not bitwise
deterministic.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import statistics
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import torch
from transformers import GenerationConfig, LlamaForCausalLM, PreTrainedTokenizerFast

from train.augment import with_renamed_copies
from train.copy_task import copy_batch, copy_loss, opened_by
from train.corpus import Corpus, CorpusConfig, build_corpus
from train.presets import Preset, default_preset_name, get_preset, with_overrides
from train.tokenizer import EOS, encode_conversation, train_tokenizer

MARKER = "COMPLETE"  # written last; its presence means the folder is a finished model


# ----------------------------------------------------------------------------------------------------- config
@dataclass(frozen=True)
class BootstrapConfig:
    preset: Preset
    out: Path
    seed: int | None = None  # None: the preset's; another seed is written into the preset
    envs: tuple[str, ...] | None = None  # None: the preset's envs
    corpus_dir: Path | None = None  # None: the corpus cache
    max_minutes: float | None = None  # optional wall-clock guard; stopping early is recorded in metrics
    progress: bool = True

    def __post_init__(self) -> None:
        # One seed, held by the preset: the saved model's fingerprint then tells a build with another seed
        # from the default model, so the harness does not take one for the other.
        if self.seed is None:
            object.__setattr__(self, "seed", self.preset.seed)
        elif self.seed != self.preset.seed:
            object.__setattr__(self, "preset", with_overrides(self.preset, seed=self.seed))

    def corpus_config(self) -> CorpusConfig:
        return CorpusConfig(
            envs=self.envs or self.preset.envs,
            episodes_per_env=self.preset.episodes_per_env,
            episodes_by_env=self.preset.episodes_by_env,
            env_share=self.preset.env_share,
            seed=self.preset.seed,
        )


# ------------------------------------------------------------------------------------------------------- data
def conversation_of(record: dict[str, Any]) -> list[dict[str, str]]:
    """The full conversation the model trains on: the variant's prompt, then the episode's turns."""
    if not record.get("prompt"):
        raise ValueError(
            f"corpus record {record.get('task_id')!r} has no prompt; every conversation must have one"
        )
    return [*record["prompt"], *record["messages"]]


def with_format_tag(record: dict[str, Any]) -> dict[str, Any]:
    """``record`` with its prompt replaced by a one-line tag that names the variant (``Reply format: json.``).

    Why: a 1.4M-parameter model trained on full prompts did not learn to copy a path from the task into a
    command in 1,000 OS steps (0 of 72 dev commands right, teacher-forced); with this tag instead of the
    prompt it did (27 of 72): the task is then most of the context (docs/journal/2026-11-21-to-12-02-default-model.md). The short-context
    phase of the schedule (``Preset.tag_steps``) and ``train.ablate --prompt tag|mix`` train on these."""
    return {**record, "prompt": [{"role": "system", "content": f"Reply format: {record['variant']}."}]}


def tokenizer_texts(records: Sequence[dict[str, Any]]) -> Iterator[str]:
    for record in records:
        for message in conversation_of(record):
            yield message["content"]


@dataclass(frozen=True)
class Sample:
    """One conversation split at the end of its prompt: the prompt (no loss) and the episode's turns."""

    prompt: tuple[int, ...]  # <|bos|> and the prompt's turns
    ids: tuple[int, ...]  # the episode's turns
    targets: tuple[bool, ...]  # per episode token: an assistant token to learn
    env: str = ""

    def __len__(self) -> int:
        return len(self.prompt) + len(self.ids)


def encode_sample(tok: Any, record: dict[str, Any]) -> Sample:
    """Tokenize a record; only the episode's assistant turns are targets (the prompt's demos are fixed text)."""
    full = encode_conversation(tok, conversation_of(record))
    n = len(encode_conversation(tok, record["prompt"]).input_ids)
    return Sample(
        tuple(full.input_ids[:n]),
        tuple(full.input_ids[n:]),
        tuple(full.target_mask[n:]),
        str(record.get("env", "")),
    )


def encode_all(
    tok: Any, records: Sequence[dict[str, Any]], context_length: int
) -> tuple[list[Sample], dict[str, Any]]:
    """Samples of every conversation that fits the context, and length statistics per env."""
    samples: list[Sample] = []
    lengths: dict[str, list[int]] = {}
    dropped = 0
    for record in records:
        sample = encode_sample(tok, record)
        lengths.setdefault(f"{record['env']}/{record['kind']}", []).append(len(sample))
        if len(sample) > context_length:
            dropped += 1
            continue
        samples.append(sample)
    stats = {
        "conversations": len(samples),
        "dropped_too_long": dropped,
        "distinct_prompts": len({s.prompt for s in samples}),
        "tokens": sum(len(s) for s in samples),
        "episode_tokens": sum(len(s.ids) for s in samples),
        "target_tokens": sum(sum(s.targets) for s in samples),
        "max_tokens": {k: max(v) for k, v in sorted(lengths.items())},
        "mean_tokens": {k: round(sum(v) / len(v)) for k, v in sorted(lengths.items())},
    }
    return samples, stats


@dataclass(frozen=True)
class Batch:
    """Episodes that share one prompt: the prompt runs once, its KV cache serves every row."""

    prompt: torch.Tensor  # (1, P)
    ids: torch.Tensor  # (B, T), right-padded
    targets: torch.Tensor  # (B, T) bool: assistant tokens, the reply to learn
    real: torch.Tensor  # (B, T) bool: not padding

    def to(self, device: torch.device) -> Batch:
        return Batch(
            self.prompt.to(device), self.ids.to(device), self.targets.to(device), self.real.to(device)
        )


def batches(data: Sequence[Sample], batch_tokens: int, seed: int, pad_id: int) -> Iterator[Batch]:
    """Endless, seeded stream of batches; each holds episodes of one prompt, similar in length.

    Each epoch shuffles, groups the episodes by prompt, sorts each group's windows (``sort_window``) by
    length, cuts them into batches whose prompt plus padded episodes hold at most ``batch_tokens`` tokens,
    and shuffles the batches: little padding, the prompt computed once per batch, still a random order.
    """
    rng = random.Random(seed)
    lengths: dict[tuple[int, ...], list[int]] = {}
    for sample in data:
        lengths.setdefault(sample.prompt, []).append(len(sample.ids))
    # a prompt's episodes are the same every epoch, so their window size is too
    window_size = {
        prompt: sort_window(len(prompt), statistics.median_low(group), batch_tokens)
        for prompt, group in lengths.items()
    }
    while True:
        order = list(range(len(data)))
        rng.shuffle(order)
        by_prompt: dict[tuple[int, ...], list[int]] = {}
        for i in order:
            by_prompt.setdefault(data[i].prompt, []).append(i)
        epoch: list[list[int]] = []
        for prompt, members in by_prompt.items():
            prompt_len, size = len(prompt), window_size[prompt]
            for start in range(0, len(members), size):
                window = sorted(members[start : start + size], key=lambda i: len(data[i].ids))
                current: list[int] = []
                for i in window:
                    widest = len(data[i].ids)  # the window is sorted: the newcomer is the longest
                    if current and prompt_len + widest * (len(current) + 1) > batch_tokens:
                        epoch.append(current)
                        current = []
                    current.append(i)
                if current:
                    epoch.append(current)
        rng.shuffle(epoch)
        for group in epoch:
            yield collate([data[i] for i in group], pad_id)


def sort_window(prompt_len: int, typical: int, batch_tokens: int) -> int:
    """How many episodes ``batches`` sorts by length at a time: 64, or enough episodes of the ``typical``
    (median) length to fill two batches when the budget holds more.

    Why: a batch is cut from one window, so a fixed window of 64 capped the ``gpu`` preset's OS batches
    (65,536 tokens) at 64 conversations, about 9,000 tokens; the cpu preset's budgets stay under it (its
    batches are the same as with the fixed window)."""
    fill = max(1, (batch_tokens - prompt_len) // max(1, typical))
    return max(64, 2 * fill)


def mixed_batches(
    data: Sequence[Sample],
    batch_tokens: int,
    seed: int,
    pad_id: int,
    step_share: dict[str, float],
    env_batch_tokens: dict[str, int] | None = None,
) -> Iterator[Batch]:
    """Batches whose env is drawn per step with the ``step_share`` weights (one stream per env); with no
    weights, one stream over everything.

    Why: an env's share of the optimizer steps should not follow from its conversation lengths. A batch holds
    about 20 short OS episodes but a single long web or shop one, so a shared stream gives OS a few percent
    of the steps; drawing the env first gives each env the share of the steps the preset asks for.
    ``env_batch_tokens`` sets an env's own token budget per batch (else ``batch_tokens``): a web or shop batch
    needs a larger one to hold several conversations under its shared prompt.
    """
    if not step_share:
        yield from batches(data, batch_tokens, seed, pad_id)
        return
    by_env: dict[str, list[Sample]] = {}
    for sample in data:
        by_env.setdefault(sample.env, []).append(sample)
    names = [name for name in sorted(by_env) if step_share.get(name, 0.0) > 0]
    if not names:
        raise ValueError(f"step_share {step_share} gives no weight to any env of the data ({sorted(by_env)})")
    budgets = env_batch_tokens or {}
    streams = {
        name: batches(by_env[name], max(budgets.get(name, batch_tokens), batch_tokens), seed + i, pad_id)
        for i, name in enumerate(names)
    }
    weights = [step_share[name] for name in names]
    rng = random.Random(seed)
    while True:
        yield next(streams[rng.choices(names, weights)[0]])


def cropped_prompts(stream: Iterator[Batch], share: float, seed: int) -> Iterator[Batch]:
    """``stream`` with a ``share`` of its batches' prompts cut to their first token (``<|bos|>``) and a tail
    of random length: the episodes' copying learnt at every prompt length, from none to the whole prompt.

    Why: a model copied the task's path into its command with a one-line tag in front and not behind the
    full prompt; training on both (mix) still missed the name, and random-token copy drills behind the
    prompt did not carry over to the episodes (docs/journal/2026-11-21-to-12-02-default-model.md)."""
    rng = random.Random(seed)
    for batch in stream:
        n = batch.prompt.shape[1]
        if n > 2 and rng.random() < share:
            keep = rng.randrange(0, n - 1)
            prompt = torch.cat([batch.prompt[:, :1], batch.prompt[:, n - keep :]], dim=1)
            batch = Batch(prompt, batch.ids, batch.targets, batch.real)
        yield batch


def collate(group: Sequence[Sample], pad_id: int) -> Batch:
    if len({s.prompt for s in group}) != 1:
        raise ValueError("a batch must hold episodes of a single prompt")
    width = max(len(s.ids) for s in group)
    ids = torch.full((len(group), width), pad_id, dtype=torch.long)
    targets = torch.zeros((len(group), width), dtype=torch.bool)
    real = torch.zeros((len(group), width), dtype=torch.bool)
    for row, sample in enumerate(group):
        n = len(sample.ids)
        ids[row, :n] = torch.tensor(sample.ids)
        targets[row, :n] = torch.tensor(sample.targets)
        real[row, :n] = True
    return Batch(torch.tensor([group[0].prompt]), ids, targets, real)


def batch_loss(model: LlamaForCausalLM, batch: Batch, env_weight: float = 0.0) -> tuple[torch.Tensor, float]:
    """(training loss, reply loss) of a batch, the prompt computed once and shared by every row.

    The reply loss is the mean cross-entropy over the assistant tokens. The training loss adds the
    episode's other tokens (the environment's turns) at weight ``env_weight``: predicting observations
    teaches the model to read them (copying an id or a number back is most of acting well) far sooner than
    the sparse reply tokens alone. With ``env_weight=0`` it is the reply loss.

    Exact: the same value (and, by autograd through the repeated cache, gradient) as running each full
    conversation on its own. Rows are right-padded, so causal attention keeps real tokens off the pads, and
    the first episode token is a role marker, never a target, so no row needs the prompt's last logit.
    """
    prompt_cache = model.model(input_ids=batch.prompt, use_cache=True).past_key_values
    prompt_cache.batch_repeat_interleave(batch.ids.shape[0])
    hidden = model.model(input_ids=batch.ids, past_key_values=prompt_cache, use_cache=True).last_hidden_state
    if env_weight == 0.0:
        # Only the reply tokens are scored, so only their logits are computed: the vocabulary projection
        # and softmax of every other position (most of the tokens) would be thrown away.
        targets = batch.targets[:, 1:]
        if not targets.any():
            zero = hidden.sum() * 0.0  # no reply in the batch: nothing to learn, but a graph to backward
            return zero, 0.0
        logits = model.lm_head(hidden[:, :-1][targets])
        reply_loss = torch.nn.functional.cross_entropy(logits.float(), batch.ids[:, 1:][targets])
        return reply_loss, reply_loss.item()
    logits = model.lm_head(hidden[:, :-1])
    nll = torch.nn.functional.cross_entropy(
        logits.float().reshape(-1, logits.shape[-1]), batch.ids[:, 1:].reshape(-1), reduction="none"
    ).view(logits.shape[:2])
    targets = batch.targets[:, 1:].float()
    reply_loss = (nll * targets).sum() / targets.sum().clamp(min=1)
    weights = targets + env_weight * (batch.real[:, 1:] & ~batch.targets[:, 1:]).float()
    return (nll * weights).sum() / weights.sum().clamp(min=1e-9), reply_loss.item()


def drill_loss(
    model: LlamaForCausalLM,
    tok: PreTrainedTokenizerFast,
    preset: Preset,
    rng: torch.Generator,
    progress: float = 1.0,
    prompts: Sequence[tuple[int, ...]] = (),
) -> torch.Tensor:
    """The loss of one fresh batch of the synthetic copy task (train/copy_task.py) at ``progress`` (0 to 1)
    of the warm-up; after it, 1. Module-level so that the benches time the drill ``train`` runs.

    The rows' layout strays ``progress * copy_shift`` from ``x x``: fully shifted from the start, the drill
    stayed at chance for 1,000 steps; grown from 0, content matching forms (docs/journal/2026-11-21-to-12-02-default-model.md). With
    ``prompts`` (``copy_after_prompt``) the rows follow ``<|bos|>`` and the last ``progress`` of one of
    them: behind a whole prompt from the start, the drill's loss stayed at chance for 400 steps (7.7 nats;
    without a prompt it is below 0.04 by step 250), so the warm-up lengthens the prompt from nothing to all
    of it. With ``copy_bos`` a bare row opens with ``<|bos|>`` as every conversation does: without it, an
    induction head formed on the rows copied nothing behind a prompt (13.9 nats), with it 2.6, and the model
    copied the task's paths into its commands (docs/journal/2026-11-21-to-12-02-default-model.md)."""
    device = next(model.parameters()).device
    first_ordinary_id = max(tok.all_special_ids, default=-1) + 1  # specials keep their meaning
    shift = preset.copy_shift * progress
    ids, targets = copy_batch(rng, len(tok), first_ordinary_id, preset.copy_rows, preset.copy_span, shift)
    if not prompts or progress <= 0:
        if preset.copy_bos:
            ids, targets = opened_by(ids, targets, tok.bos_token_id)
        return copy_loss(model, ids.to(device), targets.to(device))
    prompt = prompts[int(torch.randint(len(prompts), (1,), generator=rng))]
    keep = max(1, round(progress * (len(prompt) - 1)))
    prompt = prompt[:1] + prompt[len(prompt) - keep :]
    batch = Batch(torch.tensor([prompt]), ids, targets, torch.ones_like(targets)).to(device)
    return batch_loss(model, batch)[0]


def cpu_has_bf16() -> bool:
    """Whether this CPU computes bf16 matmuls natively (AVX512-BF16 or AMX), so that autocast speeds it up.

    Why: on such CPUs (Zen 4 and later, Sapphire Rapids and later) bf16 autocast made a training step of the
    cpu preset's model 1.13x faster (bench/bootstrap_step.py, docs/benchmarks.md); elsewhere bf16 is
    emulated and slower, so it stays off. ``PROMPTLESS_CPU_BF16=0`` turns it off, ``=1`` forces it on."""
    forced = os.environ.get("PROMPTLESS_CPU_BF16")
    if forced in ("0", "1"):
        return forced == "1"
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return " avx512_bf16" in flags or " amx_bf16" in flags


# --------------------------------------------------------------------------------------------------- schedule
def copy_formed(losses: Sequence[float], below: float, window: int = 50) -> bool:
    """Whether the copy drill's mean loss over the last ``window`` steps is under ``below``: the induction
    head has formed. With ``below`` at 0 (off) it never is, so the warm-up runs all its extra steps.

    Why: the phase change of the shifted drill came at about step 700 in one build and after step 1,150 in
    the same preset with another seed, whose 1,200-step warm-up ended at 7.2 nats, near chance
    (docs/journal/2026-11-21-to-12-02-default-model.md); a warm-up that runs until the drill is learnt does not leave that to the seed."""
    if below <= 0 or len(losses) < window:
        return False
    return sum(losses[-window:]) / window < below


def lr_at(step: int, preset: Preset) -> float:
    """Linear warm-up, then cosine decay from ``lr`` to ``min_lr`` at the last step."""
    if step < preset.warmup_steps:
        return preset.lr * (step + 1) / preset.warmup_steps
    span = max(1, preset.steps - preset.warmup_steps)
    progress = min(1.0, (step - preset.warmup_steps) / span)
    return preset.min_lr + 0.5 * (preset.lr - preset.min_lr) * (1 + math.cos(math.pi * progress))


# ------------------------------------------------------------------------------------------------------- main
def bootstrap(config: BootstrapConfig) -> Path:
    """Build (or reuse) the corpus, then train the tokenizer and the model into ``config.out``."""
    started = time.monotonic()
    corpus: Corpus = build_corpus(config.corpus_config(), config.corpus_dir, progress=config.progress)
    records = corpus.records()
    if not records:
        raise RuntimeError(f"the corpus at {corpus.path} is empty")
    corpus_info = {
        "path": str(corpus.path),
        "data_hash": corpus.data_hash,
        "config": corpus.meta.get("config"),
    }
    return train(records, corpus_info, config, corpus_s=time.monotonic() - started)


def train(
    records: Sequence[dict[str, Any]],
    corpus_info: dict[str, Any],
    config: BootstrapConfig,
    corpus_s: float = 0.0,
) -> Path:
    """Train the tokenizer and the model on corpus ``records`` and save everything to ``config.out``."""
    preset, out = config.preset, Path(config.out)
    started = time.monotonic() - corpus_s
    cuda = torch.cuda.is_available()
    device = torch.device("cuda" if cuda else "cpu")
    bf16 = cuda or cpu_has_bf16()  # mixed precision: fp32 weights and optimizer, bf16 matmuls
    if not cuda:
        torch.set_num_threads(preset.threads)
    random.seed(preset.seed)
    torch.manual_seed(preset.seed)

    # data
    tok = train_tokenizer(tokenizer_texts(records), vocab_size=preset.vocab_size, scheme=preset.pretokenizer)
    records = with_renamed_copies(list(records), preset.renamed_copies, preset.seed)
    data, data_stats = encode_all(tok, records, preset.context_length)
    if not data:
        raise RuntimeError(
            f"no conversation fits the context of {preset.context_length} tokens: {data_stats}"
        )
    # Short conversations (OS) fill batches of many rows, so they would get few of the optimizer steps;
    # repeating them per epoch gives each env a fair share of the steps.
    repeat = dict(preset.oversample)
    data = [s for s in data for _ in range(repeat.get(s.env, 1))]
    longest = max(len(s) for s in data)
    batch_tokens = max(preset.batch_tokens, longest)  # a batch always holds the longest conversation
    stream = mixed_batches(
        data,
        batch_tokens,
        preset.seed,
        tok.pad_token_id,
        dict(preset.step_share),
        dict(preset.env_batch_tokens),
    )
    if preset.crop_prompts:
        stream = cropped_prompts(stream, preset.crop_prompts, preset.seed)
    losses: list[float] = []  # reply loss per step of the main phase
    tag_losses: list[float] = []  # the same for the tag phase
    phases: list[tuple[str, Iterator[Batch], int, list[float]]] = []
    if preset.tag_steps:
        # The same conversations under a one-line format tag: the skills first, in a short context.
        tagged, tagged_stats = encode_all(tok, [with_format_tag(r) for r in records], preset.context_length)
        data_stats["tagged_conversations"] = tagged_stats["conversations"]
        tagged = [s for s in tagged for _ in range(repeat.get(s.env, 1))]
        tag_stream = mixed_batches(
            tagged, preset.batch_tokens, preset.seed, tok.pad_token_id, dict(preset.step_share)
        )
        phases.append(("tag", tag_stream, preset.tag_steps, tag_losses))
    phases.append(("train", stream, preset.steps, losses))

    # model
    model_config = preset.llama_config_for(tok)
    model = LlamaForCausalLM(model_config).to(device)  # type: ignore[arg-type]  # the stubs' .to takes a model
    n_params = sum(p.numel() for p in model.parameters())
    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    optimizer = torch.optim.AdamW(
        [{"params": decay, "weight_decay": preset.weight_decay}, {"params": no_decay, "weight_decay": 0.0}],
        lr=preset.lr,
        betas=(0.9, 0.95),
        fused=False,
    )

    # loop
    real_tokens = computed_tokens = 0
    pad_id = tok.pad_token_id
    train_started = time.monotonic()
    stopped_early = False
    copy_rng = torch.Generator().manual_seed(preset.seed)
    bar = _progress(config.progress)
    copy_losses: list[float] = []

    # distinct training prompts, in a fixed order, for copy rows that follow one
    drill_prompts = sorted({s.prompt for s in data}) if preset.copy_after_prompt else []

    def copy_drill(progress: float = 1.0) -> torch.Tensor:
        return drill_loss(model, tok, preset, copy_rng, progress, drill_prompts)

    def optimizer_step(loss: torch.Tensor) -> None:
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), preset.grad_clip)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)

    with bar:
        model.train()
        if preset.copy_warmup_steps:
            longest_warmup = preset.copy_warmup_steps + preset.copy_extra_steps
            warm = bar.add_task("copy warm-up", total=longest_warmup, loss=float("nan"), tps=0.0)
            for step in range(longest_warmup):
                if step >= preset.copy_warmup_steps and copy_formed(copy_losses, preset.copy_formed_loss):
                    break
                for group in optimizer.param_groups:
                    group["lr"] = preset.lr * min(1.0, (step + 1) / max(1, preset.warmup_steps))
                with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
                    loss = copy_drill(min(1.0, step / max(1, preset.copy_warmup_steps - 1)))
                optimizer_step(loss)
                copy_losses.append(round(loss.item(), 5))
                bar.update(warm, advance=1, loss=sum(copy_losses[-20:]) / len(copy_losses[-20:]))
            bar.update(warm, total=len(copy_losses))  # a warm-up that stopped early shows as finished
            if config.progress and not sys.stderr.isatty():
                print(f"copy warm-up: {len(copy_losses)} steps, loss {copy_losses[-1]:.3f}", file=sys.stderr)
        for phase, phase_stream, phase_steps, phase_losses in phases:
            if stopped_early:
                break
            # Each phase has its own warm-up and cosine decay (the schedule the tag phase was measured with).
            schedule = with_overrides(preset, steps=phase_steps)
            task = bar.add_task(phase, total=phase_steps, loss=float("nan"), tps=0.0)
            for step in range(phase_steps):
                if config.max_minutes is not None and time.monotonic() - started > 60 * config.max_minutes:
                    stopped_early = True
                    break
                for group in optimizer.param_groups:
                    group["lr"] = lr_at(step, schedule)
                batch = next(phase_stream).to(device)
                with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
                    loss, reply_loss = batch_loss(model, batch, preset.env_weight)
                    if preset.copy_weight > 0:
                        loss = loss + preset.copy_weight * copy_drill()
                optimizer_step(loss)
                phase_losses.append(round(reply_loss, 5))
                # tokens of the full conversations this step learned from (the shared prompt counted per row)
                real_tokens += batch.prompt.shape[1] * batch.ids.shape[0] + int((batch.ids != pad_id).sum())
                computed_tokens += batch.prompt.shape[1] + batch.ids.numel()
                elapsed = time.monotonic() - train_started
                recent = sum(phase_losses[-20:]) / len(phase_losses[-20:])
                bar.update(task, advance=1, loss=recent, tps=real_tokens / elapsed)
                if (
                    config.progress
                    and not sys.stderr.isatty()
                    and (step + 1) % max(1, phase_steps // 20) == 0
                ):
                    # a log line now and then when no live bar can be drawn (output to a file or a pipe)
                    print(
                        f"{phase} step {step + 1}/{phase_steps} loss {recent:.3f} "
                        f"{real_tokens / elapsed:.0f} tok/s {elapsed:.0f}s",
                        file=sys.stderr,
                        flush=True,
                    )
    train_s = time.monotonic() - train_started

    # checkpoint
    out.mkdir(parents=True, exist_ok=True)
    (out / MARKER).unlink(missing_ok=True)
    model.generation_config = GenerationConfig(
        bos_token_id=tok.bos_token_id,
        eos_token_id=tok.convert_tokens_to_ids(EOS),
        pad_token_id=tok.pad_token_id,
        do_sample=False,
    )
    model.save_pretrained(out)
    tok.save_pretrained(out)
    train_config = {
        "preset": preset.as_dict(),
        "seed": preset.seed,
        "envs": list(config.envs or preset.envs),
        "corpus": corpus_info,
        "data": data_stats,
        "batch_tokens": batch_tokens,
        "bf16_autocast": bf16,
        "parameters": n_params,
        "device": str(device),
        "torch_threads": torch.get_num_threads(),
        "versions": {"torch": torch.__version__, "transformers": _version("transformers")},
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "commit": _git_commit(),
    }
    metrics = {
        "loss": losses,
        "copy_warmup_loss": copy_losses,
        "tag_loss": tag_losses,
        "final_loss": sum(losses[-20:]) / max(1, len(losses[-20:])),
        "steps_done": len(losses),
        "stopped_early": stopped_early,
        "train_s": round(train_s, 1),
        "corpus_s": round(corpus_s, 1),
        "wall_s": round(time.monotonic() - started, 1),
        "tokens_per_s": round(real_tokens / max(train_s, 1e-9), 1),
        "computed_tokens_per_s": round(computed_tokens / max(train_s, 1e-9), 1),
        "tokens_seen": real_tokens,
    }
    (out / "train_config.json").write_text(json.dumps(train_config, indent=2, sort_keys=True))
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2))
    marker = {
        "preset": preset.name,
        "preset_fingerprint": preset.fingerprint(),
        "data_hash": corpus_info.get("data_hash"),
    }
    (out / MARKER).write_text(json.dumps(marker))
    return out


def _git_commit() -> str | None:
    """The commit of the code that builds the model (provenance of a shipped model); None outside a checkout."""
    import subprocess

    try:
        done = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=Path(__file__).resolve().parent,
            capture_output=True,
            text=True,
            timeout=10,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() or None if done.returncode == 0 else None


def _version(package: str) -> str:
    from importlib.metadata import version

    return version(package)


def _progress(enabled: bool) -> Any:
    """A rich progress bar; ``disable=True`` makes every call a no-op when progress output is off."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("loss {task.fields[loss]:.3f}  {task.fields[tps]:.0f} tok/s"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        disable=not enabled,
    )


def main(argv: Sequence[str] | None = None) -> int:
    from train.default_model import default_model_dir

    parser = argparse.ArgumentParser(prog="python -m train.bootstrap", description=__doc__.split("\n\n")[0])
    parser.add_argument("--preset", default=None, help="micro, cpu or gpu (default: gpu with CUDA, else cpu)")
    parser.add_argument(
        "--out", type=Path, default=None, help="model folder (default: the default-model cache)"
    )
    parser.add_argument("--seed", type=int, default=None, help="default: the preset's")
    parser.add_argument(
        "--envs", default=None, help="comma-separated envs of the corpus (default: the preset's)"
    )
    parser.add_argument("--corpus-dir", type=Path, default=None, help="corpus folder (default: the cache)")
    parser.add_argument("--max-minutes", type=float, default=None, help="stop training after this wall time")
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args(argv)
    preset = get_preset(args.preset or default_preset_name())
    out = args.out or default_model_dir(preset.name)
    config = BootstrapConfig(
        preset=preset,
        out=out,
        seed=args.seed,
        envs=tuple(e.strip() for e in args.envs.split(",") if e.strip()) if args.envs else None,
        corpus_dir=args.corpus_dir,
        max_minutes=args.max_minutes,
        progress=not args.no_progress,
    )
    folder = bootstrap(config)
    metrics = json.loads((folder / "metrics.json").read_text())
    summary = {k: metrics[k] for k in ("final_loss", "steps_done", "train_s", "wall_s", "tokens_per_s")}
    print(json.dumps({"model": str(folder), **summary}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
