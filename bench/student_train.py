"""Benchmark of student LoRA training on CPU: fp32 against bf16 autocast, same rows, same model.

What it measures, on this machine: the wall time of ``--steps`` optimizer steps of ``train_adapter`` (the
transformers ``Trainer`` path the students use) on SeqKD rows and on GCD rows (SFT + prompt generation),
made from real env conversations of the model given (the embedded default unless ``--model``): the
oracle's transcripts of the env's train tasks, so no synthesis runs here. fp32 is the baseline, bf16 autocast
the candidate, alternated twice; the ratio printed is fp32 / bf16 (above 1: bf16 is faster). The final loss
of each run is printed beside it, since a faster step that learns less is no gain.

The last line printed is one JSON object with every figure.

Usage::

    .venv/bin/python bench/student_train.py --env shop --steps 20
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import envs  # noqa: E402
from agents.oracle import OracleAgent  # noqa: E402
from agents.rollout import run_episode  # noqa: E402
from envs.core import Message, text_env  # noqa: E402
from train.default_model import resolve_default_model  # noqa: E402
from train.students.build import training_rows  # noqa: E402
from train.students.config import StudentConfig  # noqa: E402
from train.students.trainer import train_adapter  # noqa: E402


def oracle_conversations(env_name: str, n: int) -> tuple[list[Message], list[dict], bool]:
    env = envs.make(env_name, split="train", limit=n)
    base = text_env(env)
    prompt = list(base.prompt_messages())
    conversations = []
    for task_id in base.task_ids():
        record = run_episode(env, OracleAgent(), env_name=env_name, task_id=task_id, seed=0).record
        messages = [{"role": t["role"], "content": t["content"]} for t in record.transcript]
        conversations.append({"key": task_id, "messages": messages, "error": None})
    independent = bool(getattr(base, "independent_turns", False))
    env.close()
    return prompt, conversations, independent


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--env", default="shop")
    p.add_argument("--model", default=None)
    p.add_argument("--episodes", type=int, default=32)
    p.add_argument("--steps", type=int, default=16)
    args = p.parse_args()
    model = args.model or str(resolve_default_model(build=False))
    prompt, conversations, independent = oracle_conversations(args.env, args.episodes)
    outputs = [
        {
            "key": c["key"],
            "input": c["messages"][0]["content"],
            "as_is": "",
            "to_be": c["messages"][1]["content"],
        }
        for c in conversations
    ]
    reasons = [{"key": c["key"], "reason": "The context sets the format."} for c in conversations]
    figures: dict[str, float] = {}
    for method in ("seqkd", "gcd"):
        config = StudentConfig.default(method, args.env, device="cpu")
        rows, _, pad_id = training_rows(
            config, model, prompt, conversations, outputs, reasons, independent_turns=independent
        )
        epochs = args.steps * config.batch_size * config.grad_accum / len(rows)
        config = config.with_overrides(epochs=epochs)
        times: dict[str, list[float]] = {"fp32": [], "bf16": []}
        losses: dict[str, float] = {}
        for _ in range(2):
            for precision in ("fp32", "bf16"):
                with tempfile.TemporaryDirectory() as tmp:
                    t = time.perf_counter()
                    metrics = train_adapter(
                        config,
                        model,
                        rows,
                        Path(tmp),
                        device="cpu",
                        pad_id=pad_id,
                        progress=False,
                        bf16=precision == "bf16",
                    )
                    times[precision].append(time.perf_counter() - t)
                    losses[precision] = metrics["final_loss"]
        fp32, bf16 = statistics.mean(times["fp32"]), statistics.mean(times["bf16"])
        print(
            f"{method} on {args.env}: {metrics['steps']} steps of {config.batch_size} rows: fp32 {fp32:.1f} s "
            f"(loss {losses['fp32']:.3f}), bf16 autocast {bf16:.1f} s (loss {losses['bf16']:.3f}), "
            f"ratio fp32/bf16 {fp32 / bf16:.2f}"
        )
        figures |= {
            f"{method}_fp32_s": round(fp32, 2),
            f"{method}_bf16_s": round(bf16, 2),
            f"{method}_ratio": round(fp32 / bf16, 3),
            f"{method}_steps": metrics["steps"],
            f"{method}_s_per_step_fp32": round(fp32 / metrics["steps"], 3),
        }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
