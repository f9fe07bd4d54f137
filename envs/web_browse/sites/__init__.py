"""Seeded generator of realistic web pages and multi-step web tasks, for the web-browsing env.

Each site kind (restaurant booking, flights, car rental, shopping, event tickets, account settings, forum,
hotels, job search) draws a goal from a seed, a workflow that reaches it (one action per step: the element,
CLICK/SELECT/TYPE and the value, taken from the goal), and the page each step happens on: navigation bar,
promotions, the working form or result list, a newsletter box, a cookie banner, a footer with a language
select. Pages show the state left by earlier steps (typed values, selected options, opened suggestion
lists), and fields appear in workflow order, so the next action follows from the goal and the previous
actions. Every element carries a ``backend_node_id``, as in Mind2Web's snapshots; negatives are the page's
other elements, ranked by their word overlap with the goal (hard, plausible distractors first).

All randomness comes from ``random.Random`` objects seeded from the task seed: the same seed gives the same
bytes.

Example::

    draft = generate(7)
    draft.goal                          # 'Book a table for 4 guests at Copper Tavern in Denver on May 12 ...'
    step = draft.steps[0]
    step.html[:60], step.positives, step.operation, step.value


Modules: ``dom`` (the element tree), ``words`` (word lists), ``widgets`` (page parts), ``drafts`` (workflows and
tasks), ``booking`` and ``browsing`` (the site kinds); this module realizes a workflow into pages and ranks each step's distractors.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable

from envs.web_browse.sites.booking import (
    car_rental_site,
    flights_site,
    hotels_site,
    restaurant_site,
    tickets_site,
)
from envs.web_browse.sites.browsing import account_site, forum_site, jobs_site, shopping_site
from envs.web_browse.sites.dom import (
    _INTERACTIVE,
    _STOPWORDS,
    _TEXTY,
    CLICK,
    MAX_NEGATIVES,
    TYPE,
    El,
    serialize,
)
from envs.web_browse.sites.drafts import Draft, DraftStep, Workflow
from envs.web_browse.sites.widgets import Ctx

SITE_KINDS: dict[str, Callable[[random.Random], Workflow]] = {
    "restaurant": restaurant_site,
    "flights": flights_site,
    "car_rental": car_rental_site,
    "shopping": shopping_site,
    "tickets": tickets_site,
    "account": account_site,
    "forum": forum_site,
    "hotels": hotels_site,
    "jobs": jobs_site,
}


# --- from a workflow to steps -------------------------------------------------------------------------------


def _words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z0-9$:.+-]+", text.lower()) if w not in _STOPWORDS}


def _element_words(el: El) -> set[str]:
    values = " ".join(
        v for k, v in el.attrs.items() if v and k in ("aria-label", "placeholder", "name", "alt", "value")
    )
    return _words(values + " " + el.text())


def _repr_text(label: str) -> str:
    label = " ".join(label.split())
    return label if len(label) <= 50 else label[:50] + "..."


def action_repr(role: str, label: str, op: str, value: str) -> str:
    """Mind2Web's ``action_reprs`` form, e.g. ``[combobox]  Party size -> SELECT: 2 guests``."""
    head = f"[{role}]  {_repr_text(label)} -> {op}"
    return head if op == CLICK else f"{head}: {value}"


def _rank_negatives(root: El, gold: El, goal: str, rng: random.Random) -> list[str]:
    related = {id(a) for a in gold.iter()}
    up = gold.parent
    while up is not None:
        related.add(id(up))
        up = up.parent
    goal_words = _words(goal)
    scored: list[tuple[float, str]] = []
    for el in root.iter():
        if id(el) in related or el.tag in ("html", "body", "head", "title", "option", "svg"):
            continue
        interactive = el.tag in _INTERACTIVE or el.attrs.get("role") in ("option", "tab", "button", "link")
        own_text = any(isinstance(ch, str) and ch.strip() for ch in el.children)
        if not interactive and not (el.tag in _TEXTY and own_text):
            continue
        overlap = len(goal_words & _element_words(el))
        scored.append((overlap + (1.0 if interactive else 0.0) + rng.random() * 0.9, el.bid))
    scored.sort(key=lambda x: -x[0])
    return [bid for _, bid in scored[:MAX_NEGATIVES]]


def realize(workflow: Workflow, seed: int) -> Draft:
    """Render each step's page and rank its candidates."""
    layout_seed = random.Random(seed).getrandbits(48)
    screen_order = list(workflow.screens)
    steps: list[DraftStep] = []
    done: list[str] = []
    for k, plan in enumerate(workflow.plan):
        fill = {f"{key}:gold": value for key, value in workflow.gold_suggestions.items()}
        for earlier in workflow.plan[:k]:
            if earlier.screen == plan.screen:
                fill[earlier.key] = earlier.value if earlier.op != CLICK else "true"
        prev = workflow.plan[k - 1] if k else None
        opened = prev.key if prev is not None and prev.op == TYPE and prev.screen == plan.screen else None
        ctx = Ctx(random.Random(layout_seed + screen_order.index(plan.screen)), fill, opened)
        root = workflow.screens[plan.screen](ctx)
        if plan.key not in ctx.keyed:
            raise RuntimeError(f"generator bug: screen {plan.screen!r} has no element {plan.key!r}")
        gold, role, label = ctx.keyed[plan.key]
        id_rng = random.Random(layout_seed * 31 + k)
        html = serialize(root, id_rng)
        negatives = _rank_negatives(root, gold, workflow.goal, id_rng)
        this_repr = action_repr(role, label, plan.op, plan.value)
        steps.append(
            DraftStep(html, (gold.bid,), tuple(negatives), plan.op, plan.value, tuple(done), this_repr)
        )
        done.append(this_repr)
    return Draft(workflow.site.name, workflow.site.domain, workflow.goal, tuple(steps))


def generate(seed: int) -> Draft:
    """The task of ``seed``: a site kind, a goal, and every step of its workflow."""
    rng = random.Random(seed)
    kinds = list(SITE_KINDS)
    kind = kinds[rng.randrange(len(kinds))]
    return realize(SITE_KINDS[kind](rng), seed)
