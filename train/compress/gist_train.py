"""Gist training: LoRA (the students' set-up) plus a trainable gist embedding, SFT on the teacher's turns.

Rows are the teacher's conversations (the ``conversations`` stage, as SeqKD uses them), each laid out as
prompt tokens, k gist slots, then the conversation; the loss is the students' token cross-entropy on the
assistant turns, under the gist attention rule (``agents.gist.masked_forward``). The gist embedding is a
separate parameter (initialised at the mean token embedding) so that it trains next to the LoRA weights.
Saved: the LoRA adapter and ``gist.pt`` (the embedding and k), plus the sizes of the gists' KV cache and
of the full prompt's.

Example::

    metrics = train_gist(config, model_path, prompt, conversations, out, device="cpu")
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import torch

from agents.gist import GIST_FILE, gist_cache, masked_forward
from envs.core import Message
from train.compress.config import CompressConfig
from train.compress.rows import prompt_and_conversations
from train.students.examples import IGNORE
from train.students.losses import token_ce


def gist_rows(
    tokenizer: Any, prompt: Sequence[Message], conversations: Sequence[dict[str, Any]], k: int, max_len: int
) -> tuple[list[int], list[tuple[list[int], list[int]]]]:
    """The prompt's ids and, per conversation view, (ids, labels) of prompt + k gist slots + conversation."""
    prompt_ids, encoded = prompt_and_conversations(tokenizer, prompt, conversations)
    p = len(prompt_ids)
    rows = [
        (prompt_ids + [0] * k + ex.input_ids[p:], [IGNORE] * (p + k) + ex.labels[p:])
        for ex in encoded
        if len(ex.input_ids) + k <= max_len and ex.trained
    ]
    return prompt_ids, rows


def kv_bytes(model: Any, positions: int, dtype: torch.dtype) -> int:
    """Bytes of a KV cache of ``positions`` tokens for ``model``'s architecture."""
    c = model.config
    heads = getattr(c, "num_key_value_heads", None) or c.num_attention_heads
    head_dim = getattr(c, "head_dim", None) or c.hidden_size // c.num_attention_heads
    return 2 * c.num_hidden_layers * heads * head_dim * positions * torch.finfo(dtype).bits // 8


def train_gist(
    config: CompressConfig,
    model_path: str,
    prompt: Sequence[Message],
    conversations: Sequence[dict[str, Any]],
    out: Path,
    *,
    device: str = "cpu",
    say: Callable[[str], None] = lambda msg: None,
) -> dict[str, Any]:
    """Train LoRA + gists on the teacher's conversations; save to ``out``; return metrics."""
    from transformers import AutoTokenizer

    from train.students.trainer import load_student

    tokenizer = AutoTokenizer.from_pretrained(model_path)
    lora = config.data.with_overrides(lora_r=config.lora_r, lora_alpha=config.lora_alpha)
    model = load_student(model_path, lora, device)
    max_len = int(getattr(model.config, "max_position_embeddings", 4096))
    prompt_ids, rows = gist_rows(tokenizer, prompt, conversations, config.gist_k, max_len)
    if not rows:
        raise ValueError(f"no gist training row fits the model's context for env {config.env}")
    torch.manual_seed(config.seed)
    emb = model.get_input_embeddings().weight
    gist = torch.nn.Parameter(emb.detach().float().mean(0, keepdim=True).repeat(config.gist_k, 1).to(device))
    params = [p for p in model.parameters() if p.requires_grad] + [gist]
    optimizer = torch.optim.AdamW(params, lr=config.lr)
    steps = max(1, round(len(rows) * config.epochs / config.batch_size))
    rng = random.Random(config.seed)
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    say(f"training {config.gist_k} gist token(s) + LoRA on {len(rows)} rows, {steps} steps ({device})")
    model.train()
    started = time.perf_counter()
    losses = []
    for step in range(steps):
        for group in optimizer.param_groups:  # cosine decay
            group["lr"] = config.lr * 0.5 * (1 + torch.cos(torch.tensor(step / steps * torch.pi)).item())
        batch = [rows[rng.randrange(len(rows))] for _ in range(config.batch_size)]
        width = max(len(ids) for ids, _ in batch)
        ids = torch.full((len(batch), width), pad, dtype=torch.long)
        labels = torch.full((len(batch), width), IGNORE, dtype=torch.long)
        mask = torch.zeros((len(batch), width), dtype=torch.long)
        for i, (row_ids, row_labels) in enumerate(batch):
            ids[i, : len(row_ids)] = torch.tensor(row_ids)
            labels[i, : len(row_labels)] = torch.tensor(row_labels)
            mask[i, : len(row_ids)] = 1
        logits = masked_forward(model, ids.to(device), mask.to(device), gist, len(prompt_ids))
        loss = token_ce(logits, labels.to(device))
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        optimizer.step()
        losses.append(float(loss.detach()))
    model.eval()
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out)
    torch.save({"gist": gist.detach().cpu(), "k": config.gist_k}, out / GIST_FILE)
    cache = gist_cache(model, gist.detach(), prompt_ids)
    metrics = {
        "steps": steps,
        "rows": len(rows),
        "final_loss": sum(losses[-10:]) / len(losses[-10:]),
        "train_s": time.perf_counter() - started,
        "gist_k": config.gist_k,
        "prompt_tokens": len(prompt_ids),
        "gist_kv_bytes": cache.nbytes,
        "prompt_kv_bytes": kv_bytes(model, len(prompt_ids), emb.dtype),
    }
    (out / "gist_metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    return metrics
