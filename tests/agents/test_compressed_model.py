"""Gist and ICAE replies decoded in batches: concurrent calls share ``greedy`` runs per prompt and give the
tokens that one-at-a-time decoding gives.

The compressors are the tiny random Llama (tests.agents.conftest) with an untrained but non-zero LoRA and
random gist / memory embeddings, saved as ``train.compress`` saves them: what is tested is the decoding, not
what training taught.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import torch
from peft import LoraConfig, get_peft_model
from transformers import AutoModelForCausalLM

from agents.base import Reply
from agents.compressed_model import CompressedPromptModel
from agents.gist import GIST_FILE
from agents.gist_agent import GistModel
from agents.icae import ICAE_FILE, IcaeParams
from agents.icae_agent import IcaeModel
from envs.core import Message

PROMPTS: list[list[Message]] = [
    [
        {"role": "user", "content": "You are an agent. Think, then act: bash or answer."},
        {"role": "assistant", "content": "Ok."},
    ],
    [{"role": "user", "content": "You shop. Search, click, buy the item asked for."}],
]
# (prompt, task, max_new_tokens): two prompts interleaved, so a batch holds two groups
CALLS = [
    (0, "tell me how many files are in /etc", 14),
    (1, "buy a bottle of size 6", 14),
    (0, "count the directory", 6),
    (0, "search for price", 14),
    (1, "click the color", 10),
]


def save_lora(tiny_model: Path, folder: Path) -> int:
    """An untrained LoRA with non-zero B (so it changes the model), saved in ``folder``; the hidden size."""
    torch.manual_seed(1)
    base = AutoModelForCausalLM.from_pretrained(tiny_model)
    config = LoraConfig(r=4, lora_alpha=16, target_modules=["q_proj", "v_proj"], init_lora_weights=False)
    get_peft_model(base, config).save_pretrained(str(folder))
    return int(base.config.hidden_size)


def load_gist(tiny_model: Path, folder: Path) -> CompressedPromptModel:
    hidden = save_lora(tiny_model, folder)
    torch.save({"gist": torch.randn(2, hidden) * 0.2, "k": 2}, folder / GIST_FILE)
    return GistModel(tiny_model, folder, device="cpu", batch_wait_s=0.3)


def load_icae(tiny_model: Path, folder: Path) -> CompressedPromptModel:
    hidden = save_lora(tiny_model, folder)
    IcaeParams(torch.randn(4, hidden) * 0.2, torch.randn(1, hidden) * 0.2, ratio=4, segment=16).save(
        folder / ICAE_FILE
    )
    return IcaeModel(tiny_model, folder, device="cpu", batch_wait_s=0.3)


LOADERS: dict[str, Callable[[Path, Path], CompressedPromptModel]] = {"gist": load_gist, "icae": load_icae}


@pytest.fixture(scope="module", params=sorted(LOADERS))
def model(
    request: pytest.FixtureRequest, tiny_model: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[CompressedPromptModel]:
    loaded = LOADERS[request.param](tiny_model, tmp_path_factory.mktemp(request.param))
    yield loaded
    loaded.close()


def ask(model: CompressedPromptModel, i: int, stop: list[str]) -> Reply:
    prompt, task, limit = CALLS[i]
    return model.generate(PROMPTS[prompt], [{"role": "user", "content": task}], limit, stop)


def test_concurrent_replies_share_batches_and_match_one_at_a_time(model: CompressedPromptModel) -> None:
    alone = [ask(model, i, []) for i in range(len(CALLS))]
    assert len(alone[3].text) > 8, "the tiny model should produce some text"
    # a per-row stop string, taken from the text decoded alone, must cut that row inside a batch too
    stops: list[list[str]] = [[] for _ in CALLS]
    stops[3] = [alone[3].text[5:8]]
    alone[3] = ask(model, 3, stops[3])
    assert alone[3].usage.generated_tokens < 14

    results: list[Reply | None] = [None] * len(CALLS)
    barrier = threading.Barrier(len(CALLS))

    def work(i: int) -> None:
        barrier.wait()
        results[i] = ask(model, i, stops[i])

    batches, requests = model.batches_run, model.requests_run
    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(CALLS))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    replies = [r for r in results if r is not None]
    assert len(replies) == len(CALLS)
    assert model.requests_run - requests == len(CALLS)
    # one greedy run per prompt when the five calls arrive together; at most four when one straggles
    assert 2 <= model.batches_run - batches < len(CALLS), "concurrent calls should share greedy runs"
    assert [r.text for r in replies] == [a.text for a in alone]
    assert [r.usage.generated_tokens for r in replies] == [a.usage.generated_tokens for a in alone]
    assert [r.usage.prompt_tokens for r in replies] == [a.usage.prompt_tokens for a in alone]
    compressed = {r.usage.cached_tokens for r in replies}
    assert len(compressed) <= 2 and all(c > 0 for c in compressed)
    assert all(r.usage.wall_s > 0 and r.usage.calls == 1 for r in replies)


def test_the_compressed_prompt_is_computed_once_per_prompt(model: CompressedPromptModel) -> None:
    ask(model, 0, [])
    ask(model, 2, [])
    ask(model, 1, [])
    assert len(model._caches) == 2
    first_ids, first_cache = model.prompt_cache(PROMPTS[0])
    again_ids, again_cache = model.prompt_cache(PROMPTS[0])
    assert again_cache is first_cache and again_ids == first_ids


def test_a_bad_limit_fails_at_the_call(model: CompressedPromptModel) -> None:
    with pytest.raises(ValueError, match="max_new_tokens must be >= 1"):
        model.generate(PROMPTS[0], [{"role": "user", "content": "x"}], 0, [])
