"""Train the embedded default model from scratch: a small Llama on the oracles' transcripts, in one sitting.

Read top to bottom: config, data (corpus -> tokenizer -> token ids with loss only on the assistant turns ->
length-bucketed batches), model (``LlamaForCausalLM`` from a preset), AdamW with a cosine schedule and
warm-up, the loop (``train.build_steps``: the copy warm-up, then the corpus steps), and the checkpoint
(``save_pretrained`` + tokenizer + ``train_config.json`` + ``metrics.json``; the ``COMPLETE`` marker is
written last). A killed build continues from its last checkpoint when rerun (``train.build_checkpoint``).

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
import os
import random
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
from train.batching import Sample, conversation_of, encode_all, mixed_batches
from train.build_checkpoint import checkpoint_key, clear_checkpoint, load_checkpoint, save_checkpoint
from train.build_steps import BuildSteps
from train.corpus import Corpus, CorpusConfig, build_corpus
from train.presets import Preset, default_preset_name, get_preset, with_overrides
from train.tokenizer import EOS, train_tokenizer

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
    checkpoint_every: int = 250  # main-phase steps between checkpoints (train.build_checkpoint)

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
def tokenizer_texts(records: Sequence[dict[str, Any]]) -> Iterator[str]:
    for record in records:
        for message in conversation_of(record):
            yield message["content"]


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

    tok, data, data_stats = prepare_data(records, preset)
    batch_tokens = max(preset.batch_tokens, max(len(s) for s in data))  # a batch holds the longest one
    stream = mixed_batches(
        data,
        batch_tokens,
        preset.seed,
        tok.pad_token_id,
        dict(preset.step_share),
        dict(preset.env_batch_tokens),
    )
    model, optimizer = build_model(preset, tok, device)
    steps = BuildSteps(model, optimizer, tok, preset, device, bf16, config.progress)
    key = checkpoint_key(preset, corpus_info.get("data_hash"), tok, bf16, torch.get_num_threads())
    saved = load_checkpoint(out, key)
    start = 0 if saved is None else steps.load_state_dict(saved)
    if saved is not None:
        if config.progress:
            print(f"continuing the build from its checkpoint at step {start}/{preset.steps}", file=sys.stderr)
        for _ in range(start):
            next(stream)  # the batches the checkpointed steps trained on

    def checkpoint(next_step: int) -> None:
        if next_step % config.checkpoint_every == 0 and next_step < preset.steps:
            save_checkpoint(out, key, steps.state_dict(next_step))

    deadline = None if config.max_minutes is None else started + 60 * config.max_minutes
    with steps.bar:
        model.train()
        if saved is None:
            steps.copy_warmup()
            save_checkpoint(out, key, steps.state_dict(0))
        steps.main_phase(stream, deadline, start, checkpoint)

    train_config = {
        "preset": preset.as_dict(),
        "seed": preset.seed,
        "envs": list(config.envs or preset.envs),
        "corpus": corpus_info,
        "data": data_stats,
        "batch_tokens": batch_tokens,
        "bf16_autocast": bf16,
        "parameters": sum(p.numel() for p in model.parameters()),
        "device": str(device),
        "torch_threads": torch.get_num_threads(),
        "versions": {"torch": torch.__version__, "transformers": _version("transformers")},
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "commit": _git_commit(),
        # a build continued from a checkpoint: the main-phase step it resumed at (wall_s counts this sitting)
        "continued_from_step": None if saved is None else start,
    }
    metrics = steps.metrics(corpus_s=corpus_s, wall_s=time.monotonic() - started)
    save_model(
        out,
        model,
        tok,
        train_config,
        metrics,
        {
            "preset": preset.name,
            "preset_fingerprint": preset.fingerprint(),
            "data_hash": corpus_info.get("data_hash"),
        },
    )
    clear_checkpoint(out)
    return out


def prepare_data(
    records: Sequence[dict[str, Any]], preset: Preset
) -> tuple[PreTrainedTokenizerFast, list[Sample], dict[str, Any]]:
    """The tokenizer trained on the corpus, and the encoded conversations (name-swapped OS copies added),
    with the counts of what was kept and dropped."""
    tok = train_tokenizer(tokenizer_texts(records), vocab_size=preset.vocab_size, scheme=preset.pretokenizer)
    records = with_renamed_copies(list(records), preset.renamed_copies, preset.seed)
    data, data_stats = encode_all(tok, records, preset.context_length)
    if not data:
        raise RuntimeError(
            f"no conversation fits the context of {preset.context_length} tokens: {data_stats}"
        )
    return tok, data, data_stats


def build_model(
    preset: Preset, tok: PreTrainedTokenizerFast, device: torch.device
) -> tuple[LlamaForCausalLM, torch.optim.Optimizer]:
    """A freshly initialised model of the preset's size, and AdamW with weight decay on the matrices only."""
    model = LlamaForCausalLM(preset.llama_config_for(tok)).to(device)  # type: ignore[arg-type]  # stubs' .to
    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    optimizer = torch.optim.AdamW(
        [{"params": decay, "weight_decay": preset.weight_decay}, {"params": no_decay, "weight_decay": 0.0}],
        lr=preset.lr,
        betas=(0.9, 0.95),
        fused=False,
    )
    return model, optimizer


def save_model(
    out: Path,
    model: LlamaForCausalLM,
    tok: PreTrainedTokenizerFast,
    train_config: dict[str, Any],
    metrics: dict[str, Any],
    marker: dict[str, Any],
) -> None:
    """Weights, tokenizer, generation settings, config and metrics; the ``COMPLETE`` marker last."""
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
    (out / "train_config.json").write_text(json.dumps(train_config, indent=2, sort_keys=True))
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2))
    (out / MARKER).write_text(json.dumps(marker))


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
