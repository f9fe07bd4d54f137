"""ICAE on a micro random Llama: autoencoding learnt in seconds, padding kept out of the slots, gradient
checkpointing leaving the frozen decoder alone, and the agent acting through ``harness.run``.

The micro model is the tiny test tokenizer with a random Llama of hidden size 64: narrower random decoders
(hidden 32) cannot be steered to restate a prompt even by free slot vectors, so they cannot test the encoder.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from agents.icae import ICAE_FILE, IcaeParams, encode_segments, reconstruct, segments, slot_count
from agents.registry import clear_backends
from harness import run as run_cli
from tests.agents.conftest import build_tiny_model
from train.compress.config import CompressConfig
from train.compress.icae import Span, load_icae_model, new_params, pretrain_loss, train_icae

PROMPT_TEXT = "Think: I count files"
CONVERSATIONS = [
    {
        "key": str(i),
        "messages": [
            {"role": "user", "content": f"count files {i}"},
            {"role": "assistant", "content": f"Think: I count.\n\nAct: bash\n\n```bash\nls {i}\n```"},
        ],
    }
    for i in range(4)
]


@pytest.fixture(scope="module")
def micro(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # hidden 64, not the other tests' 32: at 32 even free slot vectors reconstruct a 7-token text only in part
    return build_tiny_model(tmp_path_factory.mktemp("micro"), max_positions=8192, hidden_size=64, kv_heads=4)


def test_autoencoding_restates_a_short_prompt_after_a_short_training(micro: Path, tmp_path: Path) -> None:
    config = CompressConfig.default(
        "icae",
        "os",
        icae_segment=16,
        icae_pretrain_steps=120,
        icae_finetune_steps=0,
        icae_ae_share=1.0,
        batch_size=2,
        lr=1e-2,
    )
    out = tmp_path / "icae"
    metrics = train_icae(config, str(micro), [{"role": "user", "content": "x"}], [], [PROMPT_TEXT], out)
    assert metrics["slots"] == -(-metrics["prompt_tokens"] // 4)
    assert metrics["slot_bytes"] < metrics["prompt_kv_bytes"] and metrics["autoencode_exact"] is not None
    adapter = json.loads((out / "adapter_config.json").read_text())
    assert set(adapter["target_modules"]) == {"q_proj", "v_proj"}

    from peft import PeftModel

    base = AutoModelForCausalLM.from_pretrained(micro, attn_implementation="sdpa")
    model = PeftModel.from_pretrained(base, out).eval()
    params = IcaeParams.load(out / ICAE_FILE)
    tokenizer = AutoTokenizer.from_pretrained(micro)
    ids = tokenizer(PROMPT_TEXT, add_special_tokens=False)["input_ids"]
    assert slot_count(len(ids), params.ratio) == 2
    assert reconstruct(model, params, ids, len(ids) + 4, [tokenizer.eos_token_id]) == ids


def test_padding_never_reaches_the_slots(micro: Path) -> None:
    config = CompressConfig.default("icae", "os", icae_segment=16)
    model = load_icae_model(str(micro), config, "cpu").eval()
    params = new_params(model, config, seed=0)
    short, long = [40, 41, 42, 43, 44], list(range(50, 66))
    with torch.no_grad():
        alone = encode_segments(model, params, [short])[0]
        batched = encode_segments(model, params, [long, short])
        other = encode_segments(model, params, [[45, 41, 42, 43, 44]])[0]
    assert alone.shape == (2, 64) and batched[0].shape == (4, 64)
    assert torch.allclose(batched[1], alone, atol=1e-5), (batched[1] - alone).abs().max()
    assert not torch.allclose(other, alone, atol=1e-3)  # the slots do read the context
    assert segments(list(range(40)), 16) == [list(range(16)), list(range(16, 32)), list(range(32, 40))]


def test_gradient_checkpointing_leaves_the_decoder_pass_alone(micro: Path) -> None:
    config = CompressConfig.default("icae", "os", icae_segment=16)
    batch = [
        Span([40, 41, 42, 43], [40, 41, 42, 43, 2], True),
        Span([50, 51, 52, 53, 54, 55], [60, 61, 62], False),
    ]
    grads = []
    for checkpointing in (False, True):
        torch.manual_seed(0)
        model = load_icae_model(str(micro), config, "cpu")
        with torch.no_grad():  # a non-zero adapter: a decoder replayed with it on would change the gradients
            for name, p in model.named_parameters():
                if "lora_B" in name:
                    p.normal_(0, 0.5)
        if checkpointing:
            model.get_base_model().gradient_checkpointing_enable({"use_reentrant": False})
        model.train()
        params = new_params(model, config, seed=0)
        pretrain_loss(model, params, batch).backward()
        lora = [p.grad.clone() for n, p in model.named_parameters() if "lora_" in n]
        grads.append((lora, params.memory.grad.clone(), params.ae.grad.clone()))
        assert all(p.grad is None for n, p in model.named_parameters() if "lora_" not in n)
    (lora_a, mem_a, ae_a), (lora_b, mem_b, ae_b) = grads
    assert torch.allclose(mem_a, mem_b, atol=1e-6) and torch.allclose(ae_a, ae_b, atol=1e-6)
    assert all(torch.allclose(a, b, atol=1e-6) for a, b in zip(lora_a, lora_b, strict=True))
    assert ae_a.abs().sum() > 0  # [AE] is read by the decoder: gradients do reach it


def test_the_icae_agent_acts_through_harness_run(micro: Path, tmp_path: Path) -> None:
    config = CompressConfig.default(
        "icae", "shop", icae_segment=16, icae_pretrain_steps=2, icae_finetune_steps=2, batch_size=2
    )
    prompt = [{"role": "user", "content": "You are a shop agent."}, {"role": "assistant", "content": "Ok."}]
    out = tmp_path / "icae"
    train_icae(config, str(micro), prompt, CONVERSATIONS, [PROMPT_TEXT], out)
    run_out = tmp_path / "run"
    argv = [
        "--agent",
        "icae",
        "--env",
        "shop",
        "--model",
        str(micro),
        "--adapter",
        str(out),
        "--split",
        "dev",
    ]
    code = run_cli.main([*argv, "--limit", "1", "--max-new-tokens", "8", "--out", str(run_out)])
    clear_backends()
    assert code == 0
    record = json.loads((run_out / "episodes.jsonl").read_text().splitlines()[0])
    assert record["agent"] == "icae" and record["error"] is None
    usage = record["usage"]
    assert usage["calls"] >= 1 and usage["cached_tokens"] > 0 and usage["generated_tokens"] >= 1
