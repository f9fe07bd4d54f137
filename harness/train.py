"""``python -m harness.train``: train prompt-free students, one LoRA adapter per env.

Examples::

    python -m harness.train --method gcd --env shop                      # the embedded model, cached
    python -m harness.train --method seqkd --env os,web,shop --out adapters/seqkd
    python -m harness.train --method icae --env shop                     # ICAE: pretraining, fine-tuning
    python -m harness.train --method gcd --env os --model /models/Llama-3-8B-Instruct --device cuda \\
        --inputs llm --input-model http://127.0.0.1:8000 --reason-model http://127.0.0.1:8000

Every stage is cached (``train.students.build``): a rerun after Ctrl-C or SIGKILL continues from the last
finished item and checkpoint. ``--out DIR`` also copies each finished adapter to ``DIR/<env>/``, the layout
``harness.run --adapter DIR`` reads. Exit status: 0 done, 1 a stage failed, 2 bad input (one line).
"""

from __future__ import annotations

import argparse
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from envs.core import AGENTBENCH
from harness.plugins import UsageError, env_factory
from train.compress import COMPRESSION_METHODS
from train.students import METHODS


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="python -m harness.train", description="Train prompt-free student adapters.")
    p.add_argument("--method", required=True, choices=METHODS + COMPRESSION_METHODS)
    p.add_argument("--env", required=True, help="comma-separated envs, e.g. os,web,shop")
    p.add_argument("--model", help="local model folder (default: the embedded model)")
    p.add_argument("--out", type=Path, help="also copy each adapter to OUT/<env>/")
    p.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
    p.add_argument("--prompt-variant", default=AGENTBENCH, help="the env prompt to internalize")
    p.add_argument("--inputs", choices=("generator", "llm"), help="pseudo-input source (default generator)")
    p.add_argument("--input-model", help="model that invents inputs (with --inputs llm)")
    p.add_argument("--reason-model", help="model that writes the reasons (default: the explainer)")
    p.add_argument(
        "--conversations",
        choices=("env", "roleplay"),
        help="conversation source (default env; roleplay with --inputs llm)",
    )
    p.add_argument("--n-inputs", type=int)
    p.add_argument("--n-conversations", type=int)
    p.add_argument("--ratio", type=float, help="r of (1 - r) * PG + r * SFT (default 0.7; 0.3 on web)")
    p.add_argument("--epochs", type=float, help="passes over the training rows (with --steps unset)")
    p.add_argument(
        "--steps", type=int, help="optimizer steps (students' CPU default: 40); icae: its fine-tuning steps"
    )
    p.add_argument("--pretrain-steps", type=int, help="icae: autoencoding + continuation steps (default 300)")
    p.add_argument("--lr", type=float)
    p.add_argument("--seed", type=int, help="seed of the synthesis and, unless --train-seed, the training")
    p.add_argument(
        "--train-seed", type=int, help="seed of the training alone: another build of the same data"
    )
    p.add_argument("--gist-k", type=int, help="gist: number of gist tokens (default 1)")
    p.add_argument("--no-build-model", action="store_true", help="fail if the embedded model is not built")
    p.add_argument("--no-progress", action="store_true")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return _train(args)
    except UsageError as exc:
        print(f"python -m harness.train: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted: rerun the same command to continue where it stopped", file=sys.stderr)
        return 130


def _targets(args: argparse.Namespace) -> tuple[list[str], str, str]:
    """The envs (each checked), the device and the local model that every method trains for."""
    from train.students.trainer import resolve_device

    names = [e for e in args.env.split(",") if e]
    for name in names:
        env_factory(name)  # a one-line UsageError (with a did-you-mean) for an unknown env
    try:
        device = resolve_device(args.device)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    return names, device, resolve_local_model(args.model, build=not args.no_build_model)


def _train(args: argparse.Namespace) -> int:
    if args.method in COMPRESSION_METHODS:
        return _train_compressor(args)
    from train.students.build import build_adapter
    from train.students.config import StudentConfig

    names, device, model = _targets(args)
    for name in names:
        try:
            config = StudentConfig.default(
                args.method,
                name,
                device=device,
                variant=args.prompt_variant,
                inputs=args.inputs,
                input_model=args.input_model,
                reason_model=args.reason_model,
                conversations=args.conversations,
                n_inputs=args.n_inputs,
                n_conversations=args.n_conversations,
                ratio=args.ratio,
                epochs=args.epochs,
                steps=args.steps,
                lr=args.lr,
                seed=args.seed,
                train_seed=args.train_seed,
            )
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        make_env = env_factory(name, split="train", limit=config.n_inputs, prompt_variant=config.variant)
        adapter = build_adapter(config, model, make_env, device=device, progress=not args.no_progress)
        print(f"{args.method} {name}: adapter {adapter}")
        if args.out:
            target = args.out / name
            shutil.rmtree(target, ignore_errors=True)
            shutil.copytree(adapter, target, ignore=shutil.ignore_patterns("checkpoints"))
            print(f"{args.method} {name}: copied to {target}")
    return 0


def _train_compressor(args: argparse.Namespace) -> int:
    """The compression baselines (``train.compress``): the students' shared data, then the method's step."""
    from train.compress.build import build_compressor
    from train.compress.config import CompressConfig

    if args.train_seed is not None:
        raise UsageError(
            f"--train-seed is for the students' methods {list(METHODS)}; {args.method} takes --seed"
        )
    names, device, model = _targets(args)
    data = {
        "inputs": args.inputs,
        "input_model": args.input_model,
        "conversations": args.conversations,
        "n_inputs": args.n_inputs,
        "n_conversations": args.n_conversations,
        "seed": args.seed,
    }
    for name in names:
        try:
            config = CompressConfig.default(
                args.method,
                name,
                device=device,
                variant=args.prompt_variant,
                data_overrides=data,
                gist_k=args.gist_k,
                icae_pretrain_steps=args.pretrain_steps,
                icae_finetune_steps=args.steps if args.method == "icae" else None,
                epochs=args.epochs,
                lr=args.lr,
                seed=args.seed,
            )
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        make_env = env_factory(
            name, split="train", limit=config.data.n_inputs, prompt_variant=config.data.variant
        )
        folder = build_compressor(config, model, make_env, device=device, progress=not args.no_progress)
        print(f"{args.method} {name}: {folder}")
        if args.out:
            # The llmlingua package dispatches on the folder's name: the classifier keeps its own.
            target = args.out / name / folder.name if args.method == "llmlingua2" else args.out / name
            shutil.rmtree(target, ignore_errors=True)
            shutil.copytree(folder, target, ignore=shutil.ignore_patterns("checkpoints"))
            print(f"{args.method} {name}: copied to {target}")
    return 0


def resolve_local_model(model: str | None, build: bool = True) -> str:
    """A local model folder to train on: ``--model``, else the embedded default."""
    if model is None:
        from train.default_model import resolve_default_model

        return str(resolve_default_model(build=build))
    if model.startswith(("http://", "https://")):
        raise UsageError(
            "training needs the model's weights: pass a local folder to --model, not a server URL"
        )
    if not (Path(model) / "config.json").is_file():
        raise UsageError(f"{model!r} is not a local model folder (no config.json)")
    return model


if __name__ == "__main__":
    sys.exit(main())
