"""The web-shop protocol: prompts, the observation template and reply parsers, per prompt variant.

The ``agentbench`` variant is AgentBench v0.2's WebShop protocol (THUDM/AgentBench, branch v0.2,
``src/server/tasks/webshop/__init__.py``, Apache-2.0), loaded verbatim from the data cache
(``webshop.json`` of the ``agentbench-prompts`` data set, see :mod:`envs.upstream`): the instruction, "Ok.",
the 4-step one-shot demo, the observation template ``Observation:\\n{observation}\\n\\nAvailable Actions:\\n{available_actions}`` and the
10-round limit.
Its parser is AgentBench's regex ``[Aa]ction: *\\n* *((search|click)\\[.+?])``, first match wins; the argument
is what lies between the brackets (so it cannot hold "]").

Two more variants exist so that a model trained across them genuinely depends on its prompt. They share the
observation template and the round limit, and each has its own instruction and one-shot demo:

- ``json``: the last line of the reply that starts with "{" must be one JSON object
  ``{"thought": "...", "action": "search" | "click", "argument": "..."}`` (``thought`` optional, no other
  keys);
- ``react``: ``Thought: ...`` then, on its own line, ``Act: Search("<keywords>")`` or
  ``Act: Click("<value>")``; the last line starting ``Act:`` wins and the quoted text is a JSON string
  (``\\"`` and ``\\\\`` escapes).

A reply in another variant's syntax is invalid. For each variant one :class:`Syntax` object holds the parser
and the renderer, so that ``parse_reply(render_action(a, thought, v), v) == a`` for every renderable action.

Example::

    from envs.web_shop.protocol import Action, parse_reply, render_action

    reply = render_action(Action("click", "Buy Now"), "I think I should buy it.", "react")
    assert parse_reply(reply, "react") == Action("click", "Buy Now")
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import ClassVar, Literal, Protocol, cast

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
    """AgentBench's WebShop prompt file, verified in the data cache (fetched on demand)."""
    return data_file("agentbench-prompts", "webshop.json")


JSON_VARIANT = "json"
REACT_VARIANT = "react"
VARIANTS: tuple[str, ...] = (AGENTBENCH, JSON_VARIANT, REACT_VARIANT)

ActionKind = Literal["search", "click"]
ACTION_KINDS: tuple[str, ...] = ("search", "click")


@dataclass(frozen=True)
class Action:
    """A parsed agent action: ``search`` with keywords, or ``click`` on a value of the page's clickables."""

    kind: ActionKind
    argument: str

    def __post_init__(self) -> None:
        if self.kind not in ACTION_KINDS:
            raise ValueError(f"unknown action kind {self.kind!r}; choose one of {list(ACTION_KINDS)}")
        if not self.argument.strip():
            raise ValueError(f"a {self.kind} action needs a non-empty argument")


@dataclass(frozen=True)
class ProtocolData:
    """AgentBench's WebShop protocol as loaded from the JSON data file."""

    source: str
    turns: tuple[Message, ...]
    observation_template: str
    action_regex: str
    round_limit: int


@cache
def protocol_data() -> ProtocolData:
    """Load (once) AgentBench's WebShop prompt and protocol facts from the data file."""
    raw = json.loads(protocol_file().read_text(encoding="utf-8"))
    turns = tuple(Message(role=t["role"], content=t["content"]) for t in raw["turns"])
    return ProtocolData(
        source=raw["source"],
        turns=turns,
        observation_template=raw["observation_template"],
        action_regex=raw["action_regex"],
        round_limit=int(raw["round_limit"]),
    )


def render_observation(page_text: str, has_search_bar: bool, clickables: Sequence[str]) -> str:
    """One observation turn: the page in quotes and the available actions as JSON, as in AgentBench."""
    actions = json.dumps(
        {"has_search_bar": has_search_bar, "clickables": list(clickables)}, ensure_ascii=False
    )
    return protocol_data().observation_template.format(
        observation=f'"{page_text}"', available_actions=actions
    )


def observation_clickables(observation: str) -> list[str]:
    """The ``clickables`` of an observation that ``render_observation`` wrote ([] when it lists none)."""
    start = observation.rfind('{"has_search_bar"')
    if start < 0:
        return []
    try:
        return list(json.loads(observation[start:].strip()).get("clickables", []))
    except ValueError:
        return []


def is_first_results_page(observation: str) -> bool:
    """Whether an observation shows the first page of a search's results."""
    return "Page 1 (Total results" in observation


class Syntax(Protocol):
    """How one variant writes actions: the prompt's instruction and demo, the parser and the renderer."""

    name: str

    def instruction(self) -> str: ...

    def parse(self, reply: str) -> Action: ...

    def render(self, action: Action, thought: str) -> str: ...


#: AgentBench's action regex, which ``first_agentbench_action`` implements in linear time.
AGENTBENCH_ACTION_REGEX = r"[Aa]ction: *\n* *((search|click)\[.+?])"
_AB_ACTION_HEAD = re.compile(r"[Aa]ction: *\n* *(search|click)\[")


def first_agentbench_action(reply: str) -> tuple[str, str] | None:
    """``(group 1, group 2)`` of the first match of :data:`AGENTBENCH_ACTION_REGEX` in ``reply``, or None.

    The regex itself is quadratic: at every ``action: search[`` it scans the rest of the line for "]", so a
    long line of them takes seconds. Here each line is scanned once: ``.+?]`` means the first "]" after at
    least one character, on the same line, so when one head of a line finds none, no later head of it can.
    Heads never overlap (one holds no "[Aa]ction"), so ``finditer`` sees every place a match can start.
    """
    dead_until = -1  # heads that end before this index sit on a line known to hold no closing "]"
    for head in _AB_ACTION_HEAD.finditer(reply):
        body = head.end()
        if body < dead_until:
            continue
        line_end = reply.find("\n", body)
        line_end = len(reply) if line_end == -1 else line_end
        close = reply.find("]", body + 1, line_end)
        if close != -1:
            return reply[head.start(1) : close + 1], head.group(1)
        dead_until = line_end
    return None


class AgentBenchSyntax:
    """``Thought:\\n...\\n\\nAction:\\nclick[value]``, parsed with AgentBench's regex."""

    name = AGENTBENCH

    def __init__(self) -> None:
        self._regex = re.compile(protocol_data().action_regex)

    def instruction(self) -> str:
        return protocol_data().turns[0]["content"]

    def _search(self, reply: str) -> tuple[str, str] | None:
        if self._regex.pattern == AGENTBENCH_ACTION_REGEX:
            return first_agentbench_action(reply)
        match = self._regex.search(reply)  # a data file with another regex: that regex, as it is
        return None if match is None else (match.group(1), match.group(2))

    def parse(self, reply: str) -> Action:
        found = self._search(reply)
        if found is None:
            raise InvalidAction(
                "no action found: the reply must contain 'Action:' then search[keywords] or click[value]"
            )
        text, kind = found
        argument = text[len(kind) + 1 : -1]
        if not argument.strip():
            raise InvalidAction(f"empty argument in {text!r}")
        return Action(kind, argument)  # type: ignore[arg-type]

    def render(self, action: Action, thought: str) -> str:
        if "]" in action.argument or "\n" in action.argument:
            raise ValueError(f"argument {action.argument!r} cannot be written as {action.kind}[...]")
        return f"Thought:\n{thought}\n\nAction:\n{action.kind}[{action.argument}]"


class JsonSyntax:
    """One JSON object line: ``{"thought": "...", "action": "search"|"click", "argument": "..."}``."""

    name = JSON_VARIANT
    _KEYS = frozenset({"thought", "action", "argument"})

    def instruction(self) -> str:
        return (
            "You are a shopping assistant working in an online store for a customer.\n"
            "Each turn you get the current page of the store and the actions it allows: has_search_bar says "
            "whether you can search, clickables lists the buttons you can click.\n"
            "Answer every turn with exactly one line holding one JSON object and nothing else:\n"
            '{"thought": "<a short reason>", "action": "search", "argument": "<keywords>"}\n'
            '{"thought": "<a short reason>", "action": "click", "argument": "<one of the clickables>"}\n'
            'Use "search" only when has_search_bar is true. The argument of "click" must be copied exactly '
            "from clickables.\n"
            "Find the product that fits the customer's instruction, choose the options it asks for, then "
            'click "Buy Now". A reply that does not follow this format does nothing and wastes a turn.'
        )

    def parse(self, reply: str) -> Action:
        lines = [line.strip() for line in reply.splitlines() if line.strip().startswith("{")]
        if not lines:
            raise InvalidAction(
                'no JSON action found: reply with one line {"thought": ..., "action": ..., "argument": ...}'
            )
        try:
            obj = json.loads(lines[-1])
        except json.JSONDecodeError as err:
            raise InvalidAction(
                f"the action line is not valid JSON: {err.msg} at column {err.colno}"
            ) from None
        except (ValueError, RecursionError) as err:  # an integer over Python's digit limit; deep nesting
            why = "nested too deeply" if isinstance(err, RecursionError) else str(err)
            raise InvalidAction(f"the action line cannot be read as JSON: {why}") from None
        if not isinstance(obj, dict):
            raise InvalidAction("the action line must be a JSON object")
        extra = set(obj) - self._KEYS
        if extra:
            raise InvalidAction(f"unexpected keys {sorted(extra)}; allowed: thought, action, argument")
        kind, argument = obj.get("action"), obj.get("argument")
        if kind not in ACTION_KINDS:
            raise InvalidAction(f'"action" must be "search" or "click", got {kind!r}')
        if not isinstance(argument, str) or not argument.strip():
            raise InvalidAction('"argument" must be a non-empty string')
        if "thought" in obj and not isinstance(obj["thought"], str):
            raise InvalidAction('"thought" must be a string')
        return Action(kind, argument)

    def render(self, action: Action, thought: str) -> str:
        return json.dumps(
            {"thought": thought, "action": action.kind, "argument": action.argument}, ensure_ascii=False
        )


class ReactSyntax:
    """``Thought: ...`` then ``Act: Search("...")`` or ``Act: Click("...")`` (JSON string in the quotes)."""

    name = REACT_VARIANT
    _ACT_RE = re.compile(r'^Act:\s*(Search|Click)\((".*")\)\s*$')
    _NAMES: ClassVar[dict[str, str]] = {"search": "Search", "click": "Click"}

    def instruction(self) -> str:
        return (
            "You shop on a website on behalf of a user, one step at a time.\n"
            "After each step you see the page (fields separated by [SEP]) and the available actions.\n"
            "Write two lines every time:\n"
            "Thought: <what you conclude from the page>\n"
            'Act: Search("<keywords>")   - only when has_search_bar is true\n'
            'Act: Click("<button>")      - the button text exactly as listed in clickables\n'
            'The text between the quotes is a JSON string: write \\" for a quote inside it.\n'
            "Search with the words that describe the product, open the best match, pick each option the user "
            'asks for, and finish with Act: Click("Buy Now"). Anything else is ignored and costs a step.'
        )

    def parse(self, reply: str) -> Action:
        acts = [line.strip() for line in reply.splitlines() if line.strip().startswith("Act:")]
        if not acts:
            raise InvalidAction('no action found: end with a line Act: Search("...") or Act: Click("...")')
        match = self._ACT_RE.match(acts[-1])
        if match is None:
            raise InvalidAction(
                f'malformed action line {acts[-1][:80]!r}: expected Act: Search("...") or Act: Click("...")'
            )
        try:
            argument = json.loads(match.group(2))
        except json.JSONDecodeError:
            raise InvalidAction(
                f"the quoted argument in {acts[-1][:80]!r} is not a valid JSON string"
            ) from None
        if not isinstance(argument, str) or not argument.strip():
            raise InvalidAction("the quoted argument is empty")
        return Action(match.group(1).lower(), argument)  # type: ignore[arg-type]

    def render(self, action: Action, thought: str) -> str:
        thought_line = " ".join(thought.split())
        quoted = json.dumps(action.argument, ensure_ascii=False)
        return f"Thought: {thought_line}\nAct: {self._NAMES[action.kind]}({quoted})"


SYNTAXES: dict[str, ReplySyntax] = syntax_table((AgentBenchSyntax(), JsonSyntax(), ReactSyntax()))


def syntax(variant: str) -> Syntax:
    """The syntax object of ``variant``, with a clear error for an unknown one."""
    return cast(Syntax, pick_syntax(SYNTAXES, variant, "shop"))


def parse_reply(reply: str, variant: str = AGENTBENCH) -> Action:
    """The action in ``reply`` under ``variant``'s rules; raises :class:`InvalidAction` with the reason."""
    return cast(Action, parse_with(SYNTAXES, reply, variant, "shop"))


def render_action(action: Action, thought: str, variant: str = AGENTBENCH) -> str:
    """The reply text that writes ``action`` (with ``thought``) in ``variant``'s syntax."""
    return syntax(variant).render(action, thought)


# ---------------------------------------------------------------------------------------------- demos
# Hand-written one-shot episodes for the json and react variants, in the env's own page format. Each step is
# (page text, has_search_bar, clickables, thought, action).

_JSON_DEMO_INSTR = (
    "i am looking for a gluten free dark chocolate bar from cocoa ridge in sea salt flavor, and price lower "
    "than 20.00 dollars"
)
# The item page the demo stays on for two steps (an option is selected, then Buy Now is clicked): page
# text, search bar, clickables.
_DEMO_ITEM_PAGE: tuple[str, bool, tuple[str, ...]] = (
    f"Instruction: [SEP] {_JSON_DEMO_INSTR} [SEP] Back to Search [SEP] < Prev [SEP] flavor [SEP] caramel "
    "[SEP] sea salt [SEP] mint [SEP] Cocoa Ridge Gluten Free Dark Chocolate Bar, 3.5 Oz [SEP] "
    "Price: $12.49 [SEP] Rating: 4.4 [SEP] Description [SEP] Features [SEP] Reviews [SEP] Buy Now",
    False,
    (
        "Back to Search",
        "< Prev",
        "caramel",
        "sea salt",
        "mint",
        "Description",
        "Features",
        "Reviews",
        "Buy Now",
    ),
)
_JSON_DEMO: tuple[tuple[str, bool, tuple[str, ...], str, Action], ...] = (
    (
        f"WebShop [SEP] Instruction: [SEP] {_JSON_DEMO_INSTR} [SEP] Search",
        True,
        ("Search",),
        "The search bar is available, so I search for the brand and the product.",
        Action("search", "cocoa ridge gluten free dark chocolate bar"),
    ),
    (
        f"Instruction: [SEP] {_JSON_DEMO_INSTR} [SEP] Back to Search [SEP] Page 1 (Total results: 4) [SEP] "
        "B0K3P9QX2M [SEP] Cocoa Ridge Gluten Free Dark Chocolate Bar, 3.5 Oz [SEP] $12.49 [SEP] "
        "B0Z81TQ0RA [SEP] Cocoa Ridge Sugar Free Dark Chocolate Bar, Pack of 4 [SEP] $17.99 [SEP] "
        "B0M2V6CC4E [SEP] Cocoa Ridge Usda Organic Dark Chocolate Bar, 12 Bars [SEP] $24.95 [SEP] "
        "B05JH7W1LD [SEP] Golden Acre Gluten Free Protein Bar, 12 Bars [SEP] $19.49",
        False,
        ("Back to Search", "B0K3P9QX2M", "B0Z81TQ0RA", "B0M2V6CC4E", "B05JH7W1LD"),
        "B0K3P9QX2M is gluten free, made by cocoa ridge and costs less than 20 dollars.",
        Action("click", "B0K3P9QX2M"),
    ),
    (
        *_DEMO_ITEM_PAGE,
        "The instruction asks for the sea salt flavor, so I select it.",
        Action("click", "sea salt"),
    ),
    (
        *_DEMO_ITEM_PAGE,
        "Every requirement is met, so I buy it.",
        Action("click", "Buy Now"),
    ),
)

_REACT_DEMO_INSTR = (
    "i need a machine washable crew neck t-shirt from northloom in navy and in size large, and price lower "
    "than 30.00 dollars"
)
_REACT_ITEM = (
    f"Instruction: [SEP] {_REACT_DEMO_INSTR} [SEP] Back to Search [SEP] < Prev [SEP] color [SEP] black [SEP] "
    "navy [SEP] grey [SEP] size [SEP] medium [SEP] large [SEP] x-large [SEP] Northloom Machine Washable Crew "
    "Neck T-shirt, Cotton [SEP] Price: $21.99 [SEP] Rating: 4.1 [SEP] Description [SEP] Features [SEP] "
    "Reviews [SEP] Buy Now"
)
_REACT_ITEM_CLICKABLES = (
    "Back to Search", "< Prev", "black", "navy", "grey", "medium", "large", "x-large", "Description",
    "Features", "Reviews", "Buy Now",
)  # fmt: skip
_REACT_DEMO: tuple[tuple[str, bool, tuple[str, ...], str, Action], ...] = (
    (
        f"WebShop [SEP] Instruction: [SEP] {_REACT_DEMO_INSTR} [SEP] Search",
        True,
        ("Search",),
        "I start by searching for the shirt by its brand and features.",
        Action("search", "northloom machine washable crew neck t-shirt"),
    ),
    (
        f"Instruction: [SEP] {_REACT_DEMO_INSTR} [SEP] Back to Search [SEP] Page 1 (Total results: 3) [SEP] "
        "B0T6Y1NW8C [SEP] Northloom Slim Fit Crew Neck T-shirt, Pack of 3 [SEP] $27.49 [SEP] "
        "B0Q4HZ5E0J [SEP] Northloom Machine Washable Crew Neck T-shirt, Cotton [SEP] $21.99 [SEP] "
        "B0D9LW2R7K [SEP] Velra Machine Washable Hoodie Sweatshirt, Fleece [SEP] $34.00",
        False,
        ("Back to Search", "B0T6Y1NW8C", "B0Q4HZ5E0J", "B0D9LW2R7K"),
        "B0Q4HZ5E0J is the machine washable northloom t-shirt and is under 30 dollars.",
        Action("click", "B0Q4HZ5E0J"),
    ),
    (
        _REACT_ITEM,
        False,
        _REACT_ITEM_CLICKABLES,
        "The user wants navy, so I pick that color first.",
        Action("click", "navy"),
    ),
    (
        _REACT_ITEM,
        False,
        _REACT_ITEM_CLICKABLES,
        "Now the size: large.",
        Action("click", "large"),
    ),
    (
        _REACT_ITEM,
        False,
        _REACT_ITEM_CLICKABLES,
        "Color and size are chosen and the price fits, so I buy it.",
        Action("click", "Buy Now"),
    ),
)


def prompt_messages(variant: str = AGENTBENCH) -> list[Message]:
    """The fixed conversation prefix of ``variant``: instruction, "Ok.", then a one-shot demo episode."""
    if variant == AGENTBENCH:
        return [Message(role=t["role"], content=t["content"]) for t in protocol_data().turns]
    demo = {JSON_VARIANT: _JSON_DEMO, REACT_VARIANT: _REACT_DEMO}.get(variant)
    if demo is None:
        raise ValueError(f"unknown prompt variant {variant!r}; choose one of {list(VARIANTS)}")
    rules = syntax(variant)
    messages = [Message(role="user", content=rules.instruction()), Message(role="assistant", content="Ok.")]
    for page, has_search_bar, clickables, thought, action in demo:
        messages.append(Message(role="user", content=render_observation(page, has_search_bar, clickables)))
        messages.append(Message(role="assistant", content=rules.render(action, thought)))
    return messages
