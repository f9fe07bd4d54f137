"""FLOPs of a model call, estimated from the model's architecture (Kaplan/Chinchilla-style).

Forward FLOPs of one token at (0-based) position ``p`` of the sequence::

    flops_token(p) = 2 * N + 2 * 2 * n_layers * (p + 1) * d_attn

- ``N`` is the number of non-embedding parameters (every weight a token is multiplied by, each multiply-add
  counted as 2 FLOPs): attention projections, MLP, norms, and the parameters of an unmerged adapter (LoRA).
  The input embedding is a lookup, and the output projection (lm_head) is left out as in Kaplan et al.;
  both are excluded whether or not they are tied.
- The attention term: the token's query is dotted with the ``p + 1`` keys it may attend to (``QK^T``) and
  the values are summed with those weights (``AV``), each ``2 * (p + 1) * d_attn`` FLOPs per layer, where
  ``d_attn = n_heads * head_dim``. Grouped-query attention shares keys/values but not this work, so the number
  of key/value heads does not enter here (only into ``N``).

A call with ``P`` prompt tokens of which the first ``C`` come from a KV cache and ``G`` generated tokens runs
the model on positions ``C .. P + G - 2``: the prompt's uncached part in one prefill pass (its last position
yields the first generated token), then each generated token but the last is fed back to yield the next::

    call_flops = sum(flops_token(p) for p in range(C, P + G - 1))      # range(C, P) when G == 0
               = T * 2 * N + 4 * n_layers * d_attn * (S(P + G - 1) - S(C)),   S(n) = n * (n + 1) / 2

with ``T`` the number of positions run. Padding in a batch is not charged to any request: the figure is the
request's own work. Backward passes are not counted (evaluation only).

FLOPs that cannot be known (a foreign server that does not report them, a model whose architecture was not
given) are ``None``, never 0: a sum with an unknown part is unknown (``sum_flops``), so that a run on such a
server shows blank FLOPs rather than a cost of nothing.

Example::

    dims = ModelDims.from_config(AutoConfig.from_pretrained("models/tiny"))
    flops = call_flops(dims, prompt_tokens=812, cached_tokens=640, generated_tokens=57)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

#: Model families whose MLP has two matrices (up, down) rather than the gated three (gate, up, down).
_UNGATED_MLP = frozenset({"gpt2", "gpt_neox", "gptj", "opt", "bloom", "falcon", "phi", "starcoder2"})


@dataclass(frozen=True)
class ModelDims:
    """The architecture figures the FLOPs estimate needs.

    ``counted_params`` overrides the analytic count of non-embedding parameters with one measured on the
    loaded model (which catches biases, unusual layers and adapter weights).
    """

    n_layers: int
    d_model: int
    n_heads: int
    n_kv_heads: int
    d_ff: int
    vocab_size: int
    tie_embeddings: bool
    head_dim: int
    gated_mlp: bool = True
    max_positions: int | None = None
    counted_params: int | None = None

    def __post_init__(self) -> None:
        for name in ("n_layers", "d_model", "n_heads", "n_kv_heads", "d_ff", "vocab_size", "head_dim"):
            value = getattr(self, name)
            if not isinstance(value, int) or value <= 0:
                raise ValueError(f"ModelDims.{name} must be a positive integer, got {value!r}")
        if self.n_heads % self.n_kv_heads:
            raise ValueError(f"n_heads ({self.n_heads}) must be a multiple of n_kv_heads ({self.n_kv_heads})")

    @classmethod
    def from_config(cls, config: Any) -> ModelDims:
        """Read the dims from a Hugging Face config object or its ``config.json`` dict.

        Multimodal configs are read through their ``text_config``. GPT-2-style names (``n_layer``,
        ``n_embd``, ``n_head``, ``n_inner``) are accepted too.
        """
        get = _getter(config)
        text = get("text_config")
        if text is not None:
            get = _getter(text)

        def need(*names: str) -> Any:
            for name in names:
                value = get(name)
                if value is not None:
                    return value
            raise ValueError(f"model config lacks {' / '.join(names)}; cannot estimate FLOPs")

        d_model = int(need("hidden_size", "n_embd", "d_model"))
        n_heads = int(need("num_attention_heads", "n_head"))
        n_kv = get("num_key_value_heads")
        d_ff = get("intermediate_size") or get("n_inner") or 4 * d_model
        head_dim = get("head_dim") or d_model // n_heads
        tie = get("tie_word_embeddings")
        max_pos = get("max_position_embeddings") or get("n_positions")
        return cls(
            n_layers=int(need("num_hidden_layers", "n_layer")),
            d_model=d_model,
            n_heads=n_heads,
            n_kv_heads=int(n_kv) if n_kv else n_heads,
            d_ff=int(d_ff),
            vocab_size=int(need("vocab_size")),
            tie_embeddings=True if tie is None else bool(tie),
            head_dim=int(head_dim),
            gated_mlp=get("model_type") not in _UNGATED_MLP,
            max_positions=int(max_pos) if max_pos else None,
        )

    @classmethod
    def from_model(cls, model: Any) -> ModelDims:
        """Dims from a loaded (possibly peft-wrapped, possibly 4-bit) model, with its parameters counted."""
        dims = cls.from_config(model.config)
        embedding_ids: set[int] = set()
        for getter in ("get_input_embeddings", "get_output_embeddings"):
            module = getattr(model, getter)()
            if module is not None:
                embedding_ids.update(id(p) for p in module.parameters())
        total = sum(_numel(p) for p in model.parameters() if id(p) not in embedding_ids)
        return replace(dims, counted_params=total)

    @property
    def d_attn(self) -> int:
        return self.n_heads * self.head_dim

    @property
    def non_embedding_params(self) -> int:
        """``N``: measured when ``counted_params`` is set, else the Llama-style analytic count (no biases)."""
        if self.counted_params is not None:
            return self.counted_params
        d, kv = self.d_model, self.n_kv_heads * self.head_dim
        attention = d * self.d_attn + 2 * d * kv + self.d_attn * d
        mlp = (3 if self.gated_mlp else 2) * d * self.d_ff
        norms = 2 * d
        return self.n_layers * (attention + mlp + norms) + d  # + the final norm

    @property
    def embedding_params(self) -> int:
        return self.vocab_size * self.d_model * (1 if self.tie_embeddings else 2)

    @property
    def total_params(self) -> int:
        return self.non_embedding_params + self.embedding_params


def token_flops(dims: ModelDims, position: int) -> float:
    """Forward FLOPs of one token at 0-based ``position`` (it attends to ``position + 1`` tokens)."""
    if position < 0:
        raise ValueError(f"position must be >= 0, got {position}")
    return 2.0 * dims.non_embedding_params + 4.0 * dims.n_layers * (position + 1) * dims.d_attn


def call_flops(
    dims: ModelDims, *, prompt_tokens: int, cached_tokens: int = 0, generated_tokens: int
) -> float:
    """Forward FLOPs of one generation call (see the module docstring for the formula)."""
    if prompt_tokens < 0 or generated_tokens < 0:
        raise ValueError("token counts must be >= 0")
    if not 0 <= cached_tokens <= prompt_tokens:
        raise ValueError(f"cached_tokens ({cached_tokens}) must lie in [0, prompt_tokens={prompt_tokens}]")
    end = prompt_tokens + max(generated_tokens - 1, 0)
    n_run = end - cached_tokens
    if n_run <= 0:
        return 0.0
    attended = (
        end * (end + 1) - cached_tokens * (cached_tokens + 1)
    ) // 2  # sum of (p + 1) over run positions
    return 2.0 * dims.non_embedding_params * n_run + 4.0 * dims.n_layers * dims.d_attn * attended


def sum_flops(values: Iterable[float | None]) -> float | None:
    """The total of FLOPs figures; None (unknown) when any of them is unknown."""
    total = 0.0
    for value in values:
        if value is None:
            return None
        total += value
    return total


def _getter(config: Any) -> Any:
    if isinstance(config, Mapping):
        return config.get
    return lambda name: getattr(config, name, None)


def _numel(param: Any) -> int:
    # bitsandbytes packs 4-bit weights two to a byte; its quant_state keeps the logical shape.
    quant_state = getattr(param, "quant_state", None)
    shape = getattr(quant_state, "shape", None)
    if shape is not None:
        n = 1
        for size in shape:
            n *= int(size)
        return n
    return int(param.numel())
