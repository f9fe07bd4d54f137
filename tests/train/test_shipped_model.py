"""The default model ships in the repository: it loads with plain transformers, and it is the current preset's.

A preset change without new weights fails here, instead of every user silently getting a model that the
preset no longer describes.
"""

from __future__ import annotations

import json

import pytest
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from train.default_model import is_complete, is_current, resolve_default_model, shipped_model_dir
from train.presets import get_preset

FOLDER = shipped_model_dir("cpu")


def test_the_shipped_model_is_complete_and_current() -> None:
    assert is_complete(FOLDER), f"{FOLDER} is not a finished model folder"
    marker = json.loads((FOLDER / "COMPLETE").read_text())
    assert marker["preset_fingerprint"] == get_preset("cpu").fingerprint(), (
        "the cpu preset changed but the shipped weights did not: rebuild with "
        "`python -m train.bootstrap --preset cpu` and ship the new folder"
    )
    assert is_current(FOLDER, "cpu")


def test_the_shipped_model_records_its_provenance() -> None:
    config = json.loads((FOLDER / "train_config.json").read_text())
    metrics = json.loads((FOLDER / "metrics.json").read_text())
    for field in ("preset", "seed", "corpus", "commit"):
        assert config.get(field) is not None, field
    assert config["corpus"].get("data_hash")
    assert metrics["wall_s"] > 0 and metrics["steps_done"] > 0


def test_the_shipped_model_loads_with_plain_transformers() -> None:
    tokenizer = AutoTokenizer.from_pretrained(FOLDER)
    model = AutoModelForCausalLM.from_pretrained(FOLDER)
    assert tokenizer.chat_template
    ids = tokenizer.apply_chat_template([{"role": "user", "content": "ls"}], add_generation_prompt=True)
    ids = ids["input_ids"] if isinstance(ids, dict) or hasattr(ids, "keys") else ids
    with torch.no_grad():
        logits = model(torch.tensor([ids])).logits
    assert logits.shape == (1, len(ids), model.config.vocab_size)
    assert torch.isfinite(logits).all()


def test_resolution_uses_the_shipped_model_without_building(
    tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PROMPTLESS_HOME", str(tmp_path))  # an empty cache
    assert resolve_default_model(build=False, preset="cpu") == FOLDER
