"""The training steps of a default-model build: the copy warm-up, its stretch stage, and the main phase.

``train.bootstrap`` prepares the data, the model and the optimizer and hands them to ``BuildSteps``; the
schedule (``lr_at``), the synthetic copy drill (``drill_loss``) and the test of a formed copy head
(``copy_formed``) live here at module level so that the benches time exactly what a build runs.
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import torch
from transformers import LlamaForCausalLM, PreTrainedTokenizerFast

from train.batching import Batch, batch_loss
from train.copy_task import copy_batch, copy_loss, opened_by
from train.presets import Preset


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


class BuildSteps:
    """The training steps of one build: the copy warm-up, its stretch stage, then the main phase, with their
    losses and token counts. One object so that the phases share the optimizer, the copy drill's generator
    and the bar."""

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

    def _filler(self, bound: int) -> int:
        """A filler length drawn uniformly from 0 to ``bound`` with the drill's generator."""
        return int(torch.randint(0, bound + 1, (1,), generator=self.copy_rng))

    def _main_filler(self) -> int:
        """The filler in front of a main-phase drill: none, or up to ``copy_filler_tokens`` once the
        stretch stage ran with ``copy_filler_main``."""
        if not (self.stretch_losses and self.preset.copy_filler_main):
            return 0
        return self._filler(self.preset.copy_filler_tokens)

    def _log_now(self, step: int, total: int, times: int) -> bool:
        """Whether step ``step`` of ``total`` prints a log line: ``times`` per stage, and only when no live
        bar can be drawn (output to a file or a pipe)."""
        return self.progress and not sys.stderr.isatty() and (step + 1) % max(1, total // times) == 0

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
        self._set_lr(preset.lr)
        for step in range(preset.copy_filler_steps):
            grown = min(1.0, step / max(1, 0.7 * preset.copy_filler_steps))
            bound = int(preset.copy_filler_tokens * grown)
            with self._autocast(bf16=not preset.copy_warmup_fp32):
                loss = self._drill(filler=self._filler(bound))
            self._step(loss)
            self.stretch_losses.append(round(loss.item(), 5))
            recent = self.stretch_losses[-20:]
            self.bar.update(task, advance=1, loss=sum(recent) / len(recent))
            if self._log_now(step, preset.copy_filler_steps, 10):
                print(
                    f"copy stretch step {step + 1}/{preset.copy_filler_steps} filler bound {bound} "
                    f"loss {sum(recent) / len(recent):.3f}",
                    file=sys.stderr,
                    flush=True,
                )
        self.train_s += time.monotonic() - started

    def state_dict(self, next_step: int) -> dict[str, Any]:
        """Everything a build needs to continue at main-phase step ``next_step`` (``train.build_checkpoint``)."""
        return {
            "next_step": next_step,
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "copy_rng": self.copy_rng.get_state(),
            "torch_rng": torch.get_rng_state(),
            "logs": {
                "copy_losses": self.copy_losses,
                "stretch_losses": self.stretch_losses,
                "losses": self.losses,
                "real_tokens": self.real_tokens,
                "computed_tokens": self.computed_tokens,
                "train_s": self.train_s,
            },
        }

    def load_state_dict(self, state: dict[str, Any]) -> int:
        """Restore a ``state_dict``; returns the main-phase step to continue from."""
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.copy_rng.set_state(state["copy_rng"])
        torch.set_rng_state(state["torch_rng"])
        logs = state["logs"]
        self.copy_losses, self.stretch_losses = list(logs["copy_losses"]), list(logs["stretch_losses"])
        self.losses = list(logs["losses"])
        self.real_tokens, self.computed_tokens = logs["real_tokens"], logs["computed_tokens"]
        self.train_s = logs["train_s"]
        return int(state["next_step"])

    def main_phase(
        self,
        stream: Iterator[Batch],
        deadline: float | None,
        start: int = 0,
        on_step: Callable[[int], None] | None = None,
    ) -> None:
        """``preset.steps`` steps on the corpus (plus the copy drill at ``copy_weight``), warm-up then cosine
        decay, from step ``start`` (a continued build: ``stream`` is already past its first ``start``
        batches); ``on_step(next_step)`` runs after every step (the checkpoints). Stops early, and says so
        in the metrics, once ``deadline`` (monotonic seconds) passes."""
        preset, pad_id = self.preset, self.tok.pad_token_id
        started = time.monotonic()
        tokens_before = self.real_tokens
        task = self.bar.add_task("train", total=preset.steps, completed=start, loss=float("nan"), tps=0.0)
        for step in range(start, preset.steps):
            step_started = time.monotonic()
            if deadline is not None and step_started > deadline:
                self.stopped_early = True
                break
            self._set_lr(lr_at(step, preset))
            batch = next(stream).to(self.device)
            with self._autocast():
                loss, reply_loss = batch_loss(self.model, batch)
                if preset.copy_weight > 0:
                    loss = loss + preset.copy_weight * self._drill(filler=self._main_filler())
            self._step(loss)
            self.losses.append(round(reply_loss, 5))
            # tokens of the full conversations this step learned from (the shared prompt counted per row)
            self.real_tokens += batch.prompt.shape[1] * batch.ids.shape[0] + int((batch.ids != pad_id).sum())
            self.computed_tokens += batch.prompt.shape[1] + batch.ids.numel()
            elapsed = time.monotonic() - started
            recent = sum(self.losses[-20:]) / len(self.losses[-20:])
            tps = (self.real_tokens - tokens_before) / elapsed
            self.bar.update(task, advance=1, loss=recent, tps=tps)
            if self._log_now(step, preset.steps, 20):
                print(
                    f"train step {step + 1}/{preset.steps} loss {recent:.3f} {tps:.0f} tok/s {elapsed:.0f}s",
                    file=sys.stderr,
                    flush=True,
                )
            self.train_s += time.monotonic() - step_started
            if on_step is not None:
                on_step(step + 1)

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
