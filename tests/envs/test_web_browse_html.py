"""Mind2Web-style pruning on hand-written pages, checked against AgentBench's own demonstration."""

from __future__ import annotations

import json

import pytest

from envs.core import TaskError
from envs.web_browse.html import attribute_text, parse_page
from envs.web_browse.protocol import format_query, prompt_file

# The first demonstration page of AgentBench's prompt, as raw HTML with noise its cleaning must drop.
DEMO_RAW = (
    "<html><head><script>var x = 1;</script></head><body><div><div>"
    '<a href="https://www.exploretock.com/" aria-label="Tock home page" backend_node_id="5"></a>'
    '<button backend_node_id="11" aria-label="Book a reservation. toggle open" class="Button-xyz" data-x="1">'
    '<span backend_node_id="12">Book a reservation</span></button>'
    '<button backend_node_id="13" aria-label="Book a reservation. toggle open"><svg><path d="M0"/></svg></button>'
    '</div><div><select backend_node_id="20" name="type"><option value="reservations" selected>Dine in</option>'
    '<option value="pickup">Pickup</option><option value="delivery">Delivery</option><option value="events">Events'
    '</option><option value="wineries">Wineries</option><option value="all">Everything</option></select>'
    '<div backend_node_id="30" class="promo"><p>Celebrating and supporting leading women shaking up the industry.</p>'
    "<span>Explore now</span></div></div></div></body></html>"
)


def test_reproduces_agentbench_demo_exactly() -> None:
    demo = json.loads(prompt_file().read_text(encoding="utf-8"))[0]["content"]
    view = parse_page(DEMO_RAW).view(["30", "11", "20"])  # group order does not matter: ids follow the page
    assert [bid for bid, _ in view.choices] == ["11", "20", "30"]
    task = "Check for pickup restaurant available in Boston, NY on March 18, 5pm with just one guest"
    assert format_query(view.html, task, [], [text for _, text in view.choices]) == demo


def test_pruning_drops_far_nodes_and_keeps_context() -> None:
    items = "".join(
        f'<li backend_node_id="{i}" role="tab"><a href="/x{i}">Item {i}</a></li>' for i in range(100, 120)
    )
    raw = f'<html><body><div class="w"><ul backend_node_id="1">{items}</ul><p backend_node_id="2">Far text</p></div></body></html>'
    view = parse_page(raw).view(["110"])
    assert "Item 110" in view.html
    # three element siblings either side stay, as bare tags (their children are not kept)
    assert (
        view.html.count("<li tab> </li>") == 6 and "Item 107" not in view.html and "Item 113" not in view.html
    )
    assert "Far text" not in view.html
    assert view.choices == (("110", "<li id=0 tab> <a> Item 110 </a> </li>"),)
    # without attributes, a sibling emptied by pruning says nothing and disappears (Mind2Web's rule)
    bare = raw.replace(' role="tab"', "")
    assert parse_page(bare).view(["110"]).html == "<html> <li id=0> <a> Item 110 </a> </li> </html>"


def test_wrappers_collapse_and_attributes_reduce() -> None:
    raw = (
        '<html><body><div class="a"><div class="b"><div class="c">'
        '<input backend_node_id="7" type="text" name="q" placeholder="Search for anything at all today please" '
        'aria-label="Search" data-track="xyz" value="HIDDEN" style="x"/></div></div></div></body></html>'
    )
    view = parse_page(raw).view(["7"])
    assert view.html == "<html> <input id=0 text search q search for anything at all /> </html>"


def test_attribute_text_rules() -> None:
    assert attribute_text(
        {"role": "presentation", "title": "https://x.y", "type": "checkbox", "checked": ""}
    ) == ("checkbox true")
    assert attribute_text({"aria_label": "Go", "aria-label": "Go", "name": "go"}) == "go"
    assert attribute_text({"alt": "averyveryverylongwordhere short"}) == "short"


def test_choice_is_first_ten_words() -> None:
    words = " ".join(f"w{i}" for i in range(30))
    view = parse_page(f'<html><body><p backend_node_id="3">{words}</p><p>x</p></body></html>').view(["3"])
    assert view.choices[0][1] == "<p id=0> w0 w1 w2 w3 w4 w5 w6 w7"
    assert "w19" in view.html and "w20" not in view.html  # text nodes keep 20 words


@pytest.mark.parametrize(
    ("raw", "needle"),
    [
        ("", "HTML is empty"),
        ("   \n ", "HTML is empty"),
        (b"<html></html>", "must be a string"),
        ("<html></html>", "no elements or text"),
        ("<html><head><script>x</script></head></html>", "no elements or text"),
    ],
)
def test_bad_html(raw: object, needle: str) -> None:
    with pytest.raises(TaskError, match=needle):
        parse_page(raw)  # type: ignore[arg-type]


def test_bad_candidates() -> None:
    page = parse_page('<html><body><a backend_node_id="1">x</a></body></html>')
    with pytest.raises(TaskError, match="no candidates"):
        page.view([])
    with pytest.raises(TaskError, match="'99' is not in the page"):
        page.view(["1", "99"])
