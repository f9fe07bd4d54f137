"""Train one variant of a preset on some envs' corpus and probe it: the loop for comparing training settings.

Why: a full build of the default model takes about 2.5 hours on 2 CPU cores, and a benchmark run of a failing
model most of an hour, while an OS-only variant of 1,000 steps trains in 10-21 minutes and the held-out probe
(``train.probe``) reads it in about a minute. The figures of docs/journal/2026-11-21-to-12-02-default-model.md's ablations come from this loop.

``--prompt`` sets what stands before each training and probe conversation:

- ``full``: the variant's real prompt (as the default model is trained and the teacher is run);
- ``tag``: a one-line format tag instead (``with_format_tag``), in training and in the probe:
  what the model learns when the task is most of its context;
- ``mix``: every conversation twice, once with each; probed with the full prompt.

Example::

    python -m train.ablate /tmp/ablate/os-copy --envs os --set steps=1000 --set pretokenizer=copy
    python -m train.ablate /tmp/ablate/os-tag --envs os --set steps=1000 --set pretokenizer=copy --prompt tag

The last line printed is one JSON object: the overrides, the training figures and the probe's.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

PROMPT_MODES = ("full", "tag", "mix")


def parse_overrides(pairs: Sequence[str]) -> dict[str, Any]:
    """``["steps=1000", "pretokenizer=copy"]`` -> ``{"steps": 1000, "pretokenizer": "copy"}`` (values as JSON
    when they parse, else as strings)."""
    overrides: dict[str, Any] = {}
    for pair in pairs:
        name, sep, raw = pair.partition("=")
        if not sep or not name:
            raise ValueError(f"--set takes NAME=VALUE, got {pair!r}")
        try:
            overrides[name] = json.loads(raw)
        except ValueError:
            overrides[name] = raw
    return overrides


def with_format_tag(record: dict[str, Any]) -> dict[str, Any]:
    """``record`` with its prompt replaced by a one-line tag that names the variant (``Reply format: json.``).

    Why: a 1.4M-parameter model trained on full prompts did not learn to copy a path from the task into a
    command in 1,000 OS steps (0 of 72 dev commands right, teacher-forced); with this tag instead of the
    prompt it did (27 of 72): the task is then most of the context (docs/journal/2026-11-21-to-12-02-default-model.md).
    ``--prompt tag|mix`` trains on these."""
    return {**record, "prompt": [{"role": "system", "content": f"Reply format: {record['variant']}."}]}


def with_prompts(records: Sequence[dict[str, Any]], mode: str) -> list[dict[str, Any]]:
    """The records as ``mode`` trains on them (see the module docstring)."""
    if mode == "full":
        return list(records)
    if mode == "tag":
        return [with_format_tag(r) for r in records]
    if mode == "mix":
        return [*records, *(with_format_tag(r) for r in records)]
    raise ValueError(f"unknown prompt mode {mode!r}; choose one of {list(PROMPT_MODES)}")


def ablate(
    out: Path,
    env_names: Sequence[str],
    overrides: dict[str, Any],
    prompt: str = "full",
    preset_name: str = "cpu",
    seed: int | None = None,
    progress: bool = True,
) -> dict[str, Any]:
    """Train ``preset_name`` with ``overrides`` on ``env_names``' corpus into ``out``, then probe it."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from train.bootstrap import BootstrapConfig, train
    from train.corpus import build_corpus
    from train.presets import get_preset, with_overrides
    from train.probe import dev_records, probe

    preset = with_overrides(get_preset(preset_name), **overrides)
    config = BootstrapConfig(preset=preset, out=out, seed=seed, envs=tuple(env_names), progress=progress)
    corpus = build_corpus(config.corpus_config(), None, progress=progress)
    records = with_prompts(corpus.records(), prompt)
    train(records, {"path": str(corpus.path), "data_hash": corpus.data_hash}, config)
    metrics = json.loads((out / "metrics.json").read_text())
    tok = AutoTokenizer.from_pretrained(out)
    model = AutoModelForCausalLM.from_pretrained(out).eval()
    held_out = dev_records(env_names)
    if prompt == "tag":
        held_out = with_prompts(held_out, "tag")
    return {
        "out": str(out),
        "envs": list(env_names),
        "prompt": prompt,
        "overrides": overrides,
        "train_s": metrics["train_s"],
        "final_loss": round(metrics["final_loss"], 4),
        "probe": probe(model, tok, held_out),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m train.ablate", description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, help="folder of the trained variant")
    parser.add_argument("--envs", default="os", help="comma-separated envs (os needs Docker)")
    parser.add_argument("--preset", default="cpu")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE", help="a preset override")
    parser.add_argument("--prompt", choices=PROMPT_MODES, default="full")
    parser.add_argument("--seed", type=int, default=None, help="default: the preset's")
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args(argv)
    try:
        overrides = parse_overrides(args.set)
    except ValueError as error:
        parser.error(str(error))
    names = [e.strip() for e in args.envs.split(",") if e.strip()]
    result = ablate(
        args.out, names, overrides, args.prompt, args.preset, args.seed, progress=not args.no_progress
    )
    for name, figures in result["probe"].items():
        print(f"{name}: action_acc {figures['action_acc']:.3f} by turn {figures['action_acc_by_turn']}")
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
