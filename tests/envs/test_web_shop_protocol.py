"""The web-shop protocol: AgentBench's prompt as data, the three reply syntaxes, and their error messages."""

from __future__ import annotations

import json

import pytest

from envs.web_shop.protocol import (
    VARIANTS,
    Action,
    InvalidAction,
    parse_reply,
    prompt_messages,
    protocol_data,
    protocol_file,
    render_action,
    render_observation,
)

ACTIONS = [
    Action("search", "l'eau d'issey 6.76 fl oz bottle price < 100.00"),
    Action("click", "B000VOHH8I"),
    Action("click", "6.76 fl oz (pack of 1)"),
    Action("click", "Buy Now"),
    Action("click", "< Prev"),
    Action("search", 'a "quoted" word and a back\\slash'),
]


def test_agentbench_prompt_is_the_data_file_verbatim() -> None:
    data = json.loads(protocol_file().read_text(encoding="utf-8"))
    messages = prompt_messages("agentbench")
    assert messages == data["turns"]
    assert messages[1] == {"role": "assistant", "content": "Ok."}
    assert len(messages) == 10  # instruction, Ok., then four demo steps
    assert protocol_data().round_limit == 10
    assert protocol_data().action_regex == r"[Aa]ction: *\n* *((search|click)\[.+?])"


@pytest.mark.parametrize("variant", ["json", "react"])
def test_own_variants_have_their_own_instruction_and_demo(variant: str) -> None:
    messages = prompt_messages(variant)
    assert messages[0]["content"] != prompt_messages("agentbench")[0]["content"]
    assert messages[1]["content"] == "Ok."
    assert [m["role"] for m in messages] == ["user", "assistant"] * (len(messages) // 2)
    # every demo reply is valid in its own variant and invalid in the others
    for message in messages[3::2]:
        parse_reply(message["content"], variant)
        for other in VARIANTS:
            if other != variant:
                with pytest.raises(InvalidAction):
                    parse_reply(message["content"], other)
    assert messages[-1]["content"] == render_action(
        Action("click", "Buy Now"), _thought(messages[-1]), variant
    )
    # the demo observations use the shared template
    assert all(m["content"].startswith('Observation:\n"') for m in messages[2::2])


def _thought(message: dict) -> str:
    text = message["content"]
    return (
        json.loads(text)["thought"] if text.startswith("{") else text.split("\n")[0].removeprefix("Thought: ")
    )


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("action", ACTIONS, ids=lambda a: f"{a.kind}:{a.argument[:12]}")
def test_parse_inverts_render(variant: str, action: Action) -> None:
    reply = render_action(action, "I think this is right.\nSecond line.", variant)
    assert parse_reply(reply, variant) == action


def test_agentbench_cannot_render_a_closing_bracket() -> None:
    with pytest.raises(ValueError, match="cannot be written"):
        render_action(Action("search", "a]b"), "t", "agentbench")


def test_agentbench_parser_follows_the_regex() -> None:
    assert parse_reply("Thought:\nx\n\nAction:\nclick[Buy Now]") == Action("click", "Buy Now")
    assert parse_reply("action: search[red shoes]") == Action("search", "red shoes")
    assert parse_reply("Action:   \n\n  click[B0ABC]") == Action("click", "B0ABC")
    # first match wins, the argument stops at the first "]"
    assert parse_reply("Action: click[a] Action: click[b]") == Action("click", "a")
    assert parse_reply("Action: click[x]y]") == Action("click", "x")


@pytest.mark.parametrize(
    ("variant", "reply", "reason"),
    [
        ("agentbench", "click[Buy Now]", "no action found"),
        ("agentbench", "Action: buy[Buy Now]", "no action found"),
        ("agentbench", "Action: click[]", "no action found"),
        ("agentbench", "Action: click[   ]", "empty argument"),
        ("agentbench", "", "no action found"),
        ("json", "Action: click[Buy Now]", "no JSON action"),
        ("json", '{"action": "click", "argument": "Buy Now"', "not valid JSON"),
        ("json", '{"action": "buy", "argument": "Buy Now"}', '"action" must be'),
        ("json", '{"action": "click"}', '"argument" must be'),
        ("json", '{"action": "click", "argument": ""}', '"argument" must be'),
        ("json", '{"action": "click", "argument": "x", "value": 1}', "unexpected keys"),
        ("json", '{"thought": 3, "action": "click", "argument": "x"}', '"thought" must be'),
        ("json", '["click", "x"]', "no JSON action"),
        ("react", "Thought: x\nAction: click[Buy Now]", "no action found"),
        ("react", "Thought: x\nAct: Click(Buy Now)", "malformed action line"),
        ("react", 'Thought: x\nAct: Buy("Buy Now")', "malformed action line"),
        ("react", 'Act: Click("")', "empty"),
        ("react", 'Act: Click("a\\q")', "not a valid JSON string"),
    ],
)
def test_malformed_replies_raise_with_a_reason(variant: str, reply: str, reason: str) -> None:
    with pytest.raises(InvalidAction, match=reason.replace("(", r"\(").replace('"', '"')):
        parse_reply(reply, variant)


def test_json_and_react_take_the_last_action_line() -> None:
    reply = '{"action": "click", "argument": "a"}\nthinking more\n{"action": "search", "argument": "b"}'
    assert parse_reply(reply, "json") == Action("search", "b")
    reply = 'Thought: x\nAct: Click("a")\nThought: no\nAct: Search("b")'
    assert parse_reply(reply, "react") == Action("search", "b")


def test_unknown_variant_and_bad_types() -> None:
    with pytest.raises(ValueError, match="unknown prompt variant"):
        parse_reply("x", "xml")
    with pytest.raises(ValueError, match="unknown prompt variant"):
        prompt_messages("xml")
    with pytest.raises(InvalidAction, match="must be a string"):
        parse_reply(None, "agentbench")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown action kind"):
        Action("buy", "x")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="non-empty"):
        Action("click", " ")


def test_observation_matches_agentbench_layout() -> None:
    obs = render_observation("WebShop [SEP] Instruction: [SEP] buy it [SEP] Search", True, ["Search"])
    assert obs == (
        'Observation:\n"WebShop [SEP] Instruction: [SEP] buy it [SEP] Search"\n\n'
        'Available Actions:\n{"has_search_bar": true, "clickables": ["Search"]}'
    )
