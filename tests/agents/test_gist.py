"""Gist tokens: the attention rule, and cached decoding against the gists' K/V matching the masked forward.

The tiny random Llama (tests.agents.conftest) in fp32: the prompt's tokens reach the conversation only
through the gists, and decoding against the stored gist K/V at the original positions gives the logits of
the full masked forward.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from transformers import AutoModelForCausalLM

from agents.gist import cached_logits, gist_cache, gist_mask, masked_forward


@pytest.fixture(scope="module")
def model(tiny_model: Path):
    return AutoModelForCausalLM.from_pretrained(
        tiny_model, dtype=torch.float32, attn_implementation="sdpa"
    ).eval()


def test_the_mask_hides_the_prompt_from_positions_after_the_gists() -> None:
    mask = gist_mask(torch.tensor([[1, 1, 1, 1, 1, 0]]), gist_start=2, gist_end=3, dtype=torch.float32)
    allowed = (mask[0, 0] == 0).int()
    assert allowed[4].tolist() == [0, 0, 1, 1, 1, 0]  # after the gist: the gist and itself, not the prompt
    assert allowed[2].tolist() == [1, 1, 1, 0, 0, 0]  # the gist reads the prompt
    assert mask.dtype == torch.float32 and mask.min() == torch.finfo(torch.float32).min


@pytest.mark.parametrize("k", [1, 2, 5])
def test_cached_decoding_matches_the_masked_forward(model, k: int) -> None:
    torch.manual_seed(k)
    gist = torch.randn(k, model.config.hidden_size) * 0.2
    prompt = [5, 9, 17, 33, 40, 41, 50]
    convs = [[60, 61, 62, 63, 64], [70, 71, 72]]
    cache = gist_cache(model, gist, prompt)
    cached = cached_logits(model, cache, convs)
    width = cached.shape[1]
    for row, conv in enumerate(convs):
        ids = torch.tensor([prompt + [0] * k + conv])
        with torch.no_grad():
            full = masked_forward(model, ids, torch.ones_like(ids), gist, len(prompt))
        want = full[0, len(prompt) + k :]
        got = cached[row, width - len(conv) :]
        assert torch.allclose(got, want, atol=1e-4), (got - want).abs().max()
    assert cache.nbytes == 2 * model.config.num_hidden_layers * 2 * 8 * k * 4  # 2 kv heads x dim 8, fp32


def test_eager_and_sdpa_read_the_float_mask_alike(model, tiny_model: Path) -> None:
    eager = AutoModelForCausalLM.from_pretrained(tiny_model, dtype=torch.float32, attn_implementation="eager")
    gist = torch.randn(2, model.config.hidden_size)
    ids = torch.tensor([[5, 9, 17, 0, 0, 60, 61, 62]])
    mask = torch.tensor([[1, 1, 1, 1, 1, 1, 1, 0]])
    with torch.no_grad():
        a = masked_forward(model, ids, mask, gist, 3)
        b = masked_forward(eager.eval(), ids, mask, gist, 3)
    assert torch.allclose(a[0, :7], b[0, :7], atol=1e-5)
