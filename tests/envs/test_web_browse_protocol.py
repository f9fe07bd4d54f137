"""The web-browsing protocol: prompts, query turns, parsers and renderers of every prompt variant."""

from __future__ import annotations

import json

import pytest

from envs.web_browse.protocol import (
    PROMPT_VARIANTS,
    InvalidAction,
    WebAction,
    format_query,
    parse_reply,
    prompt_file,
    prompt_messages,
    render_action,
)

ACTIONS = [
    WebAction("C", "SELECT", "Pickup", "I need to select pickup restaurant first."),
    WebAction("A", thought="There are no elements that allow setting the date."),
    WebAction("D", "CLICK", "", "Next, I should choose pick-up date."),
    WebAction("F", "TYPE", "new york [city]", 'Type the city: {x} "quoted".'),
    WebAction("B", "TYPE", "Boston"),
    WebAction("A"),
]


@pytest.mark.parametrize("variant", PROMPT_VARIANTS)
@pytest.mark.parametrize("action", ACTIONS, ids=lambda a: f"{a.choice}-{a.operation}")
def test_parse_inverts_render(variant: str, action: WebAction) -> None:
    assert parse_reply(render_action(action, variant), variant) == action


@pytest.mark.parametrize("variant", PROMPT_VARIANTS)
def test_other_variants_syntax_is_invalid(variant: str) -> None:
    action = ACTIONS[0]
    for other in PROMPT_VARIANTS:
        if other != variant:
            with pytest.raises(InvalidAction):
                parse_reply(render_action(action, other), variant)


def test_agentbench_demos_render_verbatim() -> None:
    raw = json.loads(prompt_file().read_text(encoding="utf-8"))
    replies = [m["content"] for m in raw if m["role"] == "agent"]
    assert len(replies) == 3
    for reply in replies:
        assert render_action(parse_reply(reply, "agentbench"), "agentbench") == reply
    first = parse_reply(replies[0], "agentbench")
    assert (first.choice, first.operation, first.value) == ("C", "SELECT", "Pickup")


@pytest.mark.parametrize(
    ("reply", "needle"),
    [
        ("", "no 'Answer"),
        ("I think C is right.", "no 'Answer"),
        ("Answer: C.", "Action: CLICK|SELECT|TYPE"),
        ("Answer: C.\nAction: SELECT", "non-empty value"),
        ("Answer: C.\nAction: TYPE\nValue:   ", "non-empty value"),
        ("Answer: G.\nAction: CLICK", "no 'Answer"),
        ("Answer: Fine, the button.\nAction: CLICK", "no 'Answer"),
        ("answer: c.\naction: click", "no 'Answer"),
    ],
)
def test_agentbench_malformed(reply: str, needle: str) -> None:
    with pytest.raises(InvalidAction, match=needle.replace("|", r"\|")):
        parse_reply(reply, "agentbench")


def test_agentbench_keeps_upstream_quirks() -> None:
    # A Value after CLICK is read (the F1 metric then penalizes it), as AgentBench's regexes do.
    assert parse_reply("Answer: D.\nAction: CLICK\nValue: now", "agentbench").value == "now"
    # Answer A ignores whatever follows.
    assert parse_reply("Answer: A.\nAction: CLICK", "agentbench") == WebAction("A")


@pytest.mark.parametrize(
    ("reply", "needle"),
    [
        ("", "exactly one line"),
        ('{"choice": "C", "operation": "CLICK"}\n{"choice": "A"}', "exactly one line"),
        ('Sure! {"choice": "C"}', "exactly one line"),
        ('{"choice": "C", "operation": "CLICK"', "not valid JSON"),
        ('["C", "CLICK"]', "exactly one line"),
        ('{"choice": "C"}', 'needs "operation"'),
        ('{"choice": "C", "operation": "HOVER", "value": ""}', "operation must be one of"),
        ('{"choice": "C", "operation": "CLICK", "value": "x"}', "CLICK takes no value"),
        ('{"choice": "C", "operation": "TYPE", "value": ""}', "non-empty value"),
        ('{"choice": "Z", "operation": "CLICK"}', "choice must be one of"),
        ('{"choice": 3, "operation": "CLICK"}', '"choice" must be one letter'),
        ('{"choice": "A", "operation": "CLICK", "value": ""}', "takes no operation"),
        ('{"choice": "C", "operation": "CLICK", "value": "", "element": 4}', "unknown keys"),
        ('{"choice": "C", "operation": "TYPE", "value": 5}', "must be strings"),
    ],
)
def test_json_malformed(reply: str, needle: str) -> None:
    with pytest.raises(InvalidAction, match=needle):
        parse_reply(reply, "json")


@pytest.mark.parametrize(
    ("reply", "needle"),
    [
        ("", "exactly one 'Action"),
        ("Thought: hmm\nAction: choose[C] CLICK\nAction: choose[A]", "found 2"),
        ("Thought: hmm\nAction: click[C]", "cannot read"),
        ("Action: choose[G] CLICK", "cannot read"),
        ("Action: choose[C]", "needs an operation"),
        ("Action: choose[A] CLICK", "takes no operation"),
        ("Action: choose[C] CLICK[now]", "CLICK takes no value"),
        ("Action: choose[C] TYPE", "needs its value in brackets"),
        ("Action: choose[C] SELECT[]", "non-empty value"),
        ("Action: choose[C] HOVER", "cannot read"),
    ],
)
def test_react_malformed(reply: str, needle: str) -> None:
    with pytest.raises(InvalidAction, match=needle):
        parse_reply(reply, "react")


def test_unknown_variant() -> None:
    with pytest.raises(ValueError, match="unknown prompt variant 'xml'"):
        parse_reply("Answer: A.", "xml")


def test_action_validation() -> None:
    with pytest.raises(ValueError, match="one line"):
        WebAction("B", "TYPE", "two\nlines")
    with pytest.raises(ValueError, match="takes no operation"):
        WebAction("A", "CLICK")


def test_prompt_messages() -> None:
    raw = json.loads(prompt_file().read_text(encoding="utf-8"))
    ab = prompt_messages("agentbench")
    assert [m["role"] for m in ab] == ["user", "assistant"] * 3
    assert [m["content"] for m in ab] == [m["content"] for m in raw[:-1]]  # the empty query slot is dropped
    for variant in ("json", "react"):
        msgs = prompt_messages(variant)
        assert [m["role"] for m in msgs] == ["user", "assistant"] * 4
        # the same demonstration pages, answered in the variant's own syntax
        assert [m["content"] for m in msgs[2::2]] == [m["content"] for m in raw[:-1:2]]
        demo_actions = [parse_reply(m["content"], variant) for m in msgs[3::2]]
        assert [a.choice for a in demo_actions] == ["C", "A", "D"]
        # the instructions spell the syntax that the parser reads
        example = msgs[0]["content"].splitlines()[-1]
        assert parse_reply(example, variant).choice == "C"


def test_format_query_matches_demo_layout() -> None:
    raw = json.loads(prompt_file().read_text(encoding="utf-8"))
    demo = raw[2]["content"]
    html = demo.split("'''\n")[1].rstrip("\n")
    previous = [
        "[combobox]  Enter your departing city, airport name, or airpor... -> TYPE: SPRINGFIELD",
        "[button]  Springfield, IL, US (SPI) -> CLICK",
        "[combobox]  Enter your destination city, airport name, or airp... -> TYPE: AUSTIN",
        "[button]  Austin, TX, US (AUS) -> CLICK",
    ]
    choices = [
        "<li id=0 tab heading level 3 search and> <span> Hotel",
        "<div id=1> <div> <span> Dates* </span> <button button clear dates",
        "<ul id=2> <a mobile tools> </a> <a open united's tiktok",
    ]
    task = "Compare the fare types to book a 1-adult ticket from Springfiels, IL to Austin, TX for April 29th 2023"
    assert format_query(html, task, previous, choices) == demo
    assert "Previous actions:\nNone\n" in format_query("<html />", "t", [], ["<a id=0 />"])
    six = [f"p{i}" for i in range(7)]
    assert "p0" not in format_query("<html />", "t", six, ["<a id=0 />"])  # only the last five are shown
    with pytest.raises(ValueError, match="1 to 5 candidates"):
        format_query("<html />", "t", [], [])
