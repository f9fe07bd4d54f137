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
from train.batching import Batch, Sample, batch_loss, conversation_of, encode_all, mixed_batches
from train.copy_task import copy_batch, copy_loss, opened_by
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


def drill_loss(
    model: LlamaForCausalLM,
    tok: PreTrainedTokenizerFast,
    preset: Preset,
    rng: torch.Generator,
    progress: float = 1.0,
    filler: int = 0,
) -> torch.Tensor:
    """The loss of one fresh batch of the synthetic copy task (train/copy_task.py) at ``progress`` (0 to 1)
    of the warm-up; after it, 1. Module-level so that the benches time the drill ``train`` runs.

    The rows' layout strays ``progress * copy_shift`` from ``x x``: fully shifted from the start, the drill
    stayed at chance for 1,000 steps; grown from 0, content matching forms (docs/journal/2026-11-21-to-12-02-default-model.md).
    With ``copy_bos`` a row opens with ``<|bos|>`` as every conversation does: without it, an
    induction head formed on the rows copied nothing behind a prompt (13.9 nats), with it 2.6, and the model
    copied the task's paths into its commands (docs/journal/2026-11-21-to-12-02-default-model.md)."""
    device = next(model.parameters()).device
    first_ordinary_id = max(tok.all_special_ids, default=-1) + 1  # specials keep their meaning
    shift = preset.copy_shift * progress
    ids, targets = copy_batch(rng, len(tok), first_ordinary_id, preset.copy_rows, preset.copy_span, shift)
    if filler:
        # random tokens in front of the rows, no target on them, so the copy happens that far in; the rows
        # are packed into one sequence behind one filler, which then costs once per batch, not once per row
        noise = torch.randint(first_ordinary_id, len(tok), (1, filler), generator=rng)
        ids = torch.cat([noise, ids.reshape(1, -1)], dim=1)
        targets = torch.cat([torch.zeros_like(noise, dtype=torch.bool), targets.reshape(1, -1)], dim=1)
    if preset.copy_bos:
        ids, targets = opened_by(ids, targets, tok.bos_token_id)
    return copy_loss(model, ids.to(device), targets.to(device))


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
    steps = _Steps(model, optimizer, tok, preset, device, bf16, config.progress)
    deadline = None if config.max_minutes is None else started + 60 * config.max_minutes
    with steps.bar:
        model.train()
        steps.copy_warmup()
        steps.main_phase(stream, deadline)

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
    return out


def prepare_data(
    records: Sequence[dict[str, Any]], preset: Preset
) -> tuple[PreTrainedTokenizerFast, list[Sample], dict[str, Any]]:
    """The tokenizer trained on the corpus, and the encoded conversations (name-swapped OS copies added,
    an env's conversations repeated ``oversample`` times), with the counts of what was kept and dropped."""
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
    return tok, [s for s in data for _ in range(repeat.get(s.env, 1))], data_stats


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


class _Steps:
    """The training steps of one build: the copy warm-up, then the main phase, with their losses and token
    counts. One object so that both phases share the optimizer, the copy drill's generator and the bar."""

    def __init__(
        self,
        model: LlamaForCausalLM,
        optimizer: torch.optim.Optimizer,
        tok: PreTrainedTokenizerFast,
        preset: Preset,
        device: torch.device,
        bf16: bool,
        progress: bool,
    ):
        self.model, self.optimizer, self.tok, self.preset = model, optimizer, tok, preset
        self.device, self.bf16, self.progress = device, bf16, progress
        self.copy_rng = torch.Generator().manual_seed(preset.seed)
        self.bar = _progress(progress)
        self.copy_losses: list[float] = []  # drill loss per warm-up step
        self.stretch_losses: list[float] = []  # drill loss per stretch step (behind filler)
        self.losses: list[float] = []  # reply loss per main step
        self.real_tokens = self.computed_tokens = 0
        self.stopped_early = False
        self.stretched = False  # whether the stretch stage ran (the main phase's drill then uses filler)
        self.train_s = 0.0

    def _autocast(self, bf16: bool | None = None) -> Any:
        enabled = self.bf16 if bf16 is None else bf16 and self.bf16
        return torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=enabled)

    def _step(self, loss: torch.Tensor) -> None:
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.preset.grad_clip)
        self.optimizer.step()
        self.optimizer.zero_grad(set_to_none=True)

    def _set_lr(self, lr: float) -> None:
        for group in self.optimizer.param_groups:
            group["lr"] = lr

    def _drill(self, progress: float = 1.0, filler: int = 0) -> torch.Tensor:
        return drill_loss(self.model, self.tok, self.preset, self.copy_rng, progress, filler)

    def _main_filler(self) -> int:
        """The filler in front of a main-phase drill: none, or up to ``copy_filler_tokens`` once the
        stretch stage ran with ``copy_filler_main``."""
        if not (self.stretched and self.preset.copy_filler_main):
            return 0
        return int(torch.randint(0, self.preset.copy_filler_tokens + 1, (1,), generator=self.copy_rng))

    def copy_warmup(self) -> None:
        """Copy batches alone, their shift grown from 0 to ``copy_shift``, then on (up to
        ``copy_extra_steps``) until the drill is learnt (``copy_formed``)."""
        preset = self.preset
        if not preset.copy_warmup_steps:
            return
        started = time.monotonic()
        longest = preset.copy_warmup_steps + preset.copy_extra_steps
        task = self.bar.add_task("copy warm-up", total=longest, loss=float("nan"), tps=0.0)
        for step in range(longest):
            if step >= preset.copy_warmup_steps and copy_formed(self.copy_losses, preset.copy_formed_loss):
                break
            self._set_lr(preset.lr * min(1.0, (step + 1) / max(1, preset.warmup_steps)))
            with self._autocast(bf16=not preset.copy_warmup_fp32):
                loss = self._drill(min(1.0, step / max(1, preset.copy_warmup_steps - 1)))
            self._step(loss)
            self.copy_losses.append(round(loss.item(), 5))
            recent = self.copy_losses[-20:]
            self.bar.update(task, advance=1, loss=sum(recent) / len(recent))
        self.bar.update(task, total=len(self.copy_losses))  # a warm-up that stopped early shows as finished
        self.train_s += time.monotonic() - started
        if self.progress and not sys.stderr.isatty():
            print(
                f"copy warm-up: {len(self.copy_losses)} steps, loss {self.copy_losses[-1]:.3f}",
                file=sys.stderr,
            )
        if preset.copy_filler_tokens and preset.copy_filler_steps:
            if copy_formed(self.copy_losses, preset.copy_formed_loss):
                self.stretch()
            elif self.progress:
                print("copy stretch skipped: the warm-up's drill was not learnt", file=sys.stderr)

    def stretch(self) -> None:
        """``copy_filler_steps`` drill steps behind random filler whose bound grows (over 70% of the stage)
        to ``copy_filler_tokens``: the formed head learns to copy far from the start (``Preset``)."""
        preset = self.preset
        started = time.monotonic()
        task = self.bar.add_task("copy stretch", total=preset.copy_filler_steps, loss=float("nan"), tps=0.0)
        for step in range(preset.copy_filler_steps):
            grown = min(1.0, step / max(1, 0.7 * preset.copy_filler_steps))
            bound = int(preset.copy_filler_tokens * grown)
            filler = int(torch.randint(0, bound + 1, (1,), generator=self.copy_rng))
            self._set_lr(preset.lr)
            with self._autocast(bf16=not preset.copy_warmup_fp32):
                loss = self._drill(filler=filler)
            self._step(loss)
            self.stretch_losses.append(round(loss.item(), 5))
            recent = self.stretch_losses[-20:]
            self.bar.update(task, advance=1, loss=sum(recent) / len(recent))
            if (
                self.progress
                and not sys.stderr.isatty()
                and (step + 1) % max(1, preset.copy_filler_steps // 10) == 0
            ):
                print(
                    f"copy stretch step {step + 1}/{preset.copy_filler_steps} filler bound {bound} "
                    f"loss {sum(recent) / len(recent):.3f}",
                    file=sys.stderr,
                    flush=True,
                )
        self.stretched = True
        self.train_s += time.monotonic() - started

    def main_phase(self, stream: Iterator[Batch], deadline: float | None) -> None:
        """``preset.steps`` steps on the corpus (plus the copy drill at ``copy_weight``), warm-up then cosine
        decay; stops early, and says so in the metrics, once ``deadline`` (monotonic seconds) passes."""
        preset, pad_id = self.preset, self.tok.pad_token_id
        started = time.monotonic()
        task = self.bar.add_task("train", total=preset.steps, loss=float("nan"), tps=0.0)
        for step in range(preset.steps):
            if deadline is not None and time.monotonic() > deadline:
                self.stopped_early = True
                break
            self._set_lr(lr_at(step, preset))
            batch = next(stream).to(self.device)
            with self._autocast():
                loss, reply_loss = batch_loss(self.model, batch, preset.env_weight)
                if preset.copy_weight > 0:
                    loss = loss + preset.copy_weight * self._drill(filler=self._main_filler())
            self._step(loss)
            self.losses.append(round(reply_loss, 5))
            # tokens of the full conversations this step learned from (the shared prompt counted per row)
            self.real_tokens += batch.prompt.shape[1] * batch.ids.shape[0] + int((batch.ids != pad_id).sum())
            self.computed_tokens += batch.prompt.shape[1] + batch.ids.numel()
            elapsed = time.monotonic() - started
            recent = sum(self.losses[-20:]) / len(self.losses[-20:])
            self.bar.update(task, advance=1, loss=recent, tps=self.real_tokens / elapsed)
            if self.progress and not sys.stderr.isatty() and (step + 1) % max(1, preset.steps // 20) == 0:
                # a log line now and then when no live bar can be drawn (output to a file or a pipe)
                print(
                    f"train step {step + 1}/{preset.steps} loss {recent:.3f} "
                    f"{self.real_tokens / elapsed:.0f} tok/s {elapsed:.0f}s",
                    file=sys.stderr,
                    flush=True,
                )
        self.train_s += time.monotonic() - started

    def metrics(self, corpus_s: float, wall_s: float) -> dict[str, Any]:
        train_s = max(self.train_s, 1e-9)
        return {
            "loss": self.losses,
            "copy_warmup_loss": self.copy_losses,
            "copy_stretch_loss": self.stretch_losses,
            "final_loss": sum(self.losses[-20:]) / max(1, len(self.losses[-20:])),
            "steps_done": len(self.losses),
            "stopped_early": self.stopped_early,
            "train_s": round(self.train_s, 1),
            "corpus_s": round(corpus_s, 1),
            "wall_s": round(wall_s, 1),
            "tokens_per_s": round(self.real_tokens / train_s, 1),
            "computed_tokens_per_s": round(self.computed_tokens / train_s, 1),
            "tokens_seen": self.real_tokens,
        }


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
