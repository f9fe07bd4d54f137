"""Build (or find cached) one compressor: the students' shared data stages, then the method's training.

Cache layout, beside the students under ``$PROMPTLESS_HOME/students/<model fingerprint>/``:

- ``data/<env>/<data fingerprint>/{inputs,conversations}/``: the very folders the students use and write;
- ``<method>/<env>/<training fingerprint>/``: the artifact and its ``COMPLETE`` marker with the recipe,
  metrics and timings. For ``llmlingua2`` the artifact is the sub-folder ``CLASSIFIER_NAME`` (a name the
  ``llmlingua`` package dispatches on); for ``gist`` it is the folder itself (LoRA adapter + gist embedding),
  and for ``icae`` too (LoRA adapter + memory and [AE] embeddings, ``agents.icae.ICAE_FILE``).

Example::

    config = CompressConfig.default("llmlingua2", "shop")
    folder = build_compressor(config, model_path, make_env=lambda: envs.make("shop", split="train"))
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gymnasium as gym

from envs.core import Message
from train.compress.config import CompressConfig
from train.paths import promptless_home
from train.students.build import AdapterMissing, model_fingerprint, reporter, synthesize
from train.students.stages import MARKER, _write_json


def compressor_dir(config: CompressConfig, model_path: str | Path) -> Path:
    """The folder of ``config``'s artifact (built or not)."""
    root = promptless_home() / "students" / model_fingerprint(model_path)
    folder = root / config.method / config.env / config.train_fingerprint()
    if config.method == "llmlingua2":
        from train.compress.lingua_train import CLASSIFIER_NAME

        return folder / CLASSIFIER_NAME
    return folder


def marker_dir(artifact: Path, config: CompressConfig) -> Path:
    """The folder holding ``artifact``'s ``COMPLETE`` marker: the artifact itself, or for ``llmlingua2`` the
    folder above the classifier (whose own folder name the package dispatches on)."""
    return artifact.parent if config.method == "llmlingua2" else artifact


def is_built(config: CompressConfig, artifact: Path) -> bool:
    return (marker_dir(artifact, config) / MARKER).is_file()


def teacher_data(
    config: CompressConfig,
    model_path: str | Path,
    make_env: Callable[[], gym.Env],
    backend_options: dict[str, Any] | None = None,
    say: Callable[[str], None] = lambda msg: None,
) -> tuple[list[Message], list[dict[str, Any]], dict[str, float]]:
    """The env's prompt and the prompted teacher's conversations: the students' stages 1 and 4, shared."""
    data = synthesize(
        config.data,
        model_path,
        make_env,
        backend_options=backend_options,
        say=say,
        pg=False,
        conversations=True,
    )
    return data.prompt, data.conversations, data.timings


def build_compressor(
    config: CompressConfig,
    model_path: str | Path,
    make_env: Callable[[], gym.Env],
    *,
    device: str = "cpu",
    backend_options: dict[str, Any] | None = None,
    build: bool = True,
    progress: bool = True,
) -> Path:
    """The artifact folder of ``config`` on ``model_path``: cached, else synthesized and trained now."""
    out = compressor_dir(config, model_path)
    if is_built(config, out):
        return out
    if not build:
        raise AdapterMissing.of("compressor", config.method, config.env, out)
    say = reporter(progress, f"promptless: {config.method} {config.env}: ")

    prompt, conversations, timings = teacher_data(config, model_path, make_env, backend_options, say)
    t = time.perf_counter()
    if config.method == "llmlingua2":
        from train.compress.lingua_build import build_lingua

        metrics = build_lingua(config, str(model_path), prompt, conversations, out, device=device, say=say)
    elif config.method == "icae":
        from transformers import AutoTokenizer

        from train.compress.icae import corpus_texts, train_icae

        say(f"pretraining corpus: {config.icae_corpus_episodes} train tasks of {config.env} (train.corpus)")
        tokenizer = AutoTokenizer.from_pretrained(str(model_path))
        texts = corpus_texts(config.env, tokenizer, episodes=config.icae_corpus_episodes, seed=config.seed)
        metrics = train_icae(
            config, str(model_path), prompt, conversations, texts, out, device=device, say=say
        )
    else:
        from train.compress.gist_train import train_gist

        metrics = train_gist(config, str(model_path), prompt, conversations, out, device=device, say=say)
    timings["train_s"] = time.perf_counter() - t
    marker = {
        "method": config.method,
        "env": config.env,
        "config": config.as_dict(),
        "train_fingerprint": config.train_fingerprint(),
        "data_fingerprint": config.data_fingerprint(),
        "model": str(model_path),
        "model_fingerprint": model_fingerprint(model_path),
        "metrics": metrics,
        "timings_s": timings,
    }
    _write_json(marker_dir(out, config) / MARKER, marker)
    return out
