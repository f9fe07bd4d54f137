"""``promptless/OS-v0``: AgentBench's OS-interaction task as a Gymnasium text environment.

Each episode gets a fresh Docker container from a pool, runs the task's init scripts in it (each its own
``docker exec``, output hidden: :mod:`envs.os_shell.init_runner`), types the task's ``start`` into the
episode's persistent bash as terminal input (as AgentBench does: a ``su - USER`` takes the shell over) and
shows the task description. Every
step parses the agent's reply with the prompt variant's rules: ``bash`` runs in the persistent shell (``cd``,
variables and background jobs persist) and the output comes back truncated to 800/780 characters; ``answer``
and ``finish`` end the episode and are judged (match, or check scripts run in a trusted container that sees
the agent's files and processes: :mod:`envs.os_shell.judge_box`); a command that runs past the timeout is
stopped and its observation says so; a reply with no valid action ends it as a failure, as in AgentBench; after 8 rounds the episode is truncated with score 0.

Example::

    import gymnasium as gym
    import envs

    env = gym.make("promptless/OS-v0", split="test", prompt_variant="react")
    obs, info = env.reset(options={"task_id": "os-test-0000"})
    obs, reward, terminated, truncated, info = env.step("Thought: count them\\nAction: bash[ls /etc | wc -l]")
    env.close()
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

from envs.core import AGENTBENCH, Message, TextEnv, get_split
from envs.os_shell.init_runner import run_init
from envs.os_shell.judge import Judgement, judge
from envs.os_shell.protocol import (
    SYNTAXES,
    VARIANTS,
    Action,
    InvalidAction,
    first_observation,
    format_observation,
    load_protocol,
    parse_reply,
    prompt_messages,
    render_action,
)
from envs.os_shell.tasks import (
    CheckEval,
    OSTask,
    agentbench_dev_file,
    generate_task,
    load_agentbench,
    task_id,
)

#: Seconds an init script may run (AgentBench sets no limit; ours only guards against a hung script).
INIT_TIMEOUT = 120.0
#: ``split`` value that loads AgentBench's dev set (from the data cache) instead of a generated split.
AGENTBENCH_DEV_SPLIT = "agentbench-dev"
#: Waits, in the episode's shell, until every background job of a task's ``start`` has exec'd its program.
#: A job is a fork of the shell until then (its cmdline is still the shell's), so a ``pgrep``/``pkill`` typed
#: the next instant would miss it: the oracle and a fast agent lost such episodes by chance. Bounded to
#: about 2 s per job, for jobs that are subshells and never exec.
START_SETTLE = (
    "for __pl_p in $(jobs -p); do __pl_n=0; "
    "while [ $__pl_n -lt 200 ] && cmp -s /proc/$__pl_p/cmdline /proc/$$/cmdline; "
    "do sleep 0.01; __pl_n=$((__pl_n + 1)); done; done; unset __pl_p __pl_n"
)

#: Appended to the output of a command stopped at the per-command timeout (AgentBench would hang instead).
TIMEOUT_NOTICE = "\n[the command did not finish within {seconds:g} s and was stopped]"

_RUN_THOUGHTS = (
    "I should run a command to find this out.",
    "Let me check the system with a short command.",
    "A one-line script will tell me.",
    "I will use the shell to work this out.",
    "First I need to look at the system.",
)
_CHANGE_THOUGHTS = (
    "I need to make the requested change with a command.",
    "A short command will do this.",
    "Let me apply the change in the shell.",
)
_ANSWER_THOUGHTS = (
    "The output gives the answer: {a}.",
    "Now I know the answer, it is {a}.",
    "So the answer is {a}.",
)
_FINISH_THOUGHTS = (
    "The change is done.",
    "The command succeeded, so the task is finished.",
    "That completes the task.",
)


class OSEnv(TextEnv):
    """The OS-interaction environment (see the module docstring); one container per episode."""

    env_name = "os"
    prompt_variants = VARIANTS
    syntaxes = SYNTAXES
    # A "Think: ..." line plus an ``Act: bash`` code block, which can hold a short script. A model that goes
    # on to write "The output of the OS:" is inventing the shell's answer: its turn has ended.
    max_new_tokens = 384
    stop_sequences = ("\nThe output of the OS:",)

    def __init__(
        self,
        split: str = "test",
        tasks_file: str | Path | None = None,
        scripts_dir: str | Path | None = None,
        prompt_variant: str = AGENTBENCH,
        limit: int | None = None,
        pool: Any = None,
        command_timeout: float = 10.0,
        render_mode: str | None = None,
    ):
        super().__init__(prompt_variant=prompt_variant, render_mode=render_mode)
        if limit is not None and limit < 1:
            raise ValueError(f"limit must be a positive integer, got {limit}")
        if command_timeout <= 0:
            raise ValueError(f"command_timeout must be positive, got {command_timeout}")
        if tasks_file is None and split == AGENTBENCH_DEV_SPLIT:
            tasks_file = agentbench_dev_file()
        self._tasks: dict[str, OSTask] = {}
        if tasks_file is not None:
            loaded = load_agentbench(tasks_file, scripts_dir)[:limit]
            self._tasks = {t.id: t for t in loaded}
            self._ids = [t.id for t in loaded]
            self._split = None
        else:
            self._split = get_split(split).name
            self._ids = [task_id(split, i) for i in range(len(get_split(split).seeds(limit)))]
        self.command_timeout = float(command_timeout)
        self.round_limit = self.turn_limit() or load_protocol().round_limit
        self._pool = pool
        self._sandbox: Any = None
        self._task: OSTask | None = None
        self._rounds = 0
        self._done = True
        self._reference_output: str | None = None
        self._last_observation = ""

    # -- the TextEnv contract ---------------------------------------------------------------------------------

    def prompt_messages(self) -> list[Message]:
        return prompt_messages(self.prompt_variant)

    def task_ids(self) -> list[str]:
        return list(self._ids)

    def task(self, tid: str) -> OSTask:
        """The task record with id ``tid`` (generated on first use)."""
        if tid not in self._tasks:
            if self._split is None or tid not in self._task_id_set():
                raise ValueError(f"unknown task_id {tid!r} for env 'os'")
            self._tasks[tid] = generate_task(self._split, int(tid.rsplit("-", 1)[1]))
        return self._tasks[tid]

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[str, dict[str, Any]]:
        super().reset(seed=seed)
        self._release()
        task = self.task(self.pick_task_id(options))
        sandbox = self._get_pool().acquire()
        try:
            for script in task.init:
                result = run_init(sandbox, script, timeout=INIT_TIMEOUT)
                # AgentBench ignores a failing init; a generated task's init failing is a bug worth stopping for.
                if not result.success and task.source == "generated":
                    detail = (result.stdout + result.stderr)[-500:]
                    raise RuntimeError(f"init of {task.id} exited {result.returncode}: {detail}")
            if task.start:
                sandbox.type_input(task.start, timeout=self.command_timeout)
                sandbox.shell(START_SETTLE, timeout=self.command_timeout)
        except BaseException:
            self._get_pool().release(sandbox)
            raise
        self._sandbox = sandbox
        self._task = task
        self._rounds = 0
        self._done = False
        self._reference_output = None
        self._last_observation = first_observation(task.description)
        return self._last_observation, {"task_id": task.id, "family": task.family}

    def step(self, action: str) -> tuple[str, float, bool, bool, dict[str, Any]]:
        if self._done or self._task is None:
            raise RuntimeError("the episode is over: call reset() before step()")
        task = self._task
        self._rounds += 1
        info: dict[str, Any] = {
            "task_id": task.id,
            "round": self._rounds,
            "action_valid": True,
            "last_action_error": "",
        }
        try:
            if not isinstance(action, str):
                raise InvalidAction(f"the action must be the reply text (a str), got {type(action).__name__}")
            parsed = parse_reply(action, self.prompt_variant)
        except InvalidAction as exc:
            info.update(action_valid=False, last_action_error=str(exc), action=None)
            return self._finish(
                f"Invalid action: {exc}", 0.0, f"invalid action: {exc}", info, truncated=False
            )

        info["action"] = parsed.kind
        if parsed.kind != "bash":
            answer = parsed.content if parsed.kind == "answer" else None
            verdict = self._judge(task, answer)
            if verdict.fixes:  # the score rests on a repaired upstream check script: say which
                info["upstream_fixes"] = list(verdict.fixes)
            return self._finish("", verdict.score, verdict.detail, info, truncated=False)

        output = ""
        if not parsed.content.strip():
            # AgentBench runs the (empty) joined blocks and goes on; we do too, but flag the action.
            info.update(
                action_valid=False,
                last_action_error="Act: bash without a non-empty ```bash block: nothing was run",
            )
        else:
            result = self._sandbox.shell(parsed.content, timeout=self.command_timeout)
            output = result.output
            if parsed.content == task.reference:
                self._reference_output = output
            if result.timed_out:
                info["timed_out"] = True
                output += TIMEOUT_NOTICE.format(seconds=self.command_timeout)
        observation = format_observation(output)
        if self._rounds >= self.round_limit:
            detail = f"round limit ({self.round_limit}) reached without an answer"
            return self._finish(observation, 0.0, detail, info, truncated=True)
        self._last_observation = observation
        return observation, 0.0, False, False, info

    def oracle_reply(self) -> str:
        """Run the task's reference solution, then answer with its output (or finish, for a change)."""
        task = self._task
        if task is None or self._done:
            raise RuntimeError("no episode in progress: call reset() first")
        if task.reference is None:
            raise RuntimeError(f"task {task.id} has no reference solution for the oracle")
        rng = random.Random(f"{task.id}:{self._rounds}")
        if self._reference_output is None:
            thoughts = _RUN_THOUGHTS if task.expects_answer else _CHANGE_THOUGHTS
            return render_action(Action("bash", task.reference), rng.choice(thoughts), self.prompt_variant)
        if task.expects_answer:
            answer = self._reference_output.strip()
            thought = rng.choice(_ANSWER_THOUGHTS).format(a=answer)
            return render_action(Action("answer", answer), thought, self.prompt_variant)
        return render_action(Action("finish"), rng.choice(_FINISH_THOUGHTS), self.prompt_variant)

    def render(self) -> str | None:
        if self.render_mode != "ansi":
            return None
        head = f"[{self._task.id if self._task else '-'}] round {self._rounds}/{self.round_limit}"
        return f"{head}\n{self._last_observation}"

    def close(self) -> None:
        self._release()
        self._done = True
        super().close()

    # -- internals --------------------------------------------------------------------------------------------

    def _finish(
        self, observation: str, score: float, detail: str, info: dict[str, Any], truncated: bool
    ) -> tuple[str, float, bool, bool, dict[str, Any]]:
        self._done = True
        self._last_observation = observation
        self._release()
        info.update(score=float(score), judge_detail=detail)
        return observation, float(score), not truncated, truncated, info

    def _judge(self, task: OSTask, answer: str | None) -> Judgement:
        """Judge in a trusted container when check scripts run (see :mod:`envs.os_shell.judge_box`)."""
        sandbox = self._sandbox
        if not isinstance(task.evaluation, CheckEval) or not hasattr(sandbox, "disk_guard"):
            return judge(task, answer, sandbox)  # match needs no sandbox; a non-Docker provider judges itself
        from envs.os_shell.judge_box import JudgeBox
        from envs.os_shell.sandbox import SandboxError

        if sandbox.disk_exceeded:
            return Judgement(
                0.0, f"the sandbox was stopped for writing more than {sandbox.limits.disk_mb} MiB"
            )
        try:
            box = JudgeBox(sandbox)
        except SandboxError as error:
            return Judgement(0.0, f"the judge could not start: {error}")
        with box:
            return judge(task, answer, box)

    def _get_pool(self) -> Any:
        if self._pool is None:
            from envs.os_shell.sandbox import shared_pool

            self._pool = shared_pool()
        return self._pool

    def _release(self) -> None:
        sandbox, self._sandbox = self._sandbox, None
        if sandbox is not None:
            self._get_pool().release(sandbox)
