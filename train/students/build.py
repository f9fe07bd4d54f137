"""Build (or find cached) one student adapter: the five stages in order, each cached and resumable.

Cache layout under ``$PROMPTLESS_HOME/students/<model fingerprint>/``:

- ``data/<env>/<data fingerprint>/{inputs,outputs,reasons,conversations}/``: shared by every method;
- ``<method>/<env>/<training fingerprint>/``: the adapter (``adapter_config.json``, weights, ``loss_log.jsonl``,
  ``checkpoints/`` while training) and its ``COMPLETE`` marker with the recipe and metrics.

The model fingerprint hashes the model's config and weight files, so a changed base model never reuses an
old adapter; the fingerprints of ``StudentConfig`` do the same for a changed recipe.

Example::

    config = StudentConfig.default("gcd", "shop")
    adapter = build_adapter(config, model_path, make_env=lambda: envs.make("shop", split="train", limit=200))
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gymnasium as gym

from envs.core import text_env
from train.paths import promptless_home
from train.students.config import DATA_FIELDS, StudentConfig
from train.students.stages import MARKER, Stage, _write_json

#: Measured stage costs per item with the embedded default model on a 2-core CPU (docs/benchmarks.md),
#: used only for the one-line estimate printed before a build.
SECONDS_PER_ITEM = {"inputs": 0.05, "outputs": 0.6, "conversations": 3.0, "train_row": 0.15}


class AdapterMissing(FileNotFoundError):
    """A student adapter is not built and building was not allowed."""


def model_fingerprint(model_path: str | Path) -> str:
    """Hash of a local model folder: its config and, per weight file, name, size and the bytes at both ends."""
    folder = Path(model_path)
    digest = hashlib.sha256((folder / "config.json").read_bytes())
    for weights in sorted([*folder.glob("*.safetensors"), *folder.glob("*.bin")]):
        size = weights.stat().st_size
        digest.update(f"{weights.name}\0{size}".encode())
        with open(weights, "rb") as f:
            digest.update(f.read(1 << 20))
            f.seek(max(0, size - (1 << 20)))
            digest.update(f.read(1 << 20))
    return digest.hexdigest()[:16]


def adapter_dir(config: StudentConfig, model_path: str | Path) -> Path:
    root = promptless_home() / "students" / model_fingerprint(model_path)
    return root / config.method / config.env / config.train_fingerprint()


def data_dir(config: StudentConfig, model_path: str | Path) -> Path:
    root = promptless_home() / "students" / model_fingerprint(model_path)
    return root / "data" / config.env / config.data_fingerprint()


def is_built(folder: Path) -> bool:
    return (folder / MARKER).is_file() and (folder / "adapter_config.json").is_file()


def estimate(config: StudentConfig) -> str:
    """A one-line estimate of the build's time on the embedded model and a 2-core CPU."""
    c = SECONDS_PER_ITEM
    synth = config.n_inputs * (c["inputs"] + c["outputs"]) + config.n_conversations * c["conversations"]
    rows = max(config.n_inputs, config.n_conversations)
    training = rows * config.epochs * c["train_row"] * (2 if config.method in ("gcd", "seqkd-kld") else 1)
    return (
        f"{config.method} on {config.env}: synthesis about {synth / 60:.0f} min (shared by every method, "
        f"cached), training about {training / 60:.0f} min, with the embedded model on a 2-core CPU"
    )


def build_adapter(
    config: StudentConfig,
    model_path: str | Path,
    make_env: Callable[[], gym.Env],
    *,
    device: str = "cpu",
    backend_options: dict[str, Any] | None = None,
    build: bool = True,
    progress: bool = True,
) -> Path:
    """The adapter folder of ``config`` on ``model_path``: cached, else synthesized and trained now."""
    from train.students import synthesis

    out = adapter_dir(config, model_path)
    if is_built(out):
        return out
    if not build:
        raise AdapterMissing(
            f"no {config.method} adapter for env {config.env!r} on this model ({out} is not built); build it "
            f"with `python -m harness.train --method {config.method} --env {config.env}`, or drop --no-build"
        )
    say = (
        (lambda msg: print(f"promptless: {msg}", file=sys.stderr, flush=True))
        if progress
        else (lambda msg: None)
    )
    say(estimate(config))
    model = str(model_path)
    data = data_dir(config, model_path)
    data_config = {k: v for k, v in config.as_dict().items() if k in DATA_FIELDS}
    timings: dict[str, float] = {}

    probe = make_env()
    prompt = list(text_env(probe).prompt_messages())
    independent = text_env(probe).independent_turns
    probe.close()

    t = time.perf_counter()
    say(f"stage 1/5 inputs ({config.inputs}) -> {data / 'inputs'}")
    inputs = synthesis.synthesize_inputs(Stage(data / "inputs", data_config), config, make_env)
    timings["inputs_s"] = time.perf_counter() - t
    rows_needed_pg = config.method == "gcd" and config.ratio < 1.0
    outputs: list[dict[str, Any]] = []
    reasons: list[dict[str, Any]] = []
    if rows_needed_pg:
        t = time.perf_counter()
        say(f"stage 2/5 AS-IS and TO-BE replies for {len(inputs)} inputs")
        outputs = synthesis.synthesize_outputs(
            Stage(data / "outputs", data_config), config, model, inputs, prompt, backend_options
        )
        timings["outputs_s"] = time.perf_counter() - t
        t = time.perf_counter()
        say("stage 3/5 reasons")
        reasons = synthesis.synthesize_reasons(Stage(data / "reasons", data_config), config, outputs, prompt)
        timings["reasons_s"] = time.perf_counter() - t
    conversations: list[dict[str, Any]] = []
    if config.method != "gcd" or config.ratio > 0.0:
        t = time.perf_counter()
        say(
            f"stage 4/5 {config.n_conversations} {config.conversations} conversations of the prompted teacher"
        )
        conversations = synthesis.synthesize_conversations(
            Stage(data / "conversations", data_config), config, model, inputs, make_env, backend_options
        )
        timings["conversations_s"] = time.perf_counter() - t

    from transformers import AutoConfig, AutoTokenizer

    from train.students.dataset import build_rows
    from train.students.trainer import train_adapter

    tokenizer = AutoTokenizer.from_pretrained(model)
    max_len = int(getattr(AutoConfig.from_pretrained(model), "max_position_embeddings", 4096))
    rows, counts = build_rows(
        config,
        tokenizer,
        prompt,
        conversations,
        outputs,
        reasons,
        max_len=max_len,
        independent_turns=independent,
    )
    say(f"stage 5/5 training {config.method} on {len(rows)} rows ({device}) -> {out}")
    t = time.perf_counter()
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    metrics = train_adapter(config, model, rows, out, device=device, pad_id=int(pad or 0), progress=progress)
    timings["train_s"] = time.perf_counter() - t
    marker = {
        "method": config.method,
        "env": config.env,
        "config": config.as_dict(),
        "train_fingerprint": config.train_fingerprint(),
        "data_fingerprint": config.data_fingerprint(),
        "model": model,
        "model_fingerprint": model_fingerprint(model_path),
        "counts": counts,
        "metrics": metrics,
        "timings_s": timings,
        "data_hashes": {
            name: json.loads((data / name / MARKER).read_text()).get("data_hash")
            for name in ("inputs", "outputs", "reasons", "conversations")
            if (data / name / MARKER).is_file()
        },
    }
    _write_json(out / MARKER, marker)
    return out
