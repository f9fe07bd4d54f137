"""Build (or find cached) one student adapter: the five stages in order, each cached and resumable.

Cache layout under ``$PROMPTLESS_HOME/students/<model fingerprint>/``:

- ``data/<env>/<pairs fingerprint>/{inputs,outputs,reasons}/``: stages 1-3, shared by every method and by
  both conversation sources (their recipe does not depend on how the conversations are made);
- ``data/<env>/<data fingerprint>/conversations/``: stage 4, shared by every method;
- ``<method>/<env>/<training fingerprint>/``: the adapter (``adapter_config.json``, weights, ``loss_log.jsonl``,
  ``checkpoints/`` while training) and its ``COMPLETE`` marker with the recipe and metrics.

The model fingerprint hashes the model's config and weight files, so a changed base model never reuses an
old adapter; the fingerprints of ``StudentConfig`` do the same for a changed recipe.

Example::

    config = StudentConfig.default("gcd", "shop")
    adapter = build_adapter(config, model_path, make_env=lambda: envs.make("shop", split="train", limit=200))
"""

from __future__ import annotations

import functools
import hashlib
import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gymnasium as gym

from envs.core import Message, text_env
from train.paths import promptless_home
from train.students.config import DATA_FIELDS, StudentConfig
from train.students.stages import MARKER, Stage, _write_json

#: Stage costs per item with the embedded default model on an idle 2-core CPU, used only for the one-line
#: estimate printed before a build. Measured (docs/benchmarks.md): ``outputs`` (8 AS-IS / TO-BE pairs in
#: 4.8 s, shop) and ``train_row`` (a SeqKD shop step of 8 rows in 2.6 s, fp32; GCD and SeqKD+KLD rows cost
#: about twice that). Not yet measured idle, so rough: ``inputs`` (one env reset) and ``conversations`` (one
#: teacher episode, which on shop runs to its 10-turn limit).
SECONDS_PER_ITEM = {"inputs": 0.05, "outputs": 0.6, "conversations": 15.0, "train_row": 0.33}


class AdapterMissing(FileNotFoundError):
    """A student adapter (or compressor) is not built and building was not allowed."""

    @classmethod
    def of(cls, kind: str, method: str, env: str, out: Path) -> AdapterMissing:
        """The one-line error ``--no-build`` gives for a missing ``kind`` (adapter, compressor)."""
        return cls(
            f"no {method} {kind} for env {env!r} on this model ({out} is not built); build it with "
            f"`python -m harness.train --method {method} --env {env}`, or drop --no-build"
        )


def reporter(progress: bool, prefix: str = "promptless: ") -> Callable[[str], None]:
    """A build's one-line progress messages on stderr, or nothing when ``progress`` is off."""

    def say(msg: str) -> None:
        if progress:
            print(f"{prefix}{msg}", file=sys.stderr, flush=True)

    return say


def model_fingerprint(model_path: str | Path) -> str:
    """Hash of a local model folder: its config and, per weight file, name, size and the bytes at both ends.
    Computed once per folder state (its files' sizes and times), since every cache lookup asks for it."""
    folder = Path(model_path)
    files = sorted([folder / "config.json", *folder.glob("*.safetensors"), *folder.glob("*.bin")])
    return _fingerprint(folder, tuple((f.name, f.stat().st_size, f.stat().st_mtime_ns) for f in files))


@functools.lru_cache(maxsize=16)
def _fingerprint(folder: Path, state: tuple[tuple[str, int, int], ...]) -> str:
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
    """The folder of stage 4, the conversations (``data_dir(...) / "conversations"``)."""
    root = promptless_home() / "students" / model_fingerprint(model_path)
    return root / "data" / config.env / config.data_fingerprint()


def stage_folders(config: StudentConfig, model_path: str | Path) -> dict[str, Path]:
    """Each synthesis stage's folder, by stage name: stages 1-3 under the pairs fingerprint, the
    conversations under the data fingerprint, side by side."""
    data = data_dir(config, model_path)
    pairs = data.parent / config.pairs_fingerprint()
    return {
        "inputs": pairs / "inputs",
        "outputs": pairs / "outputs",
        "reasons": pairs / "reasons",
        "conversations": data / "conversations",
    }


def is_built(folder: Path) -> bool:
    return (folder / MARKER).is_file() and (folder / "adapter_config.json").is_file()


def estimate(config: StudentConfig) -> str:
    """A one-line estimate of the build's time on the embedded model and a 2-core CPU."""
    c = SECONDS_PER_ITEM
    synth = config.n_inputs * (c["inputs"] + c["outputs"]) + config.n_conversations * c["conversations"]
    rows = max(config.n_inputs, config.n_conversations) if config.method == "gcd" else config.n_conversations
    seen = config.total_steps(rows) * config.batch_size * config.grad_accum
    training = seen * c["train_row"] * (2 if config.method in ("gcd", "seqkd-kld") else 1)
    return (
        f"{config.method} on {config.env}: synthesis about {synth / 60:.0f} min (shared by every method, "
        f"cached), training about {training / 60:.0f} min, with the embedded model on a 2-core CPU"
    )


@dataclass
class Synthesized:
    """What stages 1-4 made for one env: the prompt, its turn structure, and the items each stage holds."""

    prompt: list[Message]
    independent_turns: bool
    inputs: list[dict[str, Any]]
    outputs: list[dict[str, Any]] = field(default_factory=list)
    reasons: list[dict[str, Any]] = field(default_factory=list)
    conversations: list[dict[str, Any]] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)


def synthesize(
    config: StudentConfig,
    model_path: str | Path,
    make_env: Callable[[], gym.Env],
    *,
    backend_options: dict[str, Any] | None = None,
    say: Callable[[str], None] = lambda msg: None,
    pg: bool = True,
    conversations: bool = True,
) -> Synthesized:
    """Stages 1-4 for ``config`` (each cached under ``data_dir``): the inputs always, the AS-IS / TO-BE
    replies and reasons when ``pg`` (GCD's prompt-generation term needs them), the teacher's conversations
    when ``conversations``. The students and the prompt compressors share this data."""
    from train.students import synthesis

    model = str(model_path)
    folders = stage_folders(config, model_path)
    data_config = {k: v for k, v in config.as_dict().items() if k in DATA_FIELDS}
    pairs_config = config.pairs_fields()
    probe = make_env()
    out = Synthesized(
        prompt=list(text_env(probe).prompt_messages()),
        independent_turns=text_env(probe).independent_turns,
        inputs=[],
    )
    probe.close()
    t = time.perf_counter()
    say(f"stage 1/5 inputs ({config.inputs}) -> {folders['inputs']}")
    out.inputs = synthesis.synthesize_inputs(Stage(folders["inputs"], pairs_config), config, make_env)
    out.timings["inputs_s"] = time.perf_counter() - t
    if pg:
        t = time.perf_counter()
        say(f"stage 2/5 AS-IS and TO-BE replies for {len(out.inputs)} inputs")
        out.outputs = synthesis.synthesize_outputs(
            Stage(folders["outputs"], pairs_config), config, model, out.inputs, out.prompt, backend_options
        )
        out.timings["outputs_s"] = time.perf_counter() - t
        t = time.perf_counter()
        say("stage 3/5 reasons")
        out.reasons = synthesis.synthesize_reasons(
            Stage(folders["reasons"], pairs_config), config, out.outputs, out.prompt
        )
        out.timings["reasons_s"] = time.perf_counter() - t
    if conversations:
        t = time.perf_counter()
        say(
            f"stage 4/5 {config.n_conversations} {config.conversations} conversations of the prompted teacher"
        )
        out.conversations = synthesis.synthesize_conversations(
            Stage(folders["conversations"], data_config), config, model, out.inputs, make_env, backend_options
        )
        out.timings["conversations_s"] = time.perf_counter() - t
    return out


def training_rows(
    config: StudentConfig,
    model: str,
    prompt: list[Message],
    conversations: list[dict[str, Any]],
    outputs: list[dict[str, Any]],
    reasons: list[dict[str, Any]],
    *,
    independent_turns: bool,
) -> tuple[list[dict[str, Any]], dict[str, int], int]:
    """The method's training rows from synthesized items, tokenized for ``model`` and cut to its context,
    with their counts and the padding id the collator uses."""
    from transformers import AutoConfig, AutoTokenizer

    from train.students.dataset import build_rows

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
        independent_turns=independent_turns,
    )
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    return rows, counts, int(pad or 0)


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
    out = adapter_dir(config, model_path)
    if is_built(out):
        return out
    if not build:
        raise AdapterMissing.of("adapter", config.method, config.env, out)
    say = reporter(progress)
    say(estimate(config))
    model = str(model_path)
    synthesized = synthesize(
        config,
        model_path,
        make_env,
        backend_options=backend_options,
        say=say,
        pg=config.method == "gcd" and config.ratio < 1.0,
        conversations=config.method != "gcd" or config.ratio > 0.0,
    )
    prompt, independent = synthesized.prompt, synthesized.independent_turns
    outputs, reasons = synthesized.outputs, synthesized.reasons
    conversations, timings = synthesized.conversations, synthesized.timings

    from train.students.trainer import train_adapter

    rows, counts, pad_id = training_rows(
        config, model, prompt, conversations, outputs, reasons, independent_turns=independent
    )
    say(f"stage 5/5 training {config.method} on {len(rows)} rows ({device}) -> {out}")
    t = time.perf_counter()
    metrics = train_adapter(config, model, rows, out, device=device, pad_id=pad_id, progress=progress)
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
            name: json.loads((folder / MARKER).read_text()).get("data_hash")
            for name, folder in stage_folders(config, model_path).items()
            if (folder / MARKER).is_file()
        },
    }
    _write_json(out / MARKER, marker)
    return out
