"""The web-browsing protocol: prompts, the query turn, and the reply syntax of each prompt variant.

``agentbench`` is AgentBench v0.2's Mind2Web prompt as is (THUDM/AgentBench, branch v0.2,
``data/mind2web/prompt/llm_prompt_cot.json``, Apache-2.0; read from the data cache as
``web_browsing_cot.json`` of the ``agentbench-prompts`` data set, see :mod:`envs.upstream`): a 3-shot chat, replies parsed with
``Answer: ([A-F])``, ``Action: (CLICK|SELECT|TYPE)`` and ``Value: (.*)$``. ``json`` and ``react`` are this
project's own variants: written instructions plus the same three demonstration pages, answered in their
own syntax, so that a model trained across variants must read its prompt to know how to reply:

- ``json``: one line holding a JSON object,
  ``{"thought": "...", "choice": "C", "operation": "SELECT", "value": "Pickup"}``;
- ``react``: a ``Thought: ...`` line, then ``Action: choose[C] SELECT[Pickup]`` (``choose[D] CLICK``,
  ``choose[A]``).

Each variant is one ``Syntax`` object: its parser, its renderer and the description shown to the model are
built from the same constants, so they cannot drift apart. ``parse(render(a)) == a`` for every valid action.

Example::

    action = parse_reply("Thought: pick it.\\nAnswer: C.\\nAction: SELECT\\nValue: Pickup", "agentbench")
    action.choice, action.operation, action.value        # ('C', 'SELECT', 'Pickup')
    render_action(action, "react")                       # 'Thought: pick it.\\nAction: choose[C] SELECT[Pickup]'
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path
from typing import cast

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


def prompt_file() -> Path:
    """AgentBench's Mind2Web prompt file, verified in the data cache (fetched on demand)."""
    return data_file("agentbench-prompts", "web_browsing_cot.json")


OPERATIONS: tuple[str, ...] = ("CLICK", "SELECT", "TYPE")
NONE_CHOICE = "A"
#: Letters of the choices: A is always "None of the above", B-F are up to five candidates.
CHOICE_LETTERS = "ABCDEF"
GROUP_SIZE = len(CHOICE_LETTERS) - 1
#: Mind2Web shows the last five previous actions.
PREVIOUS_ACTIONS_SHOWN = 5

JSON, REACT = "json", "react"
PROMPT_VARIANTS: tuple[str, ...] = (AGENTBENCH, JSON, REACT)


@dataclass(frozen=True)
class WebAction:
    """A parsed reply: the chosen letter, and for B-F the operation and its value.

    ``value`` is "" for CLICK in the ``react`` and ``json`` syntaxes; AgentBench's own parser reads a
    ``Value:`` line after CLICK too (and the F1 metric then penalizes it), so the type allows it.
    """

    choice: str
    operation: str | None = None
    value: str = ""
    thought: str = ""

    def __post_init__(self) -> None:
        if self.choice not in CHOICE_LETTERS:
            raise ValueError(f"choice must be one of {list(CHOICE_LETTERS)}, got {self.choice!r}")
        if self.choice == NONE_CHOICE:
            if self.operation is not None or self.value:
                raise ValueError("choice A (None of the above) takes no operation and no value")
        elif self.operation not in OPERATIONS:
            raise ValueError(f"operation must be one of {list(OPERATIONS)} for choice {self.choice}")
        if self.operation in ("SELECT", "TYPE") and not self.value.strip():
            raise ValueError(f"{self.operation} needs a non-empty value")
        for name, text in (("value", self.value), ("thought", self.thought)):
            if "\n" in text or text != text.strip():
                raise ValueError(f"{name} must be one line without surrounding spaces, got {text!r}")


@dataclass(frozen=True)
class Syntax:
    """One variant's reply syntax: how replies are read and written, and how it is explained."""

    name: str
    instructions: str  # "" when the demonstrations alone teach the syntax (AgentBench)
    parser: Callable[[str], WebAction]
    writer: Callable[[WebAction], str]

    def parse(self, reply: str) -> WebAction:
        return self.parser(reply)

    def render(self, action: WebAction, thought: str = "") -> str:
        """The reply that writes ``action``; a non-empty ``thought`` replaces the action's own."""
        return self.writer(replace(action, thought=" ".join(thought.split())) if thought else action)


def _build(choice: str, operation: str | None, value: str, thought: str) -> WebAction:
    try:
        return WebAction(choice, operation, value, thought)
    except ValueError as exc:
        raise InvalidAction(str(exc)) from None


# --- agentbench: AgentBench's regexes. "Answer: Fine" must not read as F, hence the look-ahead. ---------------
_AB_ANSWER = re.compile(r"Answer: ([A-F])(?![A-Za-z0-9])")
_AB_ACTION = re.compile(r"Action: (CLICK|SELECT|TYPE)\b")
_AB_VALUE = re.compile(r"Value: (.*)$", re.MULTILINE)
_THOUGHT = re.compile(r"^Thought:[ \t]*(.*)$", re.MULTILINE)


def _thought(reply: str) -> str:
    match = _THOUGHT.search(reply)
    return match.group(1).strip() if match else ""


def _parse_agentbench(reply: str) -> WebAction:
    answer = _AB_ANSWER.search(reply)
    if answer is None:
        raise InvalidAction("no 'Answer: <letter A-F>' line; reply as the examples do, e.g. 'Answer: C.'")
    choice = answer.group(1)
    if choice == NONE_CHOICE:
        return _build(choice, None, "", _thought(reply))
    action = _AB_ACTION.search(reply)
    if action is None:
        raise InvalidAction(f"Answer: {choice} needs an 'Action: CLICK|SELECT|TYPE' line")
    value = _AB_VALUE.search(reply)
    return _build(choice, action.group(1), value.group(1).strip() if value else "", _thought(reply))


def _render_agentbench(action: WebAction) -> str:
    lines = [f"Thought: {action.thought}"] if action.thought else []
    lines.append(f"Answer: {action.choice}.")
    if action.operation is not None:
        lines.append(f"Action: {action.operation}")
        if action.value:
            lines.append(f"Value: {action.value}")
    return "\n".join(lines)


# --- json: exactly one line holding one JSON object with these keys. ----------------------------------------
_JSON_KEYS = ("thought", "choice", "operation", "value")
_JSON_EXAMPLE = WebAction("C", "SELECT", "Pickup", "I need to select pickup restaurant first.")


def _parse_json(reply: str) -> WebAction:
    lines = [line.strip() for line in reply.strip().splitlines() if line.strip()]
    objects = [line for line in lines if line.startswith("{")]
    if len(lines) != 1 or len(objects) != 1:
        raise InvalidAction(
            "reply must be exactly one line holding one JSON object, e.g. " + _render_json(_JSON_EXAMPLE)
        )
    try:
        data = json.loads(objects[0])
    except json.JSONDecodeError as exc:
        raise InvalidAction(f"reply is not valid JSON: {exc.msg} at column {exc.colno}") from None
    except (ValueError, RecursionError) as exc:  # an integer over Python's digit limit; deep nesting
        why = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
        raise InvalidAction(f"reply cannot be read as JSON: {why}") from None
    if not isinstance(data, dict):
        raise InvalidAction("reply must be a JSON object")
    unknown = sorted(set(data) - set(_JSON_KEYS))
    if unknown:
        raise InvalidAction(f"unknown keys {unknown}; use only {list(_JSON_KEYS)}")
    choice = data.get("choice")
    operation = data.get("operation")
    value = data.get("value", "")
    thought = data.get("thought", "")
    if not isinstance(choice, str):
        raise InvalidAction('"choice" must be one letter A-F')
    if operation is not None and not isinstance(operation, str):
        raise InvalidAction('"operation" must be "CLICK", "SELECT", "TYPE" or null')
    if not isinstance(value, str) or not isinstance(thought, str):
        raise InvalidAction('"value" and "thought" must be strings')
    if choice != NONE_CHOICE and operation is None:
        raise InvalidAction(f'choice {choice} needs "operation": one of {list(OPERATIONS)}')
    if operation == "CLICK" and value:
        raise InvalidAction('CLICK takes no value: give "value": ""')
    return _build(choice, operation, value, thought)


def _render_json(action: WebAction) -> str:
    data = {
        "thought": action.thought,
        "choice": action.choice,
        "operation": action.operation,
        "value": action.value,
    }
    return json.dumps(data, ensure_ascii=False)


# --- react: "Thought: ..." then one "Action: choose[X] OP[value]" line. --------------------------------------
_REACT_ACTION = re.compile(
    r"^Action:[ \t]*choose\[([A-F])\](?:[ \t]+(CLICK|SELECT|TYPE)(?:\[(.*)\])?)?[ \t]*$"
)


def _parse_react(reply: str) -> WebAction:
    action_lines = [line.strip() for line in reply.splitlines() if line.strip().startswith("Action:")]
    if len(action_lines) != 1:
        raise InvalidAction(
            f"reply needs exactly one 'Action: choose[<letter>] ...' line, found {len(action_lines)}; "
            "e.g. 'Action: choose[C] SELECT[Pickup]'"
        )
    match = _REACT_ACTION.match(action_lines[0])
    if match is None:
        raise InvalidAction(
            f"cannot read {action_lines[0]!r}; write 'Action: choose[A]', 'Action: choose[D] CLICK' "
            "or 'Action: choose[C] SELECT[Pickup]' / 'TYPE[text]'"
        )
    choice, operation, value = match.group(1), match.group(2), match.group(3)
    if choice == NONE_CHOICE and operation is not None:
        raise InvalidAction("choose[A] (None of the above) takes no operation")
    if choice != NONE_CHOICE and operation is None:
        raise InvalidAction(f"choose[{choice}] needs an operation: CLICK, SELECT[option] or TYPE[text]")
    if operation == "CLICK" and value is not None:
        raise InvalidAction("CLICK takes no value: write 'CLICK' without brackets")
    if operation in ("SELECT", "TYPE") and value is None:
        raise InvalidAction(f"{operation} needs its value in brackets, e.g. {operation}[...]")
    return _build(choice, operation, (value or "").strip(), _thought(reply))


def _render_react(action: WebAction) -> str:
    act = f"Action: choose[{action.choice}]"
    if action.operation == "CLICK":
        act += " CLICK"
    elif action.operation is not None:
        act += f" {action.operation}[{action.value}]"
    return f"Thought: {action.thought}\n{act}" if action.thought else act


_TASK_INTRO = (
    "You are a web agent. Each of my messages shows a web page as simplified HTML, a task, the actions "
    "already taken, and a list of choices: A is 'None of the above', B-F are elements of the page. Decide the "
    "next action: the element to act on and the operation, one of CLICK, SELECT (choose an option of a "
    "select element) or TYPE (enter text). If no choice is the right next element, choose A."
)
_JSON_INSTRUCTIONS = (
    f"{_TASK_INTRO}\n\nReply with exactly one line holding a JSON object with the keys "
    '"thought" (one short sentence of reasoning), "choice" (a letter A-F), "operation" ("CLICK", "SELECT", '
    '"TYPE", or null when the choice is A) and "value" (the option to select or the text to type; "" for CLICK '
    f"and for A). For example:\n{_render_json(_JSON_EXAMPLE)}"
)
_REACT_INSTRUCTIONS = (
    f"{_TASK_INTRO}\n\nReply in two lines. First 'Thought: ' and one short sentence of reasoning. Then the "
    "action: 'Action: choose[A]' when no choice fits; 'Action: choose[<letter>] CLICK' to click; "
    "'Action: choose[<letter>] SELECT[<option text>]' to select an option; 'Action: choose[<letter>] "
    "TYPE[<text>]' to type. For example:\n"
    + _render_react(WebAction("C", "SELECT", "Pickup", "I need to select pickup restaurant first."))
)

SYNTAXES: dict[str, ReplySyntax] = syntax_table(
    (
        Syntax(AGENTBENCH, "", _parse_agentbench, _render_agentbench),
        Syntax(JSON, _JSON_INSTRUCTIONS, _parse_json, _render_json),
        Syntax(REACT, _REACT_INSTRUCTIONS, _parse_react, _render_react),
    )
)


def syntax(variant: str) -> Syntax:
    """The syntax of ``variant``, with a clear error for an unknown one."""
    return cast(Syntax, pick_syntax(SYNTAXES, variant, "web"))


def parse_reply(reply: str, variant: str = AGENTBENCH) -> WebAction:
    """Read a reply with the variant's rules; ``InvalidAction`` says what is wrong."""
    return cast(WebAction, parse_with(SYNTAXES, reply, variant, "web"))


def render_action(action: WebAction, variant: str = AGENTBENCH) -> str:
    """Write ``action`` as a reply in the variant's syntax (the inverse of ``parse_reply``)."""
    return syntax(variant).render(action)


def format_query(html: str, task: str, previous_actions: Sequence[str], choices: Sequence[str]) -> str:
    """The query turn, laid out exactly as AgentBench's demonstrations (Mind2Web's multiple-choice input).

    ``choices`` are the candidates' texts in order B, C, ...; A ("None of the above") is added here.
    """
    if not 1 <= len(choices) <= GROUP_SIZE:
        raise ValueError(f"a query shows 1 to {GROUP_SIZE} candidates, got {len(choices)}")
    shown = list(previous_actions)[-PREVIOUS_ACTIONS_SHOWN:]
    lines = [
        "Based on the HTML webpage above, try to complete the following task:",
        f"Task: {task}",
        "Previous actions:",
        *(shown or ["None"]),
        "What should be the next action? Please select from the following choices "
        "(If the correct action is not in the page above, please select A. 'None of the above'):",
        "",
        "A. None of the above",
        *(f"{CHOICE_LETTERS[i + 1]}. {text}" for i, text in enumerate(choices)),
    ]
    return f"'''\n{html}\n'''\n\n" + "\n".join(lines)


@cache
def _agentbench_turns() -> tuple[tuple[str, str], ...]:
    path = prompt_file()
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise RuntimeError(f"cannot read the AgentBench web prompt {path}: {exc}") from exc
    roles = {"user": "user", "agent": "assistant"}
    turns = tuple((roles[m["role"]], m["content"]) for m in raw)
    # The file ends with an empty user turn: the slot of the query, which the env's observation fills.
    if turns and turns[-1] == ("user", ""):
        turns = turns[:-1]
    return turns


def prompt_messages(variant: str = AGENTBENCH) -> list[Message]:
    """The fixed conversation prefix of ``variant``; the env's first observation follows it."""
    spec = syntax(variant)
    turns = _agentbench_turns()
    if variant == AGENTBENCH:
        return [{"role": role, "content": content} for role, content in turns]
    messages: list[Message] = [
        {"role": "user", "content": spec.instructions},
        {"role": "assistant", "content": "OK."},
    ]
    for role, content in turns:
        if role == "assistant":
            # Same demonstrations, answered in this variant's syntax.
            content = spec.render(_parse_agentbench(content))
        messages.append({"role": role, "content": content})
    return messages
