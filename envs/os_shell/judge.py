"""Scores an OS episode's outcome the way AgentBench v0.2 does (``src/server/tasks/os_interaction/task.py``).

- ``match``: the answer, stripped when the item says so (the default), equals the expected string, or the
  item's regex is found in it (``re.search``). No answer (the agent finished) never matches.
- ``check``: a chain of scripts run after the episode on the agent's container's state. Each script gets the
  agent's answer (``"None"`` after ``finish``: AgentBench passes ``str(answer)``) and then the output of every
  earlier script, stdout and stderr together as ``exec_run`` returns them, as arguments (``bash -c code --
  args``, ``python3 -c code args``) and must exit 0. The env runs them in a trusted judge container
  (:mod:`envs.os_shell.judge_box`); Python runs isolated (``-I``), so nothing in the working directory or
  the environment is imported. A ``None`` entry runs the item's ``example`` script, so its output
  becomes the ground truth that the next script (e.g. an integer comparison) receives as its second argument.
  Check scripts with a known upstream bug run with the fix of :mod:`envs.os_shell.upstream_fixes`; the verdict
  lists the fixes it needed (``Judgement.fixes``).

Example::

    from envs.os_shell.judge import judge

    verdict = judge(task, answer="12", sandbox=sandbox)   # Judgement(score=1.0, detail="...")
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any, Protocol

from envs.os_shell.tasks import CheckEval, MatchEval, OSTask
from envs.os_shell.upstream_fixes import fix_check

DETAIL_CHARS = 240


class _Executes(Protocol):
    """The part of the sandbox the judge needs (``envs.os_shell.sandbox.Sandbox`` provides it)."""

    def exec(
        self, argv: list[str], input: Any = None, cwd: Any = None, env: Any = None, timeout: float = 30.0
    ) -> Any: ...


@dataclass(frozen=True)
class Judgement:
    """The episode's score in [0, 1], a short human-readable reason, and the upstream fixes the judge applied."""

    score: float
    detail: str
    fixes: tuple[str, ...] = ()


def judge(task: OSTask, answer: str | None, sandbox: _Executes | None, timeout: float = 60.0) -> Judgement:
    """Judge ``answer`` (None when the agent said ``finish``) for ``task``; check chains run in ``sandbox``."""
    if isinstance(task.evaluation, MatchEval):
        return judge_match(task.evaluation, answer)
    if sandbox is None:
        raise ValueError(f"task {task.id} is judged by check scripts, which need the episode's sandbox")
    ev, fixes = fix_check(task.evaluation)
    verdict = run_check_chain(ev, answer, sandbox, timeout)
    return replace(verdict, fixes=fixes) if fixes else verdict


def judge_match(ev: MatchEval, answer: str | None) -> Judgement:
    if answer is None:
        return Judgement(0.0, "no answer was given (the agent finished), but the task expects one")
    text = answer.strip() if ev.strip else answer
    if ev.answer is not None:
        ok = text == ev.answer
        return Judgement(
            float(ok), _short(f"answer {text!r} {'matches' if ok else 'differs from'} the expected answer")
        )
    if ev.regex is not None:
        ok = re.search(ev.regex, text) is not None
        return Judgement(
            float(ok), _short(f"answer {text!r} {'matches' if ok else 'does not match'} the expected pattern")
        )
    raise ValueError("a match evaluation needs an answer or a regex")


def run_check_chain(
    ev: CheckEval, answer: str | None, sandbox: _Executes, timeout: float = 60.0
) -> Judgement:
    params = [str(answer)]
    n = len(ev.scripts)
    for i, entry in enumerate(ev.scripts, start=1):
        script = ev.example if entry is None else entry
        if script is None:
            raise ValueError("a null check entry needs an example script")
        label = "example" if entry is None else (script.name or "check")
        argv = script.argv(*params)
        if argv[0] == "python3":
            argv = ["python3", "-I", *argv[1:]]
        # One stream, as exec_run returns it: a script's stderr is part of what the next one receives.
        result = sandbox.exec(["bash", "-c", 'exec 2>&1; exec "$@"', "judge", *argv], timeout=timeout)
        if getattr(result, "timed_out", False):
            return Judgement(0.0, _short(f"check step {i}/{n} ({label}) timed out after {timeout:g} s"))
        if result.returncode != 0:
            shown = ", ".join(repr(p.strip()) for p in params)
            return Judgement(
                0.0, _short(f"check step {i}/{n} ({label}) exited {result.returncode} on ({shown})")
            )
        params.append(_text(result.stdout))
    return Judgement(1.0, f"all {n} check step{'s' if n > 1 else ''} passed")


def _text(data: str | bytes) -> str:
    return data.decode("utf-8", errors="replace") if isinstance(data, bytes) else data


def _short(text: str) -> str:
    return text if len(text) <= DETAIL_CHARS else text[: DETAIL_CHARS - 3] + "..."
