"""``python -m harness.agreement``: how often a student takes the teacher's action on the teacher's own histories.

A fidelity figure that does not need the teacher to be good: every agent turn of a teacher run is replayed,
with the same history the teacher had (only the latest observation for envs whose rounds are independent),
and the student answers without the prompt. Both replies are parsed with the env's own parser; a turn
agrees when the student's parsed action equals the teacher's. Turns where the teacher's reply does not parse
have no action to agree with and are counted apart. The result goes to ``<student run>/agreement.json``,
which ``harness.leaderboard`` shows as the ``agreement`` column, and every replayed turn (both parsed
actions and the student's reply) to ``agreement_turns.jsonl``: two students replayed on the same teacher
run can then be compared turn by turn (``--compare``: an exact McNemar test on the turns where exactly
one of them agrees, which is sharper than two agreement figures with separate standard errors, because
both students answer the same turns).

Example::

    python -m harness.agreement --agent gcd --teacher-run results/runs/teacher --out results/runs/gcd --env shop
    python -m harness.agreement --compare results/runs/gcd results/runs/seqkd
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, NoReturn

from agents.base import Agent, EpisodeState
from envs import reply_parser
from envs.core import Message, text_env
from harness.plugins import UsageError, agent_factory, env_factory
from harness.records import latest, read_records
from harness.run_folder import write_json_atomic, write_text_atomic
from harness.stats import mcnemar_exact_p

FILE = "agreement.json"
TURNS_FILE = "agreement_turns.jsonl"
#: Replayed turns in flight: enough to fill the local back-end's batches.
WORKERS = 8


def replay_turns(record: dict[str, Any], independent: bool) -> list[tuple[list[Message], str]]:
    """(history, teacher reply) for every agent turn of a recorded episode."""
    turns = []
    history: list[Message] = []
    for message in record["transcript"]:
        entry: Message = {"role": message["role"], "content": message["content"]}
        if message["role"] == "assistant":
            turns.append((list(history), message["content"]))
            history.append(entry)
        else:
            if independent:
                history.clear()
            history.append(entry)
    return turns


def parse_or_none(parse: Callable[[str, str], Any] | None, reply: str, variant: str) -> Any:
    if parse is None:
        return reply.strip()  # an env without a protocol module: the reply text itself is the action
    try:
        return parse(reply, variant)
    except Exception:  # any parser failure means "no valid action"
        return None


def agreement(
    records: Sequence[dict[str, Any]],
    agent: Agent,
    env_name: str,
    prompt: list[Message],
    variant: str,
    independent: bool,
) -> dict[str, Any]:
    """The share of the teacher's valid turns whose action the student repeats, the counts, and under
    ``turns`` one entry per agent turn (task, turn index, both parsed actions, the student's reply)."""
    try:
        parse: Callable[[str, str], Any] | None = reply_parser(env_name)
    except ValueError:
        parse = None
    jobs = []
    for record in records:
        if record.get("error"):
            continue
        for turn, (history, teacher_reply) in enumerate(replay_turns(record, independent)):
            jobs.append((record["task_id"], turn, history, teacher_reply))

    def judge(job: tuple[str, int, list[Message], str]) -> dict[str, Any]:
        task_id, turn, history, teacher_reply = job
        entry: dict[str, Any] = {"env": env_name, "task_id": task_id, "turn": turn}
        teacher_action = parse_or_none(parse, teacher_reply, variant)
        if teacher_action is None:
            return entry | {"teacher_action": None, "student_action": None, "agree": None}
        state = EpisodeState(env_name=env_name, task_id=task_id, prompt=prompt, messages=history)
        reply = agent.reply(state).text
        student_action = parse_or_none(parse, reply, variant)
        return entry | {
            "teacher_action": _shown(teacher_action),
            "student_action": None if student_action is None else _shown(student_action),
            "agree": student_action == teacher_action,
            "student_reply": reply,
        }

    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        turns = list(pool.map(judge, jobs))
    valid = sum(1 for t in turns if t["agree"] is not None)
    agree = sum(1 for t in turns if t["agree"])
    return {
        "agreement": agree / valid if valid else None,
        "agreeing_turns": agree,
        "teacher_valid_turns": valid,
        "teacher_invalid_turns": len(turns) - valid,
        "episodes": len({job[0] for job in jobs}),
        "turns": turns,
    }


def _shown(action: Any) -> Any:
    """A parsed action as JSON can hold it: itself when it is plain data, else its repr."""
    return action if isinstance(action, str | int | float | bool) else repr(action)


def compare_turns(a: Sequence[dict[str, Any]], b: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Two students' replays of the same teacher turns, paired: how many turns each alone agrees on, and
    the exact McNemar p-value of that split. Raises ValueError when the replays are not of the same turns."""
    key = ("env", "task_id", "turn", "teacher_action")
    a_by = {tuple(t[k] for k in key): t for t in a if t["agree"] is not None}
    b_by = {tuple(t[k] for k in key): t for t in b if t["agree"] is not None}
    if set(a_by) != set(b_by):
        raise ValueError(
            f"the two replays cover different teacher turns ({len(a_by)} and {len(b_by)}, "
            f"{len(set(a_by) & set(b_by))} shared): replay both on the same teacher run and episodes"
        )
    both = sum(1 for k in a_by if a_by[k]["agree"] and b_by[k]["agree"])
    only_a = sum(1 for k in a_by if a_by[k]["agree"] and not b_by[k]["agree"])
    only_b = sum(1 for k in a_by if b_by[k]["agree"] and not a_by[k]["agree"])
    return {
        "turns": len(a_by),
        "both": both,
        "only_a": only_a,
        "only_b": only_b,
        "neither": len(a_by) - both - only_a - only_b,
        "p_value": mcnemar_exact_p(only_a, only_b),
    }


def _compare(run_a: Path, run_b: Path, envs: set[str]) -> int:
    loaded = []
    for run in (run_a, run_b):
        path = run / TURNS_FILE
        if not path.is_file():
            raise UsageError(f"{path} does not exist: run `python -m harness.agreement` for {run} first")
        turns = [json.loads(line) for line in path.read_text().splitlines()]
        loaded.append([t for t in turns if not envs or t["env"] in envs])
    for env_name in sorted({t["env"] for t in loaded[0]} | {t["env"] for t in loaded[1]}):
        a, b = ([t for t in turns if t["env"] == env_name] for turns in loaded)
        try:
            c = compare_turns(a, b)
        except ValueError as exc:
            raise UsageError(f"env {env_name!r}: {exc}") from None
        n = c["turns"] or 1
        print(
            f"{env_name}: {run_a.name} {(c['both'] + c['only_a']) / n:.3f}, {run_b.name} "
            f"{(c['both'] + c['only_b']) / n:.3f} on {c['turns']} teacher turns; only {run_a.name} agrees on "
            f"{c['only_a']}, only {run_b.name} on {c['only_b']} (exact McNemar {_p(c['p_value'])})"
        )
    return 0


def _p(value: float) -> str:
    return "p < 0.001" if value < 0.001 else f"p = {value:.3f}"


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def main(argv: Sequence[str] | None = None) -> int:
    p = _Parser(prog="python -m harness.agreement", description=__doc__.splitlines()[0])
    p.add_argument("--agent", help="the student agent (gcd, seqkd, ...)")
    p.add_argument("--teacher-run", type=Path, help="run folder of the teacher")
    p.add_argument("--out", type=Path, help="the student's run folder (gets agreement.json)")
    p.add_argument("--model", help="model path (default: the one the teacher run used)")
    p.add_argument("--adapter", help="adapter folder (default: the cached one for the model)")
    p.add_argument("--env", help="comma-separated envs to replay (default: every env of the teacher run)")
    p.add_argument("--limit", type=int, help="replay the first N episodes per env (by task id)")
    p.add_argument(
        "--compare",
        nargs=2,
        type=Path,
        metavar=("RUN_A", "RUN_B"),
        help="compare two students' replays of the same teacher run turn by turn (nothing is replayed)",
    )
    args = p.parse_args(argv)
    if args.compare is None:
        missing = [
            f"--{n.replace('_', '-')}" for n in ("agent", "teacher_run", "out") if not getattr(args, n)
        ]
        if missing:
            p.error(f"the following arguments are required: {', '.join(missing)} (or --compare RUN_A RUN_B)")
    try:
        if args.compare is not None:
            run_a, run_b = args.compare
            return _compare(run_a, run_b, {e for e in (args.env or "").split(",") if e})
        result = _measure(args)
    except UsageError as exc:
        print(f"python -m harness.agreement: error: {exc}", file=sys.stderr)
        return 2
    for env_name, figures in result.items():
        share = figures["agreement"]
        print(
            f"{args.agent} {env_name}: agreement "
            f"{'n/a' if share is None else f'{share:.3f}'} ({figures['agreeing_turns']} of "
            f"{figures['teacher_valid_turns']} teacher turns)"
        )
    return 0


def _measure(args: argparse.Namespace) -> dict[str, dict[str, Any]]:
    from harness.runner import RunConfig
    from harness.students import student_adapters

    log = args.teacher_run / "episodes.jsonl"
    summary_path = args.teacher_run / "summary.json"
    if not log.is_file() or not summary_path.is_file():
        raise UsageError(
            f"{args.teacher_run} is not a finished run folder (no episodes.jsonl and summary.json)"
        )
    summary = json.loads(summary_path.read_text())
    model = args.model or summary.get("model")
    if not model:
        raise UsageError(f"no --model given and {summary_path} names none")
    wanted = {e for e in (args.env or "").split(",") if e}
    by_env: dict[str, list[dict[str, Any]]] = {}
    for (env_name, _), record in latest(read_records(log, strict=False)).items():
        if not wanted or env_name in wanted:
            by_env.setdefault(env_name, []).append(record)
    if args.limit is not None:
        by_env = {
            e: sorted(recs, key=lambda r: str(r["task_id"]))[: args.limit] for e, recs in by_env.items()
        }
    missing = sorted(wanted - set(by_env))
    if missing:
        raise UsageError(f"the teacher run {args.teacher_run} has no episodes of env(s) {missing}")
    split = summary.get("split", "test")
    config = RunConfig(agent=args.agent, envs=tuple(by_env), model=model, adapter=args.adapter, build=False)
    adapters = student_adapters(config)
    out: dict[str, dict[str, Any]] = {}
    for env_name, records in by_env.items():
        env = env_factory(env_name, split=split, limit=1)()
        base = text_env(env)
        prompt, variant = list(base.prompt_messages()), base.prompt_variant
        independent = bool(getattr(base, "independent_turns", False))
        env.close()
        agent = agent_factory(
            args.agent, env_name=env_name, model=model, adapter=adapters.get(env_name, args.adapter)
        )()
        out[env_name] = agreement(records, agent, env_name, prompt, variant, independent)
    args.out.mkdir(parents=True, exist_ok=True)
    turns = {env_name: figures.pop("turns") for env_name, figures in out.items()}
    previous = json.loads((args.out / FILE).read_text()) if (args.out / FILE).is_file() else {}
    write_json_atomic(args.out / FILE, {**previous, **out})
    _write_turns(args.out / TURNS_FILE, turns)
    return out


def _write_turns(path: Path, turns: dict[str, list[dict[str, Any]]]) -> None:
    """Replace the replayed envs' lines of ``path`` and keep every other env's."""
    kept = []
    if path.is_file():
        kept = [line for line in path.read_text().splitlines() if json.loads(line)["env"] not in turns]
    lines = kept + [json.dumps(t) for entries in turns.values() for t in entries]
    write_text_atomic(path, "".join(line + "\n" for line in lines))


if __name__ == "__main__":
    sys.exit(main())
