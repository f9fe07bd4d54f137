"""Benchmark: what each prompt compressor's training costs on CPU, against SeqKD's training on the same data.

What it measures, on this machine and in one process: the wall time of building each compressor of
``--methods`` for one env with its default CPU recipe (``train.compress.build.build_compressor``: gist's LoRA
and gist embedding, ICAE's pretraining and fine-tuning, LLMLingua-2's labelling and classifier), and, as the
baseline, the wall time of SeqKD's training on the same env's synthesized data (``train_adapter`` into a
temporary folder), timed before and after the compressors and averaged (``--seqkd-passes 1`` times it
once, before them, where one SeqKD training is long, as on the shop). The ratio printed is compressor /
SeqKD. The synthesized data (the students' stages 1 and 4) must be cached: its cost is the students' and
is not part of either figure.

A compressor already in the cache is built again (its folder is removed first), and what this script builds
stays in the cache, so ``harness.run --agent gist-1 ...`` afterwards uses it without training.

The last line printed is one JSON object with every figure.

Usage::

    .venv/bin/python bench/compressor_train.py --env os --methods gist-1,gist-2,gist-5,icae,llmlingua2
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from harness.plugins import UsageError, env_factory  # noqa: E402
from train.compress import agent_recipe, compression_method  # noqa: E402
from train.compress.build import build_compressor, compressor_dir, marker_dir  # noqa: E402
from train.compress.config import CompressConfig  # noqa: E402
from train.default_model import resolve_default_model  # noqa: E402
from train.students.build import data_dir, synthesize, training_rows  # noqa: E402
from train.students.config import StudentConfig  # noqa: E402
from train.students.trainer import train_adapter  # noqa: E402

METHODS = ("gist-1", "gist-2", "gist-5", "icae", "llmlingua2")


def compress_config(name: str, env: str) -> CompressConfig:
    """The default recipe an agent name fixes (``gist-5`` -> gist with 5 tokens), as ``harness.run`` builds it."""
    return CompressConfig.default(compression_method(name), env, **agent_recipe(name))


def seqkd_seconds(env: str, model: str) -> float:
    """One SeqKD training of the default recipe on the cached data, into a folder that is thrown away."""
    config = StudentConfig.default("seqkd", env, device="cpu")
    make_env = env_factory(env, split="train", limit=config.n_inputs, prompt_variant=config.variant)
    if not (data_dir(config, model) / "conversations").is_dir():
        sys.exit(
            f"no synthesized data for {env}: run `python -m harness.train --method seqkd --env {env}` first"
        )
    data = synthesize(config, model, make_env, pg=False, conversations=True)
    rows, _, pad_id = training_rows(
        config, model, data.prompt, data.conversations, [], [], independent_turns=data.independent_turns
    )
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        train_adapter(config, model, rows, Path(tmp), device="cpu", pad_id=pad_id, progress=False)
        return time.perf_counter() - t


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--env", default="os")
    p.add_argument("--model", default=None, help="local model folder (default: the embedded model)")
    p.add_argument("--methods", default=",".join(METHODS), help=f"comma list of {', '.join(METHODS)}")
    p.add_argument(
        "--seqkd-passes",
        type=int,
        choices=(1, 2),
        default=2,
        help="time the SeqKD baseline before and after the compressors (2) or only before (1)",
    )
    args = p.parse_args()
    names = [m for m in args.methods.split(",") if m]
    unknown = sorted(set(names) - set(METHODS))
    if unknown:
        sys.exit(f"unknown method(s) {unknown}; known: {', '.join(METHODS)}")
    try:
        env_factory(args.env)  # an unknown env fails here, in one line, before any training
    except UsageError as exc:
        sys.exit(str(exc))
    model = args.model or str(resolve_default_model(build=False))

    before = seqkd_seconds(args.env, model)
    print(f"seqkd on {args.env}: training {before:.1f} s (baseline, first pass)", flush=True)
    built: dict[str, float] = {}
    for name in names:
        config = compress_config(name, args.env)
        shutil.rmtree(marker_dir(compressor_dir(config, model), config), ignore_errors=True)
        make_env = env_factory(
            args.env, split="train", limit=config.data.n_inputs, prompt_variant=config.data.variant
        )
        t = time.perf_counter()
        build_compressor(config, model, make_env, device="cpu", progress=False)
        built[name] = time.perf_counter() - t
        print(f"{name} on {args.env}: built in {built[name]:.1f} s", flush=True)
    passes = [before]
    if args.seqkd_passes == 2:
        after = seqkd_seconds(args.env, model)
        passes.append(after)
        print(f"seqkd on {args.env}: training {after:.1f} s (baseline, second pass)")
    baseline = statistics.mean(passes)
    print(f"seqkd on {args.env}: baseline {baseline:.1f} s (mean of {len(passes)} pass(es))")
    for name, seconds in built.items():
        print(f"{name} on {args.env}: {seconds:.1f} s = {seconds / baseline:.2f}x SeqKD's training")
    figures = {"env": args.env, "seqkd_s": [round(s, 1) for s in passes]}
    figures |= {f"{name}_s": round(s, 1) for name, s in built.items()}
    figures |= {f"{name}_vs_seqkd": round(s / baseline, 2) for name, s in built.items()}
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
