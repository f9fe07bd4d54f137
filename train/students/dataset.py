"""From synthesized items to training rows for each method, and the collator that pads them.

A row holds the parts its method's loss reads: ``sft`` (the conversation without the prompt, or with it for
the prepending baselines), ``pg`` (GCD's prompt-generation example), ``teacher`` plus aligned positions
(SeqKD + KLD's prompted view of the same conversation). GCD pairs the i-th conversation with the i-th PG
example (cycling the shorter list), so every step sees both terms of the joint loss.

Example::

    rows, counts = build_rows(config, tokenizer, prompt, conversations, outputs, reasons, max_len=4096)
    batch = Collator(pad_id)(rows[:8])
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

import torch

from envs.core import Message
from train.students.config import StudentConfig
from train.students.examples import IGNORE, Encoded, TooLong, aligned_positions, encode_chat, pg_example


def conversation_views(item: dict[str, Any], independent_turns: bool) -> list[list[Message]]:
    """What the agent saw: the whole conversation, or each round alone when the env's rounds are
    independent queries (the rollout shows only the latest observation then)."""
    messages = [m for m in item["messages"] if m["content"] is not None]
    if messages and messages[-1]["role"] == "user":
        messages = messages[:-1]  # the final observation has no reply to train
    if not any(m["role"] == "assistant" for m in messages):
        return []
    if not independent_turns:
        return [messages]
    return [messages[i : i + 2] for i in range(0, len(messages) - 1, 2)]


def build_rows(
    config: StudentConfig,
    tokenizer: Any,
    prompt: Sequence[Message],
    conversations: Sequence[dict[str, Any]],
    outputs: Sequence[dict[str, Any]],
    reasons: Sequence[dict[str, Any]],
    *,
    max_len: int,
    independent_turns: bool,
) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """Rows for ``config.method`` and the counts of what was used and dropped (too long, unaligned)."""
    rng = random.Random(config.training_seed)
    counts = {"conversations": 0, "dropped_too_long": 0, "kl_unaligned": 0, "pg_examples": 0}
    sft_rows: list[dict[str, Any]] = []
    for item in conversations:
        if item.get("error"):
            continue
        for messages in conversation_views(item, independent_turns):
            with_prompt = config.method == "prepend-100" or (
                config.method == "prepend-50" and rng.random() < 0.5
            )
            if with_prompt:
                ex = encode_chat(tokenizer, list(prompt) + messages, skip=len(prompt))
            else:
                ex = encode_chat(tokenizer, messages)
            if len(ex.input_ids) > max_len or not ex.trained:
                counts["dropped_too_long"] += 1
                continue
            row: dict[str, Any] = {"sft": ex}
            if config.method == "seqkd-kld":
                teacher = encode_chat(tokenizer, list(prompt) + messages, skip=len(prompt))
                aligned = aligned_positions(ex, teacher) if len(teacher.input_ids) <= max_len else None
                if aligned is None:
                    counts["kl_unaligned"] += 1
                    continue
                row |= {"teacher": teacher, "s_pos": aligned[0], "t_pos": aligned[1]}
            sft_rows.append(row)
    counts["conversations"] = len(sft_rows)
    if config.method != "gcd" or config.ratio == 1.0:
        return sft_rows, counts
    by_key = {r["key"]: r for r in reasons}
    pg: list[Encoded] = []
    for out in outputs:
        reason = by_key.get(out["key"], {}).get("reason", "")
        try:
            pg.append(
                pg_example(tokenizer, prompt, out["input"], out["as_is"], out["to_be"], reason, max_len)
            )
        except TooLong:
            counts["dropped_too_long"] += 1
    counts["pg_examples"] = len(pg)
    if not pg:
        raise ValueError("no prompt-generation example fits the model's context; GCD needs at least one")
    if config.ratio == 0.0 or not sft_rows:
        return [{"pg": ex} for ex in pg], counts
    n = max(len(sft_rows), len(pg))
    return [{**sft_rows[i % len(sft_rows)], "pg": pg[i % len(pg)]} for i in range(n)], counts


class Collator:
    """Pads each part of a batch of rows to its longest sequence (right padding, labels ``IGNORE``)."""

    def __init__(self, pad_id: int):
        self.pad_id = pad_id

    def _pad(self, parts: list[Encoded]) -> dict[str, torch.Tensor]:
        width = max(len(p.input_ids) for p in parts)
        ids = torch.full((len(parts), width), self.pad_id, dtype=torch.long)
        labels = torch.full((len(parts), width), IGNORE, dtype=torch.long)
        mask = torch.zeros((len(parts), width), dtype=torch.long)
        for i, p in enumerate(parts):
            n = len(p.input_ids)
            ids[i, :n] = torch.tensor(p.input_ids)
            labels[i, :n] = torch.tensor(p.labels)
            mask[i, :n] = 1
        return {"input_ids": ids, "labels": labels, "attention_mask": mask}

    @staticmethod
    def _positions(rows: list[list[int]]) -> torch.Tensor:
        width = max(len(r) for r in rows)
        out = torch.full((len(rows), width), -1, dtype=torch.long)
        for i, r in enumerate(rows):
            out[i, : len(r)] = torch.tensor(r)
        return out

    def __call__(self, rows: list[dict[str, Any]]) -> dict[str, Any]:
        batch: dict[str, Any] = {}
        for part in ("sft", "pg", "teacher"):
            if part in rows[0]:
                batch[part] = self._pad([r[part] for r in rows])
        if "s_pos" in rows[0]:
            batch["s_pos"] = self._positions([r["s_pos"] for r in rows])
            batch["t_pos"] = self._positions([r["t_pos"] for r in rows])
        return batch
