"""OS tasks: the task record, the AgentBench-format loader, and the seeded splits of the project's generator.

Two sources of :class:`OSTask`:

- :func:`load_agentbench` reads any AgentBench v0.2 OS-interaction JSON (or JSONL) file with its ``scripts``
  folder (AgentBench's own loader is ``src/server/tasks/os_interaction/task.py`` of THUDM/AgentBench,
  Apache-2.0). An item has a ``description``; an ``evaluation`` that is ``match`` (the expected answer, or an
  object with ``answer`` or ``regex`` and ``strip``) or ``check`` (one script or a list; a null entry stands
  for ``evaluation.example``, whose output becomes the ground truth passed to the next script); optional
  ``create.init`` and ``start`` scripts, and ``labels``. A script is a bash string or an object with
  ``language`` and inline ``code`` or a ``file`` under the scripts folder. Malformed items raise
  :class:`envs.core.TaskError` naming the file, the item and the field. AgentBench's 26-item dev set is
  :func:`agentbench_dev_file`, read from the data cache (:mod:`envs.upstream`).
- :func:`generate_split` draws tasks from the families of :mod:`envs.os_shell.generator`, one
  ``random.Random(seed)`` per task, with the seeds of ``envs.core.SPLITS``: the same (split, index) always gives
  the same task, and splits never share a seed. The test split is fixed at 100 items, version
  :data:`GENERATOR_VERSION`, pinned by :data:`TEST_SPLIT_SHA256`.

Example::

    from envs.os_shell.tasks import agentbench_dev_file, generate_split, load_agentbench

    dev = load_agentbench(agentbench_dev_file())     # ids agentbench-dev-0000 ... agentbench-dev-0025
    test = generate_split("test")                     # ids os-test-0000 ... os-test-0099
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass, replace
from functools import cache
from pathlib import Path
from typing import Any

from envs.core import TaskError, get_split
from envs.upstream import data_file

#: The stem of AgentBench's dev task file: its items get the oracle solutions of :data:`DEV_REFERENCES`.
AGENTBENCH_DEV_STEM = "dev"

#: Bump when a family's wording, content or judge changes (the env id's version follows).
GENERATOR_VERSION = "v0"
#: sha256 of the test split's canonical JSON (see :func:`split_digest`); a test pins it.
TEST_SPLIT_SHA256 = "49596864433cdb0f33264503379e207488ccece6c3fd514c7a12be9078c70c5a"

LANGUAGES = ("bash", "python")


@dataclass(frozen=True)
class Script:
    """A script run inside the container: ``bash -c code -- args`` or ``python3 -c code args``."""

    language: str
    code: str
    name: str = ""  # where it came from (a file under scripts/, or "inline"), for messages

    def argv(self, *args: str) -> list[str]:
        """The argument list that runs this script with ``args`` (AgentBench's calling convention)."""
        if self.language == "bash":
            # bash -c takes the word after the script as $0, so "--" keeps the arguments at $1, $2, ...
            return ["bash", "-c", self.code, "--", *args] if args else ["bash", "-c", self.code]
        if self.language == "python":
            return ["python3", "-c", self.code, *args]
        raise ValueError(f"unsupported script language {self.language!r}")


@dataclass(frozen=True)
class MatchEval:
    """Judge by the answer alone: equal to ``answer``, or ``regex`` found in it (after strip when ``strip``)."""

    answer: str | None = None
    regex: str | None = None
    strip: bool = True


@dataclass(frozen=True)
class CheckEval:
    """Judge by a chain of scripts run in the agent's container after the episode; each must exit 0.

    Each script gets the agent's answer, then the stdout of every earlier script, as arguments. A ``None``
    entry stands for ``example``, the reference script whose stdout becomes the ground truth.
    """

    scripts: tuple[Script | None, ...]
    example: Script | None = None


@dataclass(frozen=True)
class OSTask:
    """One OS-interaction task.

    ``reference`` is the privileged bash solution the oracle types into the shell (never shown to a model);
    ``expects_answer`` says whether the task wants ``answer(...)`` (a question) or ``finish`` (a change).
    """

    id: str
    description: str
    evaluation: MatchEval | CheckEval
    init: tuple[Script, ...] = ()
    start: str | None = None
    reference: str | None = None
    expects_answer: bool = True
    labels: tuple[str, ...] = ()
    family: str = ""
    source: str = "generated"  # "generated" or "agentbench"

    def to_json(self) -> str:
        """Canonical JSON of the whole record (the "task bytes" that determinism is checked on)."""
        return json.dumps(asdict(self), sort_keys=True, ensure_ascii=False)


def split_digest(tasks: list[OSTask]) -> str:
    """sha256 over the canonical JSON of ``tasks``, in order."""
    h = hashlib.sha256()
    for task in tasks:
        h.update(task.to_json().encode("utf-8"))
        h.update(b"\n")
    return h.hexdigest()


# --------------------------------------------------------------------------------------------------------------
# Generated splits


def agentbench_dev_file() -> Path:
    """AgentBench's OS dev task file, verified in the data cache (fetched on demand); scripts sit beside it."""
    return data_file("agentbench-os", "dev.json")


def task_id(split: str, index: int) -> str:
    return f"os-{split}-{index:04d}"


def generate_task(split: str, index: int) -> OSTask:
    """The ``index``-th task of ``split`` (deterministic).

    Seeds never repeat across splits, but a family with few possible states can still draw the same task
    twice; a dev or train draw that equals a task of an earlier split (test, then dev) is redrawn from a
    derived seed, so that no test task ever appears in dev or train.
    """
    from envs.os_shell.generator import generate

    sp = get_split(split)
    if not 0 <= index < sp.size:
        raise IndexError(f"index {index} is outside split {split!r} (size {sp.size})")
    seed = sp.start + index
    task = generate(task_id(split, index), seed=seed, index=index)
    reserved = _reserved_content(split)
    attempt = 0
    while _content(task) in reserved:
        attempt += 1
        task = generate(task_id(split, index), seed=f"{seed}/{attempt}", index=index)
    return task


def _content(task: OSTask) -> tuple[object, ...]:
    """What makes two tasks the same problem: what the agent is told and the state it starts from."""
    return (task.description, task.init, task.start)


@cache
def _reserved_content(split: str) -> frozenset[tuple[object, ...]]:
    earlier = {"test": (), "dev": ("test",)}.get(split, ("test", "dev"))
    return frozenset(_content(t) for name in earlier for t in generate_split(name))


def generate_split(split: str, limit: int | None = None) -> list[OSTask]:
    """The first ``limit`` tasks (all when None) of ``split``."""
    n = len(get_split(split).seeds(limit))
    return [generate_task(split, i) for i in range(n)]


# --------------------------------------------------------------------------------------------------------------
# AgentBench format

#: The oracle's own solutions for the bundled dev items that are judged by ``match`` and have no ``example``:
#: index -> (the item's expected answer, a bash script printing it). Privileged: never shown to a model.
#: The expected answer guards against a different file that happens to have the same stem.
_INTERVAL = (
    "f=/root/log; until [ -s $f ]; do sleep 0.05; done\n"
    's=$(stat -c %s $f); while [ "$(stat -c %s $f)" = "$s" ]; do sleep 0.05; done; t0=$(date +%s.%N)\n'
    's=$(stat -c %s $f); while [ "$(stat -c %s $f)" = "$s" ]; do sleep 0.05; done\n'
    'python3 -c "print(round($(date +%s.%N) - $t0))"'
)
_NEWEST = "touch /tmp/.stamp; sleep 2; find /root -type f -newer /tmp/.stamp -printf '%f\\n'"
DEV_REFERENCES: dict[int, tuple[str, str]] = {
    # A writer appends to /root/log every N seconds: wait for the file, then time two consecutive growths.
    0: ("1", _INTERVAL),
    4: ("3", _INTERVAL),
    # Which file under /root keeps changing: the one modified after a fresh stamp.
    1: ("log", _NEWEST),
    2: (".plain.log", _NEWEST),
    # The item's own top-level "example" assumes the shell sits in /home/jack; the agent's shell is root's.
    24: ("Awesome-AgentBench", "chmod +x /home/jack/test && /home/jack/test"),
}

# Item 8's published check script crashes on every answer (int() of du -sh's "8.0K"); the judge runs it with
# the fix listed in envs/os_shell/upstream_fixes.py, so every dev item is solvable.


# A function definition and its body in braces (nested braces such as ``${1}`` up to two levels).
_SH_FUNCTION = re.compile(
    r"^[ \t]*(?:function[ \t]+)?[\w.:-]+[ \t]*\(\)\s*\{(?:[^{}]|\{(?:[^{}]|\{[^{}]*\})*\})*\}", re.MULTILINE
)
_SH_ARG1 = re.compile(r"\$(?:1(?!\d)|[@*]|\{(?:1[^\d]|[@*#]?[@*]))")
_PY_IMPORT = re.compile(r"^[ \t]*(?:from[ \t]+sys[ \t]+)?import[ \t].*$", re.MULTILINE)
_PY_ARGV = re.compile(r"\bargv\b(?!\s*\[\s*(?:0|[2-9])\s*\])")


def reads_answer(script: Script) -> bool:
    """Whether a check script reads its first argument (the agent's answer), judged from its source.

    Bash: ``$1``, ``$@``, ``$*`` (or their braced forms) outside function bodies, whose ``$1`` is the
    function's own. Python: ``argv`` other than ``argv[0]`` or ``argv[2..9]``, import lines aside.
    """
    if script.language == "bash":
        return _SH_ARG1.search(_SH_FUNCTION.sub("", script.code)) is not None
    return _PY_ARGV.search(_PY_IMPORT.sub("", script.code)) is not None


class _ItemReader:
    """Reads one AgentBench item with error messages that name the file, the item and the field."""

    def __init__(self, path: Path, index: int, scripts_dir: Path):
        self.path = path
        self.index = index
        self.scripts_dir = scripts_dir

    def error(self, field: str, problem: str) -> TaskError:
        return TaskError(f"{self.path}: item {self.index}: field {field!r}: {problem}")

    def script(self, obj: Any, field: str) -> Script:
        """A script object: a bare string (bash) or {"language"?, "code" | "file"}."""
        if isinstance(obj, str):
            return Script("bash", obj, "inline")
        if not isinstance(obj, dict):
            raise self.error(
                field, f"expected a string or an object with 'code' or 'file', got {type(obj).__name__}"
            )
        language = obj.get("language", "bash")
        if language not in LANGUAGES:
            raise self.error(
                f"{field}.language", f"unsupported language {language!r}; supported: {list(LANGUAGES)}"
            )
        if "file" in obj:
            if not isinstance(obj["file"], str):
                raise self.error(f"{field}.file", "expected a path relative to the scripts folder")
            file = self.scripts_dir / obj["file"]
            if not file.is_file():
                raise self.error(f"{field}.file", f"script {file} does not exist")
            return Script(language, file.read_text(encoding="utf-8"), obj["file"])
        if "code" in obj:
            if not isinstance(obj["code"], str):
                raise self.error(f"{field}.code", "expected a string")
            return Script(language, obj["code"], "inline")
        raise self.error(field, "a script object needs 'code' or 'file'")

    def read(self, item: Any, task_id: str) -> OSTask:
        if not isinstance(item, dict):
            raise self.error("<item>", f"expected an object, got {type(item).__name__}")
        description = item.get("description")
        if not isinstance(description, str) or not description.strip():
            raise self.error("description", "missing or empty")

        init: tuple[Script, ...] = ()
        create = item.get("create")
        # AgentBench reads init only from an object; dev item 10 has a list here, which AgentBench ignores.
        if isinstance(create, dict) and "init" in create:
            raw_init = create["init"]
            objs = raw_init if isinstance(raw_init, list) else [raw_init]
            init = tuple(self.script(o, f"create.init[{i}]") for i, o in enumerate(objs))

        start = None
        if "start" in item:
            start_script = self.script(item["start"], "start")
            start = start_script.code

        evaluation = item.get("evaluation")
        if not isinstance(evaluation, dict):
            raise self.error("evaluation", "missing, or not an object")
        ev: MatchEval | CheckEval
        reference: str | None = None
        if "match" in evaluation:
            match = evaluation["match"]
            if isinstance(match, str):
                ev = MatchEval(answer=match)
            elif isinstance(match, dict) and isinstance(match.get("answer"), str):
                ev = MatchEval(answer=match["answer"], strip=bool(match.get("strip", True)))
            elif isinstance(match, dict) and isinstance(match.get("regex"), str):
                try:
                    re.compile(match["regex"])
                except re.error as exc:
                    raise self.error("evaluation.match.regex", f"invalid regular expression: {exc}") from None
                ev = MatchEval(regex=match["regex"], strip=bool(match.get("strip", True)))
            else:
                raise self.error(
                    "evaluation.match", "expected a string or an object with 'answer' or 'regex'"
                )
            expects_answer = True
        elif "check" in evaluation:
            check = evaluation["check"]
            objs = check if isinstance(check, list) else [check]
            if not objs:
                raise self.error("evaluation.check", "empty list")
            scripts = tuple(
                None if o is None else self.script(o, f"evaluation.check[{i}]") for i, o in enumerate(objs)
            )
            example = (
                self.script(evaluation["example"], "evaluation.example") if "example" in evaluation else None
            )
            if example is None and None in scripts:
                raise self.error("evaluation.example", "a null check entry needs the item's example script")
            if example is not None and example.language != "bash":
                # The oracle types the reference into the shell; a python example runs there via a heredoc.
                reference = f"python3 - <<'PROMPTLESS_EOF'\n{example.code}\nPROMPTLESS_EOF"
            elif example is not None:
                reference = example.code
            ev = CheckEval(scripts=scripts, example=example)
            # AgentBench passes the answer to every check script: the task wants one when a script reads it.
            expects_answer = None in scripts or any(reads_answer(s) for s in scripts if s is not None)
        else:
            raise self.error("evaluation", "needs 'match' or 'check'")

        labels = item.get("labels", [])
        if not isinstance(labels, list) or not all(isinstance(x, str) for x in labels):
            raise self.error("labels", "expected a list of strings")
        return OSTask(
            id=task_id,
            description=description,
            evaluation=ev,
            init=init,
            start=start,
            reference=reference,
            expects_answer=expects_answer,
            labels=tuple(labels),
            family="agentbench",
            source="agentbench",
        )


def load_agentbench(tasks_file: str | Path, scripts_dir: str | Path | None = None) -> list[OSTask]:
    """Load an AgentBench OS task file (.json list or object, or .jsonl); ids ``agentbench-<stem>-<index:04d>``.

    ``scripts_dir`` defaults to the ``scripts`` folder next to the file.
    """
    path = Path(tasks_file)
    if not path.is_file():
        raise TaskError(f"{path}: task file not found")
    scripts = Path(scripts_dir) if scripts_dir is not None else path.parent / "scripts"
    text = path.read_text(encoding="utf-8")
    try:
        if path.suffix == ".jsonl":
            items = [json.loads(line) for line in text.splitlines() if line.strip()]
        else:
            raw = json.loads(text)
            items = [raw] if isinstance(raw, dict) else raw
    except json.JSONDecodeError as exc:
        raise TaskError(f"{path}: not valid JSON: {exc}") from None
    if not isinstance(items, list):
        raise TaskError(f"{path}: expected a list of items, got {type(items).__name__}")

    tasks = []
    for index, item in enumerate(items):
        task = _ItemReader(path, index, scripts).read(item, f"agentbench-{path.stem}-{index:04d}")
        if task.reference is None and path.stem == AGENTBENCH_DEV_STEM and index in DEV_REFERENCES:
            expected, script = DEV_REFERENCES[index]
            if isinstance(task.evaluation, MatchEval) and task.evaluation.answer == expected:
                task = replace(task, reference=script)
        tasks.append(task)
    return tasks
