"""The ``llmlingua2`` build step: labels from the teacher (``lingua_labels``), then the classifier
(``lingua_train``), saved where ``agents.lingua.LinguaCompressor`` loads it.

Example::

    metrics = build_lingua(config, model_path, prompt, conversations, out, device="cpu")
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import torch

from envs.core import Message
from train.compress.config import CompressConfig
from train.compress.lingua_labels import first_rounds, label_prompt
from train.compress.lingua_train import train_classifier, train_tokenizer


def build_lingua(
    config: CompressConfig,
    model_path: str,
    prompt: Sequence[Message],
    conversations: Sequence[dict[str, Any]],
    out: Path,
    *,
    device: str = "cpu",
    say: Callable[[str], None] = lambda msg: None,
) -> dict[str, Any]:
    """Label the prompt's words with the teacher, train the classifier into ``out``; return metrics."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    samples = first_rounds(conversations, config.label_samples)
    texts = [m["content"] for m in prompt] + [m["content"] for s in samples for m in s]
    clf_tokenizer = train_tokenizer(texts, out, config.clf_vocab)
    tokenizer = AutoTokenizer.from_pretrained(model_path)
    dtype = torch.bfloat16 if device == "cuda" else torch.float32
    # A Module to mypy: transformers' functools.wraps on PreTrainedModel.to hides its signature.
    model: torch.nn.Module = AutoModelForCausalLM.from_pretrained(model_path, dtype=dtype)
    model = model.to(device).eval()
    t = time.perf_counter()
    say(f"labelling the prompt's words against {len(samples)} teacher replies")
    labelled, forced = label_prompt(model, tokenizer, clf_tokenizer, prompt, samples, config)
    label_s = time.perf_counter() - t
    del model
    say(f"training the keep/drop classifier ({config.clf_steps} steps)")
    meta = {
        "method": "llmlingua2",
        "env": config.env,
        "labels": "teacher word deletion (train.compress.lingua_labels)",
        "samples": len(samples),
    }
    metrics = train_classifier(labelled, clf_tokenizer, out, config, forced=forced, meta=meta)
    words = sum(len(m.labels) for m in labelled)
    return metrics | {"label_s": label_s, "words": words, "forced_words": len(forced)}
