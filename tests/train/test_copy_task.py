"""The synthetic copy batches: shape, what is a target, and that a model can learn from them."""

from __future__ import annotations

import pytest
import torch
from transformers import LlamaConfig, LlamaForCausalLM

from train.copy_task import copy_batch, copy_loss


def test_copy_batch_repeats_ordinary_tokens_and_marks_the_predictable_half() -> None:
    ids, targets = copy_batch(torch.Generator().manual_seed(0), vocab_size=50, first_id=6, rows=4, span=10)
    assert ids.shape == targets.shape == (4, 20)
    assert torch.equal(ids[:, :10], ids[:, 10:])
    assert int(ids.min()) >= 6 and int(ids.max()) < 50
    assert not targets[:, :11].any() and targets[:, 11:].all()
    again, _ = copy_batch(torch.Generator().manual_seed(0), vocab_size=50, first_id=6, rows=4, span=10)
    assert torch.equal(ids, again)


def test_a_shifted_batch_puts_copies_of_varied_length_at_varied_places_and_distances() -> None:
    ids, targets = copy_batch(torch.Generator().manual_seed(0), 4096, 6, rows=64, span=16, shift=1.0)
    assert ids.shape == targets.shape == (64, 32)
    lengths, distances, starts = set(), set(), set()
    for row in range(64):
        marked = targets[row].nonzero().flatten().tolist()
        assert marked == list(range(marked[0], marked[-1] + 1))  # one contiguous copy
        second = marked[0] - 1  # the copy's first token is not a target: nothing predicts it
        length = len(marked) + 1
        # the source: the one earlier place holding the same tokens (random ids of 4,096 do not repeat)
        sources = [
            s
            for s in range(second)
            if torch.equal(ids[row, s : s + length], ids[row, second : second + length])
        ]
        assert len(sources) == 1 and sources[0] + length <= second
        lengths.add(length)
        distances.add(second - sources[0])
        starts.add(sources[0])
    assert min(lengths) >= 4 and max(lengths) <= 16 and len(lengths) > 5
    assert len(distances) > 5 and len(starts) > 5  # a fixed look-back cannot solve it
    again, _ = copy_batch(torch.Generator().manual_seed(0), 4096, 6, rows=64, span=16, shift=1.0)
    assert torch.equal(ids, again)


def test_a_small_shift_stays_near_the_fixed_layout() -> None:
    _, targets = copy_batch(torch.Generator().manual_seed(0), 4096, 6, rows=64, span=16, shift=0.1)
    for row in range(64):
        marked = targets[row].nonzero().flatten().tolist()
        assert len(marked) + 1 >= 15  # shortened by at most a tenth of the way to span // 4
        assert marked[0] - 1 >= 14  # the second copy starts close to where x x puts it


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"span": 1}, "span >= 2"),
        ({"rows": 0}, "rows >= 1"),
        ({"first_id": 50}, "no ordinary token"),
        ({"shift": 1.5}, r"shift must be within \[0, 1\]"),
    ],
)
def test_copy_batch_rejects_bad_sizes(kwargs: dict[str, float], message: str) -> None:
    args = {"vocab_size": 50, "first_id": 6, "rows": 2, "span": 8, **kwargs}
    with pytest.raises(ValueError, match=message):
        copy_batch(torch.Generator(), **args)


def test_a_tiny_model_learns_to_copy() -> None:
    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=32,
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=2,
        num_key_value_heads=2,
        max_position_embeddings=64,
    )
    model = LlamaForCausalLM(config)
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
    rng = torch.Generator().manual_seed(1)
    losses = []
    for _ in range(150):
        ids, targets = copy_batch(rng, vocab_size=32, first_id=2, rows=16, span=12)
        loss = copy_loss(model, ids, targets)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        losses.append(loss.item())
    # Chance is ln(30) = 3.4 nats; copying drives the loss on the repeat far below it.
    assert sum(losses[:10]) / 10 > 3.0
    assert sum(losses[-10:]) / 10 < 1.5
