"""Device check of the CUDA paths in one short run: the ``gpu`` preset's training step and HFBackend's loading.

Why one script: a GPU is lent to a session for 15 minutes at most, so the checks are prepared here and run
there as one command. What it measures, each against a baseline in the same process:

1. A training step of the ``gpu`` preset's model (26.5M parameters) on real web and shop corpus batches
   (built in a temporary folder, no Docker), copy loss included as in ``train.bootstrap``: fp32 (the
   baseline) against bf16 autocast, same batches; tokens/s, peak memory, and the build's training time
   that the bf16 step time implies for the preset's schedule (an extrapolation, said so in its name).
2. ``train.bootstrap.train`` itself for ``--train-steps`` steps of that preset: the real code path end to end
   (bf16 on CUDA), saving a folder that the next check loads.
3. ``HFBackend`` on that folder: bf16 (the baseline) against 4-bit NF4 (bitsandbytes): the weights' memory
   footprint and the time of one greedy reply. On CPU the 4-bit half is skipped (it needs CUDA) and said so.

The last line printed is one JSON object with every figure.

Usage::

    python bench/gpu_paths.py                                        # on the GPU machine
    python bench/gpu_paths.py --device cpu --tasks 2 --steps 1 --train-steps 1 --batch-tokens 4096
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from agents.backends.hf import HFBackend  # noqa: E402
from train.batching import (  # noqa: E402
    batch_loss,
    encode_all,
    mixed_batches,
)
from train.bootstrap import (  # noqa: E402
    BootstrapConfig,
    tokenizer_texts,
    train,
)
from train.build_steps import drill_loss  # noqa: E402
from train.corpus import CorpusConfig, build_corpus  # noqa: E402
from train.presets import Preset, get_preset, with_overrides  # noqa: E402
from train.tokenizer import train_tokenizer  # noqa: E402


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def time_steps(model, batches, preset: Preset, tok, device: torch.device, bf16: bool) -> float:
    """Mean seconds per optimizer step over ``batches``: shared-prompt reply loss plus the copy loss of one
    drill batch, backward, AdamW, as ``train.bootstrap`` does after its warm-up."""
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
    generator = torch.Generator().manual_seed(0)
    _sync(device)
    started = time.perf_counter()
    for batch in batches:
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
            loss, _ = batch_loss(model, batch.to(device))
            loss = loss + preset.copy_weight * drill_loss(model, tok, preset, generator)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
    _sync(device)
    return (time.perf_counter() - started) / len(batches)


def reply_time(backend: HFBackend, messages: list[dict[str, str]]) -> dict[str, float]:
    """One greedy reply (after one untimed warm-up reply): seconds and tokens."""
    backend.generate(messages, max_new_tokens=8, stop=[])
    started = time.perf_counter()
    completion = backend.generate(messages, max_new_tokens=64, stop=[])
    seconds = time.perf_counter() - started
    return {"s": round(seconds, 4), "tokens": completion.usage.generated_tokens}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--tasks", type=int, default=24, help="web and shop train tasks in the corpus")
    parser.add_argument("--steps", type=int, default=10, help="training steps timed per setting")
    parser.add_argument("--train-steps", type=int, default=20, help="steps of the end-to-end train() run")
    parser.add_argument("--batch-tokens", type=int, default=None, help="default: the gpu preset's")
    args = parser.parse_args()

    device = torch.device(args.device)
    preset = get_preset("gpu")
    if args.batch_tokens:
        preset = with_overrides(preset, batch_tokens=args.batch_tokens)
    torch.manual_seed(0)
    figures: dict[str, object] = {"device": str(device), "torch": torch.__version__}
    if device.type == "cuda":
        figures["gpu"] = torch.cuda.get_device_name(device)

    with tempfile.TemporaryDirectory() as folder:
        corpus = build_corpus(
            CorpusConfig(envs=("web", "shop"), episodes_per_env=args.tasks, env_share=0.0),
            Path(folder) / "corpus",
            progress=False,
        )
        records = corpus.records()
        tok = train_tokenizer(
            tokenizer_texts(records), vocab_size=preset.vocab_size, scheme=preset.pretokenizer
        )
        data, _ = encode_all(tok, records, preset.context_length)
        budget = max(preset.batch_tokens, max(len(s) for s in data))
        stream = mixed_batches(data, budget, 0, tok.pad_token_id, {"web": 0.4, "shop": 0.6})
        batches = [next(stream) for _ in range(args.steps)]

        # 1. one step: fp32 against bf16 autocast, same batches
        from transformers import LlamaForCausalLM

        model = LlamaForCausalLM(preset.llama_config_for(tok)).to(device)
        model.train()
        time_steps(model, batches[:1], preset, tok, device, True)  # kernels chosen, memory taken
        if device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(device)
        fp32 = time_steps(model, batches, preset, tok, device, False)
        bf16 = time_steps(model, batches, preset, tok, device, True)
        tokens = sum(b.prompt.shape[1] + b.ids.numel() for b in batches) / len(batches)
        figures["step"] = {
            "parameters": sum(p.numel() for p in model.parameters()),
            "computed_tokens_per_step": round(tokens),
            "fp32_s": round(fp32, 4),
            "bf16_s": round(bf16, 4),
            "ratio_fp32_over_bf16": round(fp32 / bf16, 3),
            "bf16_computed_tokens_per_s": round(tokens / bf16),
            "peak_gib": round(torch.cuda.max_memory_allocated(device) / 2**30, 2)
            if device.type == "cuda"
            else None,
            "extrapolated_train_minutes": round(preset.steps * bf16 / 60, 1),
        }
        del model

        # 2. the real training path, a few steps
        short = with_overrides(
            preset,
            steps=args.train_steps,
            copy_warmup_steps=2,
            envs=("web", "shop"),
            step_share=(("web", 0.4), ("shop", 0.6)),
        )
        info = {"path": str(corpus.path), "data_hash": corpus.data_hash}
        started = time.perf_counter()
        out = train(records, info, BootstrapConfig(preset=short, out=Path(folder) / "model", progress=False))
        metrics = json.loads((out / "metrics.json").read_text())
        figures["train"] = {
            "steps": metrics["steps_done"],
            "train_s": metrics["train_s"],
            "wall_s": round(time.perf_counter() - started, 1),
            "bf16_autocast": json.loads((out / "train_config.json").read_text())["bf16_autocast"],
        }

        # 3. HFBackend: bf16 (fp32 on CPU) against 4-bit NF4
        messages = [*records[0]["prompt"], records[0]["messages"][0]]
        loads: dict[str, dict[str, object]] = {}
        for name, four_bit in (("full", False), ("nf4", True)):
            if four_bit and device.type != "cuda":
                loads[name] = {"skipped": "4-bit NF4 needs CUDA"}
                continue
            backend = HFBackend(out, device=str(device), load_in_4bit=four_bit)
            try:
                loads[name] = {
                    "dtype": str(backend.dtype),
                    "footprint_mb": round(backend.model.get_memory_footprint() / 2**20, 2),
                    **reply_time(backend, messages),
                }
            finally:
                backend.close()
        if "footprint_mb" in loads["nf4"]:
            loads["ratio_footprint_full_over_nf4"] = round(
                loads["full"]["footprint_mb"] / loads["nf4"]["footprint_mb"],
                3,  # type: ignore[operator]
            )
        figures["backend"] = loads

    step = figures["step"]
    print(
        f"gpu preset step: fp32 {step['fp32_s'] * 1000:.0f} ms, bf16 {step['bf16_s'] * 1000:.0f} ms "  # type: ignore[index]
        f"(ratio {step['ratio_fp32_over_bf16']:.2f}x); backend: {loads}"  # type: ignore[index]
    )
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
