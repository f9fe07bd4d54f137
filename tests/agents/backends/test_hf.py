from __future__ import annotations

import shutil
import threading
from pathlib import Path

import pytest
import torch

from agents.accounting import call_flops
from agents.backends.base import Backend
from agents.backends.hf import HFBackend, render_plain

PROMPT = [
    {
        "role": "user",
        "content": "You are an assistant that acts like a person. Think, then act: bash or answer. " * 2,
    },
    {"role": "assistant", "content": "Ok."},
]
TASKS = [
    "tell me how many files are in /etc",
    "count the directory",
    "buy a bottle of size 6",
    "search for price",
]


def episode(task: str, *, with_prompt: bool = True) -> list[dict[str, str]]:
    return (PROMPT if with_prompt else []) + [{"role": "user", "content": task}]


@pytest.fixture(scope="module")
def backend(tiny_model: Path):
    with HFBackend(tiny_model, device="cpu", batch_wait_s=0.2) as b:
        yield b


def test_generates_deterministically_with_accounting(backend: HFBackend) -> None:
    assert isinstance(backend, Backend)
    messages = episode(TASKS[0])
    first = backend.generate(messages, max_new_tokens=12, stop=[])
    again = backend.generate(messages, max_new_tokens=12, stop=[])
    assert first.text == again.text and first.text
    usage = first.usage
    assert usage.calls == 1 and usage.cached_tokens == 0
    assert usage.prompt_tokens == len(backend.encode(messages))
    assert 1 <= usage.generated_tokens <= 12
    assert usage.wall_s > 0
    assert usage.flops == call_flops(
        backend.dims, prompt_tokens=usage.prompt_tokens, generated_tokens=usage.generated_tokens
    )
    if usage.generated_tokens == 12:
        assert first.finish_reason == "length"


def test_stop_string_cuts_and_ends_generation_early(backend: HFBackend) -> None:
    messages = episode(TASKS[3])
    full = backend.generate(messages, max_new_tokens=30, stop=[])
    assert len(full.text) > 12, "the tiny model should produce some text"
    stop = full.text[8:11]
    expected = full.text[: full.text.find(stop)]
    cut = backend.generate(messages, max_new_tokens=30, stop=[stop])
    assert cut.text == expected
    assert stop not in cut.text
    assert cut.finish_reason == "stop"
    assert cut.usage.generated_tokens < full.usage.generated_tokens


def test_concurrent_calls_are_batched_and_match_sequential(backend: HFBackend) -> None:
    limits = [20, 7, 15, 20]
    sequential = [
        backend.generate(episode(t), max_new_tokens=n, stop=[]) for t, n in zip(TASKS, limits, strict=True)
    ]
    # a per-row stop string, taken from the sequential text, must work inside a batch too
    stops = [[], [], [sequential[2].text[5:8]], []]
    sequential[2] = backend.generate(episode(TASKS[2]), max_new_tokens=15, stop=stops[2])
    results: list = [None] * 4
    barrier = threading.Barrier(4)

    def work(i: int) -> None:
        barrier.wait()
        results[i] = backend.generate(episode(TASKS[i]), max_new_tokens=limits[i], stop=stops[i])

    before = backend.batches_run
    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert backend.batches_run - before < 4, "concurrent calls should share forward passes"
    assert [r.text for r in results] == [s.text for s in sequential]
    assert [r.usage.generated_tokens for r in results] == [s.usage.generated_tokens for s in sequential]
    assert [r.usage.prompt_tokens for r in results] == [s.usage.prompt_tokens for s in sequential]


def test_prefix_cache_gives_identical_output_and_counts_cached_tokens(
    tiny_model: Path, backend: HFBackend
) -> None:
    plain = [backend.generate(episode(t), max_new_tokens=15, stop=[]) for t in TASKS[:3]]
    with HFBackend(tiny_model, device="cpu", prefix_cache=True) as cached_backend:
        cached = [cached_backend.generate(episode(t), max_new_tokens=15, stop=[]) for t in TASKS[:3]]
    assert [c.text for c in cached] == [p.text for p in plain]
    prompt_only = len(backend.encode(PROMPT[:1]))  # the shared part is at least the first prompt message
    assert cached[0].usage.cached_tokens == 0  # nothing shared yet
    assert cached[1].usage.cached_tokens == 0  # this call found the shared prefix and paid for it
    assert cached[2].usage.cached_tokens >= prompt_only
    assert cached[2].usage.flops < plain[2].usage.flops
    assert cached[2].usage.flops == call_flops(
        backend.dims,
        prompt_tokens=cached[2].usage.prompt_tokens,
        cached_tokens=cached[2].usage.cached_tokens,
        generated_tokens=cached[2].usage.generated_tokens,
    )


def test_lora_adapter_changes_the_output(tiny_model: Path, backend: HFBackend, tmp_path: Path) -> None:
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    torch.manual_seed(1)
    base = AutoModelForCausalLM.from_pretrained(tiny_model)
    # init_lora_weights=False makes B non-zero, so the untrained adapter already changes the model
    config = LoraConfig(
        r=4, lora_alpha=16, target_modules=["q_proj", "v_proj", "down_proj"], init_lora_weights=False
    )
    get_peft_model(base, config).save_pretrained(tmp_path / "adapter")
    with HFBackend(tiny_model, device="cpu", adapter=tmp_path / "adapter") as student:
        adapted = [student.generate(episode(t), max_new_tokens=10, stop=[]).text for t in TASKS]
        assert student.dims.non_embedding_params > backend.dims.non_embedding_params  # LoRA weights counted
    original = [backend.generate(episode(t), max_new_tokens=10, stop=[]).text for t in TASKS]
    assert adapted != original


def test_plain_template_without_chat_template(tiny_model: Path, tmp_path: Path) -> None:
    folder = tmp_path / "plain"
    shutil.copytree(tiny_model, folder)
    (folder / "chat_template.jinja").unlink(missing_ok=True)
    with HFBackend(folder, device="cpu") as plain:
        assert not plain._uses_chat_template
        messages = episode(TASKS[0])
        text = plain.tokenizer.decode(plain.encode(messages))
        assert text == render_plain(messages)
        assert text.endswith("<|user|>\ntell me how many files are in /etc\n<|assistant|>\n")
        completion = plain.generate(messages, max_new_tokens=5, stop=[])
        assert "<|user|>" not in completion.text


def test_prompt_longer_than_the_model(tiny_model: Path, backend: HFBackend) -> None:
    long = [{"role": "user", "content": "count files " * 400}]
    with pytest.raises(ValueError, match=r"takes at most 512 positions.*truncation='left'"):
        backend.generate(long, max_new_tokens=4, stop=[])
    with HFBackend(tiny_model, device="cpu", truncation="left") as cutting:
        completion = cutting.generate(long, max_new_tokens=4, stop=[])
    assert completion.usage.prompt_tokens == 512 - 4


def test_bad_setups_fail_clearly(tmp_path: Path, tiny_model: Path) -> None:
    with pytest.raises(FileNotFoundError, match="not a local model folder"):
        HFBackend(tmp_path / "missing", device="cpu")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="needs a CUDA device"):
            HFBackend(tiny_model, load_in_4bit=True)
    with pytest.raises(FileNotFoundError, match="not a peft adapter folder"):
        HFBackend(tiny_model, device="cpu", adapter=tmp_path)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="4-bit NF4 loading needs CUDA")
def test_cuda_loads_4bit_by_default(tiny_model: Path, backend: HFBackend) -> None:
    with HFBackend(tiny_model, prefix_cache=True) as gpu:
        assert gpu.load_in_4bit and gpu.dtype == torch.bfloat16
        assert any(type(m).__name__ == "Linear4bit" for m in gpu.model.modules())
        assert (
            gpu.dims.non_embedding_params == backend.dims.non_embedding_params
        )  # logical, not packed, sizes
        completions = [gpu.generate(episode(t), max_new_tokens=8, stop=[]) for t in TASKS[:3]]
    assert all(1 <= c.usage.generated_tokens <= 8 for c in completions)
    assert completions[2].usage.cached_tokens > 0


def test_closed_backend_refuses_calls(tiny_model: Path) -> None:
    from agents.backends.base import BackendError

    closed = HFBackend(tiny_model, device="cpu")
    closed.close()
    assert not closed._batcher.thread.is_alive()  # the one thread that ran the model has stopped
    with pytest.raises(BackendError, match="closed"):
        closed.generate(episode(TASKS[0]), max_new_tokens=2, stop=[])


def test_temperature_samples_and_zero_stays_greedy(tiny_model: Path) -> None:
    messages = episode(TASKS[1])
    with HFBackend(tiny_model, device="cpu") as greedy:
        assert greedy.temperature == 0.0
        texts = {greedy.generate(messages, max_new_tokens=10, stop=[]).text for _ in range(3)}
    assert len(texts) == 1
    torch.manual_seed(0)
    with HFBackend(tiny_model, device="cpu", temperature=50.0) as hot:
        # At a high temperature the tiny model's next token is close to uniform: draws differ.
        texts = {hot.generate(messages, max_new_tokens=10, stop=[]).text for _ in range(4)}
    assert len(texts) > 1
    with pytest.raises(ValueError, match="temperature must be a finite number >= 0"):
        HFBackend(tiny_model, device="cpu", temperature=-1.0)
