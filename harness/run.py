"""``python -m harness.run``: run one agent on the envs' tasks, with resumable results.

Examples::

    python -m harness.run --agent oracle --env os,web,shop --limit 5
    python -m harness.run --agent teacher --env web --model http://127.0.0.1:8000/v1 --concurrency 8
    python -m harness.run --agent teacher --model http://127.0.0.1:8000 --model-name meta-llama/Llama-3.1-8B-Instruct \
        --temperature 0.7 --max-new-tokens 512            # API key: OPENAI_API_KEY or --api-key
    python -m harness.run --agent noprompt --model /models/Llama-3-8B-Instruct --dtype bfloat16
    python -m harness.run --agent gcd --out results/runs/gcd --resume        # after an interruption
    python -m harness.run --agent gcd --out results/runs/gcd --retry-errors  # only the errored episodes
    python -m harness.run --agent oracle --env shop --products items_shuffle_1000.json \
        --attributes items_ins_v2_1000.json --goals items_human_ins.json        # WebShop's own data
    python -m harness.run --agent oracle --env web --tasks test_task_0.json --ranks scores_all_data.pkl
    python -m harness.run --list

Exit status: 0 done, 1 the run could not go on (an env or agent failed to build), 2 bad input (one line
on stderr, no traceback; a bad tasks file included), 3 the run ended but too many episodes errored
(``--fail-on-error``; summary status "failed"; redo them with ``--retry-errors``), 130 interrupted by
SIGINT, 143 by SIGTERM (both close every env, containers included, record the run as interrupted; resume
with ``--resume``).
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from collections.abc import Sequence
from typing import NoReturn

from rich.console import Console

import envs
from agents.rollout import DEFAULT_MAX_TURNS
from envs.core import SPLITS
from harness.error_threshold import DEFAULT_THRESHOLD, parse_threshold
from harness.plugins import (
    EXTRA_AGENTS_VAR,
    EXTRA_ENVS_VAR,
    UsageError,
    extra_agents,
    extra_envs,
    registry_agents,
)
from harness.runner import EXECUTORS, RunConfig, RunError, run

#: Exit status of a run that ended with too many errored episodes (``--fail-on-error``).
EXIT_FAILED = 3


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised in the main thread so that it unwinds the run exactly as Ctrl-C does.

    Why: the default SIGTERM action kills the process at once, leaving containers running and a summary that
    says "running"; as an exception, the runner's cleanup (close the envs, write the summary) runs first.
    """


def _on_sigterm(signum: int, frame: object) -> None:
    # A second SIGTERM must not cut the cleanup short (``docker stop`` follows up with SIGKILL anyway).
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise Terminated()


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # One line, as for every other bad input; --help has the full usage.
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="python -m harness.run", description="Run an agent on promptless envs.")
    p.add_argument("--agent", help="agent name (see --list)")
    p.add_argument(
        "--env",
        nargs="?",
        const="",
        default="",
        help="comma-separated envs, e.g. os,web,shop (default: all three)",
    )
    p.add_argument("--split", default="test", help=f"task split: {', '.join(SPLITS)} (default test)")
    p.add_argument("--tasks", dest="tasks_file", help="tasks file in the env's public format (one env only)")
    p.add_argument("--scripts", dest="scripts_dir", help="scripts folder of an OS tasks file")
    p.add_argument(
        "--products",
        dest="products_file",
        help="shop: WebShop's products file (items_shuffle*.json); goals from --goals, else from the split",
    )
    p.add_argument(
        "--attributes", dest="attributes_file", help="shop: WebShop's attributes file (items_ins_v2*.json)"
    )
    p.add_argument(
        "--goals", dest="goals_file", help="shop: WebShop's human goals file (items_human_ins*.json)"
    )
    p.add_argument(
        "--ranks",
        dest="ranks_file",
        help="web: Mind2Web's candidate scores and ranks (scores_all_data.pkl, or the same as JSON) for --tasks",
    )
    p.add_argument("--limit", type=int, help="run at most N tasks per env")
    p.add_argument("--concurrency", type=int, default=1, help="episodes in flight (default 1)")
    p.add_argument(
        "--model",
        help="model folder or OpenAI-compatible server URL; http://HOST:PORT and http://HOST:PORT/v1 are "
        "the same (default: the embedded model)",
    )
    p.add_argument("--model-name", help="the served model's id at a --model URL (default: the first listed)")
    p.add_argument(
        "--api-key",
        help="API key for a --model URL (default: the OPENAI_API_KEY environment variable; prefer it, since "
        "a command line is visible to other users)",
    )
    p.add_argument(
        "--max-new-tokens", type=int, help="tokens one reply may generate (default: per env, 96 to 384)"
    )
    p.add_argument(
        "--temperature", type=float, help="sampling temperature; 0 (the default) is greedy decoding"
    )
    p.add_argument(
        "--dtype",
        choices=("bfloat16", "float16", "float32"),
        help="weights' dtype of a local --model (default: bfloat16 on CUDA, float32 on CPU)",
    )
    p.add_argument(
        "--model-timeout",
        type=float,
        help="seconds one request to a --model URL may take in all, connect to last byte (default 60)",
    )
    p.add_argument(
        "--model-retries", type=int, help="retries of a failed request to a --model URL (default 3)"
    )
    p.add_argument("--adapter", help="LoRA adapter folder")
    p.add_argument(
        "--compressor",
        dest="adapter",
        help="llmlingua2 agents: a token-classification model folder (an official LLMLingua-2 one) to use "
        "instead of the project's own classifier",
    )
    p.add_argument(
        "--fail-on-error",
        type=_threshold,
        default=DEFAULT_THRESHOLD,
        metavar="X",
        help="fail the run (status 'failed', exit status 3) when an env's errored episodes reach X: a share "
        f"0<X<1 of its episodes or a count X>=1; 'never' to disable (default {DEFAULT_THRESHOLD})",
    )
    p.add_argument("--seed", type=int, default=0, help="run seed; each task's reset seed derives from it")
    p.add_argument("--out", help="run folder (default results/runs/<agent>)")
    p.add_argument("--resume", action="store_true", help="continue a run: skip tasks finished without error")
    p.add_argument(
        "--retry-errors", action="store_true", help="re-run only the errored episodes (implies --resume)"
    )
    p.add_argument("--executor", choices=EXECUTORS, default="local", help="local threads or Ray tasks")
    p.add_argument(
        "--no-build",
        action="store_true",
        help="never build the default model or student adapters: fail if missing",
    )
    p.add_argument("--episode-timeout", type=float, help="seconds before an episode is recorded as timed out")
    p.add_argument("--max-turns", type=int, default=DEFAULT_MAX_TURNS, help="runner's turn cap per episode")
    p.add_argument("--ray-num-cpus", type=float, default=1.0, help="CPUs each Ray task reserves")
    p.add_argument("--list", action="store_true", help="list agents, envs and splits, then exit")
    return p


def _threshold(text: str) -> float | None:
    try:
        return parse_threshold(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def list_everything(console: Console) -> None:
    console.print("[bold]agents[/bold]")
    try:
        for name, description in registry_agents():
            console.print(f"  {name:<14} {description}", markup=False)
    except UsageError as exc:
        console.print(f"  (no built-in agents: {exc})", markup=False)
    for name, target in extra_agents().items():
        console.print(f"  {name:<14} user agent {target} (from {EXTRA_AGENTS_VAR})", markup=False)
    console.print("[bold]envs[/bold]")
    for name, (gym_id, _, limit) in envs.ENV_SPECS.items():
        console.print(f"  {name:<14} {gym_id}, turn limit {limit}", markup=False)
    for name, target in extra_envs().items():
        console.print(f"  {name:<14} user env {target} (from {EXTRA_ENVS_VAR})", markup=False)
    console.print("[bold]splits[/bold]")
    for split in SPLITS.values():
        console.print(f"  {split.name:<14} {split.size} seeded tasks per generator env", markup=False)


def config_from_args(args: argparse.Namespace) -> RunConfig:
    if not args.agent:
        raise UsageError("--agent is required (see --list)")
    env_arg = (args.env or "").strip()
    chosen = (
        envs.ENV_NAMES
        if env_arg in ("", "all")
        else tuple(e.strip() for e in env_arg.split(",") if e.strip())
    )
    options = {
        "timeout": args.model_timeout,
        "retries": args.model_retries,
        "model_name": args.model_name,
        "api_key": args.api_key,
        "max_new_tokens": args.max_new_tokens,
        "temperature": args.temperature,
        "dtype": args.dtype,
    }
    if args.api_key is None and (args.model or "").startswith(("http://", "https://")):
        # Read here rather than only in the back-end: Ray workers on other machines lack this environment.
        options["api_key"] = os.environ.get("OPENAI_API_KEY") or None
    return RunConfig(
        agent=args.agent,
        envs=chosen,
        split=args.split,
        tasks_file=args.tasks_file,
        scripts_dir=args.scripts_dir,
        products_file=args.products_file,
        attributes_file=args.attributes_file,
        goals_file=args.goals_file,
        ranks_file=args.ranks_file,
        limit=args.limit,
        concurrency=args.concurrency,
        model=args.model,
        adapter=args.adapter,
        seed=args.seed,
        out=args.out,
        resume=args.resume or args.retry_errors,
        retry_errors=args.retry_errors,
        executor=args.executor,
        build=not args.no_build,
        episode_timeout=args.episode_timeout,
        max_turns=args.max_turns,
        ray_num_cpus=args.ray_num_cpus,
        agent_options=tuple((k, v) for k, v in options.items() if v is not None),
        fail_on_error=args.fail_on_error,
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    console = Console()
    if not console.is_terminal:
        console.width = max(console.width, 120)  # logs and pipes: no squeezed table
    in_main = threading.current_thread() is threading.main_thread()  # signal handlers live there only
    previous = signal.signal(signal.SIGTERM, _on_sigterm) if in_main else None
    try:
        if args.list:
            list_everything(console)
            return 0
        summary = run(config_from_args(args), console)
        if summary.get("status") == "failed":
            print(f"error: the run failed: {summary.get('failure')}", file=sys.stderr)
            return EXIT_FAILED
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except RunError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt as exc:
        how, status = ("terminated (SIGTERM)", 143) if isinstance(exc, Terminated) else ("interrupted", 130)
        print(f"{how}: finished episodes are saved; continue with --resume", file=sys.stderr)
        return status
    finally:
        if in_main:
            signal.signal(signal.SIGTERM, previous)
    return 0


if __name__ == "__main__":
    sys.exit(main())
