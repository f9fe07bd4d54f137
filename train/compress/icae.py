"""ICAE training (``agents.icae``): pretraining on corpus text, then fine-tuning on the teacher's turns.

Trained: the LoRA adapter on q and v (peft's default targets for Llama-like models), the memory embeddings
and the [AE] embedding; the decoder is the same base model with the adapter disabled, never updated.

1. Pretraining (``icae_pretrain_steps``) on short spans of the project's corpus (``train.corpus``: the env's
   oracle episodes under every prompt variant, rendered with the model's chat template; a user's own env,
   which has no corpus generator, uses the teacher's conversations instead). A span of at most one segment
   is compressed, then, with probability ``icae_ae_share``, reconstructed after [AE] (autoencoding, EOS
   closing it), else continued: the decoder predicts the text that follows the span.
2. Fine-tuning (``icae_finetune_steps``) on the teacher's conversations (the students' ``conversations``
   stage, as SeqKD uses it): the env's prompt is replaced by its slots (encoded once per step with the
   adapter, shared by the batch) and the loss is the token cross-entropy of the assistant turns.

Saved: the LoRA adapter, ``icae.pt`` (``IcaeParams``) and ``icae_metrics.json`` (losses, the exact-match
rate of autoencoding on held-out spans, and the slots' size in bytes next to the full prompt's KV cache).

Example::

    texts = corpus_texts("shop", tokenizer, episodes=20, seed=0)
    metrics = train_icae(config, model_path, prompt, conversations, texts, out, device="cpu")
"""

from __future__ import annotations

import json
import math
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from agents.backends.hf import encode_messages, render_messages
from agents.icae import ICAE_FILE, IcaeParams, decoder_logits, encode_segments, prompt_slots, reconstruct
from envs.core import Message
from train.compress.config import CompressConfig
from train.compress.gist_train import kv_bytes
from train.compress.rows import prompt_and_conversations
from train.students.examples import IGNORE
from train.students.losses import token_ce


@dataclass(frozen=True)
class Span:
    """One pretraining sample: a context of at most one segment and the decoder's target after it."""

    context: list[int]
    target: list[int]
    autoencode: bool  # True: [AE] then the context again (and EOS); False: the text that follows


def corpus_texts(env: str, tokenizer: Any, *, episodes: int, seed: int) -> list[str]:
    """The env's corpus (``train.corpus``, built once and cached) as texts in the model's chat layout."""
    import envs
    from train.corpus import CorpusConfig, build_corpus

    if env not in envs.ENV_SPECS:
        return []
    corpus = build_corpus(CorpusConfig(envs=(env,), episodes_per_env=episodes, seed=seed), progress=False)
    texts = []
    for record in corpus.records():
        messages = [m for m in [*record["prompt"], *record["messages"]] if m.get("content") is not None]
        texts.append(render_messages(tokenizer, messages))
    return texts


def pretrain_spans(
    tokenizer: Any, texts: Sequence[str], n: int, segment: int, ae_share: float, seed: int
) -> list[Span]:
    """``n`` spans of ``segment // 4`` to ``segment`` tokens from ``texts``: autoencoding ones (share
    ``ae_share``) and continuation ones (the next half-span of text as the target)."""
    docs = [tokenizer(t, add_special_tokens=False)["input_ids"] for t in texts]
    docs = [d for d in docs if len(d) >= 2]
    if not docs:
        raise ValueError("no pretraining text: the corpus and the conversations are empty")
    eos = tokenizer.eos_token_id
    rng = random.Random(seed)
    spans = []
    for _ in range(n):
        doc = rng.choice(docs)
        autoencode = rng.random() < ae_share
        length = rng.randint(max(1, segment // 4), segment)
        if not autoencode:
            length = min(length, len(doc) * 2 // 3)
        length = max(1, min(length, len(doc) - (0 if autoencode else 1)))
        start = rng.randint(0, len(doc) - length - (0 if autoencode else 1))
        context = doc[start : start + length]
        if autoencode:
            target = context + ([int(eos)] if eos is not None else [])
        else:
            target = doc[start + length : start + length + max(1, length // 2)]
        spans.append(Span(context, target, autoencode))
    return spans


def finetune_rows(
    tokenizer: Any,
    prompt: Sequence[Message],
    conversations: Sequence[dict[str, Any]],
    room: int,
) -> tuple[list[int], list[tuple[list[int], list[int]]]]:
    """The prompt's ids and, per conversation, (ids, labels) of what follows the prompt, cut to its first
    ``room`` tokens (the first turns, where the prompt's format is learnt; a 10-turn shop conversation runs
    to 5,000 tokens, too many per row for a CPU)."""
    prompt_ids, encoded = prompt_and_conversations(tokenizer, prompt, conversations)
    p = len(prompt_ids)
    rows = []
    for ex in encoded:
        ids, labels = ex.input_ids[p : p + room], ex.labels[p : p + room]
        if any(label != IGNORE for label in labels):
            rows.append((ids, labels))
    return prompt_ids, rows


def load_icae_model(model_path: str, config: CompressConfig, device: str) -> Any:
    """The base model (bf16 on CUDA, fp32 on CPU; sdpa for the float masks), frozen, with a fresh LoRA on
    peft's default attention targets (q and v for Llama-like models)."""
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    dtype = torch.bfloat16 if device == "cuda" else torch.float32
    # A Module to mypy: transformers' functools.wraps on PreTrainedModel.to hides its signature.
    base: torch.nn.Module = AutoModelForCausalLM.from_pretrained(
        model_path, dtype=dtype, attn_implementation="sdpa"
    )
    base = base.to(device)
    lora = LoraConfig(r=config.lora_r, lora_alpha=config.lora_alpha, lora_dropout=0.05, task_type="CAUSAL_LM")
    return get_peft_model(base, lora)


def new_params(model: Any, config: CompressConfig, seed: int) -> IcaeParams:
    """Memory embeddings near the mean token embedding (distinct by a small noise), [AE] at the mean."""
    weight = model.get_input_embeddings().weight.detach().float()
    mean, std = weight.mean(0, keepdim=True), weight.std()
    generator = torch.Generator().manual_seed(seed)
    k = math.ceil(config.icae_segment / config.icae_ratio)
    noise = torch.randn((k, weight.shape[1]), generator=generator).to(weight.device) * std * 0.5
    return IcaeParams(
        memory=torch.nn.Parameter(mean.repeat(k, 1) + noise),
        ae=torch.nn.Parameter(mean.clone()),
        ratio=config.icae_ratio,
        segment=config.icae_segment,
    )


def pretrain_loss(model: Any, params: IcaeParams, batch: Sequence[Span]) -> torch.Tensor:
    """Cross-entropy of the decoder's targets given each span's slots (and [AE] when autoencoding)."""
    embedding = model.get_input_embeddings()
    device = embedding.weight.device
    slots = encode_segments(model, params, [s.context for s in batch])
    rows, labels = [], []
    for span, memory in zip(batch, slots, strict=True):
        target = torch.tensor(span.target, dtype=torch.long, device=device)
        lead = [memory, params.ae.to(memory.dtype)] if span.autoencode else [memory]
        rows.append(torch.cat([*lead, embedding(target)]))
        labels.append([IGNORE] * sum(t.shape[0] for t in lead) + span.target)
    return token_ce(decoder_logits(model, rows), _pad_labels(labels, device))


def finetune_loss(
    model: Any, params: IcaeParams, prompt_ids: Sequence[int], batch: Sequence[tuple[list[int], list[int]]]
) -> torch.Tensor:
    """Cross-entropy of the assistant turns with the prompt replaced by its slots (encoded once)."""
    embedding = model.get_input_embeddings()
    device = embedding.weight.device
    slots = prompt_slots(model, params, prompt_ids)
    rows = [torch.cat([slots, embedding(torch.tensor(ids, device=device))]) for ids, _ in batch]
    labels = [[IGNORE] * slots.shape[0] + row_labels for _, row_labels in batch]
    return token_ce(decoder_logits(model, rows), _pad_labels(labels, device))


def _pad_labels(labels: Sequence[list[int]], device: Any) -> torch.Tensor:
    width = max(len(r) for r in labels)
    return torch.tensor([r + [IGNORE] * (width - len(r)) for r in labels], dtype=torch.long, device=device)


def _cosine(step: int, total: int, lr: float) -> float:
    warmup = max(1, total // 20)
    if step < warmup:
        return lr * (step + 1) / warmup
    return lr * 0.5 * (1 + math.cos(math.pi * (step - warmup) / max(1, total - warmup)))


def train_icae(
    config: CompressConfig,
    model_path: str,
    prompt: Sequence[Message],
    conversations: Sequence[dict[str, Any]],
    texts: Sequence[str],
    out: Path,
    *,
    device: str = "cpu",
    checkpointing: bool | None = None,
    say: Callable[[str], None] = lambda msg: None,
) -> dict[str, Any]:
    """Pretrain on ``texts``, fine-tune on ``conversations``; save to ``out``; return metrics.
    ``checkpointing`` (gradient checkpointing of the encoder) defaults to on with CUDA."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_path)
    torch.manual_seed(config.seed)
    model = load_icae_model(model_path, config, device)
    if checkpointing if checkpointing is not None else device == "cuda":
        model.get_base_model().gradient_checkpointing_enable({"use_reentrant": False})
    params = new_params(model, config, config.seed)
    max_len = int(getattr(model.get_base_model().config, "max_position_embeddings", 4096))
    n_slots = prompt_slots_count(len(encode_messages(tokenizer, prompt, generation=False)), config)
    room = min(config.icae_conv_tokens, max_len - n_slots)
    prompt_ids, rows = finetune_rows(tokenizer, prompt, conversations, room=room)
    if config.icae_finetune_steps and not rows:
        raise ValueError(f"no ICAE fine-tuning row fits the model's context for env {config.env}")
    pretrain_text = list(texts) or [
        render_messages(tokenizer, list(prompt) + c["messages"]) for c in conversations
    ]
    n_spans = config.icae_pretrain_steps * config.batch_size
    spans = pretrain_spans(
        tokenizer, pretrain_text, n_spans + 16, config.icae_segment, config.icae_ae_share, config.seed
    )
    held_out = [s for s in spans[n_spans:] if s.autoencode][:8]
    lora = [p for p in model.parameters() if p.requires_grad]
    trained = [*lora, params.memory, params.ae]
    optimizer = torch.optim.AdamW(trained, lr=config.lr)
    rng = random.Random(config.seed)
    say(
        f"ICAE: {config.icae_pretrain_steps} pretraining steps on {len(pretrain_text)} corpus texts, then "
        f"{config.icae_finetune_steps} fine-tuning steps on {len(rows)} conversations ({device})"
    )
    model.train()
    started = time.perf_counter()
    history: dict[str, list[float]] = {"pretrain": [], "finetune": []}
    phases = [("pretrain", config.icae_pretrain_steps), ("finetune", config.icae_finetune_steps)]
    for phase, steps in phases:
        for step in range(steps):
            for group in optimizer.param_groups:
                group["lr"] = _cosine(step, steps, config.lr)
            if phase == "pretrain":
                batch = spans[step * config.batch_size : (step + 1) * config.batch_size]
                loss = pretrain_loss(model, params, batch)
            else:
                picked = [rows[rng.randrange(len(rows))] for _ in range(config.batch_size)]
                loss = finetune_loss(model, params, prompt_ids, picked)
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(trained, 1.0)
            optimizer.step()
            history[phase].append(float(loss.detach()))
        say(f"ICAE {phase}: {steps} steps, last loss {_tail(history[phase])}")
    model.eval()
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out)
    params.save(out / ICAE_FILE)
    eos = [int(tokenizer.eos_token_id)] if tokenizer.eos_token_id is not None else []
    exact = [reconstruct(model, params, s.context, len(s.context) + 4, eos) == s.context for s in held_out]
    dtype = model.get_input_embeddings().weight.dtype
    metrics = {
        "pretrain_steps": config.icae_pretrain_steps,
        "finetune_steps": config.icae_finetune_steps,
        "rows": len(rows),
        "pretrain_texts": len(pretrain_text),
        "pretrain_final_loss": _tail(history["pretrain"]),
        "finetune_final_loss": _tail(history["finetune"]),
        "autoencode_exact": sum(exact) / len(exact) if exact else None,
        "train_s": time.perf_counter() - started,
        "ratio": config.icae_ratio,
        "prompt_tokens": len(prompt_ids),
        "slots": n_slots,
        "slot_bytes": n_slots * model.get_input_embeddings().weight.shape[1] * torch.finfo(dtype).bits // 8,
        "slot_kv_bytes": kv_bytes(model.get_base_model(), n_slots, dtype),
        "prompt_kv_bytes": kv_bytes(model.get_base_model(), len(prompt_ids), dtype),
    }
    (out / "icae_metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    return metrics


def prompt_slots_count(tokens: int, config: CompressConfig) -> int:
    """Slots of a prompt of ``tokens`` tokens: its segments' ``ceil(n / ratio)`` summed."""
    full, rest = divmod(tokens, config.icae_segment)
    per = math.ceil(config.icae_segment / config.icae_ratio)
    return full * per + (math.ceil(rest / config.icae_ratio) if rest else 0) or 1


def _tail(losses: Sequence[float]) -> float | None:
    return sum(losses[-10:]) / len(losses[-10:]) if losses else None
