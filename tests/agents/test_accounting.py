from __future__ import annotations

import pytest

from agents.accounting import ModelDims, call_flops, sum_flops, token_flops
from agents.base import Usage

# The tiny test model's config: hidden 32, 2 layers, 4 heads of 8, 2 KV heads, MLP 64, vocab 100, untied.
CONFIG = {
    "model_type": "llama",
    "num_hidden_layers": 2,
    "hidden_size": 32,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "intermediate_size": 64,
    "vocab_size": 100,
    "tie_word_embeddings": False,
    "max_position_embeddings": 512,
}


def test_param_count_by_hand() -> None:
    dims = ModelDims.from_config(CONFIG)
    # per layer: q 32*32 + k 32*16 + v 32*16 + o 32*32 = 3072; MLP 3*32*64 = 6144; 2 norms = 64 -> 9280
    # 2 layers = 18560, + final norm 32 = 18592
    assert dims.head_dim == 8 and dims.d_attn == 32
    assert dims.non_embedding_params == 18592
    assert dims.embedding_params == 2 * 100 * 32
    assert dims.max_positions == 512


def test_counted_params_match_a_real_llama() -> None:
    from transformers import LlamaConfig, LlamaForCausalLM

    model = LlamaForCausalLM(LlamaConfig(**{k: v for k, v in CONFIG.items() if k != "model_type"}))
    dims = ModelDims.from_model(model)
    assert dims.counted_params == ModelDims.from_config(CONFIG).non_embedding_params == 18592
    assert dims.total_params == sum(p.numel() for p in model.parameters())


def test_call_flops_by_hand() -> None:
    dims = ModelDims.from_config(CONFIG)
    # P = 10 prompt tokens, the first 4 cached, G = 3 generated: positions 4..11 run (8 tokens),
    # attending to 5 + 6 + ... + 12 = 68 positions in all.
    # 8 * 2 * 18592 + 4 * 2 layers * 32 * 68 = 297472 + 17408
    assert call_flops(dims, prompt_tokens=10, cached_tokens=4, generated_tokens=3) == 314880
    assert token_flops(dims, 0) == 2 * 18592 + 4 * 2 * 32 * 1
    per_token = sum(token_flops(dims, p) for p in range(4, 12))
    assert per_token == 314880


def test_cache_and_generation_edges() -> None:
    dims = ModelDims.from_config(CONFIG)
    no_gen = call_flops(dims, prompt_tokens=10, generated_tokens=0)
    assert no_gen == sum(token_flops(dims, p) for p in range(10))
    # the first generated token comes from the prefill pass: it costs nothing extra
    assert call_flops(dims, prompt_tokens=10, generated_tokens=1) == no_gen
    assert call_flops(dims, prompt_tokens=10, cached_tokens=6, generated_tokens=5) < call_flops(
        dims, prompt_tokens=10, generated_tokens=5
    )
    with pytest.raises(ValueError, match="cached_tokens"):
        call_flops(dims, prompt_tokens=3, cached_tokens=4, generated_tokens=1)


def test_config_variants_and_errors() -> None:
    gpt2 = ModelDims.from_config(
        {"model_type": "gpt2", "n_layer": 2, "n_embd": 16, "n_head": 2, "vocab_size": 50}
    )
    assert not gpt2.gated_mlp and gpt2.d_ff == 64 and gpt2.n_kv_heads == 2 and gpt2.tie_embeddings
    assert gpt2.non_embedding_params == 2 * (4 * 16 * 16 + 2 * 16 * 64 + 2 * 16) + 16
    with pytest.raises(ValueError, match="hidden_size"):
        ModelDims.from_config({"num_hidden_layers": 2})
    with pytest.raises(ValueError, match="multiple"):
        ModelDims.from_config({**CONFIG, "num_key_value_heads": 3})


def test_unknown_flops_make_any_sum_unknown() -> None:
    assert sum_flops([1.0, 2.5]) == 3.5 and sum_flops([]) == 0.0
    assert sum_flops([1.0, None, 2.0]) is None
    known, unknown = Usage(calls=1, flops=10.0), Usage(calls=1, prompt_tokens=7, flops=None)
    assert (known + known).flops == 20.0
    total = known + unknown + known
    assert total.flops is None and total.calls == 3 and total.prompt_tokens == 7
    assert (Usage() + known).flops == 10.0  # no calls yet is 0 FLOPs, known
