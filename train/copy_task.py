"""Synthetic copy batches that teach a small model from scratch to copy spans out of its context.

Acting well in every env is mostly copying: a path from the task into a command, a number from the shell's
output into ``answer(...)``, an ASIN from a results page into ``click[...]``. A transformer learns that through
induction heads, which form late when the only signal is a few reply tokens per long conversation. Sequences
of random tokens repeated once, with the loss on the repeat, are the classic way to make them form early
(provided the repeat's place varies: see ``shift`` below); mixing a share of such batches into the
bootstrap costs little compute.

Example::

    rng = torch.Generator().manual_seed(0)
    ids, targets = copy_batch(rng, vocab_size=4096, first_id=8, rows=8, span=48)
    ids, targets = copy_batch(rng, vocab_size=4096, first_id=8, rows=8, span=48, shift=1.0)

Why ``shift``: in the fixed layout (``x x``, ``x`` of ``span`` tokens from position 0) every target sits
exactly ``span`` positions after its source, so a head that looks a fixed distance back (or at a fixed
position from the start) solves the drill without matching any content. The models trained on it copied
the drill perfectly bare and worse than chance behind a prompt, and copied the envs' paths by position
only (docs/journal/2026-11-21-to-12-02-default-model.md). A shifted layout puts a copy of random length at a random place and distance, so
only content matching (an induction head: find the current token earlier, emit what followed it) pays.
From scratch the fully shifted drill stays at chance for 1,000 steps; growing ``shift`` from 0 to 1 lets the
fixed-distance head point near the source first and content matching take over (``Preset.copy_shift``).
"""

from __future__ import annotations

import torch


def copy_batch(
    rng: torch.Generator, vocab_size: int, first_id: int, rows: int, span: int, shift: float = 0.0
) -> tuple[torch.Tensor, torch.Tensor]:
    """``rows`` sequences of ``2 * span`` random ordinary tokens in which a span is written twice; targets
    mark the second copy (every position of it but its first token, which nothing predicts).

    ``shift`` (0 to 1) sets how far the layout strays from ``x x`` (``x`` of ``span`` tokens from position
    0, the layout at 0): per row the span is shortened by up to ``shift`` of the way to ``span // 4``, and
    the first copy's start and the gap between the copies are drawn from ``shift`` of the room left. At 1
    the copy is of any length from ``span // 4`` (at least 2) to ``span``, at any place and distance.
    ``first_id`` is the first id that is not a special token (specials keep their meaning). Returns
    ``(ids, targets)``, each ``(rows, 2 * span)``.
    """
    if span < 2 or rows < 1:
        raise ValueError(f"copy batches need span >= 2 and rows >= 1, got span={span}, rows={rows}")
    if first_id >= vocab_size:
        raise ValueError(f"first_id {first_id} leaves no ordinary token in a vocabulary of {vocab_size}")
    if not 0.0 <= shift <= 1.0:
        raise ValueError(f"shift must be within [0, 1], got {shift}")
    if shift == 0.0:
        half = torch.randint(first_id, vocab_size, (rows, span), generator=rng)
        ids = torch.cat([half, half], dim=1)
        targets = torch.zeros_like(ids, dtype=torch.bool)
        targets[:, span + 1 :] = True
        return ids, targets
    width = 2 * span
    ids = torch.randint(first_id, vocab_size, (rows, width), generator=rng)
    targets = torch.zeros_like(ids, dtype=torch.bool)
    shortest = max(2, span // 4)
    for row in range(rows):
        length = _randint(rng, span - round(shift * (span - shortest)), span)
        free = width - 2 * length  # tokens in neither copy: before, between and after them
        gap = _randint(rng, 0, round(shift * free))
        start = _randint(rng, 0, round(shift * (free - gap)))
        second = start + length + gap
        ids[row, second : second + length] = ids[row, start : start + length]
        targets[row, second + 1 : second + length] = True
    return ids, targets


def opened_by(ids: torch.Tensor, targets: torch.Tensor, token_id: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Copy rows with ``token_id`` (``<|bos|>``) in front, as every conversation opens, and no target on it:
    a copy circuit formed on rows without it stayed tied to that setting (``Preset.copy_bos``)."""
    ids = torch.cat([torch.full_like(ids[:, :1], token_id), ids], dim=1)
    targets = torch.cat([torch.zeros_like(targets[:, :1]), targets], dim=1)
    return ids, targets


def _randint(rng: torch.Generator, low: int, high: int) -> int:
    """A uniform integer in ``[low, high]`` drawn from ``rng`` (so batches are reproducible by seed)."""
    return int(torch.randint(low, high + 1, (1,), generator=rng))


def copy_loss(model: torch.nn.Module, ids: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy of the model on the repeated half of a copy batch."""
    logits = model(input_ids=ids).logits[:, :-1]
    nll = torch.nn.functional.cross_entropy(
        logits.float().reshape(-1, logits.shape[-1]), ids[:, 1:].reshape(-1), reduction="none"
    ).view(logits.shape[:2])
    mask = targets[:, 1:].float()
    return (nll * mask).sum() / mask.sum().clamp(min=1)
