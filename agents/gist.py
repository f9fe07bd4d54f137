"""Gist tokens (arXiv 2304.08467): k trainable embeddings between the prompt and the conversation.

The attention rule: a position after the last gist may not attend to anything before the first gist, so
the prompt reaches the conversation only through the gists' keys and values. The rule is given to the model
as a complete additive float 4-D mask (0 where allowed, the dtype's minimum elsewhere), which eager and sdpa
attention both apply as is (FlashAttention ignores custom masks; a boolean mask means the opposite under
eager), so the model must be loaded with ``attn_implementation`` ``"eager"`` or ``"sdpa"``.

At run time the prompt and the gists are run once (``gist_cache``); only the gists' K/V are kept (the
compressed prompt) and every reply is decoded against them at the ORIGINAL positions (``cached_logits``,
``greedy``): RoPE positions count the prompt tokens that are no longer there, as in training.

Example::

    cache = gist_cache(model, gist, prompt_ids)
    logits = cached_logits(model, cache, rows)           # same as the full masked forward
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch

GIST_FILE = "gist.pt"


def gist_mask(
    attention_mask: torch.Tensor, gist_start: int, gist_end: int, dtype: torch.dtype
) -> torch.Tensor:
    """The additive ``[B, 1, T, T]`` mask: causal, padding keys masked, and queries at or after ``gist_end``
    blind to keys before ``gist_start``. Every row keeps its diagonal, so no softmax row is empty."""
    t = attention_mask.shape[1]
    i = torch.arange(t, device=attention_mask.device)[:, None]
    j = torch.arange(t, device=attention_mask.device)[None, :]
    allowed = (j <= i) & ~((i >= gist_end) & (j < gist_start))
    allowed = allowed[None] & attention_mask.bool()[:, None, :]
    allowed = allowed | torch.eye(t, dtype=torch.bool, device=attention_mask.device)[None]
    mask = torch.zeros(allowed.shape, dtype=dtype, device=attention_mask.device)
    return mask.masked_fill(~allowed, torch.finfo(dtype).min)[:, None]


def embed(model: Any, input_ids: torch.Tensor, gist: torch.Tensor, gist_start: int) -> torch.Tensor:
    """Input embeddings with the rows ``gist_start .. gist_start + k`` replaced by the gist embeddings."""
    embeds = model.get_input_embeddings()(input_ids)
    k = gist.shape[0]
    if k and input_ids.shape[1] > gist_start:
        embeds = embeds.clone()
        embeds[:, gist_start : gist_start + k] = gist.to(embeds.dtype)[None]
    return embeds


def masked_forward(
    model: Any, input_ids: torch.Tensor, attention_mask: torch.Tensor, gist: torch.Tensor, gist_start: int
) -> torch.Tensor:
    """Logits of the whole sequence (prompt, gists, conversation; right padding) under the gist rule."""
    dtype = model.get_input_embeddings().weight.dtype
    mask = gist_mask(attention_mask, gist_start, gist_start + gist.shape[0], dtype)
    positions = torch.arange(input_ids.shape[1], device=input_ids.device)[None].expand(input_ids.shape[0], -1)
    out = model(
        inputs_embeds=embed(model, input_ids, gist, gist_start), attention_mask=mask, position_ids=positions
    )
    return out.logits


@dataclass
class GistCache:
    """The compressed prompt: per layer the gists' keys and values, and where the conversation starts."""

    keys: list[torch.Tensor]  # [1, kv_heads, k, head_dim] per layer
    values: list[torch.Tensor]
    offset: int  # prompt tokens + k: the position of the conversation's first token

    @property
    def nbytes(self) -> int:
        return sum(t.numel() * t.element_size() for t in [*self.keys, *self.values])

    def expanded(self, batch: int) -> Any:
        """A fresh ``DynamicCache`` holding these gists for ``batch`` rows (decoding appends to it)."""
        from transformers import DynamicCache

        cache = DynamicCache()
        for layer, (k, v) in enumerate(zip(self.keys, self.values, strict=True)):
            cache.update(
                k.expand(batch, -1, -1, -1).contiguous(), v.expand(batch, -1, -1, -1).contiguous(), layer
            )
        return cache


def gist_cache(model: Any, gist: torch.Tensor, prompt_ids: Sequence[int]) -> GistCache:
    """Run the prompt and the gists once and keep only the gists' K/V."""
    device = model.get_input_embeddings().weight.device
    k = gist.shape[0]
    p = len(prompt_ids)
    ids = torch.tensor([list(prompt_ids) + [0] * k], device=device)
    mask = torch.ones_like(ids)
    dtype = model.get_input_embeddings().weight.dtype
    with torch.inference_mode():
        out = model(
            inputs_embeds=embed(model, ids, gist, p),
            attention_mask=gist_mask(mask, p, p + k, dtype),
            position_ids=torch.arange(p + k, device=device)[None],
            use_cache=True,
        )
    keys, values = [], []
    for layer in out.cache.layers:
        keys.append(layer.keys[:, :, p : p + k].clone())
        values.append(layer.values[:, :, p : p + k].clone())
    return GistCache(keys, values, p + k)


def cached_step(
    model: Any, cache: Any, input_ids: torch.Tensor, mask: torch.Tensor, positions: torch.Tensor
) -> torch.Tensor:
    """One forward of new tokens against ``cache`` (gists plus what was decoded); ``mask`` covers the
    cache and the new tokens (``[B, cached + T]``), ``positions`` are the original absolute positions."""
    out = model(
        input_ids=input_ids,
        attention_mask=mask,
        position_ids=positions,
        cache=cache,
        use_cache=True,
    )
    return out.logits


def left_pad(rows: Sequence[Sequence[int]], pad_id: int, device: Any) -> tuple[torch.Tensor, torch.Tensor]:
    width = max(len(r) for r in rows)
    ids = torch.full((len(rows), width), pad_id, dtype=torch.long, device=device)
    mask = torch.zeros((len(rows), width), dtype=torch.long, device=device)
    for i, r in enumerate(rows):
        if r:
            ids[i, width - len(r) :] = torch.tensor(list(r), device=device)
            mask[i, width - len(r) :] = 1
    return ids, mask


def cached_logits(
    model: Any, gists: GistCache, rows: Sequence[Sequence[int]], pad_id: int = 0
) -> torch.Tensor:
    """Logits of conversations (left-padded, batched) decoded against the gist cache."""
    device = gists.keys[0].device
    ids, mask = left_pad(rows, pad_id, device)
    k = gists.keys[0].shape[2]
    full_mask = torch.cat([torch.ones((len(rows), k), dtype=torch.long, device=device), mask], dim=1)
    positions = gists.offset + (mask.cumsum(1) - 1).clamp(min=0)
    with torch.inference_mode():
        return cached_step(model, gists.expanded(len(rows)), ids, full_mask, positions)


def greedy(
    model: Any,
    gists: GistCache,
    rows: Sequence[Sequence[int]],
    max_new_tokens: Sequence[int],
    eos_ids: Sequence[int],
    pad_id: int = 0,
    done: Any = None,
) -> list[list[int]]:
    """Greedy continuations of each row against the gist cache, batched; a row ends at EOS, at its own
    limit, or when ``done(row_index, tokens)`` says so (stop strings)."""
    device = gists.keys[0].device
    ids, mask = left_pad(rows, pad_id, device)
    k = gists.keys[0].shape[2]
    cache = gists.expanded(len(rows))
    full_mask = torch.cat([torch.ones((len(rows), k), dtype=torch.long, device=device), mask], dim=1)
    positions = gists.offset + (mask.cumsum(1) - 1).clamp(min=0)
    out: list[list[int]] = [[] for _ in rows]
    finished = [False] * len(rows)
    with torch.inference_mode():
        for _ in range(max(max_new_tokens)):
            logits = cached_step(model, cache, ids, full_mask, positions)
            nxt = logits[:, -1].argmax(-1)
            for i, token in enumerate(nxt.tolist()):
                if finished[i]:
                    continue
                out[i].append(token)
                if token in eos_ids or len(out[i]) >= max_new_tokens[i] or (done and done(i, out[i])):
                    finished[i] = True
            if all(finished):
                break
            ids = nxt[:, None]
            full_mask = torch.cat([full_mask, torch.ones((len(rows), 1), dtype=torch.long, device=device)], 1)
            positions = positions[:, -1:] + 1
    return out
