"""Writes AgentBench's OS and WebShop prompts as data, out of the Python sources that hold them upstream.

AgentBench v0.2 keeps these two prompts in code (``src/server/tasks/os_interaction/task.py`` and
``src/server/tasks/webshop/__init__.py``), so no upstream URL serves them as a file. The fetcher downloads
the pinned source, and this module reads its string literals with :mod:`ast` (never executing it) and lays
them out as promptless' prompt files. The protocol facts that upstream writes as expressions (templates,
limits, the truncation rule) are stated here. The result must then match the sha256 recorded in
:mod:`envs.upstream.manifest`, so a transcription that drifts from the reference copy is refused.

Example::

    from envs.upstream.transcribe import transcribe

    data = transcribe("src/server/tasks/os_interaction/task.py", source_bytes)   # bytes of the JSON file
"""

from __future__ import annotations

import ast
import json
from collections.abc import Callable
from typing import Any

_OS_INSTRUCTION_START = "You are an assistant that will act like a person"
_ROLES = {"user": "user", "agent": "assistant"}


class TranscriptionError(ValueError):
    """The upstream source does not have the shape this transcription reads."""


def _dump(obj: dict[str, Any]) -> bytes:
    # The reference copies are written with a one-space indent and no trailing newline.
    return json.dumps(obj, indent=1, ensure_ascii=False).encode("utf-8")


def _turn(message: Any) -> dict[str, str]:
    if not (
        isinstance(message, dict)
        and message.get("role") in _ROLES
        and isinstance(message.get("content"), str)
    ):
        raise TranscriptionError(f"not a chat message: {message!r}")
    return {"role": _ROLES[message["role"]], "content": message["content"]}


def _module_constant(tree: ast.Module, name: str) -> Any:
    """The literal value assigned to a module-level ``name`` (plain or annotated assignment)."""
    for node in tree.body:
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, ast.AnnAssign):
            targets = [node.target]
        else:
            continue
        if any(isinstance(t, ast.Name) and t.id == name for t in targets) and node.value is not None:
            return ast.literal_eval(node.value)
    raise TranscriptionError(f"no module-level constant {name!r}")


def os_interaction(source: bytes) -> bytes:
    """The OS prompt file: the instruction + one-shot demo as AgentBench injects them, and the protocol facts."""
    tree = ast.parse(source)
    one_shot = _module_constant(tree, "ONE_SHOT")
    instructions = [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and node.value.startswith(_OS_INSTRUCTION_START)
    ]
    if len(instructions) != 1 or not isinstance(one_shot, list) or not one_shot:
        raise TranscriptionError("expected one instruction literal and a non-empty ONE_SHOT list")
    # AgentBench appends the demo's question to the instruction turn, then injects the rest of ONE_SHOT.
    first = {"role": "user", "content": instructions[0] + "Now, my problem is:\n\n" + one_shot[0]["content"]}
    return _dump(
        {
            "source": "AgentBench v0.2, src/server/tasks/os_interaction/task.py (Apache-2.0)",
            "turns": [first, *(_turn(m) for m in one_shot[1:])],
            "next_user_turn_template": "Now, I will start a new problem in a new OS. My problem is:\n\n{description}",
            "observation_template": "The output of the OS:\n\n{output}",
            "empty_observation": "The output of the OS is empty.",
            "round_limit": 8,
            "truncate": {
                "over_chars": 800,
                "keep_chars": 780,
                "suffix": "\n[truncated because the output is too long]",
            },
        }
    )


def webshop(source: bytes) -> bytes:
    """The WebShop prompt file: the instruction, "Ok." and the 4-step demo, in the order AgentBench injects them."""
    tree = ast.parse(source)
    instruction = _module_constant(tree, "prompt")
    found: list[tuple[int, int, dict[str, str]]] = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "inject"
            and len(node.args) == 1
        ):
            try:
                message = ast.literal_eval(node.args[0])
            except ValueError:
                continue  # the turns built at run time (the instruction by name, each observation)
            found.append((node.lineno, node.col_offset, _turn(message)))
    injected = [message for _, _, message in sorted(found, key=lambda f: f[:2])]  # in source order
    if (
        not isinstance(instruction, str)
        or not injected
        or injected[0] != {"role": "assistant", "content": "Ok."}
    ):
        raise TranscriptionError("expected the instruction literal followed by an 'Ok.' turn and the demo")
    return _dump(
        {
            "source": "AgentBench v0.2, src/server/tasks/webshop/__init__.py (Apache-2.0)",
            "turns": [{"role": "user", "content": instruction}, *injected],
            "observation_template": "Observation:\n{observation}\n\nAvailable Actions:\n{available_actions}",
            "action_regex": r"[Aa]ction: *\n* *((search|click)\[.+?])",
            "round_limit": 10,
        }
    )


TRANSCRIBERS: dict[str, Callable[[bytes], bytes]] = {
    "src/server/tasks/os_interaction/task.py": os_interaction,
    "src/server/tasks/webshop/__init__.py": webshop,
}


def transcribe(upstream_path: str, source: bytes) -> bytes:
    """The data file written from ``source``, the upstream file at ``upstream_path``."""
    if upstream_path not in TRANSCRIBERS:
        raise TranscriptionError(f"no transcription for {upstream_path}")
    return TRANSCRIBERS[upstream_path](source)
