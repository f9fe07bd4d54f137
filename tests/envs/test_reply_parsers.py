"""Every env's reply parser, under every prompt variant, on hostile replies: an invalid action, never a crash or
a stall. The env turns the parser's ``ValueError`` subclass into an invalid action; anything else would end the
episode as an error, and a parser that is quadratic in the reply stalls an episode on one long reply."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

import pytest

from envs.os_shell import protocol as os_protocol
from envs.web_browse import protocol as web_protocol
from envs.web_shop import protocol as shop_protocol

PARSERS: list[tuple[str, Callable[[Any, str], Any], type[ValueError], tuple[str, ...]]] = [
    ("os", os_protocol.parse_reply, os_protocol.InvalidAction, os_protocol.VARIANTS),
    ("web", web_protocol.parse_reply, web_protocol.InvalidAction, web_protocol.PROMPT_VARIANTS),
    ("shop", shop_protocol.parse_reply, shop_protocol.InvalidAction, shop_protocol.VARIANTS),
]
CASES = [(env, parse, error, variant) for env, parse, error, variants in PARSERS for variant in variants]
IDS = [f"{env}-{variant}" for env, _, _, variant in CASES]

SIZE = 100_000


def _repeat(unit: str) -> str:
    return (unit * (SIZE // len(unit) + 1))[:SIZE]


HOSTILE = {
    "deep-array": '{"action": ' + "[" * SIZE,
    "deep-array-closed": '{"action": ' + "[" * 50_000 + "]" * 50_000 + "}",
    "deep-object": '{"a": ' * 20_000 + "1" + "}" * 20_000,
    "deep-in-value": '{"thought": "x", "action": "click", "argument": ' + "[" * 30_000 + "]" * 30_000 + "}",
    "huge-int": '{"action": ' + "9" * 5000 + "}",
    "huge-int-argument": '{"thought": "x", "action": "bash", "input": ' + "1" * 10_000 + "}",
    "unhashable-action": '{"action": ["bash"], "input": "ls"}',
    "object-action": '{"action": {"bash": 1}, "input": "ls", "choice": {}}',
}
# Replies shaped to make a backtracking regex rescan the rest of the reply at every step.
LONG = {
    "fence-openers": "Act: bash\n" + _repeat("```bash\nx"),
    "action-search-heads": _repeat("Action: search["),
    "action-click-heads": _repeat("action: click["),
    "act-lines": _repeat("Act: answer(\n"),
    "react-brackets": "Action: choose[B] TYPE[" + _repeat("]["),
    "quote-runs": 'Act: Search("' + _repeat('")'),
    "blank": _repeat(" \n"),
    "json-lines": _repeat("{\n"),
}


@pytest.mark.parametrize(("env", "parse", "error", "variant"), CASES, ids=IDS)
@pytest.mark.parametrize("reply", [None, 42, b"Act: finish", ["Act: finish"]], ids=repr)
def test_a_non_string_reply_is_an_invalid_action(
    env: str, parse: Callable[[Any, str], Any], error: type[ValueError], variant: str, reply: Any
) -> None:
    with pytest.raises(error, match="must be a string"):
        parse(reply, variant)


@pytest.mark.parametrize(("env", "parse", "error", "variant"), CASES, ids=IDS)
@pytest.mark.parametrize("name", list(HOSTILE))
def test_deep_nesting_and_huge_integers_are_invalid_actions(
    env: str, parse: Callable[[Any, str], Any], error: type[ValueError], variant: str, name: str
) -> None:
    with pytest.raises(error):
        parse(HOSTILE[name], variant)


@pytest.mark.parametrize(("env", "parse", "error", "variant"), CASES, ids=IDS)
@pytest.mark.parametrize("name", list(LONG))
def test_a_100_kb_reply_parses_in_milliseconds(
    env: str, parse: Callable[[Any, str], Any], error: type[ValueError], variant: str, name: str
) -> None:
    started = time.perf_counter()
    try:
        parse(LONG[name], variant)
    except error:
        pass
    elapsed = time.perf_counter() - started
    assert elapsed < 0.25, f"{elapsed:.2f} s for {len(LONG[name])} characters"


def _token_soup(tokens: list[str], count: int, seed: int) -> list[str]:
    import random

    rng = random.Random(seed)
    return ["".join(rng.choice(tokens) for _ in range(rng.randrange(1, 20))) for _ in range(count)]


def test_shop_action_scan_matches_agentbench_regex() -> None:
    regex = re.compile(shop_protocol.AGENTBENCH_ACTION_REGEX)
    assert regex.pattern == shop_protocol.protocol_data().action_regex
    tokens = ["Action:", "action:", "Action: ", " ", "\n", "search[", "click[", "]", "[", "x", "Action:\n "]
    for reply in _token_soup(tokens, 20_000, seed=1):
        match = regex.search(reply)
        expected = None if match is None else (match.group(1), match.group(2))
        assert shop_protocol.first_agentbench_action(reply) == expected, reply


def test_os_fence_scan_matches_the_fence_regex() -> None:
    regex = re.compile(r"```bash\n(.*?)\n```", re.DOTALL)
    tokens = ["```bash\n", "\n```", "```", "bash", "\n", "x", "`"]
    for reply in _token_soup(tokens, 20_000, seed=2):
        assert os_protocol._fenced_blocks(reply) == regex.findall(reply), reply
