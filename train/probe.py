"""Held-out probe of a trained model: how often it would take the oracle's action, read teacher-forced.

Why: a full benchmark run of a failing small model on CPU takes most of an hour (every failing shop episode
runs all its turns), while this probe reads the same signal in about a minute, so training settings can be
compared quickly. It plays the envs' oracles on the first tasks of the ``dev`` split (never trained on:
the corpus comes from ``train``), under every prompt variant, and runs the model once over each
conversation, with the oracle's replies in context. Per env it reports:

- ``reply_acc``: the share of reply tokens that are the model's greedy choice;
- ``copy_acc``: the same share over reply tokens whose bigram already occurs earlier in the conversation,
  i.e. tokens that copying from the context predicts (paths, ids, the shopper's words);
- ``action_acc``: the share of replies whose action part (from ``Act:``, ``Action:``, ``Answer:`` or
  ``"action"`` on; the free-form thought before it is not judged) is right token for token;
- ``drill_loss_bare`` and ``drill_loss_behind_prompt``: the loss on random-token copy rows with nothing
  before them and after each of the env's prompts (``copy_drill_loss``): whether copying survives a prompt.
- ``drill_loss_shifted``: the same, bare, with the copy of random length at a random place and distance
  (``train.copy_task.copy_batch`` with ``shift=1``): low only if the model copies by matching content, not by position.

Teacher-forced figures are upper bounds of what greedy decoding does in an episode. With ``--free`` the probe
also lets the model write each reply itself (greedy, from the oracle's history up to that turn) and parses it
with the env's own parser:

- ``free_action_acc``: the share of those replies whose parsed action equals the oracle's;
- ``free_invalid``: the share the env's parser refuses (the episode would lose that turn).

Why: the thought before an action is not judged teacher-forced, yet a free thought that restates a wrong
value, or runs on, is where a small model's episodes fail; ``free_action_acc`` sees that, at the cost of
generating every reply (minutes on CPU, where the teacher-forced pass takes one).

Example::

    python -m train.probe ~/.cache/promptless/models/default-cpu
    python -m train.probe /tmp/model --envs web,shop     # no Docker needed
    python -m train.probe /tmp/model --envs os --show 6  # and where the first replies go wrong
    python -m train.probe /tmp/model --envs os --free    # and each reply written by the model itself
    python -m train.probe /tmp/model --corpus ~/.cache/promptless/corpus/<key>  # on its own training data

With ``--corpus`` the probe reads the first tasks of a training corpus (``train.corpus``'s folder or its
``corpus.jsonl``) instead of dev. Why: a model about as wrong on its own training conversations as on dev
underfits, and more steps or a larger model is the lever; one right there and wrong on dev memorises, and
more varied data is.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import envs
from envs.core import text_env

#: Dev tasks per env in the probe and the reset seed of the first; fixed so that figures stay comparable.
PROBE_TASKS: dict[str, int] = {"os": 24, "web": 30, "shop": 20}
FIRST_SEED = 1000
_ACTION = re.compile(r'(Act:|Action:|Answer:|"action")')
#: Tokens a free reply may take; the oracle's longest replies (shop json) are about 80.
FREE_REPLY_TOKENS = 128


@dataclass
class EnvProbe:
    """Counts of one env's probe."""

    reply_tokens: int = 0
    reply_right: int = 0
    copy_tokens: int = 0
    copy_right: int = 0
    replies: int = 0
    actions_right: int = 0
    by_turn: dict[int, list[int]] = field(default_factory=dict)  # turn index -> [replies, actions right]

    def add_reply(self, turn: int, right: bool) -> None:
        """Count one judged reply, in its turn's row (turns 5 and later pooled)."""
        self.replies += 1
        self.actions_right += right
        row = self.by_turn.setdefault(min(turn, 5), [0, 0])
        row[0] += 1
        row[1] += right

    def summary(self) -> dict[str, Any]:
        return {
            "reply_acc": round(self.reply_right / max(1, self.reply_tokens), 3),
            "copy_acc": round(self.copy_right / max(1, self.copy_tokens), 3),
            "action_acc": round(self.actions_right / max(1, self.replies), 3),
            "replies": self.replies,
            "action_acc_by_turn": {t: round(r / n, 3) for t, (n, r) in sorted(self.by_turn.items())},
        }


def dev_records(env_names: Sequence[str]) -> list[dict[str, Any]]:
    """The oracle's dev conversations of ``env_names`` under every variant, as the runner shows them."""
    from train.oracle_episodes import agent_records, play_oracle_variants

    records: list[dict[str, Any]] = []
    for name in env_names:
        n = PROBE_TASKS[name]
        env = envs.make(name, split="dev", limit=n)
        try:
            variants = text_env(env).prompt_variants
            for i, task_id in enumerate(text_env(env).task_ids()[:n]):
                for episode in play_oracle_variants(env, task_id, FIRST_SEED + i, name, variants):
                    records.extend(agent_records(episode))
        finally:
            env.close()
    return records


def corpus_records(corpus: Path, env_names: Sequence[str]) -> list[dict[str, Any]]:
    """The agent conversations of the first ``PROBE_TASKS[env]`` tasks of each of ``env_names`` in a training
    corpus (a folder holding ``corpus.jsonl``, or the file), every variant, in the corpus's order."""
    from train.corpus import CORPUS_FILE, load_records

    tasks: dict[str, list[str]] = {name: [] for name in env_names}
    records: list[dict[str, Any]] = []
    for record in load_records(corpus / CORPUS_FILE if corpus.is_dir() else corpus):
        name = record.get("env")
        if record.get("kind") != "agent" or name not in tasks:
            continue
        seen = tasks[name]
        if record["task_id"] not in seen:
            if len(seen) == PROBE_TASKS[name]:
                continue
            seen.append(record["task_id"])
        records.append(record)
    return records


def teacher_forced(model: Any, tok: Any, record: dict[str, Any]) -> tuple[list[int], list[bool], list[int]]:
    """One pass of ``model`` over ``record``: (token ids, reply-token mask, greedy guess of each next token)."""
    import torch

    from train.batching import encode_sample

    sample = encode_sample(tok, record)
    ids = [*sample.prompt, *sample.ids]
    targets = [False] * len(sample.prompt) + list(sample.targets)
    with torch.no_grad():
        guess = model(input_ids=torch.tensor([ids])).logits[0, :-1].argmax(-1).tolist()
    return ids, targets, guess


def probe(model: Any, tok: Any, records: Sequence[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Teacher-forced figures of ``model`` on ``records`` (see the module docstring), per env, with the copy
    drill's loss bare and behind the env's prompts (``copy_drill_loss``)."""
    from train.tokenizer import encode_conversation

    stats: dict[str, EnvProbe] = {}
    prompts: dict[str, dict[str, list[dict[str, str]]]] = {}  # env -> distinct prompts, keyed by their text
    for record in records:
        ids, targets, guess = teacher_forced(model, tok, record)
        skip = [_thought_tokens(tok, m["content"]) for m in record["messages"] if m["role"] == "assistant"]
        _count(stats.setdefault(record["env"], EnvProbe()), ids, targets, guess, skip)
        prompts.setdefault(record["env"], {})[json.dumps(record["prompt"])] = record["prompt"]
    bare = round(copy_drill_loss(model, tok), 3)
    shifted = round(copy_drill_loss(model, tok, shift=1.0), 3)
    result = {}
    for name in sorted(stats):
        behind = [
            copy_drill_loss(model, tok, encode_conversation(tok, prompts[name][key]).input_ids)
            for key in sorted(prompts[name])
        ]
        result[name] = {
            **stats[name].summary(),
            "drill_loss_bare": bare,
            "drill_loss_behind_prompt": round(sum(behind) / len(behind), 3),
            "drill_loss_shifted": shifted,
        }
    return result


def copy_drill_loss(
    model: Any,
    tok: Any,
    prompt: Sequence[int] = (),
    rows: int = 16,
    span: int = 48,
    seed: int = 5,
    shift: float = 0.0,
) -> float:
    """Loss (nats per token) of ``model`` on the random-token copy drill (train/copy_task.py), bare or after
    the token ids ``prompt``; chance is about ln(vocabulary).

    Why: it tells whether the model's copying survives a prompt in front, and (``shift=1``, see
    ``train.copy_task.copy_batch``) whether it matches content at all. Models whose bare drill loss was
    0.006-0.008 scored 12.5-14.5 behind their OS prompts and 14.9-16.3 shifted: their copy heads looked a
    fixed distance back, and they copied paths by position, with a tag in front only (docs/journal/2026-11-21-to-12-02-default-model.md).
    """
    import torch

    from train.batching import Batch, batch_loss
    from train.copy_task import copy_batch, copy_loss

    first_id = max(tok.all_special_ids, default=-1) + 1
    ids, targets = copy_batch(torch.Generator().manual_seed(seed), len(tok), first_id, rows, span, shift)
    with torch.no_grad():
        if not prompt:
            return copy_loss(model, ids, targets).item()
        batch = Batch(torch.tensor([list(prompt)]), ids, targets, torch.ones_like(targets))
        return batch_loss(model, batch)[0].item()


def free_steps(
    write: Callable[[list[dict[str, str]]], str], records: Sequence[dict[str, Any]]
) -> dict[str, dict[str, Any]]:
    """Per env, how often ``write`` (messages -> reply) takes the oracle's action at each of its turns.

    Every assistant turn of every record is asked for once, from the record's prompt and the oracle's turns
    before it; the reply and the oracle's are parsed by the env's ``parse_reply`` under the record's variant.
    A reply the parser refuses counts as invalid (and wrong). ``free_action_acc_by_turn`` splits the share
    by the reply's turn (5 and later pooled), as ``action_acc_by_turn`` does: an OS episode's turn 0 is its
    command, turn 1 its answer."""
    counts: dict[str, EnvProbe] = {}
    invalid: dict[str, int] = {}
    for record in records:
        name, variant = record["env"], record["variant"]
        parse = envs.reply_parser(name)
        acc = counts.setdefault(name, EnvProbe())
        messages = record["messages"]
        turn = -1
        for k, message in enumerate(messages):
            if message["role"] != "assistant":
                continue
            turn += 1
            wanted = parse(message["content"], variant)
            reply = write([*record["prompt"], *messages[:k]])
            try:
                right = parse(reply, variant) == wanted
            except ValueError:  # every env's InvalidAction is a ValueError
                right = False
                invalid[name] = invalid.get(name, 0) + 1
            acc.add_reply(turn, right)
    result = {}
    for name, acc in sorted(counts.items()):
        figures = acc.summary()
        result[name] = {
            "free_replies": acc.replies,
            "free_action_acc": figures["action_acc"],
            "free_invalid": round(invalid.get(name, 0) / max(1, acc.replies), 3),
            "free_action_acc_by_turn": figures["action_acc_by_turn"],
        }
    return result


def greedy_writer(
    model: Any, tok: Any, max_new_tokens: int = FREE_REPLY_TOKENS
) -> Callable[[list[dict]], str]:
    """A ``messages -> reply`` function: ``model``'s greedy reply under its chat template, up to ``<|end|>``."""
    import torch

    def write(messages: list[dict[str, str]]) -> str:
        ids = tok.apply_chat_template(
            messages, add_generation_prompt=True, return_dict=True, return_tensors="pt"
        )
        with torch.no_grad():
            out = model.generate(
                **ids,
                max_new_tokens=max_new_tokens,
                do_sample=False,
                eos_token_id=tok.eos_token_id,
                pad_token_id=tok.pad_token_id,
            )
        return tok.decode(out[0, ids["input_ids"].shape[1] :], skip_special_tokens=True)

    return write


def marked_first_reply(model: Any, tok: Any, record: dict[str, Any]) -> str:
    """The record's first reply, each token the model gets wrong shown as ``[right|guessed]``.

    Why: the figures say how often an action is wrong, this says where: in a command it is the copied name,
    not the syntax, that the small model misses."""
    ids, targets, guess = teacher_forced(model, tok, record)
    parts: list[str] = []
    started = False
    for i in range(1, len(ids)):
        if not targets[i]:
            if started:
                break
            continue
        started = True
        right, guessed = tok.decode([ids[i]]), tok.decode([guess[i - 1]])
        parts.append(right if right == guessed else f"[{right}|{guessed}]")
    return "".join(parts).replace("\n", "\\n")


def _thought_tokens(tok: Any, reply: str) -> int:
    """How many leading tokens of ``reply`` are its free-form thought (not judged by ``action_acc``)."""
    found = _ACTION.search(reply)
    return len(tok(reply[: found.start()], add_special_tokens=False).input_ids) if found else 0


def _count(acc: EnvProbe, ids: list[int], targets: list[bool], guess: list[int], skip: list[int]) -> None:
    seen: set[tuple[int, int]] = set()
    turn, at, right, inside = -1, 0, True, False

    def close() -> None:
        acc.add_reply(turn, right)

    for i in range(1, len(ids)):
        if targets[i]:
            ok = guess[i - 1] == ids[i]
            acc.reply_tokens += 1
            acc.reply_right += ok
            if (ids[i - 1], ids[i]) in seen:
                acc.copy_tokens += 1
                acc.copy_right += ok
            if not inside:
                inside, turn, at, right = True, turn + 1, 0, True
            if at >= skip[min(turn, len(skip) - 1)]:
                right &= ok
            at += 1
        elif inside:
            close()
            inside = False
        seen.add((ids[i - 1], ids[i]))
    if inside:
        close()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m train.probe", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "model", type=Path, help="a model folder (save_pretrained layout, with its tokenizer)"
    )
    parser.add_argument("--envs", default="os,web,shop", help="comma-separated envs (os needs Docker)")
    parser.add_argument(
        "--show", type=int, default=0, metavar="N", help="also print N first replies per env, errors marked"
    )
    parser.add_argument(
        "--free", action="store_true", help="also let the model write every reply itself (free_action_acc)"
    )
    parser.add_argument(
        "--corpus",
        type=Path,
        default=None,
        help="probe the first tasks of this training corpus (folder or corpus.jsonl) instead of dev",
    )
    args = parser.parse_args(argv)
    names = [e.strip() for e in args.envs.split(",") if e.strip()]
    unknown = sorted(set(names) - set(PROBE_TASKS))
    if unknown:
        parser.error(f"unknown env(s) {unknown}; choose from {sorted(PROBE_TASKS)}")
    if not (args.model / "config.json").is_file():
        parser.error(f"{args.model} is not a model folder (no config.json)")
    from train.corpus import CORPUS_FILE

    if args.corpus is not None and not (args.corpus.is_file() or (args.corpus / CORPUS_FILE).is_file()):
        parser.error(f"{args.corpus} is not a corpus (no {CORPUS_FILE})")
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(args.model)
    model = AutoModelForCausalLM.from_pretrained(args.model).eval()
    records = dev_records(names) if args.corpus is None else corpus_records(args.corpus, names)
    result = probe(model, tok, records)
    if args.free:
        for name, figures in free_steps(greedy_writer(model, tok), records).items():
            result[name].update(figures)
    for name in names:
        for record in [r for r in records if r["env"] == name][: args.show]:
            print(
                f"{name} {record['task_id']} ({record['variant']}): {marked_first_reply(model, tok, record)}"
            )
    for name, figures in result.items():
        print(
            f"{name}: reply_acc {figures['reply_acc']:.3f}  copy_acc {figures['copy_acc']:.3f}  "
            f"action_acc {figures['action_acc']:.3f} ({figures['replies']} replies)  copy drill loss "
            f"{figures['drill_loss_bare']:.3f} bare, {figures['drill_loss_behind_prompt']:.3f} behind the prompt, "
            f"{figures['drill_loss_shifted']:.3f} shifted"
        )
        if "free_action_acc" in figures:
            print(
                f"{name}: free_action_acc {figures['free_action_acc']:.3f}  free_invalid "
                f"{figures['free_invalid']:.3f} ({figures['free_replies']} replies written by the model; "
                f"by turn {figures['free_action_acc_by_turn']})"
            )
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
