"""Benchmark of what the default model's build schedule costs: a copy warm-up step against a training step.

Why: the ``cpu`` preset's warm-up went from 400 fixed-layout copy steps (v8) to 1,200 steps whose shift grows
(content-matching heads form only that way, docs/journal/2026-11-21-to-12-02-default-model.md). This script times, on this machine and in one
process, the two kinds of optimizer step of the ``cpu`` preset's model: a warm-up step (one copy drill
batch, fully shifted, rows opened by ``<|bos|>``) and a main step (a batch of real corpus conversations in
the preset's env mix, plus the drill at its weight). From them it prices the current schedule against v8's
(the baseline: the same main steps, 400 warm-up steps) and prints the ratio.

It needs a corpus in the cache (``python -m train.corpus`` or a finished ``python -m train.bootstrap``) and
reads the tokenizer of a built model folder (the default model unless ``--model`` is given), so nothing is
trained here but the timed steps. The last line printed is one JSON object with every figure.

Usage::

    .venv/bin/python bench/build_schedule.py
    .venv/bin/python bench/build_schedule.py --model /tmp/ablate/run --steps 12
"""

from __future__ import annotations

import argparse
import json
import random
import sys
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
from train.bootstrap import (  # noqa: E402
    BootstrapConfig,
    cpu_has_bf16,
)
from train.build_steps import drill_loss  # noqa: E402
from train.corpus import build_corpus  # noqa: E402
from train.default_model import default_model_dir  # noqa: E402
from train.presets import get_preset  # noqa: E402

V8_WARMUP_STEPS = 400  # the baseline schedule: v8's warm-up, before copy_shift existed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, default=None, help="built model folder (its tokenizer is used)")
    parser.add_argument("--steps", type=int, default=20, help="steps timed per kind (after 3 untimed)")
    parser.add_argument("--per-env", type=int, default=300, help="corpus conversations per env to batch from")
    args = parser.parse_args()

    from transformers import AutoTokenizer, LlamaForCausalLM

    preset = get_preset("cpu")
    torch.set_num_threads(preset.threads)
    torch.manual_seed(0)
    folder = args.model or default_model_dir("cpu")
    if not (folder / "tokenizer.json").exists():
        raise SystemExit(f"no tokenizer in {folder}: build the model first (python -m train.bootstrap)")
    tok = AutoTokenizer.from_pretrained(folder)
    corpus = build_corpus(BootstrapConfig(preset=preset, out=folder).corpus_config(), None, progress=False)
    rng = random.Random(0)
    records = corpus.records()
    by_env: dict[str, list] = {}
    for record in rng.sample(records, len(records)):
        by_env.setdefault(record["env"], []).append(record)
    subset = [r for env_records in by_env.values() for r in env_records[: args.per_env]]
    data, _ = encode_all(tok, subset, preset.context_length)
    longest = max(len(s) for s in data)
    stream = mixed_batches(
        data,
        max(preset.batch_tokens, longest),
        0,
        tok.pad_token_id,
        dict(preset.step_share),
        dict(preset.env_batch_tokens),
    )
    config = preset.llama_config_for(tok)
    model = LlamaForCausalLM(config)
    model.train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
    bf16 = cpu_has_bf16()
    copy_rng = torch.Generator().manual_seed(0)

    def drill() -> torch.Tensor:
        return drill_loss(model, tok, preset, copy_rng)

    def main_loss() -> torch.Tensor:
        loss, _ = batch_loss(model, next(stream))
        return loss + preset.copy_weight * drill()

    def seconds_per_step(loss_fn) -> float:
        for n in range(3 + args.steps):
            if n == 3:
                started = time.perf_counter()
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
                loss = loss_fn()
            loss.backward()
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
        return (time.perf_counter() - started) / args.steps

    warm_s = seconds_per_step(drill)
    main_s = seconds_per_step(main_loss)
    current = preset.copy_warmup_steps * warm_s + preset.steps * main_s
    baseline = V8_WARMUP_STEPS * warm_s + preset.steps * main_s
    figures = {
        "threads": torch.get_num_threads(),
        "bf16": bf16,
        "warmup_s_per_step": round(warm_s, 4),
        "main_s_per_step": round(main_s, 4),
        "ratio_main_over_warmup_step": round(main_s / warm_s, 2),
        "schedule_s": {"current": round(current), "v8_warmup": round(baseline)},
        "ratio_current_over_v8_warmup": round(current / baseline, 3),
    }
    print(
        f"warm-up step {warm_s * 1000:.0f} ms, main step {main_s * 1000:.0f} ms; schedule "
        f"{preset.copy_warmup_steps} + {preset.steps} steps ~ {current:.0f} s of steps against "
        f"{baseline:.0f} s with v8's {V8_WARMUP_STEPS}-step warm-up: ratio {current / baseline:.3f}"
    )
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
