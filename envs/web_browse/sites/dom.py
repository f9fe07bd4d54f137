"""A minimal HTML element tree for generated pages: build with ``h``, serialize with seeded attribute noise.

Why a tree of our own: the generator needs parent links and text of subtrees to rank distractors, and
exact, seeded control over the bytes written.
"""

from __future__ import annotations

import html as html_lib
import random

CLICK, SELECT, TYPE = "CLICK", "SELECT", "TYPE"
#: How many ranked negatives a generated step keeps (the env takes the top few).
MAX_NEGATIVES = 40

_VOID = frozenset({"input", "img", "br", "hr"})
_INTERACTIVE = frozenset({"a", "button", "input", "select", "textarea"})
_TEXTY = frozenset({"p", "span", "h1", "h2", "h3", "h4", "label", "li", "div", "td"})
_STOPWORDS = frozenset(
    "a an the and or of in on at to for from with my me i is be by as it this that into under over".split()
)


class El:
    """An element under construction; ``bid`` is set when the page is serialized."""

    __slots__ = ("attrs", "bid", "children", "parent", "tag")

    def __init__(self, tag: str, attrs: dict[str, str | None], children: list[El | str]):
        self.tag = tag
        self.attrs = attrs
        self.children = children
        self.bid = ""
        self.parent: El | None = None
        for child in children:
            if isinstance(child, El):
                child.parent = self

    def iter(self) -> list[El]:
        out: list[El] = [self]
        for child in self.children:
            if isinstance(child, El):
                out.extend(child.iter())
        return out

    def text(self) -> str:
        return " ".join(c if isinstance(c, str) else c.text() for c in self.children)


def h(tag: str, attrs: dict[str, str | None] | None = None, *children: El | str | None) -> El:
    return El(tag, dict(attrs or {}), [c for c in children if c is not None])


def serialize(root: El, rng: random.Random) -> str:
    """Write the tree as HTML, giving every element a fresh ``backend_node_id`` in document order."""
    next_id = rng.randint(40, 900)
    for el in root.iter():
        el.bid = str(next_id)
        next_id += rng.randint(1, 6)
    out: list[str] = []
    _write(root, out)
    return "".join(out)


def _write(el: El, out: list[str]) -> None:
    attrs = "".join(
        f" {k}" if v is None else f' {k}="{html_lib.escape(v, quote=True)}"'
        for k, v in [("backend_node_id", el.bid), *el.attrs.items()]
    )
    out.append(f"<{el.tag}{attrs}>")
    if el.tag in _VOID:
        return
    for child in el.children:
        if isinstance(child, str):
            out.append(html_lib.escape(child, quote=False))
        else:
            _write(child, out)
    out.append(f"</{el.tag}>")


# --- vocabulary -------------------------------------------------------------------------------------------
