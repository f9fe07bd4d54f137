"""The students' loss terms, each a plain function of logits and labels so that tests can check them by hand.

- ``token_ce``: mean cross-entropy over the trained tokens (labels other than ``IGNORE``), with the usual
  shift (the logits at position i predict the token at i + 1);
- ``joint``: GCD's ``(1 - r) * PG + r * SFT``;
- ``token_kl``: mean over the trained tokens of KL(teacher || student), the forward KL of SeqKD + KLD,
  between the prompted teacher's next-token distribution and the prompt-less student's.

Example::

    loss = joint(token_ce(pg_logits, pg_labels), token_ce(sft_logits, sft_labels), r=0.7)
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from train.students.examples import IGNORE


def token_ce(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Mean next-token cross-entropy over positions whose label is not ``IGNORE``."""
    shifted = logits[:, :-1].reshape(-1, logits.shape[-1]).float()
    return F.cross_entropy(shifted, labels[:, 1:].reshape(-1), ignore_index=IGNORE)


def joint(pg: torch.Tensor | None, sft: torch.Tensor | None, r: float) -> torch.Tensor:
    """GCD's joint loss; a term that is absent (r = 0 or 1 needs only one) is left out."""
    if pg is None and sft is None:
        raise ValueError("the joint loss needs at least one term")
    if pg is None or r == 1.0:
        assert sft is not None
        return sft
    if sft is None or r == 0.0:
        return pg
    return (1.0 - r) * pg + r * sft


def token_kl(teacher_logits: torch.Tensor, student_logits: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean over ``mask``ed rows of KL(softmax(teacher) || softmax(student)); logits are [N, vocab]."""
    t = F.log_softmax(teacher_logits.float(), dim=-1)
    s = F.log_softmax(student_logits.float(), dim=-1)
    per_token = (t.exp() * (t - s)).sum(-1)
    weights = mask.float()
    return (per_token * weights).sum() / weights.sum().clamp(min=1.0)


def gather_rows(logits: torch.Tensor, positions: torch.Tensor) -> torch.Tensor:
    """``logits[b, positions[b, k]]`` as [B * K, vocab]; padded positions (-1) read row 0 (masked later)."""
    index = positions.clamp(min=0).unsqueeze(-1).expand(-1, -1, logits.shape[-1])
    return logits.gather(1, index).reshape(-1, logits.shape[-1])
