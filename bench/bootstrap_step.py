"""Benchmark of one training step of the embedded default model: fp32 against bf16 autocast, same batches.

What it measures, on this machine: the mean wall time of a full optimizer step (shared-prompt forward, reply
loss, backward, AdamW) of the ``cpu`` preset's model on real corpus batches (web and shop oracle episodes,
built here in a temporary folder, no Docker), first in fp32 (the baseline), then under bf16 autocast, each
timed twice in alternation so that neither gets the warm cache alone. The ratio printed is fp32 / bf16
(above 1: bf16 is faster). A second ratio compares a shop batch of several conversations (the preset's
``env_batch_tokens``) with one conversation per batch, per reply token.

The last line printed is one JSON object with every figure.

Usage::

    .venv/bin/python bench/bootstrap_step.py
    .venv/bin/python bench/bootstrap_step.py --batches 20 --episodes 30
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import tempfile
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from train.batching import (  # noqa: E402
    batch_loss,
    encode_all,
    mixed_batches,
)
from train.batching import batches as one_env_batches  # noqa: E402
from train.bootstrap import (  # noqa: E402
    cpu_has_bf16,
    tokenizer_texts,
)
from train.corpus import CorpusConfig, build_corpus  # noqa: E402
from train.presets import get_preset  # noqa: E402
from train.tokenizer import train_tokenizer  # noqa: E402


def time_steps(model: torch.nn.Module, batches: list, bf16: bool) -> float:
    """Mean seconds per optimizer step over ``batches``."""
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
    started = time.perf_counter()
    for batch in batches:
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            loss, _ = batch_loss(model, batch)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
    return (time.perf_counter() - started) / len(batches)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batches", type=int, default=16, help="batches timed per setting")
    parser.add_argument("--episodes", type=int, default=24, help="web and shop train tasks in the corpus")
    args = parser.parse_args()

    preset = get_preset("cpu")
    torch.set_num_threads(preset.threads)
    torch.manual_seed(0)
    with tempfile.TemporaryDirectory() as folder:
        corpus = build_corpus(
            CorpusConfig(envs=("web", "shop"), episodes_per_env=args.episodes, env_share=0.0),
            Path(folder),
            progress=False,
        )
        records = corpus.records()
    tok = train_tokenizer(tokenizer_texts(records), vocab_size=preset.vocab_size, scheme=preset.pretokenizer)
    data, _ = encode_all(tok, records, preset.context_length)
    longest = max(len(s) for s in data)
    share = {"web": 0.5, "shop": 0.5}
    stream = mixed_batches(data, max(preset.batch_tokens, longest), 0, tok.pad_token_id, share)
    batches = [next(stream) for _ in range(args.batches)]
    config = preset.llama_config_for(tok)
    from transformers import LlamaForCausalLM

    model = LlamaForCausalLM(config)
    model.train()
    time_steps(model, batches[:2], False)  # warm-up: first-call allocations and kernel selection
    fp32 = [time_steps(model, batches, False) for _ in range(2)]
    bf16 = [time_steps(model, batches, True) for _ in range(2)]
    fp32_s, bf16_s = min(fp32), min(bf16)

    # one conversation per shop batch (the old default budget) against the preset's larger shop budget
    shop = [s for s in data if s.env == "shop"]
    budgets = dict(preset.env_batch_tokens)
    small_budget = max(preset.batch_tokens, longest)
    large_budget = max(budgets.get("shop", preset.batch_tokens), small_budget)
    small = list(itertools.islice(one_env_batches(shop, small_budget, 1, tok.pad_token_id), 6))
    large = list(itertools.islice(one_env_batches(shop, large_budget, 1, tok.pad_token_id), 6))
    per_reply = {}
    for name, group in (("one_per_batch", small), ("env_batch_tokens", large)):
        seconds = time_steps(model, group, cpu_has_bf16())
        replies = sum(int(b.targets.sum()) for b in group) / len(group)
        rows = sum(b.ids.shape[0] for b in group) / len(group)
        per_reply[name] = {
            "s_per_step": round(seconds, 4),
            "rows": rows,
            "reply_tokens": replies,
            "ms_per_reply_token": round(1000 * seconds / replies, 3),
        }
    figures = {
        "cpu_has_bf16": cpu_has_bf16(),
        "threads": torch.get_num_threads(),
        "fp32_s_per_step": round(fp32_s, 4),
        "bf16_s_per_step": round(bf16_s, 4),
        "ratio_fp32_over_bf16": round(fp32_s / bf16_s, 3),
        "shop_batches": per_reply,
        "ratio_reply_token_cost_one_over_large": round(
            per_reply["one_per_batch"]["ms_per_reply_token"]
            / per_reply["env_batch_tokens"]["ms_per_reply_token"],
            3,
        ),
    }
    print(
        f"step fp32 {fp32_s * 1000:.0f} ms, bf16 autocast {bf16_s * 1000:.0f} ms: ratio {fp32_s / bf16_s:.2f}x"
    )
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
