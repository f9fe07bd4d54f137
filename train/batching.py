"""From corpus records to training batches for the default model: token ids with the loss on the assistant
turns only, length-bucketed batches that share one prompt (computed once per batch), several envs mixed by
their share of the steps, and the loss of a batch.

Why one prompt per batch: every conversation of a variant opens with the same long prompt, so a batch holds
the prompt once and the episodes after it; the model computes the prompt's keys and values once per step.
"""

from __future__ import annotations

import random
import statistics
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from transformers import LlamaForCausalLM

from train.tokenizer import encode_conversation


def conversation_of(record: dict[str, Any]) -> list[dict[str, str]]:
    """The full conversation the model trains on: the variant's prompt, then the episode's turns."""
    if not record.get("prompt"):
        raise ValueError(
            f"corpus record {record.get('task_id')!r} has no prompt; every conversation must have one"
        )
    return [*record["prompt"], *record["messages"]]


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


def batch_loss(model: LlamaForCausalLM, batch: Batch) -> tuple[torch.Tensor, float]:
    """(training loss, its value) of a batch: the mean cross-entropy over the assistant tokens, with the
    prompt computed once and shared by every row.

    Exact: the same value (and, by autograd through the repeated cache, gradient) as running each full
    conversation on its own. Rows are right-padded, so causal attention keeps real tokens off the pads, and
    the first episode token is a role marker, never a target, so no row needs the prompt's last logit. Only
    the reply tokens are scored, so only their logits are computed: the vocabulary projection and softmax
    of every other position (most of the tokens) would be thrown away.
    """
    prompt_cache = model.model(input_ids=batch.prompt, use_cache=True).cache
    prompt_cache.batch_repeat_interleave(batch.ids.shape[0])
    hidden = model.model(input_ids=batch.ids, cache=prompt_cache, use_cache=True).last_hidden_state
    targets = batch.targets[:, 1:]
    if not targets.any():
        zero = hidden.sum() * 0.0  # no reply in the batch: nothing to learn, but a graph to backward
        return zero, 0.0
    logits = model.lm_head(hidden[:, :-1][targets])
    reply_loss = torch.nn.functional.cross_entropy(logits.float(), batch.ids[:, 1:][targets])
    return reply_loss, reply_loss.item()
