"""The OS-interaction protocol: prompts, observation templates and reply parsers, per prompt variant.

The ``agentbench`` variant is AgentBench v0.2's OS-interaction protocol (THUDM/AgentBench, branch v0.2,
``src/server/tasks/os_interaction/task.py``, Apache-2.0), loaded verbatim from the data cache
(``os_interaction.json`` of the ``agentbench-prompts`` data set, see :mod:`envs.upstream`): the instruction
with its one-shot demo, the template of the task's first user turn, the observation templates, the 8-round
limit and the 800/780-character truncation.
Its parsing rules are AgentBench's: the last line starting ``Act:`` wins; ``bash`` runs the ```` ```bash ````
fenced blocks (all of them, joined by a blank line); ``finish`` ends with no answer; ``answer(...)`` takes the
text between the first "(" and the last ")" of its line.

Two more variants exist so that a model trained across them genuinely depends on its prompt; they share the
observation templates and the round limit and differ in their instruction and action syntax:

- ``json``: the reply ends with one JSON object line, ``{"thought": ..., "action": "bash"|"answer"|"finish",
  "input": ...}``;
- ``react``: ``Thought: ...`` then ``Action: bash[<script>]`` / ``Action: answer[<text>]`` / ``Action: finish[]``
  (the last ``Action:`` line wins; the argument runs from the first "[" to the last "]", over several lines).

For each variant, one :class:`Syntax` object holds the action descriptions shown to the model, the parser and
the renderer, so they cannot drift apart; ``parse_reply(render_action(a, t, v), v) == a`` for every action.

Example::

    from envs.os_shell.protocol import Action, parse_reply, render_action

    reply = render_action(Action("bash", "ls -1 /etc | wc -l"), "Count the files.", "react")
    assert parse_reply(reply, "react") == Action("bash", "ls -1 /etc | wc -l")
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal, Protocol, TypeGuard, cast

from envs.core import (
    AGENTBENCH,
    InvalidAction,
    Message,
    ReplySyntax,
    parse_with,
    pick_syntax,
    syntax_table,
)
from envs.upstream import data_file


def protocol_file() -> Path:
    """AgentBench's OS prompt file, verified in the data cache (fetched on demand)."""
    return data_file("agentbench-prompts", "os_interaction.json")


JSON_VARIANT = "json"
REACT_VARIANT = "react"
VARIANTS: tuple[str, ...] = (AGENTBENCH, JSON_VARIANT, REACT_VARIANT)

ActionKind = Literal["bash", "answer", "finish"]
ACTION_KINDS: tuple[str, ...] = ("bash", "answer", "finish")


def _is_action_kind(value: object, actions: Mapping[ActionKind, str]) -> TypeGuard[ActionKind]:
    """Whether ``value`` names one of a syntax's ``actions`` (a string first: a list is unhashable)."""
    return isinstance(value, str) and value in actions


@dataclass(frozen=True)
class Action:
    """A parsed agent action: ``bash`` (content = the script), ``answer`` (content = the answer), ``finish``."""

    kind: ActionKind
    content: str = ""

    def __post_init__(self) -> None:
        if self.kind not in ACTION_KINDS:
            raise ValueError(f"unknown action kind {self.kind!r}; choose one of {list(ACTION_KINDS)}")
        if self.kind == "finish" and self.content:
            raise ValueError("a finish action carries no content")


@dataclass(frozen=True)
class ProtocolData:
    """The variant-independent facts of AgentBench's OS protocol, as loaded from the JSON data file."""

    source: str
    demo_turns: tuple[Message, ...]
    first_turn_template: str
    observation_template: str
    empty_observation: str
    round_limit: int
    truncate_over: int
    truncate_keep: int
    truncate_suffix: str


@cache
def load_protocol(path: Path | None = None) -> ProtocolData:
    """Load AgentBench's OS protocol data (once; from the data cache unless ``path`` is given)."""
    path = protocol_file() if path is None else Path(path)
    raw = json.loads(path.read_text(encoding="utf-8"))
    try:
        turns = tuple(Message(role=t["role"], content=t["content"]) for t in raw["turns"])
        trunc = raw["truncate"]
        return ProtocolData(
            source=raw["source"],
            demo_turns=turns,
            first_turn_template=raw["next_user_turn_template"],
            observation_template=raw["observation_template"],
            empty_observation=raw["empty_observation"],
            round_limit=int(raw["round_limit"]),
            truncate_over=int(trunc["over_chars"]),
            truncate_keep=int(trunc["keep_chars"]),
            truncate_suffix=trunc["suffix"],
        )
    except (KeyError, TypeError) as exc:
        raise ValueError(f"{path}: malformed OS protocol file ({exc!r})") from None


def truncate_output(output: str) -> str:
    """Cut an output over 800 characters to its first 780 plus AgentBench's notice."""
    p = load_protocol()
    if len(output) > p.truncate_over:
        return output[: p.truncate_keep] + p.truncate_suffix
    return output


def format_observation(output: str) -> str:
    """The user turn that reports a bash action's output (AgentBench: empty output has its own text)."""
    p = load_protocol()
    if not output:
        return p.empty_observation
    return p.observation_template.format(output=truncate_output(output))


def first_observation(description: str) -> str:
    """The task's first user turn, which follows the prompt's one-shot demo."""
    return load_protocol().first_turn_template.format(description=description)


# --------------------------------------------------------------------------------------------------------------
# Variants: one Syntax object per variant holds its action descriptions, parser and renderer.


class Syntax(Protocol):
    """How one prompt variant writes actions: described to the model, parsed, and rendered."""

    name: str

    def instruction(self) -> str:
        """The instruction text that opens the prompt (before the demo's question)."""
        ...

    def parse(self, reply: str) -> Action:
        """Parse a reply; raise :class:`InvalidAction` with a clear message when it holds no valid action."""
        ...

    def render(self, action: Action, thought: str) -> str:
        """Write ``action`` with ``thought`` as a reply that :meth:`parse` maps back to ``action``."""
        ...


_FENCE_OPEN, _FENCE_CLOSE = "```bash\n", "\n```"
# "Act:" at the start of a line; like AgentBench's r"Act:\s*(.+)", the blank after it may span lines.
_ACT_RE = re.compile(r"^[ \t]*Act:\s*(.+)", re.MULTILINE)


def _fenced_blocks(reply: str) -> list[str]:
    """The bodies of the ```` ```bash ```` blocks, as ``re.findall(r"```bash\\n(.*?)\\n```", reply, re.DOTALL)``.

    Written as a scan because that regex is quadratic: every opener without a closer after it rescans the
    rest of the reply (seconds for 100 KB). Once one opener has no closer, no later opener has one either.
    """
    blocks: list[str] = []
    pos = 0
    while (start := reply.find(_FENCE_OPEN, pos)) != -1:
        body = start + len(_FENCE_OPEN)
        end = reply.find(_FENCE_CLOSE, body)
        if end == -1:
            break
        blocks.append(reply[body:end])
        pos = end + len(_FENCE_CLOSE)
    return blocks


class AgentBenchSyntax:
    """AgentBench v0.2: ``Think: ...`` then ``Act: bash`` + fenced block, ``Act: finish``, ``Act: answer(x)``."""

    name = AGENTBENCH

    def instruction(self) -> str:
        # The verbatim instruction is the demo's first turn up to its question.
        first = load_protocol().demo_turns[0]["content"]
        return first.split("\n\nNow, my problem is:")[0]

    def parse(self, reply: str) -> Action:
        acts = _ACT_RE.findall(reply)
        if not acts:
            raise InvalidAction(
                'no line starting with "Act:"; end the reply with "Act: bash" and a ```bash block, '
                '"Act: finish" or "Act: answer(...)"'
            )
        # AgentBench walks the Act lines from the last one back, skipping an answer without parentheses.
        for act in reversed(acts):
            word = act.strip().lower()
            if word.startswith("bash"):
                return Action("bash", "\n\n".join(_fenced_blocks(reply)))
            if word.startswith("finish"):
                return Action("finish")
            if word.startswith("answer"):
                rest = act.strip()[6:].strip()
                left, right = rest.find("("), rest.rfind(")")
                if left == -1 or right == -1 or right < left:
                    continue
                return Action("answer", rest[left + 1 : right])
        raise InvalidAction(
            f"the last Act line {acts[-1].strip()!r} names no valid action; use bash, finish or answer(...) "
            "with the answer between parentheses on the same line"
        )

    def render(self, action: Action, thought: str) -> str:
        head = f"Think: {_one_line(thought)}\n\n"
        if action.kind == "bash":
            if "\n```" in action.content:
                raise ValueError("a bash script containing a line starting with ``` cannot be fenced")
            return f"{head}Act: bash\n\n```bash\n{action.content}\n```"
        if action.kind == "finish":
            return f"{head}Act: finish"
        if "\n" in action.content or "\r" in action.content:
            raise ValueError("an AgentBench answer(...) must fit on one line")
        return f"{head}Act: answer({action.content})"


_JSON_ACTIONS: dict[ActionKind, str] = {
    "bash": 'to run a bash script: {"thought": "...", "action": "bash", "input": "<the script>"}',
    "answer": 'to give the answer to a question: {"thought": "...", "action": "answer", "input": "<the answer>"}',
    "finish": 'when the requested change is done: {"thought": "...", "action": "finish", "input": ""}',
}


class JsonSyntax:
    """The reply ends with one JSON object line with keys ``thought``, ``action`` and ``input``."""

    name = JSON_VARIANT

    def instruction(self) -> str:
        lines = "\n".join(f"- {desc}" for desc in _JSON_ACTIONS.values())
        return (
            "You operate a Linux (Ubuntu) shell for me. I describe a task; you solve it one step at a time. "
            "In each reply you may reason in plain words first, but the reply must end with exactly one line "
            'holding a JSON object with the keys "thought", "action" and "input". The action is one of:\n'
            f"{lines}\n\n"
            'Put multi-line scripts in the "input" string with \\n escapes. I run the script and show you '
            "its output; outputs that are too long are truncated, so prefer commands that print little. "
            "Never run interactive commands. One action per reply."
        )

    def parse(self, reply: str) -> Action:
        lines = [ln.strip() for ln in reply.strip().splitlines() if ln.strip()]
        candidates = [ln for ln in lines if ln.startswith("{")]
        if not candidates:
            raise InvalidAction(
                'no JSON object line; end the reply with a line like {"thought": "...", "action": "bash", '
                '"input": "ls"}'
            )
        try:
            obj = json.loads(candidates[-1])
        except json.JSONDecodeError as exc:
            raise InvalidAction(
                f"the last JSON line is not valid JSON ({exc.msg} at column {exc.colno})"
            ) from None
        except (ValueError, RecursionError) as exc:  # an integer over Python's digit limit; deep nesting
            raise InvalidAction(f"the last JSON line cannot be read ({_json_limit(exc)})") from None
        if not isinstance(obj, dict):
            raise InvalidAction("the last JSON line is not a JSON object")
        kind = obj.get("action")
        if not _is_action_kind(kind, _JSON_ACTIONS):
            raise InvalidAction(f'"action" must be one of {list(_JSON_ACTIONS)}, got {kind!r}')
        content = obj.get("input", "")
        if content is None:
            content = ""
        if not isinstance(content, str):
            raise InvalidAction(f'"input" must be a string, got {type(content).__name__}')
        if kind == "finish":
            return Action("finish")
        return Action(kind, content)

    def render(self, action: Action, thought: str) -> str:
        obj = {"thought": _one_line(thought), "action": action.kind, "input": action.content}
        return json.dumps(obj, ensure_ascii=False)


_REACT_ACTIONS: dict[ActionKind, str] = {
    "bash": "Action: bash[<a bash script>] runs the script and shows you its output",
    "answer": "Action: answer[<your answer>] gives the answer to a question and ends the task",
    "finish": "Action: finish[] says that the requested change is done and ends the task",
}
_REACT_RE = re.compile(r"^[ \t]*Action:[ \t]*", re.MULTILINE)


class ReactSyntax:
    """``Thought: ...`` then ``Action: name[argument]``; the last ``Action:`` line wins."""

    name = REACT_VARIANT

    def instruction(self) -> str:
        lines = "\n".join(f"- {desc}" for desc in _REACT_ACTIONS.values())
        return (
            "You are an agent working in a Linux (Ubuntu) terminal. Solve my task step by step. Every reply "
            'has two parts: a line "Thought: ..." with your reasoning, then a line "Action: ..." with one '
            "of these actions:\n"
            f"{lines}\n\n"
            "The argument goes between the square brackets and may span several lines. Long outputs are "
            "truncated, so write commands whose output is short. Do not run commands that wait for input."
        )

    def parse(self, reply: str) -> Action:
        heads = list(_REACT_RE.finditer(reply))
        if not heads:
            raise InvalidAction(
                'no line starting with "Action:"; end the reply with Action: bash[...], Action: answer[...] '
                "or Action: finish[]"
            )
        rest = reply[heads[-1].end() :]
        left, right = rest.find("["), rest.rfind("]")
        if left == -1 or right == -1 or right < left:
            raise InvalidAction(
                f"the last Action line {rest.splitlines()[0] if rest else ''!r} has no [argument]; "
                "write e.g. Action: bash[ls -1 /etc | wc -l]"
            )
        kind = rest[:left].strip().lower()
        if not _is_action_kind(kind, _REACT_ACTIONS):
            raise InvalidAction(
                f"unknown action {rest[:left].strip()!r}; use bash[...], answer[...] or finish[]"
            )
        if kind == "finish":
            return Action("finish")
        return Action(kind, rest[left + 1 : right])

    def render(self, action: Action, thought: str) -> str:
        return f"Thought: {_one_line(thought)}\nAction: {action.kind}[{action.content}]"


def _json_limit(exc: ValueError | RecursionError) -> str:
    """Why ``json.loads`` gave up on syntactically valid JSON: one of Python's limits, not a syntax error."""
    return "nested too deeply" if isinstance(exc, RecursionError) else str(exc)


def _one_line(text: str) -> str:
    return " ".join(text.split())


SYNTAXES: dict[str, ReplySyntax] = syntax_table((AgentBenchSyntax(), JsonSyntax(), ReactSyntax()))


def get_syntax(variant: str) -> Syntax:
    """The :class:`Syntax` of ``variant``, with a clear error for an unknown one."""
    return cast(Syntax, pick_syntax(SYNTAXES, variant, "os"))


def parse_reply(reply: str, variant: str = AGENTBENCH) -> Action:
    """Parse an agent's raw reply under ``variant``'s rules; raises :class:`InvalidAction`."""
    return cast(Action, parse_with(SYNTAXES, reply, variant, "os"))


def render_action(action: Action, thought: str, variant: str = AGENTBENCH) -> str:
    """Write ``action`` as a reply in ``variant``'s syntax (the inverse of :func:`parse_reply`)."""
    return get_syntax(variant).render(action, thought)


# The one-shot demo every non-AgentBench variant shows: the same exchange as AgentBench's, in its own syntax.
_DEMO_QUESTION = 'tell me how many files are in the directory "/etc"?'
_DEMO_STEPS: tuple[tuple[str, Action], ...] = (
    ("To count the files in /etc, I need to print all the files in it.", Action("bash", "ls /etc")),
    (
        "The output has been truncated because it is too long, so I need to count files by script directly.",
        Action("bash", "ls -1 /etc | wc -l"),
    ),
    ("Now I get the answer, it is 220.", Action("answer", "220")),
)


def prompt_messages(variant: str = AGENTBENCH) -> list[Message]:
    """The fixed conversation prefix (instruction + one-shot demo) of ``variant``; a fresh list each call."""
    p = load_protocol()
    if variant == AGENTBENCH:
        return [Message(role=t["role"], content=t["content"]) for t in p.demo_turns]
    syntax = get_syntax(variant)
    # Reuse the demo's observations verbatim, so that all variants see the same environment side.
    observations = [t["content"] for t in p.demo_turns[2::2]]
    messages = [
        Message(role="user", content=f"{syntax.instruction()}\n\nNow, my problem is:\n\n{_DEMO_QUESTION}")
    ]
    for i, (thought, action) in enumerate(_DEMO_STEPS):
        messages.append(Message(role="assistant", content=syntax.render(action, thought)))
        if i < len(observations):
            messages.append(Message(role="user", content=observations[i]))
    return messages
