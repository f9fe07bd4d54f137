"""ICAE, the in-context autoencoder (arXiv 2307.06945): the prompt encoded into memory slots.

Encoder: the base model with a LoRA adapter (q and v projections) reads a segment of context followed by
k = ceil(n / ratio) trainable memory embeddings; the slots are the final hidden states (after the last norm)
at those k positions. A context longer than one segment is cut into segments encoded independently (as the
paper does for long inputs), so a prompt of P tokens gives ceil(P / ratio) slots in all. Decoder: the same
base model with the adapter disabled (frozen), reading the slots as input embeddings in place of the prompt.

Padding: a batch of segments is LEFT padded, the memory embeddings closing every row, and the mask is a
complete additive float 4-D one (``agents.gist.gist_mask`` with no gist span: causal, padded keys masked,
every row keeps its diagonal), positions counting real tokens only; so a segment's slots are the same alone
or next to a longer one. The decoder pass runs in eval mode, so that gradient checkpointing (which wraps only
layers in training mode) covers the encoder alone: a checkpoint replayed during backward, outside the
``disable_adapter`` context, would otherwise recompute the decoder with the adapter on.

At run time the slots and their decoder K/V are computed once per distinct prompt; each reply is decoded
against that K/V (``agents.gist.GistCache`` and ``greedy``: the same cached decoding as the gist agent).

Example::

    params = IcaeParams.load(folder / ICAE_FILE)
    slots = prompt_slots(model, params, prompt_ids)          # [ceil(P / 4), hidden]
    cache = slots_cache(model, slots)                        # the decoder's K/V of the slots
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from agents.gist import GistCache, gist_mask

ICAE_FILE = "icae.pt"


@dataclass
class IcaeParams:
    """The trainable embeddings next to the LoRA adapter: memory tokens and the [AE] token."""

    memory: torch.Tensor  # [segment / ratio (rounded up), hidden]
    ae: torch.Tensor  # [1, hidden]: after the slots, asks the decoder to restate the context
    ratio: int
    segment: int

    def save(self, path: Path) -> None:
        torch.save(
            {
                "memory": self.memory.detach().cpu(),
                "ae": self.ae.detach().cpu(),
                "ratio": self.ratio,
                "segment": self.segment,
            },
            path,
        )

    @classmethod
    def load(cls, path: Path, device: Any = "cpu", dtype: torch.dtype = torch.float32) -> IcaeParams:
        saved = torch.load(path, map_location=device)
        return cls(
            saved["memory"].to(dtype), saved["ae"].to(dtype), int(saved["ratio"]), int(saved["segment"])
        )


def slot_count(tokens: int, ratio: int) -> int:
    """Memory slots for a segment of ``tokens`` tokens: ``ceil(tokens / ratio)``, at least one."""
    return max(1, math.ceil(tokens / ratio))


def segments(ids: Sequence[int], segment: int) -> list[list[int]]:
    """``ids`` cut into consecutive segments of at most ``segment`` tokens."""
    return [list(ids[i : i + segment]) for i in range(0, len(ids), segment)] or [[]]


def _inner(model: Any) -> Any:
    """The transformer without its LM head (the slots are hidden states, no logits are needed)."""
    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    return getattr(base, base.base_model_prefix)


def pad_embeds(rows: Sequence[torch.Tensor], left: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """Rows of embeddings ``[n_i, H]`` stacked to ``[B, W, H]`` with zeros where padded, and the 0/1 mask."""
    width = max(r.shape[0] for r in rows)
    out, masks = [], []
    for r in rows:
        pad = r.new_zeros((width - r.shape[0], r.shape[1]))
        out.append(torch.cat([pad, r] if left else [r, pad]))
        ones = torch.ones(r.shape[0], dtype=torch.long, device=r.device)
        zeros = torch.zeros(width - r.shape[0], dtype=torch.long, device=r.device)
        masks.append(torch.cat([zeros, ones] if left else [ones, zeros]))
    return torch.stack(out), torch.stack(masks)


def encode_segments(model: Any, params: IcaeParams, chunks: Sequence[Sequence[int]]) -> list[torch.Tensor]:
    """The slots ``[k_i, H]`` of each segment, encoded in one left-padded batch with the adapter on."""
    embedding = model.get_input_embeddings()
    device, dtype = embedding.weight.device, embedding.weight.dtype
    counts = [slot_count(len(c), params.ratio) for c in chunks]
    if max(counts) > params.memory.shape[0]:
        raise ValueError(
            f"a segment of {max(len(c) for c in chunks)} tokens needs {max(counts)} memory tokens; "
            f"only {params.memory.shape[0]} were trained (segments are at most {params.segment} tokens)"
        )
    rows = []
    for chunk, k in zip(chunks, counts, strict=True):
        tokens = embedding(torch.tensor(list(chunk), dtype=torch.long, device=device))
        rows.append(torch.cat([tokens, params.memory[:k].to(device=device, dtype=dtype)]))
    embeds, mask = pad_embeds(rows, left=True)
    positions = (mask.cumsum(1) - 1).clamp(min=0)
    hidden = _inner(model)(
        inputs_embeds=embeds, attention_mask=gist_mask(mask, 0, 0, dtype), position_ids=positions
    ).last_hidden_state
    return [hidden[i, hidden.shape[1] - k :] for i, k in enumerate(counts)]


def prompt_slots(model: Any, params: IcaeParams, ids: Sequence[int]) -> torch.Tensor:
    """All the slots of a context (its segments' slots in order): ``[ceil(len(ids) / ratio), H]``."""
    return torch.cat(encode_segments(model, params, segments(ids, params.segment)))


@contextmanager
def frozen_decoder(model: Any) -> Iterator[None]:
    """The decoder: adapter disabled, eval mode (no dropout, no gradient checkpointing); gradients still
    flow back to the slots and the [AE] embedding."""
    was_training = model.training
    model.eval()
    try:
        if hasattr(model, "disable_adapter"):
            with model.disable_adapter():
                yield
        else:
            yield
    finally:
        model.train(was_training)


def decoder_logits(model: Any, rows: Sequence[torch.Tensor]) -> torch.Tensor:
    """Logits of the frozen decoder over rows of input embeddings (slots first), right padded.

    The padding mask stays 2-D: with right padding every real query sees real keys only, and the model's
    own causal path (no dense ``[B, T, T]`` mask) keeps long conversations cheap."""
    dtype = model.get_input_embeddings().weight.dtype
    embeds, mask = pad_embeds([r.to(dtype) for r in rows], left=False)
    positions = torch.arange(embeds.shape[1], device=embeds.device)[None].expand(embeds.shape[0], -1)
    with frozen_decoder(model):
        return model(inputs_embeds=embeds, attention_mask=mask, position_ids=positions).logits


def slots_cache(model: Any, slots: torch.Tensor) -> GistCache:
    """The frozen decoder's K/V of the slots: the compressed prompt as decoding reads it."""
    n = slots.shape[0]
    device = slots.device
    with torch.inference_mode(), frozen_decoder(model):
        out = model(
            inputs_embeds=slots[None].to(model.get_input_embeddings().weight.dtype),
            position_ids=torch.arange(n, device=device)[None],
            use_cache=True,
        )
    keys = [layer.keys.clone() for layer in out.cache.layers]
    values = [layer.values.clone() for layer in out.cache.layers]
    return GistCache(keys, values, n)


def reconstruct(
    model: Any, params: IcaeParams, ids: Sequence[int], max_new_tokens: int, eos_ids: Sequence[int]
) -> list[int]:
    """Autoencoding: the context's slots, then [AE], decoded greedily until EOS (not returned)."""
    embedding = model.get_input_embeddings()
    out: list[int] = []
    with torch.inference_mode():
        slots = prompt_slots(model, params, ids)  # the encoder: adapter on
    with torch.inference_mode(), frozen_decoder(model):
        embeds = torch.cat([slots, params.ae.to(slots.device, slots.dtype)])[None]
        n = embeds.shape[1]
        positions = torch.arange(n, device=slots.device)[None]
        result = model(inputs_embeds=embeds, position_ids=positions, use_cache=True)
        for step in range(max_new_tokens):
            token = int(result.logits[0, -1].argmax())
            if token in eos_ids:
                break
            out.append(token)
            result = model(
                inputs_embeds=embedding(torch.tensor([[token]], device=slots.device)),
                position_ids=torch.tensor([[n + step]], device=slots.device),
                cache=result.cache,
                use_cache=True,
            )
    return out
