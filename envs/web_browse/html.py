"""Mind2Web-style HTML pruning: parse a page once, then show the model only what matters for a few candidates.

The view of a page that the model reads is built as Mind2Web builds it for its multiple-choice setting
(OSU-NLP-Group/Mind2Web, ``src/data_utils/dom_utils.py``: ``prune_tree`` and ``get_tree_repr``), which
AgentBench v0.2 reuses with ``keep_html_brackets=True``; the rules are re-implemented here on
BeautifulSoup (lxml parser):

- keep the candidates, all their ancestors, their descendants (6 levels, at most 50 nodes), and up to 3
  element siblings on either side; text is kept wherever its parent is kept (at most 20 words a node);
- an element shows its tag and the lower-cased VALUES of its salient attributes (role, type, aria-label,
  name, value, placeholder, ...; at most 5 words a value, 20 in all), never the attribute names;
- candidates carry ``id=N`` (N in document order); an attribute-less wrapper with no text of its own and
  at most one child is replaced by its child;
- each choice is the first 10 words of its element's text form.

An element that had content which pruning removed is written ``<li tab> </li>``; one that never had any
is written ``<a home page />``, as in AgentBench's demonstrations.

Example::

    page = parse_page(raw_html)
    view = page.view(["136", "2210", "87"])
    view.html                 # '<html> <div> <button id=0 search> Search </button> ...'
    view.choices              # (("136", "<button id=0 search> Search </button>"), ...)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bs4 import BeautifulSoup, NavigableString, Tag
from bs4.exceptions import ParserRejectedMarkup

from envs.core import TaskError

#: Attribute that names an element in Mind2Web's ``cleaned_html`` and in the generated pages.
NODE_ID_ATTR = "backend_node_id"

#: Salient attributes, in the order their values are written (Mind2Web's order). HTML's own spellings
#: (``aria-label``) and the snapshot's (``aria_label``) are both accepted.
SALIENT_ATTRIBUTES: tuple[str, ...] = (
    "role",
    "aria_role",
    "type",
    "alt",
    "aria_description",
    "aria_label",
    "label",
    "title",
    "name",
    "text_value",
    "value",
    "placeholder",
    "input_checked",
    "input_value",
    "option_selected",
)
#: HTML boolean attributes that carry state; a present one is written "true", as the snapshots do.
_BOOLEAN_STATE = {"checked": "input_checked", "selected": "option_selected"}
_JUNK_VALUES = frozenset({"hidden", "none", "presentation", "null", "undefined"})
_DROPPED_TAGS = frozenset(
    {"script", "style", "head", "noscript", "template", "meta", "link", "svg", "iframe"}
)

MAX_VALUE_WORDS = 5
MAX_ATTR_WORDS = 20
MAX_TEXT_WORDS = 20
MAX_WORD_CHARS = 15  # longer "words" are ids and hashes, not language
CHOICE_WORDS = 10


class Node:
    """One element of a parsed page; ``children`` holds ``Node`` objects and text strings."""

    __slots__ = ("bid", "children", "had_content", "meta", "parent", "tag")

    def __init__(self, tag: str, meta: str, bid: str | None, parent: Node | None, had_content: bool):
        self.tag = tag
        self.meta = meta  # the salient attribute values, already reduced
        self.bid = bid
        self.parent = parent
        self.had_content = had_content
        self.children: list[Node | str] = []

    def elements(self) -> list[Node]:
        return [c for c in self.children if isinstance(c, Node)]

    def iter(self) -> Iterable[Node]:
        """This node and its descendant elements in document order."""
        stack: list[Node] = [self]
        while stack:
            node = stack.pop()
            yield node
            stack.extend(reversed(node.elements()))


@dataclass(frozen=True)
class View:
    """What the model sees for one group of candidates: pruned page text and the choices B, C, ..."""

    html: str
    choices: tuple[tuple[str, str], ...]  # (backend node id, first 10 words of the element), document order


def attribute_text(attrs: Mapping[str, Any]) -> str:
    """Reduce an element's attributes to their salient values, Mind2Web style."""
    normal: dict[str, str] = {}
    for key, raw in attrs.items():
        value = " ".join(raw) if isinstance(raw, list) else str(raw)
        name = key.lower().replace("-", "_")
        if name in _BOOLEAN_STATE:
            normal[_BOOLEAN_STATE[name]] = "true"
        else:
            normal[name] = value
    seen: set[str] = set()
    parts: list[str] = []
    for name in SALIENT_ATTRIBUTES:
        found = normal.get(name)
        if found is None:
            continue
        value = found.lower()
        if value in _JUNK_VALUES or value.startswith("http"):
            continue
        value = " ".join([w for w in value.split() if len(w) < MAX_WORD_CHARS][:MAX_VALUE_WORDS])
        if value and value not in seen:
            seen.add(value)
            parts.append(value)
    return " ".join(" ".join(parts).split()[:MAX_ATTR_WORDS])


def _clean_text(text: str) -> str:
    return " ".join(text.split()[:MAX_TEXT_WORDS])


class Page:
    """A parsed page: its element tree and an index from backend node id to element."""

    def __init__(self, root: Node, index: dict[str, Node]):
        self.root = root
        self.index = index

    def node_ids(self) -> list[str]:
        return list(self.index)

    def view(self, candidate_ids: Sequence[str]) -> View:
        """Prune around ``candidate_ids`` and render the page and the choices for them."""
        pruned = prune(self, candidate_ids)
        id_mapping: dict[str, int] = {}
        candidates = set(candidate_ids)
        order: list[Node] = []
        for node in pruned.iter():
            if node.bid in candidates and node.bid not in id_mapping:
                id_mapping[node.bid] = len(id_mapping)
                order.append(node)
        text = render(pruned, id_mapping)
        choices = tuple(
            (str(node.bid), " ".join(render(node, id_mapping).split()[:CHOICE_WORDS])) for node in order
        )
        return View(html=text, choices=choices)


def parse_page(html: str, *, source: str = "page") -> Page:
    """Parse raw HTML into a ``Page``; ``TaskError`` (naming ``source``) when there is no usable page."""
    if not isinstance(html, str):
        raise TaskError(f"{source}: HTML must be a string, got {type(html).__name__}")
    if not html.strip():
        raise TaskError(f"{source}: HTML is empty")
    try:
        soup = BeautifulSoup(html, "lxml")
    except ParserRejectedMarkup as exc:
        raise TaskError(f"{source}: HTML does not parse: {exc}") from None
    top = soup.find("html")
    if not isinstance(top, Tag):
        raise TaskError(f"{source}: HTML does not parse into a document (no <html> element)")
    index: dict[str, Node] = {}
    root = _convert(top, None, index)
    # The snapshots the demonstrations come from show no <body>: its children hang under <html>.
    for child in list(root.children):
        if isinstance(child, Node) and child.tag == "body":
            at = root.children.index(child)
            for grand in child.children:
                if isinstance(grand, Node):
                    grand.parent = root
            root.children[at : at + 1] = child.children
    if not root.children:
        raise TaskError(f"{source}: HTML has no elements or text inside <html>")
    return Page(root, index)


def _convert(tag: Tag, parent: Node | None, index: dict[str, Node]) -> Node:
    bid_raw = tag.attrs.get(NODE_ID_ATTR)
    bid = None if bid_raw is None else str(bid_raw)
    node = Node(tag.name, attribute_text(tag.attrs), bid, parent, had_content=bool(tag.contents))
    if bid is not None:
        index.setdefault(bid, node)
    for child in tag.children:
        if type(child) is NavigableString:
            text = _clean_text(str(child))
            if text:
                node.children.append(text)
        elif isinstance(child, Tag):
            if child.name in _DROPPED_TAGS:
                continue
            if child.name == "text":  # snapshot text nodes: their text belongs to the parent
                text = _clean_text(child.get_text(" "))
                if text:
                    node.children.append(text)
                continue
            node.children.append(_convert(child, node, index))
    return node


def _descendants(node: Node, max_depth: int, depth: int = 0) -> list[Node]:
    if depth > max_depth:
        return []
    out: list[Node] = []
    for child in node.elements():
        out.append(child)
        out.extend(_descendants(child, max_depth, depth + 1))
    return out


def prune(
    page: Page, candidate_ids: Sequence[str], max_depth: int = 5, max_children: int = 50, max_sibling: int = 3
) -> Node:
    """A new tree holding the candidates and their context; the page itself is left unchanged."""
    if not candidate_ids:
        raise TaskError("no candidates to show: a view needs at least one candidate element")
    keep: set[int] = set()
    for cid in candidate_ids:
        node = page.index.get(str(cid))
        if node is None:
            raise TaskError(f"candidate backend_node_id {cid!r} is not in the page")
        keep.add(id(node))
        up = node.parent
        while up is not None:
            keep.add(id(up))
            up = up.parent
        keep.update(id(d) for d in _descendants(node, max_depth)[:max_children])
        if node.parent is not None:
            siblings = node.parent.elements()
            at = next(i for i, s in enumerate(siblings) if s is node)
            keep.update(id(s) for s in siblings[max(0, at - max_sibling) : at + max_sibling + 1])
    candidates = {str(c) for c in candidate_ids}
    (root,) = _copy_kept(page.root, keep, candidates, is_root=True)
    return root


def _copy_kept(node: Node, keep: set[int], candidates: set[str], is_root: bool = False) -> list[Node]:
    is_candidate = node.bid in candidates
    new = Node(node.tag, node.meta, node.bid if is_candidate else None, None, node.had_content)
    for child in node.children:
        if isinstance(child, str):
            new.children.append(child)
        elif id(child) in keep:
            for kept in _copy_kept(child, keep, candidates):
                kept.parent = new
                new.children.append(kept)
    has_text = any(isinstance(c, str) for c in new.children)
    if not is_root and not is_candidate and not new.meta and not has_text and len(new.children) <= 1:
        return new.elements()  # a bare wrapper says nothing: show its child in its place
    return [new]


def render(node: Node, id_mapping: dict[str, int]) -> str:
    """Text form of ``node``: tags with attribute values only, candidates as ``id=N``."""
    out: list[str] = []
    _emit(node, id_mapping, out)
    return " ".join(" ".join(out).split())


def _emit(node: Node, id_mapping: dict[str, int], out: list[str]) -> None:
    head = node.tag
    if node.bid is not None and node.bid in id_mapping:
        head += f" id={id_mapping[node.bid]}"
    if node.meta:
        head += " " + node.meta
    if not node.children and not node.had_content:
        out.append(f"<{head} />")
        return
    out.append(f"<{head}>")
    for child in node.children:
        if isinstance(child, str):
            out.append(child)
        else:
            _emit(child, id_mapping, out)
    out.append(f"</{node.tag}>")
